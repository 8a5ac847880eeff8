// Owns what every command shares: the --json and --manifest flags, the event reporter, and error
// rendering with the documented exit codes (0 ok, 1 operational failure or findings, 2 invalid input).
import {Command, Flags, Errors, Interfaces} from '@oclif/core'
import path from 'node:path'
import {LayersError, UserInputError, toLayersError} from '../errors/index.js'
import {errorEnvelope, renderErrorText} from './render.js'
import {installInterrupt, type Interrupt} from './interrupt.js'
import {isJsonOutputName, withSchemaVersion} from './json-output.js'
import {createReporter, type Reporter} from './reporter.js'

export const EXIT_CODES_HELP = 'Exit codes: 0 success, 1 operational failure, 2 invalid input, 130 interrupted (Ctrl-C; 143 for SIGTERM).'

export abstract class LayersCommand extends Command {
  static override enableJsonFlag = true

  static override baseFlags = {
    manifest: Flags.string({
      char: 'm',
      description: 'Path to the manifest.',
      default: 'layers.yaml',
      helpGroup: 'GLOBAL',
      env: 'LAYERS_MANIFEST',
    }),
  }

  private reporterInstance?: Reporter

  /** The reporter for this run: progress to stderr on a TTY, warnings collected for --json. */
  protected get reporter(): Reporter {
    this.reporterInstance ??= createReporter({json: this.jsonEnabled()})
    return this.reporterInstance
  }

  private interruptInstance?: Interrupt

  /**
   * The run's interrupt signal. Asking for it installs the SIGINT/SIGTERM handlers (src/cli/interrupt.ts),
   * so only commands whose services honour it stop cleanly; the others keep Node's default (exit at once).
   */
  protected get interruptSignal(): AbortSignal {
    this.interruptInstance ??= installInterrupt()
    return this.interruptInstance.signal
  }

  /** Absolute path of the manifest named by --manifest. */
  protected manifestPath(flags: {manifest: string}): string {
    return path.resolve(flags.manifest)
  }

  /**
   * Prints human output on stdout unless --json is on (then the returned value is the output); `render`
   * runs only when the text is printed, so --json never loads or runs the table code.
   */
  protected out(render: () => string): void {
    if (this.jsonEnabled()) return
    const text = render()
    process.stdout.write(text.endsWith('\n') ? text : text + '\n')
  }

  /**
   * The --json output: `schemaVersion` (src/cli/json-output.ts) first, then the command's result. A
   * command missing there prints its result as is (test/schema/json-output.e2e.test.ts fails for it).
   */
  protected override toSuccessJson(result: object): unknown {
    const name = this.id ?? ''
    return isJsonOutputName(name) ? withSchemaVersion(name, result) : result
  }

  protected override async catch(err: Error & {exitCode?: number; oclif?: {exit?: number}}): Promise<unknown> {
    this.reporterInstance?.done()
    if (err instanceof Errors.ExitError) throw err
    const error = isOclifUsageError(err) ? usageError(err) : toLayersError(err)
    if (this.jsonEnabled()) {
      await written(process.stdout, JSON.stringify(errorEnvelope(error), null, 2) + '\n')
    } else {
      await written(process.stderr, renderErrorText(error, Boolean(process.env.LAYERS_DEBUG)))
    }
    return this.exit(error.exitCode)
  }

  protected override async finally(err: Error | undefined): Promise<unknown> {
    this.reporterInstance?.done()
    this.interruptInstance?.dispose()
    return super.finally(err)
  }
}

/**
 * Writes `text` and resolves once the stream has handed it (and everything written before it) to the
 * OS. this.exit ends in process.exit, which drops what a pipe has not taken yet (a long problem list
 * on a piped stderr would lose its final `Error [...]` line), so every exit path waits for this first.
 */
export function written(stream: NodeJS.WritableStream, text: string): Promise<void> {
  // The process exits next: a reader that went away (EPIPE) must not turn the exit code into an
  // uncaught stream error.
  if (stream.listenerCount('error') === 0) stream.on('error', () => {})
  return new Promise((resolve) => {
    stream.write(text, () => resolve())
  })
}

/** oclif's own parse errors (unknown flag, missing argument) are invalid input: exit 2. */
function isOclifUsageError(err: Error & {oclif?: {exit?: number}}): boolean {
  return !(err instanceof LayersError) && err.oclif?.exit === 2
}

function usageError(err: Error): LayersError {
  return new UserInputError('ERR_LAYERS_USAGE', err.message.split('\n')[0] ?? err.message, {
    hint: 'Run the command with --help to see its arguments, flags and examples.',
  })
}

export type InferredFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof LayersCommand)['baseFlags'] & T['flags']>
