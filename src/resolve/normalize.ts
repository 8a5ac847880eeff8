// Owns the one normal form of a package version's metadata, whatever it came from (an abbreviated or
// a full packument, or a package.json read from a tarball for bundled dependencies), so a lock is the
// same bytes whichever path produced it. npm-pick-manifest normalizes `bin` in place on the version it
// picks (npm-normalize-package-bin), so without this a version picked by range got `dist/bin/x` and
// the same version kept from the lock `./dist/bin/x`. The rules here are npm's:
// - `bin`: a string becomes `{<unscoped name>: path}`, a list `{basename: path}`; keys are reduced to
//   their basename (`\` and `:` read as `/`), targets to a normalized relative path without `./`;
//   empty entries are dropped, and an empty result removes `bin`;
// - `os` / `cpu` / `libc`: a string becomes a one-item list; non-strings are dropped;
// - dependency maps and `engines`: objects of strings only (npm ignores other shapes);
// - `peerDependenciesMeta`: only the boolean `optional` flag is kept.
// The input is never mutated: packuments are shared (pacote's memo, the resolver's cache).
import path from 'node:path'
import type {PackageVersion, Packument} from './types.js'

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value)

function stringMap(value: unknown): Record<string, string> | undefined {
  if (!isObject(value)) return undefined
  const entries = Object.entries(value).filter((entry): entry is [string, string] => typeof entry[1] === 'string')
  return entries.length > 0 ? Object.fromEntries(entries) : undefined
}

function stringList(value: unknown): string[] | undefined {
  const list = (Array.isArray(value) ? value : [value]).filter((item): item is string => typeof item === 'string')
  return value === undefined || list.length === 0 ? undefined : list
}

/** npm's bin normal form (npm-normalize-package-bin), as a new object; undefined when nothing is left. */
export function normalizeBin(name: string | undefined, bin: unknown): Record<string, string> | undefined {
  let raw: Record<string, unknown>
  if (typeof bin === 'string') {
    if (!name) return undefined
    raw = {[name]: bin}
  } else if (Array.isArray(bin)) {
    raw = Object.fromEntries(bin.filter((item): item is string => typeof item === 'string').map((item) => [path.posix.basename(item), item]))
  } else if (isObject(bin)) {
    raw = bin
  } else {
    return undefined
  }
  const clean: Record<string, string> = {}
  for (const [key, target] of Object.entries(raw)) {
    const base = path.posix.join('/', path.posix.basename(key.replace(/\\|:/g, '/'))).slice(1)
    if (typeof target !== 'string' || !base) continue
    const file = path.posix.join('/', target.replace(/\\/g, '/')).slice(1)
    if (!file) continue
    clean[base] = file
  }
  return Object.keys(clean).length > 0 ? clean : undefined
}

/** A normalized copy of one version's metadata. */
export function normalizeVersion(version: PackageVersion): PackageVersion {
  const out: PackageVersion = {...version}
  const set = <K extends keyof PackageVersion>(key: K, value: PackageVersion[K] | undefined): void => {
    if (value === undefined) delete out[key]
    else out[key] = value
  }
  set('bin', normalizeBin(version.name, version.bin))
  for (const field of ['os', 'cpu', 'libc'] as const) set(field, stringList(version[field]))
  for (const field of ['dependencies', 'optionalDependencies', 'peerDependencies', 'engines'] as const) set(field, stringMap(version[field]))
  if (version.peerDependenciesMeta !== undefined) {
    const meta = isObject(version.peerDependenciesMeta)
      ? Object.entries(version.peerDependenciesMeta).flatMap(([peer, value]) => (isObject(value) && value.optional === true ? [[peer, {optional: true}] as const] : []))
      : []
    set('peerDependenciesMeta', meta.length > 0 ? Object.fromEntries(meta) : undefined)
  }
  return out
}

/** A copy of the packument with every version normalized (dist-tags kept). */
export function normalizePackument(packument: Packument): Packument {
  const versions: Record<string, PackageVersion> = {}
  for (const [key, version] of Object.entries(packument.versions ?? {})) {
    if (isObject(version)) versions[key] = normalizeVersion(version)
  }
  return {...packument, 'dist-tags': isObject(packument['dist-tags']) ? packument['dist-tags'] : {}, versions}
}
