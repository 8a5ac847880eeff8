// Owns the team-state lease: one per layer, account and region, so that machines publishing (or
// pruning) at once never both decide "no version holds this content" and both publish. The lease is
// an S3 object (the key is leaseKey's) created with `If-None-Match: *` and holding its owner (random
// per run), host, pid, command, start and expiry; it is renewed while the work runs (`If-Match` on its
// ETag), released at the end (DeleteObject `If-Match`) and taken over, `If-Match` on the ETag seen,
// once it has not changed for a whole lease duration (a holder that died), or at once when its holder
// was a process of this host that no longer runs (a killed run, rerun here). Waiting is bounded and
// reported (who holds it, since when). A lease is taken lazily, on the first `hold()`, so read-only
// paths (a no-op publish) make no call for it. Losing the lease (a renewal refused) makes the next
// `hold()` throw, so the unit stops before its next write. The S3 calls are in src/aws/s3-leases.ts.
import {randomUUID} from 'node:crypto'
import os from 'node:os'
import type {LeaseStoreApi} from '../aws/s3-leases.js'
import {OperationalError, type Problem} from '../errors/index.js'
import {millisecondsFromEnv} from '../env.js'
import type {EmitEvent} from '../events.js'
import {DEFAULT_STATE_SETTINGS, type Account, type Manifest} from '../manifest/types.js'
import {bucketName} from '../manifest/bucket.js'

/** Lease defaults: a holder renews every third of the duration; a waiter gives up after `waitMs`. */
export const DEFAULT_LEASE_MS = 60_000
export const DEFAULT_LEASE_WAIT_MS = 10 * 60_000
/** The longest LAYERS_LEASE_MS / LAYERS_LEASE_WAIT_MS allow (a day). */
const LEASE_ENV_MAX_MS = 24 * 3600_000

export interface LeaseOwner {
  /** Random per run: two runs on one host (or one pid reused) never share a lease. */
  id: string
  host: string
  pid: number
  command: string
}

/** LAYERS_HOSTNAME names this machine in leases (containers that share one host name set it apart). */
export function leaseOwner(command: string, env: NodeJS.ProcessEnv = process.env): LeaseOwner {
  return {id: randomUUID(), host: env.LAYERS_HOSTNAME || os.hostname(), pid: process.pid, command}
}

/** What a lease object holds (JSON). */
export interface LeaseRecord {
  owner: string
  host: string
  pid: number
  command: string
  /** The work it covers, e.g. `layer config in 111111111111/eu-west-1`. */
  scope: string
  acquiredAt: string
  expiresAt: string
  /** Renewals so far: each write of the record has a new body, hence a new ETag. */
  renewals: number
}

export interface LeaseTarget {
  bucket: string
  key: string
  /** For messages: `layer config in dev (111111111111)/eu-west-1`. */
  scope: string
  /** The S3 calls, with the credentials of the target's account. */
  store(): Promise<LeaseStoreApi>
}

export interface LeaseConfig {
  owner: LeaseOwner
  durationMs: number
  waitMs: number
  emit: EmitEvent
  /** Called once when the lease bucket does not exist (e.g. to create it with --create-bucket). */
  prepare?(target: LeaseTarget): Promise<void>
  /** Injected in tests. */
  now?: () => number
  sleep?: (ms: number) => Promise<void>
}

/** `<prefix>.layers-state/leases/<layer>/<accountId>/<region>.json` in the state bucket. */
export function leaseKey(prefix: string, layer: string, accountId: string, region: string): string {
  return `${prefix}.layers-state/leases/${layer}/${accountId}/${region}.json`
}

export function parseLeaseRecord(body: string): LeaseRecord | undefined {
  try {
    const value = JSON.parse(body) as Partial<LeaseRecord>
    if (typeof value.owner !== 'string' || typeof value.expiresAt !== 'string') return undefined
    return {
      owner: value.owner,
      host: String(value.host ?? '?'),
      pid: Number(value.pid ?? 0),
      command: String(value.command ?? '?'),
      scope: String(value.scope ?? ''),
      acquiredAt: String(value.acquiredAt ?? value.expiresAt),
      expiresAt: value.expiresAt,
      renewals: Number(value.renewals ?? 0),
    }
  } catch {
    return undefined
  }
}

function holderText(record: LeaseRecord | undefined): string {
  return record ? `${record.command} on ${record.host} (pid ${record.pid}) since ${record.acquiredAt}` : 'an unreadable lease record'
}

/** The holder ran on this host (same host name) and its pid is gone. */
export function deadHereAndNow(record: LeaseRecord, me: LeaseOwner): boolean {
  if (record.host !== me.host || !Number.isInteger(record.pid) || record.pid <= 0 || record.pid === me.pid) return false
  try {
    process.kill(record.pid, 0)
    return false
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH'
  }
}

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

export class Lease {
  private etag: string | undefined
  private record: LeaseRecord | undefined
  private lost: string | undefined
  private timer: NodeJS.Timeout | undefined
  private renewing: Promise<void> | undefined
  private acquiring: Promise<void> | undefined
  private released = false
  private readonly now: () => number
  private readonly sleep: (ms: number) => Promise<void>

  constructor(
    private readonly config: LeaseConfig,
    readonly target: LeaseTarget,
  ) {
    this.now = config.now ?? Date.now
    this.sleep = config.sleep ?? defaultSleep
  }

  get held(): boolean {
    return this.etag !== undefined && this.lost === undefined
  }

  /** Takes the lease on the first call (waiting for it); afterwards throws if it was lost meanwhile. */
  async hold(): Promise<void> {
    if (this.released) throw new Error(`lease ${this.target.key} used after release`)
    this.acquiring ??= this.acquire()
    await this.acquiring
    if (this.lost !== undefined) {
      throw new OperationalError('ERR_LAYERS_LEASE_LOST', `Lost the lease on ${this.target.scope} (s3://${this.target.bucket}/${this.target.key}): ${this.lost}. Stopped before the next write.`, {
        hint: 'Another run took the lease over (this one was too slow to renew it). Run `layers publish` again: it converges on one version per content.',
        details: {bucket: this.target.bucket, key: this.target.key},
      })
    }
  }

  /** Stops renewing and deletes the lease if it is still ours. Never throws: a lease left behind expires. */
  async release(): Promise<void> {
    if (this.released) return
    this.released = true
    if (this.timer) clearInterval(this.timer)
    await this.acquiring?.catch(() => undefined)
    await this.renewing
    if (this.etag === undefined || this.lost !== undefined) return
    try {
      const store = await this.target.store()
      const result = await store.remove(this.target.bucket, this.target.key, this.etag)
      if (!result.ok && result.reason === 'changed') this.warn('ERR_LAYERS_LEASE_LOST', `The lease on ${this.target.scope} was taken over before this run released it.`)
    } catch (error) {
      this.warn('ERR_LAYERS_LEASE_RELEASE', `Could not release the lease on ${this.target.scope}: ${(error as Error).message}. It expires by itself.`)
    } finally {
      this.etag = undefined
    }
  }

  private body(renewals: number, acquiredAt: string): string {
    const {owner, durationMs} = this.config
    const record: LeaseRecord = {
      owner: owner.id,
      host: owner.host,
      pid: owner.pid,
      command: owner.command,
      scope: this.target.scope,
      acquiredAt,
      expiresAt: new Date(this.now() + durationMs).toISOString(),
      renewals,
    }
    return JSON.stringify(record)
  }

  private async acquire(): Promise<void> {
    const {durationMs, waitMs, emit} = this.config
    const store = await this.target.store()
    const {bucket, key} = this.target
    const started = this.now()
    const poll = Math.min(500, Math.max(25, durationMs / 10))
    let seen: {etag: string; since: number} | undefined
    let announced: string | undefined
    let prepared = false
    for (;;) {
      const acquiredAt = new Date(this.now()).toISOString()
      const body = this.body(0, acquiredAt)
      let created
      try {
        created = await store.create(bucket, key, body)
      } catch (error) {
        if ((error as {name?: string}).name === 'NoSuchBucket' && this.config.prepare && !prepared) {
          prepared = true
          await this.config.prepare(this.target)
          continue
        }
        throw this.stateError(error)
      }
      if (created.ok) return this.acquired(created.etag, body)
      if (created.reason !== 'conflict') {
        const current = await store.read(bucket, key)
        if (current) {
          const record = parseLeaseRecord(current.body)
          // Our own create, whose answer was lost and which the SDK sent again.
          if (current.body === body) return this.acquired(current.etag, body)
          if (seen?.etag !== current.etag) seen = {etag: current.etag, since: this.now()}
          // Said once per holder (in CI logs too), then as progress on a terminal.
          const holder = record?.owner ?? current.etag
          const message = `waiting for the lease on ${this.target.scope}, held by ${holderText(record)}`
          emit(holder === announced ? {type: 'progress', phase: 'lease', message} : {type: 'info', message: `Waiting for the lease on ${this.target.scope}, held by ${holderText(record)}.`})
          announced = holder
          // Unchanged for a whole lease duration by our own clock (no trust in other machines' clocks),
          // or held by a process of this host that no longer runs (a killed run, rerun here).
          if (this.now() - seen.since >= durationMs || (record && deadHereAndNow(record, this.config.owner))) {
            const takeover = await store.replace(bucket, key, body, current.etag)
            if (takeover.ok) {
              const why = this.now() - seen.since >= durationMs ? `not renewed for ${Math.round(durationMs / 1000)} s` : 'that process no longer runs on this host'
              this.warn('ERR_LAYERS_LEASE_TAKEN_OVER', `Took over the expired lease on ${this.target.scope} from ${holderText(record)} (${why}).`)
              return this.acquired(takeover.etag, body)
            }
            continue
          }
          if (this.now() - started >= waitMs) {
            throw new OperationalError('ERR_LAYERS_LEASE_TIMEOUT', `Gave up waiting for the lease on ${this.target.scope} after ${Math.round(waitMs / 1000)} s: it is held by ${holderText(record)}.`, {
              hint: `Wait for that run to finish and run again, or raise the wait with LAYERS_LEASE_WAIT_MS. A lease whose holder died is taken over once it is not renewed for ${Math.round(durationMs / 1000)} s.`,
              details: {bucket, key, ...(record ? {holder: `${record.host}/${record.pid}`} : {})},
            })
          }
        } else {
          continue // released just now: try again at once
        }
      } else if (this.now() - started >= waitMs) {
        throw new OperationalError('ERR_LAYERS_LEASE_TIMEOUT', `Gave up waiting for the lease on ${this.target.scope} after ${Math.round(waitMs / 1000)} s: S3 kept answering ConditionalRequestConflict.`, {
          hint: 'Other runs keep writing the lease at the same moment; run again.',
          details: {bucket, key},
        })
      }
      await this.sleep(poll * (0.5 + Math.random()))
    }
  }

  private acquired(etag: string, body: string): void {
    this.etag = etag
    this.record = parseLeaseRecord(body)
    this.timer = setInterval(() => {
      this.renewing ??= this.renew().finally(() => {
        this.renewing = undefined
      })
    }, Math.max(10, this.config.durationMs / 3))
    this.timer.unref()
  }

  private async renew(): Promise<void> {
    if (this.etag === undefined || this.lost !== undefined || this.released || !this.record) return
    const body = this.body(this.record.renewals + 1, this.record.acquiredAt)
    try {
      const store = await this.target.store()
      const result = await store.replace(this.target.bucket, this.target.key, body, this.etag)
      if (result.ok) {
        this.etag = result.etag
        this.record = parseLeaseRecord(body)
        return
      }
      if (result.reason === 'conflict') return // tried again at the next tick
      const current = await store.read(this.target.bucket, this.target.key)
      if (current && current.body === body) {
        // Our renewal landed; its answer was lost and the SDK's retry saw the new ETag.
        this.etag = current.etag
        this.record = parseLeaseRecord(body)
        return
      }
      this.lose(current ? `it is now held by ${holderText(parseLeaseRecord(current.body))}` : 'its object was deleted')
    } catch (error) {
      // A renewal that cannot get through for a whole duration means another run may take over.
      if (this.record && this.now() >= Date.parse(this.record.expiresAt)) this.lose(`renewals failed until it expired (${(error as Error).message})`)
    }
  }

  private lose(reason: string): void {
    this.lost = reason
    if (this.timer) clearInterval(this.timer)
    this.warn('ERR_LAYERS_LEASE_LOST', `Lost the lease on ${this.target.scope}: ${reason}.`)
  }

  private warn(code: Problem['code'], message: string): void {
    this.config.emit({type: 'warning', warning: {severity: 'warning', code, message, hint: 'See "Team state" in the README.'}})
  }

  private stateError(error: unknown): Error {
    const name = (error as {name?: string}).name
    const {bucket, scope} = this.target
    if (name === 'NoSuchBucket') {
      return new OperationalError('ERR_LAYERS_STATE_BUCKET_MISSING', `The state bucket ${bucket} (for the lease on ${scope}) does not exist.`, {
        hint: 'Create it (in the same account and region), point `settings.state.bucket` at an existing bucket, or run with --no-remote-state on a single-user setup.',
        details: {bucket},
      })
    }
    if (name === 'AccessDenied' || (error as {$metadata?: {httpStatusCode?: number}}).$metadata?.httpStatusCode === 403) {
      return new OperationalError('ERR_LAYERS_STATE_FORBIDDEN', `Cannot write the lease on ${scope} to s3://${bucket}/${this.target.key}: access denied.`, {
        hint: 'Allow s3:PutObject, s3:GetObject and s3:DeleteObject on the `.layers-state/` keys of the state bucket, or run with --no-remote-state on a single-user setup.',
        details: {bucket},
      })
    }
    return error as Error
  }
}

/**
 * Runs `work` with a lease on `target` that it takes by calling `hold()` before its first write, and
 * releases it afterwards. Without a config (--no-remote-state) `work` gets no lease.
 */
export async function withLease<T>(config: LeaseConfig | undefined, target: LeaseTarget, work: (lease: Lease | undefined) => Promise<T>): Promise<T> {
  if (!config) return work(undefined)
  const lease = new Lease(config, target)
  try {
    return await work(lease)
  } finally {
    await lease.release()
  }
}

/** A duration in ms from the environment (LAYERS_LEASE_MS, LAYERS_LEASE_WAIT_MS), else `fallback`. */
export interface TeamLeases {
  config: LeaseConfig
  target(layer: string, account: Account, region: string): LeaseTarget
}

/**
 * The leases of a command (publish, prune): in the state bucket (settings.state.bucket, else the
 * artifact bucket, {accountId}/{region} filled in) under `<prefix>.layers-state/leases/`, lasting
 * settings.state.leaseSeconds (LAYERS_LEASE_MS overrides); undefined when settings.state.remote is false.
 */
export function teamLeases(
  manifest: Pick<Manifest, 'settings'>,
  command: string,
  emit: EmitEvent,
  store: (account: Account, region: string) => Promise<LeaseStoreApi>,
): TeamLeases | undefined {
  const state = manifest.settings.state ?? DEFAULT_STATE_SETTINGS
  if (!state.remote) return undefined
  const config: LeaseConfig = {
    owner: leaseOwner(command),
    durationMs: millisecondsFromEnv('LAYERS_LEASE_MS', process.env.LAYERS_LEASE_MS, {fallback: state.leaseSeconds * 1000, min: 100, max: LEASE_ENV_MAX_MS, purpose: 'how long a lease lasts unless renewed', example: 30_000}),
    waitMs: millisecondsFromEnv('LAYERS_LEASE_WAIT_MS', process.env.LAYERS_LEASE_WAIT_MS, {fallback: DEFAULT_LEASE_WAIT_MS, min: 100, max: LEASE_ENV_MAX_MS, purpose: 'how long to wait for another run\'s lease', example: 30_000}),
    emit,
  }
  return {
    config,
    target: (layer, account, region) => ({
      bucket: bucketName(state.bucket ?? manifest.settings.bucket, {accountId: account.id, region}),
      key: leaseKey(manifest.settings.prefix, layer, account.id, region),
      scope: `layer ${layer} in ${account.name} (${account.id})/${region}`,
      store: () => store(account, region),
    }),
  }
}
