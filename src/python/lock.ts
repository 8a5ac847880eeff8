// Owns locking a pip layer: for every runtime and architecture of the layer, the resolver's pins
// (resolve.ts) and the exact wheel of each (file name, URL, sha256, index) from the configured indexes.
// One artifact per architecture, or one `arm64+x86_64` artifact when both architectures get the very
// same wheels (pure-Python sets). Each distribution carries its licence (license.ts), read once per
// file, or kept from the previous lock for the same file name and sha256. The result depends only on
// the requirements, the targets, the indexes' answers and the previous lock (its versions are
// preferred), so locking again is a no-op.
import pLimit from 'p-limit'
import type {EmitEvent} from '../events.js'
import {canonicalJson} from '../lock/serialize.js'
import {artifactKey, type ArtifactKey, type LockedArtifact, type LockedWheel} from '../lock/types.js'
import type {Architecture, PipLayer} from '../manifest/types.js'
import {loadPythonIndexes, type PythonConfigSources, type PythonIndexConfig} from './config.js'
import {fetchIndexClient, firstListing, type IndexClient} from './index.js'
import {wheelLicense} from './license.js'
import {chooseWheel, findResolver, type Resolver} from './resolve.js'
import {pythonRuntime, type PythonTarget} from './targets.js'

export interface PipLockOptions {
  /** The manifest's directory (a project uv.toml is read from there). */
  root: string
  previous?: Record<ArtifactKey, LockedArtifact>
  /** True: newest versions for the whole layer; a set: for those projects only. */
  update?: ReadonlySet<string> | true
  emit: EmitEvent
  /** Tests: the configuration sources, resolver and index access. */
  config?: PythonConfigSources
  resolver?: Resolver
  client?: IndexClient
}

/** The wheels previously locked for a runtime on an architecture. */
function previousWheels(previous: Record<ArtifactKey, LockedArtifact> | undefined, architecture: Architecture, runtime: string): LockedWheel[] {
  const artifact = Object.values(previous ?? {}).find((entry) => entry.architectures.includes(architecture))
  return Object.values(artifact?.wheels?.[runtime] ?? {})
}

export async function lockPipArtifacts(layer: PipLayer, options: PipLockOptions): Promise<Record<ArtifactKey, LockedArtifact>> {
  const config: PythonIndexConfig = loadPythonIndexes(options.root, options.config)
  const resolver = options.resolver ?? (await findResolver({env: options.config?.env}))
  const client = options.client ?? fetchIndexClient(config, {emit: options.emit})
  if (resolver.name === 'pip') {
    options.emit({
      type: 'warning',
      warning: {
        severity: 'warning',
        code: 'ERR_LAYERS_PYTHON_PIP_FALLBACK',
        message: `Layer ${layer.name} is resolved with pip, which evaluates environment markers (python_version, platform_machine ...) for the host interpreter, not for ${[...new Set(layer.runtimes)].join(', ')} on ${[...new Set(layer.architectures)].join(', ')}.`,
        hint: 'Install uv (`pip install uv`) so layers resolves the markers for each Lambda target, then run `layers lock --update` for the layer.',
      },
    })
  }
  const architectures = [...new Set(layer.architectures)].sort()
  const runtimes = [...new Set(layer.runtimes)].sort()
  const known = new Map<string, string>()
  for (const artifact of Object.values(options.previous ?? {})) {
    for (const wheels of Object.values(artifact.wheels ?? {})) for (const wheel of Object.values(wheels)) if (wheel.license !== undefined) known.set(`${wheel.filename} ${wheel.sha256}`, wheel.license)
  }
  const licenses = new Map<string, Promise<string>>()
  const withLicense = async (wheel: LockedWheel): Promise<LockedWheel> => {
    const key = `${wheel.filename} ${wheel.sha256}`
    let license = licenses.get(key)
    if (!license) {
      const kept = known.get(key)
      license = kept !== undefined ? Promise.resolve(kept) : firstListing(config, client, wheel.name).then((listing) => wheelLicense(layer.name, wheel, listing?.files.find((file) => file.filename === wheel.filename), config, options.emit))
      licenses.set(key, license)
    }
    return {...wheel, license: await license}
  }
  const limit = pLimit(4)
  const byArchitecture = new Map<Architecture, Record<string, Record<string, LockedWheel>>>()
  await Promise.all(
    architectures.flatMap((architecture) =>
      runtimes.map((runtime) =>
        limit(async () => {
          const target: PythonTarget = {runtime: pythonRuntime(runtime)!, architecture}
          const pins = await resolver.pins({
            layer: layer.name,
            requirements: layer.requirements,
            target,
            config,
            preferred: previousWheels(options.previous, architecture, runtime),
            ...(options.update === undefined ? {} : {upgrade: options.update}),
          })
          const wheels = await Promise.all(pins.map(async (pin) => withLicense(await chooseWheel(layer.name, pin, target, config, client))))
          const entry = byArchitecture.get(architecture) ?? {}
          entry[runtime] = Object.fromEntries(wheels.sort((a, b) => (a.name < b.name ? -1 : 1)).map((wheel) => [wheel.name, wheel]))
          byArchitecture.set(architecture, entry)
        }),
      ),
    ),
  )
  const trees = architectures.map((architecture) => canonicalJson(byArchitecture.get(architecture)))
  if (architectures.length > 1 && trees.every((tree) => tree === trees[0])) {
    return {[artifactKey(architectures)]: {architectures, wheels: byArchitecture.get(architectures[0]!)!}}
  }
  return Object.fromEntries(architectures.map((architecture) => [artifactKey([architecture]), {architectures: [architecture], wheels: byArchitecture.get(architecture)!}]))
}
