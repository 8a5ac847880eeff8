// Owns the human output of `layers publish`: one row per artifact and target (and per pinned ARN
// checked), then a summary line; failures carry their code, message and hint. Also the message of an
// interrupted publish: the versions published or adopted (with their ARNs) and the units not started;
// and the plan publish asks about before removing grants. The SSM parameters follow (src/ssm/render.ts).
import type {ConfirmRequest} from '../cli/confirm.js'
import {renderFailures} from '../cli/failures.js'
import {accountLabel, paint, stdoutStyle, targetLabel, toneOf} from '../cli/style.js'
import {renderTable} from '../cli/table.js'
import type {InterruptSignal} from '../errors/index.js'
import {renderParameters} from '../ssm/render.js'
import type {GrantRemoval, PublishResult, UnitOutcome} from './run.js'

export function renderPublish(result: PublishResult): string {
  if (result.units.length === 0 && result.arnChecks.length === 0) return 'Nothing to publish: no selected layer has a target (account and region).'
  const {color} = stdoutStyle()
  const lines: string[] = []
  if (result.units.length > 0) {
    lines.push(
      renderTable(
        [
          {header: 'Layer', wrap: 10},
          {header: 'Artifact', wrap: 6},
          'Account',
          'Region',
          {header: 'Outcome', tone: toneOf},
          {header: 'Version', align: 'right'},
          {header: 'Upload', wrap: 8, drop: 1},
          {header: 'Grants', wrap: 10},
        ],
        result.units.map((unit) => [
          unit.layer,
          unit.artifact,
          accountLabel(unit.accountId, unit.accountName),
          unit.region,
          unit.status,
          unit.version,
          unit.upload + (unit.bucketCreated ? (result.dryRun ? ' (would create bucket)' : ' (bucket created)') : ''),
          grants(unit.grantsAdded, unit.grantsRemoved),
        ]),
      ),
    )
  }
  if (result.arnChecks.length > 0) {
    lines.push(
      '',
      renderTable(
        [{header: 'ARN layer', wrap: 10}, {header: 'Account', wrap: 14}, 'Region', {header: 'Pinned', wrap: 20}, {header: 'Check', tone: toneOf}],
        result.arnChecks.map((check) => [check.layer, accountLabel(check.accountId, check.accountName), check.region, check.arn, check.status]),
      ),
    )
  }
  const failures = renderFailures(
    [
      ...result.units.filter((unit) => unit.error).map((unit) => ({where: `${unit.layer} (${unit.artifact}) ${targetLabel(unit)}`, names: [unit.accountId, unit.accountName, unit.region], error: unit.error!})),
      ...result.arnChecks.filter((check) => check.error).map((check) => ({where: `${check.layer} ${targetLabel(check)}`, names: [check.accountId, check.accountName, check.region], error: check.error!})),
    ],
    color,
  )
  if (failures.length > 0) lines.push('', ...failures)
  const s = result.summary
  lines.push(
    '',
    `${result.dryRun ? 'Dry run: would publish' : 'Published'} ${s.published}, adopted ${s.adopted}, unchanged ${s.unchanged}, ${result.dryRun ? 'would upload' : 'uploaded'} ${s.uploaded}, grant changes ${s.grantChanges}, failed ${s.failed > 0 ? paint('bad', String(s.failed), color) : s.failed}.`,
  )
  if (result.parameters) lines.push(...renderParameters(result.parameters, result.dryRun, color))
  return lines.join('\n')
}

function grants(added: string[], removed: string[]): string {
  if (added.length === 0 && removed.length === 0) return '-'
  return [...added.map((sid) => `+${sid}`), ...removed.map((sid) => `-${sid}`)].join(' ')
}

export function renderPublishInterrupted(signal: InterruptSignal, result: PublishResult, arnChecksSkipped: number): string {
  const where = (unit: UnitOutcome) => `${unit.layer} (${unit.artifact}) ${unit.accountName}/${unit.region}`
  const of = (...statuses: UnitOutcome['status'][]) => result.units.filter((unit) => statuses.includes(unit.status))
  const recorded = of('published', 'adopted', 'unchanged')
  const notStarted = of('not-started')
  const failed = of('failed')
  const lines = [
    `publish interrupted by ${signal}: ${of('published').length} version(s) published, ${of('adopted').length} adopted, ${of('unchanged').length} unchanged, ${failed.length} failed, ${notStarted.length} unit(s) not started; lockfile.json records every version listed here.`,
  ]
  for (const unit of recorded) lines.push(`  ${unit.status}: ${where(unit)} ${unit.arn}`)
  for (const unit of failed) lines.push(`  failed: ${where(unit)}: [${unit.error?.code}] ${unit.error?.message}`)
  for (const unit of notStarted) lines.push(`  not started: ${where(unit)}`)
  if (arnChecksSkipped > 0) lines.push(`  not checked: ${arnChecksSkipped} pinned ARN(s) of arn layers`)
  return lines.join('\n')
}

/** What publish asks before removing grants the manifest no longer names (at least one). */
export function publishConfirmation(removals: readonly GrantRemoval[]): ConfirmRequest {
  const count = removals.reduce((sum, entry) => sum + entry.sids.length, 0)
  return {
    plan: `layers publish would remove ${count} grant(s) the manifest no longer names (the accounts they name can no longer read these versions or add them to a function; functions already using them keep working):`,
    items: removals.map((entry) => `${entry.arn} in ${entry.accountName} (${entry.accountId})/${entry.region}: ${entry.sids.join(', ')}`),
    question: 'Publish and remove these grants?',
    notDone: 'nothing was uploaded, published or shared',
    details: {grantRemovals: removals.map((entry) => ({arn: entry.arn, accountId: entry.accountId, region: entry.region, statementIds: entry.sids}))},
  }
}
