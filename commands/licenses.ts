import {Args} from '@oclif/core'
import {EXIT_CODES_HELP, LayersCommand} from '../src/cli/base-command.js'
import {renderLicenses} from '../src/licenses/render.js'
import type {LicensesReport} from '../src/licenses/report.js'
import {licensesOfProject} from '../src/licenses/run.js'

export default class Licenses extends LayersCommand {
  static override summary = 'Report the licences of the packages in each locked layer, and which break the licence policy.'

  static override description = `Per npm or pip layer (default: every one the lock holds): its licences, each with how many packages carry it, and every package with its node_modules path and its status under the manifest's policy (settings.licenses: allow and deny lists of SPDX licences): allowed, denied, not-allowed, or unchecked without a policy. Packages that break the policy are listed with the chain of dependents that pulls them in and the policy entry they break; \`layers lock\` and \`layers validate\` refuse them (exit 2).

Licences come from each package's package.json, as \`layers lock\` records them in lockfile.json (NOASSERTION when a package declares none). Packages of layers locked before licences were recorded, and Python wheels, are unknown.

Reads layers.yaml and lockfile.json only: no network. Changes nothing.

${EXIT_CODES_HELP}`

  static override examples = [
    {description: 'The licences of every locked layer', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'The common layer, with every package, as JSON', command: '<%= config.bin %> <%= command.id %> common --json'},
  ]

  static override strict = false

  static override args = {
    layer: Args.string({description: 'Layer names (default: every npm and pip layer of the lock).'}),
  }

  async run(): Promise<LicensesReport> {
    const {argv, flags} = await this.parse(Licenses)
    const report = await licensesOfProject({manifestPath: this.manifestPath(flags), layers: argv as string[]})
    this.out(() => renderLicenses(report))
    return report
  }
}
