// Owns how an audit report is shown: the human summary (findings table, then the layer x version
// usage matrix), CSV (one row per finding) and Markdown. JSON is the report object itself.
import {stringify} from 'csv-stringify/sync'
import {renderTable} from '../cli/table.js'
import type {AuditReport, Finding, LayerUsage} from './types.js'

export type AuditFormat = 'table' | 'json' | 'csv' | 'markdown'

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

function target(row: {accountId: string; region: string}): string {
  return `${row.accountId}/${row.region}`
}

function usageTargets(usage: LayerUsage): string {
  return usage.targets.map((entry) => `${target(entry)}:${entry.functions}`).join(' ')
}

function summaryLine(report: AuditReport): string {
  const {summary} = report
  return (
    `${summary.functions} functions in ${summary.targets - summary.failedTargets} of ${summary.targets} targets; ` +
    `${summary.findings.error} errors, ${summary.findings.warning} warnings, ${summary.findings.info} notes`
  )
}

export function renderText(report: AuditReport): string {
  const parts: string[] = []
  const failed = report.targets.filter((entry) => entry.status === 'failed')
  if (failed.length > 0) {
    parts.push('Failed targets', renderTable(['target', 'error', 'message'], failed.map((entry) => [target(entry), entry.error?.code, entry.error?.message])), '')
  }
  if (report.findings.length === 0) {
    parts.push('No findings.', '')
  } else {
    parts.push(
      'Findings',
      renderTable(
        ['severity', 'code', 'target', 'function', 'message', 'fix'],
        report.findings.map((finding) => [finding.severity, finding.code, target(finding), finding.function, finding.message, finding.fix]),
      ),
      '',
    )
  }
  if (report.usage.length > 0) {
    parts.push(
      'Layer usage',
      renderTable(
        ['layer', 'version', 'functions', 'targets (account/region:functions)'],
        report.usage.map((usage) => [usage.name ?? usage.layerArn, usage.version, usage.functions, usageTargets(usage)]),
        {alignRight: [1, 2]},
      ),
      '',
    )
  }
  if (report.diff) parts.push(renderDiffText(report.diff), '')
  parts.push(summaryLine(report))
  return parts.join('\n') + '\n'
}

function renderDiffText(diff: NonNullable<AuditReport['diff']>): string {
  if (diff.previousRunId === undefined) return 'No previous audit to compare with.'
  const lines = [`Since audit #${diff.previousRunId} (${diff.previousStartedAt}): ${diff.added.length} new, ${diff.resolved.length} resolved, ${diff.unchanged} unchanged`]
  for (const finding of diff.added) lines.push(`  + ${finding.severity} ${finding.code} ${target(finding)} ${finding.function}: ${finding.message}`)
  for (const finding of diff.resolved) lines.push(`  - ${finding.severity} ${finding.code} ${target(finding)} ${finding.function}: ${finding.message}`)
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
  const parts = ['# Layers audit', '', `${summaryLine(report)} (${report.startedAt}).`, '']
  const failed = report.targets.filter((entry) => entry.status === 'failed')
  if (failed.length > 0) {
    parts.push('## Failed targets', '', markdownTable(['target', 'error', 'message'], failed.map((entry) => [target(entry), entry.error?.code, entry.error?.message])), '')
  }
  parts.push('## Findings', '')
  parts.push(
    report.findings.length === 0
      ? 'No findings.'
      : markdownTable(
          ['severity', 'code', 'target', 'function', 'message', 'fix'],
          report.findings.map((finding) => [finding.severity, finding.code, target(finding), finding.function, finding.message, finding.fix]),
        ),
    '',
  )
  parts.push('## Layer usage', '')
  parts.push(
    report.usage.length === 0
      ? 'No function uses a layer.'
      : markdownTable(['layer', 'version', 'functions', 'targets'], report.usage.map((usage) => [usage.name ?? usage.layerArn, usage.version, usage.functions, usageTargets(usage)])),
    '',
  )
  if (report.diff) parts.push('## Changes', '', renderDiffText(report.diff), '')
  return parts.join('\n')
}
