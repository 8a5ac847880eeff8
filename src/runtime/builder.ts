// Owns building a runtime layer artifact: the template's files at the paths its descriptor gives
// (`bootstrap` at the zip root, always 0755) plus, for templates that ship a binary, the descriptor's
// files taken from the locked binary package's tarball (fetched through the build's TarballSource:
// npm cache first, integrity always verified), always 0755. Nothing else of the package is kept. The
// bytes depend only on the template files' contents and the locked binary, so builds are deterministic
// and the build cache key is computed offline. The manifest's `exclude` globs apply to template files
// other than `bootstrap`; the default prune list does not (a template lists exactly what it needs).
import {createHash} from 'node:crypto'
import {readFile} from 'node:fs/promises'
import type {Readable} from 'node:stream'
import {OperationalError, UserInputError} from '../errors/index.js'
import {registerLayerBuilder, type LayerBuilder, type LayerBuildJob, type LayerBuildTools} from '../build/builders.js'
import type {ContentSpool, SpooledContent} from '../build/spool.js'
import type {ZipEntry} from '../build/zip.js'
import type {LockedBinary} from '../lock/types.js'
import {integrityMismatchOf} from '../npm/tarball.js'
import type {RuntimeLayer} from '../manifest/types.js'
import {loadRuntimeTemplate, type RuntimeTemplate} from './template.js'

/** A binary file's content in the spool, with its size. */
type Extracted = SpooledContent & {size: number}

interface RuntimeJob {
  template: RuntimeTemplate
  binary?: LockedBinary
  /** Layer path -> path inside the package. */
  binaryFiles: Record<string, string>
}

async function prepare(job: LayerBuildJob): Promise<RuntimeJob> {
  const layer = job.layer as RuntimeLayer
  const template = await loadRuntimeTemplate(layer.template, {root: job.manifest.root, layer: job.name})
  const stale = (why: string): UserInputError =>
    new UserInputError('ERR_LAYERS_LOCK_STALE', `lockfile.json does not match runtime template ${template.id} for layer ${job.name} (${job.artifactKey}): ${why}.`, {
      hint: `Run \`layers lock --update ${job.name}\` to lock it again from the template.`,
      details: {layer: job.name, artifact: job.artifactKey},
    })
  if (job.locked.kind !== 'runtime' || job.locked.template !== template.id) throw stale(`the lock names template ${job.locked.kind === 'runtime' ? job.locked.template : job.locked.kind}`)
  const binary = job.artifact.binary
  if (!template.binary) {
    if (binary) throw stale('the lock has a binary but the template ships none')
    return {template, binaryFiles: {}}
  }
  if (!binary) throw stale('the template ships a binary but the lock has none')
  if (job.artifact.architectures.length !== 1 || template.binary.packages[job.artifact.architectures[0]!] !== binary.name) {
    throw stale(`${binary.name} is not the template's binary package for ${job.artifact.architectures.join('+')}`)
  }
  return {template, binary, binaryFiles: template.binary.files}
}

async function hashFile(file: string): Promise<string> {
  return createHash('sha256').update(await readFile(file)).digest('hex')
}

export const runtimeLayerBuilder: LayerBuilder = {
  async cacheInputs(job, tools) {
    const {template, binary, binaryFiles} = await prepare(job)
    const files = []
    for (const file of template.files) {
      if (excluded(file.layerPath, tools.pruner)) continue
      files.push([file.layerPath, file.executable, await hashFile(file.source)])
    }
    return {kind: 'runtime', files, binary: binary ? {name: binary.name, version: binary.version, integrity: binary.integrity, files: binaryFiles} : null}
  },
  async collect(job, tools) {
    const {template, binary, binaryFiles} = await prepare(job)
    const entries: ZipEntry[] = []
    for (const file of template.files) {
      if (excluded(file.layerPath, tools.pruner)) continue
      const data = await readFile(file.source)
      entries.push({path: file.layerPath, mode: file.executable ? 0o755 : 0o644, size: data.length, open: () => data})
    }
    if (binary) {
      tools.emit({type: 'progress', phase: 'build', message: `${job.name}: ${binary.name}@${binary.version}`})
      entries.push(...(await binaryEntries(job, binary, binaryFiles, tools)))
    }
    return {entries, packages: binary ? 1 : 0}
  },
}

function excluded(layerPath: string, pruner: LayerBuildTools['pruner']): boolean {
  // Entry point: protected from the default prune list, not from the user's own `exclude` globs.
  return layerPath !== 'bootstrap' && pruner.excluded(layerPath, layerPath, true)
}

/** The binary package's wanted files as zip entries (content held in the spool until the zip is written). */
async function binaryEntries(job: LayerBuildJob, binary: LockedBinary, files: Record<string, string>, tools: LayerBuildTools): Promise<ZipEntry[]> {
  const wanted = new Map<string, string[]>()
  for (const [layerPath, inPackage] of Object.entries(files)) wanted.set(inPackage, [...(wanted.get(inPackage) ?? []), layerPath])
  const source = await tools.tarballs()
  // tar is loaded before the stream opens: a cache miss is emitted as an error right away, and the
  // handler must already be listening (or the miss surfaces as an unhandled rejection).
  const {Parser} = await import('tar')
  let found: Map<string, Extracted>
  try {
    found = await source.stream(binary, (tgz) => extractFiles(tgz, new Set(wanted.keys()), tools.spool, Parser))
  } catch (error) {
    throw tarballError(job, binary, error)
  }
  const missing = [...wanted.keys()].filter((inPackage) => !found.has(inPackage))
  if (missing.length > 0) {
    throw new OperationalError('ERR_LAYERS_RUNTIME_BINARY_MISSING', `Layer ${job.name}: ${binary.name}@${binary.version} has no ${missing.join(', ')}, which the runtime template's binary.files names.`, {
      hint: 'The package layout changed: pin a version that has it (the layer\'s `version`), or fix binary.files in the template.',
      details: {layer: job.name, package: binary.name, version: binary.version, missing},
    })
  }
  const entries: ZipEntry[] = []
  for (const [inPackage, layerPaths] of wanted) {
    const content = found.get(inPackage)!
    for (const layerPath of layerPaths) entries.push({path: layerPath, mode: 0o755, size: content.size, open: () => tools.spool.open(content)})
  }
  return entries
}

/** Reads the regular files at `wanted` (paths with the first tar segment stripped) into the spool. */
async function extractFiles(tgz: Readable, wanted: ReadonlySet<string>, spool: ContentSpool, Parser: typeof import('tar').Parser): Promise<Map<string, Extracted>> {
  const found = new Map<string, Extracted>()
  const pending: Promise<void>[] = []
  await new Promise<void>((resolve, reject) => {
    const parser = new Parser({
      strict: true,
      onReadEntry: (entry) => {
        const rel = entry.path.split('/').slice(1).join('/')
        if (!wanted.has(rel) || (entry.type !== 'File' && entry.type !== 'OldFile' && entry.type !== 'ContiguousFile')) return entry.resume()
        // One buffer of the declared size: a 150 MB binary is not held twice while it is copied.
        const data = Buffer.allocUnsafe(entry.size ?? 0)
        let offset = 0
        pending.push(
          new Promise<void>((done, failed) => {
            entry.on('data', (chunk: Buffer) => {
              if (offset + chunk.length > data.length) return failed(new Error(`tar entry ${entry.path} is longer than its header says`))
              chunk.copy(data, offset)
              offset += chunk.length
            })
            entry.on('error', failed)
            entry.on('end', () => {
              if (offset !== data.length) return failed(new Error(`tar entry ${entry.path} is shorter than its header says`))
              spool.put(data).then((content) => {
                found.set(rel, {...content, size: data.length})
                done()
              }, failed)
            })
          }),
        )
      },
    })
    parser.on('error', reject)
    tgz.on('error', reject)
    parser.on('end', () => {
      Promise.all(pending).then(() => resolve(), reject)
    })
    tgz.pipe(parser as unknown as NodeJS.WritableStream)
  })
  return found
}

function tarballError(job: LayerBuildJob, binary: LockedBinary, error: unknown): Error {
  if (error instanceof UserInputError || error instanceof OperationalError) return error
  const message = (error as Error).message ?? String(error)
  const details = {layer: job.name, package: binary.name, version: binary.version}
  const mismatch = integrityMismatchOf(error)
  if (mismatch) {
    return new OperationalError('ERR_LAYERS_INTEGRITY_MISMATCH', `The tarball of ${binary.name}@${binary.version} (layer ${job.name}) from ${binary.resolved} does not match its integrity in lockfile.json: expected ${mismatch.expected}, got ${mismatch.actual}; nothing was built.`, {
      cause: error,
      details: {...details, ...mismatch},
      hint: `The registry (or a proxy) served other bytes than were locked. Do not trust them; if the lock itself is wrong, run \`layers lock ${job.name}\`.`,
    })
  }
  return new OperationalError('ERR_LAYERS_TARBALL_FETCH', `Cannot read the tarball of ${binary.name}@${binary.version} (layer ${job.name}): ${message}`, {
    cause: error,
    details,
    hint: 'Check the network and the registry in .npmrc, then run `layers build` again.',
  })
}

/** Plugs runtime layers into `layers build` (idempotent). */
export function registerRuntimeLayerBuilder(): void {
  registerLayerBuilder('runtime', runtimeLayerBuilder)
}

registerRuntimeLayerBuilder()
