// Owns reading pnpm-lock.yaml (lockfileVersion 6.x and 9.0) into a TeamLockGraph. The importer
// (`importers['.']`, `importers['packages/a']`, or the top level of a v6 lockfile without importers)
// gives the package.json's dependencies as `{specifier, version}`; a version is `1.2.3`, `1.2.3(peer@2.0.0)`
// (pnpm's peer suffix, ignored here), an alias target (`real@1.2.3`, v6 `/real@1.2.3`) or a local
// package (`link:`, `file:`). v9 keeps integrity in `packages` and dependencies in `snapshots`; v6 keeps
// both in `packages` under `/name@version` keys. pnpm lists every platform's optional packages.
import {addDependency, firstIntegrity, isObject, pinKey, parseYamlLock, pinnedPackage, splitNameVersion, teamLockFormatError, type PinKey, type TeamLockGraph, type TeamLockInput} from './graph.js'

/** `name@version` (peer suffix and v6 leading `/` dropped), or undefined for a key of another shape. */
function baseOf(key: string): {name: string; version: string} | undefined {
  const bare = (key.startsWith('/') ? key.slice(1) : key).replace(/\(.*$/, '')
  return splitNameVersion(bare)
}

/** The key a dependency `name: value` resolves to. */
function targetOf(name: string, value: string): PinKey | undefined {
  if (value.startsWith('link:') || value.startsWith('file:')) return `link:${value.slice(5)}`
  const bare = (value.startsWith('/') ? value.slice(1) : value).replace(/\(.*$/, '')
  if (/^\d/.test(bare)) return pinKey(name, bare)
  const alias = splitNameVersion(bare)
  return alias && /^\d/.test(alias.version) ? pinKey(alias.name, alias.version) : undefined
}

export function readPnpmLock(text: string, input: TeamLockInput): TeamLockGraph {
  const data = parseYamlLock(text, input.file)
  const version = String(data.lockfileVersion ?? '')
  const major = Number.parseInt(version, 10)
  if (major !== 6 && major !== 9) throw teamLockFormatError(input.file, `has lockfileVersion ${JSON.stringify(data.lockfileVersion)}; layers reads pnpm lockfiles 6.x and 9.0 (pnpm 8 and 9 and later)`)
  const importers = isObject(data.importers) ? data.importers : undefined
  const importer = importers ? importers[input.importer || '.'] : data
  if (!isObject(importer)) throw teamLockFormatError(input.file, `has no importer ${JSON.stringify(input.importer || '.')} (is the package a workspace of this lockfile?)`)
  const graph: TeamLockGraph = {kind: 'pnpm', file: input.file, root: new Map(), packages: new Map()}
  for (const field of ['dependencies', 'optionalDependencies']) {
    const deps = importer[field]
    if (!isObject(deps)) continue
    for (const [name, entry] of Object.entries(deps)) {
      const value = isObject(entry) ? entry.version : entry
      const key = typeof value === 'string' ? targetOf(name, value) : undefined
      if (key && Object.hasOwn(input.dependencies, name)) graph.root.set(name, key)
    }
  }
  const packages = isObject(data.packages) ? data.packages : {}
  const snapshots = major === 9 ? (isObject(data.snapshots) ? data.snapshots : {}) : packages
  for (const [key, entry] of Object.entries(packages)) {
    const base = baseOf(key)
    if (!base || !isObject(entry)) continue
    pinnedPackage(graph.packages, base.name, base.version, isObject(entry.resolution) ? firstIntegrity(entry.resolution.integrity) : undefined)
  }
  for (const [key, entry] of Object.entries(snapshots)) {
    const base = baseOf(key)
    if (!base || !isObject(entry)) continue
    const pkg = pinnedPackage(graph.packages, base.name, base.version, undefined)
    for (const field of ['dependencies', 'optionalDependencies']) {
      const deps = entry[field]
      if (!isObject(deps)) continue
      for (const [name, value] of Object.entries(deps)) {
        const target = typeof value === 'string' ? targetOf(name, value) : undefined
        if (target) addDependency(pkg, name, target)
      }
    }
  }
  return graph
}
