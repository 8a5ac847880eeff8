import {Flags} from '@oclif/core'
import {EXIT_CODES_HELP, LayersCommand} from '../src/cli/base-command.js'
import type {Problem} from '../src/errors/index.js'
import {advisoryGate, SEVERITIES, type AdvisoriesReport, type AdvisorySeverity} from '../src/advisories/plan.js'
import {renderAdvisories} from '../src/advisories/render.js'
import {advisoriesOfProject} from '../src/advisories/run.js'

export default class Advisories extends LayersCommand {
  static override summary = 'Report security advisories and deprecated versions of every locked npm package, traced to layers, versions and functions.'

  static override description = `Asks the registry of each package (its scope's registry in .npmrc, with its auth) through npm's bulk advisory endpoint, the one \`npm audit\` uses (POST /-/npm/v1/security/advisories/bulk), about every version in the lock and in every content built before (older layer versions still run). Each advisory is traced as \`layers find\` traces a package: the layer contents holding an affected copy and the chain that pulls it in, the layer versions they are published as and, from the latest saved \`layers audit\`, the functions running them; with its severity, the first fixed version and the fix (\`layers lock --update LAYER\`, an npm \`overrides\` entry when the ranges that require the package allow no fixed version, or \`layers attach\` when only older versions are affected). Also lists the lock's deprecated versions (the registry's \`deprecated\` message). A version's deprecation can change, so each answer is kept in .layers/state.db for 24 hours only; --refresh reads every packument again.

A registry that does not offer the endpoint is an error naming it (ERR_LAYERS_ADVISORIES_UNSUPPORTED).

${EXIT_CODES_HELP} Exit 1 also when an advisory reaches --fail-on (the report is still printed).`

  static override examples = [
    {description: 'Every advisory and deprecated version', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'CI gate: fail on high or critical advisories, as JSON', command: '<%= config.bin %> <%= command.id %> --fail-on high --json'},
  ]

  static override flags = {
    'fail-on': Flags.option({options: SEVERITIES.filter((severity) => severity !== 'info'), description: 'Exit 1 when an advisory of this severity or worse is found.'})(),
    refresh: Flags.boolean({description: 'Read every package\'s registry metadata again, not the deprecations cached within the last 24 hours.', default: false}),
  }

  async run(): Promise<AdvisoriesReport & {warnings: Problem[]}> {
    const {flags} = await this.parse(Advisories)
    const report = await advisoriesOfProject({manifestPath: this.manifestPath(flags), emit: this.reporter.emit, refresh: flags.refresh})
    this.reporter.done()
    this.out(() => renderAdvisories(report))
    const gate = advisoryGate(report, flags['fail-on'] as AdvisorySeverity | undefined, '--fail-on')
    if (gate) await this.reportFailure(gate)
    return {...report, warnings: this.reporter.warnings}
  }
}
