import {EXIT_CODES_HELP, LayersCommand} from '../src/cli/base-command.js'
import {formatProblem} from '../src/cli/render.js'
import {renderValidation, validateProject, type ValidationReport} from '../src/manifest/validate-project.js'

export default class Validate extends LayersCommand {
  static override summary = 'Check layers.yaml and report every problem at once.'

  static override description = `Checks the manifest against its schema (schema/layers.schema.json) and Lambda's rules: YAML syntax, unknown keys (with did-you-mean), types, npm package names and semver ranges, layer ARNs (partition, region, account, name, version), regions and runtimes that exist, references to undefined layers or accounts, at most 5 layers per function, no layer twice, and that every own layer a function lists supports its runtime and architecture. Each problem names its file:line:column and how to fix it. Also says whether lockfile.json still matches the manifest. With a lock, checks every function's imports against its layers and reports packages or files two copies provide (from the built layers): copies differing in version or architecture are errors.

${EXIT_CODES_HELP}`

  static override examples = [
    {description: 'Validate layers.yaml in the current directory', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'Validate a manifest named by its path and get the result as JSON', command: '<%= config.bin %> <%= command.id %> --manifest ./layers.yaml --json'},
  ]

  async run(): Promise<ValidationReport> {
    const {flags} = await this.parse(Validate)
    const {report} = await validateProject(this.manifestPath(flags))
    for (const warning of report.warnings) process.stderr.write(this.jsonEnabled() ? '' : formatProblem(warning) + '\n')
    this.out(() => renderValidation(report))
    return report
  }
}
