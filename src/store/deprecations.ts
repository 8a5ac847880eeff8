// Owns the package deprecation cache in the state database (migration 8): for each registry and npm
// name@version, the registry's `deprecated` message (none: not deprecated) and when it was read. A
// version's deprecation can change while the version stays, so an answer is trusted only for a while
// (DEPRECATION_MAX_AGE_MS); `layers advisories --refresh` reads every packument again. `layers lock`
// records the answers of the packuments it read (src/lock/deprecations.ts).
import type {StateDatabase} from './db.js'

/** How long a cached deprecation answer is used before the packument is read again. */
export const DEPRECATION_MAX_AGE_MS = 24 * 60 * 60 * 1000

export interface DeprecationAnswer {
  registry: string
  name: string
  version: string
  /** The registry's message; absent: not deprecated. */
  message?: string
}

export const deprecationKey = (registry: string, name: string, version: string): string => `${registry} ${name}@${version}`

export interface DeprecationCache {
  /** The answers read at or after `since`, by deprecationKey: the message, or null for not deprecated. */
  fresh(since: Date): Map<string, string | null>
  record(answers: DeprecationAnswer[], checkedAt: Date): void
}

export function deprecationCache(db: StateDatabase): DeprecationCache {
  return {
    fresh(since) {
      const rows = db.prepare(`SELECT registry, name, version, message FROM package_deprecations WHERE checked_at >= ?`).all(since.toISOString()) as Array<{registry: string; name: string; version: string; message: string | null}>
      return new Map(rows.map((row) => [deprecationKey(row.registry, row.name, row.version), row.message]))
    },
    record(answers, checkedAt) {
      const upsert = db.prepare(`INSERT OR REPLACE INTO package_deprecations (registry, name, version, message, checked_at) VALUES (?, ?, ?, ?, ?)`)
      db.transaction(() => {
        for (const answer of answers) upsert.run(answer.registry, answer.name, answer.version, answer.message ?? null, checkedAt.toISOString())
      })()
    },
  }
}
