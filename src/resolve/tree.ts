// Owns resolving one npm layer's dependencies into an installed tree for one target platform, laid
// out as npm 7+ lays out `node_modules`:
// - production dependencies only (the layer's dependencies are the root package's dependencies);
// - each package is placed as high (close to the root) as it can go without a version conflict:
//   placing it must not shadow an already resolved dependency it does not satisfy, and it stops below
//   a folder that already holds another version of it (then it is nested);
// - peer dependencies are installed as npm 7+ does: resolved from the folder that holds the package
//   (so the package can see them), placed there or higher; optional peers only checked when present;
// - optional dependencies are skipped quietly when unknown, without a matching version, unsupported
//   on the target platform (os/cpu/libc), or when something they need fails (the whole optional
//   subtree is left out and the resolution restarts without it);
// - bundled dependencies are read from their parent's tarball and kept as they are;
// - versions locked before are kept when they still satisfy (unless updated), chosen among them as
//   npm-pick-manifest chooses; otherwise the version npm would pick (npm-pick-manifest: the `latest`
//   tag when it satisfies, else the highest);
// - npm `overrides` (overrides.ts) replace the specs of the edges they match, below the packages their
//   rules are scoped to; a package is shared between edges only when the same rules apply to both;
// - every package's metadata is normalized once (normalize.ts) and a tarball is refused unless it is
//   on a configured registry with a sha512 integrity (src/lock/check.ts).
// - with the team's lockfile (`teamLock`, src/resolve/teamlock/), every package it governs (the
//   layer's dependencies, and the dependencies of packages it pinned) gets exactly the version the
//   lockfile pins for that edge, whose integrity must be the registry's: a pin that does not satisfy
//   the range, or a dependency the lockfile lacks, is a stale lockfile (refused as `npm ci` refuses);
//   an optional dependency the lockfile lacks is resolved from the registry with a warning, a peer
//   it lacks is left out as the lockfile's package manager left it (with a warning). Platform
//   packages the lockfile lists for every platform are then chosen by the layer's platform as above.
// Work is sequential and sorted (depth, then path, then name), so the same inputs give the same tree;
// packuments are prefetched concurrently as soon as a package is placed.
import pickManifest from 'npm-pick-manifest'
import semver from 'semver'
import {OperationalError, UserInputError, type Problem} from '../errors/index.js'
import {integrityProblem, tarballUrlProblem} from '../lock/check.js'
import {declaredLicense} from '../licenses/policy.js'
import type {LockedPackage} from '../lock/types.js'
import type {RegistryPolicy} from '../npm/config.js'
import {normalizePackument, normalizeVersion} from './normalize.js'
import {OverrideRule, type RootOverrides} from './overrides.js'
import type {LocalPackage, LocalPackages} from './local.js'
import {parseRegistrySpec, type RegistrySpec} from './spec.js'
import {isPlatformSpecific, platformMismatch} from './platform.js'
import {pinKey, type PinKey, type TeamLockGraph} from './teamlock/graph.js'
import type {BundledPackage, PackageVersion, Packument, PackumentSource, TarballId, TargetPlatform} from './types.js'

export interface ResolveTreeRequest {
  /** Layer name, for messages. */
  layer: string
  /** The layer's dependencies: name -> npm spec (semver range, version, dist-tag or `npm:` alias). */
  dependencies: Record<string, string>
  /** The layer's optional dependencies (a package.json's optionalDependencies). */
  optionalDependencies?: Record<string, string>
  /** The team's lockfile (and the package.json it locks, as messages name it): its pins decide the versions. */
  teamLock?: {graph: TeamLockGraph; packageJson: string}
  platform: TargetPlatform
  /** Versions of each package in the previous lock, kept when they satisfy (name -> versions). */
  locked?: ReadonlyMap<string, readonly string[]>
  /** Package names whose locked versions are ignored (moved to the newest match); `true` ignores all. */
  update?: ReadonlySet<string> | true
  /** A Node.js version standing for the layer's runtime, used like npm uses its own (prefer engine-compatible versions). */
  nodeVersion?: string
  /** npm's legacy-peer-deps: peer dependencies are neither installed nor checked. */
  legacyPeerDeps?: boolean
  /** The registries tarballs may come from (lockfile-lint's rules, src/lock/check.ts); unchecked when absent. */
  registries?: RegistryPolicy
  /** The layer's npm overrides (readOverrides), applied as npm applies them. */
  overrides?: RootOverrides
  /** Local packages (file:, workspace:, workspaces; local.ts) and the folder the layer's own specs are relative to. */
  local?: {packages: LocalPackages; from: string}
}

export interface ResolvedTree {
  /** Lock path (`node_modules/a/node_modules/b`) -> locked package. */
  packages: Record<string, LockedPackage>
  warnings: Problem[]
}

type EdgeType = 'prod' | 'optional' | 'peer' | 'peerOptional'

interface Edge {
  from: Node
  name: string
  /** The spec resolved: the dependency's own, or the override's. */
  spec: string
  /** The dependency's own spec, as its package declares it. */
  rawSpec: string
  type: EdgeType
  /** The override rules in force for this edge (and for the package it places). */
  overrides?: OverrideRule
  to?: Node
}

interface Node {
  /** Name of its folder under node_modules (an alias or the package name). */
  name: string
  path: string
  depth: number
  parent?: Node
  children: Map<string, Node>
  manifest: PackageVersion
  resolved: string
  integrity: string
  inBundle: boolean
  /** True when the team's lockfile pinned the node: its dependencies are pinned by the lockfile too. */
  pinned?: boolean
  /** The edge that placed the node (absent for root and bundled nodes). */
  placedBy?: Edge
  /** For bundled nodes: the package whose tarball holds them. */
  bundler?: Node
  edgesOut: Edge[]
  /** The override rules in force for its dependencies: those of the edge that placed it. */
  overrides?: OverrideRule
  /** For local packages (local.ts): the folder it is packed from; its own file: specs are relative to it. */
  localDir?: string
}

/** An optional subtree failed: restart without the package that the optional edge brought in. */
class OptionalFailure extends Error {
  constructor(readonly key: string) {
    super(`optional ${key} failed`)
  }
}

const MAX_RESTARTS = 100
/** How often override rules may send resolved packages back to the queue in one resolution. */
const MAX_RERESOLVED = 10_000

/** Resolves the layer's tree for one platform. Throws UserInputError / OperationalError naming layer and package. */
export async function resolveTree(request: ResolveTreeRequest, source: PackumentSource): Promise<ResolvedTree> {
  const packuments = source instanceof PackumentCache ? source : new PackumentCache(source)
  const excluded = new Set<string>()
  for (let attempt = 0; ; attempt++) {
    try {
      return await new TreeBuilder(request, packuments, excluded).build()
    } catch (error) {
      if (!(error instanceof OptionalFailure) || attempt >= MAX_RESTARTS) throw error
      excluded.add(error.key)
    }
  }
}

/**
 * Fetches each packument (abbreviated, or full for platform-specific packages) each bundle and each tarball manifest once;
 * shareable between resolutions. Packuments are handed out normalized (normalize.ts).
 */
export class PackumentCache implements PackumentSource {
  private readonly abbreviated = new Map<string, Promise<Packument>>()
  private readonly full = new Map<string, Promise<Packument>>()
  private readonly bundles = new Map<string, Promise<BundledPackage[]>>()
  private readonly tarballManifests = new Map<string, Promise<PackageVersion>>()

  constructor(private readonly source: PackumentSource) {}

  packument(name: string, options?: {full?: boolean}): Promise<Packument> {
    return this.get(name, options?.full === true)
  }

  get(name: string, full = false): Promise<Packument> {
    const cache = full ? this.full : this.abbreviated
    let found = cache.get(name)
    if (!found) {
      found = this.source.packument(name, full ? {full: true} : undefined).then(normalizePackument)
      // Prefetches nobody awaited yet must not become unhandled rejections; get() callers see the error.
      found.catch(() => {})
      cache.set(name, found)
    }
    return found
  }

  /** The packument of `name` already fetched (abbreviated, else full), without fetching; undefined when none was. */
  fetched(name: string): Promise<Packument> | undefined {
    return this.abbreviated.get(name) ?? this.full.get(name)
  }

  bundled(tarball: TarballId): Promise<BundledPackage[]> {
    let found = this.bundles.get(tarball.integrity)
    if (!found) this.bundles.set(tarball.integrity, (found = this.source.bundled(tarball)))
    return found
  }

  tarballManifest(tarball: TarballId): Promise<PackageVersion> {
    let found = this.tarballManifests.get(tarball.integrity)
    if (!found) this.tarballManifests.set(tarball.integrity, (found = this.source.tarballManifest(tarball)))
    return found
  }
}

function parseSpec(name: string, spec: string): RegistrySpec | {unsupported: string} {
  const parsed = parseRegistrySpec(name, spec)
  return 'invalid' in parsed ? {unsupported: parsed.invalid} : parsed
}

function satisfies(node: Node, parsed: RegistrySpec): boolean {
  if (packageName(node) !== parsed.realName) return false
  if (parsed.kind === 'tag') return true
  return semver.satisfies(node.manifest.version, parsed.wanted, {loose: true})
}

/**
 * Whether an installed package satisfies an edge, as npm's Edge.satisfiedBy decides under overrides:
 * the overridden spec, or else the edge's own spec for a version the override's key does not cover;
 * and a package with dependencies only when the edge's rules can be shared with the package's.
 */
function satisfiesEdge(node: Node, edge: Edge, parsed: RegistrySpec): boolean {
  if (node.overrides && edge.overrides && !node.inBundle && Object.keys({...node.manifest.dependencies, ...node.manifest.optionalDependencies}).length > 0 && !OverrideRule.shared(node.overrides, edge.overrides)) return false
  if (satisfies(node, parsed)) return true
  const rule = edge.overrides
  if (!rule?.keySpec || edge.spec === edge.rawSpec) return false
  const raw = parseSpec(edge.name, edge.rawSpec)
  if ('unsupported' in raw || !satisfies(node, raw)) return false
  return !semver.satisfies(node.manifest.version, rule.keySpec, {loose: true})
}

function packageName(node: Node): string {
  return node.manifest.name
}

function childPath(parent: Node, name: string): string {
  return parent.path === '' ? `node_modules/${name}` : `${parent.path}/node_modules/${name}`
}

function isAncestorOrSelf(ancestor: Node, node: Node): boolean {
  for (let current: Node | undefined = node; current; current = current.parent) if (current === ancestor) return true
  return false
}

/** What of the registry's hashes differs from the lockfile's `integrity` (same algorithm); undefined when they agree or cannot be compared. */
function integrityMismatch(integrity: string, manifest: PackageVersion): string | undefined {
  const algorithm = integrity.split('-')[0]
  const registry = [...(manifest.dist?.integrity?.split(/\s+/) ?? []), ...(manifest.dist?.shasum ? [`sha1-${Buffer.from(manifest.dist.shasum, 'hex').toString('base64')}`] : [])]
  const same = registry.filter((hash) => hash.split('-')[0] === algorithm)
  return same.length === 0 || same.includes(integrity) ? undefined : same[0]
}

function integrityOf(manifest: PackageVersion): string {
  if (manifest.dist?.integrity) return manifest.dist.integrity.split(/\s+/)[0]!
  if (manifest.dist?.shasum) return `sha1-${Buffer.from(manifest.dist.shasum, 'hex').toString('base64')}`
  return ''
}

/** Removes credentials a registry URL may carry (`https://user:token@host/...`). */
export function withoutCredentials(url: string): string {
  try {
    const parsed = new URL(url)
    if (!parsed.username && !parsed.password) return url
    parsed.username = ''
    parsed.password = ''
    return parsed.toString()
  } catch {
    return url
  }
}

function bundledNames(manifest: PackageVersion): string[] {
  const bundle = manifest.bundleDependencies ?? manifest.bundledDependencies
  if (bundle === true) return Object.keys(manifest.dependencies ?? {})
  return Array.isArray(bundle) ? bundle : []
}

export function hasInstallScript(manifest: PackageVersion): boolean {
  if (manifest.hasInstallScript) return true
  const scripts = manifest.scripts ?? {}
  return Boolean(scripts.preinstall || scripts.install || scripts.postinstall || (manifest.gypfile && !scripts.install && !scripts.preinstall))
}

class TreeBuilder {
  private readonly root: Node
  private readonly queue: Node[] = []
  private readonly edgesByName = new Map<string, Edge[]>()
  private readonly warnings: Problem[] = []
  private reresolved = 0

  constructor(
    private readonly request: ResolveTreeRequest,
    private readonly packuments: PackumentCache,
    /** `name@version` keys of optional packages left out after their subtree failed. */
    private readonly excluded: ReadonlySet<string>,
  ) {
    this.root = {
      name: '',
      path: '',
      depth: 0,
      children: new Map(),
      manifest: {name: `layer:${request.layer}`, version: '0.0.0', dependencies: request.dependencies, ...(request.optionalDependencies ? {optionalDependencies: request.optionalDependencies} : {})},
      resolved: '',
      integrity: '',
      inBundle: false,
      edgesOut: [],
      ...(request.overrides ? {overrides: request.overrides.rules} : {}),
    }
  }

  async build(): Promise<ResolvedTree> {
    this.prefetch(this.root)
    this.enqueue(this.root)
    while (this.queue.length > 0) {
      const node = this.queue.shift()!
      for (const edge of this.edgesOf(node)) await this.resolveEdge(edge)
    }
    return {packages: this.lockedPackages(), warnings: this.warnings}
  }

  /** Keeps the queue sorted by depth, then path (binary insertion). */
  private enqueue(node: Node): void {
    const before = (a: Node, b: Node): boolean => a.depth < b.depth || (a.depth === b.depth && a.path < b.path)
    let low = 0
    let high = this.queue.length
    while (low < high) {
      const middle = (low + high) >> 1
      if (before(this.queue[middle]!, node)) low = middle + 1
      else high = middle
    }
    this.queue.splice(low, 0, node)
  }

  /** Starts fetching the packuments `node`'s dependencies will need (none for those the team's lockfile pins with their metadata). */
  private prefetch(node: Node): void {
    const manifest = node.manifest
    const specs = {...manifest.dependencies, ...manifest.optionalDependencies, ...manifest.peerDependencies}
    const graph = this.request.teamLock?.graph
    const pinned = graph && node.pinned ? graph.packages.get(pinKey(manifest.name, manifest.version)) : undefined
    for (const [name, spec] of Object.entries(specs)) {
      const root = node === this.root ? graph?.root.get(name) : undefined
      const keys = root ? [root] : pinned?.dependencies.get(name)
      if (keys && keys.length > 0 && keys.every((key) => graph!.packages.get(key)?.manifest)) continue
      if (this.localFolder(node, name, spec)) continue
      const parsed = parseSpec(name, spec)
      if (!('unsupported' in parsed)) void this.packuments.get(parsed.realName)
    }
  }

  private edgesOf(node: Node): Edge[] {
    const manifest = node.manifest
    const edges = new Map<string, Edge>()
    const edge = (name: string, spec: string, type: EdgeType): Edge => this.overridden({from: node, name, spec, rawSpec: spec, type})
    for (const [name, spec] of Object.entries(manifest.dependencies ?? {})) edges.set(name, edge(name, spec, 'prod'))
    for (const [name, spec] of Object.entries(manifest.optionalDependencies ?? {})) edges.set(name, edge(name, spec, 'optional'))
    if (node !== this.root && !this.request.legacyPeerDeps) {
      for (const [name, spec] of Object.entries(manifest.peerDependencies ?? {})) {
        if (edges.has(name)) continue
        edges.set(name, edge(name, spec, manifest.peerDependenciesMeta?.[name]?.optional ? 'peerOptional' : 'peer'))
      }
    }
    const sorted = [...edges.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    node.edgesOut = sorted
    return sorted
  }

  /** The edge with the override rules of its package applied (npm never overrides inside a bundle). */
  private overridden(edge: Edge): Edge {
    const rules = edge.from.overrides
    if (!rules || edge.from.inBundle) return edge
    const rule = rules.edgeRule(edge.name, edge.rawSpec)
    const spec = rule.specFor(edge.name, this.request.overrides!.references)
    return {...edge, overrides: rule, ...(spec === undefined ? {} : {spec})}
  }

  /** Where resolution of the edge starts: peers from the folder holding the package, others from the package. */
  private startOf(edge: Edge): Node {
    let start = edge.type === 'peer' || edge.type === 'peerOptional' ? (edge.from.parent ?? this.root) : edge.from
    // Nothing is placed inside a bundle: its content is the tarball's.
    while (start.inBundle && start.parent) start = start.parent
    return start
  }

  private lookup(from: Node, name: string): Node | undefined {
    for (let node: Node | undefined = from; node; node = node.parent) {
      const found = node.children.get(name)
      if (found) return found
    }
    return undefined
  }

  /**
   * A package reached by one more edge takes the rules npm would give it (OverrideRule.shared); when
   * they change after its dependencies were resolved, they are resolved again under the new rules.
   */
  private shareOverrides(node: Node, edge: Edge): void {
    if (!node.overrides || !edge.overrides || node.inBundle) return
    const shared = OverrideRule.shared(node.overrides, edge.overrides)
    if (!shared || shared === node.overrides) return
    node.overrides = shared
    if (this.queue.includes(node)) return
    if (++this.reresolved > MAX_RERESOLVED) {
      throw new OperationalError('ERR_LAYERS_OVERRIDES_UNSETTLED', `Layer ${this.request.layer}: the overrides keep moving ${packageName(node)}@${node.manifest.version} (${node.path}) between rule sets.`, {
        hint: 'Simplify the overrides (fewer nested rules for the same package), then run `layers lock` again.',
        details: {layer: this.request.layer, package: packageName(node)},
      })
    }
    const stale = new Set(node.edgesOut)
    for (const [name, list] of this.edgesByName) this.edgesByName.set(name, list.filter((other) => !stale.has(other)))
    this.enqueue(node)
  }

  private record(edge: Edge, to: Node): void {
    edge.to = to
    let list = this.edgesByName.get(edge.name)
    if (!list) this.edgesByName.set(edge.name, (list = []))
    list.push(edge)
  }

  private describe(edge: Edge): string {
    const from = edge.from === this.root ? `layer ${this.request.layer}` : `${packageName(edge.from)}@${edge.from.manifest.version} (${edge.from.path})`
    const overridden = edge.spec === edge.rawSpec ? '' : `, overridden from ${edge.rawSpec} by the override ${edge.overrides!.describe()}`
    return `${edge.name}@${edge.spec} (${edge.type === 'prod' ? 'dependency' : edge.type === 'optional' ? 'optional dependency' : 'peer dependency'} of ${from}${overridden})`
  }

  private async resolveEdge(edge: Edge): Promise<void> {
    const optional = edge.type === 'optional' || edge.type === 'peerOptional'
    const start = this.startOf(edge)
    const existing = this.lookup(this.lookupStart(edge), edge.name)
    const folder = this.localFolder(edge.from, edge.name, edge.spec)
    if (folder) return this.resolveLocal(edge, start, existing, folder)
    const parsed = parseSpec(edge.name, edge.spec)
    if ('unsupported' in parsed) {
      if (optional) return
      throw this.inputError(edge, 'ERR_LAYERS_UNSUPPORTED_SPEC', `${this.describe(edge)} cannot be locked: ${parsed.unsupported}.`, 'Use a semver range, a version, a dist-tag or an npm: alias.')
    }
    let pins = this.pinsOf(edge)
    const pinnedHere = (node: Node): boolean => node.inBundle || !pins || pins.length === 0 || pins.includes(pinKey(node.manifest.name, node.manifest.version))
    if (existing && satisfiesEdge(existing, edge, parsed) && pinnedHere(existing)) {
      this.shareOverrides(existing, edge)
      return this.record(edge, existing)
    }
    if (edge.type === 'peerOptional') {
      if (existing) this.warn('ERR_LAYERS_PEER_CONFLICT', `${this.describe(edge)} is not satisfied by ${packageName(existing)}@${existing.manifest.version} installed at ${existing.path}.`)
      return
    }
    if (pins?.length === 0) {
      const file = this.request.teamLock!.graph.file
      if (edge.type === 'peer') return this.warn('ERR_LAYERS_TEAM_LOCK_PEER_MISSING', `${this.describe(edge)} is not in ${file}; it is left out, as the package manager that wrote the lockfile left it out.`)
      if (edge.type !== 'optional' || edge.from === this.root) throw this.staleError(edge, `${file} has no entry for ${this.describe(edge)}`)
      this.warn('ERR_LAYERS_TEAM_LOCK_OPTIONAL_MISSING', `${this.describe(edge)} is not in ${file}; it is resolved from the registry instead.`)
      pins = undefined
    }
    const picked = await this.pick(edge, parsed, optional, pins)
    if (!picked) return
    const {manifest, pinned} = picked
    const target = this.placement(start, edge.name, manifest)
    if (!target) {
      const holder = start.children.get(edge.name)!
      if (edge.type === 'peer' && holder.placedBy?.from === this.root && !optional) {
        // npm 7+ stops here (ERESOLVE): a direct dependency of the layer conflicts with a peer requirement.
        throw this.inputError(
          edge,
          'ERR_LAYERS_PEER_CONFLICT',
          `${packageName(edge.from)}@${edge.from.manifest.version} needs peer ${edge.name}@${edge.spec}, but the layer depends on ${packageName(holder)}@${holder.manifest.version} (${holder.path}).`,
          `Change the layer's range for ${edge.name} to one that satisfies ${edge.spec}, pick another version of ${packageName(edge.from)}, or set legacy-peer-deps=true in .npmrc to skip peer dependencies as npm does.`,
        )
      }
      const message = `${this.describe(edge)} conflicts with ${packageName(holder)}@${holder.manifest.version} installed at ${holder.path}; the ${edge.type === 'peer' ? 'peer ' : ''}dependency is left unsatisfied.`
      if (optional) return
      return this.warn(edge.type === 'peer' ? 'ERR_LAYERS_PEER_CONFLICT' : 'ERR_LAYERS_DEPENDENCY_CONFLICT', message)
    }
    await this.place(target, edge, manifest, pinned)
  }

  /**
   * The folder of a local package the dependency names, when the package declaring it is the layer or
   * a local package (a registry package's file: dependency stays unsupported). Throws when it points
   * outside the repository.
   */
  private localFolder(from: Node, name: string, spec: string): string | undefined {
    const local = this.request.local
    if (!local || from.inBundle) return undefined
    const base = from === this.root ? local.from : from.localDir
    return base === undefined ? undefined : local.packages.folderOf(name, spec, base)
  }

  /** Places a local package (packed and hashed once per folder) as a registry package would be placed. */
  private async resolveLocal(edge: Edge, start: Node, existing: Node | undefined, folder: string): Promise<void> {
    if (existing?.localDir === folder) return this.record(edge, existing)
    const local = await this.request.local!.packages.load(folder)
    const manifest = normalizeVersion(local.manifest)
    const target = this.placement(start, edge.name, manifest)
    if (!target) {
      const holder = start.children.get(edge.name)!
      throw this.inputError(edge, 'ERR_LAYERS_DEPENDENCY_CONFLICT', `${this.describe(edge)} (${local.resolved}) conflicts with ${packageName(holder)}@${holder.manifest.version} installed at ${holder.path}.`, `Depend on one copy of ${edge.name} in the layer.`)
    }
    await this.place(target, edge, manifest, false, local)
  }

  /** The keys the team's lockfile resolves the edge to; undefined when no team lockfile governs it. */
  private pinsOf(edge: Edge): PinKey[] | undefined {
    const graph = this.request.teamLock?.graph
    if (!graph) return undefined
    if (edge.from === this.root) {
      const key = graph.root.get(edge.name)
      return key ? [key] : []
    }
    if (!edge.from.pinned) return undefined
    return graph.packages.get(pinKey(edge.from.manifest.name, edge.from.manifest.version))?.dependencies.get(edge.name) ?? []
  }

  /** The version the team's lockfile pins for the edge (with its integrity checked against the registry's). */
  private async pinnedChoice(edge: Edge, parsed: RegistrySpec, optional: boolean, pins: PinKey[]): Promise<PackageVersion | undefined> {
    const {graph} = this.request.teamLock!
    const local = pins.find((key) => key.startsWith('link:'))
    if (local) {
      throw new UserInputError('ERR_LAYERS_UNSUPPORTED_SPEC', `Layer ${this.request.layer}: ${this.describe(edge)} is a workspace or local package in ${graph.file} (${local.slice(5)}); layers locks registry packages only.`, {
        hint: `Publish ${edge.name} to a registry and depend on its version, or put it in a dir layer.`,
        details: {layer: this.request.layer, package: edge.name, lockfile: graph.file},
      })
    }
    const refs = pins.flatMap((key) => graph.packages.get(key) ?? [])
    const fitting = refs.filter((pkg) => pkg.name === parsed.realName && (parsed.kind === 'tag' || semver.satisfies(pkg.version, parsed.wanted, {loose: true})))
    if (fitting.length === 0) {
      const pinnedAs = refs.map((pkg) => `${pkg.name}@${pkg.version}`).join(', ') || pins.join(', ')
      throw this.staleError(edge, `${graph.file} pins ${pinnedAs} for ${this.describe(edge)}, which does not satisfy ${edge.spec}`)
    }
    const best = fitting.sort((a, b) => semver.rcompare(a.version, b.version, true))[0]!
    // npm lockfiles carry each package's metadata, as npm ci reads it: no packument is fetched, and the
    // build verifies the tarball against the lockfile's integrity.
    if (best.manifest) return normalizeVersion(best.manifest)
    const packument = await this.packumentOf(edge, parsed, optional)
    if (!packument) return undefined
    const manifest = packument.versions[best.version]
    if (!manifest) {
      throw new UserInputError('ERR_LAYERS_TEAM_LOCK_NOT_IN_REGISTRY', `Layer ${this.request.layer}: ${graph.file} pins ${best.name}@${best.version} (${this.describe(edge)}), which the registry does not have.`, {
        hint: 'Check the registry in .npmrc (the lockfile may come from another registry), or update the lockfile with its package manager.',
        details: {layer: this.request.layer, package: best.name, version: best.version, lockfile: graph.file},
      })
    }
    const mismatch = best.integrity ? integrityMismatch(best.integrity, manifest) : undefined
    if (mismatch) {
      throw new UserInputError('ERR_LAYERS_TEAM_LOCK_INTEGRITY', `Layer ${this.request.layer}: ${graph.file} records integrity ${best.integrity} for ${best.name}@${best.version}, but the registry's tarball has ${mismatch}.`, {
        hint: 'The tarball is not the one the team locked: check the registry in .npmrc; if the lockfile was edited, restore it from version control. Never copy an integrity without checking where it came from.',
        details: {layer: this.request.layer, package: best.name, version: best.version, lockfile: graph.file},
      })
    }
    return manifest
  }

  /** The team's lockfile is out of date with the package.json: refused, as `npm ci` refuses. */
  private staleError(edge: Edge, problem: string): UserInputError {
    const {graph, packageJson} = this.request.teamLock!
    const tool = graph.kind === 'npm' ? 'npm install' : graph.kind === 'pnpm' ? 'pnpm install' : 'yarn install'
    return new UserInputError('ERR_LAYERS_TEAM_LOCK_STALE', `Layer ${this.request.layer}: ${graph.file} is out of date with ${packageJson}: ${problem}.`, {
      hint: `Run \`${tool}\` to update ${graph.file} and commit it, or set \`lockfile: ignore\` on layer ${this.request.layer} to resolve its ranges afresh.`,
      details: {layer: this.request.layer, package: edge.name, spec: edge.spec, lockfile: graph.file, requiredBy: edge.from === this.root ? undefined : edge.from.path},
    })
  }

  /** Picks the version to install, or undefined for an optional edge that cannot be installed. */
  private async pick(edge: Edge, parsed: RegistrySpec, optional: boolean, pins: PinKey[] | undefined): Promise<{manifest: PackageVersion; pinned: boolean} | undefined> {
    if (pins) {
      const manifest = await this.pinnedChoice(edge, parsed, optional, pins)
      return manifest ? this.checked(edge, parsed, optional, manifest, true) : undefined
    }
    const packument = await this.packumentOf(edge, parsed, optional)
    if (!packument) return undefined
    let manifest = this.lockedChoice(packument, parsed)
    if (!manifest) {
      try {
        const picked = pickManifest(packument, parsed.wanted, {defaultTag: 'latest', nodeVersion: this.request.nodeVersion})
        manifest = packument.versions[picked.version] ?? picked
      } catch (error) {
        if (optional) return undefined
        const code = (error as {code?: string}).code
        if (code === 'ETARGET' || code === 'ENOVERSIONS') {
          const newest = packument['dist-tags'].latest
          throw this.inputError(
            edge,
            'ERR_LAYERS_NO_MATCHING_VERSION',
            `No version of ${parsed.realName} satisfies ${parsed.wanted} (${this.describe(edge)})${newest ? `; the latest is ${newest}` : ''}.`,
            edge.from === this.root ? `Change the range of ${edge.name} in the manifest (or its package.json), then run \`layers lock\`.` : `Pin another version of ${packageName(edge.from)} in the layer, then run \`layers lock\`.`,
          )
        }
        throw this.fetchError(edge, parsed.realName, error)
      }
    }
    return this.checked(edge, parsed, optional, manifest, false)
  }

  /** The picked version, unless it is left out (an excluded optional) or does not install on the layer's platform. */
  private async checked(edge: Edge, parsed: RegistrySpec, optional: boolean, picked: PackageVersion, pinned: boolean): Promise<{manifest: PackageVersion; pinned: boolean} | undefined> {
    let manifest = picked
    if (optional && this.excluded.has(`${manifest.name}@${manifest.version}`)) return undefined
    if (isPlatformSpecific(manifest) && manifest.libc === undefined && platformMismatch(manifest, this.request.platform).length === 0) {
      // Abbreviated metadata never carries libc: ask for the full document of platform packages only
      // (and only of those whose os and cpu fit: libc cannot make the others fit).
      try {
        const full = await this.packuments.get(parsed.realName, true)
        manifest = {...manifest, libc: full.versions[manifest.version]?.libc}
      } catch (error) {
        if (!optional) throw this.fetchError(edge, parsed.realName, error)
      }
    }
    const mismatch = platformMismatch(manifest, this.request.platform)
    if (mismatch.length > 0) {
      if (optional) return undefined
      const {os, cpu, libc} = this.request.platform
      throw this.inputError(
        edge,
        'ERR_LAYERS_UNSUPPORTED_PLATFORM',
        `${manifest.name}@${manifest.version} (${this.describe(edge)}) does not install on the layer's platform ${os}/${cpu}/${libc}: it requires ${mismatch.join(', ')}.`,
        'Remove the package from the layer, or restrict the layer to architectures the package supports.',
      )
    }
    return {manifest, pinned}
  }

  /**
   * The version the previous lock holds for this spec: npm-pick-manifest's choice among the locked
   * versions only (same tag and engine preferences), so over an unchanged registry keeping the lock
   * picks what a fresh resolution picks, and the lock does not change.
   */
  private lockedChoice(packument: Packument, parsed: RegistrySpec): PackageVersion | undefined {
    const update = this.request.update
    if (update === true || update?.has(parsed.realName) || parsed.kind === 'tag') return undefined
    const versions = (this.request.locked?.get(parsed.realName) ?? []).filter((version) => packument.versions[version] && semver.satisfies(version, parsed.wanted, {loose: true}))
    if (versions.length === 0) return undefined
    const restricted: Packument = {name: packument.name, 'dist-tags': packument['dist-tags'], versions: Object.fromEntries(versions.map((version) => [version, packument.versions[version]!]))}
    try {
      return packument.versions[pickManifest(restricted, parsed.wanted, {defaultTag: 'latest', nodeVersion: this.request.nodeVersion}).version]
    } catch {
      return undefined
    }
  }

  /**
   * The highest folder from `start` up where `name@version` can go: stops below a folder holding
   * another package under that name, and where it would shadow a resolved dependency it does not
   * satisfy. Undefined when even `start` holds a conflicting package.
   */
  private placement(start: Node, name: string, manifest: PackageVersion): Node | undefined {
    let target: Node | undefined
    for (let candidate: Node | undefined = start; candidate; candidate = candidate.parent) {
      if (candidate.children.has(name)) break
      if (this.wouldShadowBadly(candidate, name, manifest)) break
      target = candidate
    }
    return target
  }

  private wouldShadowBadly(candidate: Node, name: string, manifest: PackageVersion): boolean {
    for (const edge of this.edgesByName.get(name) ?? []) {
      const to = edge.to
      if (!to?.parent) continue
      // Only edges that now resolve past `candidate` (to a folder above it) from inside its subtree change.
      if (isAncestorOrSelf(to.parent, candidate) && to.parent !== candidate && isAncestorOrSelf(candidate, this.lookupStart(edge))) {
        if (!this.shadowedBetween(this.lookupStart(edge), candidate, name)) {
          const parsed = parseSpec(edge.name, edge.spec)
          if ('unsupported' in parsed || parsed.realName !== manifest.name || (parsed.kind === 'range' && !semver.satisfies(manifest.version, parsed.wanted, {loose: true}))) return true
        }
      }
    }
    return false
  }

  private lookupStart(edge: Edge): Node {
    return edge.type === 'peer' || edge.type === 'peerOptional' ? (edge.from.parent ?? this.root) : edge.from
  }

  /** True when a folder from `from` up to (excluding) `until` holds `name`, so `until` does not matter to it. */
  private shadowedBetween(from: Node, until: Node, name: string): boolean {
    for (let node: Node | undefined = from; node && node !== until; node = node.parent) if (node.children.has(name)) return true
    return false
  }

  private async place(target: Node, edge: Edge, manifest: PackageVersion, pinned: boolean, local?: LocalPackage): Promise<Node> {
    const node: Node = {
      name: edge.name,
      path: childPath(target, edge.name),
      depth: target.depth + 1,
      parent: target,
      children: new Map(),
      manifest,
      resolved: local ? local.resolved : withoutCredentials(manifest.dist?.tarball ?? ''),
      integrity: local ? local.integrity : integrityOf(manifest),
      inBundle: false,
      ...(pinned ? {pinned: true} : {}),
      ...(local ? {localDir: local.dir} : {}),
      placedBy: edge,
      edgesOut: [],
      ...(edge.overrides ? {overrides: edge.overrides} : {}),
    }
    const refused = !local && node.resolved && node.integrity && this.request.registries ? (tarballUrlProblem(node.resolved, this.request.registries) ?? integrityProblem(node.integrity)) : undefined
    if (refused) {
      // Refused even below an optional dependency: a registry answer like this is never skipped quietly.
      const from = pinned && this.request.teamLock?.graph.packages.get(pinKey(manifest.name, manifest.version))?.manifest ? this.request.teamLock.graph.file : "the registry's metadata"
      throw new UserInputError('ERR_LAYERS_REGISTRY_TARBALL_REFUSED', `Layer ${this.request.layer}: ${from} for ${manifest.name}@${manifest.version} (${this.describe(edge)}) ${refused}.`, {
        hint: 'A registry may only point at tarballs on a configured registry host (https, or the http of a registry you configured), with a sha512 integrity. Check the registries in .npmrc.',
        details: {layer: this.request.layer, package: manifest.name, version: manifest.version, requiredBy: edge.from === this.root ? undefined : edge.from.path},
      })
    }
    if (!node.resolved || !node.integrity) {
      throw new OperationalError('ERR_LAYERS_REGISTRY_METADATA', `The registry's metadata for ${manifest.name}@${manifest.version} (layer ${this.request.layer}) has no tarball URL or integrity.`, {
        hint: 'The registry is misconfigured or not an npm registry; check `registry` in .npmrc.',
        details: {layer: this.request.layer, package: manifest.name, version: manifest.version},
      })
    }
    // Dependencies that resolved past this folder to the same name now resolve here (they were checked to be satisfied).
    for (const other of this.edgesByName.get(edge.name) ?? []) {
      if (other.to?.parent && other.to.parent !== target && isAncestorOrSelf(other.to.parent, target) && isAncestorOrSelf(target, this.lookupStart(other)) && !this.shadowedBetween(this.lookupStart(other), target, edge.name)) {
        other.to = node
      }
    }
    target.children.set(edge.name, node)
    this.record(edge, node)
    this.enqueue(node)
    this.prefetch(node)
    // A local package's bundleDependencies are resolved as its other dependencies are (local.ts).
    if (!local && bundledNames(manifest).length > 0) await this.addBundle(node)
    return node
  }

  private async addBundle(bundler: Node): Promise<void> {
    let bundled: BundledPackage[]
    try {
      bundled = await this.packuments.bundled({name: bundler.manifest.name, version: bundler.manifest.version, resolved: bundler.resolved, integrity: bundler.integrity})
    } catch (error) {
      throw this.fetchError(bundler.placedBy!, bundler.manifest.name, error)
    }
    // Parents before children: sort by path depth.
    const sorted = [...bundled].sort((a, b) => a.path.split('/').length - b.path.split('/').length || (a.path < b.path ? -1 : 1))
    for (const item of sorted) {
      const segments = item.path.split('/')
      let parent = bundler
      let index = 0
      let ok = true
      // Walk `node_modules/x[/node_modules/@s/y...]` down from the bundler; the last folder is the package.
      const folders: string[] = []
      while (index < segments.length) {
        if (segments[index] !== 'node_modules') {
          ok = false
          break
        }
        const scoped = segments[index + 1]?.startsWith('@')
        const folder = scoped ? `${segments[index + 1]}/${segments[index + 2]}` : segments[index + 1]
        if (!folder || folder.includes('..')) {
          ok = false
          break
        }
        folders.push(folder)
        index += scoped ? 3 : 2
      }
      if (!ok || folders.length === 0) continue
      for (const folder of folders.slice(0, -1)) {
        const next = parent.children.get(folder)
        if (!next) {
          ok = false
          break
        }
        parent = next
      }
      const name = folders.at(-1)!
      if (!ok || parent.children.has(name) || typeof item.manifest.version !== 'string') continue
      const node: Node = {
        name,
        path: childPath(parent, name),
        depth: parent.depth + 1,
        parent,
        children: new Map(),
        manifest: normalizeVersion({...item.manifest, name: item.manifest.name ?? name}),
        resolved: bundler.resolved,
        integrity: bundler.integrity,
        inBundle: true,
        bundler,
        edgesOut: [],
      }
      parent.children.set(name, node)
      this.enqueue(node)
      this.prefetch(node)
    }
  }

  private warn(code: `ERR_LAYERS_${string}`, message: string): void {
    this.warnings.push({severity: 'warning', code, message: `Layer ${this.request.layer}: ${message}`})
  }

  /** The optional edge (if any) that brought the failing edge's package into the tree. */
  private optionalAncestor(edge: Edge): Edge | undefined {
    for (let current: Edge | undefined = edge; current; ) {
      if (current.type === 'optional' || current.type === 'peerOptional') return current
      let from: Node | undefined = current.from
      while (from?.inBundle) from = from.bundler
      current = from?.placedBy
    }
    return undefined
  }

  /** The edge's packument, or undefined for an optional edge whose package the registry does not have. */
  private async packumentOf(edge: Edge, parsed: RegistrySpec, optional: boolean): Promise<Packument | undefined> {
    try {
      return await this.packuments.get(parsed.realName)
    } catch (error) {
      if (optional && (error as {code?: string}).code === 'E404') return undefined
      throw this.fetchError(edge, parsed.realName, error)
    }
  }

  /** When the failing edge hangs below an optional dependency (not yet left out), that dependency is left out instead. */
  private optionalFailure(edge: Edge): OptionalFailure | undefined {
    const optional = this.optionalAncestor(edge)
    if (!optional?.to) return undefined
    const key = `${optional.to.manifest.name}@${optional.to.manifest.version}`
    return this.excluded.has(key) ? undefined : new OptionalFailure(key)
  }

  private inputError(edge: Edge, code: `ERR_LAYERS_${string}`, message: string, hint: string): Error {
    const optional = this.optionalFailure(edge)
    if (optional) return optional
    return new UserInputError(code, `Layer ${this.request.layer}: ${message}`, {
      hint,
      details: {layer: this.request.layer, package: edge.name, spec: edge.spec, requiredBy: edge.from === this.root ? undefined : edge.from.path},
    })
  }

  private fetchError(edge: Edge, name: string, error: unknown): Error {
    if (error instanceof UserInputError || error instanceof OperationalError || error instanceof OptionalFailure) return error
    const code = (error as {code?: string}).code ?? ''
    const status = (error as {statusCode?: number}).statusCode
    if (code === 'E404') {
      return this.inputError(edge, 'ERR_LAYERS_PACKAGE_NOT_FOUND', `${name} is not in the registry (${this.describe(edge)}).`, `Check the spelling of ${name}, and for a private or scoped package the registry and auth token in .npmrc.`)
    }
    const message = (error as Error).message ?? String(error)
    const auth = code === 'E401' || code === 'E403' || status === 401 || status === 403
    return new OperationalError(
      auth ? 'ERR_LAYERS_REGISTRY_AUTH' : 'ERR_LAYERS_REGISTRY_UNREACHABLE',
      `Layer ${this.request.layer}: cannot fetch ${name} from the registry (${this.describe(edge)}): ${message}`,
      {
        cause: error,
        hint: auth
          ? `The registry refused the request: set an auth token for its host in .npmrc (//host/:_authToken=\${TOKEN}).`
          : 'Check the network, the proxy and the registry in .npmrc, then run `layers lock` again (npm retries are set with fetch-retries in .npmrc).',
        details: {layer: this.request.layer, package: name, code},
      },
    )
  }

  private lockedPackages(): Record<string, LockedPackage> {
    // Keep what is reachable from the layer (bundles whole); mark what only optional edges reach.
    const reach = (follow: (edge: Edge) => boolean): Set<Node> => {
      const seen = new Set<Node>([this.root])
      const stack = [this.root]
      while (stack.length > 0) {
        const node = stack.pop()!
        const next = [...node.edgesOut.filter((edge) => edge.to && follow(edge)).map((edge) => edge.to!), ...[...node.children.values()].filter((child) => child.inBundle)]
        for (const other of next) {
          if (seen.has(other)) continue
          seen.add(other)
          stack.push(other)
        }
      }
      return seen
    }
    const reachable = reach(() => true)
    const required = reach((edge) => edge.type === 'prod' || edge.type === 'peer')
    const packages: Record<string, LockedPackage> = {}
    const deprecated: string[] = []
    const visit = (node: Node): void => {
      for (const child of node.children.values()) {
        if (!reachable.has(child)) continue
        packages[child.path] = this.locked(child, !required.has(child))
        const message = child.manifest.deprecated
        if (typeof message === 'string' && message !== '') deprecated.push(`${child.manifest.name}@${child.manifest.version} (${child.path}): ${JSON.stringify(message)}`)
        visit(child)
      }
    }
    visit(this.root)
    // The registry's deprecation is reported, never locked: it can change while the versions stay.
    if (deprecated.length > 0) {
      this.warnings.push({
        severity: 'warning',
        code: 'ERR_LAYERS_DEPRECATED',
        message: `Layer ${this.request.layer}: ${deprecated.length === 1 ? 'a deprecated version is' : `${deprecated.length} deprecated versions are`} locked: ${deprecated.sort().join('; ')}.`,
        hint: 'Update or replace them (`layers outdated` lists newer versions; `layers advisories` lists every deprecated version in the lock).',
      })
    }
    return packages
  }

  private locked(node: Node, optional: boolean): LockedPackage {
    const manifest = node.manifest
    const pkg: LockedPackage = {name: manifest.name, version: manifest.version, resolved: node.resolved, integrity: node.integrity}
    if (optional) pkg.optional = true
    if (node.inBundle) pkg.inBundle = true
    if (hasInstallScript(manifest)) pkg.hasInstallScript = true
    // Bundled and local packages have their package.json at hand; registry ones get theirs from the tarball (layer.ts).
    if (node.inBundle || node.localDir !== undefined) pkg.license = declaredLicense(manifest)
    if (manifest.bin && typeof manifest.bin === 'object') pkg.bin = {...manifest.bin}
    const copy = (value: Record<string, string> | undefined): Record<string, string> | undefined => (value && Object.keys(value).length > 0 ? {...value} : undefined)
    const dependencies = copy(manifest.dependencies)
    if (dependencies) pkg.dependencies = dependencies
    const peers = copy(manifest.peerDependencies)
    if (peers) pkg.peerDependencies = peers
    const optionalDependencies = copy(manifest.optionalDependencies)
    if (optionalDependencies) pkg.optionalDependencies = optionalDependencies
    const engines = copy(manifest.engines)
    if (engines) pkg.engines = engines
    for (const field of ['os', 'cpu', 'libc'] as const) {
      const value = manifest[field]
      if (value !== undefined) pkg[field] = [value].flat()
    }
    return pkg
  }
}
