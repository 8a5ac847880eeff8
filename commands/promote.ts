import {Args, Flags} from '@oclif/core'
import {AWS_CONVENTIONS_HELP, AWS_TIME_BOUNDS_HELP, targetFlags} from '../src/cli/aws-flags.js'
import {EXIT_CODES_HELP, LayersAwsCommand} from '../src/cli/base-command.js'
import {OperationalError} from '../src/errors/index.js'
import {promoteCommand, type PromoteResult} from '../src/ssm/promote.js'
import {renderPromote} from '../src/ssm/render.js'

export default class Promote extends LayersAwsCommand {
  static override summary = 'Point one channel of a layer at the version another channel holds, per account and region, without publishing.'

  static override description = `For every account and region the layer is published to (narrowed by --account and --region), channel --to is pointed at the layer version channel --from holds there, for each artifact (architecture). Nothing is built or published: the versions exist already. lockfile.json records the channels (channels[channel][account][region][artifact]); with settings.ssm, the --to channel's SSM parameters there are written (only that channel's; see "Channels and SSM parameters" in the README). A target where --from holds nothing is refused (ERR_LAYERS_CHANNEL_EMPTY, exit 2) before anything changes. With team state, each account and region is moved and written under the layer's team-state lease, the one publish takes (see "Team state" in the README): a run that holds it makes promote wait (LAYERS_LEASE_WAIT_MS) and then fail with ERR_LAYERS_LEASE_TIMEOUT, lockfile.json unchanged; --no-remote-state for a single-user setup. --dry-run changes nothing and says what would move.

${AWS_CONVENTIONS_HELP}

${AWS_TIME_BOUNDS_HELP}

${EXIT_CODES_HELP} Exit 1 also when an SSM parameter could not be written.`

  static override examples = [
    {description: 'Promote beta to prod everywhere (exits 2)', command: '<%= config.bin %> <%= command.id %> common --from beta --to prod'},
    {description: 'Only prod in eu-west-1, as a dry run (exits 2)', command: '<%= config.bin %> <%= command.id %> common --from beta --to prod --account prod --region eu-west-1 --dry-run'},
  ]

  static override args = {
    layer: Args.string({description: 'An own layer of the manifest that declares channels.', required: true}),
  }

  static override flags = {
    from: Flags.string({description: 'The channel whose versions are taken.', required: true}),
    to: Flags.string({description: 'The channel that is moved.', required: true}),
    ...targetFlags({accounts: 'all', regions: "each account's regions"}),
    'dry-run': Flags.boolean({description: 'Say what would move; change nothing.', default: false}),
    concurrency: Flags.integer({description: 'Accounts and regions worked on at once.', default: 8, min: 1, max: 64}),
    'remote-state': Flags.boolean({description: 'Move and write under the team-state lease of the layer in each account and region, as publish does (--no-remote-state: a single-user setup).', default: true, allowNo: true}),
  }

  async run(): Promise<PromoteResult> {
    const {args, flags} = await this.parse(Promote)
    const result = await promoteCommand({
      manifestPath: this.manifestPath(flags),
      layer: args.layer,
      from: flags.from,
      to: flags.to,
      accounts: flags.account,
      regions: flags.region,
      dryRun: flags['dry-run'],
      concurrency: flags.concurrency,
      remoteState: flags['remote-state'],
      emit: this.reporter.emit,
      signal: this.interruptSignal,
      ...this.awsConnection(flags),
    })
    this.reporter.done()
    this.out(() => renderPromote(result))
    const failed = result.parameters?.summary.failed ?? 0
    if (failed > 0) {
      await this.reportFailure(new OperationalError('ERR_LAYERS_PROMOTE_FAILED', `${failed} SSM parameter(s) could not be written; see ${this.jsonEnabled() ? '"parameters"' : 'above'}.`, {hint: 'lockfile.json records the promotion; fix what each failure names and run promote again to write the parameters.'}))
    }
    return result
  }
}
