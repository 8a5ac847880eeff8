// Owns one `layers audit` run end to end: resolve the targets, scan them, judge each function against
// the manifest and lock as soon as it is read (streamAudit hands it on and keeps counts only), save the
// run in the history as it goes, and (runAudit) collect the whole report and compare it with the
// previous run. The tags of managed functions that are behind or drift (only those) are read to tell
// the ones infrastructure as code owns (drift-iac). Every AWS and project dependency
// comes in through AuditEnv, so tests and the benchmark swap endpoints only.
import pLimit from 'p-limit'
import type {EmitEvent} from '../events.js'
import {ownerOf, type Owner} from '../iac/ownership.js'
import type {Lockfile} from '../lock/types.js'
import type {Manifest} from '../manifest/types.js'
import type {StateDatabase} from '../store/db.js'
import {openAuditRun, previousRun, runFindings} from '../history/store.js'
import {functionVersionCache} from '../store/function-versions.js'
import {layerVersionCache} from '../store/layer-versions.js'
import {compareText, buildCatalog, type ManagedFunction} from './catalog.js'
import {asksOwner, assembleReport, diffFindings, emptySummary, functionJudge, sortFindings, usageCounter, type DesiredLayers, type RuntimeDeprecation, type TargetPart, type UsageCounter} from './findings.js'
import {failureOf, streamTargets, type LambdaReadApi, type TargetEnd} from './scan.js'
import {resolveTargets, type OrganizationsApi, type RegionsApi, type ResolvedTarget, type TargetFlags} from './targets.js'
import {SEVERITIES, type AuditReport, type AuditTarget, type Finding, type FunctionReport, type LayerUsage, type LayerVersionInfo, type ScannedFunction, type Severity, type TargetReport} from './types.js'

/** Targets scanned at once: Lambda's quotas are per account and region, and the request budget keeps each within its share, so targets need not wait for each other. */
export const DEFAULT_AUDIT_CONCURRENCY = 256

export interface AuditEnv {
  /** Lambda reads in one target, with that target's credentials. */
  readApiFor(target: ResolvedTarget): Promise<LambdaReadApi>
  organizations?: () => OrganizationsApi
  regions?: () => RegionsApi
  /** The region of this run's profile in ~/.aws/config (accounts named by id or found by --org, when nothing else names one). */
  profileRegion?: () => Promise<string | undefined>
  /** What `layers attach` would set on a managed function (src/attach/plan.ts). */
  desiredLayers?(managed: ManagedFunction, deployed: ScannedFunction): DesiredLayers
  /** A function's tags (ListTags with its ARN), in its target. */
  functionTags?(target: ResolvedTarget, functionArn: string): Promise<Record<string, string>>
  /** The audit is done with `target`: its clients may go (a fleet larger than the concurrency keeps those in flight only). */
  releaseTarget?(target: ResolvedTarget): void
}

export interface AuditRequest {
  manifest?: Manifest
  lock?: Lockfile
  flags: TargetFlags
  concurrency?: number
  /** Where the run is saved (and the previous one read for --diff) and layer versions read before are cached; none: not saved. */
  db?: StateDatabase
  diff?: boolean
  runtimes: RuntimeDeprecation[]
  now?: () => Date
  emit: EmitEvent
}

/** The history run an audit is saved in (when saved). */
export interface AuditRunInfo {
  runId?: number
  startedAt: string
}

/** One judged function: its row and its findings, sorted. */
export interface FunctionPart {
  function: FunctionReport
  findings: Finding[]
}

/** A target done: its row and its layer usage (its functions were handed on before, unless it failed before listing any). */
export interface TargetEndPart {
  target: TargetReport
  usage: LayerUsage[]
}

/** Where a streamed audit hands what it judged; each call is awaited, one at a time, so a slow consumer holds the scan back. */
export interface AuditConsumer {
  function(part: FunctionPart, run: AuditRunInfo): void | Promise<void>
  /** After every function of the target. A failed target (its listing broke off) has no usage; functions it handed on before stand as read. */
  target(part: TargetEndPart, run: AuditRunInfo): void | Promise<void>
}

/** What a streamed audit returns once every target is done: the counts, not the findings. */
export interface AuditStreamResult {
  runId?: number
  startedAt: string
  finishedAt: string
  summary: AuditReport['summary']
  /** The targets that could not be scanned completely, failed or incomplete (for the exit status and its message). */
  notScannedCompletely: TargetReport[]
}

/** Function rows (of any target) saved in the history at once, in one short transaction. */
const HISTORY_BATCH = 500

/** What streamAudit keeps of a target in flight: counts and its usage matrix. */
interface TargetTally {
  functions: number
  findings: Record<Severity, number>
  usage: UsageCounter
}

/**
 * Runs an audit and hands each function to `consumer` as soon as it is judged (its findings with it),
 * and each target once it is done, saving them in the history as it goes; nothing of a judged function
 * is kept but counts, so memory stays flat in fleet size. Failed target resolutions come first.
 */
export async function streamAudit(request: AuditRequest, env: AuditEnv, consumer: AuditConsumer): Promise<AuditStreamResult> {
  const now = request.now ?? (() => new Date())
  const startedAt = now().toISOString()
  const plan = await resolveTargets(request.manifest, request.flags, {
    ...(env.organizations ? {organizations: env.organizations} : {}),
    ...(env.regions ? {regions: env.regions} : {}),
    ...(env.profileRegion ? {profileRegion: env.profileRegion} : {}),
    failure: failureOf,
  })
  const byKey = new Map(plan.targets.map((target) => [targetKey(target), target]))
  const catalog = buildCatalog(request.manifest, request.lock)
  const judge = functionJudge({catalog, unzippedBytes: request.db ? builtUnzippedBytes(request.db) : {}, runtimes: request.runtimes, now: startedAt})
  const writer = request.db ? openAuditRun(request.db, startedAt) : undefined
  const run: AuditRunInfo = {...(writer ? {runId: writer.runId} : {}), startedAt}
  const summary = emptySummary()
  const notScannedCompletely: TargetReport[] = []
  const tallies = new Map<string, TargetTally>()
  const tallyOf = (target: AuditTarget): TargetTally => {
    let tally = tallies.get(targetKey(target))
    if (!tally) tallies.set(targetKey(target), (tally = {functions: 0, findings: {error: 0, warning: 0, info: 0}, usage: usageCounter(catalog.known)}))
    return tally
  }
  // Function and finding rows of every target not yet saved in the history.
  let unsaved: {functions: FunctionReport[]; findings: Finding[]} = {functions: [], findings: []}
  const save = (): void => {
    if (unsaved.functions.length > 0 || unsaved.findings.length > 0) writer?.add({targets: [], functions: unsaved.functions, usage: [], findings: unsaved.findings})
    unsaved = {functions: [], findings: []}
  }
  const tagsWarned = new Set<string>()
  // Once the run failed (the consumer threw), functions and targets still in flight are dropped, not saved.
  let stopped = false
  // Functions of many targets are judged at once: one at a time is handed on, so lines never interleave.
  const handOn = pLimit(1)

  const takeFunction = async (target: AuditTarget, fn: ScannedFunction, layerVersions: Record<string, LayerVersionInfo>): Promise<void> => {
    if (stopped) return
    const spec = judge.managed(target, fn.name)
    const desired = spec ? desiredOf(spec, fn, env) : undefined
    const facts = {layerVersions, ...(desired ? {desired} : {})}
    let findings = judge.findings(target, fn, facts)
    if (spec && asksOwner(findings, desired)) {
      const owner = await ownerOfFunction(byKey.get(targetKey(target))!, fn, env, request, tagsWarned)
      if (owner) findings = judge.findings(target, fn, {...facts, owner})
    }
    const part: FunctionPart = {function: judge.report(target, fn), findings: sortFindings(findings)}
    await handOn(async () => {
      if (stopped) return
      const tally = tallyOf(target)
      tally.functions++
      for (const finding of part.findings) tally.findings[finding.severity]++
      tally.usage.add(target, fn)
      if (writer) {
        unsaved.functions.push(part.function)
        unsaved.findings.push(...part.findings)
        if (unsaved.functions.length >= HISTORY_BATCH) save()
      }
      await consumer.function(part, run)
    })
  }

  const takeTarget = async (end: TargetEnd): Promise<void> => {
    const resolved = byKey.get(targetKey(end))
    if (resolved) env.releaseTarget?.(resolved)
    await handOn(async () => {
      if (stopped) return
      const tally = tallyOf(end)
      tallies.delete(targetKey(end))
      const failed = end.status === 'failed'
      const target: TargetReport = {
        accountId: end.accountId,
        ...(end.accountName === undefined ? {} : {accountName: end.accountName}),
        region: end.region,
        status: end.status,
        functions: failed ? 0 : tally.functions,
        ...(end.status === 'ok' ? {} : {error: end.error}),
      }
      const usage = failed ? [] : tally.usage.rows()
      if (failed && writer) {
        // A failed target is saved as unread: the rows of the functions it gave before it failed go.
        const other = (row: {accountId: string; region: string}) => row.accountId !== end.accountId || row.region !== end.region
        unsaved = {functions: unsaved.functions.filter(other), findings: unsaved.findings.filter(other)}
        writer.dropTarget(end)
      }
      writer?.add({targets: [target], functions: [], usage, findings: []})
      summary.targets++
      if (failed) summary.failedTargets++
      else {
        summary.functions += tally.functions
        for (const severity of SEVERITIES) summary.findings[severity] += tally.findings[severity]
      }
      if (end.status !== 'ok') notScannedCompletely.push(target)
      await consumer.target({target, usage}, run)
    })
  }

  try {
    for (const failure of plan.failed) await takeTarget({...failure, status: 'failed', functions: 0})
    await streamTargets(
      plan.targets.map(({account: _account, ...target}) => target),
      (target) => env.readApiFor(byKey.get(targetKey(target))!),
      {
        concurrency: request.concurrency ?? DEFAULT_AUDIT_CONCURRENCY,
        emit: request.emit,
        ...(request.db ? {cache: layerVersionCache(request.db), functionVersions: functionVersionCache(request.db)} : {}),
      },
      {function: takeFunction, target: takeTarget},
    )
  } catch (error) {
    stopped = true
    writer?.abandon()
    throw error
  }
  save()
  const finishedAt = now().toISOString()
  writer?.finish({finishedAt, summary})
  return {...run, finishedAt, summary, notScannedCompletely}
}

/** An audit's whole report: the stream collected (and, with --diff, compared with the previous saved run). */
export async function runAudit(request: AuditRequest, env: AuditEnv): Promise<AuditReport> {
  const parts: TargetPart[] = []
  const judged = new Map<string, FunctionPart[]>()
  const streamed = await streamAudit(request, env, {
    function(part) {
      const key = targetKey(part.function)
      const ofTarget = judged.get(key)
      if (ofTarget) ofTarget.push(part)
      else judged.set(key, [part])
    },
    target({target, usage}) {
      const functions = target.status === 'failed' ? [] : (judged.get(targetKey(target)) ?? [])
      judged.delete(targetKey(target))
      parts.push({
        target,
        functions: functions.map((part) => part.function).sort((a, b) => compareText(a.name, b.name)),
        findings: sortFindings(functions.flatMap((part) => part.findings)),
        usage,
      })
    },
  })
  const report = assembleReport(parts, streamed)
  if (!request.db || streamed.runId === undefined) return report
  const runId = streamed.runId
  const result: AuditReport = {...report, runId}
  if (request.diff) {
    const previous = previousRun(request.db, runId)
    result.diff = previous
      ? {previousRunId: previous.id, previousStartedAt: previous.startedAt, ...diffFindings(runFindings(request.db, previous.id), report.findings)}
      : {added: report.findings, resolved: [], unchanged: 0}
  }
  return result
}

function targetKey(target: {accountId: string; region: string}): string {
  return `${target.accountId}/${target.region}`
}

/** What `layers attach` would set on a managed function, or why it cannot be computed. */
function desiredOf(spec: ManagedFunction, fn: ScannedFunction, env: AuditEnv): DesiredLayers | undefined {
  if (!env.desiredLayers) return undefined
  try {
    return env.desiredLayers(spec, fn)
  } catch (error) {
    return {error: (error as Error).message}
  }
}

/** Who owns a managed function besides layers.yaml (CloudFormation stack, ownership tag), from its tags; a target whose tags cannot be read is warned about once. */
async function ownerOfFunction(target: ResolvedTarget, fn: ScannedFunction, env: AuditEnv, request: AuditRequest, warned: Set<string>): Promise<Owner | undefined> {
  if (!env.functionTags || fn.arn === undefined) return undefined
  try {
    return ownerOf(await env.functionTags(target, fn.arn), request.manifest?.settings.ownershipTags)
  } catch (error) {
    const where = targetKey(target)
    if (warned.has(where)) return undefined
    warned.add(where)
    const failure = failureOf(error)
    request.emit({
      type: 'warning',
      warning: {severity: 'warning', code: 'ERR_LAYERS_AUDIT_TAGS_UNREADABLE', message: `Could not read function tags in ${where} (${failure.code}: ${failure.message}): drift there is reported as drift, without its CloudFormation stack.`, hint: 'Allow lambda:ListTags to the audit\'s credentials in that account.'},
    })
    return undefined
  }
}

/** Exact unzipped sizes of zips built here, keyed by base64 SHA-256 (as Lambda reports CodeSha256). */
export function builtUnzippedBytes(db: StateDatabase): Record<string, number> {
  const rows = db.prepare('SELECT code_sha256 AS sha, unzipped_bytes AS bytes FROM builds').all() as Array<{sha: string; bytes: number}>
  const sizes: Record<string, number> = {}
  for (const row of rows) {
    const sha = /^[0-9a-f]{64}$/i.test(row.sha) ? Buffer.from(row.sha, 'hex').toString('base64') : row.sha
    sizes[sha] = row.bytes
  }
  return sizes
}
