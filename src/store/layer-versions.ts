// Owns the cache of layer versions in the state database (migration 5): what GetLayerVersion said,
// to an account, about a layer version ARN that exists (content hash, size, compatible runtimes and
// architectures). A layer version never changes and its number is never reused, so an answer holds
// for every later run and every region of that account. It is kept per reading account: whether
// another account's version can be read depends on its grants, so one account's answer is not
// another's. Only existence can change, by deletion: a version layers pruned (here, or in another clone
// of the project, merged from the shared history) is never answered from the cache; `missing` and
// unreadable answers are never stored, so they are asked again each run. Prune and attach always ask
// Lambda.
import type {Architecture} from '../manifest/types.js'
import {isStringArray, storedJson, type StateDatabase} from './db.js'

/** A version as Lambda described it. */
export interface CachedLayerVersion {
  codeSha256: string
  codeSize: number
  compatibleRuntimes: string[]
  compatibleArchitectures: Architecture[]
}

export interface LayerVersionCache {
  /** What `accountId` was told about the version, or undefined when it has to be read from Lambda. */
  get(accountId: string, arn: string): CachedLayerVersion | undefined
  /** Remembers what Lambda said to `accountId` about a version that exists. */
  put(accountId: string, arn: string, version: CachedLayerVersion): void
}

export function layerVersionCache(db: StateDatabase, now: () => Date = () => new Date()): LayerVersionCache {
  const select = db.prepare(
    `SELECT code_sha256 AS codeSha256, code_size AS codeSize, runtimes, architectures FROM layer_versions
     WHERE account_id = ? AND arn = ? AND NOT EXISTS (SELECT 1 FROM prunes WHERE prunes.arn = layer_versions.arn)`,
  )
  const insert = db.prepare(`INSERT OR REPLACE INTO layer_versions (account_id, arn, code_sha256, code_size, runtimes, architectures, read_at) VALUES (?, ?, ?, ?, ?, ?, ?)`)
  return {
    get(accountId, arn) {
      const row = select.get(accountId, arn) as {codeSha256: string; codeSize: number; runtimes: string; architectures: string} | undefined
      if (!row) return undefined
      const compatibleRuntimes = storedJson(row.runtimes, isStringArray)
      const compatibleArchitectures = storedJson(row.architectures, isStringArray)
      if (!compatibleRuntimes || !compatibleArchitectures) return undefined
      return {codeSha256: row.codeSha256, codeSize: row.codeSize, compatibleRuntimes, compatibleArchitectures: compatibleArchitectures as Architecture[]}
    },
    put(accountId, arn, version) {
      insert.run(accountId, arn, version.codeSha256, version.codeSize, JSON.stringify(version.compatibleRuntimes), JSON.stringify(version.compatibleArchitectures), now().toISOString())
    },
  }
}
