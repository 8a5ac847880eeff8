// Owns locking one runtime layer: loads its template, and for templates that ship a binary reads the
// packument of the binary package of each architecture (through the resolver's PackumentSource, so
// the project's registry, auth and npm cache apply), picks the version (plan.ts) and records exact
// version, tarball URL (without credentials) and sha512 integrity per artifact. A previous lock entry
// that still fits is kept unchanged (publications included) unless `update` is set, so locking twice
// gives the same lock.
import semver from 'semver'
import {OperationalError, UserInputError} from '../errors/index.js'
import type {ArtifactKey, LockedArtifact, LockedBinary, LockedRuntimeLayer} from '../lock/types.js'
import type {Architecture, RuntimeLayer} from '../manifest/types.js'
import {withoutCredentials} from '../resolve/tree.js'
import type {PackageVersion, PackumentSource} from '../resolve/types.js'
import {chooseBinaryVersion, lockStillFits, runtimeArtifacts, type ExpectedRuntimeLock} from './plan.js'
import {loadRuntimeTemplate, type RuntimeTemplate} from './template.js'

export interface LockRuntimeOptions {
  /** The manifest's directory (user template paths resolve from it and are recorded relative to it). */
  root: string
  /** Registry access; `pacotePackumentSource(npmOptions)` in the product. */
  source: Pick<PackumentSource, 'packument'>
  /** Fingerprint of the manifest entry (src/lock/fingerprint.ts `layerInputs`), stored as `inputs`. */
  inputs: string
  /** Move to the newest version in the range even when the previous lock still fits. */
  update?: boolean
}

/**
 * Locks a runtime layer. Throws UserInputError for a bad template, a bad range, an architecture the
 * template has no package for, a missing package or no version in the range; OperationalError when the
 * registry cannot be reached or serves metadata without integrity.
 */
export async function lockRuntimeLayer(layer: RuntimeLayer, previous: LockedRuntimeLayer | undefined, options: LockRuntimeOptions): Promise<LockedRuntimeLayer> {
  const template = await loadRuntimeTemplate(layer.template, {root: options.root, layer: layer.name})
  const range = effectiveRange(layer, template)
  const packages = template.binary ? packagesFor(layer, template) : undefined
  if (!options.update && lockStillFits(previous, {template: template.id, range, architectures: layer.architectures, packages})) {
    return {...previous, inputs: options.inputs}
  }
  const artifacts: Record<ArtifactKey, LockedArtifact> = {}
  const binaries = packages ? await resolveBinaries(layer, template, range, packages, options.source) : undefined
  for (const {key, architectures} of runtimeArtifacts(layer.architectures, packages !== undefined)) {
    artifacts[key] = binaries ? {architectures, binary: binaries[architectures[0]!]!} : {architectures}
  }
  // Publications of a re-resolved layer are the caller's to carry over (lock-project keeps those of unchanged artifacts).
  return {kind: 'runtime', template: template.id, inputs: options.inputs, artifacts}
}

/**
 * Whether a runtime layer's lock entry still fits its template as the template is now (binary package
 * per architecture, the range when the layer leaves it to the template): the manifest fingerprint
 * cannot see an edited template.json. A template that cannot be loaded does not fit (`layers lock`
 * then reports why).
 */
export async function runtimeLockFits(layer: RuntimeLayer, locked: LockedRuntimeLayer, root: string): Promise<boolean> {
  let expected: ExpectedRuntimeLock
  try {
    const template = await loadRuntimeTemplate(layer.template, {root, layer: layer.name})
    const packages = template.binary ? packagesFor(layer, template) : undefined
    expected = {template: template.id, range: effectiveRange(layer, template), architectures: layer.architectures, ...(packages ? {packages} : {})}
  } catch (error) {
    if (error instanceof UserInputError) return false
    throw error
  }
  return lockStillFits(locked, expected)
}

/** The layer's range, else the template's suggested one; a template with a binary needs one. */
export function effectiveRange(layer: RuntimeLayer, template: RuntimeTemplate): string {
  const range = layer.version.trim() !== '' ? layer.version.trim() : template.version ?? ''
  if (!template.binary) return range
  if (range === '') {
    throw new UserInputError('ERR_LAYERS_RUNTIME_VERSION_MISSING', `Layer ${layer.name}: runtime template ${template.id} ships a binary but the layer gives no version.`, {
      hint: 'Add `version:` with a semver range (e.g. "^1.1") to the layer in the manifest.',
      details: {layer: layer.name, template: template.id},
    })
  }
  return range
}

function packagesFor(layer: RuntimeLayer, template: RuntimeTemplate): Partial<Record<Architecture, string>> {
  const packages = template.binary!.packages
  const missing = [...new Set(layer.architectures)].filter((arch) => packages[arch] === undefined)
  if (missing.length > 0) {
    throw new UserInputError('ERR_LAYERS_RUNTIME_ARCHITECTURE', `Layer ${layer.name}: runtime template ${template.id} has no binary package for ${missing.join(', ')}.`, {
      hint: `Set the layer's architectures to ${Object.keys(packages).sort().join(' and ')}, or add the package to binary.packages in the template's template.json.`,
      details: {layer: layer.name, template: template.id, architectures: missing},
    })
  }
  return Object.fromEntries([...new Set(layer.architectures)].sort().map((arch) => [arch, packages[arch]!]))
}

async function resolveBinaries(
  layer: RuntimeLayer,
  template: RuntimeTemplate,
  range: string,
  packages: Partial<Record<Architecture, string>>,
  source: Pick<PackumentSource, 'packument'>,
): Promise<Partial<Record<Architecture, LockedBinary>>> {
  if (semver.validRange(range) === null) {
    throw new UserInputError('ERR_LAYERS_RUNTIME_VERSION_INVALID', `Layer ${layer.name}: version ${JSON.stringify(range)} is not a semver range.`, {
      hint: 'Use a range such as "^1.1", "~2.1.0" or an exact version "26.10.0".',
      details: {layer: layer.name, version: range},
    })
  }
  const entries = Object.entries(packages) as Array<[Architecture, string]>
  const packuments = await Promise.all(entries.map(async ([arch, name]) => [arch, await fetchPackument(layer, template, name, source)] as const))
  const choice = chooseBinaryVersion(range, Object.fromEntries(packuments.map(([arch, packument]) => [arch, Object.keys(packument.versions)])))
  if (!choice.ok) {
    const seen = entries.map(([arch, name]) => `${name} (${arch}): ${choice.inRange[arch]?.length ? choice.inRange[arch]!.slice(0, 5).join(', ') : 'none'}`).join('; ')
    throw new UserInputError('ERR_LAYERS_NO_MATCHING_VERSION', `Layer ${layer.name}: no version in ${range} is published for every architecture of runtime template ${template.id} (versions in range: ${seen}).`, {
      hint: 'Change the layer\'s `version` range (see `npm view <package> versions`), or build fewer architectures.',
      details: {layer: layer.name, template: template.id, version: range},
    })
  }
  const binaries: Partial<Record<Architecture, LockedBinary>> = {}
  for (const [arch, packument] of packuments) {
    const manifest = packument.versions[choice.version]!
    const integrity = sha512Of(manifest)
    const resolved = withoutCredentials(manifest.dist?.tarball ?? '')
    if (!integrity || !resolved) {
      throw new OperationalError('ERR_LAYERS_REGISTRY_METADATA', `The registry's metadata for ${packages[arch]}@${choice.version} (layer ${layer.name}) has no tarball URL or sha512 integrity.`, {
        hint: 'The registry is misconfigured or not an npm registry; check `registry` in .npmrc.',
        details: {layer: layer.name, package: packages[arch], version: choice.version},
      })
    }
    binaries[arch] = {name: packages[arch]!, version: choice.version, resolved, integrity}
  }
  return binaries
}

function sha512Of(manifest: PackageVersion): string | undefined {
  return manifest.dist?.integrity?.split(/\s+/).find((hash) => hash.startsWith('sha512-'))
}

async function fetchPackument(layer: RuntimeLayer, template: RuntimeTemplate, name: string, source: Pick<PackumentSource, 'packument'>) {
  try {
    return await source.packument(name)
  } catch (error) {
    const code = (error as {code?: string}).code ?? ''
    const status = (error as {statusCode?: number}).statusCode
    const details = {layer: layer.name, template: template.id, package: name, code}
    if (code === 'E404') {
      throw new UserInputError('ERR_LAYERS_PACKAGE_NOT_FOUND', `Layer ${layer.name}: ${name}, the binary package of runtime template ${template.id}, is not in the registry.`, {
        hint: template.builtIn ? 'Check `registry` in .npmrc: it must serve the public npm packages (or a mirror of them).' : `Check binary.packages in ${template.dir}/template.json, and the registry in .npmrc.`,
        details,
      })
    }
    const auth = code === 'E401' || code === 'E403' || status === 401 || status === 403
    throw new OperationalError(auth ? 'ERR_LAYERS_REGISTRY_AUTH' : 'ERR_LAYERS_REGISTRY_UNREACHABLE', `Layer ${layer.name}: cannot fetch ${name} from the registry: ${(error as Error).message ?? String(error)}`, {
      cause: error,
      hint: auth ? 'The registry refused the request: set an auth token for its host in .npmrc (//host/:_authToken=${TOKEN}).' : 'Check the network, the proxy and the registry in .npmrc, then run `layers lock` again.',
      details,
    })
  }
}
