// Owns the shared history: every publication, grant change, attach, prune and audit summary is also
// written to the state bucket as an immutable event object under
// `<prefix>.layers-state/history/<layer>/<accountId>/<region>/`, one per event, content-addressed (its
// key ends in the hash of what it records; written with `If-None-Match: *`, so the same event from two
// clones is one object). One envelope (type, layer, accountId, region, at, then the type's fields), one
// writer (best effort: a failed write is a warning), one strict parser (an event can only speak of the
// layer, account and region its key is under) and one merge into the local database, which becomes a
// cache: `layers history` of two clones shows the same events. The S3 calls are in src/aws/s3-history.ts.
import {createHash} from 'node:crypto'
import os from 'node:os'
import {parseLayerVersionArn} from '../audit/arn.js'
import type {AuditReport, Finding} from '../audit/types.js'
import type {HistoryStoreApi} from '../aws/s3-history.js'
import type {EmitEvent} from '../events.js'
import type {PublicationRecord, PublicationRecorder} from '../publish/record.js'
import type {StateDatabase} from '../store/db.js'
import {insertSharedEvents, knownEventKeys, knownPublicationArns} from './store.js'

export interface HistoryTarget {
  bucket: string
  accountId: string
  region: string
  store(): Promise<HistoryStoreApi>
}

export function historyPrefix(prefix: string, layer: string, accountId: string, region: string): string {
  return `${prefix}.layers-state/history/${layer}/${accountId}/${region}/`
}

interface EventBase {
  layer: string
  accountId: string
  region: string
  /** When it happened (ISO 8601). */
  at: string
}

export interface PublicationEvent extends EventBase {
  type: 'publication'
  artifact: string
  version: number
  arn: string
  codeSha256: string
  publishedAt: string
}

/** Grants a publish added to or removed from a version (statement ids). */
export interface GrantEvent extends EventBase {
  type: 'grant'
  version: number
  arn: string
  added: string[]
  removed: string[]
}

/** A function attach updated to use this version. */
export interface AttachEvent extends EventBase {
  type: 'attach'
  version: number
  arn: string
  function: string
}

/** A version prune deleted. */
export interface PruneEvent extends EventBase {
  type: 'prune'
  version: number
  arn: string
  codeSize: number
}

/** What one audit run saw of the layer in one target (account, region). */
export interface AuditEvent extends EventBase {
  type: 'audit'
  /** The run's id in the history of the machine that ran it, and that machine. */
  runId: number
  host: string
  functions: number
  findings: number
  versions: Array<{version: number; functions: number}>
}

export type SharedEvent = PublicationEvent | GrantEvent | AttachEvent | PruneEvent | AuditEvent
export type SharedEventType = SharedEvent['type']

/** The event's key (the hash of its body: the same event is one object) and body. */
export function eventObject(prefix: string, event: SharedEvent): {key: string; body: string} {
  const body = JSON.stringify(event)
  const where = historyPrefix(prefix, event.layer, event.accountId, event.region)
  if (event.type === 'publication') {
    // What it records, not when: two clones adopting one version write one object.
    const identity = JSON.stringify([event.layer, event.artifact, event.accountId, event.region, event.version, event.arn, event.codeSha256])
    return {key: `${where}publication-${event.version}-${event.artifact}-${digest(identity)}.json`, body}
  }
  return {key: `${where}${event.type}-${digest(body)}.json`, body}
}

function digest(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 32)
}

/** The publication event of a record. */
export function publicationEvent(record: PublicationRecord, at: string): PublicationEvent {
  const {layer, artifactKey: artifact, accountId, region, publication} = record
  return {type: 'publication', layer, accountId, region, at, artifact, version: publication.version, arn: publication.arn, codeSha256: publication.codeSha256, publishedAt: at}
}

/** What the audit summary events are made of: a saved run's targets and usage, and where its findings are. */
export type AuditSummarySource = Pick<AuditReport, 'runId' | 'startedAt' | 'targets' | 'usage'> & {findings: ReadonlyArray<Pick<Finding, 'accountId' | 'region' | 'layer'>>}

/**
 * The audit summary events of a saved run: per layer of `layers` and target scanned (status ok or incomplete), the
 * functions using its versions there and the findings about them. A layer the target does not use and
 * no finding names writes nothing. Only versions in the target's own account and region count.
 */
export function auditSummaryEvents(report: AuditSummarySource, layers: string[], env: NodeJS.ProcessEnv = process.env): AuditEvent[] {
  if (report.runId === undefined) return []
  const host = env.LAYERS_HOSTNAME || os.hostname()
  const events: AuditEvent[] = []
  for (const target of report.targets.filter((entry) => entry.status !== 'failed')) {
    const here = (arn: string | undefined, layer: string) => {
      const parts = arn === undefined ? undefined : parseLayerVersionArn(arn)
      return parts !== undefined && parts.name === layer && parts.accountId === target.accountId && parts.region === target.region ? parts : undefined
    }
    for (const layer of layers) {
      const versions: AuditEvent['versions'] = []
      for (const usage of report.usage) {
        const parts = here(usage.arn, layer)
        const functions = usage.targets.filter((entry) => entry.accountId === target.accountId && entry.region === target.region).reduce((sum, entry) => sum + entry.functions, 0)
        if (parts && functions > 0) versions.push({version: parts.version, functions})
      }
      const findings = report.findings.filter((finding) => finding.accountId === target.accountId && finding.region === target.region && here(finding.layer, layer)).length
      if (versions.length === 0 && findings === 0) continue
      versions.sort((a, b) => a.version - b.version)
      const functions = versions.reduce((sum, entry) => sum + entry.functions, 0)
      events.push({type: 'audit', layer, accountId: target.accountId, region: target.region, at: report.startedAt, runId: report.runId, host, functions, findings, versions})
    }
  }
  return events
}

const FIELDS: Record<SharedEventType, string[]> = {
  publication: ['artifact', 'version', 'arn', 'codeSha256', 'publishedAt'],
  grant: ['version', 'arn', 'added', 'removed'],
  attach: ['version', 'arn', 'function'],
  prune: ['version', 'arn', 'codeSize'],
  audit: ['runId', 'host', 'functions', 'findings', 'versions'],
}

const isCount = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0
const isText = (value: unknown, max = 256): value is string => typeof value === 'string' && value.length > 0 && value.length <= max && ![...value].some((char) => char < ' ')
const isTime = (value: unknown): value is string => isText(value, 40) && !Number.isNaN(Date.parse(value))
const isTexts = (value: unknown): value is string[] => Array.isArray(value) && value.length <= 100 && value.every((item) => isText(item, 100))

/**
 * The event of `body` when it is a well-formed event of `layer` in `accountId`/`region` (where its key
 * is); undefined otherwise. Every field is checked, no other field is allowed, and an ARN must be a
 * version of this very layer, account and region: an event cannot inject data for another.
 */
export function parseSharedEvent(body: string, layer: string, accountId: string, region: string): SharedEvent | undefined {
  let event: Record<string, unknown>
  try {
    event = JSON.parse(body) as Record<string, unknown>
  } catch {
    return undefined
  }
  if (typeof event !== 'object' || event === null || Array.isArray(event)) return undefined
  const type = event.type as SharedEventType
  if (!Object.hasOwn(FIELDS, type)) return undefined
  const allowed = new Set(['type', 'layer', 'accountId', 'region', 'at', ...FIELDS[type]])
  if (Object.keys(event).some((key) => !allowed.has(key)) || allowed.size !== Object.keys(event).length) return undefined
  if (event.layer !== layer || event.accountId !== accountId || event.region !== region || !isTime(event.at)) return undefined
  if ('arn' in event) {
    const arn = typeof event.arn === 'string' ? parseLayerVersionArn(event.arn) : undefined
    if (!arn || arn.name !== layer || arn.accountId !== accountId || arn.region !== region || arn.version !== event.version) return undefined
  }
  switch (type) {
    case 'publication':
      return isText(event.artifact, 100) && isText(event.codeSha256, 100) && isTime(event.publishedAt) ? (event as unknown as PublicationEvent) : undefined
    case 'grant':
      return isTexts(event.added) && isTexts(event.removed) ? (event as unknown as GrantEvent) : undefined
    case 'attach':
      return typeof event.function === 'string' && /^[\w-]{1,64}$/.test(event.function) ? (event as unknown as AttachEvent) : undefined
    case 'prune':
      return isCount(event.codeSize) ? (event as unknown as PruneEvent) : undefined
    case 'audit': {
      const versions = event.versions
      const ok =
        isCount(event.runId) && isText(event.host, 255) && isCount(event.functions) && isCount(event.findings) &&
        Array.isArray(versions) && versions.length <= 1000 &&
        versions.every((entry: unknown) => typeof entry === 'object' && entry !== null && Object.keys(entry).length === 2 && isCount((entry as {version: unknown}).version) && (entry as {version: number}).version > 0 && isCount((entry as {functions: unknown}).functions))
      return ok ? (event as unknown as AuditEvent) : undefined
    }
  }
}

/** Writes each event to its target's state bucket; a failed write is a warning naming what it lost. */
export async function writeSharedEvents(events: SharedEvent[], prefix: string, target: (event: SharedEvent) => HistoryTarget | undefined, emit: EmitEvent, hint: string): Promise<void> {
  await Promise.all(
    events.map(async (event) => {
      const where = target(event)
      if (!where) return
      const {key} = eventObject(prefix, event)
      try {
        await (await where.store()).putOnce(where.bucket, key, eventObject(prefix, event).body)
      } catch (error) {
        emit({
          type: 'warning',
          warning: {severity: 'warning', code: 'ERR_LAYERS_HISTORY_WRITE', message: `Could not write the ${event.type} event of layer ${event.layer} in ${event.accountId}/${event.region} to the shared history (s3://${where.bucket}/${key}): ${(error as Error).message}.`, hint},
        })
      }
    }),
  )
}

/**
 * A recorder that also writes each record to the shared history once it is in the lockfile. A failed
 * write is a warning: the lockfile and the local history have the record, and the next publish of
 * the layer writes it again (adoptions record too).
 */
export function sharingRecorder(local: PublicationRecorder, prefix: string, target: (record: PublicationRecord) => HistoryTarget, emit: EmitEvent): PublicationRecorder {
  return {
    ...local,
    async record(record) {
      await local.record(record)
      const where = target(record)
      await writeSharedEvents([publicationEvent(record, new Date().toISOString())], prefix, () => where, emit, 'It is in lockfile.json and the local history; the next publish of the layer writes it again.')
    },
  }
}

/** Imports the shared events of `layer` in each target that the local database lacks; returns how many. */
export async function mergeSharedHistory(db: StateDatabase, layer: string, prefix: string, targets: HistoryTarget[], emit: EmitEvent): Promise<number> {
  const known = knownPublicationArns(db, layer)
  const keys = knownEventKeys(db, layer)
  let imported = 0
  await Promise.all(
    targets.map(async (target) => {
      try {
        const store = await target.store()
        const listed = await store.list(target.bucket, historyPrefix(prefix, layer, target.accountId, target.region))
        const events: Array<{key: string; event: SharedEvent}> = []
        for (const key of listed) {
          if (keys.has(key)) continue
          // publication-<version>-<artifact>-<hash>.json: skip what the cache has (by version in this target).
          const version = /\/publication-(\d+)-/.exec(key)?.[1]
          if (version !== undefined && [...known].some((arn) => arn.endsWith(`:${target.accountId}:layer:${layer}:${version}`) && arn.includes(`:${target.region}:`))) continue
          const body = await store.read(target.bucket, key)
          const event = body === undefined ? undefined : parseSharedEvent(body, layer, target.accountId, target.region)
          if (event && !(event.type === 'publication' && known.has(event.arn))) events.push({key, event})
        }
        if (events.length > 0) insertSharedEvents(db, events)
        imported += events.length
      } catch (error) {
        const name = (error as {name?: string}).name
        if (name === 'NoSuchBucket') return
        emit({
          type: 'warning',
          warning: {severity: 'warning', code: 'ERR_LAYERS_HISTORY_READ', message: `Could not read the shared history of ${layer} in ${target.accountId}/${target.region} (s3://${target.bucket}): ${(error as Error).message}.`, hint: 'The local history is shown; check the credentials and s3:ListBucket/s3:GetObject on the state bucket, or use --no-remote-state.'},
        })
      }
    }),
  )
  return imported
}
