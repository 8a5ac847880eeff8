// Owns recording publications the moment they exist: in lockfile.json (published[account][region]
// [artifact], through updateLockfile's locked atomic write) and in the state database's publication
// history. Concurrent targets hand their records to one writer that folds every pending record into
// the next write, so many targets never queue on the inter-process lock one by one.
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

export function publicationRecorder(lockfile: string, db: StateDatabase | undefined): PublicationRecorder {
  let pending: Array<{record: PublicationRecord; done: () => void; failed: (error: unknown) => void}> = []
  let active = false
  let writing: Promise<void> = Promise.resolve()
  const insert = db?.prepare(
    `INSERT OR IGNORE INTO publications (layer, artifact, account_id, region, version, arn, code_sha256, published_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  )
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
        if (insert) {
          const at = new Date().toISOString()
          db!.transaction(() => {
            for (const {record} of batch) {
              insert.run(record.layer, record.artifactKey, record.accountId, record.region, record.publication.version, record.publication.arn, record.publication.codeSha256, at)
            }
          })()
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
        pending.push({record, done: resolve, failed: reject})
        if (!active) writing = flush()
      })
    },
    async flush() {
      while (active || pending.length > 0) await writing.catch(() => {})
    },
  }
}
