import {Args, Flags} from '@oclif/core'
import {AWS_CONVENTIONS_HELP, AWS_TIME_BOUNDS_HELP, targetFlags} from '../src/cli/aws-flags.js'
import {EXIT_CODES_HELP, LayersAwsCommand} from '../src/cli/base-command.js'
import {terminalConfirm} from '../src/cli/confirm.js'
import {OperationalError} from '../src/errors/index.js'
import {pruneCommand} from '../src/prune/command.js'
import {renderPrune} from '../src/prune/render.js'
import type {PruneResult} from '../src/prune/run.js'
import {manifestAccountNames} from '../src/cli/account-names.js'

export default class Prune extends LayersAwsCommand {
  static override summary = 'Delete versions of the manifest\'s own layers that nothing uses (asks first; --yes does not).'

  static override description = `A version is a candidate when lockfile.json pins it for no target, no function uses it in a fresh audit of the targets, it is not among the --keep newest versions of its layer in that account and region, and (with --older-than) it is old enough. Versions in a region where the audit could not scan every target, or shared with an account the audit did not scan, are kept; so are all versions of a layer shared with an organization or publicly (no audit sees every account that may use them). By default prune runs the audit itself; with --use-last-audit it uses the last saved audit and refuses one older than --max-audit-age. Before deleting anything it lists what it would delete and the storage freed and, on a terminal, asks (y/N; Enter, Ctrl-D or Ctrl-C delete nothing); with --yes it deletes without asking; with --dry-run (like attach's) it only lists them and never asks. Without a terminal (CI, a pipe) and without --yes or --dry-run it refuses with ERR_LAYERS_CONFIRMATION_REQUIRED (exit 2) when there is anything to delete, naming it. Each deletion is recorded (see \`layers history\`). Note: a deleted version keeps working for functions that already use it, but can no longer be added to a function.

${AWS_CONVENTIONS_HELP}

${AWS_TIME_BOUNDS_HELP}

${EXIT_CODES_HELP} Exit 1 also when a deletion or a listing failed.`

  static override examples = [
    {description: 'What would go, keeping the 3 newest versions of each layer', command: '<%= config.bin %> <%= command.id %> --keep 3 --dry-run'},
    {description: 'Delete unused versions of `common` older than 90 days', command: '<%= config.bin %> <%= command.id %> common --older-than 90d --yes'},
    {description: 'Use the audit saved in the last 10 minutes instead of running one', command: '<%= config.bin %> <%= command.id %> --use-last-audit --max-audit-age 10m --dry-run'},
  ]

  static override strict = false

  static override args = {
    layer: Args.string({description: 'Own layers to prune (default: all of them).'}),
  }

  static override flags = {
    keep: Flags.integer({description: 'Keep this many newest versions per layer, account and region.', default: 0, min: 0}),
    'older-than': Flags.string({description: 'Only versions created longer ago than this (e.g. 30d, 12h, 2w).'}),
    yes: Flags.boolean({char: 'y', description: 'Delete the candidates without asking (needed without a terminal).', default: false}),
    'dry-run': Flags.boolean({description: 'List the candidates and the storage they would free; delete nothing.', default: false, exclusive: ['yes']}),
    ...targetFlags({regions: "the account's regions"}),
    'use-last-audit': Flags.boolean({description: 'Use the last saved audit instead of running a fresh one.', default: false}),
    'max-audit-age': Flags.string({description: 'With --use-last-audit: refuse an audit older than this.', default: '15m'}),
    concurrency: Flags.integer({description: 'AWS calls in flight at once.', default: 16, min: 1, max: 256}),
    'remote-state': Flags.boolean({description: 'Delete under the team-state lease of each layer, account and region (--no-remote-state: a single-user setup).', default: true, allowNo: true}),
  }

  async run(): Promise<PruneResult> {
    const {argv, flags} = await this.parse(Prune)
    const result = await pruneCommand({
      manifestPath: this.manifestPath(flags),
      layers: argv as string[],
      keep: flags.keep,
      olderThan: flags['older-than'],
      yes: flags.yes && !flags['dry-run'],
      // --dry-run passes no confirmation: the service then only plans.
      confirm: flags['dry-run'] ? undefined : terminalConfirm({yes: flags.yes, beforeAsk: () => this.reporter.done(), signal: this.interruptSignal}),
      accounts: flags.account,
      regions: flags.region,
      useLastAudit: flags['use-last-audit'],
      maxAuditAge: flags['max-audit-age'],
      concurrency: flags.concurrency,
      remoteState: flags['remote-state'],
      emit: this.reporter.emit,
      signal: this.interruptSignal,
      ...this.awsConnection(flags),
    })
    this.reporter.done()
    const accountNames = this.jsonEnabled() ? new Map<string, string>() : await manifestAccountNames(this.manifestPath(flags))
    this.out(() => renderPrune(result, accountNames))
    if (result.failures.length > 0) {
      await this.reportFailure(new OperationalError('ERR_LAYERS_PRUNE_FAILED', `${result.failures.length} listing(s) or deletion(s) failed; see "failures".`, {hint: 'Each failure names its layer, account and region; run prune again once they are fixed (nothing in use is ever deleted).'}))
    }
    return result
  }
}
