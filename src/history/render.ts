// Owns the human view of `layers history LAYER`: publications, then usage per audit run, then prunes,
// then what the shared history adds (grant changes, attaches, audit summaries of every clone).
import {accountLabel, formatDate} from '../cli/style.js'
import {formatBytes, renderTable} from '../cli/table.js'
import type {LayerHistory} from './store.js'

// Dates never wrap (ISO 8601, 20 columns); at 80 columns the ARN of a publication (its account,
// region and version are shown) and the host and run of a shared audit summary give way.
export function renderLayerHistory(history: LayerHistory, accountNames: ReadonlyMap<string, string> = new Map()): string {
  const account = (accountId: string) => accountLabel(accountId, accountNames.get(accountId))
  const accountColumn = {header: 'account', wrap: 14}
  const parts: string[] = []
  parts.push(`Publications of ${history.layer}`)
  parts.push(
    history.publications.length === 0
      ? '  none recorded here (layers publish records them)'
      : renderTable(
          ['published', accountColumn, 'region', {header: 'artifact', wrap: 6}, {header: 'version', align: 'right'}, {header: 'arn', wrap: 24, drop: 1}],
          history.publications.map((entry) => [formatDate(entry.publishedAt), account(entry.accountId), entry.region, entry.artifact, entry.version, entry.arn]),
        ),
    '',
  )
  parts.push('Usage by audit run')
  parts.push(
    history.usage.length === 0
      ? '  no saved audit saw it in use (run layers audit)'
      : renderTable(
          ['run', 'audited', {header: 'version', align: 'right'}, {header: 'functions', align: 'right'}, {header: 'targets', align: 'right'}],
          history.usage.flatMap((run) => run.versions.map((entry) => [`#${run.runId}`, formatDate(run.startedAt), entry.version, entry.functions, entry.targets])),
        ),
    '',
  )
  if (history.prunes.length > 0) {
    parts.push(
      'Pruned versions',
      renderTable(
        ['deleted', accountColumn, 'region', {header: 'version', align: 'right'}, {header: 'size', align: 'right'}],
        history.prunes.map((entry) => [formatDate(entry.deletedAt), account(entry.accountId), entry.region, entry.version, formatBytes(entry.codeSize)]),
      ),
      '',
    )
  }
  if (history.grants.length > 0) {
    parts.push(
      'Grant changes',
      renderTable(
        ['changed', accountColumn, 'region', {header: 'version', align: 'right'}, {header: 'added', wrap: 8}, {header: 'removed', wrap: 8}],
        history.grants.map((entry) => [formatDate(entry.at), account(entry.accountId), entry.region, entry.version, entry.added.join(', ') || '-', entry.removed.join(', ') || '-']),
      ),
      '',
    )
  }
  if (history.attaches.length > 0) {
    parts.push(
      'Attached to functions',
      renderTable(
        ['attached', accountColumn, 'region', {header: 'function', wrap: 10}, {header: 'version', align: 'right'}],
        history.attaches.map((entry) => [formatDate(entry.at), account(entry.accountId), entry.region, entry.function, entry.version]),
      ),
      '',
    )
  }
  if (history.audits.length > 0) {
    parts.push(
      'Audit summaries (shared)',
      renderTable(
        ['audited', {header: 'host', wrap: 8, drop: 1}, {header: 'run', drop: 2}, accountColumn, 'region', {header: 'functions', align: 'right'}, {header: 'findings', align: 'right'}, {header: 'versions', wrap: 8}],
        history.audits.map((entry) => [formatDate(entry.at), entry.host, `#${entry.runId}`, account(entry.accountId), entry.region, entry.functions, entry.findings, entry.versions.map((item) => `${item.version} (${item.functions})`).join(', ')]),
      ),
      '',
    )
  }
  return parts.join('\n')
}
