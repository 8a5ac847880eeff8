import {Flags} from '@oclif/core'
import {attachCommand} from '../src/attach/command.js'
import {renderAttach} from '../src/attach/render.js'
import type {AttachResult} from '../src/attach/run.js'
import {AWS_CONVENTIONS_HELP, AWS_TIME_BOUNDS_HELP, functionTargetArgs, ownedForceFlag, protectedYesFlag, targetFlags, waitTimeoutFlag} from '../src/cli/aws-flags.js'
import {EXIT_CODES_HELP, LayersAwsCommand} from '../src/cli/base-command.js'
import {OperationalError} from '../src/errors/index.js'

export default class Attach extends LayersAwsCommand {
  static override summary = 'Put functions on exactly the locked layer versions.'

  static override description = `For every named function (all when none are named), in each of its accounts and regions, the desired Layers list is the function's manifest order mapped to the versions lockfile.json records for that account, region and architecture. The diff (added, removed, version moved) is shown per function. A function already on that list is left untouched (no AWS write).

The update is refused, with the reason, when the function would have more than 5 layers, its code plus layers would exceed 262,144,000 bytes unzipped, a layer's runtimes or architectures exclude the function's, a layer version cannot be read from that account, or a layer is not published to that target yet (\`layers publish LAYER\` publishes it). Updates carry the function's RevisionId: when it changed underneath, attach reads it again and retries once, else reports the conflict. It then waits (bounded) until LastUpdateStatus is Successful. --dry-run shows the diffs and writes nothing.

A function infrastructure as code owns is refused too, unless --force: one CloudFormation, SAM or CDK deployed (tag aws:cloudformation:stack-name) or one carrying a tag of settings.ownershipTags (e.g. ManagedBy=terraform). An attach there is drift the next deploy reverts: have its template read the locked ARNs from the SSM parameters or a file of \`layers export\`, and redeploy it. Its tags are read (ListTags) only when attach would change the function; with --force it is updated, with a warning.

Functions in an account marked \`protected: true\` in the manifest are changed only after confirmation: attach first reads what it would change (as --dry-run does), lists the changes in protected accounts and asks on a terminal (y/N; Enter, Ctrl-D or Ctrl-C change nothing); without a terminal it refuses with ERR_LAYERS_CONFIRMATION_REQUIRED (exit 2) before updating anything. --yes skips the question.
${AWS_CONVENTIONS_HELP}

${AWS_TIME_BOUNDS_HELP}

${EXIT_CODES_HELP} Exit 1 also when any function was refused, conflicted or failed.`

  static override examples = [
    {description: 'Attach the locked layers to every function', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'Show what would change for one function in prod', command: '<%= config.bin %> <%= command.id %> api --account prod --dry-run'},
    {description: 'Machine-readable outcomes for one region', command: '<%= config.bin %> <%= command.id %> --region eu-west-1 --json'},
  ]

  static override strict = false

  static override args = functionTargetArgs

  static override flags = {
    ...targetFlags({accounts: "each function's accounts", regions: "each account's regions"}),
    'dry-run': Flags.boolean({description: 'Show the diffs; update nothing.', default: false}),
    yes: protectedYesFlag('Update'),
    concurrency: Flags.integer({description: 'Functions worked on at once.', default: 8, min: 1, max: 64}),
    'wait-timeout': waitTimeoutFlag,
    force: ownedForceFlag('update'),
    'remote-state': Flags.boolean({description: 'Write each attached version to the shared history in the state bucket (--no-remote-state: local only).', default: true, allowNo: true}),
  }

  async run(): Promise<AttachResult> {
    const {argv, flags} = await this.parse(Attach)
    const result = await attachCommand({
      ...this.functionChangeOptions(argv, flags),
      concurrency: flags.concurrency,
      remoteState: flags['remote-state'],
    })
    this.reporter.done()
    this.out(() => renderAttach(result))
    const bad = result.summary.refused + result.summary.conflicts + result.summary.failed
    if (bad > 0) {
      const owned = result.functions.some((outcome) => outcome.status === 'refused' && outcome.owner)
      const hint = owned
        ? 'Each outcome says why. Functions infrastructure as code owns get their layers from a redeploy of their stack (read the ARNs from the SSM parameters or `layers export`); `layers attach --force` updates them anyway.'
        : 'Each outcome says why; fix those and run attach again (functions already on their versions are left untouched).'
      await this.reportFailure(new OperationalError('ERR_LAYERS_ATTACH_FAILED', `${bad} function target(s) refused, conflicted or failed; see the summary.`, {hint}))
    }
    return result
  }
}
