// Owns reading npm's package-lock.json / npm-shrinkwrap.json (lockfileVersion 2 and 3: the `packages`
// map of install paths) into a TeamLockGraph: each dependency resolves as Node.js and npm resolve it,
// from the folder of the package that needs it up to the root (`node_modules` lookup), so nested and
// hoisted copies are told apart; workspace folders (`packages/a`) and `link: true` entries are local
// packages (`link:<path>`). lockfileVersion 1 (npm 6) has no `packages` map and is refused. Each
// entry's metadata (dependency ranges, bin, engines, os/cpu/libc, hasInstallScript, resolved and
// integrity; a tarball URL left out is the registry's, as npm derives it) is kept as the package's manifest, so no packument is fetched, as npm ci fetches none.
import type {PackageVersion} from '../types.js'
import {addDependency, firstIntegrity, isObject, pinKey, pinnedPackage, teamLockFormatError, type PinKey, type TeamLockGraph, type TeamLockInput} from './graph.js'

/** The folder a path's dependencies are looked up from next: its parent package folder, '' for the root. */
function parentFolder(folder: string): string | undefined {
  if (folder === '') return undefined
  const index = folder.lastIndexOf('/node_modules/')
  if (index >= 0) return folder.slice(0, index)
  return ''
}

function nameFromPath(folder: string): string {
  const index = folder.lastIndexOf('node_modules/')
  return index >= 0 ? folder.slice(index + 'node_modules/'.length) : folder.split('/').pop()!
}

const MANIFEST_FIELDS = ['dependencies', 'optionalDependencies', 'peerDependencies', 'peerDependenciesMeta', 'bin', 'engines', 'os', 'cpu', 'libc'] as const

/**
 * The metadata npm recorded for the package (what npm ci installs from), in the registry's shape; its
 * bundled dependencies are the `inBundle` entries right below it. Undefined without a registry tarball
 * URL and integrity (then the registry's metadata is used).
 */
function manifestOf(name: string, version: string, entry: Record<string, unknown>, folder: string, entries: Record<string, unknown>, input: TeamLockInput): PackageVersion | undefined {
  const integrity = firstIntegrity(entry.integrity)
  // npm leaves a registry tarball's URL out with omit-lockfile-registry-resolved, and derives it from the registry as here.
  const resolved = entry.resolved === undefined && input.registryOf ? `${input.registryOf(name)}${name}/-/${name.split('/').pop()}-${version}.tgz` : entry.resolved
  if (typeof resolved !== 'string' || !/^https?:/.test(resolved) || !integrity) return undefined
  const manifest: PackageVersion = {name, version, dist: {tarball: resolved, integrity}}
  for (const field of MANIFEST_FIELDS) if (entry[field] !== undefined) (manifest as unknown as Record<string, unknown>)[field] = entry[field]
  if (entry.hasInstallScript === true) manifest.hasInstallScript = true
  const prefix = `${folder}/node_modules/`
  const bundled = Object.entries(entries)
    .filter(([other, child]) => other.startsWith(prefix) && !other.slice(prefix.length).replace(/^@[^/]+\//, '').includes('/') && isObject(child) && child.inBundle === true)
    .map(([other]) => other.slice(prefix.length))
  if (bundled.length > 0) manifest.bundleDependencies = bundled.sort()
  return manifest
}

export function readNpmLock(text: string, input: TeamLockInput): TeamLockGraph {
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch (error) {
    throw teamLockFormatError(input.file, `is not JSON (${(error as Error).message})`)
  }
  if (!isObject(data)) throw teamLockFormatError(input.file, 'is not a JSON object')
  const version = data.lockfileVersion
  if (version !== 2 && version !== 3) {
    throw teamLockFormatError(input.file, `has lockfileVersion ${JSON.stringify(version)}; layers reads lockfileVersion 2 and 3 (npm 7 and later; run \`npm install --lockfile-version 3\` to upgrade it)`)
  }
  if (!isObject(data.packages)) throw teamLockFormatError(input.file, 'has no "packages" map')
  const entries = data.packages
  if (!isObject(entries[input.importer])) {
    throw teamLockFormatError(input.file, `has no entry for the package at ${JSON.stringify(input.importer || '.')} (is it a workspace of this lockfile?)`)
  }
  const keyOf = (folder: string): PinKey | undefined => {
    const entry = entries[folder]
    if (!isObject(entry)) return undefined
    if (entry.link === true) return `link:${typeof entry.resolved === 'string' ? entry.resolved : folder}`
    if (!folder.includes('node_modules/')) return `link:${folder}`
    const name = typeof entry.name === 'string' ? entry.name : nameFromPath(folder)
    return typeof entry.version === 'string' ? pinKey(name, entry.version) : undefined
  }
  const lookup = (from: string, name: string): PinKey | undefined => {
    for (let folder: string | undefined = from; folder !== undefined; folder = parentFolder(folder)) {
      const candidate = folder === '' ? `node_modules/${name}` : `${folder}/node_modules/${name}`
      if (Object.hasOwn(entries, candidate)) return keyOf(candidate)
    }
    return undefined
  }
  const graph: TeamLockGraph = {kind: 'npm', file: input.file, root: new Map(), packages: new Map()}
  for (const name of Object.keys(input.dependencies)) {
    const key = lookup(input.importer, name)
    if (key) graph.root.set(name, key)
  }
  for (const [folder, entry] of Object.entries(entries)) {
    if (!folder.includes('node_modules/') || !isObject(entry) || entry.link === true || typeof entry.version !== 'string') continue
    const name = typeof entry.name === 'string' ? entry.name : nameFromPath(folder)
    const pkg = pinnedPackage(graph.packages, name, entry.version, firstIntegrity(entry.integrity))
    if (!pkg.manifest && entry.inBundle !== true) pkg.manifest = manifestOf(name, entry.version, entry, folder, entries, input)
    for (const field of ['dependencies', 'optionalDependencies', 'peerDependencies'] as const) {
      const deps = entry[field]
      if (!isObject(deps)) continue
      for (const dep of Object.keys(deps)) {
        const key = lookup(folder, dep)
        if (key) addDependency(pkg, dep, key)
      }
    }
  }
  return graph
}
