// Owns what the manifest and the lock know about layers and functions, flattened into plain lookup
// data for the findings: which layer ARNs are the project's (and under which manifest name), which
// version the lock has per target and architecture, and which deployed functions the manifest manages.
import type {Architecture, Manifest} from '../manifest/types.js'
import {artifactArchitectures, type Lockfile} from '../lock/types.js'
import {partitionOf} from '../manifest/regions.js'
import {layerArnOf} from './arn.js'

/** A version the lock records for one layer in one account and region. */
export interface LockedVersion {
  layer: string
  accountId: string
  region: string
  /** Architectures the artifact serves; empty for arn layers (they serve any). */
  architectures: Architecture[]
  arn: string
}

/** A function the manifest declares in one account and region. */
export interface ManagedFunction {
  /** The manifest key (what `layers attach` takes). */
  key: string
  /** The deployed function name. */
  name: string
  accountId: string
  accountName: string
  region: string
}

export interface LayerCatalog {
  /** Layer ARN (no version) -> manifest layer name. */
  known: Record<string, string>
  locked: LockedVersion[]
  managed: ManagedFunction[]
}

export type CatalogManifest = Pick<Manifest, 'accounts' | 'layers' | 'functions' | 'settings'>

/** Builds the catalog from a loaded manifest and lockfile (either may be absent). */
export function buildCatalog(manifest: CatalogManifest | undefined, lock: Lockfile | undefined): LayerCatalog {
  const known: Record<string, string> = {}
  const locked: LockedVersion[] = []
  const managed: ManagedFunction[] = []
  const remember = (arn: string, layer: string): void => {
    const layerArn = layerArnOf(arn)
    known[layerArn] ??= layer
  }

  for (const [layer, entry] of Object.entries(lock?.layers ?? {})) {
    if (entry.kind === 'arn') {
      for (const [accountId, regions] of Object.entries(entry.arns)) {
        for (const [region, arn] of Object.entries(regions)) {
          remember(arn, layer)
          locked.push({layer, accountId, region, architectures: [], arn})
        }
      }
      continue
    }
    for (const [accountId, regions] of Object.entries(entry.published ?? {})) {
      for (const [region, artifacts] of Object.entries(regions)) {
        for (const [artifact, publication] of Object.entries(artifacts)) {
          remember(publication.arn, layer)
          locked.push({layer, accountId, region, architectures: artifactArchitectures(artifact), arn: publication.arn})
        }
      }
    }
  }

  if (manifest) {
    const accounts = Object.values(manifest.accounts)
    for (const spec of Object.values(manifest.layers)) {
      for (const account of accounts) {
        for (const region of account.regions) {
          if (spec.kind === 'arn') {
            remember(spec.arn.replaceAll('{region}', region), spec.name)
          } else {
            // Own layers are published under their manifest name in each account that uses them.
            known[`arn:${partitionOf(region) ?? 'aws'}:lambda:${region}:${account.id}:layer:${spec.name}`] ??= spec.name
          }
        }
      }
    }
    for (const spec of Object.values(manifest.functions)) {
      for (const accountName of spec.accounts) {
        const account = manifest.accounts[accountName]
        if (!account) continue
        for (const region of account.regions) {
          managed.push({key: spec.key, name: spec.name, accountId: account.id, accountName: account.name, region})
        }
      }
    }
  }
  locked.sort((a, b) => compareText(`${a.layer} ${a.accountId} ${a.region} ${a.arn}`, `${b.layer} ${b.accountId} ${b.region} ${b.arn}`))
  return {known, locked, managed}
}

const lockedIndexes = new WeakMap<LockedVersion[], Map<string, LockedVersion[]>>()

/** The version the lock has for `layer` in this target for a function of `architecture`. */
export function lockedVersionFor(
  catalog: Pick<LayerCatalog, 'locked'>,
  layer: string,
  accountId: string,
  region: string,
  architecture: Architecture,
): LockedVersion | undefined {
  let index = lockedIndexes.get(catalog.locked)
  if (!index) {
    index = new Map()
    for (const entry of catalog.locked) {
      const key = `${entry.layer}\u0000${entry.accountId}\u0000${entry.region}`
      index.set(key, [...(index.get(key) ?? []), entry])
    }
    lockedIndexes.set(catalog.locked, index)
  }
  const candidates = index.get(`${layer}\u0000${accountId}\u0000${region}`) ?? []
  return candidates.find((entry) => entry.architectures.length === 0 || entry.architectures.includes(architecture))
}

export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
