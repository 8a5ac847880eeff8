// Owns the human output of `layers find`: the artifact contents holding the package (with the path and
// the chain that pulls it in, and the versions they are published as), then the functions the latest
// audit saw running them, as a table.
import {renderTable} from '../cli/table.js'
import type {FindReport} from './plan.js'

export function renderFind(report: FindReport): string {
  const asked = `${report.query.name}${report.query.range === undefined ? '' : `@${report.query.range}`}`
  if (report.contents.length === 0) return `No layer content holds ${asked}.${report.unknownContents.length > 0 ? `\n${renderUnknown(report)}` : ''}`
  const lines: string[] = []
  for (const content of report.contents) {
    const state = content.current ? 'in the current lock' : `earlier content ${content.codeSha256}`
    lines.push(`Layer ${content.layer} (${content.artifactKey}), ${state}:`)
    for (const pkg of content.packages) {
      lines.push(`  ${pkg.name}@${pkg.version} at ${pkg.path}${pkg.chain.length > 1 ? `, via ${pkg.chain.join(' > ')}` : ''}`)
    }
    lines.push(
      content.published.length === 0
        ? '  Not published.'
        : `  Published as ${content.published.map((publication) => `version ${publication.version} in ${publication.accountId}/${publication.region}`).join(', ')}.`,
    )
  }
  if (!report.audit) {
    lines.push('', 'No audit saved: run `layers audit` to see which functions run these versions.')
  } else if (report.functions.length === 0) {
    lines.push('', `No function runs them (audit ${report.audit.runId} of ${report.audit.finishedAt}).`)
  } else {
    lines.push('', `Functions running them (audit ${report.audit.runId} of ${report.audit.finishedAt}):`)
    lines.push(
      renderTable(
        [{header: 'Account'}, {header: 'Region'}, {header: 'Function', wrap: 12}, {header: 'Qualifier', drop: 2}, {header: 'Layer version', wrap: 20}, {header: 'Packages', wrap: 12, drop: 1}],
        report.functions.map((fn) => [fn.accountId, fn.region, fn.function, fn.functionVersion === undefined ? fn.qualifier : `${fn.qualifier} (${fn.functionVersion})`, fn.arn, fn.packages.join(', ')]),
      ),
    )
  }
  if (report.unknownContents.length > 0) lines.push('', renderUnknown(report))
  return lines.join('\n')
}

function renderUnknown(report: FindReport): string {
  return `Not searchable: ${report.unknownContents.map((item) => `${item.arn} (${item.functions} function(s))`).join(', ')} run by audited functions, built in another clone of the project (run \`layers build\` there, or \`layers history\` to see who published them).`
}
