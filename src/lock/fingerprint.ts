// Owns whether lockfile.json still matches the manifest: each layer's `inputs` fingerprint is a hash
// of the parts of its manifest entry that decide what gets resolved (never host paths, so a clone in
// another directory matches; for an npm layer with a team lockfile, that lockfile's path and sha256), and lockStatus compares them (runtime layers also against their
// template, whose template.json can change under an unchanged manifest entry). `layers build` and
// `publish` refuse a stale lock; `layers validate` reports it.
import {createHash} from 'node:crypto'
import path from 'node:path'
import {UserInputError} from '../errors/index.js'
import {hasLicensePolicy, layersWithoutLicenses} from '../licenses/check.js'
import {isOwnLayer, type LayerSpec, type Manifest, type NpmOverrides} from '../manifest/types.js'
import {isLocalResolved} from '../resolve/local.js'
import {canonicalJson} from './serialize.js'
import type {LockedNpmLayer, Lockfile} from './types.js'

/** What of a layer's manifest entry its lock depends on, as plain data (paths relative to the manifest). */
export function layerLockInputs(layer: LayerSpec, root: string): unknown {
  switch (layer.kind) {
    case 'arn':
      return {kind: 'arn', arn: layer.arn}
    case 'npm':
      // Overrides (and what their `$` references read) count only when given, so older locks stay fresh.
      return {
        kind: 'npm',
        dependencies: layer.dependencies,
        ...(layer.optionalDependencies ? {optionalDependencies: layer.optionalDependencies} : {}),
        // The team's lockfile decides the versions: a change to it makes the layer stale.
        ...(layer.teamLock ? {lockfile: {path: relative(root, layer.teamLock.file), sha256: layer.teamLock.sha256}} : {}),
        architectures: [...layer.architectures].sort(),
        runtimes: [...layer.runtimes].sort(),
        ...(layer.overrides ? {overrides: layer.overrides.rules, overrideReferences: referencedSpecs(layer.overrides)} : {}),
      }
    case 'pip':
      return {kind: 'pip', requirements: layer.requirements, architectures: [...layer.architectures].sort(), runtimes: [...layer.runtimes].sort()}
    case 'dir':
      return {kind: 'dir', dir: relative(root, layer.dir), architectures: [...layer.architectures].sort()}
    case 'runtime':
      return {kind: 'runtime', template: path.isAbsolute(layer.template) ? relative(root, layer.template) : layer.template, version: layer.version, architectures: [...layer.architectures].sort()}
  }
}

/** The specs the overrides' `$name` values read (not the whole package.json: other edits do not re-lock). */
function referencedSpecs(overrides: NpmOverrides): Record<string, string> {
  const names = new Set<string>()
  const collect = (value: unknown): void => {
    if (typeof value === 'string' && value.startsWith('$')) names.add(value.slice(1))
    else if (value !== null && typeof value === 'object') for (const child of Object.values(value)) collect(child)
  }
  collect(overrides.rules)
  return Object.fromEntries([...names].sort().map((name) => [name, overrides.references[name] ?? '']))
}

/** The fingerprint stored as a locked layer's `inputs`. */
export function layerInputs(layer: LayerSpec, root: string): string {
  return 'sha256-' + createHash('sha256').update(canonicalJson(layerLockInputs(layer, root))).digest('base64')
}

export interface LockStatus {
  /** In both, but the manifest entry changed since it was locked. */
  stale: string[]
  /** In the manifest, not in the lock. */
  missing: string[]
  /** In the lock, no longer in the manifest. */
  extra: string[]
  /** Of `stale`: the npm layers whose manifest entry still matches but whose local packages (file:, workspaces) pack to other content now. */
  localChanged?: string[]
  /** Of `stale`: with a licence policy (settings.licenses), the npm and pip layers locked before licences were recorded. */
  licensesMissing?: string[]
}

/**
 * Compares the lock with the manifest; a runtime layer whose manifest entry is unchanged is also
 * checked against its template (loaded only then: most projects have no runtime layer).
 */
export async function lockStatus(manifest: Manifest, lock: Lockfile): Promise<LockStatus> {
  const status: LockStatus = {stale: [], missing: [], extra: []}
  for (const [name, layer] of Object.entries(manifest.layers)) {
    const locked = lock.layers[name]
    if (!locked) status.missing.push(name)
    else if (locked.kind !== layer.kind || locked.inputs !== layerInputs(layer, manifest.root)) status.stale.push(name)
    else if (layer.kind === 'runtime' && locked.kind === 'runtime') {
      const {runtimeLockFits} = await import('../runtime/lock.js')
      if (!(await runtimeLockFits(layer, locked, manifest.root))) status.stale.push(name)
    } else if (locked.kind === 'npm' && (await localPackagesChanged(manifest, name, locked))) {
      status.stale.push(name)
      ;(status.localChanged ??= []).push(name)
    } else if (locked.kind === 'npm' && hasLicensePolicy(manifest.settings) && layersWithoutLicenses([[name, locked]]).length > 0) {
      status.stale.push(name)
      ;(status.licensesMissing ??= []).push(name)
    }
  }
  for (const name of Object.keys(lock.layers)) if (!(name in manifest.layers)) status.extra.push(name)
  return {
    stale: status.stale.sort(),
    missing: status.missing.sort(),
    extra: status.extra.sort(),
    ...(status.localChanged ? {localChanged: status.localChanged.sort()} : {}),
    ...(status.licensesMissing ? {licensesMissing: status.licensesMissing.sort()} : {}),
  }
}

/** Whether a local package of the locked npm layer packs to other content than was locked (loaded only for layers holding one). */
export async function localPackagesChanged(manifest: Manifest, name: string, locked: LockedNpmLayer): Promise<boolean> {
  const entries = Object.values(locked.artifacts).flatMap((artifact) => Object.entries(artifact.packages ?? {})).filter(([, pkg]) => isLocalResolved(pkg.resolved))
  if (entries.length === 0) return false
  const {LocalPackages} = await import('../resolve/local.js')
  const local = new LocalPackages({manifestRoot: manifest.root, layer: name})
  for (const [, pkg] of entries) {
    try {
      if ((await local.pack(local.lockedFolder(pkg.name, pkg.resolved))).integrity !== pkg.integrity) return true
    } catch (error) {
      if (error instanceof UserInputError) return true
      throw error
    }
  }
  return false
}

export function lockIsCurrent(status: LockStatus): boolean {
  return status.stale.length === 0 && status.missing.length === 0 && status.extra.length === 0
}

/** Layers (of `names`, or all) that must be locked again before they can be built or published. */
export function staleLayerNames(status: LockStatus, names?: readonly string[]): string[] {
  const outdated = [...status.stale, ...status.missing]
  return names && names.length > 0 ? outdated.filter((name) => names.includes(name)) : outdated
}

/** Throws (exit 2) when a layer of `names` (or any own layer) is not locked as the manifest says. */
export async function assertLockMatches(manifest: Manifest, lock: Lockfile, names?: readonly string[]): Promise<void> {
  const outdated = staleLayerNames(await lockStatus(manifest, lock), names)
  if (outdated.length === 0) return
  throw new UserInputError('ERR_LAYERS_LOCK_STALE', `lockfile.json does not match ${manifest.file} for layer${outdated.length === 1 ? '' : 's'} ${outdated.join(', ')}.`, {
    hint: `Run \`layers lock\` to resolve ${outdated.length === 1 ? 'it' : 'them'} again, then retry.`,
    details: {layers: outdated},
  })
}

export function ownLayerNames(manifest: Manifest): string[] {
  return Object.values(manifest.layers).filter(isOwnLayer).map((layer) => layer.name)
}

function relative(root: string, file: string): string {
  return path.relative(root, file).split(path.sep).join('/') || '.'
}
