// Owns the structural check of a parsed lockfile, so a hand-broken file is reported with the path of
// the first bad value instead of failing later with a TypeError.
import {LOCKFILE_VERSION} from './types.js'

const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value)

/** Returns a description of the first problem, or undefined when the shape is right. */
export function checkLockfileShape(data: unknown): string | undefined {
  if (!isObject(data)) return 'the top level must be an object'
  if (data.lockfileVersion !== LOCKFILE_VERSION) {
    return `lockfileVersion is ${JSON.stringify(data.lockfileVersion)}, this layers understands ${LOCKFILE_VERSION}`
  }
  if (!isObject(data.layers)) return '"layers" must be an object'
  for (const [name, layer] of Object.entries(data.layers)) {
    const at = `layers.${name}`
    if (!isObject(layer)) return `${at} must be an object`
    if (!['npm', 'dir', 'runtime', 'arn'].includes(layer.kind as string)) return `${at}.kind must be npm, dir, runtime or arn`
    if (typeof layer.inputs !== 'string') return `${at}.inputs must be a string`
    if (layer.kind === 'arn') {
      if (!isObject(layer.arns)) return `${at}.arns must be an object`
      for (const [account, regions] of Object.entries(layer.arns)) {
        if (!isObject(regions)) return `${at}.arns.${account} must be an object`
        for (const [region, arn] of Object.entries(regions)) {
          if (typeof arn !== 'string') return `${at}.arns.${account}.${region} must be a string`
        }
      }
      continue
    }
    if (!isObject(layer.artifacts)) return `${at}.artifacts must be an object`
    for (const [key, artifact] of Object.entries(layer.artifacts)) {
      if (!isObject(artifact) || !Array.isArray(artifact.architectures)) return `${at}.artifacts.${key}.architectures must be a list`
      if (artifact.packages !== undefined) {
        if (!isObject(artifact.packages)) return `${at}.artifacts.${key}.packages must be an object`
        for (const [pkgPath, pkg] of Object.entries(artifact.packages)) {
          const p = `${at}.artifacts.${key}.packages["${pkgPath}"]`
          if (!isObject(pkg)) return `${p} must be an object`
          for (const field of ['name', 'version', 'resolved', 'integrity']) {
            if (typeof pkg[field] !== 'string') return `${p}.${field} must be a string`
          }
        }
      }
    }
    if (layer.published !== undefined) {
      if (!isObject(layer.published)) return `${at}.published must be an object`
      for (const [account, regions] of Object.entries(layer.published)) {
        if (!isObject(regions)) return `${at}.published.${account} must be an object`
        for (const [region, artifacts] of Object.entries(regions)) {
          if (!isObject(artifacts)) return `${at}.published.${account}.${region} must be an object`
          for (const [key, publication] of Object.entries(artifacts)) {
            const p = `${at}.published.${account}.${region}.${key}`
            if (!isObject(publication) || typeof publication.arn !== 'string' || typeof publication.version !== 'number' || typeof publication.codeSha256 !== 'string') {
              return `${p} must have arn, version and codeSha256`
            }
          }
        }
      }
    }
  }
  return undefined
}
