// Owns running `layers attach` against AWS: per function and target, read the configuration, compare
// its Layers with the locked list, leave it alone when it is already right, refuse with the reasons
// when it must not be changed, else update it under its RevisionId (re-read and retry once when it
// changed underneath, or report the conflict; a re-read already showing the desired list means the
// update landed, its answer lost) and wait, bounded, until LastUpdateStatus is Successful.
// A function infrastructure as code owns (src/iac/ownership.ts: a CloudFormation stack's, or one with
// a manifest ownership tag) is refused unless `force`; its tags are read (ListTags) only for a
// function attach would otherwise change.
// On an interrupt (options.signal) no function is updated any more; an update already sent stands (it
// is reported updated without waiting for LastUpdateStatus), and InterruptedError lists the functions
// updated and those not started.
import {outcomeCounts, runPerTarget} from './outcomes.js'
import {targetError, type TargetError} from '../aws/errors.js'
import type {FunctionsApi} from '../aws/lambda-functions.js'
import {InterruptedError, OperationalError} from '../errors/index.js'
import type {EmitEvent} from '../events.js'
import {describeOwner, ownerOf, redeployHint, type Owner} from '../iac/ownership.js'
import {renderAttachInterrupted} from './render.js'
import {diffLayers, isSameList, planAttach, type FunctionState, type FunctionTarget, type LayerDiff, type LayerFacts} from './plan.js'

export interface AttachEnv {
  functionsApi(target: FunctionTarget): Promise<FunctionsApi>
  /** Unzipped bytes of a zip this project built (a layer or a function package), by its base64 SHA-256 (undefined when unknown). */
  unzippedBytes(codeSha256: string): number | undefined
}

export interface AttachRunOptions {
  dryRun: boolean
  concurrency: number
  emit: EmitEvent
  /** The desired Layers list of a target, or why there is none (a layer not locked or not published there). */
  desired(target: FunctionTarget): {arns: string[]} | {error: string}
  /** Longest wait for LastUpdateStatus to leave InProgress, in ms. */
  waitTimeoutMs?: number
  pollMs?: number
  /** Fires on an interrupt: no further update is sent; runAttach then throws InterruptedError with the result in `details`. */
  signal?: AbortSignal
  /** The manifest's settings.ownershipTags (beside CloudFormation's stack tag). */
  ownershipTags?: readonly string[]
  /** Update functions infrastructure as code owns too (a warning says the next deploy reverts it). */
  force?: boolean
}

/** `not-started`: an interrupted run did not update the function (it may have read it). */
export type AttachStatus = 'unchanged' | 'updated' | 'would-update' | 'refused' | 'conflict' | 'failed' | 'not-started'

export interface AttachOutcome {
  function: string
  functionName: string
  accountName: string
  accountId: string
  region: string
  status: AttachStatus
  before: string[]
  after: string[]
  diff?: LayerDiff
  reasons?: string[]
  /** Who else owns the function (read only when attach would change it). */
  owner?: Owner
  /** True when the function changed underneath and the update was retried on a fresh read. */
  retried: boolean
  error?: TargetError
}

export interface AttachResult {
  dryRun: boolean
  functions: AttachOutcome[]
  summary: {targets: number; updated: number; unchanged: number; refused: number; conflicts: number; failed: number; notStarted?: number}
}

const DEFAULT_WAIT_MS = 120_000

export async function runAttach(targets: FunctionTarget[], env: AttachEnv, options: AttachRunOptions): Promise<AttachResult> {
  const layerCache = new Map<string, Promise<LayerFacts | undefined>>()
  const functions = await runPerTarget(targets, {concurrency: options.concurrency, phase: 'attach', emit: options.emit}, (target) => attachOne(target, env, options, layerCache))
  const interrupted = options.signal?.aborted === true
  const {count, counts} = outcomeCounts<AttachStatus>(functions, interrupted, ['not-started'])
  const result: AttachResult = {dryRun: options.dryRun, functions, summary: {targets: functions.length, updated: count('updated', 'would-update'), ...counts}}
  if (!interrupted) return result
  const signal = InterruptedError.signalOf(options.signal!)
  throw new InterruptedError(signal, renderAttachInterrupted(signal, result), {details: {...result}})
}

async function attachOne(target: FunctionTarget, env: AttachEnv, options: AttachRunOptions, layerCache: Map<string, Promise<LayerFacts | undefined>>): Promise<AttachOutcome> {
  const outcome: AttachOutcome = {
    function: target.function,
    functionName: target.functionName,
    accountName: target.accountName,
    accountId: target.accountId,
    region: target.region,
    status: 'unchanged',
    before: [],
    after: [],
    retried: false,
  }
  if (options.signal?.aborted) return {...outcome, status: 'not-started'}
  try {
    const api = await env.functionsApi(target)
    const desired = options.desired(target)
    let current = await api.getFunction(target.functionName)
    if (!current) {
      return fail(outcome, {
        code: 'ERR_LAYERS_FUNCTION_NOT_FOUND',
        message: `Function ${target.functionName} does not exist in account ${target.accountId} (${target.accountName}), region ${target.region}.`,
        hint: 'Deploy the function first, or fix its `name` or `accounts` in the manifest.',
      })
    }
    outcome.before = current.layers.map((layer) => layer.arn)
    outcome.after = outcome.before
    // Another deployment still running (or the function still being created): let it finish first.
    if (!options.dryRun && isBusy(current)) current = await waitForUpdate(api, target.functionName, current, options)
    if ('error' in desired) return {...outcome, status: 'refused', reasons: [desired.error]}
    outcome.after = desired.arns
    const facts = async (state: FunctionState): Promise<Record<string, LayerFacts | undefined>> => {
      const out: Record<string, LayerFacts | undefined> = {}
      for (const arn of desired.arns) out[arn] = await layerFacts(api, env, target, arn, state, layerCache)
      return out
    }
    /** Waits for an update to finish; updated, or failed when Lambda could not apply it. */
    const settled = async (state: FunctionState): Promise<AttachOutcome> => {
      const final = await waitForUpdate(api, target.functionName, state, options)
      if (final.lastUpdateStatus === 'Failed') {
        return fail(outcome, {
          code: 'ERR_LAYERS_UPDATE_FAILED',
          message: `Lambda could not apply the update to ${target.functionName} in account ${target.accountId} (${target.accountName}), region ${target.region}: LastUpdateStatus Failed: ${final.lastUpdateStatusReason ?? 'no reason given'}`,
          hint: 'Lambda kept the previous configuration; fix the cause it names (see the function in the Lambda console), then run `layers attach` again.',
        })
      }
      return {...outcome, status: 'updated'}
    }
    // Tags are read once, the first time the function would be changed (a retry keeps the answer).
    let ownerRead = false
    for (let attempt = 1; ; attempt++) {
      // Already right (from the start, or made so by whoever changed it underneath): no write, no layer reads.
      if (isSameList(outcome.before, desired.arns)) return {...outcome, status: 'unchanged', diff: diffLayers(outcome.before, desired.arns)}
      const codeUnzippedBytes = current.codeSha256 ? env.unzippedBytes(current.codeSha256) : undefined
      const decision = planAttach({target, current, desired: desired.arns, layers: current.packageType === 'Image' ? {} : await facts(current), ...(codeUnzippedBytes === undefined ? {} : {codeUnzippedBytes})})
      outcome.diff = decision.diff
      if (decision.action === 'noop') return {...outcome, status: 'unchanged'}
      if (decision.action === 'refuse') return {...outcome, status: 'refused', reasons: decision.reasons}
      if (!ownerRead && current.arn) {
        ownerRead = true
        let tags: Record<string, string> | undefined
        try {
          tags = await api.listTags(current.arn)
        } catch (error) {
          // Unknown ownership: --force goes ahead (it would update an owned function too); else refused, saying why.
          const failure = targetError(error)
          if (!options.force) {
            return {...outcome, status: 'refused', reasons: [`could not read the tags of ${target.functionName} (${failure.code}: ${failure.message}) to tell whether infrastructure as code owns it; allow lambda:ListTags on it, or pass --force.`]}
          }
        }
        const owner = tags ? ownerOf(tags, options.ownershipTags) : undefined
        if (owner) outcome.owner = owner
      }
      if (outcome.owner && !options.force) {
        const message = `${target.functionName} belongs to ${describeOwner(outcome.owner)}: an update by layers attach is drift its next deploy reverts; ${redeployHint(outcome.owner)} (or pass --force).`
        return {...outcome, status: 'refused', reasons: [message]}
      }
      if (outcome.owner && !options.dryRun) {
        options.emit({type: 'warning', warning: {severity: 'warning', code: 'ERR_LAYERS_ATTACH_OWNED', message: `${target.functionName} in ${target.accountName}/${target.region} belongs to ${describeOwner(outcome.owner)}; updated because of --force, its next deploy sets its layers back.`, hint: redeployHint(outcome.owner)}})
      }
      if (options.dryRun) return {...outcome, status: 'would-update'}
      if (options.signal?.aborted) return {...outcome, status: 'not-started'}
      const update = await api.updateLayers(target.functionName, desired.arns, current.revisionId)
      if (update.status === 'ok') return await settled(update.state)
      // Changed underneath (stale RevisionId) or another update still running: read again, retry once.
      if (attempt >= 2) {
        return {
          ...outcome,
          status: 'conflict',
          error: {
            code: 'ERR_LAYERS_ATTACH_CONFLICT',
            message: `${target.functionName} in ${target.accountName}/${target.region} changed again while layers was updating it (${update.status === 'stale-revision' ? 'RevisionId moved' : 'another update in progress'}).`,
            hint: 'Wait for the other deployment to finish and run `layers attach` again.',
          },
        }
      }
      outcome.retried = true
      if (update.status === 'in-progress') await waitForUpdate(api, target.functionName, {...current, lastUpdateStatus: 'InProgress'}, options)
      current = await api.getFunction(target.functionName)
      if (!current) return fail(outcome, {code: 'ERR_LAYERS_FUNCTION_NOT_FOUND', message: `Function ${target.functionName} was deleted while layers was updating it.`})
      const now = current.layers.map((layer) => layer.arn)
      if (isSameList(now, desired.arns)) {
        // It went from `before` to the desired list during our update: ours landed with its answer lost
        // (the SDK's retry then met the moved RevisionId or the update in progress), or someone made
        // the same change. Either way it is updated: wait for it like any update.
        return await settled(current)
      }
      outcome.before = now
    }
  } catch (error) {
    return fail(outcome, targetError(error))
  }
}

function fail(outcome: AttachOutcome, error: TargetError): AttachOutcome {
  return {...outcome, status: 'failed', error}
}

async function layerFacts(
  api: FunctionsApi,
  env: AttachEnv,
  target: FunctionTarget,
  arn: string,
  state: FunctionState,
  cache: Map<string, Promise<LayerFacts | undefined>>,
): Promise<LayerFacts | undefined> {
  const key = `${target.accountId}/${target.region}/${arn}`
  let facts = cache.get(key)
  if (!facts) {
    facts = api.readLayer(arn).then((info) => {
      if (!info) return undefined
      const unzipped = info.codeSha256 ? env.unzippedBytes(info.codeSha256) : undefined
      return {
        codeSize: info.codeSize ?? state.layers.find((layer) => layer.arn === arn)?.codeSize ?? 0,
        ...(unzipped !== undefined ? {unzippedBytes: unzipped} : {}),
        ...(info.compatibleRuntimes ? {compatibleRuntimes: info.compatibleRuntimes} : {}),
        ...(info.compatibleArchitectures ? {compatibleArchitectures: info.compatibleArchitectures} : {}),
      }
    })
    cache.set(key, facts)
  }
  return facts
}

function isBusy(state: FunctionState): boolean {
  return state.lastUpdateStatus === 'InProgress' || state.state === 'Pending'
}

/** What a wait is for, in its timeout error (default: attach's layer update). */
export interface UpdateWait {
  /** e.g. `the code update (UpdateFunctionCode)`. */
  what?: string
  /** The command to run again (default attach). */
  command?: string
}

/** Polls until LastUpdateStatus leaves InProgress (and State leaves Pending); throws ERR_LAYERS_<COMMAND>_TIMEOUT after the bound. */
export async function waitForUpdate(api: Pick<FunctionsApi, 'getFunction'>, name: string, state: FunctionState, options: Pick<AttachRunOptions, 'waitTimeoutMs' | 'pollMs' | 'signal'>, wait: UpdateWait = {}): Promise<FunctionState> {
  const deadline = Date.now() + (options.waitTimeoutMs ?? DEFAULT_WAIT_MS)
  let delay = options.pollMs ?? 250
  let current = state
  const command = wait.command ?? 'attach'
  // Interrupted: the update was sent and stands; the rerun sees how it ended.
  while (isBusy(current) && !options.signal?.aborted) {
    if (Date.now() >= deadline) {
      throw new OperationalError(`ERR_LAYERS_${command.toUpperCase()}_TIMEOUT`, `${name} was still updating (LastUpdateStatus InProgress${wait.what ? `, after ${wait.what}` : ''}) after ${Math.round((options.waitTimeoutMs ?? DEFAULT_WAIT_MS) / 1000)} s.`, {
        hint: `Check the function in the Lambda console; run \`layers ${command}\` again once its update has finished.`,
      })
    }
    await new Promise((resolve) => setTimeout(resolve, delay))
    delay = Math.min(2000, delay * 1.5)
    const next = await api.getFunction(name)
    if (!next) break
    current = next
  }
  return current
}
