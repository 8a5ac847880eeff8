// Owns trying a download again after a transient failure, for every registry client (npm tarballs,
// Python wheels): which failures are transient (no answer, or HTTP 408/420/429/5xx; never an integrity
// mismatch or a 404), the bounded backoff between attempts (minTimeout x factor^n, capped at
// maxTimeout, as npm's retry settings count it), a wait announced before it starts and cut short by
// the caller's signal.
import {setTimeout as sleep} from 'node:timers/promises'
import type {EmitEvent} from '../events.js'

/** How often and how long to wait: `retries` attempts after the first, waits as `retryDelay` says. */
export interface RetrySettings {
  retries: number
  factor: number
  minTimeout: number
  maxTimeout: number
}

/** Network failures make-fetch-happen tries again (its RETRY_ERRORS), plus a broken pipe, a DNS hiccup and undici's cut socket. */
const TRANSIENT_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EADDRINUSE', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ECONNECTIONTIMEOUT', 'EIDLETIMEOUT', 'ERESPONSETIMEOUT', 'ETRANSFERTIMEOUT', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT'])
const TRANSIENT_TYPES = new Set(['request-timeout', 'body-timeout'])

/** Whether trying again may help: no answer, or an answer saying "later" (408, 420, 429, 5xx). */
export function isTransientFetchError(error: unknown): boolean {
  const {code, type, statusCode} = (error ?? {}) as {code?: unknown; type?: unknown; statusCode?: unknown}
  if (typeof code === 'string' && TRANSIENT_CODES.has(code)) return true
  if (typeof type === 'string' && TRANSIENT_TYPES.has(type)) return true
  return typeof statusCode === 'number' && ([408, 420, 429].includes(statusCode) || statusCode >= 500)
}

/** The wait before attempt `attempt + 1` (0-based attempt that failed). */
export function retryDelay(retry: RetrySettings, attempt: number): number {
  return Math.min(retry.maxTimeout, retry.minTimeout * retry.factor ** attempt)
}

export interface RetryOptions {
  retry: RetrySettings
  /** What is fetched, for the wait line: "Waiting 0.1 s to fetch <what> again: ...". */
  what: string
  signal?: AbortSignal | undefined
  emit?: EmitEvent | undefined
}

/**
 * `attempt()` until it succeeds, fails with a non-transient error, the retries are spent or `signal`
 * aborts (then the last error is thrown). Each wait is announced as an info event naming the attempt
 * and its failure (the error's `code`, else its message).
 */
export async function withRetries<T>(attempt: (attemptIndex: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const {retry, signal} = options
  for (let index = 0; ; index++) {
    signal?.throwIfAborted()
    try {
      return await attempt(index)
    } catch (error) {
      if (signal?.aborted || index >= retry.retries || !isTransientFetchError(error)) throw error
      const delay = retryDelay(retry, index)
      const why = (error as {code?: unknown}).code ?? (error as Error).message
      options.emit?.({type: 'info', message: `Waiting ${(delay / 1000).toFixed(1)} s to fetch ${options.what} again: attempt ${index + 1} of ${retry.retries + 1} failed (${String(why)}).`})
      await sleep(delay, undefined, signal ? {signal} : {})
    }
  }
}
