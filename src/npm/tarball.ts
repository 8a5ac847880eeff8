// Owns fetching one registry tarball through pacote (npm cache first, integrity always verified) for
// the build and for lock (which reads a tarball's package.json). What is tried again, and what not:
// - An integrity mismatch is never tried again with a wait: the registry serves the same bytes a
//   second later. make-fetch-happen would retry it like a network error (with npm's default retry
//   settings 10 s + 60 s, twice over with pacote's own immediate refetch), so its retries are off here
//   and pacote's single immediate refetch (it drops a corrupt cache entry first) is all that happens.
// - No answer (refused, reset, timed out) and HTTP 408/420/429/5xx are transient: tried again per the
//   npm retry settings (`fetch-retries`, `fetch-retry-factor`, `fetch-retry-mintimeout`,
//   `fetch-retry-maxtimeout`, as npm counts them), each wait announced.
// - `signal` aborts the request in flight (npm-registry-fetch passes it on) and any wait.
import {setTimeout as sleep} from 'node:timers/promises'
import type {Readable} from 'node:stream'
import type {EmitEvent} from '../events.js'
import type {NpmOptions} from './config.js'

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

type Retry = NpmOptions['retry']

/** npm's defaults, for callers whose options carry no retry settings. */
const DEFAULT_RETRY: Retry = {retries: 2, factor: 10, minTimeout: 10_000, maxTimeout: 60_000}

/** Network failures make-fetch-happen tries again (its RETRY_ERRORS), plus a broken pipe and a DNS hiccup. */
const TRANSIENT_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EADDRINUSE', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ECONNECTIONTIMEOUT', 'EIDLETIMEOUT', 'ERESPONSETIMEOUT', 'ETRANSFERTIMEOUT'])
const TRANSIENT_TYPES = new Set(['request-timeout', 'body-timeout'])

/** Whether trying again may help: no answer, or an answer saying "later" (408, 420, 429, 5xx). */
export function isTransientFetchError(error: unknown): boolean {
  const {code, type, statusCode} = (error ?? {}) as {code?: unknown; type?: unknown; statusCode?: unknown}
  if (typeof code === 'string' && TRANSIENT_CODES.has(code)) return true
  if (typeof type === 'string' && TRANSIENT_TYPES.has(type)) return true
  return typeof statusCode === 'number' && ([408, 420, 429].includes(statusCode) || statusCode >= 500)
}

/** The wait before attempt `attempt + 1` (0-based attempt that failed), as npm's retry settings count it. */
export function retryDelay(retry: Retry, attempt: number): number {
  return Math.min(retry.maxTimeout, retry.minTimeout * retry.factor ** attempt)
}

/**
 * Streams `tarball` (verified against its integrity) to `handler`, which must listen for 'error'
 * before it first awaits (pacote reports a cache miss as an immediate stream error). An integrity
 * mismatch rejects with pacote's EINTEGRITY error (`expected`, `found`) at once.
 */
export async function fetchTarball<T>(npmOptions: Record<string, unknown>, tarball: TarballToFetch, handler: (tgz: Readable) => Promise<T>, options: TarballFetchOptions = {}): Promise<T> {
  const {default: pacote} = await import('pacote')
  const retry = (npmOptions.retry as Retry | undefined) ?? DEFAULT_RETRY
  const {signal} = options
  for (let attempt = 0; ; attempt++) {
    signal?.throwIfAborted()
    try {
      return await pacote.tarball.stream(`${tarball.name}@${tarball.resolved}`, (stream) => handler(stream), {
        ...npmOptions,
        retry: {retries: 0},
        integrity: tarball.integrity,
        resolved: tarball.resolved,
        ...(signal ? {signal} : {}),
      } as Parameters<typeof pacote.tarball.stream>[2])
    } catch (error) {
      if (signal?.aborted || attempt >= retry.retries || !isTransientFetchError(error)) throw error
      const delay = retryDelay(retry, attempt)
      const why = (error as {code?: unknown}).code ?? (error as Error).message
      options.emit?.({type: 'info', message: `Waiting ${(delay / 1000).toFixed(1)} s to fetch the tarball of ${tarball.name}@${tarball.version} again: attempt ${attempt + 1} of ${retry.retries + 1} failed (${String(why)}).`})
      await sleep(delay, undefined, signal ? {signal} : {})
    }
  }
}

/** What an integrity mismatch (EINTEGRITY) expected and what the bytes had; undefined for any other error. */
export function integrityMismatchOf(error: unknown): {expected: string; actual: string} | undefined {
  const {code, expected, found} = (error ?? {}) as {code?: unknown; expected?: unknown; found?: unknown}
  if (code !== 'EINTEGRITY') return undefined
  return {expected: expected === undefined ? '?' : String(expected), actual: found === undefined ? '?' : String(found)}
}
