// Owns `layers build` end to end for callers that start from a manifest path (the command, publish):
// loads the manifest and the lockfile, checks the lock still matches, and builds. npm options are read
// (and pacote loaded) only when a tarball has to be fetched, so a cache hit stays fast.
import {UserInputError} from '../errors/index.js'
import type {EmitEvent} from '../events.js'
import {lockStatus, staleLayerNames} from '../lock/fingerprint.js'
import {readLockfile} from '../lock/io.js'
import {loadManifest} from '../manifest/load.js'
import {loadNpmOptions} from '../npm/config.js'
import {projectPaths} from '../project/paths.js'
import {buildLayers, type BuiltArtifact} from './build.js'

export interface BuildProjectOptions {
  manifestPath: string
  /** Layer names; all own layers when empty. */
  layers?: string[]
  emit: EmitEvent
  /** Fires on an interrupt (see BuildOptions.signal). */
  signal?: AbortSignal
}

export async function buildProject(options: BuildProjectOptions): Promise<BuiltArtifact[]> {
  const paths = projectPaths(options.manifestPath)
  const manifest = await loadManifest(paths.manifest)
  const lock = await readLockfile(paths.lockfile)
  if (!lock) {
    throw new UserInputError('ERR_LAYERS_LOCK_MISSING', `${paths.lockfile} does not exist.`, {
      hint: 'Run `layers lock` first; `layers build` builds from the lockfile only.',
    })
  }
  const status = await lockStatus(manifest, lock)
  return buildLayers(manifest, lock, {
    layers: options.layers,
    stateDir: paths.stateDir,
    emit: options.emit,
    // A layer stale only because a local package changed is refused by its builder, naming the package.
    staleLayers: (names) => staleLayerNames({...status, stale: status.stale.filter((name) => !status.localChanged?.includes(name))}, names),
    npmOptions: () => loadNpmOptions(paths.root),
    ...(options.signal ? {signal: options.signal} : {}),
  })
}
