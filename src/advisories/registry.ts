// Owns the calls `layers advisories` makes to npm registries: the bulk advisory endpoint `npm audit`
// uses (POST /-/npm/v1/security/advisories/bulk, a gzipped `{name: [versions]}` body, answered with
// `{name: [advisory]}`), one call per registry the locked packages come from (their scope's registry,
// with its auth from .npmrc, through npm-registry-fetch and the configured timeout and retries), and
// the packuments of the packages with findings (for the first fixed version) and of the locked
// packages whose deprecation is not cached (for `deprecated`). A registry without the endpoint is a clear error naming it.
import {OperationalError} from '../errors/index.js'
import {registryOf, type NpmOptions} from '../npm/config.js'
import type {Packument} from '../resolve/types.js'

export const BULK_ADVISORY_PATH = '-/npm/v1/security/advisories/bulk'

/** One advisory as the bulk endpoint answers it. */
export interface RegistryAdvisory {
  id: number | string
  url?: string
  title: string
  severity: string
  vulnerable_versions: string
  cwe?: string[]
  cvss?: {score?: number; vectorString?: string | null}
}

export interface AdvisorySource {
  /** name -> advisories, for the versions asked about. */
  bulk(versions: Map<string, Set<string>>): Promise<Record<string, RegistryAdvisory[]>>
  packument(name: string): Promise<Packument>
  /** The registry a package's answers come from (its scope's, else the default). */
  registry(name: string): string
}

/** The abbreviated ("corgi") packument, as pacote and npm ask for it: versions, dependencies and `deprecated`, no readmes. */
const ABBREVIATED_PACKUMENT = 'application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*'

/** Statuses with which a registry says it has no such endpoint (the registry reachable here answers 405). */
const NOT_OFFERED = new Set([404, 405, 501])

export function registryAdvisorySource(npmOptions: NpmOptions): AdvisorySource {
  return {
    async bulk(versions) {
      const byRegistry = new Map<string, Record<string, string[]>>()
      for (const [name, set] of versions) {
        const registry = registryOf(npmOptions, name)
        let body = byRegistry.get(registry)
        if (!body) byRegistry.set(registry, (body = {}))
        body[name] = [...set].sort()
      }
      const {default: fetch} = await import('npm-registry-fetch')
      const answers = await Promise.all(
        [...byRegistry].map(async ([registry, body]) => {
          try {
            return (await fetch.json(BULK_ADVISORY_PATH, {
              ...npmOptions,
              registry,
              method: 'POST',
              // npm-registry-fetch serializes the object as JSON and gzips it (content-encoding: gzip), as npm audit sends it.
              gzip: true,
              body,
            } as unknown as Parameters<typeof fetch.json>[1])) as Record<string, RegistryAdvisory[]>
          } catch (error) {
            throw bulkError(registry, error)
          }
        }),
      )
      return Object.assign({}, ...answers) as Record<string, RegistryAdvisory[]>
    },
    registry: (name) => registryOf(npmOptions, name),
    async packument(name) {
      // npm-registry-fetch (already loaded for the bulk call) rather than pacote, whose load alone costs
      // a fifth of a second; the same abbreviated document and npm cache entries as pacote's.
      const {default: fetch} = await import('npm-registry-fetch')
      return (await fetch.json(`/${name.replace('/', '%2f')}`, {
        ...npmOptions,
        registry: registryOf(npmOptions, name),
        spec: name,
        headers: {accept: ABBREVIATED_PACKUMENT},
      } as unknown as Parameters<typeof fetch.json>[1])) as unknown as Packument
    },
  }
}

function bulkError(registry: string, error: unknown): OperationalError {
  const status = (error as {statusCode?: number}).statusCode
  const url = `${registry}${BULK_ADVISORY_PATH}`
  if (status !== undefined && NOT_OFFERED.has(status)) {
    return new OperationalError('ERR_LAYERS_ADVISORIES_UNSUPPORTED', `The registry ${registry} does not offer npm's bulk advisory endpoint (POST ${url} answered ${status}).`, {
      cause: error,
      hint: 'Point `registry` (or the scope\'s `@scope:registry`) in .npmrc at a registry that implements it, as registry.npmjs.org and proxies of it (Verdaccio, Artifactory, Nexus with audit enabled) do.',
      details: {registry, status},
    })
  }
  return new OperationalError('ERR_LAYERS_ADVISORIES_FETCH', `Cannot read advisories from ${url}: ${(error as Error).message}`, {
    cause: error,
    hint: status === 401 || status === 403 ? 'Check the registry\'s credentials in .npmrc.' : 'Check the network and the registry, then run the command again.',
    details: {registry, ...(status === undefined ? {} : {status})},
  })
}
