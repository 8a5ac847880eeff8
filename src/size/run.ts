// Owns `layers size`: loads the manifest and the lock, picks the layers and functions named (every
// one when none is), reads the built zips of their artifacts (`layers build` output for the current
// lock; a layer not built has unknown sizes and a warning) and the functions' own files, and returns
// the report src/size/plan.ts makes from them.
import {entryNamed} from '../manifest/select.js'
import {didYouMean} from '../manifest/suggest.js'
import {UserInputError} from '../errors/index.js'
import type {EmitEvent} from '../events.js'
import type {LockedOwnLayer} from '../lock/types.js'
import {isOwnLayer, type FunctionSpec, type Manifest} from '../manifest/types.js'
import {builtArtifactFinder, functionLayers, type FunctionLayer} from '../package/artifacts.js'
import {listFunctionFiles} from '../package/files.js'
import {functionProjectOf} from '../package/project.js'
import {loadManifest} from '../manifest/load.js'
import {projectPaths} from '../project/paths.js'
import {FUNCTION_UNZIPPED_LIMIT} from '../package/sizes.js'
import {listZip, type ZipListing} from '../package/zip-read.js'
import {openStateDatabase} from '../store/db.js'
import {sizeReport, type LayerListing, type SizeReport} from './plan.js'

export interface SizeOptions {
  manifestPath: string
  /** Layer names and function keys; every layer and function when empty. */
  names?: string[]
  /** How many packages each list keeps (biggest first). */
  top: number
  emit: EmitEvent
}

/** The names asked for, split into layers and functions; unknown names are an input error. */
function choose(manifest: Manifest, names: readonly string[]): {layers: string[]; functions: FunctionSpec[]} {
  if (names.length === 0) return {layers: Object.keys(manifest.layers).filter((name) => isOwnLayer(manifest.layers[name]!)), functions: Object.values(manifest.functions)}
  const layers: string[] = []
  const functions: FunctionSpec[] = []
  for (const name of names) {
    const fn = entryNamed(manifest.functions, name) ?? Object.values(manifest.functions).find((candidate) => candidate.name === name)
    const layer = entryNamed(manifest.layers, name)
    if (layer) layers.push(name)
    if (fn) functions.push(fn)
    if (!layer && !fn) {
      throw new UserInputError('ERR_LAYERS_UNKNOWN_NAME', `${name} is neither a layer nor a function of ${manifest.file}.${didYouMean(name, [...Object.keys(manifest.layers), ...Object.keys(manifest.functions)])}`, {
        hint: 'Name layers (under `layers:`) or functions (under `functions:`) of the manifest, or none for all of them.',
        details: {name},
      })
    }
  }
  return {layers: [...new Set(layers)], functions: [...new Set(functions)]}
}

export async function sizeProject(options: SizeOptions): Promise<SizeReport> {
  const projectFiles = projectPaths(options.manifestPath)
  const loaded = await loadManifest(projectFiles.manifest)
  const chosen = choose(loaded, options.names ?? [])
  const {manifest, lock, paths} = await functionProjectOf(projectFiles, loaded, chosen.functions, 'size', chosen.layers)
  const db = openStateDatabase(paths.stateDir)
  try {
    const findBuilt = builtArtifactFinder(manifest, db, paths.stateDir)
    const listings = new Map<string, Promise<ZipListing[]>>()
    const notBuilt = new Set<string>()
    const listingOf = async (layer: FunctionLayer): Promise<LayerListing> => {
      const base = {layer: layer.name, kind: layer.spec.kind, ...(layer.artifactKey ? {artifactKey: layer.artifactKey} : {})}
      const built = await findBuilt(layer)
      if (!built) {
        if (layer.spec.kind !== 'arn') notBuilt.add(layer.name)
        return base
      }
      let entries = listings.get(built.zipPath)
      if (!entries) listings.set(built.zipPath, (entries = listZip(built.zipPath)))
      const versions = Object.fromEntries(Object.entries(layer.artifact?.packages ?? {}).map(([lockPath, pkg]) => [lockPath, pkg.version]))
      return {...base, entries: await entries, zipBytes: built.zipBytes, versions}
    }
    const layerListings: LayerListing[] = []
    for (const name of chosen.layers) {
      const spec = manifest.layers[name]!
      if (!isOwnLayer(spec)) continue
      const locked = lock.layers[name] as LockedOwnLayer | undefined
      // assertLockMatches made sure every chosen own layer is locked.
      for (const [artifactKey, artifact] of Object.entries(locked!.artifacts).sort(([a], [b]) => (a < b ? -1 : 1))) {
        layerListings.push(await listingOf({name, spec, artifactKey, artifact, locked}))
      }
    }
    const functionInputs = []
    for (const fn of chosen.functions) {
      const files = await listFunctionFiles(fn)
      const layers = []
      for (const layer of functionLayers(manifest, lock, fn)) layers.push(await listingOf(layer))
      functionInputs.push({function: fn.key, runtime: fn.runtime, architecture: fn.architecture, codeUnzippedBytes: files.reduce((sum, file) => sum + file.size, 0), layers})
    }
    if (notBuilt.size > 0) {
      const names = [...notBuilt].sort()
      options.emit({type: 'warning', warning: {severity: 'warning', code: 'ERR_LAYERS_LAYER_NOT_BUILT', message: `Layer${names.length === 1 ? '' : 's'} ${names.join(', ')} ${names.length === 1 ? 'is' : 'are'} not built for the current lock, so ${names.length === 1 ? 'its' : 'their'} sizes are unknown.`, hint: `Run \`layers build ${names.join(' ')}\`.`}})
    }
    return sizeReport(layerListings, functionInputs, {limitBytes: FUNCTION_UNZIPPED_LIMIT, top: options.top})
  } finally {
    db.close()
  }
}
