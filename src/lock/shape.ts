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
  const reserved = reservedKey(data)
  if (reserved) return fail(reserved, `has a reserved name: ${reservedNameReason(String(reserved.at(-1)))}`)
  if (data.lockfileVersion !== LOCKFILE_VERSION) {
    return fail(['lockfileVersion'], `is ${JSON.stringify(data.lockfileVersion)}, this layers understands ${LOCKFILE_VERSION}`)
  }
  if (!isObject(data.layers)) return fail(['layers'], 'must be an object')
  for (const [name, layer] of Object.entries(data.layers)) {
    const at = ['layers', name]
    if (!isObject(layer)) return fail(at, 'must be an object')
    if (!['npm', 'pip', 'dir', 'runtime', 'arn'].includes(layer.kind as string)) return fail([...at, 'kind'], 'must be npm, pip, dir, runtime or arn')
    if (typeof layer.inputs !== 'string') return fail([...at, 'inputs'], 'must be a string')
    if (layer.kind === 'arn') {
      if (!isObject(layer.arns)) return fail([...at, 'arns'], 'must be an object')
      for (const [account, regions] of Object.entries(layer.arns)) {
        if (!isObject(regions)) return fail([...at, 'arns', account], 'must be an object')
        for (const [region, arn] of Object.entries(regions)) {
          if (typeof arn !== 'string') return fail([...at, 'arns', account, region], 'must be a string')
        }
      }
      continue
    }
    if (!isObject(layer.artifacts)) return fail([...at, 'artifacts'], 'must be an object')
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
      for (const [channel, publications] of Object.entries(layer.channels)) {
        const problem = publicationsProblem(publications, [...at, 'channels', channel])
        if (problem) return problem
      }
    }
  }
  return undefined
}

/**
 * The path of the first key anywhere in the file (but a wheel's project name) that is a reserved name
 * (src/manifest/reserved-names.ts): layers never writes one, and would read `layers.toString` as an
 * inherited property.
 * Walked with a stack, not recursion: a hand-made file may nest deeper than the call stack goes.
 */
function reservedKey(data: Record<string, unknown>): Array<string | number> | undefined {
  // Each node links to its parent instead of carrying its path: paths are built only for the key found.
  interface Node {
    value: unknown
    key?: string | number
    parent?: Node
  }
  const pathOf = (node: Node): Array<string | number> => {
    const path: Array<string | number> = []
    for (let at: Node | undefined = node; at?.parent; at = at.parent) path.push(at.key!)
    return path.reverse()
  }
  const pending: Node[] = [{value: data}]
  while (pending.length > 0) {
    const node = pending.pop()!
    if (node.value === null || typeof node.value !== 'object') continue
    const children: Node[] = Array.isArray(node.value)
      ? node.value.map((value: unknown, key) => ({value, key, parent: node}))
      : Object.entries(node.value).map(([key, value]) => ({value, key, parent: node}))
    // Wheels are keyed by the project's name, which is PyPI's to give (there is a `constructor`).
    const projects = node.parent?.key === 'wheels' && pathOf(node).length === 6 && pathOf(node)[2] === 'artifacts'
    const found = projects ? undefined : children.find((child) => typeof child.key === 'string' && isReservedName(child.key))
    if (found) return pathOf(found)
    pending.push(...children.reverse())
  }
  return undefined
}

/** The first problem of an accountId -> region -> artifact key -> {arn, version, codeSha256} map at `at`. */
function publicationsProblem(value: unknown, at: Array<string | number>): ShapeProblem | undefined {
  const fail = (path: Array<string | number>, text: string): ShapeProblem => ({message: `${dotted(path)} ${text}`, path})
  if (!isObject(value)) return fail(at, 'must be an object')
  for (const [account, regions] of Object.entries(value)) {
    if (!isObject(regions)) return fail([...at, account], 'must be an object')
    for (const [region, artifacts] of Object.entries(regions)) {
      if (!isObject(artifacts)) return fail([...at, account, region], 'must be an object')
      for (const [key, publication] of Object.entries(artifacts)) {
        if (!isObject(publication) || typeof publication.arn !== 'string' || typeof publication.version !== 'number' || typeof publication.codeSha256 !== 'string') {
          return fail([...at, account, region, key], 'must have arn, version and codeSha256')
        }
      }
    }
  }
  return undefined
}
