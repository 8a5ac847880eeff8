// Owns the human view of `layers prune`: what would go (or went), the storage freed, what is kept and
// why; the plan prune asks about before deleting; and the message of an interrupted prune (the
// versions deleted and those not deleted).
import type {ConfirmRequest} from '../cli/confirm.js'
import {renderFailures} from '../cli/failures.js'
import {accountLabel, formatDate, paint, stdoutStyle, targetLabel} from '../cli/style.js'
import {formatBytes, renderTable} from '../cli/table.js'
import type {InterruptSignal} from '../errors/index.js'
import type {PrunedVersion, PruneResult} from './run.js'

export function renderPrune(result: PruneResult, accountNames: ReadonlyMap<string, string> = new Map()): string {
  const {color} = stdoutStyle()
  const account = (accountId: string) => accountLabel(accountId, accountNames.get(accountId))
  const parts: string[] = [`Audit #${result.audit.runId} (${formatDate(result.audit.startedAt)}${result.audit.reused ? ', saved run' : ', fresh'})`, '']
  const listed = result.dryRun ? result.candidates : result.deleted
  parts.push(paint('strong', result.dryRun ? 'Would delete' : 'Deleted', color))
  parts.push(
    listed.length === 0
      ? '  nothing'
      : renderTable(
          [{header: 'layer', wrap: 10}, {header: 'account', wrap: 14}, 'region', {header: 'version', align: 'right'}, {header: 'created', wrap: 10, drop: 1}, {header: 'size', align: 'right'}],
          listed.map((entry) => [entry.layer, account(entry.accountId), entry.region, entry.version, formatDate(entry.createdDate), formatBytes(entry.codeSize)]),
        ),
    '',
  )
  if (result.kept.length > 0) {
    parts.push(
      paint('strong', 'Kept', color),
      renderTable(
        [{header: 'layer', wrap: 10}, {header: 'account', wrap: 14}, 'region', {header: 'version', align: 'right'}, {header: 'why', wrap: 20}],
        result.kept.map((entry) => [entry.layer, account(entry.accountId), entry.region, entry.version, entry.detail]),
      ),
      '',
    )
  }
  if (result.failures.length > 0) {
    parts.push(
      paint('bad', 'Failed', color),
      ...renderFailures(
        result.failures.map((entry) => ({
          where: `${entry.arn ?? entry.layer ?? 'listing'} ${targetLabel({accountId: entry.accountId, accountName: accountNames.get(entry.accountId), region: entry.region})}`,
          names: [entry.accountId, accountNames.get(entry.accountId) ?? '', entry.region, entry.arn ?? '', entry.layer ?? ''],
          error: entry.error,
        })),
        color,
      ),
      '',
    )
  }
  parts.push(
    result.dryRun
      ? `${listed.length} version(s), ${formatBytes(result.freedBytes)} would be freed; nothing was deleted (run again with --yes to delete them without asking).`
      : `${listed.length} version(s) deleted, ${formatBytes(result.freedBytes)} freed.`,
  )
  return parts.join('\n') + '\n'
}

export function renderPruneInterrupted(signal: InterruptSignal, deleted: readonly PrunedVersion[], notDeleted: readonly PrunedVersion[]): string {
  const lines = [`prune interrupted by ${signal}: ${deleted.length} version(s) deleted (recorded in the history), ${notDeleted.length} candidate(s) not deleted.`]
  for (const entry of deleted) lines.push(`  deleted: ${entry.arn}`)
  for (const entry of notDeleted) lines.push(`  not deleted: ${entry.arn}`)
  return lines.join('\n')
}

/** What prune asks before deleting `candidates` (at least one); `failures` are the listings and reads that failed (their versions are kept). */
export function pruneConfirmation(candidates: readonly PrunedVersion[], failures: PruneResult['failures']): ConfirmRequest {
  const bytes = candidates.reduce((sum, entry) => sum + entry.codeSize, 0)
  const failed = failures.length > 0 ? ` (${failures.length} listing(s) or read(s) failed: what they would have found is kept)` : ''
  return {
    plan: `layers prune would delete ${candidates.length} layer version(s), freeing ${formatBytes(bytes)}${failed}:`,
    items: candidates.map((entry) => `${entry.arn} (created ${entry.createdDate}, ${formatBytes(entry.codeSize)})`),
    question: `Delete ${candidates.length === 1 ? 'it' : `these ${candidates.length} versions`}?`,
    notDone: 'nothing was deleted',
    details: {candidates: candidates.map((entry) => entry.arn), freedBytes: bytes, ...(failures.length > 0 ? {failures} : {})},
  }
}
