// Owns finding, for one function, the locked artifact of each of its layers for the function's
// architecture, and the zip `layers build` made for it for the current lock and layer content. The
// build cache key is computed exactly as src/build/build.ts does (builder version, zip format, prune
// config, the builder's cache inputs), so an artifact counts as built only when `layers build` would
// take it from the cache: a changed dir layer or a re-locked npm layer is "not built".
import {artifactInputHash} from '../build/build.js'
import {findCachedBuild, type CachedBuild} from '../build/cache.js'
import {loadLayerBuilder} from '../build/builders.js'
import {createPruner} from '../build/prune.js'
import {UserInputError} from '../errors/index.js'
import type {ArtifactKey, LockedArtifact, LockedOwnLayer, Lockfile} from '../lock/types.js'
import {isOwnLayer, type Architecture, type FunctionSpec, type LayerSpec, type Manifest, type OwnLayer} from '../manifest/types.js'
import type {StateDatabase} from '../store/db.js'
// Registers the runtime layer builder, whose cache inputs decide whether a runtime layer is built.
import '../runtime/builder.js'

export interface FunctionLayer {
  /** Manifest layer name. */
  name: string
  spec: LayerSpec
  /** Own layers: the locked artifact for the function's architecture. */
  artifactKey?: ArtifactKey
  artifact?: LockedArtifact
  locked?: LockedOwnLayer
}

/**
 * The function's layers in its order, each with the locked artifact for `architecture`. Throws
 * UserInputError when a layer is unknown, not locked, or has no artifact for the architecture.
 */
export function functionLayers(manifest: Manifest, lock: Lockfile, fn: FunctionSpec, architecture: Architecture = fn.architecture): FunctionLayer[] {
  return fn.layers.map((name) => {
    const spec = manifest.layers[name]
    if (!spec) {
      throw new UserInputError('ERR_LAYERS_UNKNOWN_LAYER', `Function ${fn.key} uses layer ${name}, which ${manifest.file} does not declare.`, {
        hint: `Declare it under \`layers:\`, or remove it from functions.${fn.key}.layers.`,
        details: {function: fn.key, layer: name},
      })
    }
    if (!isOwnLayer(spec)) return {name, spec}
    const locked = lock.layers[name]
    if (!locked || locked.kind !== spec.kind) {
      throw new UserInputError('ERR_LAYERS_LOCK_STALE', `Layer ${name} (used by function ${fn.key}) is not in lockfile.json.`, {
        hint: 'Run `layers lock` first.',
        details: {function: fn.key, layer: name},
      })
    }
    const own = locked as LockedOwnLayer
    const key = Object.keys(own.artifacts).sort().find((candidate) => own.artifacts[candidate]!.architectures.includes(architecture))
    if (key === undefined) {
      throw new UserInputError('ERR_LAYERS_ARCHITECTURE_MISMATCH', `Layer ${name} has no ${architecture} artifact, but function ${fn.key} runs on ${architecture}.`, {
        hint: `Add ${architecture} to the layer's \`architectures\` and run \`layers lock\`, or change the function's architecture.`,
        details: {function: fn.key, layer: name, architecture},
      })
    }
    return {name, spec, artifactKey: key, artifact: own.artifacts[key]!, locked: own}
  })
}

export type BuiltArtifactFinder = (layer: FunctionLayer) => Promise<CachedBuild | undefined>

/**
 * findBuiltArtifact memoised per layer artifact (a dir layer's cache key hashes its files: once per
 * run, not once per function). Without a database nothing is built.
 */
export function builtArtifactFinder(manifest: Manifest, db: StateDatabase | undefined, stateDir: string): BuiltArtifactFinder {
  const found = new Map<string, Promise<CachedBuild | undefined>>()
  return (layer) => {
    if (!db) return Promise.resolve(undefined)
    const key = `${layer.name}\0${layer.artifactKey ?? ''}`
    let build = found.get(key)
    if (!build) {
      build = findBuiltArtifact(manifest, layer, db, stateDir)
      found.set(key, build)
    }
    return build
  }
}

/** The zip `layers build` produced for this layer artifact from the current inputs, or undefined. */
export async function findBuiltArtifact(manifest: Manifest, layer: FunctionLayer, db: StateDatabase, stateDir: string): Promise<CachedBuild | undefined> {
  if (!isOwnLayer(layer.spec) || !layer.locked || !layer.artifactKey || !layer.artifact) return undefined
  const spec: OwnLayer = layer.spec
  const builder = await loadLayerBuilder(spec.kind)
  if (!builder) return undefined
  const job = {name: layer.name, layer: spec, locked: layer.locked, artifactKey: layer.artifactKey, artifact: layer.artifact, manifest}
  const pruner = createPruner({exclude: spec.exclude, defaultExcludes: spec.defaultExcludes})
  const inputHash = await artifactInputHash(job, builder, pruner)
  return findCachedBuild(db, stateDir, layer.name, layer.artifactKey, inputHash)
}
