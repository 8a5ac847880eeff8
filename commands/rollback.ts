import {Args, Flags} from '@oclif/core'
import {AWS_CONVENTIONS_HELP, AWS_TIME_BOUNDS_HELP, targetFlags} from '../src/cli/aws-flags.js'
import {EXIT_CODES_HELP, LayersAwsCommand} from '../src/cli/base-command.js'
import {rollbackCommand} from '../src/deploy/command.js'
import {renderRollback} from '../src/deploy/render.js'
import type {RollbackResult} from '../src/deploy/rollback.js'
import {OperationalError} from '../src/errors/index.js'

export default class Rollback extends LayersAwsCommand {
  static override summary = 'Move a function\'s alias back to the version it pointed at before the last `layers deploy --alias`.'

  static override description = `For the named function, in each of its accounts and regions: \`layers deploy --alias NAME\` records in the alias's description the version the alias pointed at before it moved it (or before a --traffic shift); rollback moves all of the alias's traffic back to that version (UpdateAlias under the alias's RevisionId, routing cleared) and records the version it left, so a second rollback goes forward again. The record lives with the alias in its account, so a rollback works from any machine or CI job, whoever deployed last. An alias already on that version is not written to; one without a record is refused. No lockfile is needed. A function infrastructure as code owns is refused unless --force. --dry-run says where each alias would go.

${AWS_CONVENTIONS_HELP}

${AWS_TIME_BOUNDS_HELP}

${EXIT_CODES_HELP} Exit 1 also when any alias was refused, conflicted or failed.`

  static override examples = [
    {description: 'Where alias live of scheduler goes back to, none yet (exits 1)', command: '<%= config.bin %> <%= command.id %> scheduler --alias live --dry-run'},
  ]

  static override strict = false

  static override args = {
    function: Args.string({description: 'Function keys or names from the manifest.', required: true}),
  }

  static override flags = {
    alias: Flags.string({description: 'The alias to move back.', required: true}),
    ...targetFlags({accounts: "the function's accounts", regions: "each account's regions"}),
    'dry-run': Flags.boolean({description: 'Show where each alias would go; move nothing.', default: false}),
    force: Flags.boolean({description: 'Also move aliases of functions infrastructure as code owns.', default: false}),
    concurrency: Flags.integer({description: 'Function targets worked on at once.', default: 8, min: 1, max: 64}),
  }

  async run(): Promise<RollbackResult> {
    const {argv, flags} = await this.parse(Rollback)
    const result = await rollbackCommand({
      manifestPath: this.manifestPath(flags),
      functions: argv as string[],
      alias: flags.alias,
      accounts: flags.account,
      regions: flags.region,
      dryRun: flags['dry-run'],
      concurrency: flags.concurrency,
      emit: this.reporter.emit,
      ...this.awsConnection(flags),
      force: flags.force,
      signal: this.interruptSignal,
    })
    this.reporter.done()
    this.out(() => renderRollback(result))
    const bad = result.summary.refused + result.summary.conflicts + result.summary.failed
    if (bad > 0) {
      await this.reportFailure(new OperationalError('ERR_LAYERS_ROLLBACK_FAILED', `${bad} alias target(s) refused, conflicted or failed; see the summary.`, {hint: 'Each outcome says why.'}))
    }
    return result
  }
}
