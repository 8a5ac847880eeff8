// Owns the content-addressed build cache: the key of an artifact (a hash of everything that decides its
// bytes) and the `builds` rows of the state database that map a key to the zip already built for it.
// Zips live at .layers/build/<layer>/<artifactKey>/<sha256hex>.zip; a row is trusted only while its
// zip is still there with the recorded size.
import {createHash} from 'node:crypto'
import {statSync} from 'node:fs'
import path from 'node:path'
import type {StateDatabase} from '../store/db.js'

/** Bump when the build changes the bytes it produces for the same inputs. */
export const BUILDER_VERSION = 1

/** sha256 hex of a canonical JSON rendering (object keys sorted) of `value`. */
export function cacheKey(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex')
}

export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item)).join(',')}]`
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, inner]) => inner !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return `{${entries.map(([key, inner]) => `${JSON.stringify(key)}:${canonicalJson(inner)}`).join(',')}}`
  }
  return JSON.stringify(value) ?? 'null'
}

export interface CachedBuild {
  layer: string
  artifactKey: string
  inputHash: string
  codeSha256: string
  sha256Hex: string
  /** Absolute path of the zip. */
  zipPath: string
  zipBytes: number
  unzippedBytes: number
  files: number
  packages: number
}

interface BuildRow {
  code_sha256: string
  zip_path: string
  zip_bytes: number
  unzipped_bytes: number
  files: number
  packages: number
}

/** The build recorded for this key whose zip is still in place, or undefined. */
export function findCachedBuild(db: StateDatabase, stateDir: string, layer: string, artifactKey: string, inputHash: string): CachedBuild | undefined {
  const row = db
    .prepare('SELECT code_sha256, zip_path, zip_bytes, unzipped_bytes, files, packages FROM builds WHERE layer = ? AND artifact = ? AND input_hash = ?')
    .get(layer, artifactKey, inputHash) as BuildRow | undefined
  if (!row) return undefined
  const zipPath = path.resolve(stateDir, row.zip_path)
  try {
    if (statSync(zipPath).size !== row.zip_bytes) return undefined
  } catch {
    return undefined
  }
  return {
    layer,
    artifactKey,
    inputHash,
    codeSha256: row.code_sha256,
    sha256Hex: Buffer.from(row.code_sha256, 'base64').toString('hex'),
    zipPath,
    zipBytes: row.zip_bytes,
    unzippedBytes: row.unzipped_bytes,
    files: row.files,
    packages: row.packages,
  }
}

export function recordBuild(db: StateDatabase, stateDir: string, build: CachedBuild, builtAt: Date = new Date()): void {
  db.prepare(
    `INSERT OR REPLACE INTO builds (layer, artifact, input_hash, code_sha256, zip_path, zip_bytes, unzipped_bytes, files, packages, built_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    build.layer,
    build.artifactKey,
    build.inputHash,
    build.codeSha256,
    path.relative(stateDir, build.zipPath).split(path.sep).join('/'),
    build.zipBytes,
    build.unzippedBytes,
    build.files,
    build.packages,
    builtAt.toISOString(),
  )
}
