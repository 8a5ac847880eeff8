// Owns what `layers outdated` reports, from plain data: for npm layers, per direct dependency, the
// locked version against the newest the manifest's range allows (wanted) and the registry's latest
// tag, as `npm outdated` shows them; for `arn` layers, per target, the pinned version against the
// newest version that target can read.
import semver from 'semver'
import {parseRegistrySpec} from '../resolve/spec.js'

/** What the registry says about a package (from its packument). */
export interface PackageVersions {
  versions: string[]
  distTags: Record<string, string>
}

export interface NpmOutdatedRow {
  kind: 'npm'
  layer: string
  package: string
  /** The range (or tag) the manifest gives. */
  spec: string
  /** Versions in the lock (one per artifact; usually one). */
  locked: string[]
  wanted?: string
  latest?: string
  /** locked differs from wanted (within range) or from latest. */
  outdated: boolean
}

export interface ArnOutdatedRow {
  kind: 'arn'
  layer: string
  accountId: string
  region: string
  locked: string
  lockedVersion: number
  latest?: string
  latestVersion?: number
  outdated: boolean
  /** Why the newest version is unknown, when it is. */
  error?: string
}

export type OutdatedRow = NpmOutdatedRow | ArnOutdatedRow

export interface NpmLayerInput {
  layer: string
  dependencies: Record<string, string>
  /** Locked packages of every artifact, keyed by install path (`node_modules/name`). */
  artifacts: Array<Record<string, {name: string; version: string}>>
}

/** Rows for one npm layer; `registry` holds a packument summary per dependency name (absent: not fetched). */
export function npmOutdated(layer: NpmLayerInput, registry: Record<string, PackageVersions | undefined>): NpmOutdatedRow[] {
  return Object.keys(layer.dependencies)
    .sort()
    .map((name) => {
      const spec = layer.dependencies[name]!
      const locked = [...new Set(layer.artifacts.map((packages) => packages[`node_modules/${name}`]?.version).filter((v): v is string => v !== undefined))].sort(semver.compare)
      const info = registry[name]
      // For an `npm:` alias (`npm:left-pad@^1.3.0`) the range is the alias target's.
      const parsed = parseRegistrySpec(name, spec)
      const wanted = info ? wantedVersion('realName' in parsed ? parsed.wanted : spec, info) : undefined
      const latest = info?.distTags.latest
      const outdated = locked.length === 0 || locked.some((version) => (wanted !== undefined && version !== wanted) || (latest !== undefined && semver.valid(latest) !== null && semver.lt(version, latest)))
      return {kind: 'npm' as const, layer: layer.layer, package: name, spec, locked, ...(wanted ? {wanted} : {}), ...(latest ? {latest} : {}), outdated}
    })
}

/** The version a spec selects: the highest version in range (or the tag's version); undefined for non-registry specs. */
export function wantedVersion(spec: string, info: PackageVersions): string | undefined {
  const tagged = info.distTags[spec]
  if (tagged) return tagged
  const range = semver.validRange(spec === '' ? '*' : spec)
  if (range === null) return undefined
  // npm prefers the `latest` tag when it satisfies the range.
  const latest = info.distTags.latest
  if (latest && semver.satisfies(latest, range)) return latest
  return semver.maxSatisfying(info.versions, range) ?? undefined
}

export function arnRow(
  layer: string,
  accountId: string,
  region: string,
  locked: {arn: string; version: number},
  newest: {arn: string; version: number} | {error: string},
): ArnOutdatedRow {
  const base = {kind: 'arn' as const, layer, accountId, region, locked: locked.arn, lockedVersion: locked.version}
  if ('error' in newest) return {...base, outdated: false, error: newest.error}
  return {...base, latest: newest.arn, latestVersion: newest.version, outdated: newest.version > locked.version}
}
