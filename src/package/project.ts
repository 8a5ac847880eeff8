// Owns loading what `layers package` and `layers run` start from: the manifest, the selected
// functions, and the lockfile, which must exist and match the manifest for the layers those functions
// use (a function without layers needs no lock).
import {UserInputError} from '../errors/index.js'
import {selectFunctions} from '../manifest/select.js'
import {assertLockMatches} from '../lock/fingerprint.js'
import {readLockfile} from '../lock/io.js'
import {emptyLockfile, type Lockfile} from '../lock/types.js'
import {loadManifest} from '../manifest/load.js'
import type {FunctionSpec, Manifest} from '../manifest/types.js'
import {projectPaths, type ProjectPaths} from '../project/paths.js'

export interface FunctionProject {
  paths: ProjectPaths
  manifest: Manifest
  lock: Lockfile
  /** False when lockfile.json does not exist (only possible when no selected function has layers). */
  locked: boolean
  functions: FunctionSpec[]
}

export async function loadFunctionProject(manifestPath: string, names: readonly string[] | undefined, command: string): Promise<FunctionProject> {
  const paths = projectPaths(manifestPath)
  const manifest = await loadManifest(paths.manifest)
  return functionProjectOf(paths, manifest, selectFunctions(manifest, names), command)
}

/** The project of an already loaded manifest: the lock must exist and match for the functions' layers and `layers`. */
export async function functionProjectOf(paths: ProjectPaths, manifest: Manifest, functions: FunctionSpec[], command: string, layers: readonly string[] = []): Promise<FunctionProject> {
  const used = [...new Set([...functions.flatMap((fn) => fn.layers), ...layers])]
  const lock = await readLockfile(paths.lockfile)
  if (!lock) {
    if (used.length > 0) {
      throw new UserInputError('ERR_LAYERS_LOCK_MISSING', `${paths.lockfile} does not exist.`, {
        hint: `Run \`layers lock\` (then \`layers build\`) first; \`layers ${command}\` checks functions against their locked layers.`,
      })
    }
    return {paths, manifest, lock: emptyLockfile(), locked: false, functions}
  }
  if (used.length > 0) await assertLockMatches(manifest, lock, used)
  return {paths, manifest, lock, locked: true, functions}
}
