// Owns the shared history: every publication publish records is also written to the state bucket as
// an immutable event object, content-addressed (its key ends in the hash of what it records, and it is
// written with `If-None-Match: *`, so the same event from two clones is one object), under
// `<prefix>.layers-state/history/<layer>/<accountId>/<region>/`. `layers history` merges the events
// of the manifest's accounts and regions into the local database, which becomes a cache: two clones
// of one repository show the same publications. The S3 calls are in src/aws/s3-history.ts.
import {createHash} from 'node:crypto'
import type {HistoryStoreApi} from '../aws/s3-history.js'
import type {EmitEvent} from '../events.js'
import type {PublicationRecord, PublicationRecorder} from '../publish/record.js'
import type {StateDatabase} from '../store/db.js'
import {insertPublications, knownPublicationArns, type PublicationRow} from './store.js'

export interface HistoryTarget {
  bucket: string
  accountId: string
  region: string
  store(): Promise<HistoryStoreApi>
}

export function historyPrefix(prefix: string, layer: string, accountId: string, region: string): string {
  return `${prefix}.layers-state/history/${layer}/${accountId}/${region}/`
}

interface PublicationEvent extends PublicationRow {
  type: 'publication'
}

/** The event's key (hash of what it records, not of when) and body. */
export function publicationEvent(prefix: string, row: PublicationRow): {key: string; body: string} {
  const identity = JSON.stringify([row.layer, row.artifact, row.accountId, row.region, row.version, row.arn, row.codeSha256])
  const hash = createHash('sha256').update(identity).digest('hex').slice(0, 32)
  const event: PublicationEvent = {type: 'publication', ...row}
  return {key: `${historyPrefix(prefix, row.layer, row.accountId, row.region)}publication-${row.version}-${row.artifact}-${hash}.json`, body: JSON.stringify(event)}
}

function parseEvent(body: string, layer: string, accountId: string, region: string): PublicationRow | undefined {
  try {
    const event = JSON.parse(body) as Partial<PublicationEvent>
    if (event.type !== 'publication' || event.layer !== layer || event.accountId !== accountId || event.region !== region) return undefined
    if (typeof event.arn !== 'string' || typeof event.version !== 'number' || typeof event.artifact !== 'string' || typeof event.codeSha256 !== 'string' || typeof event.publishedAt !== 'string') return undefined
    // The ARN must be a version of this layer in this account and region (an event cannot inject another account's).
    if (!event.arn.endsWith(`:${accountId}:layer:${layer}:${event.version}`) || !event.arn.includes(`:lambda:${region}:`)) return undefined
    return {layer, artifact: event.artifact, accountId, region, version: event.version, arn: event.arn, codeSha256: event.codeSha256, publishedAt: event.publishedAt}
  } catch {
    return undefined
  }
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
      const {key, body} = publicationEvent(prefix, {
        layer: record.layer,
        artifact: record.artifactKey,
        accountId: record.accountId,
        region: record.region,
        version: record.publication.version,
        arn: record.publication.arn,
        codeSha256: record.publication.codeSha256,
        publishedAt: new Date().toISOString(),
      })
      try {
        await (await where.store()).putOnce(where.bucket, key, body)
      } catch (error) {
        emit({
          type: 'warning',
          warning: {severity: 'warning', code: 'ERR_LAYERS_HISTORY_WRITE', message: `Could not write ${record.publication.arn} to the shared history (s3://${where.bucket}/${key}): ${(error as Error).message}.`, hint: 'It is in lockfile.json and the local history; the next publish of the layer writes it again.'},
        })
      }
    },
  }
}

/** Imports the shared events of `layer` in each target that the local database lacks; returns how many. */
export async function mergeSharedHistory(db: StateDatabase, layer: string, prefix: string, targets: HistoryTarget[], emit: EmitEvent): Promise<number> {
  const known = knownPublicationArns(db, layer)
  let imported = 0
  await Promise.all(
    targets.map(async (target) => {
      try {
        const store = await target.store()
        const keys = await store.list(target.bucket, historyPrefix(prefix, layer, target.accountId, target.region))
        const rows: PublicationRow[] = []
        for (const key of keys) {
          // publication-<version>-<artifact>-<hash>.json: skip what the cache has (by version and artifact in this target).
          const version = /\/publication-(\d+)-/.exec(key)?.[1]
          if (version !== undefined && [...known].some((arn) => arn.endsWith(`:${target.accountId}:layer:${layer}:${version}`) && arn.includes(`:${target.region}:`))) continue
          const body = await store.read(target.bucket, key)
          const row = body === undefined ? undefined : parseEvent(body, layer, target.accountId, target.region)
          if (row && !known.has(row.arn)) rows.push(row)
        }
        if (rows.length > 0) insertPublications(db, rows)
        imported += rows.length
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
