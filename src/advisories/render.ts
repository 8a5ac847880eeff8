// Owns the human output of `layers advisories`: per advisory (worst first) the package, the affected
// copies by layer (current lock or older content, with the chain that pulls each in), the published
// versions and audited functions that carry them, the fixed version and each layer's fix; then the
// deprecated versions of the lock, and a one-line summary (also the advisories section of `layers
// audit --advisories`, whose functions are the audit's own).
import type {AdvisoriesReport} from './plan.js'

export function renderAdvisories(report: Omit<AdvisoriesReport, 'audit'> & Partial<Pick<AdvisoriesReport, 'audit'>>, options: {inAudit?: boolean} = {}): string {
  const lines: string[] = []
  for (const finding of report.advisories) {
    lines.push(`${finding.severity.toUpperCase()} ${finding.package} ${finding.vulnerableVersions}: ${finding.title}${finding.url ? ` (${finding.url})` : ''}`)
    for (const content of finding.contents) {
      const where = content.current ? 'current lock' : `older content ${content.codeSha256}`
      const copies = content.packages.map((pkg) => `${pkg.name}@${pkg.version}${pkg.chain.length > 1 ? ` via ${pkg.chain.slice(0, -1).join(' > ')}` : ''}`).join('; ')
      const published = content.published.length === 0 ? 'not published' : `published as ${content.published.map((publication) => `${publication.version} in ${publication.accountId}/${publication.region}`).join(', ')}`
      lines.push(`  layer ${content.layer} (${content.artifactKey}, ${where}): ${copies}; ${published}`)
    }
    if (finding.functions.length > 0) {
      lines.push(`  run by ${finding.functions.map((fn) => `${fn.function}${fn.qualifier === '$LATEST' ? '' : `:${fn.qualifier}`} (${fn.accountId}/${fn.region})`).join(', ')}`)
    }
    lines.push(`  fixed in: ${finding.fixedIn ?? 'no release yet'}`)
    for (const fix of finding.fixes) lines.push(`  fix ${fix.layer}: ${fix.fix}`)
  }
  if (report.deprecated.length > 0) {
    if (lines.length > 0) lines.push('')
    lines.push('Deprecated versions in the lock:')
    for (const pkg of report.deprecated) lines.push(`  ${pkg.name}@${pkg.version} (${pkg.locations.map((location) => `${location.layer}:${location.path}`).join(', ')}): ${pkg.message}`)
  }
  const {summary} = report
  const counts = (['critical', 'high', 'moderate', 'low', 'info'] as const).filter((severity) => summary[severity] > 0).map((severity) => `${summary[severity]} ${severity}`)
  if (lines.length > 0) lines.push('')
  lines.push(
    `${counts.length === 0 ? 'No advisories' : `${report.advisories.length} advisor${report.advisories.length === 1 ? 'y' : 'ies'} (${counts.join(', ')})`} for the locked packages, ${summary.deprecated} deprecated version(s)` +
      (options.inAudit
        ? `; ${summary.functions} function(s) of this audit affected.`
        : report.audit
          ? `; ${summary.functions} audited function(s) affected (audit ${report.audit.runId} of ${report.audit.finishedAt}).`
          : '; run `layers audit` to see which functions are affected.'),
  )
  return lines.join('\n')
}
