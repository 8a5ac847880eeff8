// Owns loading what the audit-family commands read from a project: the manifest (through
// src/manifest/load.ts; optional for an audit of explicit accounts or an organization), the
// lockfile, and the state database.
import {existsSync} from 'node:fs'
import {UserInputError} from '../errors/index.js'
import {readLockfile} from '../lock/io.js'
import type {Lockfile} from '../lock/types.js'
import {loadManifest} from '../manifest/load.js'
import type {Manifest} from '../manifest/types.js'
import {projectPaths, type ProjectPaths} from '../project/paths.js'

export interface LoadedProject {
  paths: ProjectPaths
  manifest?: Manifest
  lock?: Lockfile
}

/** Loads the project; without `required`, a missing manifest file is allowed (the audit then needs --account or --org). */
export async function loadProject(manifestPath: string, required: boolean): Promise<LoadedProject> {
  const paths = projectPaths(manifestPath)
  if (!existsSync(paths.manifest)) {
    if (required) {
      throw new UserInputError('ERR_LAYERS_MANIFEST_MISSING', `${paths.manifest} does not exist.`, {
        hint: 'Run the command in the project directory, point --manifest at layers.yaml, or create one with `layers init`.',
      })
    }
    return {paths}
  }
  const manifest = await loadManifest(paths.manifest)
  const lock = await readLockfile(paths.lockfile)
  return {paths, manifest, ...(lock ? {lock} : {})}
}
