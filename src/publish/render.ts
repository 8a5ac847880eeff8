// Owns the human output of `layers publish`: one row per artifact and target (and per pinned ARN
// checked), then a summary line; failures carry their code, message and hint. Also the message of an
// interrupted publish: the versions published or adopted (with their ARNs) and the units not started;
// and the plan publish asks about before removing grants.
import type {ConfirmRequest} from '../cli/confirm.js'
import {renderTable} from '../cli/table.js'
import type {InterruptSignal} from '../errors/index.js'
import type {GrantRemoval, PublishResult, UnitOutcome} from './run.js'

export function renderPublish(result: PublishResult): string {
  if (result.units.length === 0 && result.arnChecks.length === 0) return 'Nothing to publish: no selected layer has a target (account and region).'
  const lines: string[] = []
  if (result.units.length > 0) {
    lines.push(
      renderTable(
        ['Layer', 'Artifact', 'Account', 'Region', 'Outcome', 'Version', 'Upload', 'Grants'],
        result.units.map((unit) => [
          unit.layer,
          unit.artifact,
          `${unit.accountName} (${unit.accountId})`,
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
    lines.push('', renderTable(['ARN layer', 'Account', 'Region', 'Pinned', 'Check'], result.arnChecks.map((check) => [check.layer, `${check.accountName} (${check.accountId})`, check.region, check.arn, check.status])))
  }
  const failures = [
    ...result.units.filter((unit) => unit.error).map((unit) => ({where: `${unit.layer} (${unit.artifact}) ${unit.accountName}/${unit.region}`, error: unit.error!})),
    ...result.arnChecks.filter((check) => check.error).map((check) => ({where: `${check.layer} ${check.accountName}/${check.region}`, error: check.error!})),
  ]
  for (const {where, error} of failures) lines.push('', `${where}: [${error.code}] ${error.message}${error.hint ? `\n  hint: ${error.hint}` : ''}`)
  const s = result.summary
  lines.push(
    '',
    `${result.dryRun ? 'Dry run: would publish' : 'Published'} ${s.published}, adopted ${s.adopted}, unchanged ${s.unchanged}, ${result.dryRun ? 'would upload' : 'uploaded'} ${s.uploaded}, grant changes ${s.grantChanges}, failed ${s.failed}.`,
  )
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
