// Owns one `layers audit` run end to end: resolve the targets, scan them, judge each target's findings
// against the manifest and lock as it finishes (streamAudit hands them on and keeps none), save the
// run in the history target by target, and (runAudit) collect the whole report and compare it with the
// previous run. In each target, the tags of managed functions that are behind or drift (only those)
// are read to tell the ones infrastructure as code owns (drift-iac). Every AWS and project dependency
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
import {buildCatalog, type ManagedFunction} from './catalog.js'
import {addToSummary, assembleReport, desiredKey, diffFindings, emptySummary, ownershipCandidates, targetPart, type DesiredLayers, type FindingsInput, type RuntimeDeprecation, type TargetPart} from './findings.js'
import {failureOf, streamTargets, type LambdaReadApi} from './scan.js'
import {resolveTargets, type OrganizationsApi, type RegionsApi, type ResolvedTarget, type TargetFlags} from './targets.js'
import type {AuditReport, LayerVersionsByAccount, ScannedFunction, TargetReport, TargetScan} from './types.js'

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

/** Called as each target finishes, with the history run it is saved in (when saved). */
export type OnTargetPart = (part: TargetPart, run: {runId?: number; startedAt: string}) => void | Promise<void>

/** What a streamed audit returns once every target is done: the counts, not the findings. */
export interface AuditStreamResult {
  runId?: number
  startedAt: string
  finishedAt: string
  summary: AuditReport['summary']
  /** The targets that could not be scanned completely, failed or incomplete (for the exit status and its message). */
  notScannedCompletely: TargetReport[]
}

/**
 * Runs an audit and hands each target's part (its row, functions, findings, layer usage) to
 * `onTarget` as soon as the target is scanned, saving it in the history as it goes; nothing of a
 * finished target is kept, so memory stays flat in fleet size. Failed target resolutions come first.
 */
export async function streamAudit(request: AuditRequest, env: AuditEnv, onTarget: OnTargetPart): Promise<AuditStreamResult> {
  const now = request.now ?? (() => new Date())
  const startedAt = now().toISOString()
  const plan = await resolveTargets(request.manifest, request.flags, {
    ...(env.organizations ? {organizations: env.organizations} : {}),
    ...(env.regions ? {regions: env.regions} : {}),
    ...(env.profileRegion ? {profileRegion: env.profileRegion} : {}),
    failure: failureOf,
  })
  const byKey = new Map(plan.targets.map((target) => [`${target.accountId}/${target.region}`, target]))
  const catalog = buildCatalog(request.manifest, request.lock)
  const unzippedBytes = request.db ? builtUnzippedBytes(request.db) : {}
  const writer = request.db ? openAuditRun(request.db, startedAt) : undefined
  const run = {...(writer ? {runId: writer.runId} : {}), startedAt}
  const summary = emptySummary()
  const notScannedCompletely: TargetReport[] = []
  // Once the run failed (the consumer threw), targets still in flight are dropped, not saved.
  let stopped = false
  // Targets scanned in parallel within their own budgets finish together: one at a time is judged and
  // handed on, so a waiting target holds its scan only, not its part and its output as well.
  const handOn = pLimit(1)
  const take = async (scan: TargetScan, layerVersions: LayerVersionsByAccount): Promise<void> => {
    if (stopped) return
    const scans = [scan]
    const input: FindingsInput = {scans, catalog, desired: desiredFor(scans, catalog.managed, env), layerVersions, unzippedBytes, runtimes: request.runtimes, now: startedAt}
    const owners = await ownersOf(input, byKey, env, request)
    await handOn(async () => {
      if (stopped) return
      const part = targetPart(scan, {...input, owners})
      writer?.add({targets: [part.target], functions: part.functions, usage: part.usage, findings: part.findings})
      addToSummary(summary, part)
      if (part.target.status !== 'ok') notScannedCompletely.push(part.target)
      await onTarget(part, run)
    })
  }
  try {
    for (const failure of plan.failed) await take({...failure, status: 'failed'}, {})
    await streamTargets(
      plan.targets.map(({account: _account, ...target}) => target),
      (target) => env.readApiFor(byKey.get(`${target.accountId}/${target.region}`)!),
      {
        concurrency: request.concurrency ?? DEFAULT_AUDIT_CONCURRENCY,
        emit: request.emit,
        ...(request.db ? {cache: layerVersionCache(request.db), functionVersions: functionVersionCache(request.db)} : {}),
      },
      take,
    )
  } catch (error) {
    stopped = true
    writer?.abandon()
    throw error
  }
  const finishedAt = now().toISOString()
  writer?.finish({finishedAt, summary})
  return {...run, finishedAt, summary, notScannedCompletely}
}

/** An audit's whole report: the stream collected (and, with --diff, compared with the previous saved run). */
export async function runAudit(request: AuditRequest, env: AuditEnv): Promise<AuditReport> {
  const parts: TargetPart[] = []
  const streamed = await streamAudit(request, env, (part) => {
    parts.push(part)
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

/** The owners (CloudFormation stack, ownership tag) of the managed functions of `input.scans` that are behind or drift; a target whose tags cannot be read is warned about once. */
async function ownersOf(input: FindingsInput, targets: Map<string, ResolvedTarget>, env: AuditEnv, request: AuditRequest): Promise<Record<string, Owner>> {
  const owners: Record<string, Owner> = {}
  if (!env.functionTags) return owners
  const functions = new Map<string, {target: ResolvedTarget; arn: string}>()
  for (const scan of input.scans) {
    if (scan.status === 'failed') continue
    for (const fn of scan.functions) if (fn.arn) functions.set(desiredKey(scan.accountId, scan.region, fn.name), {target: targets.get(`${scan.accountId}/${scan.region}`)!, arn: fn.arn})
  }
  const limit = pLimit(8)
  const warned = new Set<string>()
  await Promise.all(
    ownershipCandidates(input).map((key) =>
      limit(async () => {
        const fn = functions.get(key)
        if (!fn) return
        try {
          const owner = ownerOf(await env.functionTags!(fn.target, fn.arn), request.manifest?.settings.ownershipTags)
          if (owner) owners[key] = owner
        } catch (error) {
          const where = `${fn.target.accountId}/${fn.target.region}`
          if (warned.has(where)) return
          warned.add(where)
          const failure = failureOf(error)
          request.emit({
            type: 'warning',
            warning: {severity: 'warning', code: 'ERR_LAYERS_AUDIT_TAGS_UNREADABLE', message: `Could not read function tags in ${where} (${failure.code}: ${failure.message}): drift there is reported as drift, without its CloudFormation stack.`, hint: 'Allow lambda:ListTags to the audit\'s credentials in that account.'},
          })
        }
      }),
    ),
  )
  return owners
}

function desiredFor(scans: TargetScan[], managed: ManagedFunction[], env: AuditEnv): Record<string, DesiredLayers> {
  const desired: Record<string, DesiredLayers> = {}
  if (!env.desiredLayers) return desired
  const byKey = new Map(managed.map((entry) => [desiredKey(entry.accountId, entry.region, entry.name), entry]))
  for (const scan of scans) {
    if (scan.status === 'failed') continue
    for (const fn of scan.functions) {
      const key = desiredKey(scan.accountId, scan.region, fn.name)
      const spec = byKey.get(key)
      if (!spec) continue
      try {
        desired[key] = env.desiredLayers(spec, fn)
      } catch (error) {
        desired[key] = {error: (error as Error).message}
      }
    }
  }
  return desired
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
