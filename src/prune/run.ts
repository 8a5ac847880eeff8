// Owns `layers prune`: which versions of the manifest's own layers can go (not pinned by the lock
// for any target, not used by any function ($LATEST or a version an alias routes to) in a fresh audit, not among the N newest, old enough),
// the storage they free, and, with --yes or once request.confirm says yes (src/cli/confirm.ts),
// deleting them and recording each deletion in the history; without either it only plans.
// The audit is run here, or the last saved one is used only while it is fresh and covers the targets.
// On an interrupt (request.signal) no listing or deletion starts any more; the deletions in flight
// finish and are recorded; InterruptedError lists the versions deleted and the candidates not deleted.
// With team state, the deletions of one layer, account and region run under publish's lease
// (src/publish/lease.ts), so a publish adopting a version and a prune deleting it never overlap.
import pLimit from 'p-limit'
import {InterruptedError, OperationalError, UserInputError} from '../errors/index.js'
import type {EmitEvent} from '../events.js'
import {previousRun, recordPrune, runLayerUsage} from '../history/store.js'
import type {Lockfile} from '../lock/types.js'
import {isOwnLayer, type Manifest} from '../manifest/types.js'
import {selectLayerNames} from '../manifest/select.js'
import type {StateDatabase} from '../store/db.js'
import {buildCatalog} from '../audit/catalog.js'
import type {RuntimeDeprecation} from '../audit/findings.js'
import {runAudit, type AuditEnv} from '../audit/run.js'
import {failureOf} from '../audit/scan.js'
import {resolveTargets, type ResolvedTarget, type TargetFlags} from '../audit/targets.js'
import type {TargetFailure, TargetReport} from '../audit/types.js'
import {withLease, type TeamLeases} from '../publish/lease.js'
import type {PruneLambdaApi} from './lambda.js'
import {planPrune, type KeptVersion, type ListedVersion} from './plan.js'
import type {Confirm} from '../cli/confirm.js'
import {pruneConfirmation, renderPruneInterrupted} from './render.js'

export interface PruneEnv extends AuditEnv {
  pruneApiFor(target: ResolvedTarget): Promise<PruneLambdaApi>
}

export interface PruneRequest {
  manifest: Manifest
  lock: Lockfile | undefined
  /** Manifest layer names; empty: every own layer. */
  layers: string[]
  keep: number
  olderThanMs?: number
  /** Delete the candidates without asking. */
  yes: boolean
  /** Without `yes`: asked with the candidates before the first deletion (it may refuse by throwing); absent: plan only. */
  confirm?: Confirm
  /** Use the newest saved audit instead of running one; refused when older than maxAuditAgeMs. */
  useLastAudit: boolean
  maxAuditAgeMs: number
  flags: TargetFlags
  concurrency: number
  db: StateDatabase
  runtimes: RuntimeDeprecation[]
  now?: () => Date
  emit: EmitEvent
  /** Fires on an interrupt: no further listing or deletion starts; runPrune then throws InterruptedError. */
  signal?: AbortSignal
  /** Team state (leases) for the deletions; undefined with --no-remote-state. */
  leases?: TeamLeases
}

export interface PrunedVersion extends ListedVersion {
  codeSize: number
}

export interface PruneResult {
  dryRun: boolean
  audit: {runId: number; startedAt: string; reused: boolean}
  candidates: PrunedVersion[]
  kept: KeptVersion[]
  freedBytes: number
  deleted: PrunedVersion[]
  failures: Array<{accountId: string; region: string; layer?: string; arn?: string; error: TargetFailure}>
}

export async function runPrune(request: PruneRequest, env: PruneEnv): Promise<PruneResult> {
  const now = request.now ?? (() => new Date())
  const own = Object.values(request.manifest.layers).filter(isOwnLayer)
  const layers = selectLayerNames(request.manifest, request.layers, {kinds: 'own', purpose: 'prune'})
  if (!Number.isInteger(request.keep) || request.keep < 0) {
    throw new UserInputError('ERR_LAYERS_FLAG_VALUE', `--keep ${request.keep} is not a whole number of versions.`, {hint: 'Give --keep 0 or more, e.g. --keep 3.'})
  }

  const plan = await resolveTargets(request.manifest, request.flags, {...(env.regions ? {regions: env.regions} : {}), ...(env.profileRegion ? {profileRegion: env.profileRegion} : {}), failure: failureOf})
  const audit = await auditFor(request, env, plan.targets, now)

  const failures: PruneResult['failures'] = plan.failed.map((entry) => ({accountId: entry.accountId, region: entry.region, error: entry.error}))
  const limit = pLimit(Math.max(1, request.concurrency))
  const versions: ListedVersion[] = []
  const apis = new Map<string, PruneLambdaApi>()
  const listings = plan.targets.length * layers.length
  let listed = 0
  await Promise.all(
    plan.targets.flatMap((target) =>
      layers.map((layer) =>
        limit(async () => {
          if (request.signal?.aborted) return
          try {
            const key = `${target.accountId}/${target.region}`
            const api = apis.get(key) ?? (await env.pruneApiFor(target))
            apis.set(key, api)
            for (const entry of await api.listLayerVersions(layer)) {
              versions.push({layer, accountId: target.accountId, region: target.region, version: entry.version, arn: entry.arn, createdDate: entry.createdDate})
            }
          } catch (error) {
            failures.push({accountId: target.accountId, region: target.region, layer, error: failureOf(error)})
          }
          request.emit({type: 'progress', phase: 'prune', message: `listed ${layer} ${target.accountName ?? target.accountId}/${target.region}`, current: ++listed, total: listings})
        }),
      ),
    ),
  )

  if (request.signal?.aborted) throw interrupted(request.signal, [], [])
  const catalog = buildCatalog(request.manifest, request.lock)
  const sharedWith: Record<string, string[]> = {}
  const sharedBeyond: Record<string, string> = {}
  for (const layer of own) {
    sharedWith[layer.name] = layer.share.accounts
    if (layer.share.public) sharedBeyond[layer.name] = 'everyone (public)'
    else if (layer.share.organization) sharedBeyond[layer.name] = `organization ${layer.share.organization}`
  }
  const decided = planPrune({
    versions,
    // A version a channel holds (lockfile `channels`: what IaC reads through SSM) is pinned like a locked one.
    lockedArns: new Set([...catalog.locked.map((entry) => entry.arn), ...channelArns(request.lock)]),
    usedArns: audit.usedArns,
    unread: audit.unread,
    auditedAccounts: audit.auditedAccounts,
    sharedWith,
    sharedBeyond,
    keep: request.keep,
    ...(request.olderThanMs === undefined ? {} : {olderThanMs: request.olderThanMs}),
    now: now().toISOString(),
  })

  const candidates: PrunedVersion[] = []
  let sized = 0
  await Promise.all(
    decided.candidates.map((entry) =>
      limit(async () => {
        const api = apis.get(`${entry.accountId}/${entry.region}`)!
        try {
          candidates.push({...entry, codeSize: await api.layerVersionSize(entry.arn)})
        } catch (error) {
          failures.push({accountId: entry.accountId, region: entry.region, layer: entry.layer, arn: entry.arn, error: failureOf(error)})
        }
        request.emit({type: 'progress', phase: 'prune', message: `sized ${entry.arn}`, current: ++sized, total: decided.candidates.length})
      }),
    ),
  )
  candidates.sort(compareVersions)
  const approved = request.yes || (candidates.length > 0 && request.confirm !== undefined && (await request.confirm(pruneConfirmation(candidates, failures))))
  const deleted: PrunedVersion[] = []
  if (approved) {
    // One lease per layer, account and region around its deletions.
    const groups = new Map<string, PrunedVersion[]>()
    for (const entry of candidates) {
      const key = `${entry.layer}\u0000${entry.accountId}\u0000${entry.region}`
      groups.set(key, [...(groups.get(key) ?? []), entry])
    }
    await Promise.all(
      [...groups.values()].map((entries) =>
        limit(async () => {
          const first = entries[0]!
          const account = plan.targets.find((target) => target.accountId === first.accountId)?.account
          const leases = account ? request.leases : undefined
          await withLease(leases?.config, leases ? leases.target(first.layer, account!, first.region) : NO_LEASE, async (lease) => {
            for (const entry of entries) {
              if (request.signal?.aborted) return
              try {
                // Taken before the first deletion; a lease that cannot be taken (or was lost) fails the rest of the group.
                await lease?.hold()
                await apis.get(`${entry.accountId}/${entry.region}`)!.deleteLayerVersion(entry.layer, entry.version)
                recordPrune(request.db, {...entry, auditRunId: audit.runId, deletedAt: now().toISOString()})
                deleted.push(entry)
                request.emit({type: 'progress', phase: 'prune', message: `deleted ${entry.arn}`, current: deleted.length, total: candidates.length})
              } catch (error) {
                failures.push({accountId: entry.accountId, region: entry.region, layer: entry.layer, arn: entry.arn, error: failureOf(error)})
              }
            }
          })
        }),
      ),
    )
    deleted.sort(compareVersions)
  }
  if (request.signal?.aborted) {
    throw interrupted(request.signal, deleted, approved ? candidates.filter((entry) => !deleted.includes(entry)) : [])
  }
  failures.sort((a, b) => `${a.accountId}/${a.region}/${a.arn ?? a.layer ?? ''}`.localeCompare(`${b.accountId}/${b.region}/${b.arn ?? b.layer ?? ''}`, 'en'))
  return {
    dryRun: !approved,
    audit: {runId: audit.runId, startedAt: audit.startedAt, reused: request.useLastAudit},
    candidates,
    kept: decided.kept,
    freedBytes: (approved ? deleted : candidates).reduce((sum, entry) => sum + entry.codeSize, 0),
    deleted,
    failures,
  }
}

function interrupted(signal: AbortSignal, deleted: PrunedVersion[], notDeleted: PrunedVersion[]): InterruptedError {
  const by = InterruptedError.signalOf(signal)
  return new InterruptedError(by, renderPruneInterrupted(by, deleted, notDeleted), {details: {deleted, notDeleted}})
}

const NO_LEASE = {bucket: '', key: '', scope: '', store: () => Promise.reject(new Error('no lease'))}

function compareVersions(a: ListedVersion, b: ListedVersion): number {
  return `${a.layer}\u0000${a.accountId}\u0000${a.region}`.localeCompare(`${b.layer}\u0000${b.accountId}\u0000${b.region}`, 'en') || a.version - b.version
}

interface AuditUse {
  runId: number
  startedAt: string
  usedArns: Set<string>
  unread: Array<{accountId: string; region: string; reason: string}>
  auditedAccounts: Map<string, Set<string>>
}

async function auditFor(request: PruneRequest, env: PruneEnv, targets: ResolvedTarget[], now: () => Date): Promise<AuditUse> {
  let run: {id: number; startedAt: string; targets: TargetReport[]}
  if (request.useLastAudit) {
    const last = previousRun(request.db)
    if (!last) {
      throw new OperationalError('ERR_LAYERS_PRUNE_NO_AUDIT', 'There is no saved audit to prune against.', {
        hint: 'Run `layers audit` first, or leave out --use-last-audit so prune runs a fresh audit itself.',
      })
    }
    const age = now().getTime() - Date.parse(last.startedAt)
    if (age > request.maxAuditAgeMs) {
      throw new OperationalError(
        'ERR_LAYERS_PRUNE_STALE_AUDIT',
        `The last audit (#${last.id}, ${last.startedAt}) is ${Math.round(age / 60_000)} minutes old, older than --max-audit-age allows (${Math.round(request.maxAuditAgeMs / 60_000)} minutes): functions may have moved since.`,
        {hint: 'Run `layers audit` again, or leave out --use-last-audit so prune runs a fresh audit itself.', details: {auditRunId: last.id, startedAt: last.startedAt}},
      )
    }
    run = last
  } else {
    const report = await runAudit(
      {manifest: request.manifest, lock: request.lock, flags: request.flags, concurrency: request.concurrency, db: request.db, runtimes: request.runtimes, now, emit: request.emit},
      env,
    )
    run = {id: report.runId!, startedAt: report.startedAt, targets: report.targets}
  }
  const scanned = new Map(run.targets.map((target) => [`${target.accountId}/${target.region}`, target.status]))
  const unread: AuditUse['unread'] = []
  const auditedAccounts = new Map<string, Set<string>>()
  for (const target of run.targets) {
    if (target.status !== 'ok') {
      // A target not read completely, even one outside this prune's targets, may hold functions using a shared version.
      const error = target.error ? `${target.error.code}: ${target.error.message}` : 'no error reported'
      unread.push({accountId: target.accountId, region: target.region, reason: target.status === 'incomplete' ? error : `audit failed, ${error}`})
      continue
    }
    const accounts = auditedAccounts.get(target.region) ?? new Set<string>()
    accounts.add(target.accountId)
    auditedAccounts.set(target.region, accounts)
  }
  for (const target of targets) {
    if (!scanned.has(`${target.accountId}/${target.region}`)) unread.push({accountId: target.accountId, region: target.region, reason: `not in audit #${run.id}`})
  }
  return {runId: run.id, startedAt: run.startedAt, usedArns: new Set(runLayerUsage(request.db, run.id).map((row) => row.arn)), unread, auditedAccounts}
}

/** Every version ARN a channel of an own layer holds in the lockfile. */
function channelArns(lock: Lockfile | undefined): string[] {
  return Object.values(lock?.layers ?? {}).flatMap((layer) =>
    layer.kind === 'arn' ? [] : Object.values(layer.channels ?? {}).flatMap((byAccount) => Object.values(byAccount).flatMap((byRegion) => Object.values(byRegion).flatMap((byKey) => Object.values(byKey).map((publication) => publication.arn)))),
  )
}
