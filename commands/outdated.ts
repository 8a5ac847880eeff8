import {Args, Flags} from '@oclif/core'
import {AWS_TIME_BOUNDS_HELP, awsTimeoutFlags, awsTimeouts} from '../src/cli/aws-flags.js'
import {EXIT_CODES_HELP, LayersCommand} from '../src/cli/base-command.js'
import {outdatedCommand} from '../src/outdated/command.js'
import {renderOutdated} from '../src/outdated/render.js'
import type {OutdatedResult} from '../src/outdated/run.js'
import {manifestAccountNames} from '../src/cli/account-names.js'

export default class Outdated extends LayersCommand {
  static override summary = 'Show npm dependencies and pinned layer ARNs that have newer versions.'

  static override description = `For npm layers, per direct dependency: the locked version, the newest version the manifest's range allows (wanted) and the registry's latest, as \`npm outdated\` shows them. For \`arn\` layers, per account and region the lock pins: whether a newer version exists that the account can read. Reads the registry with the project's npm configuration and AWS with each account's credentials; changes nothing.

${AWS_TIME_BOUNDS_HELP}

${EXIT_CODES_HELP} Exit 1 also when a registry or AWS lookup failed.`

  static override examples = [
    {description: 'Everything outdated', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'One layer, every dependency, as JSON', command: '<%= config.bin %> <%= command.id %> deps --all --json'},
  ]

  static override strict = false

  static override args = {
    layer: Args.string({description: 'Layers to check (default: every npm and arn layer).'}),
  }

  static override flags = {
    all: Flags.boolean({description: 'List up-to-date rows too.', default: false}),
    account: Flags.string({char: 'a', description: 'Only pins for this manifest account name or id (repeatable).', multiple: true}),
    region: Flags.string({char: 'r', description: 'Only pins in this region (repeatable).', multiple: true}),
    concurrency: Flags.integer({description: 'Lookups in flight at once.', default: 16, min: 1, max: 256}),
    ...awsTimeoutFlags,
  }

  async run(): Promise<OutdatedResult> {
    const {argv, flags} = await this.parse(Outdated)
    const result = await outdatedCommand({
      manifestPath: this.manifestPath(flags),
      layers: argv as string[],
      accounts: flags.account,
      regions: flags.region,
      concurrency: flags.concurrency,
      emit: this.reporter.emit,
      timeouts: awsTimeouts(flags),
    })
    this.reporter.done()
    const accountNames = this.jsonEnabled() ? new Map<string, string>() : await manifestAccountNames(this.manifestPath(flags))
    this.out(() => renderOutdated(result, flags.all, accountNames))
    if (result.errors.length > 0) {
      process.exitCode = 1
      process.stderr.write(`Error [ERR_LAYERS_OUTDATED_LOOKUP]: ${result.errors.length} lookup(s) failed; see "errors".\n`)
    }
    return result
  }
}
