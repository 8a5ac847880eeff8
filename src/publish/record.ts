// Owns recording publications the moment they exist: in lockfile.json (published[account][region]
// [artifact], through updateLockfile's locked atomic write) and in the state database's publication
// history. Concurrent targets hand their records to one writer that folds every pending record into
// the next write, so many targets never queue on the inter-process lock one by one. A record whose ARN
// is not in its own account and region is refused: no other account's version is ever recorded.
import {parseLayerVersionArn} from '../audit/arn.js'
import {OperationalError} from '../errors/index.js'
import {insertPublications, recordPrune, type PruneRecord, type PublicationRow} from '../history/store.js'
import {updateLockfile} from '../lock/io.js'
import type {ArtifactKey, Lockfile, Publication} from '../lock/types.js'
import type {StateDatabase} from '../store/db.js'

export interface PublicationRecord {
  layer: string
  artifactKey: ArtifactKey
  accountId: string
  region: string
  publication: Publication
}

export interface PublicationRecorder {
  /** Resolves once the record is in lockfile.json on disk (and in the database). */
  record(record: PublicationRecord): Promise<void>
  /** Resolves once every record handed over so far is written (or has failed): before an interrupted run ends. */
  flush(): Promise<void>
  /** A version publish deleted (a duplicate of the content it keeps), into the history. */
  deleted?(record: PruneRecord): void
}

export function publicationRow(record: PublicationRecord, publishedAt: string): PublicationRow {
  const {layer, artifactKey: artifact, accountId, region, publication} = record
  return {layer, artifact, accountId, region, version: publication.version, arn: publication.arn, codeSha256: publication.codeSha256, publishedAt}
}

/** Puts the records into `lock` (mutating it); records of layers the lock no longer has are dropped. */
export function applyPublications(lock: Lockfile, records: PublicationRecord[]): Lockfile {
  for (const record of records) {
    const layer = lock.layers[record.layer]
    if (!layer || layer.kind === 'arn') continue
    const published = (layer.published ??= {})
    const regions = (published[record.accountId] ??= {})
    const artifacts = (regions[record.region] ??= {})
    artifacts[record.artifactKey] = {...record.publication}
  }
  return lock
}

/** Throws when the record's ARN is not a layer version of the record's own account and region. */
export function assertRecordable(record: PublicationRecord): void {
  const parts = parseLayerVersionArn(record.publication.arn)
  if (parts && parts.accountId === record.accountId && parts.region === record.region && parts.name === record.layer) return
  const where = parts ? `account ${parts.accountId}, region ${parts.region}` : 'not a layer version ARN'
  throw new OperationalError(
    'ERR_LAYERS_FOREIGN_PUBLICATION',
    `Refusing to record ${record.publication.arn} (${where}) as layer ${record.layer}'s version for account ${record.accountId}, region ${record.region}.`,
    {
      hint: 'The credentials used for this account reach another account or region; fix the account in the manifest and publish again.',
      details: {layer: record.layer, account: record.accountId, region: record.region, arn: record.publication.arn},
    },
  )
}

export function publicationRecorder(lockfile: string, db: StateDatabase | undefined): PublicationRecorder {
  let pending: Array<{record: PublicationRecord; done: () => void; failed: (error: unknown) => void}> = []
  let active = false
  let writing: Promise<void> = Promise.resolve()
  const flush = async (): Promise<void> => {
    active = true
    try {
      await drain()
    } finally {
      // Synchronous with the last emptiness check: a record pushed after it starts a new flush.
      active = false
    }
  }
  const drain = async (): Promise<void> => {
    while (pending.length > 0) {
      const batch = pending
      pending = []
      try {
        await updateLockfile(lockfile, (lock) => applyPublications(lock, batch.map((entry) => entry.record)), {waitMs: 30_000})
        if (db) {
          const at = new Date().toISOString()
          insertPublications(db, batch.map(({record}) => publicationRow(record, at)))
        }
        for (const entry of batch) entry.done()
      } catch (error) {
        for (const entry of batch) entry.failed(error)
      }
    }
  }
  return {
    record(record) {
      return new Promise<void>((resolve, reject) => {
        assertRecordable(record)
        pending.push({record, done: resolve, failed: reject})
        if (!active) writing = flush()
      })
    },
    async flush() {
      while (active || pending.length > 0) await writing.catch(() => {})
    },
    deleted(record) {
      if (db) recordPrune(db, record)
    },
  }
}
