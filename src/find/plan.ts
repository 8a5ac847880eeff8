// Owns the answer of `layers find PACKAGE[@RANGE]`, from plain data: which artifact contents hold a
// version of the package in the range (the current lock's trees and the trees of every content built
// before, so published versions answer after the lock moved on), by which path and through which
// dependents, which published layer versions carry those contents, and which functions (and aliases)
// the latest audit saw running them. npm packages match by name and semver range (prereleases
// included: a vulnerable prerelease is still vulnerable); Python projects by normalized name, and by
// range where the version is also a semver version, else only by an exact version.
import semver from 'semver'
import {UserInputError} from '../errors/index.js'
import type {LockedArtifact, LockedPackage, Lockfile} from '../lock/types.js'

export interface FindQuery {
  name: string
  /** A semver range; absent: every version. */
  range?: string
}

export interface KnownPublication {
  layer: string
  artifactKey: string
  accountId: string
  region: string
  version: number
  arn: string
  codeSha256: string
}

/** A content's tree as the state database recorded it when the content was built. */
export interface RecordedTree {
  codeSha256: string
  layer: string
  artifactKey: string
  packages?: LockedArtifact['packages']
  wheels?: LockedArtifact['wheels']
}

export interface AuditedFunction {
  accountId: string
  region: string
  name: string
  layers: string[]
  aliases?: Array<{name: string; routes: Array<{version: string; layers: string[]}>}>
}

export interface FindInputs {
  lock: Lockfile
  trees: RecordedTree[]
  /** Publications the state database knows (this clone's and the shared history's). */
  publications: KnownPublication[]
  /** The latest finished audit, when there is one. */
  audit?: {runId: number; finishedAt: string; functions: AuditedFunction[]}
  /** CodeSha256 of layer versions as accounts read them (the audit's cache): `${accountId} ${arn}` -> hash. */
  layerVersionHashes: Map<string, string>
}

export interface FoundPackage {
  name: string
  version: string
  /** Where it is installed in the artifact: `node_modules/...` for npm, `<runtime>/<wheel file>` for Python. */
  path: string
  /** The packages that require this copy (name@version), none for a package the layer itself names. */
  requiredBy: string[]
  /** The ranges those packages declare for it (for Python projects: none). */
  requiredRanges: string[]
  /** The shortest chain from a top-level package down to this copy (name@version each), itself last. */
  chain: string[]
}

export interface FoundContent {
  layer: string
  artifactKey: string
  /** The content's CodeSha256; absent for a locked tree not built here yet. */
  codeSha256?: string
  /** True when this is the tree the lock holds now. */
  current: boolean
  packages: FoundPackage[]
  published: Array<{accountId: string; region: string; version: number; arn: string}>
}

export interface FoundFunction {
  accountId: string
  region: string
  function: string
  /** `$LATEST`, or the alias whose version runs the layer. */
  qualifier: string
  /** The published function version an alias routes to. */
  functionVersion?: string
  layer: string
  arn: string
  /** name@version of each matching package in that layer version. */
  packages: string[]
}

export interface FindReport {
  query: {name: string; range?: string}
  contents: FoundContent[]
  functions: FoundFunction[]
  /** The audit the functions come from; absent when no audit was saved. */
  audit?: {runId: number; finishedAt: string}
  /** Versions of the lock's own layers that audited functions run but whose content was never built here, so they cannot be searched. */
  unknownContents: Array<{arn: string; functions: number}>
}

/** PEP 503 normal form of a Python project name. */
export function normalizePythonName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-')
}

/** A query's version test: the range compiled once, each version tested once (a package has a few versions across thousands of copies). */
type VersionTest = (version: string, python: boolean) => boolean

function versionTest(range: string | undefined): VersionTest {
  if (range === undefined) return () => true
  const compiled = new semver.Range(range, {includePrerelease: true})
  const answers = new Map<string, boolean | 'not semver'>()
  return (version, python) => {
    let answer = answers.get(version)
    if (answer === undefined) answers.set(version, (answer = semver.valid(version) ? compiled.test(version) : 'not semver'))
    // A Python version that is not semver matches only exactly.
    return answer === 'not semver' ? python && version === range : answer
  }
}

/** Where Node.js finds `name` from the package installed at `fromPath` (its own node_modules, then each ancestor's, then the top). */
export function resolveFrom(packages: Record<string, LockedPackage>, fromPath: string, name: string): string | undefined {
  let dir = fromPath
  for (;;) {
    const candidate = dir ? `${dir}/node_modules/${name}` : `node_modules/${name}`
    if (packages[candidate]) return candidate
    if (!dir) return undefined
    const at = dir.lastIndexOf('/node_modules/')
    dir = at < 0 ? '' : dir.slice(0, at)
  }
}

/**
 * The paths of the packages whose dependencies resolve to a path, computed on demand: an index of who
 * declares a dependency on each name, resolved (Node's walk up) only for the names asked about.
 */
export function dependentsOf(packages: Record<string, LockedPackage>): (to: string) => string[] {
  const declaring = new Map<string, string[]>()
  for (const [from, pkg] of Object.entries(packages)) {
    const names = new Set([...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.optionalDependencies ?? {}), ...Object.keys(pkg.peerDependencies ?? {})])
    for (const name of names) {
      let list = declaring.get(name)
      if (!list) declaring.set(name, (list = []))
      list.push(from)
    }
  }
  const memo = new Map<string, string[]>()
  return (to) => {
    let found = memo.get(to)
    if (!found) {
      const name = packages[to]!.name
      found = (declaring.get(name) ?? []).filter((from) => from !== to && resolveFrom(packages, from, name) === to).sort()
      memo.set(to, found)
    }
    return found
  }
}

/** The spec a package declares for a dependency (a regular, optional or peer one). */
function declaredRange(from: LockedPackage, name: string): string {
  return from.dependencies?.[name] ?? from.optionalDependencies?.[name] ?? from.peerDependencies?.[name] ?? '*'
}

const id = (pkg: {name: string; version: string}): string => `${pkg.name}@${pkg.version}`

/** The shortest chain of dependents from a package nothing requires down to `target` (breadth first, paths in order). */
export function chainTo(target: string, dependents: (to: string) => string[]): string[] {
  const previous = new Map<string, string | undefined>([[target, undefined]])
  const queue = [target]
  for (let at = 0; at < queue.length; at++) {
    const current = queue[at]!
    const above = dependents(current)
    if (above.length === 0) {
      const chain: string[] = []
      for (let step: string | undefined = current; step !== undefined; step = previous.get(step)) chain.push(step)
      return chain
    }
    for (const next of above) {
      if (previous.has(next)) continue
      previous.set(next, current)
      queue.push(next)
    }
  }
  // Every path up loops (a dependency cycle with no top): the package itself.
  return [target]
}

/**
 * For many queries over the same trees (`layers advisories` asks one per package with an advisory):
 * each tree's package paths by name and its dependents, computed on a tree's first query and reused.
 */
export interface TreeIndex {
  pathsOf(packages: Record<string, LockedPackage>, name: string): string[]
  dependents(packages: Record<string, LockedPackage>): (to: string) => string[]
}

export function treeIndex(): TreeIndex {
  const byName = new WeakMap<Record<string, LockedPackage>, Map<string, string[]>>()
  const dependents = new WeakMap<Record<string, LockedPackage>, (to: string) => string[]>()
  return {
    pathsOf(packages, name) {
      let paths = byName.get(packages)
      if (!paths) {
        byName.set(packages, (paths = new Map()))
        for (const lockPath in packages) {
          const list = paths.get(packages[lockPath]!.name)
          if (list) list.push(lockPath)
          else paths.set(packages[lockPath]!.name, [lockPath])
        }
      }
      return paths.get(name) ?? []
    },
    dependents(packages) {
      let found = dependents.get(packages)
      if (!found) dependents.set(packages, (found = dependentsOf(packages)))
      return found
    },
  }
}

function npmMatches(packages: Record<string, LockedPackage>, query: FindQuery, matches: VersionTest, index: TreeIndex | undefined): FoundPackage[] {
  const hits: Array<[string, LockedPackage]> = []
  const named = index ? index.pathsOf(packages, query.name) : Object.keys(packages)
  for (const lockPath of named) {
    const pkg = packages[lockPath]!
    if (pkg.name === query.name && matches(pkg.version, false)) hits.push([lockPath, pkg])
  }
  if (hits.length === 0) return []
  const dependents = index ? index.dependents(packages) : dependentsOf(packages)
  return hits
    .map(([lockPath, pkg]) => ({
      name: pkg.name,
      version: pkg.version,
      path: lockPath,
      requiredBy: [...new Set(dependents(lockPath).map((from) => id(packages[from]!)))].sort(),
      requiredRanges: [...new Set(dependents(lockPath).map((from) => declaredRange(packages[from]!, pkg.name)))].sort(),
      chain: chainTo(lockPath, dependents).map((step) => id(packages[step]!)),
    }))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
}

function pythonMatches(wheels: NonNullable<LockedArtifact['wheels']>, query: FindQuery, matches: VersionTest): FoundPackage[] {
  const wanted = normalizePythonName(query.name)
  const found: FoundPackage[] = []
  for (const runtime of Object.keys(wheels).sort()) {
    for (const wheel of Object.values(wheels[runtime]!)) {
      if (normalizePythonName(wheel.name) !== wanted || !matches(wheel.version, true)) continue
      // Wheels record no dependency edges: the chain is the project itself.
      found.push({name: wheel.name, version: wheel.version, path: `${runtime}/${wheel.filename}`, requiredBy: [], requiredRanges: [], chain: [id(wheel)]})
    }
  }
  return found
}

function matchesIn(tree: Pick<LockedArtifact, 'packages' | 'wheels'>, query: FindQuery, matches: VersionTest, index: TreeIndex | undefined): FoundPackage[] {
  return [...npmMatches(tree.packages ?? {}, query, matches, index), ...pythonMatches(tree.wheels ?? {}, query, matches)]
}

/**
 * Whether two trees build the same content, cheaply: the same package paths with the same tarball
 * integrity (the same wheel files with the same hashes). Trees with the same identity build the same bytes.
 */
function sameTree(a: Pick<LockedArtifact, 'packages' | 'wheels'>, b: Pick<LockedArtifact, 'packages' | 'wheels'>): boolean {
  const left = a.packages ?? {}
  const right = b.packages ?? {}
  const paths = Object.keys(left)
  if (paths.length !== Object.keys(right).length || !paths.every((lockPath) => right[lockPath]?.integrity === left[lockPath]!.integrity)) return false
  const wheelsOf = (tree: Pick<LockedArtifact, 'wheels'>): string[] =>
    Object.entries(tree.wheels ?? {})
      .flatMap(([runtime, wheels]) => Object.values(wheels).map((wheel) => `${runtime}/${wheel.filename} ${wheel.sha256}`))
      .sort()
  const leftWheels = wheelsOf(a)
  const rightWheels = wheelsOf(b)
  return leftWheels.length === rightWheels.length && leftWheels.every((line, index) => line === rightWheels[index])
}

/** Publications from the state database and from the lock (a clone may have the lock without the history), one per ARN. */
function allPublications(inputs: FindInputs): KnownPublication[] {
  const byArn = new Map<string, KnownPublication>()
  for (const publication of inputs.publications) byArn.set(publication.arn, publication)
  for (const [layer, locked] of Object.entries(inputs.lock.layers)) {
    if (locked.kind === 'arn') continue
    const sources = [locked.published ?? {}, ...Object.values(locked.channels ?? {})]
    for (const published of sources) {
      for (const [accountId, regions] of Object.entries(published)) {
        for (const [region, artifacts] of Object.entries(regions)) {
          for (const [artifactKey, publication] of Object.entries(artifacts)) {
            if (!byArn.has(publication.arn)) byArn.set(publication.arn, {layer, artifactKey, accountId, region, version: publication.version, arn: publication.arn, codeSha256: publication.codeSha256})
          }
        }
      }
    }
  }
  return [...byArn.values()]
}

/** The answer for one query; `index` when the same inputs answer many. */
export function findPackage(query: FindQuery, inputs: FindInputs, index?: TreeIndex): FindReport {
  const matches = versionTest(query.range)
  const publications = allPublications(inputs)
  const hashesOf = new Map<string, Set<string>>()
  for (const publication of publications) {
    const key = `${publication.layer}\u0000${publication.artifactKey}`
    let set = hashesOf.get(key)
    if (!set) hashesOf.set(key, (set = new Set()))
    set.add(publication.codeSha256)
  }

  // Contents: every recorded tree, then each current lock tree not recorded yet (not built here).
  // Only trees holding a match are compared (the comparison is what costs, for thousands of packages).
  const contents: FoundContent[] = []
  const contentBySha = new Map<string, FoundContent>()
  const treeBySha = new Map<string, RecordedTree>()
  for (const tree of inputs.trees) {
    const content: FoundContent = {layer: tree.layer, artifactKey: tree.artifactKey, codeSha256: tree.codeSha256, current: false, packages: matchesIn(tree, query, matches, index), published: []}
    contents.push(content)
    contentBySha.set(tree.codeSha256, content)
    treeBySha.set(tree.codeSha256, tree)
  }
  for (const [layer, locked] of Object.entries(inputs.lock.layers)) {
    if (locked.kind === 'arn') continue
    for (const [artifactKey, artifact] of Object.entries(locked.artifacts)) {
      const packages = matchesIn(artifact, query, matches, index)
      if (packages.length === 0) continue
      const same = contents.filter((content) => content.layer === layer && content.artifactKey === artifactKey && content.packages.length > 0 && sameTree(treeBySha.get(content.codeSha256!)!, artifact))
      if (same.length > 0) {
        for (const content of same) content.current = true
      } else {
        contents.push({layer, artifactKey, current: true, packages, published: []})
      }
    }
  }

  const publicationByArn = new Map(publications.map((publication) => [publication.arn, publication]))
  for (const publication of publications) {
    const content = contentBySha.get(publication.codeSha256)
    if (content && content.packages.length > 0) content.published.push({accountId: publication.accountId, region: publication.region, version: publication.version, arn: publication.arn})
  }

  const ownLayers = new Set(Object.entries(inputs.lock.layers).filter(([, locked]) => locked.kind !== 'arn').map(([name]) => name))
  const functions: FoundFunction[] = []
  const unknown = new Map<string, number>()
  for (const fn of inputs.audit?.functions ?? []) {
    const runs: Array<{qualifier: string; functionVersion?: string; layers: string[]}> = [{qualifier: '$LATEST', layers: fn.layers}]
    for (const alias of fn.aliases ?? []) for (const route of alias.routes) runs.push({qualifier: alias.name, functionVersion: route.version, layers: route.layers})
    for (const run of runs) {
      for (const arn of run.layers) {
        const publication = publicationByArn.get(arn)
        const sha = publication?.codeSha256 ?? inputs.layerVersionHashes.get(`${fn.accountId} ${arn}`)
        const content = sha === undefined ? undefined : contentBySha.get(sha)
        if (!content) {
          const name = /:layer:([^:]+):\d+$/.exec(arn)?.[1]
          if (name !== undefined && ownLayers.has(name)) unknown.set(arn, (unknown.get(arn) ?? 0) + 1)
          continue
        }
        if (content.packages.length === 0) continue
        functions.push({
          accountId: fn.accountId,
          region: fn.region,
          function: fn.name,
          qualifier: run.qualifier,
          ...(run.functionVersion === undefined ? {} : {functionVersion: run.functionVersion}),
          layer: content.layer,
          arn,
          packages: [...new Set(content.packages.map(id))].sort(),
        })
      }
    }
  }

  const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)
  for (const content of contents) content.published.sort((a, b) => compare(a.accountId, b.accountId) || compare(a.region, b.region) || a.version - b.version)
  functions.sort((a, b) => compare(a.accountId, b.accountId) || compare(a.region, b.region) || compare(a.function, b.function) || compare(a.qualifier, b.qualifier) || compare(a.arn, b.arn))
  return {
    query: {name: query.name, ...(query.range === undefined ? {} : {range: query.range})},
    contents: contents
      .filter((content) => content.packages.length > 0)
      .sort((a, b) => compare(a.layer, b.layer) || compare(a.artifactKey, b.artifactKey) || Number(b.current) - Number(a.current) || compare(a.codeSha256 ?? '', b.codeSha256 ?? '')),
    functions,
    ...(inputs.audit ? {audit: {runId: inputs.audit.runId, finishedAt: inputs.audit.finishedAt}} : {}),
    unknownContents: [...unknown].map(([arn, count]) => ({arn, functions: count})).sort((a, b) => compare(a.arn, b.arn)),
  }
}

/** `name`, `name@range`, `@scope/name` or `@scope/name@range`; an invalid range is an input error. */
export function parseFindQuery(text: string): FindQuery {
  const at = text.indexOf('@', text.startsWith('@') ? 1 : 0)
  const name = at < 0 ? text : text.slice(0, at)
  const range = at < 0 ? undefined : text.slice(at + 1).trim()
  const fix = 'Give a package name with an optional semver range, e.g. `layers find ms@"<2.1.3"` or `layers find @aws-sdk/client-s3@^3.600.0`.'
  if (!/^(@[^\s/@]+\/)?[^\s/@]+$/.test(name)) {
    throw new UserInputError('ERR_LAYERS_FIND_QUERY', `${JSON.stringify(text)} is not a package name${at < 0 ? '' : ' with a range'}.`, {hint: fix, details: {query: text}})
  }
  if (range !== undefined && (range === '' || semver.validRange(range) === null)) {
    throw new UserInputError('ERR_LAYERS_FIND_QUERY', `${JSON.stringify(range)} in ${JSON.stringify(text)} is not a semver range.`, {hint: fix, details: {query: text}})
  }
  return {name, ...(range === undefined ? {} : {range})}
}
