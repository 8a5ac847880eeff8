// Owns what `layers outdated` reports, from plain data: for npm layers, per direct dependency, the
// locked version against the newest the manifest's range allows (wanted) and the registry's latest
// tag, as `npm outdated` shows them; for pip layers, per requirement, the locked versions against the
// newest release the specifier allows and the newest release, counting only releases with a
// non-yanked wheel every target the requirement's marker holds for can install (tags and
// Requires-Python; PEP 440 rules, src/python/pep440.ts); for
// `arn` layers, per target, the pinned version against the newest version that target can read.
import semver from 'semver'
import type {IndexFile} from '../python/index.js'
import {compareVersions, maxSatisfying, parseVersion, releaseStep, specifierAllowsPrereleases} from '../python/pep440.js'
import {evaluateMarker, parseRequirement, type ParsedRequirement} from '../python/requirements.js'
import {admitsPython, markerEnvironment, parseWheelName, tagRanking, wheelRank, type PythonTarget} from '../python/targets.js'
import {parseRegistrySpec} from '../resolve/spec.js'

/** What the registry says about a package (from its packument). */
export interface PackageVersions {
  versions: string[]
  distTags: Record<string, string>
}

/** A row of a package manager's dependency (npm or pip): the manifest's spec, the locked versions and the newest ones. */
interface DependencyOutdatedRow {
  layer: string
  /** The package (npm) or normalized project name (pip, PEP 503). */
  package: string
  /** The range or tag (npm), or the PEP 440 specifier ('' for any version, pip), the manifest gives. */
  spec: string
  /** Versions in the lock (one per artifact, or over every runtime and architecture; usually one). */
  locked: string[]
  wanted?: string
  latest?: string
  /** locked differs from wanted (within the spec) or from latest. */
  outdated: boolean
  /** The biggest step (semver, or PEP 440 release segments) from a locked version up to wanted or latest. */
  update?: UpdateLevel
}

export interface NpmOutdatedRow extends DependencyOutdatedRow {
  kind: 'npm'
}

export interface PipOutdatedRow extends DependencyOutdatedRow {
  kind: 'pip'
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
  /** The publisher's SSM parameter `latest` was read from (the manifest's `ssm`, {region} filled in). */
  feed?: string
}

export type OutdatedRow = NpmOutdatedRow | PipOutdatedRow | ArnOutdatedRow

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

export interface PipLayerInput {
  layer: string
  /** PEP 508 requirements as the manifest gives them. */
  requirements: string[]
  /** Every runtime x architecture of the layer. */
  targets: PythonTarget[]
  /** Locked wheels of every artifact and runtime. */
  wheels: Array<{name: string; version: string}>
}

/**
 * The versions of a project that count for `targets`: those with a non-yanked wheel every target can
 * install, its tags and its Requires-Python admitting the target's interpreter (the lock would take
 * no other wheel; sdists do not count: the lock takes a wheel whenever one fits, and whether an sdist
 * builds pure Python is known only by building it), oldest first.
 */
export function installableVersions(files: readonly IndexFile[], targets: readonly PythonTarget[]): string[] {
  const rankings = targets.map((target) => tagRanking(target))
  const fits = new Map<string, boolean[]>()
  for (const file of files) {
    const wheel = file.yanked ? undefined : parseWheelName(file.filename)
    if (!wheel || !parseVersion(wheel.version)) continue
    const ok = fits.get(wheel.version) ?? rankings.map(() => false)
    rankings.forEach((ranking, index) => (ok[index] ||= wheelRank(file.filename, ranking) !== undefined && admitsPython(file.requiresPython, targets[index]!)))
    fits.set(wheel.version, ok)
  }
  return [...fits].filter(([, ok]) => ok.every(Boolean)).map(([version]) => version).sort((a, b) => compareVersions(parseVersion(a)!, parseVersion(b)!))
}

/** The newest version `specifier` allows: pre-releases when `prereleasesFrom` names one, or when nothing else fits (as pip and uv do). */
function newestAllowed(versions: readonly string[], specifier: string, prereleasesFrom = specifier): string | undefined {
  return maxSatisfying(versions, specifier, specifierAllowsPrereleases(prereleasesFrom)) ?? maxSatisfying(versions, specifier, true)
}

/** The targets of the layer a requirement applies to: those its environment marker holds for (all without one). */
export function requirementTargets(requirement: ParsedRequirement, targets: readonly PythonTarget[]): PythonTarget[] {
  const {marker} = requirement
  return marker === undefined ? [...targets] : targets.filter((target) => evaluateMarker(marker, markerEnvironment(target)))
}

/**
 * Rows for one pip layer; `index` holds the files the index lists per normalized project name (absent:
 * not fetched). A requirement counts only for the targets its marker holds for; one whose marker
 * excludes every target of the layer has no row.
 */
export function pipOutdated(layer: PipLayerInput, index: Record<string, readonly IndexFile[] | undefined>): PipOutdatedRow[] {
  const rows: PipOutdatedRow[] = []
  for (const text of layer.requirements) {
    const requirement = parseRequirement(text)
    if (typeof requirement === 'string') continue
    const targets = requirementTargets(requirement, layer.targets)
    if (targets.length === 0) continue
    const {name, specifier: spec} = requirement
    const locked = [...new Set(layer.wheels.filter((wheel) => wheel.name === name).map((wheel) => wheel.version))].sort((a, b) => compareVersions(parseVersion(a) ?? {epoch: 0, release: [0]}, parseVersion(b) ?? {epoch: 0, release: [0]}))
    const files = index[name]
    const versions = files && installableVersions(files, targets)
    const wanted = versions ? newestAllowed(versions, spec) : undefined
    const latest = versions ? newestAllowed(versions, '', spec) : undefined
    const behind = (version: string, candidate: string | undefined): boolean => candidate !== undefined && releaseStep(version, candidate) !== undefined
    const differs = (version: string, candidate: string | undefined): boolean => {
      const a = parseVersion(version)
      const b = candidate === undefined ? undefined : parseVersion(candidate)
      return a !== undefined && b !== undefined && compareVersions(a, b) !== 0
    }
    // Nothing locked for a requirement that applies: the lock is behind the manifest.
    const outdated = locked.length === 0 || locked.some((version) => differs(version, wanted) || behind(version, latest))
    let update: UpdateLevel | undefined
    if (outdated) {
      for (const version of locked) {
        for (const candidate of [wanted, latest]) {
          const step = candidate === undefined ? undefined : releaseStep(version, candidate)
          if (step && (update === undefined || LEVEL_RANK[step] > LEVEL_RANK[update])) update = step
        }
      }
    }
    rows.push({kind: 'pip', layer: layer.layer, package: name, spec, locked, ...(wanted ? {wanted} : {}), ...(latest ? {latest} : {}), outdated, ...(update ? {update} : {})})
  }
  return rows.sort((a, b) => (a.package < b.package ? -1 : a.package > b.package ? 1 : 0))
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

/** What `layers outdated --fail-on` takes: `any` outdated row (npm's exit 1), or an npm or pip update of at least that level. */
export const FAIL_ON_LEVELS = ['any', 'major', 'minor', 'patch'] as const
export type FailOn = (typeof FAIL_ON_LEVELS)[number]

/**
 * The rows that make `--fail-on LEVEL` exit 1. `any`: every outdated row, arn layers included. A level:
 * npm and pip rows whose update is at least that big (semver for npm, PEP 440 release segments for
 * pip); such a row that is outdated without a level (not locked, or its locked version is outside the
 * manifest's range) counts at every level; arn rows (layer versions have no semver) count only for `any`.
 */
export function failingRows(rows: readonly OutdatedRow[], failOn: FailOn): OutdatedRow[] {
  return rows.filter((row) => {
    if (!row.outdated) return false
    if (failOn === 'any') return true
    if (row.kind === 'arn') return false
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

/**
 * An arn layer's row from its publisher's SSM parameter: the parameter's value is the current version
 * ARN. Outdated when it is another version: a higher number of the same layer, or another layer (a
 * publisher may move to a new layer name, e.g. a major version), never a lower number of the same one.
 */
export function feedRow(layer: string, accountId: string, region: string, locked: {arn: string; version: number}, feed: string, value: {arn: string; version: number; layerArn: string} | {error: string}): ArnOutdatedRow {
  const base = {kind: 'arn' as const, layer, accountId, region, locked: locked.arn, lockedVersion: locked.version, feed}
  if ('error' in value) return {...base, outdated: false, error: value.error}
  const sameLayer = locked.arn.slice(0, locked.arn.lastIndexOf(':')) === value.layerArn
  return {...base, latest: value.arn, latestVersion: value.version, outdated: value.arn !== locked.arn && (!sameLayer || value.version > locked.version)}
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
