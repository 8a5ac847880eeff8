// Owns reading yarn.lock into a TeamLockGraph, both formats: Yarn classic (v1, parsed by
// yarn-classic.ts) and Yarn berry (2+, YAML with `__metadata`). Both key each entry by the
// descriptors (`name@range`; berry `name@npm:range`) that resolve to it, so a dependency resolves by
// looking its own descriptor up; a descriptor without an entry is missing from the lock. Classic
// records the tarball's integrity (or a sha1 in the `resolved` URL's fragment); berry's `checksum` is
// of Yarn's own cache archive, not of the registry tarball, so berry pins carry no integrity (the
// registry's sha512 is locked and verified on every fetch). Workspace and local packages
// (`workspace:`, `file:`, `link:`, `portal:`) are `link:<path>`.
import {addDependency, firstIntegrity, isObject, pinKey, parseYamlLock, pinnedPackage, teamLockFormatError, type PinKey, type PinnedPackage, type TeamLockGraph, type TeamLockInput} from './graph.js'
import {parseYarnClassic, YARN_CLASSIC_HEADER, type YarnClassicMap} from './yarn-classic.js'

const LOCAL = /^(workspace|file|link|portal):/

/** Reads either yarn.lock format (berry has `__metadata`, classic its header comment). */
export function readYarnLock(text: string, input: TeamLockInput): TeamLockGraph {
  if (/^__metadata:/m.test(text)) return readBerry(text, input)
  if (YARN_CLASSIC_HEADER.test(text)) return readClassic(text, input)
  throw teamLockFormatError(input.file, 'is neither a Yarn classic lockfile (`# yarn lockfile v1`) nor a Yarn berry one (`__metadata:`)')
}

/** The name part of a descriptor `name@range` (`@scope/name@range` too). */
function descriptorName(descriptor: string): string | undefined {
  const at = descriptor.indexOf('@', descriptor.startsWith('@') ? 1 : 0)
  return at > 0 ? descriptor.slice(0, at) : undefined
}

function readClassic(text: string, input: TeamLockInput): TeamLockGraph {
  const entries = parseYarnClassic(text, input.file)
  const graph: TeamLockGraph = {kind: 'yarn-classic', file: input.file, root: new Map(), packages: new Map()}
  const keys = new Map<string, PinKey>()
  const pending: Array<[PinnedPackage, YarnClassicMap]> = []
  for (const [descriptor, entry] of entries) {
    const name = descriptorName(descriptor)
    if (!name || !(entry instanceof Map)) continue
    const range = descriptor.slice(name.length + 1)
    const version = entry.get('version')
    if (LOCAL.test(range)) {
      keys.set(descriptor, `link:${range.replace(LOCAL, '')}`)
      continue
    }
    if (typeof version !== 'string') continue
    // An alias `alias@npm:real@^1` installs `real` under the alias's folder.
    const real = range.startsWith('npm:') ? (descriptorName(range.slice(4)) ?? name) : name
    const resolved = entry.get('resolved')
    const sha1 = typeof resolved === 'string' ? /#([0-9a-f]{40})$/.exec(resolved)?.[1] : undefined
    const integrity = firstIntegrity(entry.get('integrity')) ?? (sha1 ? `sha1-${Buffer.from(sha1, 'hex').toString('base64')}` : undefined)
    const pkg = pinnedPackage(graph.packages, real, version, integrity)
    keys.set(descriptor, pinKey(real, version))
    pending.push([pkg, entry])
  }
  for (const [pkg, entry] of pending) {
    for (const field of ['dependencies', 'optionalDependencies']) {
      const deps = entry.get(field)
      if (!(deps instanceof Map)) continue
      for (const [name, range] of deps) {
        const key = typeof range === 'string' ? keys.get(`${name}@${range}`) : undefined
        if (key) addDependency(pkg, name, key)
      }
    }
  }
  for (const [name, range] of Object.entries(input.dependencies)) {
    const key = keys.get(`${name}@${range}`)
    if (key) graph.root.set(name, key)
  }
  return graph
}

/** Berry writes a range without a protocol as `npm:range`. */
function berryDescriptor(name: string, range: string): string {
  return /^[a-z]+:/.test(range) ? `${name}@${range}` : `${name}@npm:${range}`
}

function readBerry(text: string, input: TeamLockInput): TeamLockGraph {
  const data = parseYamlLock(text, input.file)
  const graph: TeamLockGraph = {kind: 'yarn-berry', file: input.file, root: new Map(), packages: new Map()}
  const keys = new Map<string, PinKey>()
  const pending: Array<[PinnedPackage, Record<string, unknown>]> = []
  for (const [joined, entry] of Object.entries(data)) {
    if (joined === '__metadata' || !isObject(entry) || typeof entry.resolution !== 'string') continue
    const resolution = entry.resolution
    const name = descriptorName(resolution)
    if (!name) continue
    const reference = resolution.slice(name.length + 1)
    let key: PinKey | undefined
    if (LOCAL.test(reference)) key = `link:${reference.replace(LOCAL, '')}`
    else if (typeof entry.version === 'string' && (reference.startsWith('npm:') || reference.startsWith('patch:'))) {
      const pkg = pinnedPackage(graph.packages, name, entry.version, undefined)
      key = pinKey(name, entry.version)
      pending.push([pkg, entry])
    }
    if (!key) continue
    for (const descriptor of joined.split(/,\s*/)) keys.set(descriptor.trim(), key)
  }
  for (const [pkg, entry] of pending) {
    const deps = entry.dependencies
    if (!isObject(deps)) continue
    for (const [name, range] of Object.entries(deps)) {
      const key = typeof range === 'string' ? keys.get(berryDescriptor(name, range)) : undefined
      if (key) addDependency(pkg, name, key)
    }
  }
  for (const [name, range] of Object.entries(input.dependencies)) {
    const key = keys.get(berryDescriptor(name, range))
    if (key) graph.root.set(name, key)
  }
  return graph
}

