// Owns `layers lock` end to end: loads the manifest and the current lockfile, decides which layers
// to resolve (named ones, else every layer whose lock no longer matches the manifest; `--update`
// forces the named layers or packages to their newest matching versions), locks each through the
// per-kind switch in lockLayer(), and writes lockfile.json once through updateLockfile (atomic,
// under the inter-process lock, skipped when nothing changed). Layers whose lock still matches keep
// their entry byte for byte; entries of layers gone from the manifest are dropped when every layer
// is locked. The manifest's licence policy (settings.licenses, src/licenses/) is checked on every
// selected layer before anything is written. npm options (and pacote) are loaded only when a layer needs the registry. On an interrupt
// (options.signal) no further layer is resolved and nothing is written (InterruptedError says so).
// With `check` (`layers lock --check`) everything is resolved the same way but nothing is written or
// locked: the result says whether lockfile.json is up to date and what would change (diff.ts).
// After a write, the deprecation of every npm version resolved from a packument goes to the state
// database's cache (deprecations.ts), for `layers advisories`.
import path from 'node:path'
import type {AwsConnection} from '../aws/clients.js'
import {InterruptedError, OperationalError, UserInputError} from '../errors/index.js'
import type {EmitEvent} from '../events.js'
import {hasLicensePolicy, layersWithoutLicenses, licensePolicyError, licenseViolations} from '../licenses/check.js'
import {loadManifest} from '../manifest/load.js'
import {layerByName} from '../manifest/select.js'
import {isOwnLayer, type Architecture, type ArnLayer, type DirLayer, type LayerSpec, type Manifest, type NpmLayer, type PipLayer, type RuntimeLayer} from '../manifest/types.js'
import {loadNpmOptions, loadRegistryPolicy, registryOf, type NpmConfigSources, type NpmOptions, type RegistryPolicy} from '../npm/config.js'
import {projectPaths} from '../project/paths.js'
import {loadPythonIndexes, type PythonConfigSources} from '../python/config.js'
import {parseRequirement} from '../python/requirements.js'
import {normalizeName} from '../python/targets.js'
import {resolveNpmLayer} from '../resolve/layer.js'
import {pacotePackumentSource} from '../resolve/source.js'
import {PackumentCache} from '../resolve/tree.js'
import type {TeamLockGraph} from '../resolve/teamlock/graph.js'
import type {PackumentSource} from '../resolve/types.js'
import {lockRuntimeLayer, runtimeLockFits} from '../runtime/lock.js'
import type {ArnPinEnv} from './arn-pin.js'
import {layerInputs, localPackagesChanged} from './fingerprint.js'
import {checkLockfileContent} from './check.js'
import {readLockfile, updateLockfile} from './io.js'
import {renderLockInterrupted} from './render.js'
import {diffLockfiles, type LockLayerChange} from './diff.js'
import {canonicalJson, serializeLockfile} from './serialize.js'
import {artifactKey, withoutLicenses, type ArtifactKey, type LockedArtifact, type LockedLayer, type Lockfile, type Publications} from './types.js'

export interface LockProjectOptions {
  manifestPath: string
  /** `LAYER` names (and `LAYER/PACKAGE` with `update`); every layer of the manifest when empty. */
  targets?: string[]
  /** Move the targets (every layer when there are none) to the newest versions their ranges allow. */
  update?: boolean
  emit: EmitEvent
  /** Registry access (tests); default: pacote with the project's npm configuration. */
  source?: PackumentSource
  /** Fires on an interrupt: no further layer is resolved, lockfile.json is not written. */
  signal?: AbortSignal
  /** `layers lock --check`: resolve the same way, write nothing, report what would change. */
  check?: boolean
  /** Where the npm configuration is read from besides the project's .npmrc (tests); default: this process's. */
  npmConfig?: NpmConfigSources
  /** How `arn` layers' pins are read from AWS (timeouts, --profile, --endpoint-url); default: environment, else built in. */
  aws?: AwsConnection
  /** Where pip's and uv's configuration (the Python indexes) is read (tests); default: this process's. */
  pythonConfig?: PythonConfigSources
}

export interface LockedArtifactSummary {
  artifactKey: ArtifactKey
  architectures: Architecture[]
  /** Installed npm packages (0 for dir layers). */
  packages: number
}

export interface LockedLayerSummary {
  layer: string
  kind: LayerSpec['kind']
  /** `locked`: resolved now; `unchanged`: the lock already matched and was kept. */
  status: 'locked' | 'unchanged'
  artifacts: LockedArtifactSummary[]
}

export interface LockProjectResult {
  lockfile: string
  /** False when lockfile.json already held exactly this (always false with `check`). */
  written: boolean
  /** lockfile.json, as it was before this run, existed and already held exactly what was resolved (`lock --check` exits 1 when not). */
  upToDate: boolean
  /** What this run changed in lockfile.json (with `check`: what it would change), per layer. */
  changes: LockLayerChange[]
  layers: LockedLayerSummary[]
  /** Layers dropped from the lock because the manifest no longer declares them. */
  removed: string[]
}

/** What a per-kind locker gets besides the layer and its previous lock entry. */
export interface LayerLockContext {
  manifest: Manifest
  /** Fingerprint of the layer's manifest entry, stored as `inputs`. */
  inputs: string
  /** Registry access with the project's npm configuration (loaded on first call, then shared). */
  source(): Promise<PackumentSource>
  /** The project's npm configuration (undefined when the caller supplied the registry access). */
  npmOptions(): Promise<NpmOptions | undefined>
  /** True: newest versions for the whole layer; a set: for those packages only; undefined: keep the lock. */
  update?: ReadonlySet<string> | true
  emit: EmitEvent
  /** Layer version reads for `arn` layers (tests); default: AWS through the shared client factory. */
  arnPins?: ArnPinEnv
  /** How the default layer version reads reach AWS. */
  aws?: AwsConnection
  /** The registries tarballs may come from (the project's npm configuration). */
  registries?: RegistryPolicy
  /** Where pip's and uv's configuration is read (tests); default: this process's environment and files. */
  pythonConfig?: PythonConfigSources
}

/** Locks one layer; an own layer keeps what its channels hold (for the channels the manifest still declares). */
export async function lockLayer(layer: LayerSpec, previous: LockedLayer | undefined, context: LayerLockContext): Promise<LockedLayer> {
  const locked = await lockLayerKind(layer, previous, context)
  if (locked.kind === 'arn' || !isOwnLayer(layer) || !layer.channels || !previous || previous.kind === 'arn' || !previous.channels) return locked
  const channels = Object.fromEntries(Object.entries(previous.channels).filter(([channel]) => layer.channels!.includes(channel)))
  return Object.keys(channels).length > 0 ? {...locked, channels} : locked
}

/** Locks one layer. Each layer kind is one case; a kind without a case is refused clearly. */
async function lockLayerKind(layer: LayerSpec, previous: LockedLayer | undefined, context: LayerLockContext): Promise<LockedLayer> {
  switch (layer.kind) {
    case 'npm':
      return lockNpmLayer(layer, previous?.kind === 'npm' ? previous : undefined, context)
    case 'pip':
      return lockPipLayer(layer, previous?.kind === 'pip' ? previous : undefined, context)
    case 'dir':
      return lockDirLayer(layer, previous?.kind === 'dir' ? previous : undefined, context)
    case 'runtime':
      return lockRuntime(layer, previous?.kind === 'runtime' ? previous : undefined, context)
    case 'arn':
      return lockArnLayer(layer, context)
    default: {
      // Every kind has a case today; a manifest from a newer layers may still name another.
      const other = layer as LayerSpec
      throw new OperationalError('ERR_LAYERS_LOCK_KIND_UNSUPPORTED', `This layers version cannot lock ${other.kind} layers yet (layer ${other.name}).`, {
        hint: `Remove layer ${other.name} from the manifest for now, or lock the other layers by name: layers lock LAYER...`,
        details: {layer: other.name, kind: other.kind},
      })
    }
  }
}

/**
 * An npm layer's lock: resolved from its ranges (keeping the previous lock's versions that still
 * satisfy), or, when the layer's package.json has a team lockfile, exactly the versions that lockfile
 * pins (src/resolve/teamlock/), recorded with the lockfile's path and sha256 as `source`.
 */
async function lockNpmLayer(layer: NpmLayer, previous: Extract<LockedLayer, {kind: 'npm'}> | undefined, context: LayerLockContext): Promise<LockedLayer> {
  const npmOptions = await context.npmOptions()
  const legacyPeerDeps = npmOptions?.legacyPeerDeps
  let team: {graph: TeamLockGraph; sha256: string; shownAs: string; packageJson: string} | undefined
  if (layer.teamLock && layer.packageJson) {
    const shownAs = path.relative(context.manifest.root, layer.teamLock.file).split(path.sep).join('/')
    const packageJson = path.relative(context.manifest.root, layer.packageJson).split(path.sep).join('/')
    const {readTeamLockfile} = await import('../resolve/teamlock/find.js')
    const read = readTeamLockfile(layer.teamLock, layer.packageJson, {...layer.dependencies, ...layer.optionalDependencies}, shownAs, npmOptions ? (name) => registryOf(npmOptions, name) : undefined)
    if (read.sha256 !== layer.teamLock.sha256) {
      throw new OperationalError('ERR_LAYERS_TEAM_LOCKFILE_CHANGED', `${shownAs} changed while layer ${layer.name} was being locked.`, {
        hint: 'Run `layers lock` again once the package manager has finished writing it.',
        details: {layer: layer.name, lockfile: shownAs},
      })
    }
    team = {...read, shownAs, packageJson}
    if (context.update !== undefined) {
      context.emit({
        type: 'warning',
        warning: {severity: 'warning', code: 'ERR_LAYERS_TEAM_LOCK_UPDATE', message: `Layer ${layer.name} takes its versions from ${shownAs}; --update does not move them.`, hint: `Update ${shownAs} with its package manager, or set \`lockfile: ignore\` on layer ${layer.name}.`},
      })
    }
  }
  const {LocalPackages} = await import('../resolve/local.js')
  const local = {packages: new LocalPackages({manifestRoot: context.manifest.root, layer: layer.name}), from: layer.packageJson ? path.dirname(layer.packageJson) : context.manifest.root}
  const resolved = await resolveNpmLayer(layer, {
    source: await context.source(),
    local,
    ...(team ? {teamLock: {graph: team.graph, packageJson: team.packageJson}} : {previous, update: context.update}),
    ...(previous ? {licensesFrom: previous} : {}),
    legacyPeerDeps,
    registries: context.registries,
  })
  for (const warning of resolved.warnings) context.emit({type: 'warning', warning})
  const published = keptPublications(previous?.published, previous?.artifacts, resolved.artifacts)
  return {kind: 'npm', inputs: context.inputs, artifacts: resolved.artifacts, ...(team ? {source: {lockfile: team.shownAs, sha256: team.sha256}} : {}), ...(published ? {published} : {})}
}

/** A pip layer's lock: the wheels of every runtime and architecture (src/python/lock.ts, loaded only for pip layers). */
async function lockPipLayer(layer: PipLayer, previous: Extract<LockedLayer, {kind: 'pip'}> | undefined, context: LayerLockContext): Promise<LockedLayer> {
  const {lockPipArtifacts} = await import('../python/lock.js')
  const artifacts = await lockPipArtifacts(layer, {root: context.manifest.root, previous: previous?.artifacts, update: context.update, config: context.pythonConfig, emit: context.emit})
  const published = keptPublications(previous?.published, previous?.artifacts, artifacts)
  return {kind: 'pip', inputs: context.inputs, artifacts, ...(published ? {published} : {})}
}

async function lockRuntime(layer: RuntimeLayer, previous: Extract<LockedLayer, {kind: 'runtime'}> | undefined, context: LayerLockContext): Promise<LockedLayer> {
  const locked = await lockRuntimeLayer(layer, previous, {
    root: context.manifest.root,
    // Registry options load only when the template ships a binary.
    source: {packument: async (name) => (await context.source()).packument(name)},
    inputs: context.inputs,
    update: context.update !== undefined,
  })
  const published = locked.published ?? keptPublications(previous?.published, previous?.artifacts, locked.artifacts)
  return published ? {...locked, published} : locked
}

/** An arn layer's lock pins a version ARN per account and region that uses it (see arn-pin.ts). */
async function lockArnLayer(layer: ArnLayer, context: LayerLockContext): Promise<LockedLayer> {
  const {arnPinTargets, awsArnPinEnv, pinArnLayer} = await import('./arn-pin.js')
  // Bound like every other command's clients: a pin read with another account's credentials would be wrong.
  const env = context.arnPins ?? awsArnPinEnv((await import('../aws/identity.js')).boundClients((await import('../aws/clients.js')).awsClientFactory({...context.aws, emit: context.emit, ...(context.manifest.settings.maxRps !== undefined ? {manifestMaxRps: context.manifest.settings.maxRps} : {})})))
  return {kind: 'arn', inputs: context.inputs, arns: await pinArnLayer(layer, arnPinTargets(context.manifest, layer.name), env)}
}

/** A dir layer's lock records its inputs and one artifact for all its architectures (the content is read at build time). */
async function lockDirLayer(layer: DirLayer, previous: Extract<LockedLayer, {kind: 'dir'}> | undefined, context: LayerLockContext): Promise<LockedLayer> {
  const architectures = [...new Set(layer.architectures)].sort()
  const artifacts: Record<ArtifactKey, LockedArtifact> = {[artifactKey(architectures)]: {architectures}}
  const published = keptPublications(previous?.published, previous?.artifacts, artifacts)
  return {kind: 'dir', inputs: context.inputs, artifacts, ...(published ? {published} : {})}
}

/** Publications of artifacts whose lock entry did not change (same key, same content; licences aside, they do not change the zip) are kept. */
export function keptPublications(
  published: Publications | undefined,
  before: Record<ArtifactKey, LockedArtifact> | undefined,
  after: Record<ArtifactKey, LockedArtifact>,
): Publications | undefined {
  if (!published || !before) return undefined
  const content = (artifact: LockedArtifact): string => canonicalJson(withoutLicenses(artifact))
  const same = new Set(Object.keys(after).filter((key) => before[key] !== undefined && content(before[key]) === content(after[key]!)))
  const kept: Publications = {}
  for (const [account, regions] of Object.entries(published)) {
    for (const [region, byKey] of Object.entries(regions)) {
      for (const [key, publication] of Object.entries(byKey)) {
        if (same.has(key)) ((kept[account] ??= {})[region] ??= {})[key] = publication
      }
    }
  }
  return Object.keys(kept).length > 0 ? kept : undefined
}

/**
 * What was resolved now passes the checks a lockfile is read with (tarball sources, integrity, paths)
 * before anything is written; the npm resolver refuses a bad tarball URL earlier, naming who depends
 * on the package, so this catches the other kinds (a runtime template's binary).
 */
function assertLockedSafe(layers: Array<[string, LockedLayer]>, policy: RegistryPolicy, root: string, pythonConfig?: PythonConfigSources): void {
  const python = layers.some(([, layer]) => layer.kind === 'pip') ? loadPythonIndexes(root, pythonConfig) : undefined
  const problems = checkLockfileContent({lockfileVersion: 1, layers: Object.fromEntries(layers)}, policy, python)
  if (problems.length === 0) return
  throw new UserInputError('ERR_LAYERS_LOCK_REFUSED', `Nothing was written: ${problems.map((problem) => problem.message).join(' ')}`, {
    hint: 'The registry answered with a tarball or wheel layers will not lock (another host, file: or git source, no sha512 integrity or sha256). Check the registries in .npmrc and the indexes in pip.conf / uv.toml.',
    problems: problems.map((problem) => ({severity: 'error', code: 'ERR_LAYERS_LOCK_REFUSED', message: problem.message})),
  })
}

/**
 * What the packuments read for the layers locked now say of their versions' deprecation, into the
 * state database's cache (src/lock/deprecations.ts); nothing when no packument was read or the
 * registry access is not the project's npm configuration (tests' own sources have no registry URL).
 */
async function recordLockedDeprecations(stateDir: string, locked: LockedLayer[], source: Promise<PackumentCache> | undefined, npm: Promise<NpmOptions | undefined> | undefined, emit: EmitEvent): Promise<void> {
  const npmOptions = await npm
  if (!source || !npmOptions) return
  const {lockedDeprecations, recordDeprecations} = await import('./deprecations.js')
  try {
    recordDeprecations(stateDir, await lockedDeprecations(locked, await source, (name) => registryOf(npmOptions, name)), new Date())
  } catch (error) {
    // The lock is written by now and needs no cache: a state database that does not open costs only the cache.
    const cause = error as {code?: string; message?: string; hint?: string}
    emit({type: 'warning', warning: {severity: 'warning', code: 'ERR_LAYERS_STATE_DB', message: `The deprecations this lock read were not cached for \`layers advisories\`: ${cause.message ?? String(error)}`, ...(cause.hint ? {hint: cause.hint} : {})}})
  }
}

/** Reports each packument fetch as progress (TTY only), so a long resolution shows it is moving. */
function withProgress(source: PackumentSource, emit: EmitEvent): PackumentSource {
  let fetched = 0
  return {
    packument(name, options) {
      fetched++
      emit({type: 'progress', phase: 'lock', message: `${name} (${fetched} packuments)`})
      return source.packument(name, options)
    },
    bundled: (tarball) => source.bundled(tarball),
    tarballManifest(tarball) {
      emit({type: 'progress', phase: 'lock', message: `${tarball.name}@${tarball.version} (licence)`})
      return source.tarballManifest(tarball)
    },
  }
}

interface Selection {
  /** Layer names to lock now, in manifest order. */
  names: string[]
  /** Per layer: what to update. */
  update: Map<string, ReadonlySet<string> | true>
  /** True when every layer is being considered (then layers gone from the manifest are dropped). */
  all: boolean
}

/** Parses `LAYER` / `LAYER/PACKAGE` targets against the manifest and lock. Throws UserInputError (exit 2). */
export function selectLayers(manifest: Manifest, lock: Lockfile, targets: readonly string[], update: boolean): Selection {
  const declared = Object.keys(manifest.layers)
  const updates = new Map<string, Set<string> | true>()
  const named: string[] = []
  for (const target of targets) {
    const slash = target.indexOf('/')
    const name = slash === -1 ? target : target.slice(0, slash)
    const pkg = slash === -1 ? undefined : target.slice(slash + 1)
    const layer = layerByName(manifest, name)
    if (pkg !== undefined) {
      if (!update) {
        throw new UserInputError('ERR_LAYERS_USAGE', `${target} names a package: packages are named only with --update.`, {
          hint: `Run \`layers lock --update ${target}\` to move ${pkg} to the newest version its range allows, or \`layers lock ${name}\`.`,
        })
      }
      if (layer.kind !== 'npm' && layer.kind !== 'pip') {
        throw new UserInputError('ERR_LAYERS_USAGE', `${target}: layer ${name} is a ${layer.kind} layer and has no packages.`, {hint: `Run \`layers lock --update ${name}\`.`})
      }
      if (pkg === '' || !knownPackage(layer, lock, pkg)) {
        throw new UserInputError('ERR_LAYERS_UNKNOWN_PACKAGE', `Layer ${name} has no package named ${pkg || '(empty)'}.`, {
          hint: `Name a dependency of the layer or a package in its lock, e.g. ${(layer.kind === 'npm' ? Object.keys(layer.dependencies)[0] : pipProjects(layer)[0]) ?? 'lodash'}.`,
          details: {layer: name, package: pkg},
        })
      }
      const current = updates.get(name)
      if (current !== true) updates.set(name, new Set([...(current ?? []), pkg]))
    } else if (update) {
      updates.set(name, true)
    }
    if (!named.includes(name)) named.push(name)
  }
  if (update && targets.length === 0) for (const name of declared) updates.set(name, true)
  const all = targets.length === 0
  const names = declared.filter((name) => (all ? true : named.includes(name)))
  return {names, update: updates, all}
}

function knownPackage(layer: NpmLayer | PipLayer, lock: Lockfile, pkg: string): boolean {
  const locked = lock.layers[layer.name]
  if (layer.kind === 'pip') {
    const project = normalizeName(pkg)
    if (pipProjects(layer).includes(project)) return true
    return locked?.kind === 'pip' && Object.values(locked.artifacts).some((artifact) => Object.values(artifact.wheels ?? {}).some((wheels) => project in wheels))
  }
  if (pkg in layer.dependencies) return true
  if (locked?.kind !== 'npm') return false
  return Object.values(locked.artifacts).some((artifact) => Object.values(artifact.packages ?? {}).some((entry) => entry.name === pkg))
}

/** The normalized project names a pip layer requires directly. */
function pipProjects(layer: PipLayer): string[] {
  return layer.requirements.map((requirement) => parseRequirement(requirement)).flatMap((parsed) => (typeof parsed === 'string' ? [] : [parsed.name]))
}

/** npm packages of an artifact, or the distinct Python distributions over its runtimes. */
function packageCount(artifact: LockedArtifact): number {
  if (artifact.wheels) return new Set(Object.values(artifact.wheels).flatMap((wheels) => Object.keys(wheels))).size
  return Object.keys(artifact.packages ?? {}).length
}

function summary(name: string, locked: LockedLayer, status: LockedLayerSummary['status']): LockedLayerSummary {
  const artifacts =
    locked.kind === 'arn'
      ? []
      : Object.keys(locked.artifacts)
          .sort()
          .map((key) => ({artifactKey: key, architectures: locked.artifacts[key]!.architectures, packages: packageCount(locked.artifacts[key]!)}))
  return {layer: name, kind: locked.kind, status, artifacts}
}

/** Locks the project's layers into lockfile.json. */
export async function lockProject(options: LockProjectOptions): Promise<LockProjectResult> {
  const paths = projectPaths(options.manifestPath)
  const manifest = await loadManifest(paths.manifest)
  const read = await readLockfile(paths.lockfile, {npmConfig: options.npmConfig, pythonConfig: options.pythonConfig})
  const existed = read !== undefined
  const current = read ?? {lockfileVersion: 1, layers: {}}
  const policy = loadRegistryPolicy(paths.root, options.npmConfig)
  const selection = selectLayers(manifest, current, options.targets ?? [], options.update === true)
  let npm: Promise<NpmOptions | undefined> | undefined
  let source: Promise<PackumentCache> | undefined
  const npmOptions = (): Promise<NpmOptions | undefined> => (npm ??= options.source ? Promise.resolve(undefined) : loadNpmOptions(paths.root, options.npmConfig))
  const registry = (): Promise<PackumentCache> =>
    (source ??= npmOptions().then((loaded) => new PackumentCache(withProgress(loaded ? pacotePackumentSource(loaded, options.emit) : options.source!, options.emit))))
  const results = new Map<string, {locked: LockedLayer; status: LockedLayerSummary['status']}>()
  const licensePolicy = hasLicensePolicy(manifest.settings)
  const interrupted = (signal: AbortSignal): InterruptedError => {
    const by = InterruptedError.signalOf(signal)
    const resolved = selection.names.filter((name) => results.get(name)?.status === 'locked')
    const notResolved = selection.names.filter((name) => !results.has(name))
    return new InterruptedError(by, renderLockInterrupted(by, paths.lockfile, resolved, notResolved), {details: {written: false, resolved, notResolved}})
  }
  for (const [index, name] of selection.names.entries()) {
    if (options.signal?.aborted) throw interrupted(options.signal)
    const layer = manifest.layers[name]!
    const previous = current.layers[name]
    const inputs = layerInputs(layer, manifest.root)
    const update = selection.update.get(name)
    const unchanged =
      selection.all && previous?.kind === layer.kind && previous.inputs === inputs && update === undefined &&
      // A runtime layer's template.json can change under an unchanged manifest entry.
      (layer.kind !== 'runtime' || previous.kind !== 'runtime' || (await runtimeLockFits(layer, previous, manifest.root))) &&
      // A local package (file:, workspaces) can change under an unchanged manifest entry too.
      (previous.kind !== 'npm' || !(await localPackagesChanged(manifest, name, previous))) &&
      // A lock from before licences cannot be checked against a licence policy: it is locked again for them.
      !(licensePolicy && layersWithoutLicenses([[name, previous]]).length > 0)
    if (unchanged && previous) {
      results.set(name, {locked: previous, status: 'unchanged'})
      continue
    }
    options.emit({type: 'progress', phase: 'lock', message: `${name} (${layer.kind})`, current: index + 1, total: selection.names.length})
    const locked = await lockLayer(layer, previous, {
      manifest,
      registries: policy,
      inputs,
      update,
      emit: options.emit,
      source: registry,
      npmOptions,
      ...(options.aws ? {aws: options.aws} : {}),
      pythonConfig: options.pythonConfig,
    })
    results.set(name, {locked, status: 'locked'})
  }
  if (options.signal?.aborted) throw interrupted(options.signal)
  let written = false
  let removed: string[] = []
  let changes: LockLayerChange[] = []
  let upToDate = false
  const violations = licenseViolations(manifest, [...results].map(([name, {locked}]) => [name, locked]))
  if (violations.length > 0) throw licensePolicyError(manifest, violations, `nothing was written to ${paths.lockfile}`)
  assertLockedSafe([...results].filter(([, {status}]) => status === 'locked').map(([name, {locked}]) => [name, locked]), policy, paths.root, options.pythonConfig)
  const apply = (latest: Lockfile): Lockfile => {
    const layers = {...latest.layers}
    for (const [name, {locked}] of results) layers[name] = locked
    if (selection.all) {
      removed = Object.keys(layers).filter((name) => !(name in manifest.layers)).sort()
      for (const name of removed) delete layers[name]
    }
    const next: Lockfile = {...latest, layers}
    changes = diffLockfiles(latest, next)
    return next
  }
  if (options.check) {
    // Compared with the lockfile as read above; nothing is locked or written.
    const next = apply(current)
    upToDate = existed && serializeLockfile(next) === serializeLockfile(current)
  } else {
    await updateLockfile(paths.lockfile, (latest) => {
      const next = apply(latest)
      written = serializeLockfile(next) !== serializeLockfile(latest)
      upToDate = existed && !written
      return next
    }, {npmConfig: options.npmConfig})
    await recordLockedDeprecations(paths.stateDir, [...results.values()].filter(({status}) => status === 'locked').map(({locked}) => locked), source, npm, options.emit)
  }
  return {
    lockfile: paths.lockfile,
    written,
    upToDate,
    layers: selection.names.map((name) => summary(name, results.get(name)!.locked, results.get(name)!.status)),
    removed,
    changes,
  }
}
