// Owns running a publish plan against AWS: per unit (artifact x account x region), trust the lockfile's
// record when it holds this content, else look for an existing version carrying it, else upload the
// content's SBOM and zip (content-addressed, each skipped when the object is there) and publish one
// version, whose description names both; record each version
// the moment it exists; make its grants match the manifest. Units of one layer and target run one after
// another, the rest concurrently with a limit; a failing unit fails alone. --dry-run only reads.
// On an interrupt (options.signal) no unit starts a write any more (upload or publish); a
// PublishLayerVersion already sent is awaited (not retried) and its version recorded; then the
// recorder is flushed and InterruptedError lists what was published or adopted and what was not started.
// With team state, the units of one layer and target run under one lease (src/publish/lease.ts),
// taken before their first write only, and a fresh publication is checked for duplicates
// (src/publish/duplicates.ts).
import pLimit from 'p-limit'
import {isThrottling, isUncertain, targetError, type TargetError} from '../aws/errors.js'
import type {LayerPublishApi, LayerVersionInfo} from '../aws/lambda-layers.js'
import type {ArtifactStoreApi} from '../aws/s3-artifacts.js'
import type {SsmParameterApi} from '../aws/ssm-parameters.js'
import {formatBytes} from '../cli/table.js'
import type {HistoryStoreApi} from '../aws/s3-history.js'
import type {LeaseStoreApi} from '../aws/s3-leases.js'
import {InterruptedError, OperationalError, type Problem} from '../errors/index.js'
import {CYCLONEDX_MEDIA_TYPE} from '../sbom/content.js'
import type {EmitEvent} from '../events.js'
import type {Publication} from '../lock/types.js'
import type {SsmSyncResult} from '../ssm/sync.js'
import {settleDuplicates, type DuplicateReport} from './duplicates.js'
import {withLease, type Lease, type LeaseConfig, type LeaseTarget} from './lease.js'
import {candidateVersions, diffGrants, type ArnCheck, type Grant, type PublishPlan, type PublishTarget, type PublishUnit} from './plan.js'
import type {PublicationRecorder} from './record.js'
import {renderPublishInterrupted} from './render.js'

export interface PublishEnv {
  layersApi(target: PublishTarget): Promise<LayerPublishApi>
  store(target: PublishTarget): Promise<ArtifactStoreApi>
  /** The team-state lease calls (src/aws/s3-leases.ts) in the target's account and region. */
  leaseStore?(target: PublishTarget): Promise<LeaseStoreApi>
  /** The shared-history calls (src/aws/s3-history.ts) in the target's account and region. */
  historyStore?(target: PublishTarget): Promise<HistoryStoreApi>
  /** SSM Parameter Store (src/aws/ssm-parameters.ts) in the target's account and region. */
  ssm?(target: PublishTarget): Promise<SsmParameterApi>
}

export interface PublishRunOptions {
  dryRun: boolean
  createBucket: boolean
  concurrency: number
  recorder: PublicationRecorder
  emit: EmitEvent
  /** Waits between attempts of a publish that was throttled or whose outcome is unknown (ms, before jitter). */
  retryBaseMs?: number
  /** Fires on an interrupt: units start no further write; runPublish then throws InterruptedError with the result in `details`. */
  signal?: AbortSignal
  /** Team state (leases); undefined with --no-remote-state. Never used by --dry-run. */
  leases?: {config: LeaseConfig; target(unit: PublishUnit): LeaseTarget}
  /** Grants of locked versions read just before (lockedGrantRemovals): each is used once instead of reading it again. */
  grantReads?: GrantReads
  /**
   * When set, a grant is removed only when listed here (removalKey): the removals the user confirmed.
   * Any other (on a version adopted during the run) is left in place, with a warning.
   */
  confirmedRemovals?: ReadonlySet<string>
}

/**
 * GetLayerVersionPolicy answers by grantReadKey: the grants (undefined: the version has no policy, or
 * is gone), or the error the read failed with (the unit fails with it; it is not read again).
 */
export type GrantReads = Map<string, {grants: Grant[] | undefined} | {error: unknown}>

/** Grants a publish would remove from the version the lockfile records for a unit's content. */
export interface GrantRemoval {
  layer: string
  accountName: string
  accountId: string
  region: string
  version: number
  arn: string
  sids: string[]
}

export function grantReadKey(accountId: string, region: string, layer: string, version: number): string {
  return `${accountId}\u0000${region}\u0000${layer}\u0000${version}`
}

export function removalKey(accountId: string, region: string, layer: string, version: number, sid: string): string {
  return `${grantReadKey(accountId, region, layer, version)}\u0000${sid}`
}

/**
 * What to ask before a publish that may remove grants: the grants of each unit's locked version (one
 * GetLayerVersionPolicy each, the read the run starts with) that the manifest no longer names, and
 * the answers, for the run to use (`grantReads`) instead of reading again. Writes nothing.
 */
export async function lockedGrantRemovals(plan: PublishPlan, env: PublishEnv, concurrency: number): Promise<{removals: GrantRemoval[]; reads: GrantReads}> {
  const limit = pLimit(Math.max(1, concurrency))
  const reads: GrantReads = new Map()
  const removals: GrantRemoval[] = []
  await Promise.all(
    plan.units.map((unit) =>
      limit(async () => {
        if (!unit.locked) return
        const {accountId, accountName, region} = unit.target
        const key = grantReadKey(accountId, region, unit.layer, unit.locked.version)
        if (reads.has(key)) return
        let current: Grant[] | undefined
        try {
          current = await (await env.layersApi(unit.target)).getGrants(unit.layer, unit.locked.version)
        } catch (error) {
          reads.set(key, {error}) // The run fails the unit with it.
          return
        }
        reads.set(key, {grants: current})
        const {remove} = diffGrants(unit.grants, current ?? [])
        if (remove.length > 0) removals.push({layer: unit.layer, accountName, accountId, region, version: unit.locked.version, arn: unit.locked.arn, sids: remove})
      }),
    ),
  )
  removals.sort((a, b) => a.arn.localeCompare(b.arn, 'en'))
  return {removals, reads}
}

/** `not-started`: an interrupted run wrote nothing for the unit (at most read, or uploaded the content-addressed SBOM and zip). */
export type UnitStatus = 'unchanged' | 'adopted' | 'published' | 'would-publish' | 'failed' | 'not-started'
export type UploadStatus = 'not-needed' | 'exists' | 'uploaded' | 'would-upload'
/** `present`: the SBOM object was in the bucket already (an earlier run, or its lost answer). */
export type SbomUploadStatus = 'uploaded' | 'present' | 'would-upload'

export interface UnitOutcome {
  layer: string
  artifact: string
  accountName: string
  accountId: string
  region: string
  status: UnitStatus
  codeSha256: string
  bucket: string
  key: string
  upload: UploadStatus
  /** The SBOM's key in `bucket`, for a unit that publishes (or would): the new version's description names it. */
  sbomKey?: string
  sbomUpload?: SbomUploadStatus
  bucketCreated: boolean
  arn?: string
  version?: number
  grantsAdded: string[]
  grantsRemoved: string[]
  /** Set when versions with this content were found besides the one kept (see duplicates.ts). */
  duplicates?: DuplicateReport
  error?: TargetError
}

export interface ArnCheckOutcome {
  layer: string
  accountName: string
  accountId: string
  region: string
  arn?: string
  status: 'ok' | 'failed'
  error?: TargetError
}

export interface PublishResult {
  dryRun: boolean
  units: UnitOutcome[]
  arnChecks: ArnCheckOutcome[]
  summary: {units: number; published: number; adopted: number; unchanged: number; uploaded: number; grantChanges: number; failed: number; notStarted?: number}
  /** Set by the command when the run warned (lease taken over or lost, duplicates). */
  warnings?: Problem[]
  /** With settings.ssm: the SSM parameters of the channels (src/ssm/sync.ts), set by the command. */
  parameters?: SsmSyncResult
}

const MAX_PUBLISH_ATTEMPTS = 8

export async function runPublish(plan: PublishPlan, env: PublishEnv, options: PublishRunOptions): Promise<PublishResult> {
  const limit = pLimit(Math.max(1, options.concurrency))
  const buckets: Buckets = new Map()
  // Units of one layer in one target share a queue: two artifacts with equal bytes must see each other's version.
  const groups = new Map<string, PublishUnit[]>()
  for (const unit of plan.units) {
    const id = `${unit.layer}\0${unit.target.accountId}\0${unit.target.region}`
    groups.set(id, [...(groups.get(id) ?? []), unit])
  }
  let done = 0
  const total = plan.units.length
  const outcomes = await Promise.all(
    [...groups.values()].map((units) =>
      limit(() =>
        withLease(leaseConfig(units[0]!, env, options, buckets), options.leases?.target(units[0]!) ?? noLease, async (lease) => {
          const results: UnitOutcome[] = []
          for (const unit of units) {
            results.push(await publishUnit(unit, env, options, buckets, lease))
            done++
            options.emit({type: 'progress', phase: 'publish', message: `${unit.layer} (${unit.artifactKey}) ${unit.target.accountName}/${unit.target.region}`, current: done, total})
          }
          return results
        }),
      ),
    ),
  )
  const interrupted = options.signal?.aborted === true
  // An interrupted run checks no pinned ARN (reads only; the rerun does them).
  const arnChecks = interrupted ? [] : await Promise.all(plan.arnChecks.map((check) => limit(() => checkArn(check, env))))
  const units = outcomes.flat()
  const count = (status: UnitStatus) => units.filter((unit) => unit.status === status).length
  const result: PublishResult = {
    dryRun: options.dryRun,
    units,
    arnChecks,
    summary: {
      units: units.length,
      published: count('published') + count('would-publish'),
      adopted: count('adopted'),
      unchanged: count('unchanged'),
      uploaded: units.filter((unit) => unit.upload === 'uploaded' || unit.upload === 'would-upload').length,
      grantChanges: units.reduce((sum, unit) => sum + unit.grantsAdded.length + unit.grantsRemoved.length, 0),
      failed: count('failed') + arnChecks.filter((check) => check.status === 'failed').length,
      ...(interrupted ? {notStarted: count('not-started')} : {}),
    },
  }
  if (!interrupted) return result
  await options.recorder.flush()
  const signal = InterruptedError.signalOf(options.signal!)
  throw new InterruptedError(signal, renderPublishInterrupted(signal, result, plan.arnChecks.length), {details: {...result}})
}

type Buckets = Map<string, {check: Promise<boolean>; reported: boolean}>

const noLease: LeaseTarget = {bucket: '', key: '', scope: '', store: () => Promise.reject(new Error('no lease'))}

/** The group's lease config (none for --dry-run or --no-remote-state); a missing artifact bucket that holds the lease is made as publish makes it. */
function leaseConfig(unit: PublishUnit, env: PublishEnv, options: PublishRunOptions, buckets: Buckets): LeaseConfig | undefined {
  if (!options.leases || options.dryRun) return undefined
  const {config, target} = options.leases
  if (target(unit).bucket !== unit.bucket) return config
  return {...config, prepare: async () => void (await ensureBucket(unit, env, options, buckets, false))}
}

async function checkArn(check: ArnCheck, env: PublishEnv): Promise<ArnCheckOutcome> {
  const base = {layer: check.layer, accountName: check.target.accountName, accountId: check.target.accountId, region: check.target.region, ...(check.arn ? {arn: check.arn} : {})}
  if (!check.arn) {
    return {
      ...base,
      status: 'failed',
      error: {code: 'ERR_LAYERS_ARN_NOT_PINNED', message: `lockfile.json pins no version of ${check.layer} for ${check.target.accountName}/${check.target.region}.`, hint: `Run \`layers lock ${check.layer}\`.`},
    }
  }
  try {
    const info = await (await env.layersApi(check.target)).readByArn(check.arn)
    if (info) return {...base, status: 'ok'}
    return {
      ...base,
      status: 'failed',
      error: {
        code: 'ERR_LAYERS_ARN_UNREADABLE',
        message: `${check.arn} (layer ${check.layer}) does not exist or is not shared with account ${check.target.accountId} in ${check.target.region}.`,
        hint: 'Ask the layer owner to share it with this account, or pin another version with `layers lock`.',
      },
    }
  } catch (error) {
    return {...base, status: 'failed', error: targetError(error)}
  }
}

async function publishUnit(unit: PublishUnit, env: PublishEnv, options: PublishRunOptions, buckets: Buckets, lease?: Lease): Promise<UnitOutcome> {
  const outcome: UnitOutcome = {
    layer: unit.layer,
    artifact: unit.artifactKey,
    accountName: unit.target.accountName,
    accountId: unit.target.accountId,
    region: unit.target.region,
    status: 'unchanged',
    codeSha256: unit.content.codeSha256,
    bucket: unit.bucket,
    key: unit.key,
    upload: 'not-needed',
    bucketCreated: false,
    grantsAdded: [],
    grantsRemoved: [],
  }
  if (options.signal?.aborted) return {...outcome, status: 'not-started'}
  try {
    const api = await env.layersApi(unit.target)
    // 1. The lockfile's record for this very content: one read (the grants) and nothing else, unless
    // the version has no policy: GetLayerVersionPolicy answers NotFound both for a version without
    // grants and for a deleted one, so a second read (GetLayerVersion) tells them apart.
    if (unit.locked) {
      const readKey = grantReadKey(unit.target.accountId, unit.target.region, unit.layer, unit.locked.version)
      const prefetched = options.grantReads?.get(readKey)
      options.grantReads?.delete(readKey)
      if (prefetched && 'error' in prefetched) throw prefetched.error
      const current = prefetched ? prefetched.grants : await api.getGrants(unit.layer, unit.locked.version)
      const exists = current !== undefined || (await api.getVersion(unit.layer, unit.locked.version)) !== undefined
      const applied = exists && (await applyGrants(api, unit, unit.locked.version, current ?? [], options, outcome, lease))
      if (applied) {
        Object.assign(outcome, {status: 'unchanged', arn: unit.locked.arn, version: unit.locked.version})
        return outcome
      }
      // The recorded version is gone (deleted by hand): find or publish the content anew.
      outcome.grantsAdded = []
      outcome.grantsRemoved = []
    }
    // 2. No record: an existing version may hold this content (a lost lockfile, an interrupted run,
    // another machine's publish: from here on the unit may write, so it holds the lease).
    if (!options.dryRun) await lease?.hold()
    const existing = await findExisting(api, unit)
    if (existing) {
      Object.assign(outcome, {status: 'adopted', arn: existing.arn, version: existing.version})
      if (!options.dryRun) await options.recorder.record(recordOf(unit, existing))
      await applyGrants(api, unit, existing.version, (await api.getGrants(unit.layer, existing.version)) ?? [], options, outcome, lease)
      return outcome
    }
    // 3. Upload (content-addressed) and publish exactly one version.
    if (options.signal?.aborted) return {...outcome, status: 'not-started'}
    outcome.bucketCreated = await ensureBucket(unit, env, options, buckets)
    const store = await env.store(unit.target)
    // The SBOM first: small, and once the version exists every reader may look for it.
    outcome.sbomKey = unit.sbom.key
    outcome.sbomUpload = await uploadSbom(store, unit, options.dryRun)
    const size = await store.objectSize(unit.bucket, unit.key)
    if (size === unit.content.zipBytes) {
      outcome.upload = 'exists'
    } else if (options.dryRun) {
      outcome.upload = 'would-upload'
    } else {
      // A large (multipart) upload says how far it is, part by part.
      const onProgress = (sent: number, total: number) =>
        options.emit({type: 'progress', phase: 'upload', message: `${unit.layer} (${unit.artifactKey}) ${unit.target.accountName}/${unit.target.region}: ${formatBytes(sent)} of ${formatBytes(total)}`})
      const stored = await store.upload({bucket: unit.bucket, key: unit.key, file: unit.content.zipPath, bytes: unit.content.zipBytes, sha256Base64: unit.content.codeSha256, onProgress, ...(options.signal ? {signal: options.signal} : {})})
      if (!stored) return {...outcome, status: 'not-started'}
      outcome.upload = 'uploaded'
    }
    if (options.dryRun) {
      outcome.status = 'would-publish'
      outcome.grantsAdded = unit.grants.map((grant) => grant.sid)
      return outcome
    }
    // The zip is uploaded (harmless: content-addressed) but no version exists yet: publish none.
    if (options.signal?.aborted) return {...outcome, status: 'not-started'}
    await lease?.hold()
    const published = await publishOnce(api, unit, options.retryBaseMs ?? 200, options.signal)
    Object.assign(outcome, {status: 'published', arn: published.arn, version: published.version})
    await options.recorder.record(recordOf(unit, published))
    if (lease) {
      const {keep, report} = await settleDuplicates(api, unit, published)
      if (report) {
        outcome.duplicates = report
        for (const gone of report.deleted) options.recorder.deleted?.({layer: unit.layer, accountId: unit.target.accountId, region: unit.target.region, version: gone.version, arn: gone.arn, codeSize: unit.content.zipBytes, deletedAt: new Date().toISOString()})
        options.emit({type: 'warning', warning: duplicateWarning(unit, report)})
      }
      if (keep.version !== published.version) {
        Object.assign(outcome, {status: 'adopted', arn: keep.arn, version: keep.version})
        await options.recorder.record(recordOf(unit, keep))
        await applyGrants(api, unit, keep.version, (await api.getGrants(unit.layer, keep.version)) ?? [], options, outcome, lease)
        return outcome
      }
    }
    await applyGrants(api, unit, published.version, [], options, outcome, lease)
    return outcome
  } catch (error) {
    outcome.status = 'failed'
    outcome.error = targetError(error)
    return outcome
  }
}

/** HEAD, then PUT only when the object is absent (or not these bytes): a no-op, or a rerun after a lost answer, writes nothing. */
async function uploadSbom(store: ArtifactStoreApi, unit: PublishUnit, dryRun: boolean): Promise<SbomUploadStatus> {
  const body = Buffer.from(unit.sbom.text, 'utf8')
  if ((await store.objectSize(unit.bucket, unit.sbom.key)) === body.byteLength) return 'present'
  if (dryRun) return 'would-upload'
  await store.putObject({bucket: unit.bucket, key: unit.sbom.key, body, contentType: CYCLONEDX_MEDIA_TYPE})
  return 'uploaded'
}

function grantsLeftWarning(unit: PublishUnit, version: number, sids: string[]): Problem {
  return {
    severity: 'warning',
    code: 'ERR_LAYERS_GRANTS_LEFT',
    message: `Version ${version} of ${unit.layer} in ${unit.target.accountName} (${unit.target.accountId})/${unit.target.region}, taken over during this run, keeps grant(s) the manifest no longer names: ${sids.join(', ')} (their removal was not confirmed).`,
    hint: 'Run `layers publish` again: it lists them and asks before removing them (--yes removes them without asking).',
  }
}

function duplicateWarning(unit: PublishUnit, report: DuplicateReport): Problem {
  const where = `${unit.layer} in ${unit.target.accountName} (${unit.target.accountId})/${unit.target.region}`
  const deleted = report.deleted.length > 0 ? `; deleted unused duplicate${report.deleted.length === 1 ? '' : 's'} ${report.deleted.map((entry) => entry.version).join(', ')}` : ''
  const left = report.left.map((entry) => `; kept duplicate ${entry.version} (${entry.reason})`).join('')
  return {
    severity: 'warning',
    code: 'ERR_LAYERS_DUPLICATE_VERSIONS',
    message: `Found more than one version of ${where} with this content: kept version ${report.kept}${deleted}${left}.`,
    hint: 'Another publish ran without the team-state lease (--no-remote-state, an older layers). Duplicates left in place can be removed with `layers prune` once no function uses them.',
  }
}

function recordOf(unit: PublishUnit, version: Pick<LayerVersionInfo, 'arn' | 'version'>): Parameters<PublicationRecorder['record']>[0] {
  const publication: Publication = {arn: version.arn, version: version.version, codeSha256: unit.content.codeSha256}
  return {layer: unit.layer, artifactKey: unit.artifactKey, accountId: unit.target.accountId, region: unit.target.region, publication}
}

/** The oldest version whose description names this content and whose CodeSha256 confirms it. */
async function findExisting(api: LayerPublishApi, unit: PublishUnit): Promise<LayerVersionInfo | undefined> {
  const versions = await api.listVersions(unit.layer)
  for (const candidate of candidateVersions(versions, unit.content.sha256Hex)) {
    const info = await api.getVersion(unit.layer, candidate.version)
    if (info?.codeSha256 === unit.content.codeSha256) return info
  }
  return undefined
}

/**
 * Makes the version's grants match the unit's (a removal not in options.confirmedRemovals, when set,
 * is left, with a warning). Returns false when a grant cannot be added because the version is gone
 * (deleted between the caller's existence check and this call).
 */
async function applyGrants(api: LayerPublishApi, unit: PublishUnit, version: number, current: Grant[], options: PublishRunOptions, outcome: UnitOutcome, lease?: Lease): Promise<boolean> {
  const {add, remove: wanted} = diffGrants(unit.grants, current)
  const {accountId, region} = unit.target
  const confirmed = options.confirmedRemovals
  const remove = confirmed ? wanted.filter((sid) => confirmed.has(removalKey(accountId, region, unit.layer, version, sid))) : wanted
  const left = wanted.filter((sid) => !remove.includes(sid))
  if (left.length > 0) options.emit({type: 'warning', warning: grantsLeftWarning(unit, version, left)})
  outcome.grantsAdded = add.map((grant) => grant.sid)
  outcome.grantsRemoved = remove
  if (options.dryRun) return true
  if (add.length > 0 || remove.length > 0) await lease?.hold()
  for (const sid of remove) {
    try {
      await api.removeGrant(unit.layer, version, sid)
    } catch (error) {
      if ((error as {name?: string}).name !== 'ResourceNotFoundException') throw error
    }
  }
  for (const grant of add) {
    try {
      await api.addGrant(unit.layer, version, grant)
    } catch (error) {
      const name = (error as {name?: string}).name
      // Added by an earlier attempt whose answer was lost: the statement is there.
      if (name === 'ResourceConflictException') continue
      if (name === 'ResourceNotFoundException' && current.length === 0) return false
      throw error
    }
  }
  return true
}

/** Checks (once per bucket and run) that the bucket exists, creating it with --create-bucket; true for the first unit to report a creation. */
async function ensureBucket(unit: PublishUnit, env: PublishEnv, options: PublishRunOptions, buckets: Buckets, report = true): Promise<boolean> {
  let entry = buckets.get(unit.bucket)
  if (!entry) {
    const check = (async () => {
      const store = await env.store(unit.target)
      const state = await store.bucketState(unit.bucket)
      if (state === 'exists') return false
      if (state === 'forbidden') {
        throw new OperationalError('ERR_LAYERS_BUCKET_FORBIDDEN', `Bucket ${unit.bucket} exists but account ${unit.target.accountId} (${unit.target.accountName}) cannot use it.`, {
          hint: 'S3 bucket names are global: choose another `settings.bucket` template (e.g. with {accountId} and {region}), or grant this account access.',
          details: {bucket: unit.bucket, account: unit.target.accountId, region: unit.target.region},
        })
      }
      if (!options.createBucket) {
        throw new OperationalError('ERR_LAYERS_BUCKET_MISSING', `Bucket ${unit.bucket} does not exist in account ${unit.target.accountId} (${unit.target.accountName}), region ${unit.target.region}.`, {
          hint: 'Run `layers publish --create-bucket` to create it, or create it yourself (in the same region as the layer).',
          details: {bucket: unit.bucket, account: unit.target.accountId, region: unit.target.region},
        })
      }
      if (options.dryRun) return true
      await store.createBucket(unit.bucket, unit.target.region)
      return true
    })()
    entry = {check, reported: false}
    buckets.set(unit.bucket, entry)
  }
  // The first unit to need the bucket reports its creation (a lease that needed it first does not); the others see it as there.
  const created = await entry.check
  if (!created || entry.reported || !report) return false
  entry.reported = true
  return true
}

/**
 * PublishLayerVersion is not idempotent: a retry after a lost answer would make a second version. So
 * the call goes out without SDK retries; after throttling (never applied) it is simply sent again,
 * after an unknown outcome the versions are listed first and a version with this content is taken.
 * Once interrupted it is not sent again: an unknown outcome is looked up once (so a version that did
 * land is recorded), then the error stands.
 */
async function publishOnce(api: LayerPublishApi, unit: PublishUnit, retryBaseMs: number, signal?: AbortSignal): Promise<LayerVersionInfo> {
  const input = {
    layerName: unit.layer,
    bucket: unit.bucket,
    key: unit.key,
    description: unit.description,
    runtimes: unit.runtimes,
    architectures: unit.architectures,
    ...(unit.license ? {license: unit.license} : {}),
  }
  for (let attempt = 1; ; attempt++) {
    try {
      return await api.publish(input)
    } catch (error) {
      if (attempt >= MAX_PUBLISH_ATTEMPTS || !(isThrottling(error) || isUncertain(error))) throw error
      await pause(Math.min(5000, retryBaseMs * 2 ** (attempt - 1)) * (0.5 + Math.random()), signal)
      if (isUncertain(error) && !isThrottling(error)) {
        const landed = await findExisting(api, unit)
        if (landed) return landed
      }
      if (signal?.aborted) throw error
    }
  }
}

/** Waits `ms`, or less when `signal` fires meanwhile. */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve()
    const done = (): void => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal?.addEventListener('abort', done, {once: true})
  })
}
