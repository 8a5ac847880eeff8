// Owns the bytes of an image layer: a deterministic tar, gzipped deterministically. The same entries
// give the same bytes (hence the same diff id and digest) in any directory, time zone, day or machine:
// - entries sorted by path (UTF-8 bytes), every parent directory written explicitly before its content;
// - fixed header fields: mtime 0, uid/gid 0, no uname/gname, mode 0755 for directories and for files
//   with any execute bit, else 0644, 0777 for symbolic links; only directories, regular files and
//   symbolic links (a vendor's layer zip may hold them; the caller checks where they point);
// - node-tar's Header encodes each ustar header (checksum, the prefix split of a long path) and its Pax
//   the extended header of a path or link target that does not fit (path, linkpath, size; no times).
//   npm run bench:image:tar (5494-entry AWS SDK layer): the hand-written encoder this replaced took the
//   same CPU time (1.00-1.07x); node-tar's Pack stream fed the same entries 1.6-1.9x; tar-stream 3
//   0.7-0.85x, but it would bring 12 more packages and make this async to save at most ~10% of a
//   layer's CPU time (its gzip takes twice its tar). The bytes are node-tar's: the CLI bundle carries its copy, and
//   test/image/tar.test.ts pins a diff id, so an upgrade that changes them fails there first;
// - gzip by hand: a fixed 10-byte header (no name, mtime 0, XFL 0, OS 255 "unknown": Node's gzip writes
//   the OS it runs on), raw deflate, then CRC-32 and size. Caveat: deflate is Node's bundled zlib
//   (process.versions.zlib); another zlib build may compress the same tar to other, equally valid
//   bytes: the diff id (the tar's digest) stays, the layer digest may not (as for src/build/zip.ts).
import {promisify} from 'node:util'
import zlib from 'node:zlib'
import {Header, Pax} from 'tar'
import {UserInputError} from '../errors/index.js'
import {zipPathProblem} from '../build/zip.js'
import {sha256Digest} from './oci.js'

const deflateRaw = promisify(zlib.deflateRaw)
export const GZIP_LEVEL = 6

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
const EPOCH = new Date(0)
const ZEROS = Buffer.alloc(BLOCK * 2)

function padding(size: number): Buffer {
  return ZEROS.subarray(0, (BLOCK - (size % BLOCK)) % BLOCK)
}

function entryBlocks(path: string, mode: number, data: Buffer | undefined, linkTarget?: string): Buffer[] {
  const type = linkTarget !== undefined ? 'SymbolicLink' : data === undefined ? 'Directory' : 'File'
  const size = type === 'File' ? data!.length : 0
  const fields = {path: type === 'Directory' ? `${path}/` : path, type, mode, uid: 0, gid: 0, size, mtime: EPOCH, linkpath: linkTarget} as const
  const header = new Header(fields)
  const blocks: Buffer[] = []
  // encode() says whether a field did not fit ustar (a long or non-ASCII path or link target).
  if (header.encode()) blocks.push(new Pax({path: fields.path, linkpath: linkTarget, size}).encode())
  blocks.push(header.block!)
  if (type === 'File') blocks.push(data!, padding(size))
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
  blocks.push(ZEROS)
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
