// Owns the structural check of a parsed lockfile, so a hand-broken file is reported with the path of
// the first bad value (io.ts locates it in the file) instead of failing later with a TypeError.
import {isReservedName, reservedNameReason} from '../manifest/reserved-names.js'
import {LOCKFILE_VERSION} from './types.js'

/** The first structural problem: what is wrong and the JSON path of the value. */
export interface ShapeProblem {
  message: string
  path: Array<string | number>
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value)

/** `layers.a.artifacts.x86_64.packages["node_modules/x"]`: dotted, with keys that hold a slash in brackets. */
function dotted(path: ReadonlyArray<string | number>): string {
  return path.map((part, index) => (/[/.\s"[\]]/.test(String(part)) ? `[${JSON.stringify(part)}]` : `${index === 0 ? '' : '.'}${part}`)).join('')
}

/** Returns the first problem, or undefined when the shape is right. */
export function checkLockfileShape(data: unknown): ShapeProblem | undefined {
  const fail = (path: Array<string | number>, text: string): ShapeProblem => ({message: `${dotted(path)} ${text}`, path})
  if (!isObject(data)) return {message: 'the top level must be an object', path: []}
  if (data.lockfileVersion !== LOCKFILE_VERSION) {
    return fail(['lockfileVersion'], `is ${JSON.stringify(data.lockfileVersion)}, this layers understands ${LOCKFILE_VERSION}`)
  }
  if (!isObject(data.layers)) return fail(['layers'], 'must be an object')
  const reservedLayer = reservedKey(data.layers, ['layers'])
  if (reservedLayer) return reservedLayer
  for (const [name, layer] of Object.entries(data.layers)) {
    const at = ['layers', name]
    if (!isObject(layer)) return fail(at, 'must be an object')
    if (!['npm', 'pip', 'dir', 'runtime', 'arn'].includes(layer.kind as string)) return fail([...at, 'kind'], 'must be npm, pip, dir, runtime or arn')
    if (typeof layer.inputs !== 'string') return fail([...at, 'inputs'], 'must be a string')
    if (layer.kind === 'arn') {
      if (!isObject(layer.arns)) return fail([...at, 'arns'], 'must be an object')
      const reservedAccount = reservedKey(layer.arns, [...at, 'arns'])
      if (reservedAccount) return reservedAccount
      for (const [account, regions] of Object.entries(layer.arns)) {
        if (!isObject(regions)) return fail([...at, 'arns', account], 'must be an object')
        const reservedRegion = reservedKey(regions, [...at, 'arns', account])
        if (reservedRegion) return reservedRegion
        for (const [region, arn] of Object.entries(regions)) {
          if (typeof arn !== 'string') return fail([...at, 'arns', account, region], 'must be a string')
        }
      }
      continue
    }
    if (!isObject(layer.artifacts)) return fail([...at, 'artifacts'], 'must be an object')
    const reservedArtifact = reservedKey(layer.artifacts, [...at, 'artifacts'])
    if (reservedArtifact) return reservedArtifact
    if (layer.source !== undefined) {
      if (layer.kind !== 'npm' || !isObject(layer.source)) return fail([...at, 'source'], 'must be an object (npm layers only)')
      if (typeof layer.source.lockfile !== 'string') return fail([...at, 'source', 'lockfile'], 'must be a string')
      if (typeof layer.source.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(layer.source.sha256)) return fail([...at, 'source', 'sha256'], 'must be a hex sha256')
    }
    for (const [key, artifact] of Object.entries(layer.artifacts)) {
      if (!isObject(artifact) || !Array.isArray(artifact.architectures)) return fail([...at, 'artifacts', key, 'architectures'], 'must be a list')
      if (artifact.packages !== undefined) {
        if (!isObject(artifact.packages)) return fail([...at, 'artifacts', key, 'packages'], 'must be an object')
        for (const [pkgPath, pkg] of Object.entries(artifact.packages)) {
          const p = [...at, 'artifacts', key, 'packages', pkgPath]
          if (!isObject(pkg)) return fail(p, 'must be an object')
          for (const field of ['name', 'version', 'resolved', 'integrity']) {
            if (typeof pkg[field] !== 'string') return fail(pkg[field] === undefined ? p : [...p, field], pkg[field] === undefined ? `has no ${field}` : 'must be a string')
          }
          if (pkg.license !== undefined && typeof pkg.license !== 'string') return fail([...p, 'license'], 'must be a string')
        }
      }
      if (artifact.wheels !== undefined) {
        if (!isObject(artifact.wheels)) return fail([...at, 'artifacts', key, 'wheels'], 'must be an object')
        const reservedRuntime = reservedKey(artifact.wheels, [...at, 'artifacts', key, 'wheels'])
        if (reservedRuntime) return reservedRuntime
        for (const [runtime, wheels] of Object.entries(artifact.wheels)) {
          if (!isObject(wheels)) return fail([...at, 'artifacts', key, 'wheels', runtime], 'must be an object')
          for (const [project, wheel] of Object.entries(wheels)) {
            const p = [...at, 'artifacts', key, 'wheels', runtime, project]
            if (!isObject(wheel)) return fail(p, 'must be an object')
            for (const field of ['name', 'version', 'filename', 'url', 'sha256', 'index']) {
              if (typeof wheel[field] !== 'string') return fail(wheel[field] === undefined ? p : [...p, field], wheel[field] === undefined ? `has no ${field}` : 'must be a string')
            }
            if (wheel.license !== undefined && typeof wheel.license !== 'string') return fail([...p, 'license'], 'must be a string')
          }
        }
      }
      if (artifact.binary !== undefined) {
        if (!isObject(artifact.binary)) return fail([...at, 'artifacts', key, 'binary'], 'must be an object')
        for (const field of ['name', 'version', 'resolved', 'integrity']) {
          const value = artifact.binary[field]
          if (typeof value !== 'string') return fail(value === undefined ? [...at, 'artifacts', key, 'binary'] : [...at, 'artifacts', key, 'binary', field], value === undefined ? `has no ${field}` : 'must be a string')
        }
      }
    }
    if (layer.published !== undefined) {
      const problem = publicationsProblem(layer.published, [...at, 'published'])
      if (problem) return problem
    }
    if (layer.channels !== undefined) {
      if (!isObject(layer.channels)) return fail([...at, 'channels'], 'must be an object')
      const reservedChannel = reservedKey(layer.channels, [...at, 'channels'])
      if (reservedChannel) return reservedChannel
      for (const [channel, publications] of Object.entries(layer.channels)) {
        const problem = publicationsProblem(publications, [...at, 'channels', channel])
        if (problem) return problem
      }
    }
  }
  return undefined
}

/**
 * A key of a map keyed by what layers names (layers, channels, accounts, regions, artifact keys, runtimes)
 * that is a reserved name (src/manifest/reserved-names.ts): layers never writes one, and would read
 * `layers.toString` as an inherited property. Package and project names are the registries' to give
 * (npm and PyPI both have a `constructor`), and are not refused.
 */
function reservedKey(record: Record<string, unknown>, at: Array<string | number>): ShapeProblem | undefined {
  const key = Object.keys(record).find(isReservedName)
  return key === undefined ? undefined : {message: `${dotted([...at, key])} has a reserved name: ${reservedNameReason(key)}`, path: [...at, key]}
}

/** The first problem of an accountId -> region -> artifact key -> {arn, version, codeSha256} map at `at`. */
function publicationsProblem(value: unknown, at: Array<string | number>): ShapeProblem | undefined {
  const fail = (path: Array<string | number>, text: string): ShapeProblem => ({message: `${dotted(path)} ${text}`, path})
  if (!isObject(value)) return fail(at, 'must be an object')
  const reservedAccount = reservedKey(value, at)
  if (reservedAccount) return reservedAccount
  for (const [account, regions] of Object.entries(value)) {
    if (!isObject(regions)) return fail([...at, account], 'must be an object')
    const reservedRegion = reservedKey(regions, [...at, account])
    if (reservedRegion) return reservedRegion
    for (const [region, artifacts] of Object.entries(regions)) {
      if (!isObject(artifacts)) return fail([...at, account, region], 'must be an object')
      const reservedArtifact = reservedKey(artifacts, [...at, account, region])
      if (reservedArtifact) return reservedArtifact
      for (const [key, publication] of Object.entries(artifacts)) {
        if (!isObject(publication) || typeof publication.arn !== 'string' || typeof publication.version !== 'number' || typeof publication.codeSha256 !== 'string') {
          return fail([...at, account, region, key], 'must have arn, version and codeSha256')
        }
      }
    }
  }
  return undefined
}
