// Owns what `layers lock` tells the deprecation cache (src/store/deprecations.ts): the registry's
// `deprecated` answer (or that there is none) for every npm version it resolved from a packument it
// read, so `layers advisories` within a day reads no packument for them. The lockfile never holds it.
// Only into an existing state database: like advisories, find and sbom, lock creates no .layers in a
// project that never built.
import {existsSync} from 'node:fs'
import path from 'node:path'
import {deprecationOf} from '../advisories/plan.js'
import {isLocalResolved} from '../resolve/local.js'
import type {PackumentCache} from '../resolve/tree.js'
import type {Packument} from '../resolve/types.js'
import {openStateDatabase} from '../store/db.js'
import {deprecationCache, type DeprecationAnswer} from '../store/deprecations.js'
import type {LockedLayer} from './types.js'

/** The answers for the registry packages of these layers whose packuments this run read (bundled and local packages have none). */
export async function lockedDeprecations(layers: readonly LockedLayer[], packuments: PackumentCache, registryOf: (name: string) => string): Promise<DeprecationAnswer[]> {
  const answers = new Map<string, DeprecationAnswer>()
  for (const locked of layers) {
    if (locked.kind !== 'npm') continue
    for (const artifact of Object.values(locked.artifacts)) {
      for (const pkg of Object.values(artifact.packages ?? {})) {
        const key = `${pkg.name}@${pkg.version}`
        if (pkg.inBundle || isLocalResolved(pkg.resolved) || answers.has(key)) continue
        const packument = await packuments.fetched(pkg.name)?.catch((): Packument | undefined => undefined)
        if (!packument?.versions[pkg.version]) continue
        const message = deprecationOf(packument, pkg.version)
        answers.set(key, {registry: registryOf(pkg.name), name: pkg.name, version: pkg.version, ...(message === undefined ? {} : {message})})
      }
    }
  }
  return [...answers.values()]
}

/** Records the answers as read at `checkedAt` when the project has a state database; creates none. */
export function recordDeprecations(stateDir: string, answers: readonly DeprecationAnswer[], checkedAt: Date): void {
  if (answers.length === 0 || !existsSync(path.join(stateDir, 'state.db'))) return
  const db = openStateDatabase(stateDir)
  try {
    deprecationCache(db).record([...answers], checkedAt)
  } finally {
    db.close()
  }
}
