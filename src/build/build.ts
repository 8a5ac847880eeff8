// Owns `layers build`: for each artifact of each selected own layer, from the lockfile only, either
// finds its zip in the build cache or collects its entries (builders.ts) and writes a deterministic
// zip (zip.ts), records it in the state database, and reports sizes against Lambda's unzipped limit.
// First it removes the temp files killed runs left in .layers (never a live run's). When
// the run's AbortSignal fires it stops between artifacts (or inside one: reading, zipping), removes
// that artifact's temp files and throws InterruptedError saying which artifacts were built and which not.
import {readdir, rename, rm, rmdir} from 'node:fs/promises'
import path from 'node:path'
import {InterruptedError, OperationalError, UserInputError} from '../errors/index.js'
import type {EmitEvent} from '../events.js'
import {removeDeadTemps, tempPath, trackTemp} from '../fsutil/atomic.js'
import {ARTIFACT_KEYS} from '../lock/check.js'
import {artifactArchitectures, type ArtifactKey, type LockedOwnLayer, type Lockfile} from '../lock/types.js'
import type {Architecture, Manifest, OwnLayer} from '../manifest/types.js'
import {selectLayerNames} from '../manifest/select.js'
import {recordArtifactTree, type ArtifactTree} from '../store/artifact-trees.js'
import {openStateDatabase, type StateDatabase} from '../store/db.js'
import {layerBuilders, loadLayerBuilder, type LayerBuilder, type LayerBuildJob} from './builders.js'
import {BUILDER_VERSION, cacheKey, findCachedBuild, recordBuild, type CachedBuild} from './cache.js'
import type {TarballSource} from './npm.js'
import {createPruner, DEFAULT_PRUNE_VERSION, type Pruner} from './prune.js'
import {renderBuildInterrupted} from './render.js'
import {ContentSpool} from './spool.js'
import {writeDeterministicZip, ZIP_FORMAT_ID} from './zip.js'

/** Lambda's limit for a function plus all its layers, unzipped, in bytes. */
export const UNZIPPED_LIMIT = 262_144_000
export const UNZIPPED_WARNING_RATIO = 0.8

export interface BuiltArtifact {
  layer: string
  artifactKey: ArtifactKey
  architectures: Architecture[]
  /** Absolute path of the zip. */
  zipPath: string
  /** Base64 SHA-256 of the zip, as Lambda reports it. */
  codeSha256: string
  sha256Hex: string
  zipBytes: number
  unzippedBytes: number
  files: number
  packages: number
  /** True when the zip came from the build cache. */
  cached: boolean
}

export interface BuildOptions {
  /** Layer names to build; all own layers of the manifest when empty or absent. */
  layers?: string[]
  /** The project's `.layers` directory (state db, build outputs). */
  stateDir: string
  emit: EmitEvent
  /** npm options for pacote (registry, auth, cache); called only when a tarball must be fetched. */
  npmOptions?: () => Promise<Record<string, unknown>>
  /** Replaces pacote (tests). */
  tarballSource?: TarballSource
  /** An open state database (else opened from stateDir and closed at the end). */
  db?: StateDatabase
  /** Bytes of file content held in memory before spilling to a temp file. */
  memoryBudget?: number
  /** Which layers the lockfile no longer matches (from the manifest fingerprint check). */
  staleLayers: (names: string[]) => string[]
  /** Fires on an interrupt: no further artifact is started, the one in progress stops and leaves no temp file. */
  signal?: AbortSignal
}

/** One artifact an interrupted build did not build. */
export interface UnbuiltArtifact {
  layer: string
  artifactKey: ArtifactKey
}

const DEFAULT_MEMORY_BUDGET = 96 * 1024 * 1024

/**
 * Builds (or finds in the cache) every artifact of the selected layers. Throws UserInputError when a
 * layer is unknown, not buildable or not locked; OperationalError ERR_LAYERS_LAYER_TOO_LARGE (with the
 * built artifacts in `details.artifacts`) when an artifact exceeds Lambda's unzipped limit;
 * InterruptedError (`details.built`, `details.notBuilt`) when `options.signal` fired.
 */
export async function buildLayers(manifest: Manifest, lock: Lockfile, options: BuildOptions): Promise<BuiltArtifact[]> {
  const names = selectLayers(manifest, options.layers)
  // The runtime and pip builders register themselves when loaded; only layers of their kind need them.
  for (const kind of new Set(names.map((name) => (manifest.layers[name] as OwnLayer).kind))) await loadLayerBuilder(kind)
  const stale = options.staleLayers(names)
  if (stale.length > 0) {
    throw new UserInputError('ERR_LAYERS_LOCK_STALE', `lockfile.json does not match the manifest for layer${stale.length === 1 ? '' : 's'} ${stale.join(', ')}.`, {
      hint: `Run \`layers lock${stale.length === names.length && options.layers?.length ? ' ' + stale.join(' ') : ''}\` first; \`layers build\` builds from the lockfile only.`,
      details: {layers: stale},
    })
  }
  const jobs = names.flatMap((name) => jobsFor(manifest, lock, name))
  const db = options.db ?? openStateDatabase(options.stateDir)
  const buildDir = path.join(options.stateDir, 'build')
  let tarballs: TarballSource | undefined = options.tarballSource
  const tools = {
    emit: options.emit,
    ...(options.signal ? {signal: options.signal} : {}),
    tarballs: async (): Promise<TarballSource> => {
      const {pacoteTarballSource} = await import('./npm.js')
      tarballs ??= pacoteTarballSource(options.npmOptions ? await options.npmOptions() : {}, {emit: options.emit, ...(options.signal ? {signal: options.signal} : {})})
      return tarballs
    },
  }
  const built: BuiltArtifact[] = []
  const signal = options.signal
  const interrupted = (from: number): InterruptedError => {
    const notBuilt = jobs.slice(from).map((job) => ({layer: job.name, artifactKey: job.artifactKey}))
    const by = InterruptedError.signalOf(signal!)
    return new InterruptedError(by, renderBuildInterrupted(by, built, notBuilt), {details: {built, notBuilt}})
  }
  // .layers/build/<layer>/<artifact>/ is four levels down; .layers/package/ holds function zips' temp files.
  await removeDeadTemps(options.stateDir, 4)
  try {
    for (const [index, job] of jobs.entries()) {
      if (signal?.aborted) throw interrupted(index)
      const layer = job.layer
      const pruner = createPruner({exclude: layer.exclude, defaultExcludes: layer.defaultExcludes})
      const builder = layerBuilders[layer.kind]!
      const inputHash = await artifactInputHash(job, builder, pruner)
      const cached = findCachedBuild(db, options.stateDir, job.name, job.artifactKey, inputHash)
      if (cached) {
        // Builds cached before the trees were kept (migration 6) get theirs now.
        recordArtifactTree(db, treeOf(job, cached.codeSha256))
        built.push(toBuilt(cached, true))
        continue
      }
      options.emit({type: 'progress', phase: 'build', message: `${job.name} (${job.artifactKey})`})
      const outDir = path.join(buildDir, job.name, job.artifactKey)
      const spool = new ContentSpool(buildDir, options.memoryBudget ?? DEFAULT_MEMORY_BUDGET, signal)
      // Unique per run: two concurrent builds of the same artifact each write their own file, and the
      // content-addressed rename makes the second one a no-op replacement with identical bytes.
      const pending = tempPath(outDir, 'pending')
      const untrack = trackTemp(pending)
      try {
        const {entries, packages} = await builder.collect(job, {...tools, pruner, spool})
        signal?.throwIfAborted()
        const zip = await writeDeterministicZip(pending, entries, signal)
        const zipPath = path.join(outDir, `${zip.sha256Hex}.zip`)
        await rename(pending, zipPath)
        const record: CachedBuild = {layer: job.name, artifactKey: job.artifactKey, inputHash, ...zip, zipPath, packages}
        db.transaction(() => {
          recordBuild(db, options.stateDir, record)
          recordArtifactTree(db, treeOf(job, record.codeSha256))
        })()
        built.push(toBuilt(record, false))
      } catch (error) {
        await rm(pending, {force: true})
        await spool.close()
        await removeEmptyDirs([outDir, path.dirname(outDir), buildDir])
        if (signal?.aborted) throw interrupted(index)
        throw error
      } finally {
        untrack()
        await spool.close()
      }
    }
  } finally {
    if (!options.db) db.close()
  }
  checkSizes(built, options.emit)
  return built
}

function treeOf(job: LayerBuildJob, codeSha256: string): ArtifactTree {
  const {packages, wheels} = job.artifact
  return {codeSha256, layer: job.name, artifactKey: job.artifactKey, ...(packages ? {packages} : {}), ...(wheels ? {wheels} : {})}
}

function toBuilt(build: CachedBuild, cached: boolean): BuiltArtifact {
  return {
    layer: build.layer,
    artifactKey: build.artifactKey,
    architectures: artifactArchitectures(build.artifactKey),
    zipPath: build.zipPath,
    codeSha256: build.codeSha256,
    sha256Hex: build.sha256Hex,
    zipBytes: build.zipBytes,
    unzippedBytes: build.unzippedBytes,
    files: build.files,
    packages: build.packages,
    cached,
  }
}

/** The own layers to build, in manifest order; throws on unknown or unbuildable names. */
export function selectLayers(manifest: Manifest, requested: readonly string[] | undefined): string[] {
  return selectLayerNames(manifest, requested, {kinds: 'own', purpose: 'build'})
}

function jobsFor(manifest: Manifest, lock: Lockfile, name: string): LayerBuildJob[] {
  const layer = manifest.layers[name] as OwnLayer
  const locked = lock.layers[name]
  if (!locked || locked.kind !== layer.kind) {
    throw new UserInputError('ERR_LAYERS_LOCK_STALE', `Layer ${name} is not in lockfile.json.`, {
      hint: 'Run `layers lock` first; `layers build` builds from the lockfile only.',
      details: {layer: name},
    })
  }
  if (!layerBuilders[layer.kind]) {
    throw new OperationalError('ERR_LAYERS_NO_BUILDER', `This layers version cannot build ${layer.kind} layers (layer ${name}).`, {
      hint: 'Upgrade layers.',
      details: {layer: name},
    })
  }
  const ownLocked = locked as LockedOwnLayer
  // The artifact key names the output directory: only the keys layers writes (the lockfile reader refuses others).
  const foreign = Object.keys(ownLocked.artifacts).find((key) => !ARTIFACT_KEYS.includes(key))
  if (foreign !== undefined) {
    throw new UserInputError('ERR_LAYERS_LOCKFILE_UNSAFE', `Layer ${name}: artifact key ${JSON.stringify(foreign.slice(0, 120))} in lockfile.json is not one layers writes (${ARTIFACT_KEYS.join(', ')}); refusing to build it.`, {
      hint: 'Restore lockfile.json from version control, or run `layers lock` to resolve the layer again.',
      details: {layer: name},
    })
  }
  return Object.keys(ownLocked.artifacts)
    .sort()
    .map((key) => ({name, layer, locked: ownLocked, artifactKey: key, artifact: ownLocked.artifacts[key]!, manifest}))
}

function checkSizes(built: BuiltArtifact[], emit: EmitEvent): void {
  const over = built.filter((artifact) => artifact.unzippedBytes > UNZIPPED_LIMIT)
  for (const artifact of built) {
    if (artifact.unzippedBytes > UNZIPPED_LIMIT || artifact.unzippedBytes <= UNZIPPED_LIMIT * UNZIPPED_WARNING_RATIO) continue
    emit({
      type: 'warning',
      warning: {
        severity: 'warning',
        code: 'ERR_LAYERS_LAYER_NEAR_LIMIT',
        message: `Layer ${artifact.layer} (${artifact.artifactKey}) is ${artifact.unzippedBytes} bytes unzipped, ${Math.round((artifact.unzippedBytes / UNZIPPED_LIMIT) * 100)}% of Lambda's ${UNZIPPED_LIMIT}-byte limit for a function and all its layers.`,
        hint: 'Add `exclude` globs for files the functions do not load, or split the layer.',
      },
    })
  }
  if (over.length > 0) {
    throw new OperationalError(
      'ERR_LAYERS_LAYER_TOO_LARGE',
      over.map((artifact) => `Layer ${artifact.layer} (${artifact.artifactKey}) is ${artifact.unzippedBytes} bytes unzipped, over Lambda's limit of ${UNZIPPED_LIMIT} bytes for a function and all its layers.`).join('\n'),
      {
        hint: 'Add `exclude` globs for files the functions do not load, move packages to another layer, or drop dependencies.',
        details: {artifacts: built},
      },
    )
  }
}

async function removeEmptyDirs(dirs: string[]): Promise<void> {
  for (const dir of dirs) {
    try {
      if ((await readdir(dir)).length > 0) return
      await rmdir(dir)
    } catch {
      return
    }
  }
}

/** The build cache key of one artifact: everything that decides its bytes (builder, zip format, prune config, inputs). */
export async function artifactInputHash(job: LayerBuildJob, builder: LayerBuilder, pruner: Pruner): Promise<string> {
  const layer = job.layer
  return cacheKey({
    builder: BUILDER_VERSION,
    zip: ZIP_FORMAT_ID,
    prune: {version: DEFAULT_PRUNE_VERSION, exclude: layer.exclude, defaultExcludes: layer.defaultExcludes},
    inputs: await builder.cacheInputs(job, {pruner}),
  })
}
