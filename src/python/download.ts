// Owns reading one URL of a configured Python index (a project page, a wheel, an sdist, a PEP 658
// metadata file) for the build, lock and `outdated`: the index's credentials as a header, pip's inactivity timeout
// (nothing received for `timeout` seconds fails the attempt) under a total bound per attempt, and the
// retries of src/net/retry.ts with pip's count (`retries`, 5): no answer, a cut connection, an
// inactive one and HTTP 408/420/429/5xx are tried again after 0.5 s, 1 s, 2 s, 4 s, 8 s, each wait
// announced; any other answer (404, 401 ...) fails at once, and so does a sha256 mismatch (the
// callers verify the bytes: the index serves the same ones a second later). `signal` aborts the
// request in flight and any wait. Reads go through the proxy of the environment as uv's and pip's do
// (undici's EnvHttpProxyAgent: Node's own fetch ignores HTTP_PROXY, HTTPS_PROXY, ALL_PROXY and NO_PROXY),
// ALL_PROXY serving a scheme without its own variable (HTTP_PROXY alone leaves https URLs direct, as there),
// and a NO_PROXY entry matches its host exactly (`.corp.example` or `*.corp.example` for a domain, no
// address ranges). undici speaks to http(s) proxies only: a SOCKS one for an index URL is exit 2 (whatever
// NO_PROXY says), as is a proxy variable src/net/proxy.ts rejects. A server certificate Node refuses is not
// tried again; its callers' hint names NODE_EXTRA_CA_CERTS (certificateHint).
import type * as Undici from 'undici'
import type {EmitEvent} from '../events.js'
import {UserInputError} from '../errors/index.js'
import {checkProxyEnv, PYTHON_PROXY_VARIABLES, quotedWithoutCredentials} from '../net/proxy.js'
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
    /** The last failure's code (ECONNRESET, UNABLE_TO_VERIFY_LEAF_SIGNATURE, E503 ...). */
    readonly code?: string,
  ) {
    super(message)
  }
}

/** Node's codes for a server certificate it does not accept (an unknown CA, a self-signed or expired one, another host's). */
const CERTIFICATE_CODES = /^(UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?|SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|CERT_UNTRUSTED|CERT_HAS_EXPIRED|CERT_NOT_YET_VALID|ERR_TLS_CERT_ALTNAME_INVALID)$/

/**
 * The hint of a read refused for the index's certificate, else undefined: layers' reads trust Node's CA
 * list, which neither SSL_CERT_FILE (uv's) nor PIP_CERT reaches, so a private CA must be named to Node too.
 */
export function certificateHint(error: IndexDownloadError): string | undefined {
  if (!CERTIFICATE_CODES.test(error.code ?? '')) return undefined
  return "The index's certificate is not trusted by layers' own reads (Node's CA list): give the CA that signed it, a PEM file, in NODE_EXTRA_CA_CERTS (as SSL_CERT_FILE for uv, PIP_CERT for pip), then run layers again."
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

/** Says who reads, for the index's logs (uv sends `uv/<version>`). */
const USER_AGENT = 'layers'

/** undici's fetch through one EnvHttpProxyAgent per URL scheme for the process, made on the first read (undici loads then). */
let proxiedFetch: Promise<typeof fetch> | undefined

function environmentFetch(): Promise<typeof fetch> {
  proxiedFetch ??= (async () => {
    const {Dispatcher, EnvHttpProxyAgent, Pool, fetch: undiciFetch} = await import('undici')
    /**
     * The pool a proxy agent opens its CONNECT tunnels with. A proxy that closes the connection before it
     * answers the CONNECT fails with undici's "socket" error, which its client takes for a recoverable one
     * and connects again at once, thousands of times a second until the attempt's timeout (undici
     * #3897, fixed in undici 8, which needs Node 22): that failure is passed on as a cut connection
     * instead, which fails the attempt (tried again as any ECONNRESET is) and names the proxy.
     */
    class TunnelPool extends Pool {
      override connect(options: Undici.Dispatcher.ConnectOptions): Promise<Undici.Dispatcher.ConnectData>
      override connect(options: Undici.Dispatcher.ConnectOptions, callback: (error: Error | null, data: Undici.Dispatcher.ConnectData) => void): void
      override connect(options: Undici.Dispatcher.ConnectOptions, callback?: (error: Error | null, data: Undici.Dispatcher.ConnectData) => void): Promise<Undici.Dispatcher.ConnectData> | void {
        if (callback) return super.connect(options, callback)
        return super.connect(options).catch((error: unknown) => {
          if ((error as {code?: unknown}).code !== 'UND_ERR_SOCKET') throw error
          throw Object.assign(new Error(`the proxy ${String(options.origin)} closed the connection before it answered CONNECT ${String(options.path)} (does it allow tunnels to that host?)`), {code: 'ECONNRESET', cause: error})
        })
      }
    }
    // undici 6 marks the class experimental with a process warning on stderr (dropped in undici 8); it is the agent Node 24 itself proxies fetch with.
    const emitWarning = process.emitWarning
    process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
      if ((rest[0] as {code?: unknown} | undefined)?.code !== 'UNDICI-EHPA') (emitWarning as (...args: unknown[]) => void).call(process, warning, ...rest)
    }) as typeof process.emitWarning
    // One agent per scheme, each given that scheme's proxy for both (see proxyVariableFor): an agent left
    // without an https proxy would send https URLs through the http one, which uv and pip do not.
    // proxyTunnel false: an http:// URL goes to an http proxy as an absolute-URI request, as uv's and pip's do (an https:// one still through CONNECT).
    // (undici 6 passes the options on to its ProxyAgents but types only the Agent ones.)
    const agentFor = (protocol: 'http:' | 'https:'): Undici.EnvHttpProxyAgent => {
      const proxy = proxyVariableFor(protocol, process.env)?.value ?? ''
      const options: Undici.EnvHttpProxyAgent.Options & Pick<Undici.ProxyAgent.Options, 'proxyTunnel' | 'clientFactory'> = {
        proxyTunnel: false,
        clientFactory: (origin, poolOptions) => new TunnelPool(origin, poolOptions),
        httpProxy: proxy,
        httpsProxy: proxy,
      }
      return new EnvHttpProxyAgent(options)
    }
    let agents: Record<'http:' | 'https:', Undici.EnvHttpProxyAgent>
    try {
      agents = {'http:': agentFor('http:'), 'https:': agentFor('https:')}
    } finally {
      process.emitWarning = emitWarning
    }
    /** Each request to the agent of its origin's scheme (a redirect to the other scheme included). */
    class BySchemeDispatcher extends Dispatcher {
      override dispatch(options: Undici.Dispatcher.DispatchOptions, handler: Undici.Dispatcher.DispatchHandlers): boolean {
        return agents[new URL(String(options.origin)).protocol === 'https:' ? 'https:' : 'http:'].dispatch(options, handler)
      }
    }
    const dispatcher = new BySchemeDispatcher()
    return ((input: string, init: RequestInit) => undiciFetch(input, {...(init as object), dispatcher})) as unknown as typeof fetch
  })()
  return proxiedFetch
}

/**
 * The proxy variable layers' reads of a `protocol` URL take, and its value, if any: the scheme's own variable, else
 * ALL_PROXY, as uv (reqwest's proxy matcher: HTTP_PROXY or ALL_PROXY for http, HTTPS_PROXY or ALL_PROXY for
 * https) and pip (requests: the scheme's proxy, else the `all` one) take them, so a machine with ALL_PROXY alone
 * has layers behind the proxy uv uses, and one with HTTP_PROXY alone reads https indexes directly, as uv and pip do.
 * Each pair lowercase first, a set lowercase one hiding the uppercase, as EnvHttpProxyAgent reads them.
 */
function proxyVariableFor(protocol: string, env: NodeJS.ProcessEnv): {name: string; value: string} | undefined {
  const all = ['all_proxy', 'ALL_PROXY']
  const names = protocol === 'https:' ? ['https_proxy', 'HTTPS_PROXY', ...all] : ['http_proxy', 'HTTP_PROXY', ...all]
  for (let at = 0; at < names.length; at += 2) {
    const name = env[names[at]!] !== undefined ? names[at]! : names[at + 1]!
    const value = env[name]
    if (value) return {name, value}
  }
  return undefined
}

/** Throws ERR_LAYERS_PROXY_ENV (exit 2) when the proxy for `url` is a SOCKS one, which undici cannot use (rather than reading the index directly). */
function checkIndexProxy(url: string, env: NodeJS.ProcessEnv): void {
  const proxy = proxyVariableFor(new URL(url).protocol, env)
  if (!proxy || !/^socks[45a-z]*:/i.test(proxy.value.trim())) return
  throw new UserInputError('ERR_LAYERS_PROXY_ENV', `The environment variable ${proxy.name} is ${quotedWithoutCredentials(proxy.value)}, a SOCKS proxy: layers reads the Python index ${new URL(url).origin} through http(s) proxies only.`, {
    hint: `Set ${proxy.name} to an http:// or https:// proxy URL (uv and pip take those too)${/^all_proxy$/i.test(proxy.name) ? `, or set ${new URL(url).protocol === 'https:' ? 'HTTPS_PROXY' : 'HTTP_PROXY'} to one for the index` : ''}, or unset it.`,
    details: {variable: proxy.name},
  })
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
  const headers: Record<string, string> = {'user-agent': USER_AGENT, ...(options.accept ? {accept: options.accept} : {}), ...(authorization ? {authorization} : {})}
  if (!options.fetcher) {
    checkProxyEnv(process.env, PYTHON_PROXY_VARIABLES)
    checkIndexProxy(url, process.env)
  }
  const fetcher = options.fetcher ?? (await environmentFetch())
  let attempts = 0
  try {
    return await withRetries(
      () => {
        attempts++
        return attemptDownload(url, headers, network.timeoutMs, options.totalTimeoutMs, options.signal, fetcher)
      },
      {retry: {retries: network.retries, ...BACKOFF}, what: options.what, signal: options.signal, emit: options.emit},
    )
  } catch (error) {
    options.signal?.throwIfAborted()
    const last = error as AttemptFailure
    const message = withoutCredentials(last.code && !last.message.includes(last.code) && last.statusCode === undefined ? `${last.message} [${last.code}]` : last.message)
    throw new IndexDownloadError(attempts > 1 ? `${message}, after ${attempts} attempts` : message, attempts, last.statusCode, last.code)
  }
}
