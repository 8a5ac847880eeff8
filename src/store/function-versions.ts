// Owns the cache of published function versions in the state database (migration 7): what
// GetFunctionConfiguration with a version number as Qualifier said about it (runtime, architecture,
// layers, code hash). A published version never changes, so the answer holds for later runs; `$LATEST`
// changes and is never stored. A version number is not unique for ever, though: a function deleted and
// created again under the same name numbers its versions from 1 again. So an answer is kept under the
// RevisionId of each alias that routed to the version when it was read, and found again only through
// an alias revision seen then: a recreated function's aliases are new (new revisions), so its versions
// are read again, and an alias moved since (a new revision) makes one read. A version no alias routes
// to any more (deleted, or left behind) is not looked up at all: the audit reads only what ListAliases
// names.
import type {ScannedVersion} from '../audit/types.js'
import {storedJson, type StateDatabase} from './db.js'

/** Where a published version is: the reading account and region, the function's ARN, the version number. */
export interface FunctionVersionKey {
  accountId: string
  region: string
  functionArn: string
  version: string
}

export interface FunctionVersionCache {
  /** The version as read under one of `aliasRevisions`, or undefined when it has to be read from Lambda. */
  get(key: FunctionVersionKey, aliasRevisions: string[]): ScannedVersion | undefined
  /**
   * Remembers what Lambda said about published versions, each under every alias revision routing to it
   * now: one transaction for all of them (a target's reads are written at once, not one by one).
   */
  put(entries: FunctionVersionEntry[]): void
}

/** One published version as read, and the alias revisions routing to it when it was read. */
export interface FunctionVersionEntry {
  key: FunctionVersionKey
  aliasRevisions: string[]
  version: ScannedVersion
}

/** A published version's number: `$LATEST` (mutable) and anything else are never cached. */
const PUBLISHED = /^[0-9]+$/

interface Row {
  version: string
  runtime: string | null
  architecture: ScannedVersion['architecture']
  layers: string
  codeSha256: string | null
}

export function functionVersionCache(db: StateDatabase, now: () => Date = () => new Date()): FunctionVersionCache {
  const select = db.prepare(
    `SELECT version, runtime, architecture, layers, code_sha256 AS codeSha256 FROM function_versions
     WHERE account_id = ? AND region = ? AND function_arn = ? AND version = ? AND alias_revision = ?`,
  )
  const insert = db.prepare(
    `INSERT OR REPLACE INTO function_versions (account_id, region, function_arn, version, alias_revision, runtime, architecture, layers, code_sha256, read_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  )
  // An account-region with no cached version at the start of its first lookup has none to find this
  // run (the versions read during a run are each looked up once, before they are read): a first audit
  // skips a query per version.
  const anyInRegion = db.prepare(`SELECT 1 FROM function_versions WHERE account_id = ? AND region = ? LIMIT 1`)
  const cachedRegions = new Map<string, boolean>()
  const hasRows = (accountId: string, region: string): boolean => {
    const where = `${accountId}/${region}`
    let has = cachedRegions.get(where)
    if (has === undefined) cachedRegions.set(where, (has = anyInRegion.get(accountId, region) !== undefined))
    return has
  }
  const putAll = db.transaction((entries: FunctionVersionEntry[], at: string) => {
    for (const {key, aliasRevisions, version} of entries) {
      if (!PUBLISHED.test(key.version) || version.version !== key.version) continue
      const layers = JSON.stringify(version.layers)
      for (const revision of aliasRevisions) {
        insert.run(key.accountId, key.region, key.functionArn, key.version, revision, version.runtime ?? null, version.architecture, layers, version.codeSha256 ?? null, at)
      }
    }
  })
  return {
    get(key, aliasRevisions) {
      if (!PUBLISHED.test(key.version) || !hasRows(key.accountId, key.region)) return undefined
      for (const revision of aliasRevisions) {
        const row = select.get(key.accountId, key.region, key.functionArn, key.version, revision) as Row | undefined
        if (!row) continue
        const layers = storedJson(row.layers, isLayerRefs)
        if (!layers) continue
        return {
          version: row.version,
          ...(row.runtime === null ? {} : {runtime: row.runtime}),
          architecture: row.architecture,
          layers,
          ...(row.codeSha256 === null ? {} : {codeSha256: row.codeSha256}),
        }
      }
      return undefined
    },
    put(entries) {
      if (entries.length > 0) putAll(entries, now().toISOString())
    },
  }
}

function isLayerRefs(value: unknown): value is ScannedVersion['layers'] {
  return Array.isArray(value) && value.every((ref: {arn?: unknown; codeSize?: unknown} | null) => typeof ref?.arn === 'string' && typeof ref.codeSize === 'number')
}
