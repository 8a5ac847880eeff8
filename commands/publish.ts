import {Args, Flags} from '@oclif/core'
import {AWS_CONVENTIONS_HELP, AWS_TIME_BOUNDS_HELP, targetFlags} from '../src/cli/aws-flags.js'
import {EXIT_CODES_HELP, LayersAwsCommand} from '../src/cli/base-command.js'
import {OperationalError} from '../src/errors/index.js'
import {publishCommand} from '../src/publish/command.js'
import {renderPublish} from '../src/publish/render.js'
import type {PublishResult} from '../src/publish/run.js'

export default class Publish extends LayersAwsCommand {
  static override summary = 'Publish layer versions: once per distinct content, per account and region, shared as the manifest says.'

  static override description = `Builds the named own layers (all when none are named) from lockfile.json and, for every account and region of the functions that use each one (every account when no function does), makes sure exactly one layer version holds that content:

- the zip goes to the manifest's bucket (settings.bucket, {accountId} and {region} filled in) under <prefix><layer>/<sha256>.zip; an object already there is not uploaded again; large zips go up in parts. A missing bucket is an error unless --create-bucket is given.
- beside it, before a version is published, the content's CycloneDX SBOM (the bytes \`layers sbom LAYER\` prints once that content is published) under <prefix><layer>/<sha256 of the SBOM>.cdx.json, also only when not there; the new version's description names it (layers-sbom:<sha256>), so \`layers sbom --published ARN\` finds it from any clone.
- a version is published only when none holds the same CodeSha256: the lockfile's record is trusted first; without one (a new clone, an interrupted run) the layer's existing versions are looked at (the version description carries the content hash). Runtimes, architectures and licence come from the manifest.
- every version gets exactly the grants of the layer's \`share\` (accounts, organization, public); grants the manifest no longer names are removed, after confirmation: without --yes, publish first reads what it would change (as --dry-run does) and, when grants would be removed, lists them and asks on a terminal (y/N; Enter, Ctrl-D or Ctrl-C change nothing), or without a terminal refuses with ERR_LAYERS_CONFIRMATION_REQUIRED (exit 2) before writing anything.
- each version ARN is written to lockfile.json (published[account][region][artifact]) as soon as it exists, and to the local publication history (\`layers history\`).
- team state: the work of each layer, account and region that may write runs under a lease in S3 (settings.state.bucket, default the artifact bucket, at <prefix>.layers-state/leases/...), so machines publishing at once never duplicate a version; a waiting run says who holds the lease. A no-op publish takes none. --no-remote-state for a single-user setup.

ARN layers are checked instead: the version lockfile.json pins for each target must be readable there. Targets run concurrently (--concurrency) with adaptive retries; one failing target does not stop the others, and the summary lists every outcome. --dry-run reads only: it prints what would be uploaded, published and shared and calls no AWS write API.

${AWS_CONVENTIONS_HELP}

${AWS_TIME_BOUNDS_HELP}

${EXIT_CODES_HELP} Exit 1 also when any target failed.`

  static override examples = [
    {description: 'Publish every layer to every target', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'See what would happen, without writing anything', command: '<%= config.bin %> <%= command.id %> --dry-run'},
    {description: 'Publish one layer to the prod account in one region, creating the bucket if needed', command: '<%= config.bin %> <%= command.id %> common --account prod --region eu-west-1 --create-bucket'},
    {description: 'Machine-readable outcomes', command: '<%= config.bin %> <%= command.id %> --json'},
  ]

  static override strict = false

  static override args = {
    layer: Args.string({description: 'Layer names from the manifest (default: all layers).', required: false}),
  }

  static override flags = {
    ...targetFlags({accounts: 'all', regions: "each account's regions"}),
    'dry-run': Flags.boolean({description: 'Print the plan; call no AWS write API.', default: false}),
    yes: Flags.boolean({char: 'y', description: 'Remove grants the manifest no longer names without asking (needed without a terminal).', default: false}),
    'create-bucket': Flags.boolean({description: 'Create a missing artifact bucket (in the layer\'s region).', default: false}),
    concurrency: Flags.integer({description: 'Targets worked on at once.', default: 8, min: 1, max: 64}),
    channel: Flags.string({description: 'Move only this channel of each layer to the published version (default: every channel; see "Channels and SSM parameters" in the README).'}),
    'prune-parameters': Flags.boolean({description: 'Delete SSM parameters of settings.ssm.parameterName\'s shape that the manifest no longer names (with --dry-run: list them).', default: false}),
    'remote-state': Flags.boolean({description: 'Take the team-state lease in S3 around each layer, account and region (--no-remote-state: a single-user setup).', default: true, allowNo: true}),
  }

  async run(): Promise<PublishResult> {
    const {argv, flags} = await this.parse(Publish)
    const result = await publishCommand({
      ...this.confirmedTargetOptions(flags),
      layers: argv as string[],
      createBucket: flags['create-bucket'],
      concurrency: flags.concurrency,
      remoteState: flags['remote-state'],
      ...(flags.channel === undefined ? {} : {channel: flags.channel}),
      pruneParameters: flags['prune-parameters'],
      toolVersion: this.config.version,
      emit: this.reporter.emit,
      signal: this.interruptSignal,
      ...this.awsConnection(flags),
    })
    this.reporter.done()
    this.out(() => renderPublish(result))
    const parametersFailed = result.parameters?.summary.failed ?? 0
    if (result.summary.failed > 0 || parametersFailed > 0) {
      const what = parametersFailed === 0 ? `${result.summary.failed} target(s) failed` : `${result.summary.failed} target(s) and ${parametersFailed} SSM parameter(s) failed`
      await this.reportFailure(new OperationalError('ERR_LAYERS_PUBLISH_FAILED', `${what}; see the summary${this.jsonEnabled() ? (parametersFailed === 0 ? ' ("units" and "arnChecks")' : ' ("units", "arnChecks" and "parameters")') : ''}.`, {hint: 'Each failed target says why; run publish again once they are fixed (what was published is kept and not published twice).'}))
    }
    return result
  }
}
