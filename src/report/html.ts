// Owns the shareable HTML report of `layers audit --format html` and `layers history --format html`:
// from plain data (an audit report, the runtime deprecation table, layer histories) to one
// self-contained page, filled into the shipped template (templates/report/report.html, its inline CSS
// and JS; see template.ts). Pure: no files, no clock, no network; the same input gives the same bytes.
// Every piece of data goes through escapeHtml: function names, descriptions and messages are hostile.
import {parseLayerVersionArn} from '../audit/arn.js'
import {compareText} from '../audit/catalog.js'
import {RUNTIME_WARNING_DAYS, type RuntimeDeprecation} from '../audit/findings.js'
import {SEVERITIES, type AuditReport, type Finding, type Severity, type TargetStatus} from '../audit/types.js'
import {accountLabel, formatDate, targetLabel} from '../cli/style.js'
import {formatBytes} from '../cli/table.js'
import type {LayerHistory} from '../history/store.js'

const ESCAPES: Record<string, string> = {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}

/** Text or an attribute value made safe for HTML (element content and quoted attributes alike). */
export function escapeHtml(value: string | number): string {
  return String(value).replace(/[&<>"']/g, (char) => ESCAPES[char]!)
}

/** `template` with {{title}} and {{body}} replaced in one pass (inserted text is never scanned again). */
export function fillTemplate(template: string, values: {title: string; body: string}): string {
  return template.replace(/\{\{(title|body)\}\}/g, (_match, key: 'title' | 'body') => values[key])
}

// ---------------------------------------------------------------------------------------------
// The matrix: account-regions (rows) x layers (columns)

/** How a cell is coloured, worst first. */
export type CellState = 'missing' | 'behind' | 'older' | 'current'

export interface MatrixColumn {
  /** The manifest name, or the layer's own name (owner account in `owner`) for a layer layers does not know. */
  label: string
  owner?: string
  functions: number
}

export interface MatrixCell {
  versions: Array<{version: number; functions: number}>
  functions: number
  state: CellState
  /** Functions in this cell whose layers drift from what `layers attach` would set. */
  drift: number
}

export interface MatrixRow {
  label: string
  accountId: string
  region: string
  status: TargetStatus
  functions: number
  error?: string
  /** One entry per column; undefined: no function of the target uses the layer. */
  cells: Array<MatrixCell | undefined>
}

export interface Matrix {
  columns: MatrixColumn[]
  rows: MatrixRow[]
}

const STATE_RANK: Record<CellState, number> = {missing: 0, behind: 1, older: 2, current: 3}

/**
 * The layer x account-region matrix of a report. A cell is `missing` when a version it uses no longer
 * exists, `behind` when the lock has a newer version for the target, `older` when another target runs
 * a newer version of the same layer ARN (same owner and region), else `current`.
 */
export function auditMatrix(report: AuditReport): Matrix {
  const columnKey = (arn: string, name: string | undefined): {key: string; label: string; owner?: string} => {
    if (name !== undefined) return {key: `name\0${name}`, label: name}
    const parts = parseLayerVersionArn(arn)
    return parts ? {key: `arn\0${parts.accountId}\0${parts.name}`, label: parts.name, owner: parts.accountId} : {key: `arn\0${arn}`, label: arn}
  }
  const nameOf = new Map(report.usage.map((usage) => [usage.layerArn, usage.name]))
  const newest = new Map<string, number>()
  for (const usage of report.usage) newest.set(usage.layerArn, Math.max(newest.get(usage.layerArn) ?? 0, usage.version))

  const columns = new Map<string, MatrixColumn & {index: number}>()
  const cells = new Map<string, MatrixCell & {layerArns: Set<string>}>()
  const cellKey = (column: string, accountId: string, region: string) => `${column}\0${accountId}\0${region}`
  for (const usage of report.usage) {
    const col = columnKey(usage.arn, usage.name)
    const column = columns.get(col.key) ?? {label: col.label, ...(col.owner === undefined ? {} : {owner: col.owner}), functions: 0, index: 0}
    column.functions += usage.functions
    columns.set(col.key, column)
    for (const target of usage.targets) {
      const key = cellKey(col.key, target.accountId, target.region)
      const cell = cells.get(key) ?? {versions: [], functions: 0, state: 'current' as CellState, drift: 0, layerArns: new Set<string>()}
      cell.versions.push({version: usage.version, functions: target.functions})
      cell.functions += target.functions
      cell.layerArns.add(usage.layerArn)
      if (usage.version < (newest.get(usage.layerArn) ?? 0)) cell.state = worse(cell.state, 'older')
      cells.set(key, cell)
    }
  }
  const worsen = (finding: Finding, state: CellState) => {
    if (!finding.layer) return
    const parts = parseLayerVersionArn(finding.layer)
    const col = columnKey(finding.layer, parts ? nameOf.get(parts.layerArn) : undefined)
    const cell = cells.get(cellKey(col.key, finding.accountId, finding.region))
    if (cell) cell.state = worse(cell.state, state)
  }
  const drifting = new Set<string>()
  for (const finding of report.findings) {
    if (finding.code === 'missing' && finding.severity === 'error') worsen(finding, 'missing')
    if (finding.code === 'behind') worsen(finding, 'behind')
    if (finding.code === 'drift' || finding.code === 'drift-iac') drifting.add(`${finding.accountId}\0${finding.region}\0${finding.function}`)
  }
  for (const fn of report.functions) {
    if (!drifting.has(`${fn.accountId}\0${fn.region}\0${fn.name}`)) continue
    const seen = new Set<string>()
    for (const arn of fn.layers) {
      const parts = parseLayerVersionArn(arn)
      const col = columnKey(arn, parts ? nameOf.get(parts.layerArn) : undefined)
      if (seen.has(col.key)) continue
      seen.add(col.key)
      const cell = cells.get(cellKey(col.key, fn.accountId, fn.region))
      if (cell) cell.drift++
    }
  }

  const ordered = [...columns.entries()].sort(([a, x], [b, y]) => Number(x.owner !== undefined) - Number(y.owner !== undefined) || compareText(x.label, y.label) || compareText(a, b))
  const keys = ordered.map(([key]) => key)
  const rows: MatrixRow[] = report.targets.map((target) => ({
    label: targetLabel(target),
    accountId: target.accountId,
    region: target.region,
    status: target.status,
    functions: target.functions,
    ...(target.error ? {error: `${target.error.code}: ${target.error.message}`} : {}),
    cells: keys.map((key) => {
      const cell = cells.get(cellKey(key, target.accountId, target.region))
      if (!cell) return undefined
      const {layerArns: _layerArns, ...plain} = cell
      return {...plain, versions: [...plain.versions].sort((a, b) => a.version - b.version)}
    }),
  }))
  return {columns: ordered.map(([, {index: _index, ...column}]) => column), rows}
}

function worse(a: CellState, b: CellState): CellState {
  return STATE_RANK[a] <= STATE_RANK[b] ? a : b
}

function renderMatrix(matrix: Matrix): string {
  if (matrix.rows.length === 0) return '<p class="empty">No account-region was scanned.</p>'
  const head = matrix.columns
    .map((column, index) => {
      const title = column.owner ? `${column.label}, owned by account ${column.owner}` : column.label
      return `<th class="layer c${index}" data-col="${index}" data-search="${escapeHtml(`${column.label} ${column.owner ?? ''}`)}" title="${escapeHtml(title)}">${escapeHtml(column.label)}${column.owner ? `<span class="latest mono">${escapeHtml(column.owner)}</span>` : ''}<span class="latest">${column.functions} fn</span></th>`
    })
    .join('')
  const body = matrix.rows
    .map((row) => {
      // An incomplete target shows what it could read; the label says some aliases are missing, and why.
      const incomplete = row.status === 'incomplete' ? {title: ` title="${escapeHtml(`incomplete: ${row.error ?? ''}`)}"`, note: ', incomplete'} : {title: '', note: ''}
      const label = `<th class="target" scope="row"${incomplete.title}>${escapeHtml(row.label)} <span class="count">${row.functions} fn${incomplete.note}</span></th>`
      if (row.status === 'failed') {
        return `<tr class="failed" data-search="${escapeHtml(row.label)}">${label}<td class="error" colspan="${Math.max(1, matrix.columns.length)}">not scanned: ${escapeHtml(row.error ?? 'failed')}</td></tr>`
      }
      const tds = row.cells
        .map((cell, index) => {
          if (!cell) return `<td class="c${index} cell-none">·</td>`
          const classes = [`c${index}`, `cell-${cell.state}`, ...(cell.versions.length > 1 ? ['mixed'] : []), ...(cell.drift > 0 ? ['drift'] : [])]
          const versions = cell.versions.map((entry) => `v${entry.version}`).join(' ')
          const title = `${matrix.columns[index]!.label} in ${row.label}: ${cell.versions.map((entry) => `version ${entry.version} (${entry.functions} function${entry.functions === 1 ? '' : 's'})`).join(', ')}; ${cell.state}${cell.drift > 0 ? `; ${cell.drift} drifting` : ''}`
          return `<td class="${classes.join(' ')}" data-state="${cell.state}" title="${escapeHtml(title)}">${versions}<span class="fns">${cell.functions}</span></td>`
        })
        .join('')
      return `<tr data-search="${escapeHtml(row.label)}">${label}${tds}</tr>`
    })
    .join('\n')
  return `<div class="legend"><span style="--sw: var(--current-bg)">current</span><span style="--sw: var(--older-bg)">older than elsewhere</span><span style="--sw: var(--behind-bg)">behind the lock</span><span style="--sw: var(--missing-bg)">version deleted</span><span style="--sw: #fff; --sb: var(--missing)">drift from layers attach</span><span style="--sw: repeating-linear-gradient(135deg, #fff 0 3px, #ccc 3px 4px)">several versions</span></div>
<div class="scroll"><table class="matrix"><thead><tr><th class="target">account-region <span class="count" id="matrix-count"></span></th>${head}</tr></thead>
<tbody>
${body}
</tbody></table></div>`
}

// ---------------------------------------------------------------------------------------------
// Findings, grouped by severity and code, the fix said once

export interface FindingsGroup {
  severity: Severity
  code: Finding['code']
  /** Said once for the group; per-finding commands (`layers attach ...`) sit in each row. */
  fix: string
  /** When each finding's fix carries its own command, that command per finding (same order). */
  commands?: string[]
  findings: Finding[]
}

const ATTACH_COMMAND = /`layers attach [^`]*`/g

/**
 * Findings grouped by severity and code. A group whose findings share one fix says it once; fixes that
 * differ only by their `layers attach` command are said once with the command in each row; other
 * fixes split the group, one group per fix.
 */
export function findingsGroups(findings: readonly Finding[]): FindingsGroup[] {
  const bySeverityCode = new Map<string, Finding[]>()
  for (const finding of findings) {
    const key = `${SEVERITIES.indexOf(finding.severity)}\0${finding.code}`
    bySeverityCode.set(key, [...(bySeverityCode.get(key) ?? []), finding])
  }
  const groups: FindingsGroup[] = []
  for (const key of [...bySeverityCode.keys()].sort(compareText)) {
    const members = bySeverityCode.get(key)!
    const byFix = new Map<string, Finding[]>()
    for (const finding of members) {
      const shape = finding.fix.replace(ATTACH_COMMAND, '`layers attach …`')
      byFix.set(shape, [...(byFix.get(shape) ?? []), finding])
    }
    for (const [shape, list] of [...byFix.entries()].sort(([a], [b]) => compareText(a, b))) {
      const distinct = new Set(list.map((finding) => finding.fix))
      const {severity, code} = list[0]!
      if (distinct.size === 1) groups.push({severity, code, fix: list[0]!.fix, findings: list})
      else groups.push({severity, code, fix: shape.replace('`layers attach …`', '`layers attach` with the command in each row'), commands: list.map((finding) => (finding.fix.match(ATTACH_COMMAND) ?? []).map((command) => command.slice(1, -1)).join('; ')), findings: list})
    }
  }
  return groups
}

function renderCode(text: string): string {
  // `code` spans of our own fix texts become <code>; everything is escaped first.
  return escapeHtml(text).replace(/`([^`]+)`/g, '<code>$1</code>')
}

function renderFindings(report: AuditReport): string {
  if (report.findings.length === 0) return '<p class="empty">No findings.</p>'
  const names = new Map(report.targets.map((target) => [`${target.accountId}/${target.region}`, targetLabel(target)]))
  return findingsGroups(report.findings)
    .map((group, index) => {
      const rows = group.findings
        .map((finding, row) => {
          const where = names.get(`${finding.accountId}/${finding.region}`) ?? `${finding.accountId} ${finding.region}`
          const command = group.commands ? `<td><code>${escapeHtml(group.commands[row] ?? '')}</code></td>` : ''
          const search = [where, finding.function, finding.alias ?? '', finding.layer ?? '', finding.message, finding.code].join(' ')
          return `<tr data-search="${escapeHtml(search)}"><td>${escapeHtml(where)}</td><td class="mono">${escapeHtml(finding.alias === undefined ? finding.function : `${finding.function}:${finding.alias}`)}</td><td>${renderCode(finding.message)}</td>${command}</tr>`
        })
        .join('\n')
      // Errors open, the rest collapsed: a long list of notes does not bury the errors.
      return `<details class="group" data-filter data-code="${escapeHtml(group.code)}" data-severity="${group.severity}"${group.severity === 'error' || index === 0 ? ' open' : ''}>
<summary><span class="sev sev-${group.severity}">${group.severity}</span><span class="code">${escapeHtml(group.code)}</span><span class="count">${group.findings.length}</span></summary>
<div class="fix"><b>Fix:</b> ${renderCode(group.fix)}</div>
<div class="scroll"><table><thead><tr><th>account-region</th><th>function</th><th>finding</th>${group.commands ? '<th>command</th>' : ''}</tr></thead>
<tbody>
${rows}
</tbody></table></div>
</details>`
    })
    .join('\n')
}

// ---------------------------------------------------------------------------------------------
// Runtime deprecations across the fleet

export interface RuntimeUse {
  runtime: string
  /** YYYY-MM-DD; absent: AWS announced none. */
  deprecated?: string
  functions: number
  targets: number
  /** deprecated: on or before `now`; soon: within RUNTIME_WARNING_DAYS; later; none: no date. */
  state: 'deprecated' | 'soon' | 'later' | 'none'
}

const DAY_MS = 86_400_000

/** The runtimes the fleet's functions run, with their deprecation dates, soonest first. */
export function runtimeUses(report: AuditReport, table: readonly RuntimeDeprecation[], now: string): RuntimeUse[] {
  const dates = new Map(table.map((entry) => [entry.runtime, entry.deprecated]))
  const uses = new Map<string, {functions: number; targets: Set<string>}>()
  for (const fn of report.functions) {
    if (!fn.runtime) continue
    const use = uses.get(fn.runtime) ?? {functions: 0, targets: new Set<string>()}
    use.functions++
    use.targets.add(`${fn.accountId}/${fn.region}`)
    uses.set(fn.runtime, use)
  }
  return [...uses.entries()]
    .map(([runtime, use]): RuntimeUse => {
      const deprecated = dates.get(runtime)
      const days = deprecated === undefined ? undefined : Math.ceil((Date.parse(`${deprecated}T00:00:00Z`) - Date.parse(now)) / DAY_MS)
      const state = days === undefined ? 'none' : days <= 0 ? 'deprecated' : days <= RUNTIME_WARNING_DAYS ? 'soon' : 'later'
      return {runtime, ...(deprecated === undefined ? {} : {deprecated}), functions: use.functions, targets: use.targets.size, state}
    })
    .sort((a, b) => compareText(a.deprecated ?? '9999', b.deprecated ?? '9999') || compareText(a.runtime, b.runtime))
}

function renderTimeline(uses: RuntimeUse[], now: string): string {
  if (uses.length === 0) return '<p class="empty">No function with a managed runtime (container images have none).</p>'
  const dated = uses.filter((use) => use.deprecated !== undefined)
  const undated = uses.filter((use) => use.deprecated === undefined)
  const parts: string[] = []
  if (dated.length > 0) {
    const times = [...dated.map((use) => Date.parse(`${use.deprecated}T00:00:00Z`)), Date.parse(now)]
    const from = Date.UTC(new Date(Math.min(...times)).getUTCFullYear(), 0, 1)
    const to = Date.UTC(new Date(Math.max(...times)).getUTCFullYear() + 1, 0, 1)
    const [left, width, rowHeight, top] = [170, 760, 26, 28]
    const x = (time: number) => left + ((time - from) / (to - from)) * width
    const height = top + dated.length * rowHeight + 10
    const ticks: string[] = []
    for (let year = new Date(from).getUTCFullYear(); year <= new Date(to).getUTCFullYear(); year++) {
      const at = x(Date.UTC(year, 0, 1)).toFixed(1)
      ticks.push(`<line x1="${at}" y1="${top - 8}" x2="${at}" y2="${height - 6}" stroke="#dde2ea"/><text x="${at}" y="${top - 12}" font-size="11" fill="#5d6b7e" text-anchor="middle">${year}</text>`)
    }
    const nowAt = x(Date.parse(now)).toFixed(1)
    const rows = dated.map((use, index) => {
      const y = top + index * rowHeight + rowHeight / 2
      const at = x(Date.parse(`${use.deprecated}T00:00:00Z`)).toFixed(1)
      const label = `${use.functions} function${use.functions === 1 ? '' : 's'} in ${use.targets} account-region${use.targets === 1 ? '' : 's'}`
      const anchor = Number(at) > left + width * 0.7 ? 'end' : 'start'
      const dx = anchor === 'end' ? -10 : 10
      return `<g class="runtime ${use.state}" data-runtime="${escapeHtml(use.runtime)}"><title>${escapeHtml(`${use.runtime}: deprecated ${use.deprecated}; ${label}`)}</title><text x="${left - 10}" y="${y + 4}" font-size="12" text-anchor="end" fill="#1d2430">${escapeHtml(use.runtime)}</text><line x1="${left}" y1="${y}" x2="${left + width}" y2="${y}" stroke="#eef1f5"/><circle class="${use.state}" cx="${at}" cy="${y}" r="${Math.min(11, 4 + Math.sqrt(use.functions))}"/><text x="${Number(at) + dx}" y="${y + 4}" font-size="11" fill="#5d6b7e" text-anchor="${anchor}">${escapeHtml(`${use.deprecated} · ${label}`)}</text></g>`
    })
    parts.push(
      `<svg class="timeline" role="img" aria-label="Runtime deprecation dates" viewBox="0 0 ${left + width + 20} ${height}" width="100%" style="max-width: ${left + width + 20}px">${ticks.join('')}${rows.join('')}<line x1="${nowAt}" y1="${top - 8}" x2="${nowAt}" y2="${height - 6}" stroke="#2f5fb3" stroke-width="2" stroke-dasharray="4 3"/><text x="${nowAt}" y="${height - 0}" font-size="10" fill="#2f5fb3" text-anchor="middle">audit ${escapeHtml(now.slice(0, 10))}</text></svg>`,
      '<div class="legend"><span style="--sw: var(--missing)">deprecated</span><span style="--sw: var(--behind)">within 180 days</span><span style="--sw: var(--current)">later</span></div>',
    )
  }
  if (undated.length > 0) {
    parts.push(`<p class="muted">No deprecation date announced: ${undated.map((use) => `${escapeHtml(use.runtime)} (${use.functions})`).join(', ')}.</p>`)
  }
  return parts.join('\n')
}

// ---------------------------------------------------------------------------------------------
// A layer's versions over time (from the history)

const VERSION_COLORS = ['#2f5fb3', '#2f9e62', '#c3570c', '#8a4fbf', '#c62839', '#0f8a8a', '#a77a00', '#5d6b7e']

function renderVersionsOverTime(history: LayerHistory, names: ReadonlyMap<string, string>): string {
  const parts: string[] = []
  if (history.usage.length === 0) {
    parts.push('<p class="empty">No saved audit saw it in use.</p>')
  } else {
    const versions = [...new Set(history.usage.flatMap((run) => run.versions.map((entry) => entry.version)))].sort((a, b) => a - b)
    const color = (version: number) => VERSION_COLORS[(versions.length - 1 - versions.indexOf(version)) % VERSION_COLORS.length]!
    const totals = history.usage.map((run) => run.versions.reduce((sum, entry) => sum + entry.functions, 0))
    const max = Math.max(1, ...totals)
    const [left, chartHeight, top, bar, gap] = [40, 140, 10, 28, 14]
    const width = left + history.usage.length * (bar + gap) + 10
    const bars = history.usage.map((run, index) => {
      let y = top + chartHeight
      const x = left + index * (bar + gap) + gap / 2
      const segments = [...run.versions].sort((a, b) => a.version - b.version).map((entry) => {
        const h = (entry.functions / max) * chartHeight
        y -= h
        return `<rect x="${x}" y="${y.toFixed(1)}" width="${bar}" height="${h.toFixed(1)}" fill="${color(entry.version)}"><title>${escapeHtml(`run #${run.runId} ${formatDate(run.startedAt)}: version ${entry.version}, ${entry.functions} functions in ${entry.targets} account-regions`)}</title></rect>`
      })
      return `<g class="run" data-run="${run.runId}">${segments.join('')}<text x="${x + bar / 2}" y="${top + chartHeight + 14}" font-size="10" text-anchor="middle" fill="#5d6b7e">#${run.runId}</text><text x="${x + bar / 2}" y="${top + chartHeight + 26}" font-size="9" text-anchor="middle" fill="#5d6b7e">${escapeHtml(run.startedAt.slice(5, 10))}</text></g>`
    })
    parts.push(
      `<svg class="versions" role="img" aria-label="Functions per version in each saved audit" viewBox="0 0 ${width} ${top + chartHeight + 32}" width="${width}" style="max-width: 100%"><line x1="${left}" y1="${top}" x2="${left}" y2="${top + chartHeight}" stroke="#dde2ea"/><text x="${left - 6}" y="${top + 10}" font-size="10" text-anchor="end" fill="#5d6b7e">${max}</text><text x="${left - 6}" y="${top + chartHeight}" font-size="10" text-anchor="end" fill="#5d6b7e">0</text>${bars.join('')}</svg>`,
      `<div class="legend">${[...versions].reverse().map((version) => `<span style="--sw: ${color(version)}">v${version}</span>`).join('')}<span class="muted">functions per version, per saved audit</span></div>`,
    )
  }
  const table = (caption: string, head: string[], rows: Array<Array<string | number>>) =>
    rows.length === 0
      ? ''
      : `<details class="group" data-filter><summary><span class="code">${escapeHtml(caption)}</span><span class="count">${rows.length}</span></summary><div class="scroll"><table><thead><tr>${head.map((cell) => `<th>${escapeHtml(cell)}</th>`).join('')}</tr></thead><tbody>
${rows.map((row) => `<tr data-search="${escapeHtml(row.join(' '))}">${row.map((cell) => `<td>${escapeHtml(cell)}</td>`).join('')}</tr>`).join('\n')}
</tbody></table></div></details>`
  const account = (accountId: string) => accountLabel(accountId, names.get(accountId))
  parts.push(
    table('Publications', ['published', 'account', 'region', 'artifact', 'version'], history.publications.map((entry) => [formatDate(entry.publishedAt), account(entry.accountId), entry.region, entry.artifact, entry.version])),
    table('Attached to functions', ['attached', 'account', 'region', 'function', 'version'], history.attaches.map((entry) => [formatDate(entry.at), account(entry.accountId), entry.region, entry.function, entry.version])),
    table('Grant changes', ['changed', 'account', 'region', 'version', 'added', 'removed'], history.grants.map((entry) => [formatDate(entry.at), account(entry.accountId), entry.region, entry.version, entry.added.join(', ') || '-', entry.removed.join(', ') || '-'])),
    table('Pruned versions', ['deleted', 'account', 'region', 'version', 'size'], history.prunes.map((entry) => [formatDate(entry.deletedAt), account(entry.accountId), entry.region, entry.version, formatBytes(entry.codeSize)])),
    table('Audit summaries (shared)', ['audited', 'host', 'run', 'account', 'region', 'functions', 'findings', 'versions'], history.audits.map((entry) => [formatDate(entry.at), entry.host, `#${entry.runId}`, account(entry.accountId), entry.region, entry.functions, entry.findings, entry.versions.map((item) => `${item.version} (${item.functions})`).join(', ')])),
  )
  return parts.filter((part) => part !== '').join('\n')
}

// ---------------------------------------------------------------------------------------------
// Pages

function card(value: number, label: string, tone = ''): string {
  return `<div class="card ${tone}"><span class="n">${value}</span><span class="l">${escapeHtml(label)}</span></div>`
}

function panel(id: string, title: string, sub: string, body: string): string {
  return `<section class="panel" id="${id}"><h2>${escapeHtml(title)}<span class="sub">${escapeHtml(sub)}</span></h2>
${body}
</section>`
}

export interface AuditHtmlInput {
  report: AuditReport
  /** The runtime deprecation table (src/manifest/runtimes.ts). */
  runtimes: readonly RuntimeDeprecation[]
  /** Versions over time of the report's manifest layers, from the saved runs (none: not shown). */
  histories?: readonly LayerHistory[]
}

/** The audit report as one self-contained HTML page (`template`: templates/report/report.html). */
export function renderAuditHtml(input: AuditHtmlInput, template: string): string {
  const {report} = input
  const {summary} = report
  const names = new Map(report.targets.filter((target) => target.accountName).map((target) => [target.accountId, target.accountName!]))
  const matrix = auditMatrix(report)
  const sections = [
    `<p class="muted">Audit ${report.runId === undefined ? '' : `#${report.runId} `}from ${escapeHtml(formatDate(report.startedAt))} to ${escapeHtml(formatDate(report.finishedAt))}.</p>`,
    `<div class="cards">${card(summary.targets, 'account-regions')}${card(summary.failedTargets, 'not scanned', summary.failedTargets > 0 ? 'failed' : '')}${card(summary.functions, 'functions')}${card(matrix.columns.length, 'layers')}${card(summary.findings.error, 'errors', 'error')}${card(summary.findings.warning, 'warnings', 'warning')}${card(summary.findings.info, 'notes', 'info')}</div>`,
    panel('matrix', 'Layers × account-regions', 'versions in use, coloured by how far behind they are', renderMatrix(matrix)),
    panel('findings', 'Findings', `${report.findings.length} in ${findingsGroups(report.findings).length} groups`, renderFindings(report)),
    panel('runtimes', 'Runtime deprecations', 'the runtimes the fleet runs and when AWS deprecates them', renderTimeline(runtimeUses(report, input.runtimes, report.startedAt), report.startedAt)),
  ]
  for (const history of input.histories ?? []) {
    sections.push(panel(`history-${escapeHtml(history.layer)}`, `Versions of ${history.layer} over time`, `${history.usage.length} saved audits`, renderVersionsOverTime(history, names)))
  }
  return fillTemplate(template, {title: 'Layers audit', body: sections.join('\n')})
}

/** `layers history LAYER` as one self-contained HTML page. */
export function renderHistoryHtml(history: LayerHistory, accountNames: ReadonlyMap<string, string>, template: string): string {
  const body = panel('history', `Versions of ${history.layer} over time`, `${history.usage.length} saved audits, ${history.publications.length} publications`, renderVersionsOverTime(history, accountNames))
  return fillTemplate(template, {title: escapeHtml(`Layer history: ${history.layer}`), body})
}
