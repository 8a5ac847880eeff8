// Owns reading one URL of a configured Python index (a project page, a wheel, an sdist, a PEP 658
// metadata file) for the build, lock and `outdated`: the index's credentials as a header, pip's inactivity timeout
// (nothing received for `timeout` seconds fails the attempt) under a total bound per attempt, and the
// retries of src/net/retry.ts with pip's count (`retries`, 5): no answer, a cut connection, an
// inactive one and HTTP 408/420/429/5xx are tried again after 0.5 s, 1 s, 2 s, 4 s, 8 s, each wait
// announced; any other answer (404, 401 ...) fails at once, and so does a sha256 mismatch (the
// callers verify the bytes: the index serves the same ones a second later). `signal` aborts the
// request in flight and any wait.
import type {EmitEvent} from '../events.js'
import {withRetries, type RetrySettings} from '../net/retry.js'
import {authorizationFor, PIP_NETWORK_DEFAULTS, withoutCredentials, type PythonIndexConfig} from './config.js'

/** Waits between attempts: 0.5 s, doubled each time, at most 8 s (pip's urllib3 backoff is of that size). */
const BACKOFF: Omit<RetrySettings, 'retries'> = {factor: 2, minTimeout: 500, maxTimeout: 8000}

export interface IndexDownloadOptions {
  /** What is fetched, for the wait lines, e.g. "pkg-1.0-py3-none-any.whl". */
  what: string
  /** The Accept header (a project page asks for PEP 691 JSON). */
  accept?: string
  /** The bound on one attempt, however steadily the bytes arrive. */
  totalTimeoutMs: number
  signal?: AbortSignal | undefined
  emit?: EmitEvent | undefined
  fetcher?: typeof fetch
}

/** A download that failed for good: `message` names the last failure and, past the first, the attempts. */
export class IndexDownloadError extends Error {
  constructor(
    message: string,
    readonly attempts: number,
    readonly statusCode: number | undefined,
  ) {
    super(message)
  }
}

interface AttemptFailure extends Error {
  code?: string
  statusCode?: number
}

const failure = (message: string, fields: {code?: string | undefined; statusCode?: number | undefined}): AttemptFailure => Object.assign(new Error(message), fields)

/** An answer read whole: its body, Content-Type and final URL (after redirects, the base of a page's relative links). */
export interface IndexResponse {
  body: Buffer
  contentType: string
  url: string
}

/** One GET of `url`, its body whole; failures carry `code` (ECONNRESET, E503 ...) for the retry decision. */
async function attemptDownload(url: string, headers: Record<string, string>, idleMs: number, totalMs: number, signal: AbortSignal | undefined, fetcher: typeof fetch): Promise<IndexResponse> {
  const idle = new AbortController()
  let timer: NodeJS.Timeout | undefined
  const restartIdle = (): void => {
    clearTimeout(timer)
    timer = setTimeout(() => idle.abort(), idleMs)
  }
  const total = AbortSignal.timeout(totalMs)
  restartIdle()
  try {
    const response = await fetcher(url, {headers, redirect: 'follow', signal: AbortSignal.any([idle.signal, total, ...(signal ? [signal] : [])])})
    if (!response.ok) {
      await response.body?.cancel()
      throw failure(`HTTP ${response.status}`, {code: `E${response.status}`, statusCode: response.status})
    }
    const chunks: Uint8Array[] = []
    if (response.body) {
      for await (const chunk of response.body) {
        chunks.push(chunk)
        restartIdle()
      }
    }
    return {body: Buffer.concat(chunks), contentType: response.headers.get('content-type') ?? '', url: response.url || url}
  } catch (error) {
    signal?.throwIfAborted()
    if (idle.signal.aborted) throw failure(`nothing received for ${idleMs / 1000} s`, {code: 'ETIMEDOUT'})
    if (total.aborted) throw failure(`not complete after ${totalMs / 1000} s`, {code: 'ETOTALTIMEOUT'})
    if ((error as AttemptFailure).statusCode !== undefined) throw error
    const cause = (error as {cause?: {code?: unknown; message?: unknown}}).cause
    const code = typeof cause?.code === 'string' ? cause.code : undefined
    throw failure(cause?.message ? `${(error as Error).message} (${String(cause.message)})` : (error as Error).message, {code})
  } finally {
    clearTimeout(timer)
  }
}

/** The bytes at `url` (a file of a configured index), tried again as the header says. Throws IndexDownloadError, or the signal's reason on abort. */
export async function downloadFromIndex(url: string, config: PythonIndexConfig, options: IndexDownloadOptions): Promise<Buffer> {
  return (await readFromIndex(url, config, options)).body
}

/** The answer at `url` (a page or file of a configured index), tried again as the header says. Throws IndexDownloadError, or the signal's reason on abort. */
export async function readFromIndex(url: string, config: PythonIndexConfig, options: IndexDownloadOptions): Promise<IndexResponse> {
  const network = config.network ?? PIP_NETWORK_DEFAULTS
  const authorization = authorizationFor(url, config)
  const headers: Record<string, string> = {...(options.accept ? {accept: options.accept} : {}), ...(authorization ? {authorization} : {})}
  let attempts = 0
  try {
    return await withRetries(
      () => {
        attempts++
        return attemptDownload(url, headers, network.timeoutMs, options.totalTimeoutMs, options.signal, options.fetcher ?? fetch)
      },
      {retry: {retries: network.retries, ...BACKOFF}, what: options.what, signal: options.signal, emit: options.emit},
    )
  } catch (error) {
    options.signal?.throwIfAborted()
    const last = error as AttemptFailure
    const message = withoutCredentials(last.code && !last.message.includes(last.code) && last.statusCode === undefined ? `${last.message} [${last.code}]` : last.message)
    throw new IndexDownloadError(attempts > 1 ? `${message}, after ${attempts} attempts` : message, attempts, last.statusCode)
  }
}
