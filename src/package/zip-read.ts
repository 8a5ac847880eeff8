// Owns reading built zips (layer artifacts, function packages) with yauzl: the central directory
// (names, sizes, CRC-32s, modes), the content (or the first bytes) of a few named entries, and extracting a whole zip into a
// directory the way Lambda extracts layers into /opt (a file replaces the same path from an earlier
// zip). Every name is checked with the writer's path rules first: no absolute paths, no `..`, no
// backslashes, so nothing is ever written outside the target directory.
import {createWriteStream} from 'node:fs'
import {lstat, mkdir, rm} from 'node:fs/promises'
import path from 'node:path'
import {pipeline} from 'node:stream/promises'
import yauzl from 'yauzl'
import {OperationalError} from '../errors/index.js'
import {zipPathProblem} from '../build/zip.js'

export interface ZipListing {
  path: string
  size: number
  compressedSize: number
  /** The entry's CRC-32 from the central directory (same bytes, same CRC). */
  crc32: number
  /** Unix mode from the external attributes (0 when the zip was not made on Unix). */
  mode: number
  /** Data descriptor present (the writer's streamed entries). */
  descriptor: boolean
}

async function eachEntry(file: string, visit: (entry: yauzl.Entry, zip: yauzl.ZipFile) => Promise<void>): Promise<void> {
  let zip: yauzl.ZipFile
  try {
    zip = await yauzl.openPromise(file, {lazyEntries: true, strictFileNames: true})
  } catch (error) {
    throw new OperationalError('ERR_LAYERS_ZIP_READ', `Cannot read zip ${file}: ${(error as Error).message}`, {
      cause: error,
      hint: 'The build output looks damaged: run `layers build` again.',
    })
  }
  try {
    await new Promise<void>((resolve, reject) => {
      zip.on('error', (error: Error) => {
        // yauzl checks names itself (strictFileNames): `..`, absolute paths and backslashes.
        const unsafe = /invalid relative path|absolute path|invalid characters/.test(error.message)
        reject(new OperationalError(unsafe ? 'ERR_LAYERS_ZIP_UNSAFE' : 'ERR_LAYERS_ZIP_READ', `Cannot read zip ${file}: ${error.message}.`, {cause: error, hint: 'Rebuild it with `layers build` (or `layers package`).'}))
      })
      zip.on('end', () => resolve())
      zip.on('entry', (entry: yauzl.Entry) => {
        const problem = zipPathProblem(entry.fileName.replace(/\/$/, ''))
        if (problem) {
          reject(new OperationalError('ERR_LAYERS_ZIP_UNSAFE', `Zip ${file} holds an unsafe entry ${JSON.stringify(entry.fileName)}: ${problem}.`, {hint: 'Rebuild it with `layers build`.'}))
          return
        }
        visit(entry, zip).then(() => zip.readEntry(), reject)
      })
      zip.readEntry()
    })
  } finally {
    zip.close()
  }
}

/** The file entries of a zip (directory entries skipped), in the zip's order. */
export async function listZip(file: string): Promise<ZipListing[]> {
  const entries: ZipListing[] = []
  await eachEntry(file, async (entry) => {
    if (entry.fileName.endsWith('/')) return
    entries.push({
      path: entry.fileName,
      size: entry.uncompressedSize,
      compressedSize: entry.compressedSize,
      crc32: entry.crc32,
      mode: entry.externalFileAttributes >>> 16,
      descriptor: (entry.generalPurposeBitFlag & 0x8) !== 0,
    })
  })
  return entries
}

/** The content of the entries of `file` whose path `wanted` accepts. */
export function readZipEntries(file: string, wanted: (entryPath: string) => boolean): Promise<Map<string, Buffer>> {
  return readZipHeads(file, (entryPath) => (wanted(entryPath) ? Infinity : 0))
}

/** The first `bytesOf(path)` bytes of each entry of `file` (entries given 0 are not read), e.g. ELF headers. */
export async function readZipHeads(file: string, bytesOf: (entryPath: string) => number): Promise<Map<string, Buffer>> {
  const found = new Map<string, Buffer>()
  await eachEntry(file, async (entry, zip) => {
    const wanted = entry.fileName.endsWith('/') ? 0 : bytesOf(entry.fileName)
    if (wanted <= 0) return
    const chunks: Buffer[] = []
    let length = 0
    for await (const chunk of await zip.openReadStreamPromise(entry)) {
      chunks.push(chunk as Buffer)
      length += (chunk as Buffer).length
      // Leaving the loop destroys the stream: the rest of the entry is never inflated.
      if (length >= wanted) break
    }
    const content = Buffer.concat(chunks)
    found.set(entry.fileName, length > wanted ? content.subarray(0, wanted) : content)
  })
  return found
}

/** Creates target/rel, replacing a file from an earlier zip that sits where a directory must go. */
async function ensureDirectory(target: string, rel: string, made: Set<string>): Promise<void> {
  let current = target
  for (const segment of rel === '.' ? [] : rel.split('/')) {
    current = path.join(current, segment)
    if (made.has(current)) continue
    made.add(current)
    const info = await lstat(current).catch(() => undefined)
    if (info?.isDirectory()) continue
    if (info) await rm(current, {force: true})
    await mkdir(current)
  }
}

/**
 * Extracts every file of `file` under `target`, replacing what is already there at the same path
 * (a file from an earlier zip, or a directory where this zip has a file). Execute bits are kept.
 */
export async function extractZip(file: string, target: string): Promise<number> {
  let count = 0
  const made = new Set<string>()
  await eachEntry(file, async (entry, zip) => {
    const rel = entry.fileName.replace(/\/$/, '')
    const destination = path.join(target, ...rel.split('/'))
    if (entry.fileName.endsWith('/')) {
      await ensureDirectory(target, rel, made)
      return
    }
    await ensureDirectory(target, path.posix.dirname(rel), made)
    await rm(destination, {recursive: true, force: true})
    const mode = (entry.externalFileAttributes >>> 16) & 0o111 ? 0o755 : 0o644
    await pipeline(await zip.openReadStreamPromise(entry), createWriteStream(destination, {mode}))
    count++
  })
  return count
}
