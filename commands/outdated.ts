import {Args, Flags} from '@oclif/core'
import {AWS_CONVENTIONS_HELP, AWS_TIME_BOUNDS_HELP} from '../src/cli/aws-flags.js'
import {EXIT_CODES_HELP, LayersAwsCommand} from '../src/cli/base-command.js'
import {OperationalError} from '../src/errors/index.js'
import {failOnError, outdatedCommand} from '../src/outdated/command.js'
import {renderOutdated} from '../src/outdated/render.js'
import {FAIL_ON_LEVELS} from '../src/outdated/plan.js'
import type {OutdatedResult} from '../src/outdated/run.js'
import {manifestAccountNames} from '../src/cli/account-names.js'

export default class Outdated extends LayersAwsCommand {
  static override summary = 'Show npm and pip dependencies and pinned layer ARNs that have newer versions.'

  static override description = `For npm layers, per direct dependency: the locked version, the newest version the manifest's range allows (wanted) and the registry's latest, as \`npm outdated\` shows them. For pip layers, per requirement: the locked version, the newest version its PEP 440 specifier allows (wanted) and the newest release (latest), from the indexes the lock uses (pip's and uv's configuration), counting only releases with a non-yanked wheel every runtime and architecture of the layer can install, and pre-releases only when the specifier names one (or nothing else fits). For \`arn\` layers, per account and region the lock pins: whether a newer version exists that the account can read. Reads the registry with the project's npm configuration, the Python indexes with pip's and uv's, and AWS with each account's credentials; changes nothing.

--fail-on makes outdated dependencies exit 1 (for CI; \`npm outdated\` always does): \`any\` for every outdated row, arn layers included (npm's behaviour); \`major\`, \`minor\` or \`patch\` for an npm or pip dependency whose locked version is behind wanted or latest by at least that step (semver for npm; for pip the PEP 440 release segments: the first is major, the second minor, anything smaller patch; \`patch\`: any update; a dependency that is not locked or outside its range counts at every level; arn layer versions have no semver and count only for \`any\`). Each npm and pip row's \`update\` in --json says its step. Without --fail-on, outdated rows exit 0.
${AWS_CONVENTIONS_HELP}

${AWS_TIME_BOUNDS_HELP}

${EXIT_CODES_HELP} Exit 1 also when a registry or AWS lookup failed, and with --fail-on when a row is outdated at that level.`

  static override examples = [
    {description: 'Everything outdated', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'One layer, every dependency, as JSON', command: '<%= config.bin %> <%= command.id %> common --all --json'},
  ]

  static override strict = false

  static override args = {
    layer: Args.string({description: 'Layers to check (default: every npm, pip and arn layer).'}),
  }

  static override flags = {
    all: Flags.boolean({description: 'List up-to-date rows too.', default: false}),
    account: Flags.string({char: 'a', description: 'Only pins for this manifest account name or id (repeatable).', multiple: true}),
    region: Flags.string({char: 'r', description: 'Only pins in this region (repeatable).', multiple: true}),
    'fail-on': Flags.option({options: FAIL_ON_LEVELS, description: 'Exit 1 when a row is outdated at this level: any (every outdated row, as npm), or an npm or pip update of at least major, minor or patch.'})(),
    concurrency: Flags.integer({description: 'Lookups in flight at once.', default: 16, min: 1, max: 256}),
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
      ...this.awsConnection(flags),
    })
    this.reporter.done()
    const accountNames = this.jsonEnabled() ? new Map<string, string>() : await manifestAccountNames(this.manifestPath(flags))
    this.out(() => renderOutdated(result, flags.all, accountNames))
    if (result.errors.length > 0) {
      await this.reportFailure(new OperationalError('ERR_LAYERS_OUTDATED_LOOKUP', `${result.errors.length} lookup(s) failed; see "errors".`, {hint: 'Each error names the registry or account and region it could not read; the other rows are complete.'}))
    }
    const failOn = flags['fail-on'] ? failOnError(result.rows, flags['fail-on']) : undefined
    if (failOn) await this.reportFailure(failOn)
    return result
  }
}
