// Owns the pure decisions of locking a runtime layer: which artifacts it has (one per architecture
// when the template ships a binary, one shared `arm64+x86_64` artifact when it does not), which binary
// version to lock (the highest version in the range that every architecture's package publishes, so
// all artifacts of a layer run the same version), and whether an existing lock entry can be kept.
// Plain data in, plain data out: no pacote, no filesystem.
import semver from 'semver'
import {artifactKey, type ArtifactKey, type LockedArtifact, type LockedBinary, type LockedRuntimeLayer} from '../lock/types.js'
import type {Architecture} from '../manifest/types.js'

/** Artifact keys with their architectures, sorted by key. */
export function runtimeArtifacts(architectures: readonly Architecture[], hasBinary: boolean): Array<{key: ArtifactKey; architectures: Architecture[]}> {
  const archs = [...new Set(architectures)].sort()
  if (!hasBinary) return archs.length === 0 ? [] : [{key: artifactKey(archs), architectures: archs}]
  return archs.map((arch) => ({key: artifactKey([arch]), architectures: [arch]}))
}

export type VersionChoice =
  | {ok: true; version: string}
  /** `inRange`: per architecture, the versions its package publishes in the range (newest first), for the message. */
  | {ok: false; inRange: Partial<Record<Architecture, string[]>>}

/**
 * The highest version satisfying `range` that every package in `published` has (prereleases only
 * when the range names one, as npm does). `published`: architecture -> versions of its package.
 */
export function chooseBinaryVersion(range: string, published: Partial<Record<Architecture, readonly string[]>>): VersionChoice {
  const lists = Object.entries(published) as Array<[Architecture, readonly string[]]>
  const inRange = Object.fromEntries(lists.map(([arch, versions]) => [arch, versions.filter((version) => semver.valid(version) !== null && semver.satisfies(version, range)).sort(semver.rcompare)])) as Partial<Record<Architecture, string[]>>
  const [first, ...rest] = lists.map(([arch]) => inRange[arch]!)
  const common = (first ?? []).filter((version) => rest.every((list) => list.includes(version)))
  if (lists.length === 0 || common.length === 0) return {ok: false, inRange}
  return {ok: true, version: common[0]!}
}

export interface ExpectedRuntimeLock {
  template: string
  range: string
  architectures: readonly Architecture[]
  /** npm package per architecture; absent for templates without a binary. */
  packages?: Partial<Record<Architecture, string>>
}

/**
 * True when `previous` still fits the manifest entry and the template: same template, same artifact
 * keys, each binary from the package the template names for its architecture, one version for all
 * artifacts, inside the range. Such a lock is kept as it is (`layers lock` does not move versions
 * unless asked to update).
 */
export function lockStillFits(previous: LockedRuntimeLayer | undefined, expected: ExpectedRuntimeLock): previous is LockedRuntimeLayer {
  if (!previous || previous.kind !== 'runtime' || previous.template !== expected.template) return false
  const artifacts = runtimeArtifacts(expected.architectures, expected.packages !== undefined)
  const keys = Object.keys(previous.artifacts).sort()
  if (keys.length !== artifacts.length || artifacts.some((artifact, index) => artifact.key !== keys[index])) return false
  const versions = new Set<string>()
  for (const {key, architectures} of artifacts) {
    const locked: LockedArtifact = previous.artifacts[key]!
    if (locked.architectures.join('+') !== architectures.join('+')) return false
    if (!expected.packages) {
      if (locked.binary !== undefined) return false
      continue
    }
    const binary = locked.binary
    if (!binary || binary.name !== expected.packages[architectures[0]!] || !binaryLooksLocked(binary)) return false
    if (semver.valid(binary.version) === null || !semver.satisfies(binary.version, expected.range)) return false
    versions.add(binary.version)
  }
  return versions.size <= 1
}

function binaryLooksLocked(binary: LockedBinary): boolean {
  return binary.version !== '' && binary.resolved !== '' && binary.integrity.startsWith('sha512-')
}
