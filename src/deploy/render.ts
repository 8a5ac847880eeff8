// Owns the human output of `layers deploy` and `layers rollback`: per function and target, its outcome
// and what moved (code, layers, version, alias), then refusals and failures with their reasons, then a
// summary; the messages of an interrupted run (what each target got, what was not started); and the
// plan deploy asks about before changing functions in protected accounts.
import type {ConfirmRequest} from '../cli/confirm.js'
import {renderFailures} from '../cli/failures.js'
import {accountLabel, paint, stdoutStyle, targetLabel, toneOf} from '../cli/style.js'
import {renderTable} from '../cli/table.js'
import {OperationalError, UserInputError, type InterruptSignal, type LayersError} from '../errors/index.js'
import type {AliasRoute} from './plan.js'
import type {RollbackOutcome, RollbackResult} from './rollback.js'
import {PACKAGE_TYPE_REFUSED, type DeployOutcome, type DeployResult} from './run.js'

interface Row {
  functionName: string
  accountId: string
  accountName: string
  region: string
  status: string
  reasons?: string[]
  error?: DeployOutcome['error']
}

function where(outcome: Row): string {
  return `${outcome.functionName} ${targetLabel(outcome)}`
}

/** `3`, or `3 (90%) + 4 (10%)` for a weighted alias. */
function route(value: AliasRoute | undefined): string {
  if (!value) return '-'
  const [extra, weight] = Object.entries(value.weights)[0] ?? []
  if (extra === undefined || weight === undefined) return value.functionVersion
  const share = Math.round(weight * 100)
  return `${value.functionVersion} (${100 - share}%) + ${extra} (${share}%)`
}

function table(headers: string[], rows: Row[], changes: (row: Row) => string, summary: string): string {
  const {color} = stdoutStyle()
  const lines = [
    renderTable(
      [{header: headers[0]!, wrap: 10}, {header: 'Account', wrap: 14}, 'Region', {header: 'Outcome', tone: toneOf}, {header: headers[1]!, wrap: 28}],
      rows.map((row) => [row.functionName, accountLabel(row.accountId, row.accountName), row.region, row.status, changes(row)]),
    ),
  ]
  const refusals = rows.flatMap((row) => (row.reasons ?? []).map((reason) => `${where(row)}: ${paint('bad', 'refused', color)}: ${reason}`))
  const failures = renderFailures(
    rows.filter((row) => row.error).map((row) => ({where: where(row), names: [row.accountId, row.accountName, row.region, row.functionName], error: row.error!})),
    color,
  )
  if (refusals.length + failures.length > 0) lines.push('', ...refusals, ...failures)
  lines.push('', summary)
  return lines.join('\n')
}

const STEP: Record<DeployOutcome['code'], string> = {unchanged: 'unchanged', updated: 'updated', 'would-update': 'would update', 'not-done': 'differs, not written'}

function deployChanges(outcome: DeployOutcome): string {
  const parts: string[] = []
  const via = outcome.s3 ? ` (s3 ${outcome.s3.upload})` : outcome.image ? ` (image ${outcome.image.digest.slice(0, 19)}...)` : ''
  if (outcome.code !== 'unchanged') parts.push(`code ${STEP[outcome.code]}${via}`)
  if (outcome.layers.status !== 'unchanged') parts.push(`layers ${STEP[outcome.layers.status]}: ${outcome.layers.after.map((arn) => arn.slice(arn.lastIndexOf(':layer:') + 7)).join(', ') || '(none)'}`)
  if (outcome.version !== undefined) parts.push(`version ${outcome.version}${outcome.published ? ' published' : ''}`)
  if (outcome.alias && outcome.alias.status !== 'unchanged') parts.push(`alias ${outcome.alias.name} ${outcome.alias.status}: ${route(outcome.alias.before)} -> ${route(outcome.alias.after)}`)
  return parts.length > 0 ? parts.join('\n') : '-'
}

/**
 * The error a deploy ends with, naming every target that stood in the way: ERR_LAYERS_PACKAGE_TYPE
 * (exit 2) when only package types did, else ERR_LAYERS_DEPLOY_FAILED (exit 1); with `image`
 * (deploy --image), the targets held back for them are said to have got nothing.
 */
export function deployFailure(result: DeployResult, image: boolean): LayersError | undefined {
  const bad = result.functions.filter((outcome) => ['refused', 'conflict', 'failed'].includes(outcome.status))
  if (bad.length === 0) return undefined
  const list = bad.map((outcome) => `${outcome.functionName} in account ${outcome.accountId} (${outcome.accountName}), region ${outcome.region}`).join('; ')
  const heldBack = image ? result.functions.filter((outcome) => outcome.status === 'not-started').length : 0
  const nothingDone = heldBack > 0 ? ` The image was pushed nowhere and no function was changed: deploy --image goes ahead only when every target can take it (${heldBack} other target(s) not started).` : ''
  const wrongType = bad.filter((outcome) => outcome.error?.code === PACKAGE_TYPE_REFUSED)
  if (wrongType.length === bad.length) {
    // Only the package type stood in the way: the input (zip or image) was wrong for these functions.
    const first = wrongType[0]!.error!
    const message = wrongType.length === 1 ? first.message : `${wrongType.length} function target(s) have the other package type: ${list}. The first: ${first.message}`
    return new UserInputError(PACKAGE_TYPE_REFUSED, `${message}${nothingDone}`, first.hint ? {hint: first.hint} : {})
  }
  return new OperationalError('ERR_LAYERS_DEPLOY_FAILED', `${bad.length} function target(s) refused, conflicted or failed: ${list}; see the summary.${nothingDone}`, {
    hint: 'Each outcome says why; fix those and run deploy again (what is already in place is not written again).',
  })
}

export function renderDeploy(result: DeployResult): string {
  if (result.functions.length === 0) return 'Nothing to deploy: no selected function has a target (account and region).'
  const s = result.summary
  return table(['Function', 'Changes'], result.functions, (row) => deployChanges(row as DeployOutcome), `${result.dryRun ? 'Dry run: would deploy' : 'Deployed'} ${s.deployed}, unchanged ${s.unchanged}, refused ${s.refused}, conflicts ${s.conflicts}, failed ${s.failed}.`)
}

export function renderRollback(result: RollbackResult): string {
  if (result.functions.length === 0) return 'Nothing to roll back: no selected function has a target (account and region).'
  const s = result.summary
  const changes = (row: Row) => {
    const outcome = row as RollbackOutcome
    return outcome.after ? `alias ${outcome.alias}: ${route(outcome.before)} -> ${route(outcome.after)}` : outcome.before ? `alias ${outcome.alias}: ${route(outcome.before)}` : '-'
  }
  return table(['Function', 'Alias'], result.functions, changes, `${result.dryRun ? 'Dry run: would roll back' : 'Rolled back'} ${s.rolledBack}, unchanged ${s.unchanged}, refused ${s.refused}, conflicts ${s.conflicts}, failed ${s.failed}.`)
}

function interrupted(command: string, signal: InterruptSignal, rows: Row[], describe: (row: Row) => string): string {
  const lines = [`${command} interrupted by ${signal}:`]
  for (const row of rows) lines.push(`  ${row.status}: ${row.functionName} ${row.accountName}/${row.region}${describe(row)}`)
  return lines.join('\n')
}

export function renderDeployInterrupted(signal: InterruptSignal, result: DeployResult): string {
  return interrupted('deploy', signal, result.functions, (row) => {
    const outcome = row as DeployOutcome
    const done = [outcome.code === 'updated' ? 'code updated' : '', outcome.layers.status === 'updated' ? 'layers updated' : '', outcome.published ? `version ${outcome.version} published` : '', outcome.alias && ['moved', 'created'].includes(outcome.alias.status) ? `alias ${outcome.alias.name} ${outcome.alias.status}` : ''].filter(Boolean)
    return done.length > 0 ? ` (${done.join(', ')}; the rest not done)` : outcome.error ? `: [${outcome.error.code}] ${outcome.error.message}` : ''
  })
}

export function renderRollbackInterrupted(signal: InterruptSignal, result: RollbackResult): string {
  return interrupted('rollback', signal, result.functions, (row) => ((row as RollbackOutcome).after ? ` -> version ${(row as RollbackOutcome).after!.functionVersion}` : ''))
}

/** What deploy asks before changing functions in protected accounts (`outcomes`: at least one would-deploy). */
export function deployConfirmation(outcomes: readonly DeployOutcome[], notDone = 'nothing was deployed'): ConfirmRequest {
  return {
    plan: `layers deploy would change ${outcomes.length} function(s) in protected accounts:`,
    items: outcomes.map((outcome) => `${outcome.functionName} in ${outcome.accountName} (${outcome.accountId})/${outcome.region}: ${deployChanges(outcome).split('\n').join(', ')}`),
    question: 'Deploy them?',
    notDone,
    details: {functions: outcomes.map((outcome) => ({function: outcome.functionName, accountId: outcome.accountId, region: outcome.region, code: outcome.code, layers: outcome.layers.status}))},
  }
}
