// Owns the human view of `layers prune`: what would go (or went), the storage freed, what is kept and
// why; and the message of an interrupted prune (the versions deleted and those not deleted).
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
      ? `${listed.length} version(s), ${formatBytes(result.freedBytes)} would be freed. Dry run: run again with --yes to delete them.`
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
