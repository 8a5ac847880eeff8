// Owns the human output of `layers attach`: per function and target, its outcome and the diff of its
// Layers (added, removed, version moved), then refusals and failures with their reasons, then a summary.
// Also the message of an interrupted attach: the functions updated and those not started; and the
// plan attach asks about before changing functions in protected accounts.
import type {ConfirmRequest} from '../cli/confirm.js'
import {renderFailures} from '../cli/failures.js'
import {accountLabel, paint, stdoutStyle, targetLabel, toneOf} from '../cli/style.js'
import {renderTable} from '../cli/table.js'
import type {InterruptSignal} from '../errors/index.js'
import type {AttachOutcome, AttachResult} from './run.js'

export function renderAttach(result: AttachResult): string {
  if (result.functions.length === 0) return 'Nothing to attach: no selected function has a target (account and region).'
  const {color} = stdoutStyle()
  const lines = [
    renderTable(
      [{header: 'Function', wrap: 10}, {header: 'Account', wrap: 14}, 'Region', {header: 'Outcome', tone: toneOf}, {header: 'Changes', wrap: 24}],
      result.functions.map((outcome) => [outcome.functionName, accountLabel(outcome.accountId, outcome.accountName), outcome.region, outcome.status, changes(outcome)]),
    ),
  ]
  const names = (outcome: AttachOutcome) => [outcome.accountId, outcome.accountName, outcome.region, outcome.functionName]
  const refusals = result.functions.flatMap((outcome) => (outcome.reasons ?? []).map((reason) => `${where(outcome)}: ${paint('bad', 'refused', color)}: ${reason}`))
  const failures = renderFailures(
    result.functions.filter((outcome) => outcome.error).map((outcome) => ({where: where(outcome), names: names(outcome), error: outcome.error!})),
    color,
  )
  if (refusals.length + failures.length > 0) lines.push('', ...refusals, ...failures)
  const s = result.summary
  const bad = (count: number) => (count > 0 ? paint('bad', String(count), color) : String(count))
  lines.push('', `${result.dryRun ? 'Dry run: would update' : 'Updated'} ${s.updated}, unchanged ${s.unchanged}, refused ${bad(s.refused)}, conflicts ${bad(s.conflicts)}, failed ${bad(s.failed)}.`)
  return lines.join('\n')
}

function where(outcome: AttachOutcome): string {
  return `${outcome.functionName} ${targetLabel(outcome)}`
}

/**
 * The diff of a function's Layers, each version as `name:version` when it lives in the row's account
 * and region, `account:name:version` in another account of that region, else its whole ARN (--json
 * has whole ARNs).
 */
function changes(outcome: AttachOutcome): string {
  const diff = outcome.diff
  if (!diff) return '-'
  const short = (arn: string) => {
    const match = /^arn:[^:]+:lambda:([^:]+):(\d{12}):layer:(.+)$/.exec(arn)
    if (!match || match[1] !== outcome.region) return arn
    return match[2] === outcome.accountId ? match[3]! : `${match[2]}:${match[3]}`
  }
  const parts = [
    ...diff.added.map((arn) => `+ ${short(arn)}`),
    ...diff.removed.map((arn) => `- ${short(arn)}`),
    ...diff.moved.map((move) => `~ ${short(move.from)} -> ${move.to.slice(move.to.lastIndexOf(':') + 1)}`),
    ...(diff.reordered ? ['order changed'] : []),
  ]
  return parts.length > 0 ? parts.join('\n') : '-'
}

export function renderAttachInterrupted(signal: InterruptSignal, result: AttachResult): string {
  // The message of the error (stderr and --json): `function account/region`, as scripts read it.
  const where = (outcome: AttachOutcome) => `${outcome.functionName} ${outcome.accountName}/${outcome.region}`
  const of = (status: AttachOutcome['status']) => result.functions.filter((outcome) => outcome.status === status)
  const s = result.summary
  const lines = [`attach interrupted by ${signal}: ${s.updated} function target(s) updated, ${s.unchanged} unchanged, ${s.refused + s.conflicts + s.failed} refused or failed, ${s.notStarted ?? 0} not started.`]
  for (const outcome of of('updated')) lines.push(`  updated: ${where(outcome)} -> ${outcome.after.join(', ') || '(no layers)'}`)
  for (const status of ['refused', 'conflict', 'failed'] as const) {
    for (const outcome of of(status)) lines.push(`  ${status}: ${where(outcome)}${outcome.error ? `: [${outcome.error.code}] ${outcome.error.message}` : outcome.reasons ? `: ${outcome.reasons.join('; ')}` : ''}`)
  }
  for (const outcome of of('not-started')) lines.push(`  not started: ${where(outcome)}`)
  return lines.join('\n')
}

/** What attach asks before updating functions in protected accounts (`outcomes`: at least one would-update). */
export function attachConfirmation(outcomes: readonly AttachOutcome[]): ConfirmRequest {
  return {
    plan: `layers attach would update ${outcomes.length} function(s) in protected accounts:`,
    items: outcomes.map((outcome) => `${outcome.functionName} in ${outcome.accountName} (${outcome.accountId})/${outcome.region}: ${changes(outcome).split('\n').join(', ')}`),
    question: 'Update them?',
    notDone: 'no function was updated',
    details: {functions: outcomes.map((outcome) => ({function: outcome.functionName, accountId: outcome.accountId, region: outcome.region, before: outcome.before, after: outcome.after}))},
  }
}
