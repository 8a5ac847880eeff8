// Owns the human view of `layers outdated`: npm and pip dependencies as `npm outdated` lists them
// (a pip requirement without a specifier shows `*`), then arn layers per target.
import {renderFailures} from '../cli/failures.js'
import {accountLabel, stdoutStyle, targetLabel} from '../cli/style.js'
import {renderTable} from '../cli/table.js'
import type {OutdatedResult} from './run.js'

export function renderOutdated(result: OutdatedResult, all: boolean, accountNames: ReadonlyMap<string, string> = new Map()): string {
  const parts: string[] = []
  const npm = result.rows.filter((row) => row.kind !== 'arn' && (all || row.outdated))
  const arn = result.rows.filter((row) => row.kind === 'arn' && (all || row.outdated || row.error))
  if (npm.length > 0) {
    parts.push(
      renderTable(
        [{header: 'layer', wrap: 10}, {header: 'package', wrap: 14}, {header: 'spec', wrap: 8}, {header: 'locked', wrap: 8}, {header: 'wanted', wrap: 8}, {header: 'latest', wrap: 8}],
        npm.map((row) => (row.kind === 'arn' ? [] : [row.layer, row.package, row.spec || (row.kind === 'pip' ? '*' : ''), row.locked.join(', ') || 'not locked', row.wanted, row.latest])),
      ),
      '',
    )
  }
  if (arn.length > 0) {
    parts.push(
      renderTable(
        [{header: 'layer', wrap: 10}, {header: 'account', wrap: 14}, 'region', {header: 'locked', align: 'right'}, {header: 'newest readable', wrap: 8}],
        arn.map((row) => (row.kind === 'arn' ? [row.layer, accountLabel(row.accountId, accountNames.get(row.accountId)), row.region, row.lockedVersion, row.error ? `unknown (${row.error})` : row.latestVersion] : [])),
      ),
      '',
    )
  }
  const failures = renderFailures(
    result.errors.map((error) => ({
      where: `${error.layer}${error.package ? ` ${error.package}` : ''}${error.accountId ? ` ${targetLabel({accountId: error.accountId, accountName: accountNames.get(error.accountId), region: error.region ?? ''})}` : ''}`,
      names: [error.accountId ?? '', accountNames.get(error.accountId ?? '') ?? '', error.region ?? '', error.layer, error.package ?? ''],
      error,
    })),
    stdoutStyle().color,
  )
  parts.push(...failures)
  const outdated = result.rows.filter((row) => row.outdated).length
  parts.push(outdated === 0 ? 'Everything is up to date.' : `${outdated} outdated.`)
  return parts.join('\n') + '\n'
}
