// Owns the human output of the SSM side of publish and promote: one row per parameter written (or to
// be written), failed or stale (unchanged ones are only counted), failures with their hints, and a
// summary line; and `layers promote`'s moves.
import {renderFailures} from '../cli/failures.js'
import {accountLabel, paint, stdoutStyle, targetLabel, toneOf} from '../cli/style.js'
import {renderTable} from '../cli/table.js'
import type {PromoteResult} from './promote.js'
import type {SsmSyncResult} from './sync.js'

export function renderParameters(result: SsmSyncResult, dryRun: boolean, color: boolean): string[] {
  const lines: string[] = []
  const rows = [
    ...result.parameters.filter((parameter) => parameter.status !== 'unchanged').map((parameter) => [parameter.name, accountLabel(parameter.accountId, parameter.accountName), parameter.region, parameter.status, parameter.value]),
    ...result.stale.map((entry) => [entry.name, accountLabel(entry.accountId, entry.accountName), entry.region, entry.status === 'failed' ? 'failed' : `stale, ${entry.status}`, entry.value]),
  ]
  if (rows.length > 0) lines.push('', renderTable([{header: 'SSM parameter', wrap: 24}, {header: 'Account', wrap: 14}, 'Region', {header: 'Outcome', tone: toneOf}, {header: 'Value', wrap: 24, drop: 1}], rows))
  const failures = renderFailures(
    [
      ...result.parameters.filter((parameter) => parameter.error).map((parameter) => ({where: `${parameter.name} ${targetLabel(parameter)}`, names: [parameter.accountId, parameter.accountName, parameter.region], error: parameter.error!})),
      ...result.stale.filter((entry) => entry.error).map((entry) => ({where: `${entry.name} ${targetLabel(entry)}`, names: [entry.accountId, entry.accountName, entry.region], error: entry.error!})),
    ],
    color,
  )
  if (failures.length > 0) lines.push('', ...failures)
  const s = result.summary
  const kept = result.stale.filter((entry) => entry.status === 'kept').length
  const stale = s.stale > 0 ? `, stale ${s.stale} (${kept > 0 ? `kept ${kept}: \`layers publish --prune-parameters\` removes them` : `${dryRun ? 'would remove' : 'removed'} ${s.removed}`})` : ''
  lines.push('', `SSM parameters: ${s.parameters}, ${dryRun ? 'would write' : 'written'} ${s.written}, unchanged ${s.unchanged}${stale}, failed ${s.failed > 0 ? paint('bad', String(s.failed), color) : s.failed}.`)
  return lines
}

/** `layers promote`: one row per account, region and artifact, then the SSM parameters. */
export function renderPromote(result: PromoteResult): string {
  const {color} = stdoutStyle()
  const lines = [
    renderTable(
      [{header: 'Account', wrap: 14}, 'Region', 'Artifact', {header: 'Outcome', tone: toneOf}, {header: 'Version', align: 'right'}, {header: 'Before', align: 'right'}],
      result.moves.map((move) => [accountLabel(move.accountId, move.accountName), move.region, move.artifact, move.status, move.version, move.previousVersion ?? '-']),
    ),
  ]
  const moved = result.moves.filter((move) => move.status !== 'unchanged').length
  lines.push('', `${result.dryRun ? 'Dry run: would move' : 'Moved'} channel ${result.to} of ${result.layer} to ${result.from}'s version in ${moved} of ${result.moves.length} account/region/artifact(s).`)
  if (result.parameters) lines.push(...renderParameters(result.parameters, result.dryRun, color))
  return lines.join('\n')
}
