// Owns `layers outdated`: gathers what the lock has for each npm, pip and arn layer of the manifest,
// asks the npm registry (packuments), the Python indexes (project pages) and Lambda (newest readable
// version per pinned target) through small interfaces, and returns rows from the pure plan. A failed
// lookup becomes an error on its row.
import pLimit from 'p-limit'
import type {EmitEvent} from '../events.js'
import type {Lockfile} from '../lock/types.js'
import type {Account, Manifest} from '../manifest/types.js'
import {selectAccounts, selectLayerNames, selectRegions} from '../manifest/select.js'
import {parseLayerVersionArn} from '../audit/arn.js'
import {failureOf} from '../audit/scan.js'
import type {LayerProbeApi} from './newest-version.js'
import {newestReadableVersion} from './newest-version.js'
import {parseRegistrySpec} from '../resolve/spec.js'
import type {IndexFile} from '../python/index.js'
import {parseRequirement} from '../python/requirements.js'
import {pythonRuntime, type PythonTarget} from '../python/targets.js'
import {arnRow, feedRow, npmOutdated, pipOutdated, requirementTargets, type OutdatedRow, type PackageVersions} from './plan.js'

export interface OutdatedEnv {
  /** The registry's versions and dist-tags of a package (pacote.packument with the project's npm config). */
  packument(name: string): Promise<PackageVersions>
  /** The files the configured Python indexes list for a project (the first index listing it, as the lock reads them); empty: none does. */
  pythonFiles(project: string): Promise<IndexFile[]>
  /** Layer reads with the credentials of `account` in `region`. */
  probeApiFor(account: Account, region: string): Promise<LayerProbeApi>
  /** The value of an SSM parameter (an arn layer's `ssm` feed) read as `account` in `region`; undefined when it does not exist. */
  ssmValue?(account: Account, region: string, name: string): Promise<string | undefined>
}

export interface OutdatedRequest {
  manifest: Manifest
  lock: Lockfile | undefined
  /** Layer names; empty: every npm, pip and arn layer. */
  layers: string[]
  accounts?: string[]
  regions?: string[]
  concurrency: number
  emit: EmitEvent
}

export interface OutdatedResult {
  rows: OutdatedRow[]
  /** Packages the registry could not be asked about. */
  errors: Array<{layer: string; package?: string; accountId?: string; region?: string; code: string; message: string}>
}

export async function runOutdated(request: OutdatedRequest, env: OutdatedEnv): Promise<OutdatedResult> {
  const {manifest, lock} = request
  const names = selectLayerNames(manifest, request.layers)
  selectRegions(manifest, selectAccounts(manifest, request.accounts, {ids: true, defaultRegions: manifest.settings.regions}), request.regions)
  const selected = names.map((name) => manifest.layers[name]!)
    .sort((a, b) => (a.name < b.name ? -1 : 1))
  const limit = pLimit(Math.max(1, request.concurrency))
  const errors: OutdatedResult['errors'] = []
  const rows: OutdatedRow[] = []
  const packuments = new Map<string, Promise<PackageVersions | undefined>>()
  const packument = (layer: string, name: string): Promise<PackageVersions | undefined> => {
    if (!packuments.has(name)) {
      packuments.set(
        name,
        limit(() => env.packument(name)).catch((error: unknown) => {
          errors.push({layer, package: name, ...failureOf(error)})
          return undefined
        }),
      )
    }
    return packuments.get(name)!
  }
  const pythonPages = new Map<string, Promise<IndexFile[] | undefined>>()
  const pythonFiles = (layer: string, name: string): Promise<IndexFile[] | undefined> => {
    if (!pythonPages.has(name)) {
      pythonPages.set(
        name,
        limit(() => env.pythonFiles(name)).catch((error: unknown) => {
          errors.push({layer, package: name, ...failureOf(error)})
          return undefined
        }),
      )
    }
    return pythonPages.get(name)!
  }
  const wantAccount = (account: Account): boolean => !request.accounts?.length || request.accounts.includes(account.name) || request.accounts.includes(account.id)
  const wantRegion = (region: string): boolean => !request.regions?.length || request.regions.includes(region)

  for (const layer of selected) {
    const locked = lock?.layers[layer.name]
    if (layer.kind === 'npm') {
      const artifacts = locked && locked.kind === 'npm' ? Object.values(locked.artifacts).map((artifact) => artifact.packages ?? {}) : []
      const registry: Record<string, PackageVersions | undefined> = {}
      // An `npm:` alias is looked up under the package it names, not under its folder name.
      await Promise.all(
        Object.entries(layer.dependencies).map(async ([name, spec]) => {
          const parsed = parseRegistrySpec(name, spec)
          registry[name] = await packument(layer.name, 'realName' in parsed ? parsed.realName : name)
        }),
      )
      rows.push(...npmOutdated({layer: layer.name, dependencies: layer.dependencies, artifacts}, registry))
    } else if (layer.kind === 'pip') {
      const wheels = locked && locked.kind === 'pip' ? Object.values(locked.artifacts).flatMap((artifact) => Object.values(artifact.wheels ?? {}).flatMap((byName) => Object.values(byName))) : []
      const targets: PythonTarget[] = [...new Set(layer.runtimes)].flatMap((runtime) => {
        const python = pythonRuntime(runtime)
        return python ? [...new Set(layer.architectures)].map((architecture) => ({runtime: python, architecture})) : []
      })
      const index: Record<string, IndexFile[] | undefined> = {}
      await Promise.all(
        layer.requirements.map(async (text) => {
          const requirement = parseRequirement(text)
          if (typeof requirement === 'string' || requirementTargets(requirement, targets).length === 0) return
          index[requirement.name] = await pythonFiles(layer.name, requirement.name)
        }),
      )
      rows.push(...pipOutdated({layer: layer.name, requirements: layer.requirements, targets, wheels}, index))
    } else if (layer.kind === 'arn') {
      if (!locked || locked.kind !== 'arn') continue
      const pins = Object.entries(locked.arns).flatMap(([accountId, regions]) => Object.entries(regions).map(([region, arn]) => ({accountId, region, arn})))
      const layerRows = await Promise.all(
        pins.map(async (pin) => {
          const account = Object.values(manifest.accounts).find((entry) => entry.id === pin.accountId) ?? {name: pin.accountId, id: pin.accountId, regions: []}
          if (!wantAccount(account) || !wantRegion(pin.region)) return undefined
          const parts = parseLayerVersionArn(pin.arn)
          if (!parts) return undefined
          const feed = layer.ssm?.replace(/\{region\}/g, pin.region)
          if (feed !== undefined && env.ssmValue) {
            const locked = {arn: pin.arn, version: parts.version}
            try {
              const value = await limit(() => env.ssmValue!(account, pin.region, feed))
              const latest = value === undefined ? undefined : parseLayerVersionArn(value)
              if (latest) return feedRow(layer.name, pin.accountId, pin.region, locked, feed, {arn: value!, version: latest.version, layerArn: latest.layerArn})
              const failure = value === undefined
                ? {code: 'ERR_LAYERS_SSM_FEED_MISSING', message: `SSM parameter ${feed} (layers.${layer.name}.ssm) does not exist in ${pin.region} for account ${pin.accountId}.`}
                : {code: 'ERR_LAYERS_SSM_FEED_INVALID', message: `SSM parameter ${feed} (layers.${layer.name}.ssm) in ${pin.region} holds ${JSON.stringify(value.slice(0, 200))}, not a layer version ARN.`}
              errors.push({layer: layer.name, accountId: pin.accountId, region: pin.region, ...failure})
              return feedRow(layer.name, pin.accountId, pin.region, locked, feed, {error: `${failure.code}: ${failure.message}`})
            } catch (error) {
              const failure = failureOf(error)
              errors.push({layer: layer.name, accountId: pin.accountId, region: pin.region, ...failure})
              return feedRow(layer.name, pin.accountId, pin.region, locked, feed, {error: `${failure.code}: ${failure.message}`})
            }
          }
          try {
            const api = await env.probeApiFor(account, pin.region)
            const newest = await limit(() => newestReadableVersion(api, pin.arn))
            return arnRow(layer.name, pin.accountId, pin.region, {arn: pin.arn, version: parts.version}, newest)
          } catch (error) {
            const failure = failureOf(error)
            errors.push({layer: layer.name, accountId: pin.accountId, region: pin.region, ...failure})
            return arnRow(layer.name, pin.accountId, pin.region, {arn: pin.arn, version: parts.version}, {error: `${failure.code}: ${failure.message}`})
          }
        }),
      )
      rows.push(
        ...layerRows
          .filter((row): row is NonNullable<typeof row> => row !== undefined)
          .sort((a, b) => (a.accountId + a.region < b.accountId + b.region ? -1 : 1)),
      )
    }
  }
  request.emit({type: 'progress', phase: 'outdated', message: 'done'})
  errors.sort((a, b) => `${a.layer}/${a.package ?? ''}/${a.accountId ?? ''}/${a.region ?? ''}`.localeCompare(`${b.layer}/${b.package ?? ''}/${b.accountId ?? ''}/${b.region ?? ''}`, 'en'))
  return {rows, errors}
}
