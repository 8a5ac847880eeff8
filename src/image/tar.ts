// Owns the bytes of an image layer: a deterministic tar, gzipped deterministically. The same entries
// give the same bytes (hence the same diff id and digest) in any directory, time zone, day or machine:
// - entries sorted by path (UTF-8 bytes), every parent directory written explicitly before its content;
// - POSIX ustar headers: mtime 0, uid/gid 0, empty uname/gname, mode 0755 for directories and for files
//   with any execute bit, else 0644, 0777 for symbolic links; only directories, regular files and
//   symbolic links (a vendor's layer zip may hold them; the caller checks where they point);
// - a path over ustar's 100 (+155 prefix) bytes, or a link target over 100, gets a pax header holding
//   `path` / `linkpath` only (no times);
// - gzip by hand: a fixed 10-byte header (no name, mtime 0, XFL 0, OS 255 "unknown": Node's gzip writes
//   the OS it runs on), raw deflate, then CRC-32 and size. Caveat: deflate is Node's bundled zlib
//   (process.versions.zlib); another zlib build may compress the same tar to other, equally valid
//   bytes: the diff id (the tar's digest) stays, the layer digest may not (as for src/build/zip.ts).
import {promisify} from 'node:util'
import zlib from 'node:zlib'
import {UserInputError} from '../errors/index.js'
import {zipPathProblem} from '../build/zip.js'
import {sha256Digest} from './oci.js'

const deflateRaw = promisify(zlib.deflateRaw)
export const GZIP_LEVEL = 6
export const LAYER_FORMAT_ID = `tar-ustar-v1;gzip=${GZIP_LEVEL};zlib=${process.versions.zlib}`

export interface TarFile {
  /** Relative POSIX path (e.g. opt/nodejs/node_modules/a/index.js). */
  path: string
  /** Unix mode; only "any execute bit set" is kept. */
  mode: number
  data: Buffer
  /** A symbolic link to this (relative) target; `data` is not written. */
  linkTarget?: string
}

export interface LayerBlob {
  /** The gzipped tar. */
  bytes: Buffer
  /** sha256 of the gzipped tar (the layer's digest in the manifest). */
  digest: string
  /** sha256 of the tar (the layer's diff id in the config). */
  diffId: string
}

const BLOCK = 512

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, '0')}\0`
}

function splitUstarPath(name: Buffer): {name: Buffer; prefix: Buffer} | undefined {
  if (name.length <= 100) return {name, prefix: Buffer.alloc(0)}
  for (let at = name.indexOf(0x2f); at >= 0; at = name.indexOf(0x2f, at + 1)) {
    if (at <= 155 && name.length - at - 1 <= 100 && name.length - at - 1 > 0) return {prefix: name.subarray(0, at), name: name.subarray(at + 1)}
  }
  return undefined
}

function header(name: Buffer, prefix: Buffer, mode: number, size: number, type: '0' | '2' | '5' | 'x', linkName: Buffer = Buffer.alloc(0)): Buffer {
  const block = Buffer.alloc(BLOCK)
  name.copy(block, 0)
  block.write(octal(mode, 8), 100, 'ascii')
  block.write(octal(0, 8), 108, 'ascii')
  block.write(octal(0, 8), 116, 'ascii')
  block.write(octal(size, 12), 124, 'ascii')
  block.write(octal(0, 12), 136, 'ascii')
  block.fill(0x20, 148, 156)
  block.write(type, 156, 'ascii')
  linkName.copy(block, 157)
  block.write('ustar\0', 257, 'ascii')
  block.write('00', 263, 'ascii')
  prefix.copy(block, 345)
  let sum = 0
  for (const byte of block) sum += byte
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii')
  return block
}

function padding(size: number): Buffer {
  return Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK)
}

function paxRecord(key: string, value: string): Buffer {
  const body = ` ${key}=${value}\n`
  let length = Buffer.byteLength(body) + 1
  while (String(length).length + Buffer.byteLength(body) !== length) length = String(length).length + Buffer.byteLength(body)
  return Buffer.from(`${length}${body}`, 'utf8')
}

function entryBlocks(path: string, mode: number, data: Buffer | undefined, linkTarget?: string): Buffer[] {
  const type = linkTarget !== undefined ? '2' : data === undefined ? '5' : '0'
  const full = Buffer.from(type === '5' ? `${path}/` : path, 'utf8')
  const split = splitUstarPath(full)
  const link = Buffer.from(linkTarget ?? '', 'utf8')
  const blocks: Buffer[] = []
  let name = split?.name ?? Buffer.from('././@LongPath', 'ascii')
  let prefix = split?.prefix ?? Buffer.alloc(0)
  const pax: Buffer[] = []
  if (!split) {
    pax.push(paxRecord('path', full.toString('utf8')))
    name = full.subarray(0, 100)
    prefix = Buffer.alloc(0)
  }
  if (link.length > 100) pax.push(paxRecord('linkpath', linkTarget!))
  if (pax.length > 0) {
    const records = Buffer.concat(pax)
    blocks.push(header(Buffer.from('././@PaxHeader', 'ascii'), Buffer.alloc(0), 0o644, records.length, 'x'), records, padding(records.length))
  }
  const size = type === '0' ? data!.length : 0
  blocks.push(header(name, prefix, mode, size, type, link.subarray(0, 100)))
  if (type === '0') blocks.push(data!, padding(size))
  return blocks
}

function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'))
}

/** The tar of `files` (see the module comment); duplicate or unsafe paths are an error naming `origin`. */
export function deterministicTar(files: readonly TarFile[], origin: string): Buffer {
  const byPath = new Map<string, TarFile>()
  const dirs = new Set<string>()
  for (const file of files) {
    const problem = zipPathProblem(file.path)
    if (problem) throw new UserInputError('ERR_LAYERS_IMAGE_PATH', `${origin}: ${JSON.stringify(file.path)} ${problem}.`, {hint: 'Rebuild the artifact with `layers build` (it writes only safe relative paths).'})
    if (byPath.has(file.path)) throw new UserInputError('ERR_LAYERS_IMAGE_PATH', `${origin}: ${JSON.stringify(file.path)} appears twice.`, {hint: 'Rebuild the artifact with `layers build`.'})
    byPath.set(file.path, file)
    const segments = file.path.split('/')
    for (let i = 1; i < segments.length; i++) dirs.add(segments.slice(0, i).join('/'))
  }
  for (const dir of dirs) {
    if (byPath.has(dir)) throw new UserInputError('ERR_LAYERS_IMAGE_PATH', `${origin}: ${JSON.stringify(dir)} is both a file and a directory.`, {hint: 'Rebuild the artifact with `layers build`.'})
  }
  // A directory sorts as "path/" so it comes right before its content.
  const entries = [...[...dirs].map((dir) => ({key: `${dir}/`, path: dir, file: undefined})), ...[...byPath.values()].map((file) => ({key: file.path, path: file.path, file}))].sort((a, b) => compareBytes(a.key, b.key))
  const blocks: Buffer[] = []
  const modeOf = (file: TarFile | undefined) => (file?.linkTarget !== undefined ? 0o777 : file === undefined || (file.mode & 0o111) !== 0 ? 0o755 : 0o644)
  for (const entry of entries) blocks.push(...entryBlocks(entry.path, modeOf(entry.file), entry.file?.data, entry.file?.linkTarget))
  blocks.push(Buffer.alloc(BLOCK * 2))
  return Buffer.concat(blocks)
}

/** Gzip with the fixed header and trailer of the module comment. */
export async function deterministicGzip(data: Buffer): Promise<Buffer> {
  const head = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff])
  const trailer = Buffer.alloc(8)
  trailer.writeUInt32LE(zlib.crc32(data) >>> 0, 0)
  trailer.writeUInt32LE(data.length % 0x1_0000_0000, 4)
  return Buffer.concat([head, await deflateRaw(data, {level: GZIP_LEVEL}), trailer])
}

export async function layerBlob(files: readonly TarFile[], origin: string): Promise<LayerBlob> {
  const tar = deterministicTar(files, origin)
  const bytes = await deterministicGzip(tar)
  return {bytes, digest: sha256Digest(bytes), diffId: sha256Digest(tar)}
}
