// Owns where a project's files live, all derived from the manifest path: lockfile.json beside it,
// local state in .layers/ beside it (build outputs, the state database).
import {existsSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

export interface ProjectPaths {
  manifest: string
  root: string
  lockfile: string
  stateDir: string
  buildDir: string
}

export function projectPaths(manifestPath: string): ProjectPaths {
  const manifest = path.resolve(manifestPath)
  const root = path.dirname(manifest)
  const stateDir = path.join(root, '.layers')
  return {manifest, root, lockfile: path.join(root, 'lockfile.json'), stateDir, buildDir: path.join(stateDir, 'build')}
}

/**
 * The installed `layers` package's own directory (holding templates/ and schema/), found from this
 * module's location so it works from src/ (tests) and dist/src/ (the binary) alike.
 */
export function toolRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url))
  while (!existsSync(path.join(dir, 'package.json')) || !existsSync(path.join(dir, 'templates'))) {
    const parent = path.dirname(dir)
    if (parent === dir) throw new Error(`layers cannot find its own package directory above ${fileURLToPath(import.meta.url)}`)
    dir = parent
  }
  return dir
}
