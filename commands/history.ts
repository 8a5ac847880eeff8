import {Args, Flags} from '@oclif/core'
import {AWS_CONVENTIONS_HELP} from '../src/cli/aws-flags.js'
import {EXIT_CODES_HELP, LayersAwsCommand} from '../src/cli/base-command.js'
import {writeOutput} from '../src/cli/output.js'
import {historyCommand} from '../src/history/command.js'
import {historyHtml} from '../src/report/template.js'
import {renderLayerHistory} from '../src/history/render.js'
import type {LayerHistory} from '../src/history/store.js'
import {manifestAccountNames} from '../src/cli/account-names.js'

export default class History extends LayersAwsCommand {
  static override summary = 'Show a layer\'s publications, grant changes, attaches, usage in each saved audit, and pruned versions.'

  static override description = `Reads the local state database (.layers/state.db beside the manifest): publications and grant changes that \`layers publish\` recorded, the versions \`layers attach\` attached, the versions each saved \`layers audit\` run saw in use (how many functions in how many targets), and versions \`layers prune --yes\` deleted. LAYER is a manifest layer name or a layer ARN without the version. For a manifest layer, the events every other clone wrote to the shared history (the state bucket of each manifest account and region, see "Team state" in the README) are merged into the local database first, so it is a cache of the team's history; --no-remote-state reads the local database only. --format html writes one self-contained page (no network, no external assets): the functions per version in each saved audit over time, then the publications, attaches, grant changes and prunes; --output FILE writes it to a file instead of stdout.

${AWS_CONVENTIONS_HELP}

${EXIT_CODES_HELP}`

  static override examples = [
    {description: 'History of the manifest layer `common`', command: '<%= config.bin %> <%= command.id %> common'},
    {description: 'The history of `common` as a page to share', command: '<%= config.bin %> <%= command.id %> common --format html --output common-history.html'},
    {description: 'An AWS-provided layer by its ARN, over the last 5 audits, as JSON', command: '<%= config.bin %> <%= command.id %> arn:aws:lambda:eu-west-1:580247275435:layer:LambdaInsightsExtension --runs 5 --json'},
  ]

  static override args = {
    layer: Args.string({description: 'Manifest layer name, or a layer ARN without the version.', required: true}),
  }

  static override flags = {
    runs: Flags.integer({description: 'How many of the latest audit runs that saw the layer to show.', default: 20, min: 1}),
    'remote-state': Flags.boolean({description: 'Merge the shared history from the state bucket first (--no-remote-state: local only).', default: true, allowNo: true}),
    format: Flags.string({char: 'f', description: 'Output format.', options: ['table', 'html'], default: 'table'}),
    output: Flags.string({char: 'o', description: 'Write the --format output to FILE (atomically) instead of stdout.', exclusive: ['json']}),
  }

  async run(): Promise<LayerHistory> {
    const {args, flags} = await this.parse(History)
    const history = await historyCommand({manifestPath: this.manifestPath(flags), layer: args.layer, runs: flags.runs, remoteState: flags['remote-state'], emit: this.reporter.emit, aws: this.awsConnection(flags)})
    const accountNames = this.jsonEnabled() ? new Map<string, string>() : await manifestAccountNames(this.manifestPath(flags))
    if (!this.jsonEnabled()) {
      const text = flags.format === 'html' ? await historyHtml(history, accountNames) : renderLayerHistory(history, accountNames)
      await writeOutput(flags.output, (write) => write(text.endsWith('\n') ? text : text + '\n'))
    }
    return history
  }
}
