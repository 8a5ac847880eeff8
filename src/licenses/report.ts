// Owns the licence report of locked layers (`layers licenses`): per npm or pip layer, its packages
// grouped by licence with counts, and each package's status under the manifest's policy
// (settings.licenses; `unchecked` without one). npm packages carry the licence of their package.json,
// Python distributions that of their core metadata (src/python/license.ts); packages of locks from
// before licences are `unknown`.
// Pure: plain data in and out.
import type {LockedLayer} from '../lock/types.js'
import type {LicenseSettings} from '../manifest/types.js'
import {evaluateLicense, type LicenseVerdict} from './policy.js'
import {licensedEntries, licenseViolations, type LicenseViolation, type PolicySource} from './check.js'

export type LicenseStatus = LicenseVerdict['status'] | 'unknown'

export interface ReportedPackage {
  name: string
  version: string
  /** node_modules path (npm) or `RUNTIME/WHEEL` (pip). */
  path: string
  artifacts: string[]
  /** As locked; absent when unknown. */
  license?: string
  readAs?: string
  status: LicenseStatus
}

export interface LayerLicenses {
  layer: string
  kind: 'npm' | 'pip'
  /** Distinct licences (null: unknown), with how many packages (distinct name@version) carry each and their status. */
  licenses: Array<{license: string | null; packages: number; status: LicenseStatus}>
  packages: ReportedPackage[]
  /** The packages breaking the policy, with the chain that pulls each in and the entry it breaks. */
  violations: LicenseViolation[]
}

export interface LicensesReport {
  policy: LicenseSettings
  layers: LayerLicenses[]
  /** Packages (over all layers) breaking the policy. */
  violations: number
  /** Packages (over all layers) whose licence the lock does not hold. */
  unknown: number
}

const byPath = (a: {path: string}, b: {path: string}): number => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)

export function licensesReport(source: PolicySource, layers: ReadonlyArray<[string, LockedLayer]>): LicensesReport {
  const policy = source.settings.licenses ?? {}
  const reported: LayerLicenses[] = []
  for (const [name, layer] of layers) {
    if (layer.kind !== 'npm' && layer.kind !== 'pip') continue
    const packages = new Map<string, ReportedPackage>()
    const add = (key: string, artifact: string, entry: Omit<ReportedPackage, 'artifacts'>): void => {
      const seen = packages.get(key)
      if (seen) seen.artifacts.push(artifact)
      else packages.set(key, {...entry, artifacts: [artifact]})
    }
    for (const key of Object.keys(layer.artifacts).sort()) {
      for (const entry of licensedEntries(layer.artifacts[key]!)) {
        const verdict: LicenseVerdict | undefined = entry.license === undefined ? undefined : evaluateLicense(entry.license, policy)
        add(`${entry.path}\u0000${entry.name}@${entry.version}`, key, {
          name: entry.name,
          version: entry.version,
          path: entry.path,
          ...(entry.license === undefined ? {} : {license: entry.license}),
          ...(verdict && 'readAs' in verdict && verdict.readAs ? {readAs: verdict.readAs} : {}),
          status: verdict?.status ?? 'unknown',
        })
      }
    }
    const list = [...packages.values()].sort(byPath)
    const groups = new Map<string, {license: string | null; ids: Set<string>; status: LicenseStatus}>()
    for (const pkg of list) {
      const group = groups.get(pkg.license ?? '\u0000') ?? {license: pkg.license ?? null, ids: new Set<string>(), status: pkg.status}
      group.ids.add(`${pkg.name}@${pkg.version}`)
      groups.set(pkg.license ?? '\u0000', group)
    }
    const licenses = [...groups.values()]
      .map((group) => ({license: group.license, packages: group.ids.size, status: group.status}))
      .sort((a, b) => b.packages - a.packages || ((a.license ?? '') < (b.license ?? '') ? -1 : 1))
    reported.push({layer: name, kind: layer.kind, licenses, packages: list, violations: licenseViolations(source, [[name, layer]])})
  }
  return {
    policy,
    layers: reported,
    violations: reported.reduce((sum, layer) => sum + layer.violations.length, 0),
    unknown: reported.reduce((sum, layer) => sum + layer.packages.filter((pkg) => pkg.status === 'unknown').length, 0),
  }
}
