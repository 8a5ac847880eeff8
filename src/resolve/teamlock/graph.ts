// Owns the one shape every team lockfile (package-lock.json / npm-shrinkwrap.json, pnpm-lock.yaml,
// yarn.lock classic and berry) is read into: which version the team's lockfile pins for each
// dependency of the layer's package.json and, per pinned `name@version`, for each of that package's
// dependencies, with the integrity the lockfile records. The resolver (src/resolve/tree.ts) takes it
// as plain data and picks exactly these versions, so a tree from a team lockfile goes through the same
// tree, lock and build path as one resolved from ranges. Pure: the readers take the file's text.
import {parse} from 'yaml'
import {UserInputError} from '../../errors/index.js'
import type {PackageVersion} from '../types.js'

export type TeamLockKind = 'npm' | 'pnpm' | 'yarn-classic' | 'yarn-berry'

/** `name@version` of a registry package, or `link:<path>` for a workspace or local package. */
export type PinKey = string

export interface PinnedPackage {
  name: string
  version: string
  /** The SRI integrity the team's lockfile records for the tarball (sha512, or sha1 for old packages); absent when it records none that is the tarball's (yarn berry). */
  integrity?: string
  /** Dependency (folder) name -> the keys the lockfile resolves it to from this package. */
  dependencies: Map<string, PinKey[]>
  /** The package's metadata as the lockfile records it (npm lockfiles record all the resolver needs); absent: read from the registry. */
  manifest?: PackageVersion
}

export interface TeamLockGraph {
  kind: TeamLockKind
  /** The lockfile as messages name it (relative to the manifest root). */
  file: string
  /** The package.json's dependencies: name -> key; a name the lockfile has no entry for is absent. */
  root: Map<string, PinKey>
  packages: Map<PinKey, PinnedPackage>
}

/** What a reader needs besides the text. */
export interface TeamLockInput {
  /** The lockfile as messages name it. */
  file: string
  /** The package.json's directory relative to the lockfile's, `/`-separated; '' when they are the same. */
  importer: string
  /** The package.json's production dependencies and optional dependencies (name -> spec). */
  dependencies: Record<string, string>
  /** The registry a package is fetched from (npm's configuration), for lockfiles that leave registry tarball URLs out. */
  registryOf?: (name: string) => string
}

export function pinKey(name: string, version: string): PinKey {
  return `${name}@${version}`
}

/** Splits `name@version` (`@scope/name@1.0.0` too) at its last `@`; undefined when there is none after the name. */
export function splitNameVersion(text: string): {name: string; version: string} | undefined {
  const at = text.lastIndexOf('@')
  if (at <= 0 || at === text.length - 1) return undefined
  return {name: text.slice(0, at), version: text.slice(at + 1)}
}

/** The lockfile cannot be read as its format: exit 2, naming the file (and line when known). */
export function teamLockFormatError(file: string, problem: string, line?: number): UserInputError {
  return new UserInputError('ERR_LAYERS_TEAM_LOCKFILE_INVALID', `${file}${line === undefined ? '' : `:${line}`}: ${problem}.`, {
    hint: 'Regenerate the lockfile with its package manager (npm install, pnpm install, yarn install), or set `lockfile: ignore` on the layer to resolve its ranges afresh.',
    ...(line === undefined ? {} : {location: {file, line, column: 1}}),
    details: {lockfile: file},
  })
}

/** Adds `key` to a dependency's keys (the same package may be listed more than once with different resolutions). */
export function addDependency(pkg: PinnedPackage, name: string, key: PinKey): void {
  const list = pkg.dependencies.get(name)
  if (!list) pkg.dependencies.set(name, [key])
  else if (!list.includes(key)) list.push(key)
}

/** The package for `name@version`, created on first sight. */
export function pinnedPackage(packages: Map<PinKey, PinnedPackage>, name: string, version: string, integrity: string | undefined): PinnedPackage {
  const key = pinKey(name, version)
  let pkg = packages.get(key)
  if (!pkg) packages.set(key, (pkg = {name, version, dependencies: new Map()}))
  if (integrity && !pkg.integrity) pkg.integrity = integrity
  return pkg
}

export const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value)

/** The first sha512 (else sha1) hash of an SRI string that may list several. */
export function firstIntegrity(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined
  const hashes = value.trim().split(/\s+/)
  return hashes.find((hash) => hash.startsWith('sha512-')) ?? hashes.find((hash) => hash.startsWith('sha1-'))
}

/** A YAML lockfile's (pnpm-lock.yaml, berry yarn.lock) top-level mapping; no aliases, no duplicate keys. */
export function parseYamlLock(text: string, file: string): Record<string, unknown> {
  let data: unknown
  try {
    data = parse(text, {maxAliasCount: 0, uniqueKeys: true})
  } catch (error) {
    throw teamLockFormatError(file, `is not YAML (${(error as Error).message.split('\n')[0]})`)
  }
  if (!isObject(data)) throw teamLockFormatError(file, 'is not a YAML mapping')
  return data
}
