// Owns writing deterministic zip files (layer and function artifacts) with yazl. The same entries give
// the same bytes, hence the same CodeSha256, in any directory, time zone or day. The rules:
// - Entries are sorted by path, comparing the UTF-8 bytes (not the locale); duplicate paths are an error.
// - Paths are relative POSIX paths: no leading '/', no '\', no '.' or '..' segment, no empty segment.
// - One timestamp for every entry: 1980-02-01 00:00:00 in DOS time (Gradle's choice for reproducible
//   archives). yazl encodes DOS time from the local-time getters, so the Date is built from local
//   components. Not 1980-01-01: yazl clamps dates below its own 1980-01-01 (computed in the TZ it was
//   loaded in), which shifts the hours when TZ changes in a running process; a month later is clear of
//   any offset. forceDosTimestamp keeps yazl from adding the extended-timestamp field (it would carry
//   the UTC instant, hence the TZ).
// - Only regular files: mode 0100644, or 0100755 when any execute bit is set. No directory entries
//   (unzip and Lambda create parent directories as they extract; a directory entry would only add
//   bytes and one more mode to normalise). No uid/gid, no host paths, no comments.
// - Fixed compression: deflate at DEFLATE_LEVEL, except files whose name says they are already
//   compressed (and empty files), which are stored. The choice depends on the path alone.
// - Entries are streamed one at a time (open() is called only when the entry is written), so nothing is
//   held in memory whole; each entry's byte count must match its declared size.
// Caveat: deflate is Node's bundled zlib (process.versions.zlib). Another zlib build may compress the
// same input to other (equally valid) bytes, so callers put ZIP_FORMAT_ID in their cache keys.
import {createHash} from 'node:crypto'
import {createWriteStream} from 'node:fs'
import {PassThrough, Readable, Transform, type TransformCallback} from 'node:stream'
import {pipeline} from 'node:stream/promises'
import yazl from 'yazl'
import {withAtomicOutput} from '../fsutil/atomic.js'

/** One file of a zip. `open` is called once, when the entry's turn comes; it must yield exactly `size` bytes. */
export interface ZipEntry {
  path: string
  /** Unix mode or permission bits; only "any execute bit set" is kept (0755 vs 0644). */
  mode: number
  size: number
  open(): Readable | Buffer | Promise<Readable | Buffer>
}

export interface ZipResult {
  /** Hex SHA-256 of the zip bytes. */
  sha256Hex: string
  /** Base64 SHA-256 of the zip bytes, as Lambda reports CodeSha256. */
  codeSha256: string
  zipBytes: number
  /** Sum of the entries' sizes. */
  unzippedBytes: number
  files: number
}

export const DEFLATE_LEVEL = 6
/** Identifies everything that decides the zip bytes besides the entries: bump when a rule above changes. */
export const ZIP_FORMAT_ID = `zip-v1;deflate=${DEFLATE_LEVEL};zlib=${process.versions.zlib}`

/** 1980-02-01 00:00:00 local time, which yazl turns into DOS date 1980-02-01, time 00:00:00 in every TZ. */
function fixedTimestamp(): Date {
  return new Date(1980, 1, 1, 0, 0, 0)
}

const STORED_EXTENSIONS = new Set([
  '.gz', '.tgz', '.bz2', '.xz', '.zst', '.br', '.zip', '.jar', '.7z',
  '.png', '.jpg', '.jpeg', '.gif', '.webp', '.avif', '.woff', '.woff2', '.mp3', '.mp4', '.ogg',
])

/** 0 (store) or DEFLATE_LEVEL for an entry; depends only on its path and size. */
export function compressionLevelFor(entryPath: string, size: number): number {
  if (size === 0) return 0
  const dot = entryPath.lastIndexOf('.')
  const slash = entryPath.lastIndexOf('/')
  if (dot > slash + 1 && STORED_EXTENSIONS.has(entryPath.slice(dot).toLowerCase())) return 0
  return DEFLATE_LEVEL
}

export function normalizeMode(mode: number): number {
  return (mode & 0o111) === 0 ? 0o100644 : 0o100755
}

/** Why `entryPath` is not a safe relative zip path, or undefined when it is. */
export function zipPathProblem(entryPath: string): string | undefined {
  if (entryPath === '') return 'empty path'
  if (entryPath.startsWith('/') || /^[a-zA-Z]:/.test(entryPath)) return 'absolute path'
  if (entryPath.includes('\\')) return 'backslash in path'
  if (entryPath.includes('\0')) return 'NUL in path'
  for (const segment of entryPath.split('/')) {
    if (segment === '') return 'empty path segment'
    if (segment === '.' || segment === '..') return `'${segment}' path segment`
  }
  return undefined
}

/** Byte-order comparison of UTF-8 paths (what `LC_ALL=C sort` does). */
export function comparePaths(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'))
}

/** Sorts entries by path and checks every path; throws on an unsafe or duplicate path. */
export function sortZipEntries<T extends {path: string}>(entries: readonly T[]): T[] {
  for (const entry of entries) {
    const problem = zipPathProblem(entry.path)
    if (problem) throw new Error(`Refusing zip entry ${JSON.stringify(entry.path)}: ${problem}`)
  }
  const sorted = [...entries].sort((a, b) => comparePaths(a.path, b.path))
  for (let index = 1; index < sorted.length; index++) {
    if (sorted[index]!.path === sorted[index - 1]!.path) throw new Error(`Duplicate zip entry ${JSON.stringify(sorted[index]!.path)}`)
  }
  return sorted
}

class Measure extends Transform {
  readonly hash = createHash('sha256')
  bytes = 0
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.hash.update(chunk)
    this.bytes += chunk.length
    callback(null, chunk)
  }
}

/**
 * Writes `entries` as a deterministic zip to `file` (atomically: temp file + rename; on failure the
 * old file, if any, is left as it was and no temp file remains).
 */
export async function writeDeterministicZip(file: string, entries: readonly ZipEntry[]): Promise<ZipResult> {
  const sorted = sortZipEntries(entries)
  return withAtomicOutput(file, async (tempPath) => {
    const zip = new yazl.ZipFile()
    const measure = new Measure()
    let failure: Error | undefined
    const fail = (error: unknown): void => {
      failure ??= error instanceof Error ? error : new Error(String(error))
      measure.destroy(failure)
    }
    zip.on('error', fail)
    const mtime = fixedTimestamp()
    let unzippedBytes = 0
    for (const entry of sorted) {
      unzippedBytes += entry.size
      const options = {
        mtime,
        forceDosTimestamp: true,
        mode: normalizeMode(entry.mode),
        size: entry.size,
        compressionLevel: compressionLevelFor(entry.path, entry.size),
      }
      zip.addReadStreamLazy(entry.path, options, (callback) => {
        Promise.resolve()
          .then(() => entry.open())
          .then((data) => {
            const stream = Buffer.isBuffer(data) ? new PassThrough().end(data) : data
            stream.on('error', (error: Error) => fail(new Error(`Cannot read ${entry.path}: ${error.message}`, {cause: error})))
            callback(null, stream)
          })
          .catch((error: unknown) => fail(error))
      })
    }
    zip.end()
    try {
      await pipeline(zip.outputStream as Readable, measure, createWriteStream(tempPath))
    } catch (error) {
      throw failure ?? error
    }
    if (failure) throw failure
    const digest = measure.hash.digest()
    return {
      sha256Hex: digest.toString('hex'),
      codeSha256: digest.toString('base64'),
      zipBytes: measure.bytes,
      unzippedBytes,
      files: sorted.length,
    }
  })
}
