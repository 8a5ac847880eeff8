// Owns where a project's files live, all derived from the manifest path: lockfile.json beside it,
// local state in .layers/ beside it (build outputs, the state database), which ignores itself in git.
import {existsSync, mkdirSync, writeFileSync} from 'node:fs'
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
 * Creates the state directory with a `.gitignore` of `*` in it, so build outputs and the state
 * database never end up in the user's repository, whatever their own .gitignore says.
 */
export function ensureStateDir(stateDir: string): void {
  mkdirSync(stateDir, {recursive: true})
  try {
    writeFileSync(path.join(stateDir, '.gitignore'), '# Made by layers: local build outputs and state, never committed.\n*\n', {flag: 'wx'})
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
  }
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
