// Owns fetching one registry tarball through pacote (npm cache first, integrity always verified) for
// the build and for lock (which reads a tarball's package.json). What is tried again, and what not:
// - An integrity mismatch is never tried again with a wait: the registry serves the same bytes a
//   second later. make-fetch-happen would retry it like a network error (with npm's default retry
//   settings 10 s + 60 s, twice over with pacote's own immediate refetch), so its retries are off here
//   and pacote's single immediate refetch (it drops a corrupt cache entry first) is all that happens.
// - No answer (refused, reset, timed out) and HTTP 408/420/429/5xx are transient: tried again per the
//   npm retry settings (`fetch-retries`, `fetch-retry-factor`, `fetch-retry-mintimeout`,
//   `fetch-retry-maxtimeout`, as npm counts them), each wait announced (src/net/retry.ts).
// - `signal` aborts the request in flight (npm-registry-fetch passes it on) and any wait.
import type {Readable} from 'node:stream'
import type {EmitEvent} from '../events.js'
import {withRetries, type RetrySettings} from '../net/retry.js'

/** The tarball to fetch: a registry URL and the integrity its bytes must have. */
export interface TarballToFetch {
  name: string
  version: string
  resolved: string
  integrity: string
}

export interface TarballFetchOptions {
  signal?: AbortSignal
  /** Where the waits between attempts are announced. */
  emit?: EmitEvent
}

/** npm's defaults, for callers whose options carry no retry settings. */
const DEFAULT_RETRY: RetrySettings = {retries: 2, factor: 10, minTimeout: 10_000, maxTimeout: 60_000}

/**
 * Streams `tarball` (verified against its integrity) to `handler`, which must listen for 'error'
 * before it first awaits (pacote reports a cache miss as an immediate stream error). An integrity
 * mismatch rejects with pacote's EINTEGRITY error (`expected`, `found`) at once.
 */
export async function fetchTarball<T>(npmOptions: Record<string, unknown>, tarball: TarballToFetch, handler: (tgz: Readable) => Promise<T>, options: TarballFetchOptions = {}): Promise<T> {
  const {default: pacote} = await import('pacote')
  const {signal} = options
  return withRetries(
    () =>
      pacote.tarball.stream(`${tarball.name}@${tarball.resolved}`, (stream) => handler(stream), {
        ...npmOptions,
        retry: {retries: 0},
        integrity: tarball.integrity,
        resolved: tarball.resolved,
        ...(signal ? {signal} : {}),
      } as Parameters<typeof pacote.tarball.stream>[2]),
    {retry: (npmOptions.retry as RetrySettings | undefined) ?? DEFAULT_RETRY, what: `the tarball of ${tarball.name}@${tarball.version}`, signal, emit: options.emit},
  )
}

/** What an integrity mismatch (EINTEGRITY) expected and what the bytes had; undefined for any other error. */
export function integrityMismatchOf(error: unknown): {expected: string; actual: string} | undefined {
  const {code, expected, found} = (error ?? {}) as {code?: unknown; expected?: unknown; found?: unknown}
  if (code !== 'EINTEGRITY') return undefined
  return {expected: expected === undefined ? '?' : String(expected), actual: found === undefined ? '?' : String(found)}
}
