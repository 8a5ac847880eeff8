// oclif's own errors as the LayersErrors the renderer prints (src/cli/usage.ts): the code per kind,
// the reason kept, did-you-mean from the valid names. The errors are the ones oclif's parser throws.
import {Args, Command, Flags} from '@oclif/core'
import {describe, expect, it} from 'vitest'
import {isParseError, unknownCommandError, usageError} from '../../src/cli/usage.js'

const FLAGS = {
  'dry-run': Flags.boolean({}),
  concurrency: Flags.integer({min: 1}),
  format: Flags.string({options: ['table', 'json']}),
  'remote-state': Flags.boolean({allowNo: true}),
}

class Probe extends Command {
  static override flags = FLAGS
  static override args = {function: Args.string({description: 'Function key from the manifest.', required: true})}
  async run(): Promise<void> {
    await this.parse(Probe)
  }
}

/** What oclif's parser throws for `argv`. */
async function parseError(argv: string[]): Promise<Error> {
  const command = new Probe(argv, {bin: 'layers', runHook: async () => ({successes: [], failures: []})} as never)
  try {
    await command.run()
  } catch (error) {
    return error as Error
  }
  throw new Error(`${argv.join(' ')} parsed`)
}

describe('usageError', () => {
  it('keeps the reason of a refused value and names the flag (ERR_LAYERS_FLAG_VALUE)', async () => {
    for (const [argv, message] of [
      [['fn', '--concurrency', '0'], '--concurrency: expected an integer greater than or equal to 1 but received: 0.'],
      [['fn', '--format', 'jsno'], '--format: "jsno" is not one of table, json. Did you mean "json"?'],
      [['fn', '--concurrency'], '--concurrency: expects a value, and none was given.'],
    ] as const) {
      const error = await parseError([...argv])
      expect(isParseError(error)).toBe(true)
      expect(usageError(error, FLAGS)).toMatchObject({code: 'ERR_LAYERS_FLAG_VALUE', message, exitCode: 2})
    }
  })

  it('suggests the flag meant, --no- forms included, for one or several unknown flags (ERR_LAYERS_UNKNOWN_FLAG)', async () => {
    expect(usageError(await parseError(['fn', '--dryrun']), FLAGS)).toMatchObject({code: 'ERR_LAYERS_UNKNOWN_FLAG', message: 'Unknown flag "--dryrun". Did you mean "--dry-run"?'})
    expect(usageError(await parseError(['fn', '--no-remote-stat', '--zzz=1']), FLAGS).message).toBe('Unknown flags "--no-remote-stat" (did you mean "--no-remote-state"?), "--zzz".')
  })

  it('names a missing argument (ERR_LAYERS_USAGE)', async () => {
    expect(usageError(await parseError([]), FLAGS)).toMatchObject({code: 'ERR_LAYERS_USAGE', message: 'Missing the required argument FUNCTION (Function key from the manifest).'})
  })
})

describe('unknownCommandError', () => {
  it('suggests the command meant, and says a flag needs a command first', () => {
    const ids = ['publish', 'prune', 'audit']
    expect(unknownCommandError('layers', 'pubish', ids)).toMatchObject({code: 'ERR_LAYERS_UNKNOWN_COMMAND', message: 'layers has no command "pubish". Did you mean "publish"?', exitCode: 2})
    expect(unknownCommandError('layers', 'zebra', ids).message).toBe('layers has no command "zebra".')
    expect(unknownCommandError('layers', '--dry-run', ids).message).toContain('"--dry-run" is a flag, not a command')
  })
})
