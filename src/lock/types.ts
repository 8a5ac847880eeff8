// Owns the shape of `lockfile.json` (version 1): per layer, what was resolved (npm tree, Python wheels, runtime
// binary, pinned ARNs) and where each artifact was published (version ARN per account, region and
// artifact), and for layers that declare channels, the version each channel holds there. It never holds
// credentials, timestamps or host paths.
import type {Architecture} from '../manifest/types.js'

export const LOCKFILE_VERSION = 1

/** Key of one artifact of a layer: its architectures joined by '+', sorted (e.g. `arm64+x86_64`, `x86_64`). */
export type ArtifactKey = string

export function artifactKey(architectures: readonly Architecture[]): ArtifactKey {
  return [...new Set(architectures)].sort().join('+')
}

export function artifactArchitectures(key: ArtifactKey): Architecture[] {
  return key.split('+') as Architecture[]
}

/** One installed package, keyed in LockedArtifact.packages by its path, e.g. `node_modules/a/node_modules/b`. */
export interface LockedPackage {
  name: string
  version: string
  /** Tarball URL as the registry gave it (never with credentials). */
  resolved: string
  /** SRI sha512 integrity of the tarball; verified on every fetch. */
  integrity: string
  /**
   * The licence its package.json declares (an SPDX expression, UNLICENSED or free text), NOASSERTION
   * when it declares none; absent in locks from before licences (src/licenses/). Never part of the
   * build cache key or of what decides whether a publication is kept: it does not change the zip.
   */
  license?: string
  /** Present and true when the package is only an optional dependency. */
  optional?: true
  /** Present and true when the package came bundled inside its parent's tarball. */
  inBundle?: true
  /** The package declares install scripts, which layers never runs. */
  hasInstallScript?: true
  /** Executables the package declares (name -> path in the package). */
  bin?: Record<string, string>
  /** Direct dependencies as declared (name -> spec), so a lock can be checked without the network. */
  dependencies?: Record<string, string>
  peerDependencies?: Record<string, string>
  optionalDependencies?: Record<string, string>
  engines?: Record<string, string>
  os?: string[]
  cpu?: string[]
  libc?: string[]
}

/** A runtime template's binary package, locked like an npm package. */
export interface LockedBinary {
  name: string
  version: string
  resolved: string
  integrity: string
}

/**
 * One wheel of a pip layer, as the index listed it (the URL never with credentials); or, for a project
 * with no wheel for the target, its source distribution (`filename` ends in .tar.gz or .zip), which
 * the build turns into a pure-Python wheel (src/python/sdist.ts).
 */
export interface LockedWheel {
  /** Normalized project name (PEP 503). */
  name: string
  version: string
  /** The wheel's file name, whose tags fit the runtime and architecture it is locked for (or the sdist's). */
  filename: string
  url: string
  /** Hex SHA-256 of the file; verified on every fetch. */
  sha256: string
  /** The configured index (without credentials) whose project page listed the file. */
  index: string
  /**
   * The licence its core metadata declares (src/python/license.ts: License-Expression, else an SPDX
   * License field, else the licence classifiers as SPDX), NOASSERTION when it declares none layers
   * can read; absent in locks from before Python licences. Like LockedPackage.license, never part of
   * the build cache key or of what decides whether a publication is kept.
   */
  license?: string
}

export interface LockedArtifact {
  architectures: Architecture[]
  /** npm layers: the whole installed tree. */
  packages?: Record<string, LockedPackage>
  /** pip layers: runtime (e.g. python3.12) -> normalized project name -> the wheel installed for it. */
  wheels?: Record<string, Record<string, LockedWheel>>
  /** runtime layers: the binary package for these architectures (absent for binary-less templates). */
  binary?: LockedBinary
}

/** The artifact's tree without licences (set to undefined): what its content depends on, since licences do not change the zip. */
export function withoutLicenses<T extends Pick<LockedArtifact, 'packages' | 'wheels'>>(artifact: T): T {
  const {packages, wheels} = artifact
  return {
    ...artifact,
    ...(packages ? {packages: Object.fromEntries(Object.entries(packages).map(([at, pkg]) => [at, {...pkg, license: undefined}]))} : {}),
    ...(wheels ? {wheels: Object.fromEntries(Object.entries(wheels).map(([runtime, byName]) => [runtime, Object.fromEntries(Object.entries(byName).map(([name, wheel]) => [name, {...wheel, license: undefined}]))]))} : {}),
  }
}

export interface Publication {
  /** Layer version ARN. */
  arn: string
  version: number
  /** Base64 SHA-256 of the zip, as Lambda reports it. */
  codeSha256: string
}

/** accountId -> region -> artifact key -> publication */
export type Publications = Record<string, Record<string, Record<ArtifactKey, Publication>>>

interface LockedOwnLayerBase {
  /** Fingerprint of the manifest entry this was resolved from; a mismatch means `layers lock` must run. */
  inputs: string
  artifacts: Record<ArtifactKey, LockedArtifact>
  published?: Publications
  /**
   * Layers with `channels` in the manifest: channel -> the version it holds per account, region and
   * artifact key (publish moves the channels it publishes to, promote copies one to another). Absent
   * in lockfiles from before channels, and for layers without them (their implicit channel is
   * `published`). Kept by `layers lock` for the channels the manifest still declares.
   */
  channels?: Record<string, Publications>
}

export interface LockedNpmLayer extends LockedOwnLayerBase {
  kind: 'npm'
  /** The team's lockfile the versions came from: its path relative to the manifest and the hex sha256 of its bytes. */
  source?: {lockfile: string; sha256: string}
}

export interface LockedPipLayer extends LockedOwnLayerBase {
  kind: 'pip'
}

export interface LockedDirLayer extends LockedOwnLayerBase {
  kind: 'dir'
}

export interface LockedRuntimeLayer extends LockedOwnLayerBase {
  kind: 'runtime'
  template: string
}

export interface LockedArnLayer {
  kind: 'arn'
  inputs: string
  /** accountId -> region -> pinned layer version ARN. */
  arns: Record<string, Record<string, string>>
}

export type LockedOwnLayer = LockedNpmLayer | LockedPipLayer | LockedDirLayer | LockedRuntimeLayer
export type LockedLayer = LockedOwnLayer | LockedArnLayer

export interface Lockfile {
  lockfileVersion: typeof LOCKFILE_VERSION
  layers: Record<string, LockedLayer>
}

export function emptyLockfile(): Lockfile {
  return {lockfileVersion: LOCKFILE_VERSION, layers: {}}
}
