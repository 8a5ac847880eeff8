// Owns the answer of `layers advisories`, from plain data: which npm versions to ask the bulk advisory
// endpoint about (every package of the current lock and of every content built before, since old
// versions still run), and, from its answer and the packuments, each advisory traced like `layers
// find` traces a package (layer contents, path and dependents, published versions, audited functions),
// with its severity, the first fixed version and the fix: `layers lock --update LAYER` when the ranges
// that require the package allow a fixed version, an npm `overrides` entry when they do not, `layers
// attach` when only versions older than the lock are affected. Also the deprecated versions of the
// current lock (the packument's `deprecated`, as the registry or the deprecation cache answered it),
// and the `--fail-on` threshold (also `layers audit --fail-on-advisory`).
import semver from 'semver'
import {FindingsError} from '../errors/index.js'
import {findPackage, treeIndex, type FindInputs, type FindReport, type FoundContent, type FoundFunction, type FoundPackage} from '../find/plan.js'
import type {Packument} from '../resolve/types.js'
import type {RegistryAdvisory} from './registry.js'

export const SEVERITIES = ['info', 'low', 'moderate', 'high', 'critical'] as const
export type AdvisorySeverity = (typeof SEVERITIES)[number]

export interface LayerFix {
  layer: string
  /** What to run or change, one sentence. */
  fix: string
}

export interface AdvisoryFinding {
  id: string
  title: string
  url?: string
  severity: AdvisorySeverity
  package: string
  vulnerableVersions: string
  /** The first version above every affected locked copy that the advisory does not cover. */
  fixedIn?: string
  cwe: string[]
  cvssScore?: number
  contents: FoundContent[]
  functions: FoundFunction[]
  fixes: LayerFix[]
}

export interface DeprecatedPackage {
  name: string
  version: string
  message: string
  locations: Array<{layer: string; artifactKey: string; path: string}>
}

export interface AdvisoriesReport {
  advisories: AdvisoryFinding[]
  deprecated: DeprecatedPackage[]
  summary: Record<AdvisorySeverity, number> & {deprecated: number; functions: number}
  audit?: {runId: number; finishedAt: string}
}

/** name -> versions of every npm package in the current lock and in the recorded trees. */
export function lockedVersions(inputs: Pick<FindInputs, 'lock' | 'trees'>): Map<string, Set<string>> {
  const versions = new Map<string, Set<string>>()
  const add = (packages: Record<string, {name: string; version: string}> | undefined): void => {
    for (const pkg of Object.values(packages ?? {})) {
      let set = versions.get(pkg.name)
      if (!set) versions.set(pkg.name, (set = new Set()))
      set.add(pkg.version)
    }
  }
  for (const locked of Object.values(inputs.lock.layers)) if (locked.kind !== 'arn') for (const artifact of Object.values(locked.artifacts)) add(artifact.packages)
  for (const tree of inputs.trees) add(tree.packages)
  return versions
}

/** name -> versions of the current lock's npm packages (whose deprecation is reported). */
export function currentVersions(inputs: Pick<FindInputs, 'lock'>): Map<string, Set<string>> {
  return lockedVersions({lock: inputs.lock, trees: []})
}

function severityOf(text: string): AdvisorySeverity {
  return (SEVERITIES as readonly string[]).includes(text) ? (text as AdvisorySeverity) : 'info'
}

export function atLeast(severity: AdvisorySeverity, threshold: AdvisorySeverity): boolean {
  return SEVERITIES.indexOf(severity) >= SEVERITIES.indexOf(threshold)
}

/**
 * Whether a version is in an advisory's range: each range is compiled once and each version tested
 * once (a report tests the same few versions of a package for thousands of function runs).
 */
type VulnerableTest = (version: string, range: string) => boolean

function vulnerabilityTest(): VulnerableTest {
  const tests = new Map<string, {range: semver.Range; answers: Map<string, boolean>}>()
  return (version, range) => {
    let test = tests.get(range)
    if (!test) tests.set(range, (test = {range: new semver.Range(range, {includePrerelease: true}), answers: new Map()}))
    let answer = test.answers.get(version)
    if (answer === undefined) test.answers.set(version, (answer = test.range.test(version)))
    return answer
  }
}

/** Stable versions of the packument, lowest first. */
function stableVersions(packument: Packument | undefined): string[] {
  return Object.keys(packument?.versions ?? {})
    .filter((version) => semver.valid(version) && semver.prerelease(version) === null)
    .sort(semver.compare)
}

/** What fixes one layer's affected copies in the current lock. */
function lockFix(layer: string, name: string, copies: FoundPackage[], range: string, fixedIn: string | undefined, versions: string[], vulnerable: VulnerableTest): string {
  if (fixedIn === undefined) return `No version of ${name} outside ${range} is published: remove it from layer ${layer}, or replace what requires it (${copies.flatMap((copy) => copy.requiredBy).join(', ') || 'the layer itself'}).`
  const blocking: string[] = []
  let target: string | undefined
  for (const copy of copies) {
    if (copy.requiredRanges.length === 0) continue
    const allowed = versions.filter((version) => !vulnerable(version, range) && copy.requiredRanges.every((required) => semver.satisfies(version, required)))
    if (allowed.length === 0) blocking.push(`${copy.requiredBy.join(', ')} require${copy.requiredBy.length === 1 ? 's' : ''} ${copy.requiredRanges.join(' and ')}`)
    else if (!target || semver.gt(allowed.at(-1)!, target)) target = allowed.at(-1)
  }
  const direct = copies.some((copy) => copy.requiredRanges.length === 0)
  if (blocking.length > 0) {
    return `No version the dependents allow is fixed (${[...new Set(blocking)].join('; ')}): add \`overrides: {${JSON.stringify(name)}: ${JSON.stringify(`^${fixedIn}`)}}\` to layer ${layer} in layers.yaml (or update the dependents), then run \`layers lock --update ${layer}\`.`
  }
  if (direct) return `Run \`layers lock --update ${layer}\` with a range for ${name} in layer ${layer} that allows ${fixedIn} or later (raise it in layers.yaml if it does not).`
  return `Run \`layers lock --update ${layer}\`: the ranges that require ${name} allow ${target ?? fixedIn}.`
}

/** The contents and functions of a find report narrowed to the copies in `range` (what findPackage with that range answers). */
function inRange(found: FindReport, range: string, vulnerable: VulnerableTest): Pick<FindReport, 'contents' | 'functions'> {
  const versionOf = (id: string): string => id.slice(id.lastIndexOf('@') + 1)
  return {
    contents: found.contents.map((content) => ({...content, packages: content.packages.filter((pkg) => vulnerable(pkg.version, range))})).filter((content) => content.packages.length > 0),
    functions: found.functions.map((fn) => ({...fn, packages: fn.packages.filter((id) => vulnerable(versionOf(id), range))})).filter((fn) => fn.packages.length > 0),
  }
}

/** What the registries answered: the bulk advisories, the packuments read, and the current lock's deprecated versions (`name@version` -> message). */
export interface AdvisoryAnswers {
  answered: Record<string, RegistryAdvisory[]>
  packuments: Map<string, Packument>
  deprecations: Map<string, string>
}

export function advisoriesReport(inputs: FindInputs, {answered, packuments, deprecations}: AdvisoryAnswers): AdvisoriesReport {
  const locked = lockedVersions(inputs)
  const vulnerable = vulnerabilityTest()
  const index = treeIndex()
  const findings: AdvisoryFinding[] = []
  for (const name of Object.keys(answered).sort()) {
    // Every copy of the package is found once; each advisory keeps the copies in its range.
    let everyCopy: FindReport | undefined
    for (const advisory of answered[name] ?? []) {
      const range = advisory.vulnerable_versions
      if (typeof range !== 'string' || semver.validRange(range) === null) continue
      // The endpoint may answer for versions not asked about: only what is locked counts.
      if (![...(locked.get(name) ?? [])].some((version) => vulnerable(version, range))) continue
      const found = inRange((everyCopy ??= findPackage({name}, inputs, index)), range, vulnerable)
      if (found.contents.length === 0) continue
      const versions = stableVersions(packuments.get(name))
      const highest = found.contents.flatMap((content) => content.packages.map((pkg) => pkg.version)).sort(semver.compare).at(-1)!
      const fixedIn = versions.find((version) => semver.gt(version, highest) && !vulnerable(version, range))
      const fixes: LayerFix[] = []
      const layers = [...new Set(found.contents.map((content) => content.layer))]
      for (const layer of layers) {
        const current = found.contents.filter((content) => content.layer === layer && content.current)
        if (current.length > 0) {
          fixes.push({layer, fix: lockFix(layer, name, current.flatMap((content) => content.packages), range, fixedIn, versions, vulnerable)})
          continue
        }
        const running = found.functions.filter((fn) => fn.layer === layer)
        if (running.length > 0) {
          const names = [...new Set(running.map((fn) => `${fn.function}${fn.qualifier === '$LATEST' ? '' : `:${fn.qualifier}`} (${fn.accountId}/${fn.region})`))]
          fixes.push({layer, fix: `The lock's ${layer} is not affected, but ${names.join(', ')} still run${names.length === 1 ? 's' : ''} an older version: run \`layers attach\` (or redeploy the stack that owns the function), and \`layers prune\` the old versions.`})
        }
      }
      findings.push({
        id: String(advisory.id),
        title: advisory.title,
        ...(advisory.url ? {url: advisory.url} : {}),
        severity: severityOf(advisory.severity),
        package: name,
        vulnerableVersions: range,
        ...(fixedIn === undefined ? {} : {fixedIn}),
        cwe: Array.isArray(advisory.cwe) ? advisory.cwe.filter((item) => typeof item === 'string') : [],
        ...(typeof advisory.cvss?.score === 'number' && advisory.cvss.score > 0 ? {cvssScore: advisory.cvss.score} : {}),
        contents: found.contents,
        functions: found.functions,
        fixes,
      })
    }
  }
  findings.sort((a, b) => SEVERITIES.indexOf(b.severity) - SEVERITIES.indexOf(a.severity) || (a.package < b.package ? -1 : a.package > b.package ? 1 : 0) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))

  const deprecated = new Map<string, DeprecatedPackage>()
  for (const [layer, lockedLayer] of Object.entries(inputs.lock.layers)) {
    if (lockedLayer.kind === 'arn') continue
    for (const [artifactKey, artifact] of Object.entries(lockedLayer.artifacts)) {
      for (const [lockPath, pkg] of Object.entries(artifact.packages ?? {})) {
        const key = `${pkg.name}@${pkg.version}`
        const message = deprecations.get(key)
        if (message === undefined) continue
        let entry = deprecated.get(key)
        if (!entry) deprecated.set(key, (entry = {name: pkg.name, version: pkg.version, message, locations: []}))
        entry.locations.push({layer, artifactKey, path: lockPath})
      }
    }
  }

  const summary = {info: 0, low: 0, moderate: 0, high: 0, critical: 0, deprecated: deprecated.size, functions: 0}
  for (const finding of findings) summary[finding.severity]++
  summary.functions = new Set(findings.flatMap((finding) => finding.functions.map((fn) => `${fn.accountId} ${fn.region} ${fn.function}`))).size
  return {
    advisories: findings,
    deprecated: [...deprecated.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : semver.compare(a.version, b.version))),
    summary,
    ...(inputs.audit ? {audit: {runId: inputs.audit.runId, finishedAt: inputs.audit.finishedAt}} : {}),
  }
}

/** The findings of `report` at or above `threshold`, as the error that fails the command (exit 1), or undefined when none. */
export function advisoryGate(report: Pick<AdvisoriesReport, 'advisories'>, threshold: AdvisorySeverity | undefined, flag: string, details: Record<string, unknown> = {}): FindingsError | undefined {
  const reached = threshold ? report.advisories.filter((finding) => atLeast(finding.severity, threshold)) : []
  if (reached.length === 0) return undefined
  return new FindingsError('ERR_LAYERS_ADVISORY_FINDINGS', `${reached.length} advisor${reached.length === 1 ? 'y' : 'ies'} at or above ${flag} ${threshold}: ${[...new Set(reached.map((finding) => finding.package))].join(', ')}.`, {hint: 'Apply each advisory\'s fix, or raise the threshold.', details})
}

/** The message of a packument's `deprecated` for a version (none: not deprecated; npm treats an empty message as not deprecated). */
export function deprecationOf(packument: Packument, version: string): string | undefined {
  const message = packument.versions[version]?.deprecated
  return typeof message === 'string' && message !== '' ? message : undefined
}
