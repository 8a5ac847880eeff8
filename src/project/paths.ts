// Owns where a project's files live, all derived from the manifest path: lockfile.json beside it,
// local state in .layers/ beside it (build outputs, the state database).
import path from 'node:path'

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
