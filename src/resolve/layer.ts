// Owns locking one npm layer: resolves its tree once per architecture of the layer (Lambda's
// platform: linux, glibc, x64 or arm64), keeps versions of the previous lock that still satisfy
// (unless updated) or, with the team's lockfile (teamlock/), exactly the versions it pins, and merges the per-architecture trees into one artifact (`arm64+x86_64`) when
// they are identical, else one artifact per architecture. Also reports, as warnings, packages whose
// `engines.node` no release of the layer's Node.js runtimes satisfies and packages with install
// scripts (never run; they may not work on Lambda).
import type {Problem} from '../errors/index.js'
import {canonicalJson} from '../lock/serialize.js'
import {artifactKey, type ArtifactKey, type LockedArtifact, type LockedNpmLayer, type LockedPackage} from '../lock/types.js'
import type {Architecture, NpmLayer} from '../manifest/types.js'
import type {RegistryPolicy} from '../npm/config.js'
import {installScriptsNotRun} from '../npm/warnings.js'
import {readOverrides} from './overrides.js'
import {nodeMajors, unsupportedNodeMajors} from './platform.js'
import {PackumentCache, resolveTree, type ResolveTreeRequest} from './tree.js'
import {targetPlatform, type PackumentSource} from './types.js'

export interface ResolveLayerOptions {
  source: PackumentSource
  /** The layer as it is in the current lockfile, if any: its versions are kept when they still satisfy. */
  previous?: LockedNpmLayer
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
