// Owns making SSM Parameter Store hold what src/ssm/plan.ts says, per account and region: list the
// template's fixed path once (GetParametersByPath, recursive, 10 a page), which gives both the current
// values and the parameters of the template's shape the manifest no longer names (stale); write only the
// parameters whose value is not the channel's version ARN (a no-op run writes nothing and reads one call
// per 10 parameters under the path), each write tagged with the content hash (`layers:codeSha256`) and
// the time it was written (`layers:publishedAt`); stale parameters are always reported and deleted only
// with `prune` (a dry run only says it would). Targets run concurrently; a failing target fails its
// parameters alone. On an interrupt no write starts any more; what was not written is `not-started`
// (the next run writes it).
import pLimit from 'p-limit'
import {targetError, type TargetError} from '../aws/errors.js'
import type {SsmParameterApi} from '../aws/ssm-parameters.js'
import {staleParameters, templatePath, type DesiredParameter, type SsmTarget} from './plan.js'

export type ParameterStatus = 'unchanged' | 'created' | 'updated' | 'would-create' | 'would-update' | 'failed' | 'not-started'
/** `kept`: reported, not deleted (no `prune`). */
export type StaleStatus = 'removed' | 'would-remove' | 'kept' | 'failed'

export interface ParameterOutcome extends SsmTarget {
  name: string
  layer: string
  channel: string
  architecture: string
  value: string
  status: ParameterStatus
  error?: TargetError
}

export interface StaleParameterOutcome extends SsmTarget {
  name: string
  value: string
  status: StaleStatus
  error?: TargetError
}

export interface SsmSyncResult {
  parameters: ParameterOutcome[]
  stale: StaleParameterOutcome[]
  summary: {parameters: number; written: number; unchanged: number; stale: number; removed: number; failed: number; notStarted?: number}
}

export interface SsmSyncOptions {
  /** The parameter name template (settings.ssm.parameterName). */
  template: string
  /** Every name the manifest names (namedParameters): anything else of the template's shape is stale. */
  named: ReadonlySet<string>
  /** Targets listed for stale parameters besides those of `desired` (a target with no parameter to hold). */
  targets?: readonly SsmTarget[]
  /** Delete the stale parameters (a dry run only reports them as `would-remove`); else they are `kept`. */
  prune: boolean
  dryRun: boolean
  concurrency: number
  signal?: AbortSignal
  /** Awaited before each parameter's write (the team-state lease of its layer, account and region); a throw fails that parameter. */
  beforeWrite?(parameter: DesiredParameter): Promise<void>
  /** The publication time written as a tag (ISO 8601). */
  now(): string
}

export const TAG_CODE_SHA256 = 'layers:codeSha256'
export const TAG_PUBLISHED_AT = 'layers:publishedAt'

const targetKey = (target: SsmTarget): string => `${target.accountId}\u0000${target.region}`

export async function syncParameters(desired: readonly DesiredParameter[], api: (target: SsmTarget) => Promise<SsmParameterApi>, options: SsmSyncOptions): Promise<SsmSyncResult> {
  const limit = pLimit(Math.max(1, options.concurrency))
  const groups = new Map<string, {target: SsmTarget; parameters: DesiredParameter[]}>()
  const group = (target: SsmTarget) => {
    const key = targetKey(target)
    let entry = groups.get(key)
    if (!entry) {
      entry = {target: {accountName: target.accountName, accountId: target.accountId, region: target.region}, parameters: []}
      groups.set(key, entry)
    }
    return entry
  }
  for (const parameter of desired) group(parameter).parameters.push(parameter)
  for (const target of options.targets ?? []) group(target)
  const results = await Promise.all([...groups.values()].map((entry) => limit(() => syncTarget(entry.target, entry.parameters, api, options))))
  const parameters = results.flatMap((result) => result.parameters)
  const stale = results.flatMap((result) => result.stale)
  const count = (...statuses: ParameterStatus[]) => parameters.filter((parameter) => statuses.includes(parameter.status)).length
  const notStarted = count('not-started')
  return {
    parameters,
    stale,
    summary: {
      parameters: parameters.length,
      written: count('created', 'updated', 'would-create', 'would-update'),
      unchanged: count('unchanged'),
      stale: stale.length,
      removed: stale.filter((entry) => entry.status === 'removed' || entry.status === 'would-remove').length,
      failed: count('failed') + stale.filter((entry) => entry.status === 'failed').length,
      ...(notStarted > 0 ? {notStarted} : {}),
    },
  }
}

async function syncTarget(
  target: SsmTarget,
  desired: readonly DesiredParameter[],
  api: (target: SsmTarget) => Promise<SsmParameterApi>,
  options: SsmSyncOptions,
): Promise<{parameters: ParameterOutcome[]; stale: StaleParameterOutcome[]}> {
  const outcome = (parameter: DesiredParameter, status: ParameterStatus, error?: TargetError): ParameterOutcome => ({
    accountName: target.accountName,
    accountId: target.accountId,
    region: target.region,
    name: parameter.name,
    layer: parameter.layer,
    channel: parameter.channel,
    architecture: parameter.architecture,
    value: parameter.value,
    status,
    ...(error ? {error} : {}),
  })
  if (options.signal?.aborted) return {parameters: desired.map((parameter) => outcome(parameter, 'not-started')), stale: []}
  const path = templatePath(options.template)
  let client: SsmParameterApi
  let current: Map<string, string>
  try {
    client = await api(target)
    // Every name the template gives is under its path: the listing has every current value.
    current = await client.list(path)
  } catch (error) {
    const failure = targetError(error)
    const listing: StaleParameterOutcome = {...target, name: `${path}/*`, value: '', status: 'failed', error: failure}
    return {parameters: desired.map((parameter) => outcome(parameter, 'failed', failure)), stale: desired.length === 0 ? [listing] : []}
  }
  const parameters: ParameterOutcome[] = []
  for (const parameter of desired) {
    const existing = current.get(parameter.name)
    if (existing === parameter.value) {
      parameters.push(outcome(parameter, 'unchanged'))
      continue
    }
    if (options.dryRun) {
      parameters.push(outcome(parameter, existing === undefined ? 'would-create' : 'would-update'))
      continue
    }
    if (options.signal?.aborted) {
      parameters.push(outcome(parameter, 'not-started'))
      continue
    }
    try {
      await options.beforeWrite?.(parameter)
      await client.put(parameter.name, parameter.value, {[TAG_CODE_SHA256]: parameter.codeSha256, [TAG_PUBLISHED_AT]: options.now()}, existing !== undefined)
      parameters.push(outcome(parameter, existing === undefined ? 'created' : 'updated'))
    } catch (error) {
      parameters.push(outcome(parameter, 'failed', targetError(error)))
    }
  }
  const staleOutcome = (entry: {name: string; value: string}, status: StaleStatus, error?: TargetError): StaleParameterOutcome => ({...target, ...entry, status, ...(error ? {error} : {})})
  const stale = staleParameters(options.template, current, options.named)
  if (stale.length === 0) return {parameters, stale: []}
  if (!options.prune || options.signal?.aborted) return {parameters, stale: stale.map((entry) => staleOutcome(entry, 'kept'))}
  if (options.dryRun) return {parameters, stale: stale.map((entry) => staleOutcome(entry, 'would-remove'))}
  try {
    await client.remove(stale.map((entry) => entry.name))
    return {parameters, stale: stale.map((entry) => staleOutcome(entry, 'removed'))}
  } catch (error) {
    const failure = targetError(error)
    return {parameters, stale: stale.map((entry) => staleOutcome(entry, 'failed', failure))}
  }
}
