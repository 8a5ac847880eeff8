// Owns checking a lockfile's content the way lockfile-lint checks npm's (a lockfile diff is the
// least-read part of a pull request, so nothing in it is trusted beyond what the manifest and the npm
// configuration allow), before any command acts on it:
// - every tarball URL (`resolved` of packages and runtime binaries) is https, or http where the user
//   configured an http registry, on the host of a configured registry (after npm's
//   replace-registry-host rewrite, as pacote fetches it); no file:, git or other sources, no
//   credentials;
// - every integrity is one well-formed sha512 (or, for old packages that only have a shasum, sha1)
//   SRI hash, so verification can never be turned off by an empty value;
// - artifact keys are the ones layers writes (x86_64, arm64, arm64+x86_64) and match their
//   architectures; package paths are `node_modules/<name>[/node_modules/<name>...]` with valid npm
//   names: no `..`, no absolute paths, no backslashes, so nothing built from them leaves its directory;
// - pip wheels: a hex sha256, a wheel (or sdist) file name whose project is the key it is locked under, a runtime
//   layers resolves for, and (when the Python indexes are given) a URL without credentials on the host
//   of a configured index (src/python/config.ts wheelSourceProblem);
// - a published ARN recorded under published[accountId][region] is in that account and region (a
//   lockfile holding another account's ARN would make publish and attach act on it), and a pinned
//   arn layer's ARN is in its region.
// Pure: takes the parsed lockfile and the registry policy, returns problems with their JSON paths
// (io.ts turns the paths into lockfile.json:line:column).
import npa from 'npm-package-arg'
import validatePackageName from 'validate-npm-package-name'
import {parseLayerVersionArn} from '../audit/arn.js'
import type {RegistryPolicy} from '../npm/config.js'
import {wheelSourceProblem, type PythonIndexConfig} from '../python/config.js'
import {parseSdistName, parseWheelName, PYTHON_RUNTIME_NAMES} from '../python/targets.js'
import {isLocalResolved} from '../resolve/local.js'
import {artifactKey, type Lockfile, type Publications} from './types.js'

export type LockPath = Array<string | number>

export interface LockProblem {
  path: LockPath
  /** Locate the key at `path` rather than its value. */
  part?: 'key' | 'value'
  message: string
}

/** The artifact keys layers writes: one per architecture, or both when the tree is the same. */
export const ARTIFACT_KEYS: readonly string[] = ['x86_64', 'arm64', 'arm64+x86_64']

const SHA512 = /^sha512-[A-Za-z0-9+/]{86}==$/
const SHA1 = /^sha1-[A-Za-z0-9+/]{27}=$/

/** Why `integrity` is not one sha512 (or sha1) SRI hash; undefined when it is. */
export function integrityProblem(integrity: unknown): string | undefined {
  if (typeof integrity !== 'string' || integrity === '') return 'has no integrity (every tarball must carry a sha512 integrity, verified on fetch)'
  if (SHA512.test(integrity) || SHA1.test(integrity)) return undefined
  return `has integrity ${JSON.stringify(clip(integrity))}, which is not a sha512 (or sha1) SRI hash`
}

/** Why the tarball URL is not one pacote may fetch under `policy`; undefined when it is. */
export function tarballUrlProblem(url: unknown, policy: RegistryPolicy): string | undefined {
  if (typeof url !== 'string' || url === '') return 'has no tarball URL'
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return `has tarball URL ${JSON.stringify(clip(url))}, which is not a URL (git, file and other non-registry sources are refused)`
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    return `has tarball URL ${JSON.stringify(clip(url))}: ${parsed.protocol} sources are refused, only registry tarballs over https`
  }
  if (parsed.username || parsed.password) return 'has a tarball URL with credentials in it (credentials belong in .npmrc, never in the lockfile)'
  const registries = registryUrls(policy)
  const effective = fetchedUrl(parsed, policy, registries[0]!)
  const allowed = registries.some((registry) => registry.host === effective.host && (effective.protocol === 'https:' || registry.protocol === 'http:'))
  if (allowed) return undefined
  const configured = registries.map((registry) => registry.origin).join(', ')
  if (effective.protocol === 'http:' && registries.some((registry) => registry.host === effective.host)) {
    return `has tarball URL ${JSON.stringify(clip(url))} over http, but that registry is configured with https (${configured})`
  }
  return `has tarball URL ${JSON.stringify(clip(url))} on ${effective.host}, which is not a configured registry (${configured})`
}

/** Each policy's registries parsed once (a lock checks thousands of tarball URLs against them). */
const parsedRegistries = new WeakMap<RegistryPolicy, URL[]>()
function registryUrls(policy: RegistryPolicy): URL[] {
  let urls = parsedRegistries.get(policy)
  if (!urls) parsedRegistries.set(policy, (urls = policy.registries.map((registry) => new URL(registry))))
  return urls
}

/** The URL pacote fetches for `url`: npm's replace-registry-host moves tarballs of that host to the default registry. */
function fetchedUrl(url: URL, policy: RegistryPolicy, registry: URL): URL {
  const replace = policy.replaceRegistryHost === 'npmjs' || policy.replaceRegistryHost === '' ? 'registry.npmjs.org' : policy.replaceRegistryHost
  if (replace === 'never' || (replace !== 'always' && replace !== url.host)) return url
  return new URL(url.pathname, registry)
}

/**
 * Why pacote may not be handed this tarball: it must be an http(s) URL as npm reads the spec (pacote
 * reads a `file:` spec from disk and runs git for a git one) with a valid integrity (without one pacote
 * verifies nothing). The guard at the places that fetch, whatever was checked before.
 */
export function fetchableTarballProblem(tarball: {name: string; resolved: string; integrity: string}): string | undefined {
  const integrity = integrityProblem(tarball.integrity)
  if (integrity) return integrity
  let type: string
  try {
    type = npa.resolve(tarball.name, tarball.resolved).type
  } catch {
    type = 'invalid'
  }
  const protocol = /^([a-z][a-z0-9+.-]*):/i.exec(tarball.resolved)?.[1]?.toLowerCase()
  return type === 'remote' && (protocol === 'https' || protocol === 'http') ? undefined : `has resolved ${JSON.stringify(clip(tarball.resolved))}, which is not a registry tarball URL`
}

/** Names found valid, remembered: a lock names the same packages in many layers and nested copies. */
const validNames = new Set<string>()
function validName(name: string): boolean {
  if (validNames.has(name)) return true
  const valid = validatePackageName(name).validForOldPackages
  if (valid) validNames.add(name)
  return valid
}

/** Why a package path is not `node_modules/<name>` segments with valid npm names; undefined when it is. */
export function packagePathProblem(lockPath: string): string | undefined {
  const segments = lockPath.split('/')
  const bad = `package path ${JSON.stringify(clip(lockPath))}`
  if (lockPath.includes('\\') || lockPath.includes('\0')) return `${bad} has a backslash or NUL`
  for (let index = 0; index < segments.length; ) {
    if (segments[index] !== 'node_modules') return `${bad} is not node_modules/<name>[/node_modules/<name>...]`
    const scoped = segments[index + 1]?.startsWith('@') === true
    const name = scoped ? `${segments[index + 1]}/${segments[index + 2] ?? ''}` : (segments[index + 1] ?? '')
    if (name === '' || !validName(name)) return `${bad} has ${JSON.stringify(clip(name))}, which is not a valid npm package name`
    index += scoped ? 3 : 2
  }
  return undefined
}

/** Why a locked wheel is not one layers may fetch and unpack; undefined when it is. `python` absent: its source is not checked. */
export function wheelProblem(key: string, wheel: {name: unknown; version: unknown; filename: unknown; url: unknown; sha256: unknown; index: unknown}, python: PythonIndexConfig | undefined): string | undefined {
  if (typeof wheel.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(wheel.sha256)) return 'has no sha256 (every wheel must carry its hex sha256, verified on fetch)'
  const parsed = typeof wheel.filename === 'string' && /^[A-Za-z0-9._+!-]+$/.test(wheel.filename) ? (parseWheelName(wheel.filename) ?? parseSdistName(wheel.filename)) : undefined
  if (!parsed) return `has file name ${JSON.stringify(clip(String(wheel.filename)))}, which is not a wheel or sdist file name`
  if (parsed.name !== key) return `is keyed ${JSON.stringify(clip(key))} but its file ${wheel.filename} is a distribution of ${parsed.name}`
  if (wheel.name !== key) return `is keyed ${JSON.stringify(clip(key))} but names ${JSON.stringify(clip(String(wheel.name)))}`
  return python ? wheelSourceProblem(wheel, python) : undefined
}

/** Every problem of the lockfile's content (its shape was checked before: shape.ts). */
export function checkLockfileContent(lock: Lockfile, policy: RegistryPolicy, python?: PythonIndexConfig): LockProblem[] {
  const problems: LockProblem[] = []
  const tarball = (at: LockPath, what: string, resolved: unknown, integrity: unknown): void => {
    const url = tarballUrlProblem(resolved, policy)
    if (url) problems.push({path: [...at, 'resolved'], message: `${what} ${url}.`})
    const sri = integrityProblem(integrity)
    if (sri) problems.push({path: [...at, 'integrity'], message: `${what} ${sri}.`})
  }
  for (const [name, layer] of Object.entries(lock.layers)) {
    const at: LockPath = ['layers', name]
    if (layer.kind === 'arn') {
      for (const [account, regions] of Object.entries(layer.arns)) {
        for (const [region, arn] of Object.entries(regions)) {
          const parts = parseLayerVersionArn(arn)
          if (!parts) problems.push({path: [...at, 'arns', account, region], message: `Layer ${name}: the pinned ARN ${JSON.stringify(clip(arn))} for account ${account}, region ${region} is not a layer version ARN.`})
          else if (parts.region !== region) problems.push({path: [...at, 'arns', account, region], message: `Layer ${name}: the ARN pinned for region ${region} (account ${account}) is in region ${parts.region}: ${arn}.`})
        }
      }
      continue
    }
    for (const [key, artifact] of Object.entries(layer.artifacts)) {
      const where: LockPath = [...at, 'artifacts', key]
      if (!ARTIFACT_KEYS.includes(key)) {
        problems.push({path: where, part: 'key', message: `Layer ${name}: artifact key ${JSON.stringify(clip(key))} is not one layers writes (${ARTIFACT_KEYS.join(', ')}).`})
        continue
      }
      if (artifactKey(artifact.architectures) !== key || artifact.architectures.length !== key.split('+').length) {
        problems.push({path: [...where, 'architectures'], message: `Layer ${name}: artifact ${key} lists architectures ${JSON.stringify(artifact.architectures)}, which do not match its key.`})
      }
      for (const [lockPath, pkg] of Object.entries(artifact.packages ?? {})) {
        const pkgAt: LockPath = [...where, 'packages', lockPath]
        const pathProblem = packagePathProblem(lockPath)
        if (pathProblem) {
          problems.push({path: pkgAt, part: 'key', message: `Layer ${name} (${key}): ${pathProblem}.`})
          continue
        }
        const what = `Layer ${name} (${key}): ${clip(pkg.name)}@${clip(pkg.version)} (${lockPath})`
        if (isLocalResolved(pkg.resolved)) {
          // A local package (src/resolve/local.ts): the build packs it again from inside the repository and checks its hash.
          if (!SHA512.test(String(pkg.integrity))) problems.push({path: [...pkgAt, 'integrity'], message: `${what} has no sha512 integrity of its packed content.`})
          continue
        }
        tarball(pkgAt, what, pkg.resolved, pkg.integrity)
      }
      for (const [runtime, wheels] of Object.entries(artifact.wheels ?? {})) {
        if (!PYTHON_RUNTIME_NAMES.includes(runtime)) {
          problems.push({path: [...where, 'wheels', runtime], part: 'key', message: `Layer ${name} (${key}): ${JSON.stringify(clip(runtime))} is not a Python runtime layers resolves for.`})
          continue
        }
        for (const [project, wheel] of Object.entries(wheels)) {
          const problem = wheelProblem(project, wheel, python)
          if (problem) problems.push({path: [...where, 'wheels', runtime, project], message: `Layer ${name} (${key}, ${runtime}): the wheel of ${clip(project)} ${problem}.`})
        }
      }
      if (artifact.binary) tarball([...where, 'binary'], `Layer ${name} (${key}): the runtime binary ${clip(String(artifact.binary.name))}@${clip(String(artifact.binary.version))}`, artifact.binary.resolved, artifact.binary.integrity)
    }
    // A channel's versions are written to SSM as they are: checked as the published ones.
    const recorded: Array<[LockPath, Publications]> = [[[...at, 'published'], layer.published ?? {}], ...Object.entries(layer.channels ?? {}).map(([channel, byAccount]): [LockPath, Publications] => [[...at, 'channels', channel], byAccount])]
    for (const [base, publications] of recorded) for (const [account, regions] of Object.entries(publications)) {
      for (const [region, byKey] of Object.entries(regions)) {
        for (const [key, publication] of Object.entries(byKey)) {
          const pubAt: LockPath = [...base, account, region, key]
          if (!ARTIFACT_KEYS.includes(key)) {
            problems.push({path: pubAt, part: 'key', message: `Layer ${name}: published artifact key ${JSON.stringify(clip(key))} (account ${account}, region ${region}) is not one layers writes (${ARTIFACT_KEYS.join(', ')}).`})
            continue
          }
          const parts = parseLayerVersionArn(publication.arn)
          const arnAt: LockPath = [...pubAt, 'arn']
          if (!parts) problems.push({path: arnAt, message: `Layer ${name} (${key}): the ARN published for account ${account}, region ${region} is not a layer version ARN: ${JSON.stringify(clip(publication.arn))}.`})
          else if (parts.accountId !== account || parts.region !== region) {
            problems.push({
              path: arnAt,
              message: `Layer ${name} (${key}): the ARN recorded under account ${account}, region ${region} belongs to account ${parts.accountId}, region ${parts.region}: ${publication.arn}.`,
            })
          } else if (parts.version !== publication.version) {
            problems.push({path: [...pubAt, 'version'], message: `Layer ${name} (${key}): version ${publication.version} recorded for account ${account}, region ${region} is not the version of its ARN (${parts.version}).`})
          }
        }
      }
    }
  }
  return problems
}

/** Echoed values are cut to a readable length. */
function clip(text: string): string {
  return text.length > 120 ? `${text.slice(0, 117)}...` : text
}
