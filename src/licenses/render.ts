// Owns the human output of `layers licenses`: per layer, a table of its licences with package counts
// and policy status, then the packages breaking the policy (with their path and chain).
import {renderTable} from '../cli/table.js'
import {describeViolation} from './check.js'
import type {LicensesReport} from './report.js'

export function renderLicenses(report: LicensesReport): string {
  if (report.layers.length === 0) return 'No npm or pip layer is locked.'
  const lines: string[] = []
  const policy = [
    report.policy.allow ? `allow ${report.policy.allow.join(', ')}` : '',
    report.policy.deny?.length ? `deny ${report.policy.deny.join(', ')}` : '',
  ].filter(Boolean)
  lines.push(policy.length > 0 ? `Licence policy (settings.licenses): ${policy.join('; ')}.` : 'No licence policy (settings.licenses): every licence is listed, none is checked.')
  for (const layer of report.layers) {
    lines.push('', `Layer ${layer.layer} (${layer.kind}), ${layer.packages.length} package${layer.packages.length === 1 ? '' : 's'}:`)
    lines.push(renderTable([{header: 'Licence', wrap: 30}, {header: 'Packages'}, {header: 'Status'}], layer.licenses.map((group) => [group.license ?? '(unknown)', String(group.packages), group.status])))
    for (const violation of layer.violations) lines.push(`  ${describeViolation(violation)}`)
  }
  if (report.violations > 0) lines.push('', `${report.violations} package${report.violations === 1 ? ' breaks' : 's break'} the policy: \`layers lock\` and \`layers validate\` refuse ${report.violations === 1 ? 'it' : 'them'}.`)
  if (report.unknown > 0) {
    lines.push('', `${report.unknown} package${report.unknown === 1 ? "'s licence is" : "s' licences are"} unknown: layers locked before licences get them on \`layers lock\` (run \`layers lock --update LAYER\` for one not due).`)
  }
  return lines.join('\n')
}
