// Owns the human view of `layers outdated`: npm dependencies as `npm outdated` lists them, then arn
// layers per target.
import {renderTable} from '../cli/table.js'
import type {OutdatedResult} from './run.js'

export function renderOutdated(result: OutdatedResult, all: boolean): string {
  const parts: string[] = []
  const npm = result.rows.filter((row) => row.kind === 'npm' && (all || row.outdated))
  const arn = result.rows.filter((row) => row.kind === 'arn' && (all || row.outdated || row.error))
  if (npm.length > 0) {
    parts.push(
      renderTable(
        ['layer', 'package', 'spec', 'locked', 'wanted', 'latest'],
        npm.map((row) => (row.kind === 'npm' ? [row.layer, row.package, row.spec, row.locked.join(', ') || 'not locked', row.wanted, row.latest] : [])),
      ),
      '',
    )
  }
  if (arn.length > 0) {
    parts.push(
      renderTable(
        ['layer', 'account', 'region', 'locked', 'newest readable'],
        arn.map((row) => (row.kind === 'arn' ? [row.layer, row.accountId, row.region, row.lockedVersion, row.error ? `unknown (${row.error})` : row.latestVersion] : [])),
        {alignRight: [3]},
      ),
      '',
    )
  }
  for (const error of result.errors) parts.push(`error ${error.code} ${error.layer}${error.package ? ` ${error.package}` : ''}${error.accountId ? ` ${error.accountId}/${error.region}` : ''}: ${error.message}`)
  const outdated = result.rows.filter((row) => row.outdated).length
  parts.push(outdated === 0 ? 'Everything is up to date.' : `${outdated} outdated.`)
  return parts.join('\n') + '\n'
}
