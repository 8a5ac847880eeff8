// Owns turning one locked npm artifact (the installed tree in lockfile.json) into zip entries laid out
// as `nodejs/node_modules/...`, the way `npm ci --ignore-scripts` would install it, without writing a
// node_modules tree: each tarball is fetched (pacote: npm cache first, integrity always verified),
// parsed as it streams (tar) and its files held in a bounded ContentSpool until the zip is written in
// sorted order.
// Rules for what a tarball may contain:
// - The first path segment (`package/` by convention, whatever its name) is stripped, like npm does.
// - Absolute paths, `..` segments and backslashes are refused: the build fails naming layer and package.
// - Symbolic and hard links are resolved inside the package and stored as regular copies of their
//   target (a zip without symlinks extracts the same everywhere); a link whose target leaves the
//   package fails the build; a link to nothing is dropped with a warning. Links are never followed out.
// - Directories, devices and FIFOs are not stored (see zip.ts: no directory entries).
// - A file is executable (0755) when its tar mode has an execute bit or the package's `bin` names it.
// - Bundled dependencies (`inBundle`) come from their parent's tarball and are not fetched. Where two
//   tarballs hold the same path, the deeper package (the one installed there) wins.
// - `bin` links (node_modules/.bin) are not created: see the README build section.
// - Install scripts are never run; packages that declare them are named in one warning.
// - Only registry tarballs (http(s) URLs) with a sha512/sha1 integrity are fetched, and package paths
//   must be node_modules/<name> segments (src/lock/check.ts), whatever the lockfile says.
import path from 'node:path'
import type {Readable} from 'node:stream'
import {inflateRawSync} from 'node:zlib'
import pLimit from 'p-limit'
import semver from 'semver'
import {Parser, type ReadEntry} from 'tar'
import {OperationalError, UserInputError} from '../errors/index.js'
import type {EmitEvent} from '../events.js'
import {fetchableTarballProblem, packagePathProblem} from '../lock/check.js'
import type {LockedArtifact, LockedPackage} from '../lock/types.js'
import {fetchTarball, integrityMismatchOf} from '../npm/tarball.js'
import {installScriptsNotRun} from '../npm/warnings.js'
import {isLocalResolved, packLockedPackage, type LocalPackages} from '../resolve/local.js'
import {entryPointsOf, splitInnerPackage, type Pruner} from './prune.js'
import type {ContentSpool, SpooledContent} from './spool.js'
import {BUFFERED_MAX, compressEntry, type ZipEntry} from './zip.js'

/** What identifies a tarball in a lock (a LockedPackage or a runtime's LockedBinary). */
export type TarballRef = Pick<LockedPackage, 'name' | 'version' | 'resolved' | 'integrity'>

/**
 * Fetches a locked package's tarball (verified against its integrity) and hands the .tgz stream to
 * `handler`, which must listen for 'error' before it first awaits: pacote reports a cache miss as an
 * immediate stream error, and one nobody listens for becomes an unhandled rejection.
 */
export interface TarballSource {
  stream<T>(pkg: TarballRef, handler: (tgz: Readable) => Promise<T>): Promise<T>
}

/**
 * A TarballSource on pacote with the project's npm options (registry, auth, cache), fetched by
 * src/npm/tarball.ts (an integrity mismatch fails at once; transient failures are tried again, each
 * wait announced; `signal` stops the fetch). Only a registry tarball (an http(s) URL) with an
 * integrity is ever handed to pacote: pacote would read a `file:` spec from disk and run git for a git
 * one, and without an integrity it verifies nothing. The lockfile reader refuses those already
 * (src/lock/check.ts); this is the guard at the one place that fetches.
 */
export function pacoteTarballSource(npmOptions: Record<string, unknown>, options: {signal?: AbortSignal; emit?: EmitEvent} = {}): TarballSource {
  return {
    async stream(pkg, handler) {
      const refused = fetchableTarballProblem(pkg)
      if (refused) {
        throw new UserInputError('ERR_LAYERS_LOCKFILE_UNSAFE', `${pkg.name}@${pkg.version} in lockfile.json ${refused}; refusing to fetch it.`, {
          hint: 'Restore lockfile.json from version control, or run `layers lock` to resolve the package again from the configured registries.',
          details: {package: pkg.name, version: pkg.version},
        })
      }
      return fetchTarball(npmOptions, pkg, handler, options)
    },
  }
}

export interface NpmCollectOptions {
  layer: string
  artifactKey: string
  artifact: LockedArtifact
  source: TarballSource
  spool: ContentSpool
  pruner: Pruner
  emit: EmitEvent
  /** Where local packages (`resolved: file:...`) are packed from again, instead of fetching a tarball. */
  local?: LocalPackages
  concurrency?: number
}

export interface CollectedTree {
  entries: ZipEntry[]
  packages: number
}

/** A file's content as held until the zip is written: compressed already (up to BUFFERED_MAX), or raw. */
interface StoredFile {
  size: number
  /** The payload to write (compressed) or the raw content (`compressed` absent). */
  content: SpooledContent
  compressed?: {crc: number; method: 0 | 8}
}

interface PackageFile {
  /** Path inside the package (first tar segment stripped). */
  rel: string
  mode: number
  /** Set when kept; absent while the prune decision waits for the package.json (then `deferred` holds the data). */
  stored?: StoredFile
  deferred?: Buffer
}

interface PackageLink {
  rel: string
  /** Target path inside the package, already normalised and checked. */
  target: string
}

interface CollectedFile {
  zipPath: string
  mode: number
  stored: StoredFile
  depth: number
}

const FILE_TYPES = new Set(['File', 'OldFile', 'ContiguousFile'])
const DEFAULT_CONCURRENCY = 16

/** Collects every locked package of `artifact` into sorted-ready zip entries under `nodejs/`. */
export async function collectNpmTree(options: NpmCollectOptions): Promise<CollectedTree> {
  const packages = Object.entries(options.artifact.packages ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  const scripted = packages.filter(([, pkg]) => pkg.hasInstallScript).map(([, pkg]) => `${pkg.name}@${pkg.version}`)
  if (scripted.length > 0) {
    options.emit({type: 'warning', warning: installScriptsNotRun(`${options.layer} (${options.artifactKey})`, scripted)})
  }
  for (const [lockPath] of packages) {
    const problem = packagePathProblem(lockPath)
    if (problem) {
      throw new UserInputError('ERR_LAYERS_LOCKFILE_UNSAFE', `Layer ${options.layer} (${options.artifactKey}): ${problem}; refusing to build it.`, {
        hint: 'Restore lockfile.json from version control, or run `layers lock` to resolve the layer again.',
        details: {layer: options.layer, artifactKey: options.artifactKey, path: lockPath},
      })
    }
  }
  const fetched = packages.filter(([, pkg]) => !pkg.inBundle)
  const limit = pLimit(options.concurrency ?? DEFAULT_CONCURRENCY)
  const files = new Map<string, CollectedFile>()
  let done = 0
  await Promise.all(
    fetched.map(([lockPath, pkg]) =>
      limit(async () => {
        const packageFiles = await readPackage(options, lockPath, pkg)
        const depth = lockPath.split('/').length
        for (const file of packageFiles) {
          const existing = files.get(file.zipPath)
          if (!existing || existing.depth <= depth) files.set(file.zipPath, {...file, depth})
        }
        done++
        options.emit({type: 'progress', phase: 'build', message: `${options.layer}: ${pkg.name}@${pkg.version}`, current: done, total: fetched.length})
      }),
    ),
  )
  const spool = options.spool
  const entries: ZipEntry[] = [...files.values()].map(({zipPath, mode, stored}) => {
    const {compressed, content, size} = stored
    if (!compressed) return {path: zipPath, mode, size, open: () => spool.open(content)}
    return {
      path: zipPath,
      mode,
      size,
      open: async () => {
        const payload = await readAll(spool.open(content))
        return compressed.method === 8 ? inflateRawSync(payload) : payload
      },
      precompressed: {...compressed, compressedSize: contentSize(content), open: () => spool.open(content)},
    }
  })
  return {entries, packages: packages.length}
}

async function readAll(source: Buffer | Readable): Promise<Buffer> {
  if (Buffer.isBuffer(source)) return source
  const chunks: Buffer[] = []
  for await (const chunk of source) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

/** Compresses (small files) and spools a kept file's content. */
async function store(spool: ContentSpool, rel: string, data: Buffer): Promise<StoredFile> {
  if (data.length > BUFFERED_MAX) return {size: data.length, content: await spool.put(data)}
  const {crc, method, payload} = await compressEntry(rel, data)
  return {size: data.length, content: await spool.put(compact(payload)), compressed: {crc, method}}
}

/**
 * Tar entry data are views into the (much larger) chunks the gunzip produced; keeping such a view
 * keeps the whole chunk alive. Small files kept as they are (stored, or deferred) are copied out.
 */
function compact(data: Buffer): Buffer {
  return data.buffer.byteLength > data.length + 4096 ? Buffer.from(data) : data
}

function unsafe(options: NpmCollectOptions, pkg: LockedPackage, what: string): UserInputError {
  return new UserInputError('ERR_LAYERS_PACKAGE_UNSAFE', `Layer ${options.layer}: the tarball of ${pkg.name}@${pkg.version} contains ${what}; refusing to build it.`, {
    hint: `The package is malformed or hostile. Remove ${pkg.name} from the layer (or pin another version) and run \`layers lock\` again.`,
    details: {layer: options.layer, package: pkg.name, version: pkg.version},
  })
}

/**
 * The tarball must hold the package the lock names: pacote serves a cached tarball by integrity
 * alone, so a lockfile whose integrity was swapped for another package's (and the resolved URL with it)
 * would otherwise put that other package under this one's folder, verified and silent.
 */
function assertTarballIsLockedPackage(options: NpmCollectOptions, lockPath: string, pkg: LockedPackage, manifest: unknown): void {
  if (typeof manifest !== 'object' || manifest === null) return
  const {name, version} = manifest as {name?: unknown; version?: unknown}
  const nameDiffers = typeof name === 'string' && name !== pkg.name
  const versionDiffers = typeof version === 'string' && semver.valid(version) !== null && semver.valid(pkg.version) !== null && !semver.eq(version, pkg.version)
  if (!nameDiffers && !versionDiffers) return
  const found = `${typeof name === 'string' ? name : pkg.name}@${typeof version === 'string' ? version : '?'}`
  throw new UserInputError('ERR_LAYERS_PACKAGE_MISMATCH', `Layer ${options.layer}: lockfile.json locks ${pkg.name}@${pkg.version} at ${lockPath}, but the tarball its integrity selects is ${found}; refusing to build it.`, {
    hint: `lockfile.json was edited or corrupted (an integrity or resolved URL of another package). Restore it from version control, or run \`layers lock --update ${options.layer}/${pkg.name}\` to resolve it again.`,
    details: {layer: options.layer, path: lockPath, package: pkg.name, version: pkg.version, found},
  })
}

/** Splits a tar entry path into its path inside the package (first segment stripped); throws on unsafe paths. */
function packageRelativePath(options: NpmCollectOptions, pkg: LockedPackage, raw: string): string | undefined {
  if (raw.startsWith('/') || /^[a-zA-Z]:/.test(raw)) throw unsafe(options, pkg, `an absolute path (${JSON.stringify(raw)})`)
  if (raw.includes('\\')) throw unsafe(options, pkg, `a path with a backslash (${JSON.stringify(raw)})`)
  if (raw.includes('\0')) throw unsafe(options, pkg, 'a path with a NUL byte')
  const segments = raw.split('/').filter((segment) => segment !== '' && segment !== '.')
  if (segments.includes('..')) throw unsafe(options, pkg, `a path escaping the package (${JSON.stringify(raw)})`)
  if (segments.length < 2) return undefined
  return segments.slice(1).join('/')
}

async function readPackage(options: NpmCollectOptions, lockPath: string, pkg: LockedPackage): Promise<Omit<CollectedFile, 'depth'>[]> {
  let parsed: {files: Map<string, PackageFile>; links: PackageLink[]; manifests: Map<string, unknown>}
  try {
    parsed = isLocalResolved(pkg.resolved) ? await readLocalPackage(options, lockPath, pkg) : await options.source.stream(pkg, (tgz) => parseTarball(options, lockPath, pkg, tgz))
  } catch (error) {
    throw fetchError(options, lockPath, pkg, error)
  }
  const {files, links, manifests} = parsed
  assertTarballIsLockedPackage(options, lockPath, pkg, manifests.get(''))
  // Links become copies of what they point to (resolved through other links, at most a few hops).
  for (const link of links) {
    let target = link.target
    for (let hop = 0; hop < 8 && !files.has(target); hop++) {
      const next = links.find((other) => other.rel === target)
      if (!next) break
      target = next.target
    }
    const file = files.get(target)
    if (file) {
      files.set(link.rel, {...file, rel: link.rel})
      continue
    }
    const under = [...files.values()].filter((candidate) => candidate.rel.startsWith(target + '/'))
    if (under.length > 0) {
      for (const inner of under) {
        const rel = link.rel + inner.rel.slice(target.length)
        if (!files.has(rel)) files.set(rel, {...inner, rel})
      }
      continue
    }
    options.emit({
      type: 'warning',
      warning: {
        severity: 'warning',
        code: 'ERR_LAYERS_LINK_DANGLING',
        message: `Layer ${options.layer}: ${pkg.name}@${pkg.version} has a link ${link.rel} to ${target}, which is not in the package; it is left out.`,
      },
    })
  }
  const binTargets = new Set(Object.values(pkg.bin ?? {}).map((target) => path.posix.normalize(target).replace(/^\.\//, '')))
  const entryPoints = new Map<string, Set<string>>()
  for (const [dir, manifest] of manifests) entryPoints.set(dir, entryPointsOf(manifest))
  const result: Omit<CollectedFile, 'depth'>[] = []
  for (const file of files.values()) {
    const zipPath = `nodejs/${lockPath}/${file.rel}`
    const {dir, inner} = splitInnerPackage(file.rel)
    const isEntryPoint = entryPoints.get(dir)?.has(inner) === true
    if (options.pruner.excluded(zipPath, inner, isEntryPoint)) continue
    const stored = file.stored ?? (await store(options.spool, file.rel, file.deferred!))
    const executable = (file.mode & 0o111) !== 0 || (dir === '' && binTargets.has(inner))
    result.push({zipPath, mode: executable ? 0o755 : 0o644, stored})
  }
  return result
}

/** A local package's files as `npm pack` packs them (src/resolve/local.ts), refused when they no longer have the locked hash. */
async function readLocalPackage(options: NpmCollectOptions, lockPath: string, pkg: LockedPackage): Promise<{files: Map<string, PackageFile>; links: PackageLink[]; manifests: Map<string, unknown>}> {
  if (!options.local) throw new OperationalError('ERR_LAYERS_LOCAL_PACKAGE_UNREADABLE', `Layer ${options.layer}: ${pkg.name} (${lockPath}) is a local package, but this build reads no local packages.`, {details: {layer: options.layer, package: pkg.name}})
  const packed = await packLockedPackage(options.local, options.layer, lockPath, pkg)
  const files = new Map<string, PackageFile>()
  const manifests = new Map<string, unknown>()
  for (const file of packed.files) {
    files.set(file.rel, {rel: file.rel, mode: file.mode, deferred: file.data})
    const {dir, inner} = splitInnerPackage(file.rel)
    if (inner !== 'package.json') continue
    try {
      manifests.set(dir, JSON.parse(file.data.toString('utf8')))
    } catch {
      // As for tarballs: an unparsable package.json protects no entry points.
    }
  }
  return {files, links: [], manifests}
}

function contentSize(content: SpooledContent): number {
  return content.kind === 'memory' ? content.data.length : content.size
}

async function parseTarball(
  options: NpmCollectOptions,
  lockPath: string,
  pkg: LockedPackage,
  tgz: Readable,
): Promise<{files: Map<string, PackageFile>; links: PackageLink[]; manifests: Map<string, unknown>}> {
  const files = new Map<string, PackageFile>()
  const links: PackageLink[] = []
  const manifests = new Map<string, unknown>()
  const pending: Promise<void>[] = []
  return new Promise((resolve, reject) => {
    let failed = false
    const fail = (error: unknown): void => {
      if (failed) return
      failed = true
      tgz.unpipe?.()
      tgz.destroy()
      reject(error)
    }
    const parser = new Parser({
      strict: true,
      onReadEntry: (entry: ReadEntry) => {
        if (failed) return entry.resume()
        let rel: string | undefined
        try {
          rel = packageRelativePath(options, pkg, entry.path)
        } catch (error) {
          entry.resume()
          return fail(error)
        }
        if (rel === undefined) return entry.resume()
        if (entry.type === 'SymbolicLink' || entry.type === 'Link') {
          entry.resume()
          try {
            links.push({rel, target: linkTarget(options, pkg, rel, entry)})
          } catch (error) {
            fail(error)
          }
          return
        }
        if (!FILE_TYPES.has(entry.type)) return entry.resume()
        const chunks: Buffer[] = []
        const mode = entry.mode ?? 0o644
        const fileRel = rel
        pending.push(
          new Promise<void>((done, entryFailed) => {
            entry.on('data', (chunk: Buffer) => chunks.push(chunk))
            entry.on('error', entryFailed)
            entry.on('end', () => {
              const data = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)
              if (splitInnerPackage(fileRel).inner === 'package.json') {
                try {
                  manifests.set(splitInnerPackage(fileRel).dir, JSON.parse(data.toString('utf8')))
                } catch {
                  // An unparsable package.json protects no entry points; Node will report it at run time.
                }
              }
              // Decide what can be decided now: files dropped whatever the package.json says are not
              // kept; files kept whatever it says are compressed while other tarballs stream in.
              const zipPath = `nodejs/${lockPath}/${fileRel}`
              const inner = splitInnerPackage(fileRel).inner
              const dropped = options.pruner.excluded(zipPath, inner, true)
              const kept = !options.pruner.excluded(zipPath, inner, false)
              if (dropped) return done()
              if (!kept) {
                files.set(fileRel, {rel: fileRel, mode, deferred: compact(data)})
                return done()
              }
              store(options.spool, fileRel, data).then((stored) => {
                files.set(fileRel, {rel: fileRel, mode, stored})
                done()
              }, entryFailed)
            })
          }),
        )
      },
    })
    parser.on('error', fail)
    tgz.on('error', fail)
    parser.on('end', () => {
      Promise.all(pending).then(() => {
        if (!failed) resolve({files, links, manifests})
      }, fail)
    })
    tgz.pipe(parser as unknown as NodeJS.WritableStream)
  })
}

function linkTarget(options: NpmCollectOptions, pkg: LockedPackage, rel: string, entry: ReadEntry): string {
  const raw = entry.linkpath ?? ''
  if (raw === '' || raw.startsWith('/') || /^[a-zA-Z]:/.test(raw) || raw.includes('\\')) {
    throw unsafe(options, pkg, `a link ${rel} -> ${JSON.stringify(raw)} escaping the package`)
  }
  // Symlink targets are relative to the link's directory; hard link targets to the archive root.
  const joined = entry.type === 'SymbolicLink' ? path.posix.join(path.posix.dirname(rel), raw) : path.posix.normalize(raw).split('/').slice(1).join('/')
  const target = path.posix.normalize(joined)
  if (target === '..' || target.startsWith('../') || target === '.' || target === '') {
    throw unsafe(options, pkg, `a link ${rel} -> ${JSON.stringify(raw)} escaping the package`)
  }
  return target
}

function fetchError(options: NpmCollectOptions, lockPath: string, pkg: LockedPackage, error: unknown): Error {
  if (error instanceof UserInputError || error instanceof OperationalError) return error
  // Not every error's code is a string (a child process's exit code is a number).
  const code = String((error as {code?: unknown}).code ?? '')
  const message = (error as Error).message ?? String(error)
  const details = {layer: options.layer, package: pkg.name, version: pkg.version, path: lockPath}
  const what = `${pkg.name}@${pkg.version} (${lockPath}) of layer ${options.layer}`
  const mismatch = integrityMismatchOf(error)
  if (mismatch) {
    return new OperationalError('ERR_LAYERS_INTEGRITY_MISMATCH', `The tarball of ${what} from ${pkg.resolved} does not match its integrity in lockfile.json: expected ${mismatch.expected}, got ${mismatch.actual}; nothing was built.`, {
      cause: error,
      details: {...details, ...mismatch},
      hint: `Either the registry (or a proxy) now serves other bytes than were locked: do not trust them, check the registry in .npmrc; or lockfile.json is wrong (edited, or locked from another registry): run \`layers lock --update ${options.layer}/${pkg.name}\` to lock it again.`,
    })
  }
  if (code.startsWith('TAR_') || code.startsWith('Z_') || /zlib|unexpected end|Truncated input|TAR_/i.test(message)) {
    return new OperationalError('ERR_LAYERS_TARBALL_CORRUPT', `The tarball of ${what} is not a valid gzipped tar: ${message}`, {
      cause: error,
      details,
      hint: 'The package is broken as published. Pin another version in the manifest and run `layers lock`.',
    })
  }
  const status = /^E(\d{3})$/.exec(code)?.[1]
  return new OperationalError('ERR_LAYERS_TARBALL_FETCH', `Cannot fetch the tarball of ${what}${status ? ` (HTTP ${status})` : ''}: ${message}`, {
    cause: error,
    details,
    hint:
      status === '401' || status === '403'
        ? 'Check the auth token for this registry in .npmrc (project or user level).'
        : 'Check the network and the registry in .npmrc, then run `layers build` again.',
  })
}
