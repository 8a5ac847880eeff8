// Owns what changes between two lockfiles, from plain data: per layer added, removed or changed, and
// for a changed layer each difference (its inputs fingerprint, an artifact, an installed package's
// version / integrity / tarball, a pip layer's distribution per runtime (version, file name, sha256),
// a runtime binary, a pinned ARN, a publication record). `layers lock`
// reports it as what it wrote, `layers lock --check` as what it would write.
import {canonicalJson} from './serialize.js'
import type {LockedArtifact, LockedLayer, LockedPackage, LockedWheel, Lockfile, Publication} from './types.js'

/** A package or runtime binary as a difference shows it. */
export interface LockedPackageRef {
  name: string
  version: string
  integrity: string
  resolved: string
}

/** A locked wheel (or sdist) of a pip layer as a difference shows it. */
export interface LockedWheelRef {
  name: string
  version: string
  filename: string
  sha256: string
}

export type LockDifference =
  | {field: 'kind'; before: string; after: string}
  | {field: 'inputs'; before: string; after: string}
  | {field: 'template'; before: string; after: string}
  | {field: 'artifact'; artifact: string; before?: string[]; after?: string[]}
  /** `path` is the install path (node_modules/a/node_modules/b); before/after equal versions: only its metadata changed. */
  | {field: 'package'; artifact: string; path: string; before?: LockedPackageRef; after?: LockedPackageRef}
  | {field: 'binary'; artifact: string; before?: LockedPackageRef; after?: LockedPackageRef}
  /** A pip layer's distribution for one runtime of an artifact; before/after equal: only its URL or index changed. */
  | {field: 'wheel'; artifact: string; runtime: string; name: string; before?: LockedWheelRef; after?: LockedWheelRef}
  | {field: 'arn'; accountId: string; region: string; before?: string; after?: string}
  | {field: 'published'; accountId: string; region: string; artifact: string; before?: string; after?: string}

export interface LockLayerChange {
  layer: string
  change: 'added' | 'removed' | 'changed'
  differences: LockDifference[]
}

/** Every layer whose entry differs between `before` and `after` (absent lockfile: no layers), sorted by name. */
export function diffLockfiles(before: Lockfile | undefined, after: Lockfile): LockLayerChange[] {
  const old = before?.layers ?? {}
  const names = [...new Set([...Object.keys(old), ...Object.keys(after.layers)])].sort()
  const changes: LockLayerChange[] = []
  for (const name of names) {
    const a = own(old, name)
    const b = own(after.layers, name)
    if (a !== undefined && b !== undefined && canonicalJson(a) === canonicalJson(b)) continue
    changes.push({layer: name, change: a === undefined ? 'added' : b === undefined ? 'removed' : 'changed', differences: diffLayer(a, b)})
  }
  return changes
}

function diffLayer(a: LockedLayer | undefined, b: LockedLayer | undefined): LockDifference[] {
  const out: LockDifference[] = []
  if (a && b && a.kind !== b.kind) out.push({field: 'kind', before: a.kind, after: b.kind})
  if (a && b && a.inputs !== b.inputs) out.push({field: 'inputs', before: a.inputs, after: b.inputs})
  const templateA = a?.kind === 'runtime' ? a.template : undefined
  const templateB = b?.kind === 'runtime' ? b.template : undefined
  if (templateA !== undefined && templateB !== undefined && templateA !== templateB) out.push({field: 'template', before: templateA, after: templateB})
  const artifactsA = a && a.kind !== 'arn' ? a.artifacts : {}
  const artifactsB = b && b.kind !== 'arn' ? b.artifacts : {}
  for (const key of keys(artifactsA, artifactsB)) out.push(...diffArtifact(key, own(artifactsA, key), own(artifactsB, key)))
  const arnsA = a?.kind === 'arn' ? a.arns : {}
  const arnsB = b?.kind === 'arn' ? b.arns : {}
  for (const accountId of keys(arnsA, arnsB)) {
    const regionsA = own(arnsA, accountId) ?? {}
    const regionsB = own(arnsB, accountId) ?? {}
    for (const region of keys(regionsA, regionsB)) {
      const [before, after] = [own(regionsA, region), own(regionsB, region)]
      if (before !== after) out.push({field: 'arn', accountId, region, ...defined('before', before), ...defined('after', after)})
    }
  }
  const publishedA = a && a.kind !== 'arn' ? (a.published ?? {}) : {}
  const publishedB = b && b.kind !== 'arn' ? (b.published ?? {}) : {}
  for (const accountId of keys(publishedA, publishedB)) {
    const regionsA = own(publishedA, accountId) ?? {}
    const regionsB = own(publishedB, accountId) ?? {}
    for (const region of keys(regionsA, regionsB)) {
      const byKeyA = own(regionsA, region) ?? {}
      const byKeyB = own(regionsB, region) ?? {}
      for (const artifact of keys(byKeyA, byKeyB)) {
        const [before, after] = [own(byKeyA, artifact), own(byKeyB, artifact)]
        if (!samePublication(before, after)) out.push({field: 'published', accountId, region, artifact, ...defined('before', before?.arn), ...defined('after', after?.arn)})
      }
    }
  }
  return out
}

function diffArtifact(key: string, a: LockedArtifact | undefined, b: LockedArtifact | undefined): LockDifference[] {
  const out: LockDifference[] = []
  if (!a || !b || canonicalJson(a.architectures) !== canonicalJson(b.architectures)) {
    out.push({field: 'artifact', artifact: key, ...defined('before', a?.architectures), ...defined('after', b?.architectures)})
  }
  const packagesA = a?.packages ?? {}
  const packagesB = b?.packages ?? {}
  for (const path of keys(packagesA, packagesB)) {
    const [before, after] = [own(packagesA, path), own(packagesB, path)]
    if (before && after && canonicalJson(before) === canonicalJson(after)) continue
    out.push({field: 'package', artifact: key, path, ...defined('before', before && ref(before)), ...defined('after', after && ref(after))})
  }
  const wheelsA = a?.wheels ?? {}
  const wheelsB = b?.wheels ?? {}
  for (const runtime of keys(wheelsA, wheelsB)) {
    const byNameA = own(wheelsA, runtime) ?? {}
    const byNameB = own(wheelsB, runtime) ?? {}
    for (const name of keys(byNameA, byNameB)) {
      const [before, after] = [own(byNameA, name), own(byNameB, name)]
      if (before && after && canonicalJson(before) === canonicalJson(after)) continue
      out.push({field: 'wheel', artifact: key, runtime, name, ...defined('before', before && wheelRef(before)), ...defined('after', after && wheelRef(after))})
    }
  }
  if (canonicalJson(a?.binary ?? null) !== canonicalJson(b?.binary ?? null)) {
    out.push({field: 'binary', artifact: key, ...defined('before', a?.binary && ref(a.binary)), ...defined('after', b?.binary && ref(b.binary))})
  }
  return out
}

function ref(entry: LockedPackage | LockedPackageRef): LockedPackageRef {
  return {name: entry.name, version: entry.version, integrity: entry.integrity, resolved: entry.resolved}
}

function wheelRef(wheel: LockedWheel): LockedWheelRef {
  return {name: wheel.name, version: wheel.version, filename: wheel.filename, sha256: wheel.sha256}
}

function samePublication(a: Publication | undefined, b: Publication | undefined): boolean {
  return canonicalJson(a ?? null) === canonicalJson(b ?? null)
}

/** The entry at a key of the lockfile's own, never an inherited property (a layer named toString). */
function own<V>(record: Readonly<Record<string, V>>, key: string): V | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined
}

function keys(...records: Array<Record<string, unknown>>): string[] {
  return [...new Set(records.flatMap((record) => Object.keys(record)))].sort()
}

/** `{[name]: value}` when value is defined, else nothing (optional fields stay absent in the JSON). */
function defined<K extends string, V>(name: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined ? {} : ({[name]: value} as Record<K, V>)
}
