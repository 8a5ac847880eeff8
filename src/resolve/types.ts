// Owns the data the resolver works on: registry packuments (the fields npm's abbreviated metadata
// carries, plus `libc` and `scripts` from the full document), the target platform, and the small
// PackumentSource interface the resolver fetches through (pacote in the product, fixtures in tests).
import type {Architecture} from '../manifest/types.js'

export interface PackageVersion {
  name: string
  version: string
  dependencies?: Record<string, string>
  optionalDependencies?: Record<string, string>
  peerDependencies?: Record<string, string>
  peerDependenciesMeta?: Record<string, {optional?: boolean}>
  bundleDependencies?: string[] | boolean
  bundledDependencies?: string[] | boolean
  bin?: Record<string, string> | string
  engines?: Record<string, string>
  os?: string[] | string
  cpu?: string[] | string
  libc?: string[] | string
  /** Set by the registry in abbreviated metadata when the package has (pre|post)install scripts. */
  hasInstallScript?: boolean
  scripts?: Record<string, string>
  gypfile?: boolean
  deprecated?: string
  /** The licence as package.json declares it (absent from abbreviated metadata); see src/licenses/policy.ts. */
  license?: unknown
  /** The legacy form: a list of `{type}`. */
  licenses?: unknown
  dist?: {tarball: string; integrity?: string; shasum?: string}
}

export interface Packument {
  name: string
  'dist-tags': Record<string, string>
  versions: Record<string, PackageVersion>
}

/** A package found inside another package's tarball (a bundled dependency). */
export interface BundledPackage {
  /** Path below the bundling package, e.g. `node_modules/d` or `node_modules/d/node_modules/e`. */
  path: string
  manifest: PackageVersion
}

export interface TarballId {
  name: string
  version: string
  resolved: string
  integrity: string
}

/** What the resolver needs from a registry. Errors carry npm's codes (E404, ETARGET, EINTEGRITY ...). */
export interface PackumentSource {
  /** The package's packument; `full` asks for the whole document (needed for `libc`). */
  packument(name: string, options?: {full?: boolean}): Promise<Packument>
  /** The packages bundled in a tarball (its `node_modules/**` package.json files). */
  bundled(tarball: TarballId): Promise<BundledPackage[]>
  /** The package.json inside a tarball (abbreviated metadata lacks fields such as `license`). */
  tarballManifest(tarball: TarballId): Promise<PackageVersion>
}

/** The platform a layer runs on: Lambda is Linux with glibc; cpu from the layer's architecture. */
export interface TargetPlatform {
  os: 'linux'
  cpu: 'x64' | 'arm64'
  libc: 'glibc'
}

export function targetPlatform(architecture: Architecture): TargetPlatform {
  return {os: 'linux', cpu: architecture === 'arm64' ? 'arm64' : 'x64', libc: 'glibc'}
}
