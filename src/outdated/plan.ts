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
  /** The biggest semver step from a locked version up to wanted or latest, when there is one. */
  update?: UpdateLevel
}

export type UpdateLevel = 'major' | 'minor' | 'patch'

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
      const update = outdated ? updateLevel(locked, [wanted, latest]) : undefined
      return {kind: 'npm' as const, layer: layer.layer, package: name, spec, locked, ...(wanted ? {wanted} : {}), ...(latest ? {latest} : {}), outdated, ...(update ? {update} : {})}
    })
}

const LEVEL_RANK: Record<UpdateLevel, number> = {patch: 1, minor: 2, major: 3}

/** The biggest step (major > minor > patch; a prerelease step counts as its release's) from any locked version up to a newer candidate. */
export function updateLevel(locked: readonly string[], candidates: ReadonlyArray<string | undefined>): UpdateLevel | undefined {
  let level: UpdateLevel | undefined
  for (const version of locked) {
    for (const candidate of candidates) {
      if (candidate === undefined || semver.valid(candidate) === null || semver.valid(version) === null || !semver.gt(candidate, version)) continue
      const diff = semver.diff(version, candidate)
      const step: UpdateLevel = diff === 'major' || diff === 'premajor' ? 'major' : diff === 'minor' || diff === 'preminor' ? 'minor' : 'patch'
      if (level === undefined || LEVEL_RANK[step] > LEVEL_RANK[level]) level = step
    }
  }
  return level
}

/** What `layers outdated --fail-on` takes: `any` outdated row (npm's exit 1), or an npm update of at least that semver level. */
export const FAIL_ON_LEVELS = ['any', 'major', 'minor', 'patch'] as const
export type FailOn = (typeof FAIL_ON_LEVELS)[number]

/**
 * The rows that make `--fail-on LEVEL` exit 1. `any`: every outdated row, arn layers included. A level:
 * npm rows whose update is at least that big; an npm row that is outdated without a level (not locked,
 * or its locked version is outside the manifest's range) counts at every level; arn rows (layer
 * versions have no semver) count only for `any`.
 */
export function failingRows(rows: readonly OutdatedRow[], failOn: FailOn): OutdatedRow[] {
  return rows.filter((row) => {
    if (!row.outdated) return false
    if (failOn === 'any') return true
    if (row.kind !== 'npm') return false
    return row.update === undefined || LEVEL_RANK[row.update] >= LEVEL_RANK[failOn]
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
