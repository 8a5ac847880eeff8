// Owns running `layers rollback` against AWS, per function and target: read the alias, take the version
// it pointed at before from its description (written by `layers deploy` when it moved the alias,
// src/deploy/plan.ts), leave it alone when it is there already, refuse a function infrastructure as code
// owns unless `force` (as deploy and attach), and move all of its traffic back under the alias's
// RevisionId. On an interrupt no further alias is moved; InterruptedError lists what was done.
import {outcomeCounts, runPerTarget} from '../attach/outcomes.js'
import type {FunctionTarget} from '../attach/plan.js'
import {targetError, type TargetError} from '../aws/errors.js'
import type {DeployApi} from '../aws/lambda-deploy.js'
import type {FunctionsApi} from '../aws/lambda-functions.js'
import {InterruptedError} from '../errors/index.js'
import type {EmitEvent} from '../events.js'
import {describeOwner, ownerOf, type Owner} from '../iac/ownership.js'
import {planRollback, type AliasRoute} from './plan.js'
import {renderRollbackInterrupted} from './render.js'

export interface RollbackEnv {
  functionsApi(target: FunctionTarget): Promise<FunctionsApi>
  deployApi(target: FunctionTarget): Promise<DeployApi>
}

export interface RollbackRunOptions {
  alias: string
  dryRun: boolean
  concurrency: number
  emit: EmitEvent
  signal?: AbortSignal
  ownershipTags?: readonly string[]
  force?: boolean
}

export type RollbackStatus = 'rolled-back' | 'would-roll-back' | 'unchanged' | 'refused' | 'conflict' | 'failed' | 'not-started'

export interface RollbackOutcome {
  function: string
  functionName: string
  accountName: string
  accountId: string
  region: string
  alias: string
  status: RollbackStatus
  before?: AliasRoute
  after?: AliasRoute
  owner?: Owner
  reasons?: string[]
  error?: TargetError
}

export interface RollbackResult {
  dryRun: boolean
  functions: RollbackOutcome[]
  summary: {targets: number; rolledBack: number; unchanged: number; refused: number; conflicts: number; failed: number; notStarted?: number}
}

export async function runRollback(targets: FunctionTarget[], env: RollbackEnv, options: RollbackRunOptions): Promise<RollbackResult> {
  const functions = await runPerTarget(targets, {concurrency: options.concurrency, phase: 'rollback', emit: options.emit}, (target) => rollbackOne(target, env, options))
  const interrupted = options.signal?.aborted === true
  const {count, counts} = outcomeCounts<RollbackStatus>(functions, interrupted, ['not-started'])
  const result: RollbackResult = {dryRun: options.dryRun, functions, summary: {targets: functions.length, rolledBack: count('rolled-back', 'would-roll-back'), ...counts}}
  if (!interrupted) return result
  const signal = InterruptedError.signalOf(options.signal!)
  throw new InterruptedError(signal, renderRollbackInterrupted(signal, result), {details: {...result}})
}

async function rollbackOne(target: FunctionTarget, env: RollbackEnv, options: RollbackRunOptions): Promise<RollbackOutcome> {
  const outcome: RollbackOutcome = {
    function: target.function,
    functionName: target.functionName,
    accountName: target.accountName,
    accountId: target.accountId,
    region: target.region,
    alias: options.alias,
    status: 'unchanged',
  }
  if (options.signal?.aborted) return {...outcome, status: 'not-started'}
  const where = `${target.functionName} in account ${target.accountId} (${target.accountName}), region ${target.region}`
  try {
    const deploy = await env.deployApi(target)
    const alias = await deploy.getAlias(target.functionName, options.alias)
    if (!alias) {
      return {...outcome, status: 'failed', error: {code: 'ERR_LAYERS_ALIAS_NOT_FOUND', message: `Alias ${options.alias} of ${where} does not exist.`, hint: `Check the alias name; \`layers deploy ${target.function} --alias ${options.alias}\` creates it.`}}
    }
    outcome.before = {functionVersion: alias.functionVersion, weights: alias.weights, description: alias.description}
    const plan = planRollback(options.alias, alias)
    if (plan.action === 'refuse') return {...outcome, status: 'refused', reasons: [plan.reason]}
    if (plan.action === 'noop') return outcome
    const api = await env.functionsApi(target)
    const fn = await api.getFunction(target.functionName)
    const tags = fn?.arn ? await api.listTags(fn.arn) : {}
    const owner = ownerOf(tags, options.ownershipTags)
    if (owner) outcome.owner = owner
    if (owner && !options.force) return {...outcome, status: 'refused', reasons: [`${target.functionName} belongs to ${describeOwner(owner)}: move its alias there (or pass --force).`]}
    if (options.dryRun) return {...outcome, status: 'would-roll-back', after: plan.route}
    if (options.signal?.aborted) return {...outcome, status: 'not-started'}
    const moved = await deploy.putAlias(target.functionName, options.alias, plan.route, alias)
    if (moved.status !== 'ok') {
      return {...outcome, status: 'conflict', error: {code: 'ERR_LAYERS_ROLLBACK_CONFLICT', message: `Alias ${options.alias} of ${where} changed while layers rollback was moving it (${moved.status === 'stale-revision' ? 'RevisionId moved' : 'another update in progress'}).`, hint: 'Look at where it points now (`aws lambda get-alias`) and run `layers rollback` again if it is still wrong.'}}
    }
    return {...outcome, status: 'rolled-back', after: {functionVersion: moved.alias.functionVersion, weights: moved.alias.weights, description: moved.alias.description}}
  } catch (error) {
    return {...outcome, status: 'failed', error: targetError(error)}
  }
}
