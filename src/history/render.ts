// Owns the human view of `layers history LAYER`: publications, then usage per audit run, then prunes,
// then what the shared history adds (grant changes, attaches, audit summaries of every clone).
import {formatBytes, renderTable} from '../cli/table.js'
import type {LayerHistory} from './store.js'

export function renderLayerHistory(history: LayerHistory): string {
  const parts: string[] = []
  parts.push(`Publications of ${history.layer}`)
  parts.push(
    history.publications.length === 0
      ? '  none recorded here (layers publish records them)'
      : renderTable(
          ['published', 'account', 'region', 'artifact', 'version', 'arn'],
          history.publications.map((entry) => [entry.publishedAt, entry.accountId, entry.region, entry.artifact, entry.version, entry.arn]),
          {alignRight: [4]},
        ),
    '',
  )
  parts.push('Usage by audit run')
  parts.push(
    history.usage.length === 0
      ? '  no saved audit saw it in use (run layers audit)'
      : renderTable(
          ['run', 'audited', 'version', 'functions', 'targets'],
          history.usage.flatMap((run) => run.versions.map((entry) => [`#${run.runId}`, run.startedAt, entry.version, entry.functions, entry.targets])),
          {alignRight: [2, 3, 4]},
        ),
    '',
  )
  if (history.prunes.length > 0) {
    parts.push(
      'Pruned versions',
      renderTable(
        ['deleted', 'account', 'region', 'version', 'size'],
        history.prunes.map((entry) => [entry.deletedAt, entry.accountId, entry.region, entry.version, formatBytes(entry.codeSize)]),
        {alignRight: [3, 4]},
      ),
      '',
    )
  }
  if (history.grants.length > 0) {
    parts.push(
      'Grant changes',
      renderTable(
        ['changed', 'account', 'region', 'version', 'added', 'removed'],
        history.grants.map((entry) => [entry.at, entry.accountId, entry.region, entry.version, entry.added.join(', ') || '-', entry.removed.join(', ') || '-']),
        {alignRight: [3]},
      ),
      '',
    )
  }
  if (history.attaches.length > 0) {
    parts.push(
      'Attached to functions',
      renderTable(
        ['attached', 'account', 'region', 'function', 'version'],
        history.attaches.map((entry) => [entry.at, entry.accountId, entry.region, entry.function, entry.version]),
        {alignRight: [4]},
      ),
      '',
    )
  }
  if (history.audits.length > 0) {
    parts.push(
      'Audit summaries (shared)',
      renderTable(
        ['audited', 'host', 'run', 'account', 'region', 'functions', 'findings', 'versions'],
        history.audits.map((entry) => [entry.at, entry.host, `#${entry.runId}`, entry.accountId, entry.region, entry.functions, entry.findings, entry.versions.map((item) => `${item.version} (${item.functions})`).join(', ')]),
        {alignRight: [5, 6]},
      ),
      '',
    )
  }
  return parts.join('\n')
}
