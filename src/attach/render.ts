// Owns the human output of `layers attach`: per function and target, its outcome and the diff of its
// Layers (added, removed, version moved), then refusals and failures with their reasons, then a summary.
// Also the message of an interrupted attach: the functions updated and those not started; and the
// plan attach asks about before changing functions in protected accounts.
import type {ConfirmRequest} from '../cli/confirm.js'
import {renderTable} from '../cli/table.js'
import type {InterruptSignal} from '../errors/index.js'
import type {AttachOutcome, AttachResult} from './run.js'

export function renderAttach(result: AttachResult): string {
  if (result.functions.length === 0) return 'Nothing to attach: no selected function has a target (account and region).'
  const lines = [
    renderTable(
      ['Function', 'Account', 'Region', 'Outcome', 'Changes'],
      result.functions.map((outcome) => [outcome.functionName, `${outcome.accountName} (${outcome.accountId})`, outcome.region, outcome.status, changes(outcome)]),
    ),
  ]
  for (const outcome of result.functions) {
    const where = `${outcome.functionName} ${outcome.accountName}/${outcome.region}`
    if (outcome.reasons) for (const reason of outcome.reasons) lines.push(`${where}: refused: ${reason}`)
    if (outcome.error) lines.push(`${where}: [${outcome.error.code}] ${outcome.error.message}${outcome.error.hint ? `\n  hint: ${outcome.error.hint}` : ''}`)
  }
  const s = result.summary
  lines.push('', `${result.dryRun ? 'Dry run: would update' : 'Updated'} ${s.updated}, unchanged ${s.unchanged}, refused ${s.refused}, conflicts ${s.conflicts}, failed ${s.failed}.`)
  return lines.join('\n')
}

function changes(outcome: AttachOutcome): string {
  const diff = outcome.diff
  if (!diff) return '-'
  const parts = [
    ...diff.added.map((arn) => `+ ${arn}`),
    ...diff.removed.map((arn) => `- ${arn}`),
    ...diff.moved.map((move) => `~ ${move.from} -> ${move.to.slice(move.to.lastIndexOf(':') + 1)}`),
    ...(diff.reordered ? ['order changed'] : []),
  ]
  return parts.length > 0 ? parts.join('\n') : '-'
}

export function renderAttachInterrupted(signal: InterruptSignal, result: AttachResult): string {
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
