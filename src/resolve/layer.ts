// Owns locking one npm layer: resolves its tree once per architecture of the layer (Lambda's
// platform: linux, glibc, x64 or arm64), keeps versions of the previous lock that still satisfy
// (unless updated) or, with the team's lockfile (teamlock/), exactly the versions it pins, and merges the per-architecture trees into one artifact (`arm64+x86_64`) when
// they are identical, else one artifact per architecture. Also reports, as warnings, packages whose
// `engines.node` no release of the layer's Node.js runtimes satisfies and packages with install
// scripts (never run; they may not work on Lambda). Every package gets the licence its package.json
// declares: registry packages' from their tarball (read through the npm cache, which the build then
// reuses), or the previous lock's for the same name, version and integrity.
import pLimit from 'p-limit'
import {LayersError, OperationalError, type Problem} from '../errors/index.js'
import {declaredLicense} from '../licenses/policy.js'
import {canonicalJson} from '../lock/serialize.js'
import {artifactKey, type ArtifactKey, type LockedArtifact, type LockedNpmLayer, type LockedPackage} from '../lock/types.js'
import type {Architecture, NpmLayer} from '../manifest/types.js'
import type {RegistryPolicy} from '../npm/config.js'
import {integrityMismatchOf} from '../npm/tarball.js'
import {installScriptsNotRun} from '../npm/warnings.js'
import {readOverrides} from './overrides.js'
import {nodeMajors, unsupportedNodeMajors} from './platform.js'
import {PackumentCache, resolveTree, type ResolveTreeRequest} from './tree.js'
import {targetPlatform, type PackumentSource} from './types.js'

export interface ResolveLayerOptions {
  source: PackumentSource
  /** The layer as it is in the current lockfile, if any: its versions are kept when they still satisfy. */
  previous?: LockedNpmLayer
  /** A lock of the layer whose packages' licences are reused for the same name, version and integrity (no tarball read); default `previous`. */
  licensesFrom?: LockedNpmLayer
  /** Package names to move to their newest matching version; `true` moves every package of the layer. */
  update?: ReadonlySet<string> | true
  /** npm's legacy-peer-deps (from .npmrc): peer dependencies are neither installed nor checked. */
  legacyPeerDeps?: boolean
  /** The registries tarballs may come from; a registry pointing a tarball elsewhere is refused. */
  registries?: RegistryPolicy
  /** The team's lockfile, read (teamlock/find.ts): it decides every version it pins. */
  teamLock?: ResolveTreeRequest['teamLock']
  /** Local packages (file:, workspace:, workspaces) the layer may hold (local.ts). */
  local?: ResolveTreeRequest['local']
}

export interface ResolvedLayer {
  artifacts: Record<ArtifactKey, LockedArtifact>
  warnings: Problem[]
}

/** Resolves an npm layer for each of its architectures. Throws UserInputError / OperationalError naming layer and package. */
export async function resolveNpmLayer(layer: NpmLayer, options: ResolveLayerOptions): Promise<ResolvedLayer> {
  const source = options.source instanceof PackumentCache ? options.source : new PackumentCache(options.source)
  const architectures = [...new Set(layer.architectures)].sort()
  const majors = nodeMajors(layer.runtimes)
  const trees = new Map<Architecture, Record<string, LockedPackage>>()
  const warnings: Problem[] = []
  const overrides = layer.overrides ? readOverrides(layer.overrides.rules, layer.dependencies, layer.overrides.references, {layer: layer.name, where: layer.overrides.where}) : undefined
  for (const architecture of architectures) {
    const tree = await resolveTree(
      {
        layer: layer.name,
        dependencies: layer.dependencies,
        ...(layer.optionalDependencies ? {optionalDependencies: layer.optionalDependencies} : {}),
        ...(options.teamLock ? {teamLock: options.teamLock} : {}),
        ...(options.local ? {local: options.local} : {}),
        platform: targetPlatform(architecture),
        locked: lockedVersions(options.previous, architecture),
        update: options.update,
        nodeVersion: majors.length > 0 ? `${majors[0]}.99.0` : undefined,
        legacyPeerDeps: options.legacyPeerDeps,
        registries: options.registries,
        overrides,
      },
      source,
    )
    trees.set(architecture, tree.packages)
    warnings.push(...tree.warnings)
  }
  await addLicenses(layer.name, [...trees.values()], source, options.licensesFrom ?? options.previous)
  const artifacts: Record<ArtifactKey, LockedArtifact> = {}
  const distinct = new Set([...trees.values()].map((packages) => canonicalJson(packages)))
  if (distinct.size <= 1) {
    artifacts[artifactKey(architectures)] = {architectures, packages: trees.get(architectures[0]!) ?? {}}
  } else {
    for (const [architecture, packages] of trees) artifacts[artifactKey([architecture])] = {architectures: [architecture], packages}
  }
  warnings.push(...packageWarnings(layer, artifacts, majors))
  return {artifacts, warnings: dedupe(warnings)}
}

/** How many tarballs are read at once for their package.json. */
const LICENSE_READS = 8

/**
 * Sets the licence of every registry package from its tarball's package.json (abbreviated metadata has
 * none), reusing the previous lock's for the same name, version and integrity. Bundled and local
 * packages got theirs from the package.json the resolver read.
 */
async function addLicenses(layer: string, trees: Array<Record<string, LockedPackage>>, source: PackumentCache, previous: LockedNpmLayer | undefined): Promise<void> {
  const known = new Map<string, string>()
  for (const artifact of Object.values(previous?.artifacts ?? {})) {
    for (const pkg of Object.values(artifact.packages ?? {})) if (pkg.license !== undefined) known.set(`${pkg.name}@${pkg.version}\u0000${pkg.integrity}`, pkg.license)
  }
  const missing = trees.flatMap((packages) => Object.entries(packages)).filter(([, pkg]) => pkg.license === undefined)
  const limit = pLimit(LICENSE_READS)
  await Promise.all(
    missing.map(([lockPath, pkg]) =>
      limit(async () => {
        const reused = known.get(`${pkg.name}@${pkg.version}\u0000${pkg.integrity}`)
        if (reused !== undefined) {
          pkg.license = reused
          return
        }
        try {
          pkg.license = declaredLicense(await source.tarballManifest({name: pkg.name, version: pkg.version, resolved: pkg.resolved, integrity: pkg.integrity}))
        } catch (error) {
          throw tarballError(layer, lockPath, pkg, error)
        }
      }),
    ),
  )
}

function tarballError(layer: string, lockPath: string, pkg: LockedPackage, error: unknown): Error {
  if (error instanceof LayersError) return error
  const what = `${pkg.name}@${pkg.version} (${lockPath}) of layer ${layer}`
  const details = {layer, package: pkg.name, version: pkg.version, path: lockPath}
  const mismatch = integrityMismatchOf(error)
  if (mismatch) {
    return new OperationalError('ERR_LAYERS_INTEGRITY_MISMATCH', `The tarball of ${what} from ${pkg.resolved} does not match the integrity it is being locked with: expected ${mismatch.expected}, got ${mismatch.actual}; nothing was written.`, {
      cause: error,
      details: {...details, ...mismatch},
      hint: "The registry (or a proxy) served other bytes than its metadata (or the team's lockfile) records. Do not trust them: check the registry in .npmrc and the team's lockfile, or pin another version.",
    })
  }
  return new OperationalError('ERR_LAYERS_TARBALL_FETCH', `Cannot read the package.json (for its licence) in the tarball of ${what}: ${(error as Error).message ?? String(error)}`, {
    cause: error,
    details,
    hint: 'Check the network, the proxy and the registry in .npmrc, then run `layers lock` again.',
  })
}

/** name -> versions in the previous lock's artifact(s) for this architecture. */
export function lockedVersions(previous: LockedNpmLayer | undefined, architecture: Architecture): Map<string, string[]> {
  const versions = new Map<string, string[]>()
  for (const artifact of Object.values(previous?.artifacts ?? {})) {
    if (!artifact.architectures.includes(architecture)) continue
    for (const pkg of Object.values(artifact.packages ?? {})) {
      if (pkg.inBundle) continue
      const list = versions.get(pkg.name) ?? []
      if (!list.includes(pkg.version)) list.push(pkg.version)
      versions.set(pkg.name, list)
    }
  }
  return versions
}

function packageWarnings(layer: NpmLayer, artifacts: Record<ArtifactKey, LockedArtifact>, majors: number[]): Problem[] {
  const warnings: Problem[] = []
  const scripted = new Set<string>()
  const seen = new Set<string>()
  for (const artifact of Object.values(artifacts)) {
    for (const [lockPath, pkg] of Object.entries(artifact.packages ?? {})) {
      const id = `${pkg.name}@${pkg.version}`
      if (pkg.hasInstallScript) scripted.add(id)
      const unsupported = unsupportedNodeMajors(pkg.engines?.node, majors)
      if (unsupported.length === 0 || seen.has(id)) continue
      seen.add(id)
      warnings.push({
        severity: 'warning',
        code: 'ERR_LAYERS_ENGINE_MISMATCH',
        message: `Layer ${layer.name}: ${id} (${lockPath}) requires Node.js ${pkg.engines!.node}, which no ${unsupported.map((major) => `nodejs${major}.x`).join(' or ')} release satisfies.`,
        hint: `Pin a version of ${pkg.name} (or of the package that needs it) that supports the layer's runtimes, or change the layer's runtimes.`,
      })
    }
  }
  if (scripted.size > 0) {
    warnings.push(installScriptsNotRun(layer.name, [...scripted].sort()))
  }
  return warnings
}

function dedupe(warnings: Problem[]): Problem[] {
  const seen = new Set<string>()
  return warnings.filter((warning) => {
    const key = `${warning.code}\u0000${warning.message}`
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
}
