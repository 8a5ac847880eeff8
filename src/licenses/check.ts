// Owns applying the manifest's licence policy to locked npm and pip layers: per layer, every package
// (by its node_modules path, or RUNTIME/FILE for a Python distribution) that breaks it, with its
// licence, the dependency chain from the layer's top-level package down to it (npm; a Python
// distribution's chain is itself: the lock holds no dependency graph), and the policy entry it breaks (located in the manifest); the one error `layers
// lock` and `layers validate` throw for them (all violations, not only the first); and which layers'
// locks predate licences (their packages carry none, so the policy cannot be checked). Pure: plain data in and out.
import {UserInputError, type Problem, type SourceLocation} from '../errors/index.js'
import {chainTo, dependentsOf} from '../find/plan.js'
import type {LockedArtifact, LockedLayer, LockedPackage} from '../lock/types.js'
import type {LicenseSettings} from '../manifest/types.js'
import {evaluateLicense, type LicenseVerdict, type PolicyEntry} from './policy.js'

/** What the checks need of the manifest: its file, its policy and where a value is in it. */
export interface PolicySource {
  file: string
  settings: {licenses?: LicenseSettings}
  locate(path: ReadonlyArray<string | number>): SourceLocation | undefined
}

export interface LicenseViolation {
  layer: string
  /** Artifact keys of the layer holding this package at this path. */
  artifacts: string[]
  path: string
  name: string
  version: string
  license: string
  /** How a licence that is not SPDX as written was read (spdx-correct). */
  readAs?: string
  status: 'denied' | 'not-allowed'
  /** The deny entries it needs (denied), or the allow list it is not in (not-allowed). */
  breaks: Array<{list: 'allow' | 'deny'; index?: number; entry?: string; location?: SourceLocation}>
  /** name@version from a top-level package of the layer down to this one (itself last). */
  chain: string[]
}

export function hasLicensePolicy(settings: {licenses?: LicenseSettings}): boolean {
  return settings.licenses?.allow !== undefined || (settings.licenses?.deny?.length ?? 0) > 0
}

/** Where a verdict's policy entries are in the manifest. */
function breaks(source: PolicySource, verdict: Extract<LicenseVerdict, {status: 'denied' | 'not-allowed'}>): LicenseViolation['breaks'] {
  const at = (path: Array<string | number>): {location?: SourceLocation} => {
    const location = source.locate(path)
    return location ? {location} : {}
  }
  if (verdict.status === 'not-allowed') return [{list: 'allow', ...at(['settings', 'licenses', 'allow'])}]
  return verdict.entries.map((entry: PolicyEntry) => ({list: entry.list, index: entry.index, entry: entry.entry, ...at(['settings', 'licenses', entry.list, entry.index])}))
}

/** One licensed thing of an artifact: an npm package at its node_modules path, or a Python distribution at RUNTIME/FILE. */
export interface LicensedEntry {
  path: string
  name: string
  version: string
  /** Absent: locked before licences. */
  license?: string
  /** name@version from a top-level package down to this one. */
  chain(): string[]
}

/** The npm packages and Python distributions of an artifact, each with its licence as locked. */
export function licensedEntries(artifact: LockedArtifact): LicensedEntry[] {
  const packages = artifact.packages ?? {}
  let dependents: ((to: string) => string[]) | undefined
  const npm = Object.entries(packages).map(([lockPath, pkg]) => ({
    path: lockPath,
    name: pkg.name,
    version: pkg.version,
    ...(pkg.license === undefined ? {} : {license: pkg.license}),
    chain: () => chainTo(lockPath, (dependents ??= dependentsOf(packages))).map((step) => idOf(packages[step]!)),
  }))
  const python = Object.entries(artifact.wheels ?? {}).flatMap(([runtime, wheels]) =>
    Object.values(wheels).map((wheel) => ({
      path: `${runtime}/${wheel.filename}`,
      name: wheel.name,
      version: wheel.version,
      ...(wheel.license === undefined ? {} : {license: wheel.license}),
      chain: () => [`${wheel.name}@${wheel.version}`],
    })),
  )
  return [...npm, ...python]
}

/** Every package of the given npm and pip layers that breaks the policy, by layer, then path. */
export function licenseViolations(source: PolicySource, layers: ReadonlyArray<[string, LockedLayer]>): LicenseViolation[] {
  const policy = source.settings.licenses ?? {}
  if (!hasLicensePolicy(source.settings)) return []
  const found = new Map<string, LicenseViolation>()
  for (const [name, layer] of layers) {
    if (layer.kind !== 'npm' && layer.kind !== 'pip') continue
    for (const key of Object.keys(layer.artifacts).sort()) {
      for (const entry of licensedEntries(layer.artifacts[key]!)) {
        if (entry.license === undefined) continue
        const id = `${name}\u0000${entry.path}\u0000${entry.name}@${entry.version}`
        const seen = found.get(id)
        if (seen) {
          seen.artifacts.push(key)
          continue
        }
        const verdict = evaluateLicense(entry.license, policy)
        if (verdict.status !== 'denied' && verdict.status !== 'not-allowed') continue
        found.set(id, {
          layer: name,
          artifacts: [key],
          path: entry.path,
          name: entry.name,
          version: entry.version,
          license: entry.license,
          ...(verdict.readAs ? {readAs: verdict.readAs} : {}),
          status: verdict.status,
          breaks: breaks(source, verdict),
          chain: entry.chain(),
        })
      }
    }
  }
  return [...found.values()].sort((a, b) => (a.layer !== b.layer ? (a.layer < b.layer ? -1 : 1) : a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
}

const idOf = (pkg: LockedPackage): string => `${pkg.name}@${pkg.version}`

const where = (location: SourceLocation | undefined): string => (location ? ` (${location.file}:${location.line}:${location.column})` : '')

/** One line for a violation: layer, package, path, chain, licence and the entry it breaks. */
export function describeViolation(violation: LicenseViolation): string {
  const via = violation.chain.length > 1 ? `, via ${violation.chain.join(' > ')}` : ''
  const license = `${JSON.stringify(violation.license)}${violation.readAs ? ` (read as ${violation.readAs})` : ''}`
  const broken =
    violation.status === 'denied'
      ? violation.breaks.map((entry) => `denied by settings.licenses.deny[${entry.index}] "${entry.entry}"${where(entry.location)}`).join(', ')
      : `not allowed by settings.licenses.allow${where(violation.breaks[0]?.location)}`
  return `Layer ${violation.layer}: ${violation.name}@${violation.version} at ${violation.path}${via} is licensed ${license}, ${broken}.`
}

/** The error for violations: every one as a problem located at the policy entry it breaks. */
export function licensePolicyError(source: PolicySource, violations: LicenseViolation[], outcome: string): UserInputError {
  const problems: Problem[] = violations.map((violation) => {
    const location = violation.breaks[0]?.location
    return {severity: 'error', code: 'ERR_LAYERS_LICENSE_DENIED', message: describeViolation(violation), ...(location ? {location} : {})}
  })
  const count = violations.length
  const first = violations[0]!
  return new UserInputError(
    'ERR_LAYERS_LICENSE_DENIED',
    `${count} package${count === 1 ? ' breaks' : 's break'} the licence policy of ${source.file} (settings.licenses); ${outcome}. ${describeViolation(first)}${count > 1 ? ` And ${count - 1} more (see problems).` : ''}`,
    {
      hint: `Replace or remove the dependency that pulls the package in (the chain names it; \`layers find ${first.name}\` shows every path), pin a version under an allowed licence, or, if the licence is acceptable, change settings.licenses in ${source.file}.`,
      problems,
      ...(first.breaks[0]?.location ? {location: first.breaks[0].location} : {}),
      details: {violations},
    },
  )
}

/** npm and pip layers whose lock holds packages without a licence (locked before licences were recorded). */
export function layersWithoutLicenses(layers: ReadonlyArray<[string, LockedLayer]>): string[] {
  return layers
    .filter(([, layer]) => (layer.kind === 'npm' || layer.kind === 'pip') && Object.values(layer.artifacts).some((artifact) => licensedEntries(artifact).some((entry) => entry.license === undefined)))
    .map(([name]) => name)
    .sort()
}
