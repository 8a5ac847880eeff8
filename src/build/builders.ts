// Owns the per-kind layer builders: what decides an artifact's bytes (its cache inputs, computed
// offline and fast) and how its zip entries are collected. `build.ts` dispatches through
// `layerBuilders`; another layer kind plugs in with registerLayerBuilder (`runtime`, `pip`), loaded
// on first use by loadLayerBuilder.
import {UserInputError} from '../errors/index.js'
import type {EmitEvent} from '../events.js'
import type {ArtifactKey, LockedArtifact, LockedOwnLayer} from '../lock/types.js'
import type {Manifest, OwnLayer} from '../manifest/types.js'
import {isLocalResolved, type LocalPackages} from '../resolve/local.js'
import {dirEntries, hashDirFiles, listDirLayer} from './dir.js'
import type {TarballSource} from './npm.js'
import type {Pruner} from './prune.js'
import type {ContentSpool} from './spool.js'
import type {ZipEntry} from './zip.js'

/** One artifact of one layer to build. */
export interface LayerBuildJob {
  name: string
  layer: OwnLayer
  locked: LockedOwnLayer
  artifactKey: ArtifactKey
  artifact: LockedArtifact
  manifest: Manifest
}

export interface LayerBuildTools {
  emit: EmitEvent
  pruner: Pruner
  /** Holds file contents between reading and zipping (bounded memory, spills to disk). */
  spool: ContentSpool
  /** Fires on an interrupt: downloads in flight stop (see BuildOptions.signal). */
  signal?: AbortSignal
  /** Tarball fetching with the project's npm options; created on first call (no network before). */
  tarballs(): Promise<TarballSource>
}

export interface LayerBuilder {
  /** JSON data that, with the prune config, decides the artifact's bytes. Must not use the network. */
  cacheInputs(job: LayerBuildJob, tools: Pick<LayerBuildTools, 'pruner'>): Promise<unknown>
  /** The artifact's zip entries (streamed when written) and how many packages it holds. */
  collect(job: LayerBuildJob, tools: LayerBuildTools): Promise<{entries: ZipEntry[]; packages: number}>
}

const npmBuilder: LayerBuilder = {
  async cacheInputs(job) {
    // A local package whose files changed is refused before a cached zip of its old content is reused.
    const local = await localPackagesOf(job)
    if (local) {
      const {packLockedPackage} = await import('../resolve/local.js')
      for (const [lockPath, pkg] of Object.entries(job.artifact.packages ?? {})) if (isLocalResolved(pkg.resolved)) await packLockedPackage(local, job.name, lockPath, pkg)
    }
    // Everything of a locked package that changes the files or their modes in the zip.
    const packages = Object.entries(job.artifact.packages ?? {}).map(([lockPath, pkg]) => [lockPath, pkg.name, pkg.version, pkg.integrity, pkg.inBundle === true, pkg.bin ?? {}])
    return {kind: 'npm', packages}
  },
  async collect(job, tools) {
    requirePackages(job)
    // Loaded on demand: tar and the tarball code are not needed for a cache hit.
    const {collectNpmTree} = await import('./npm.js')
    const local = await localPackagesOf(job)
    return collectNpmTree({
      layer: job.name,
      artifactKey: job.artifactKey,
      artifact: job.artifact,
      source: await tools.tarballs(),
      spool: tools.spool,
      pruner: tools.pruner,
      emit: tools.emit,
      ...(local ? {local} : {}),
    })
  },
}

/** The layer's local packages (src/resolve/local.ts), when its lock holds any. */
async function localPackagesOf(job: LayerBuildJob): Promise<LocalPackages | undefined> {
  if (!Object.values(job.artifact.packages ?? {}).some((pkg) => isLocalResolved(pkg.resolved))) return undefined
  const {LocalPackages} = await import('../resolve/local.js')
  return new LocalPackages({manifestRoot: job.manifest.root, layer: job.name})
}

function requirePackages(job: LayerBuildJob): void {
  if (job.artifact.packages === undefined) {
    throw new UserInputError('ERR_LAYERS_LOCK_INCOMPLETE', `lockfile.json has no packages for layer ${job.name} (${job.artifactKey}).`, {
      hint: 'Run `layers lock` to resolve it again.',
      details: {layer: job.name, artifact: job.artifactKey},
    })
  }
}

const dirBuilder: LayerBuilder = {
  async cacheInputs(job, tools) {
    const layer = job.layer as Extract<OwnLayer, {kind: 'dir'}>
    return {kind: 'dir', files: await hashDirFiles(await listDirLayer(job.name, layer.dir, tools.pruner))}
  },
  async collect(job, tools) {
    const layer = job.layer as Extract<OwnLayer, {kind: 'dir'}>
    return {entries: dirEntries(await listDirLayer(job.name, layer.dir, tools.pruner)), packages: 0}
  },
}

export const layerBuilders: Partial<Record<OwnLayer['kind'], LayerBuilder>> = {npm: npmBuilder, dir: dirBuilder}

/** The builder of a kind, first loading the module that registers it (runtime, pip) when it is not loaded yet. */
export async function loadLayerBuilder(kind: OwnLayer['kind']): Promise<LayerBuilder | undefined> {
  if (!layerBuilders[kind] && kind === 'runtime') await import('../runtime/builder.js')
  if (!layerBuilders[kind] && kind === 'pip') await import('../python/builder.js')
  return layerBuilders[kind]
}

export function registerLayerBuilder(kind: OwnLayer['kind'], builder: LayerBuilder): void {
  layerBuilders[kind] = builder
}
