// Owns how an audit report is shown: the human summary (findings table, then the layer x version
// usage matrix), CSV (one row per finding) and Markdown. JSON is the report object itself. JSON Lines
// (--format jsonl, schema/audit-line.schema.json) are written per target as the audit streams.
import {stringify} from 'csv-stringify/sync'
import {renderFailures} from '../cli/failures.js'
import {formatDate, paint, stdoutStyle, targetLabel, toneOf} from '../cli/style.js'
import {renderTable, wrapParagraph} from '../cli/table.js'
import type {AuditStreamResult, FunctionPart, TargetEndPart} from './run.js'
import {AUDIT_SCHEMA_VERSION, SEVERITIES, type AuditReport, type Finding, type LayerUsage} from './types.js'

export type AuditFormat = 'table' | 'json' | 'csv' | 'markdown'

const jsonLine = (type: 'target' | 'function' | 'finding', value: object): string => JSON.stringify({type, schemaVersion: AUDIT_SCHEMA_VERSION, [type]: value}) + '\n'

/**
 * One function's JSON Lines, written as soon as it is judged: its `function` line, then a `finding`
 * line per finding of it. Each line is {type, schemaVersion, <type>: object of schema/audit.schema.json}.
 */
export function jsonlOfFunction(part: FunctionPart): string {
  return jsonLine('function', part.function) + part.findings.map((finding) => jsonLine('finding', finding)).join('')
}

/**
 * A target's `target` line, written once all its functions' lines were: its status and function count
 * are known only then. A failed target's function lines written before (its listing broke off) stand
 * as what was read; the target and the summary count no functions for it.
 */
export function jsonlOfTarget(part: TargetEndPart): string {
  return jsonLine('target', part.target)
}

/** The last line of --format jsonl: the run's counts (the same summary as --json). */
export function jsonlSummary(result: AuditStreamResult): string {
  return (
    JSON.stringify({
      type: 'summary',
      schemaVersion: AUDIT_SCHEMA_VERSION,
      ...(result.runId === undefined ? {} : {runId: result.runId}),
      startedAt: result.startedAt,
      finishedAt: result.finishedAt,
      summary: result.summary,
    }) + '\n'
  )
}

export const CSV_COLUMNS = ['severity', 'code', 'accountId', 'region', 'function', 'layer', 'message', 'fix'] as const

export function renderAudit(report: AuditReport, format: AuditFormat): string {
  switch (format) {
    case 'json':
      return JSON.stringify(report, null, 2) + '\n'
    case 'csv':
      return renderCsv(report.findings)
    case 'markdown':
      return renderMarkdown(report)
    case 'table':
      return renderText(report)
  }
}

export function renderCsv(findings: Finding[]): string {
  return stringify(
    findings.map((finding) => CSV_COLUMNS.map((column) => finding[column] ?? '')),
    {header: true, columns: [...CSV_COLUMNS], record_delimiter: 'unix'},
  )
}

/** Account id -> manifest name, from the report's targets. */
function accountNames(report: AuditReport): Map<string, string> {
  const names = new Map<string, string>()
  for (const entry of report.targets) if (entry.accountName) names.set(entry.accountId, entry.accountName)
  return names
}

type Names = ReadonlyMap<string, string>

function target(row: {accountId: string; region: string}, names: Names): string {
  return targetLabel({...row, accountName: names.get(row.accountId)})
}

function usageTargets(usage: LayerUsage, names: Names, separator: string): string {
  return usage.targets.map((entry) => `${target(entry, names)}: ${entry.functions}`).join(separator)
}

/** Failed targets, and incomplete ones (functions listed, some aliases unread). */
function unreadHeading(targets: AuditReport['targets']): string {
  return targets.some((entry) => entry.status === 'incomplete') ? 'Failed or incomplete targets' : 'Failed targets'
}

function summaryLine(report: AuditReport, color = false): string {
  const {summary} = report
  const count = (n: number, word: string, tone: 'bad' | 'warn' | 'info') => (n > 0 ? paint(tone, `${n} ${word}`, color) : `${n} ${word}`)
  return (
    `${summary.functions} functions in ${summary.targets - summary.failedTargets} of ${summary.targets} targets; ` +
    `${count(summary.findings.error, 'errors', 'bad')}, ${count(summary.findings.warning, 'warnings', 'warn')}, ${count(summary.findings.info, 'notes', 'info')}`
  )
}

export interface FindingGroup {
  severity: Finding['severity']
  code: Finding['code']
  fix: string
  findings: Finding[]
}

/** Findings grouped by severity, code and fix (so each fix is said once), errors first, then by code. */
export function groupFindings(findings: readonly Finding[]): FindingGroup[] {
  const groups = new Map<string, FindingGroup>()
  for (const finding of findings) {
    const key = `${finding.severity}\0${finding.code}\0${finding.fix}`
    const group = groups.get(key)
    if (group) group.findings.push(finding)
    else groups.set(key, {severity: finding.severity, code: finding.code, fix: finding.fix, findings: [finding]})
  }
  const rank = (severity: Finding['severity']) => SEVERITIES.indexOf(severity)
  return [...groups.values()].sort((a, b) => rank(a.severity) - rank(b.severity) || a.code.localeCompare(b.code))
}

export function renderText(report: AuditReport, style: {color: boolean; columns: number} = stdoutStyle()): string {
  const {color, columns} = style
  const names = accountNames(report)
  const parts: string[] = []
  const failed = report.targets.filter((entry) => entry.status !== 'ok')
  if (failed.length > 0) {
    parts.push(
      paint('strong', unreadHeading(failed), color),
      ...renderFailures(failed.map((entry) => ({where: `${targetLabel(entry)}${entry.status === 'incomplete' ? ' (incomplete)' : ''}`, names: [entry.accountId, entry.accountName ?? '', entry.region], error: entry.error ?? {code: 'unknown', message: 'no error reported'}})), color),
      '',
    )
  }
  if (report.findings.length === 0) {
    parts.push('No findings.', '')
  } else {
    parts.push(paint('strong', 'Findings', color))
    for (const group of groupFindings(report.findings)) {
      const count = `${group.findings.length} finding${group.findings.length === 1 ? '' : 's'}`
      parts.push(`${paint(toneOf(group.severity), group.severity, color)} ${paint('strong', group.code, color)} (${count})`)
      parts.push(`  fix: ${wrapParagraph(group.fix, {indent: 7, columns})}`)
      const table = renderTable(
        [{header: 'target', wrap: 14}, {header: 'function', wrap: 10}, {header: 'message', wrap: 24}],
        group.findings.map((finding) => [target(finding, names), finding.function, finding.message]),
        {columns: columns - 2, color},
      )
      parts.push(table.split('\n').map((line) => `  ${line}`).join('\n'), '')
    }
  }
  if (report.usage.length > 0) {
    parts.push(
      paint('strong', 'Layer usage', color),
      renderTable(
        [{header: 'layer', wrap: 12}, {header: 'version', align: 'right'}, {header: 'functions', align: 'right'}, 'targets (functions)'],
        report.usage.map((usage) => [usage.name ?? usage.layerArn, usage.version, usage.functions, usageTargets(usage, names, '\n')]),
        {columns, color},
      ),
      '',
    )
  }
  if (report.diff) parts.push(renderDiffText(report.diff, names), '')
  parts.push(summaryLine(report, color))
  return parts.join('\n') + '\n'
}

function renderDiffText(diff: NonNullable<AuditReport['diff']>, names: Names): string {
  if (diff.previousRunId === undefined) return 'No previous audit to compare with.'
  const lines = [`Since audit #${diff.previousRunId} (${formatDate(diff.previousStartedAt)}): ${diff.added.length} new, ${diff.resolved.length} resolved, ${diff.unchanged} unchanged`]
  for (const finding of diff.added) lines.push(`  + ${finding.severity} ${finding.code} ${target(finding, names)} ${finding.function}: ${finding.message}`)
  for (const finding of diff.resolved) lines.push(`  - ${finding.severity} ${finding.code} ${target(finding, names)} ${finding.function}: ${finding.message}`)
  return lines.join('\n')
}

function cell(text: string | number | undefined): string {
  return String(text ?? '').replaceAll('|', '\\|').replaceAll('\n', ' ')
}

function markdownTable(head: string[], rows: Array<Array<string | number | undefined>>): string {
  return [
    `| ${head.join(' | ')} |`,
    `| ${head.map(() => '---').join(' | ')} |`,
    ...rows.map((row) => `| ${row.map(cell).join(' | ')} |`),
  ].join('\n')
}

export function renderMarkdown(report: AuditReport): string {
  const names = accountNames(report)
  const parts = ['# Layers audit', '', `${summaryLine(report)} (${formatDate(report.startedAt)}).`, '']
  const failed = report.targets.filter((entry) => entry.status !== 'ok')
  if (failed.length > 0) {
    parts.push(`## ${unreadHeading(failed)}`, '', markdownTable(['target', 'status', 'error', 'message'], failed.map((entry) => [target(entry, names), entry.status, entry.error?.code, entry.error?.message])), '')
  }
  parts.push('## Findings', '')
  parts.push(
    report.findings.length === 0
      ? 'No findings.'
      : markdownTable(
          ['severity', 'code', 'target', 'function', 'message', 'fix'],
          report.findings.map((finding) => [finding.severity, finding.code, target(finding, names), finding.function, finding.message, finding.fix]),
        ),
    '',
  )
  parts.push('## Layer usage', '')
  parts.push(
    report.usage.length === 0
      ? 'No function uses a layer.'
      : markdownTable(['layer', 'version', 'functions', 'targets'], report.usage.map((usage) => [usage.name ?? usage.layerArn, usage.version, usage.functions, usageTargets(usage, names, ', ')])),
    '',
  )
  if (report.diff) parts.push('## Changes', '', renderDiffText(report.diff, names), '')
  return parts.join('\n')
}
