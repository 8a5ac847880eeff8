// Owns the time bounds of every AWS call layers makes: the connect and read (socket inactivity)
// timeouts and where they come from (--connect-timeout/--read-timeout, LAYERS_CONNECT_TIMEOUT/
// LAYERS_READ_TIMEOUT, defaults), retries bounded in time as well as count (a call that gets no answer
// at all stops retrying after a few seconds, any call after a minute), the "waiting for ..." progress
// line a slow call emits, and the error a call without an answer (or with one the SDK cannot read as
// AWS's: ERR_LAYERS_AWS_MALFORMED_ANSWER) ends in (operation, account, region, endpoint). Inactivity, not total time, ends an attempt: a large upload that keeps sending is never cut.
import type {BuildMiddleware, RetryErrorInfo, RetryStrategy, RetryStrategyV2, RetryToken, StandardRetryToken} from '@smithy/types'
import {LayersError, OperationalError, quoteValue, shorten, UserInputError} from '../errors/index.js'
import type {EmitEvent} from '../events.js'

export interface AwsTimeouts {
  /** Longest wait for a TCP (and TLS) connection, in ms; 0: none. */
  connectTimeoutMs: number
  /** Longest time a socket may stay silent (nothing sent, nothing received) during a call, in ms; 0: none. */
  readTimeoutMs: number
}

export const DEFAULT_CONNECT_TIMEOUT_S = 10
export const DEFAULT_READ_TIMEOUT_S = 30
/** No new attempt once a call has gone this long without any HTTP answer (refused, reset, timed out). */
export const NO_ANSWER_RETRY_WINDOW_MS = 2_000
/** No new attempt once a call has run this long, whatever the errors (throttling, 5xx). */
export const RETRY_WINDOW_MS = 60_000
/** A call still unanswered after this long is named on the terminal, and again every WAIT_REPEAT_MS. */
export const WAIT_NOTICE_MS = 3_000
/** ... and again every WAIT_REPEAT_MS while it waits. */
export const WAIT_REPEAT_MS = 5_000

/** The code of the error a call ends in when the endpoint never answered. */
export const NO_ANSWER_CODE = 'ERR_LAYERS_AWS_NO_ANSWER'

/** The code of the error a call ends in when the endpoint's answer is not one AWS gives (unparsable, or lacking what AWS always sends). */
export const MALFORMED_ANSWER_CODE = 'ERR_LAYERS_AWS_MALFORMED_ANSWER'

export const MALFORMED_ANSWER_HINT =
  'The endpoint does not implement this call as AWS does: when AWS_ENDPOINT_URL points at a local AWS double (moto, LocalStack ...), update it or use one that does (see "Local AWS doubles" in the README); else check any proxy between you and AWS.'

export interface TimeoutSettings {
  /** --connect-timeout, in seconds as typed. */
  connectTimeout?: string
  /** --read-timeout, in seconds as typed. */
  readTimeout?: string
}

/** The timeouts from the flags, else the environment, else the defaults; a bad value is exit 2 naming its flag or variable. */
export function resolveTimeouts(settings: TimeoutSettings = {}, env: NodeJS.ProcessEnv = process.env): AwsTimeouts {
  const pick = (flag: string, value: string | undefined, variable: string, fallback: number): number => {
    if (value !== undefined) return seconds(value, `--${flag}`)
    const fromEnv = env[variable]
    if (fromEnv !== undefined && fromEnv !== '') return seconds(fromEnv, variable)
    return fallback * 1000
  }
  return {
    connectTimeoutMs: pick('connect-timeout', settings.connectTimeout, 'LAYERS_CONNECT_TIMEOUT', DEFAULT_CONNECT_TIMEOUT_S),
    readTimeoutMs: pick('read-timeout', settings.readTimeout, 'LAYERS_READ_TIMEOUT', DEFAULT_READ_TIMEOUT_S),
  }
}

function seconds(text: string, source: string): number {
  const value = /^\s*\d+(\.\d+)?\s*$/.test(text) ? Number(text) : Number.NaN
  if (!Number.isFinite(value) || value > 3600) {
    // A bad flag is the same kind of problem as every other bad flag value, a bad variable as every other bad variable.
    throw new UserInputError(source.startsWith('--') ? 'ERR_LAYERS_FLAG_VALUE' : 'ERR_LAYERS_ENV', `${source} must be a number of seconds from 0 to 3600, got ${quoteValue(text, 40)}.`, {
      hint: `Give seconds, e.g. ${source.startsWith('--') ? `${source} 30` : `${source}=30`} (0: no limit).`,
      details: {source, value: shorten(text, 40)},
    })
  }
  return Math.round(value * 1000)
}

interface NetError {
  name?: string
  code?: string
  message?: string
  $metadata?: {httpStatusCode?: number; attempts?: number; totalRetryDelay?: number}
  $response?: unknown
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN'])

/** True for an HTTP answer the SDK could not deserialize: it attaches `$response` to the parser's error, which is no service exception (no `$fault`). */
function isUnreadableAnswer(error: unknown): boolean {
  return !!error && typeof error === 'object' && '$response' in error && !('$fault' in error)
}

/** True for a failure without any HTTP answer: refused, reset, no connection in time, a silent socket. */
export function isNoAnswer(error: unknown): boolean {
  if (!error || typeof error !== 'object') return false
  if (error instanceof LayersError) return error.code === NO_ANSWER_CODE
  const err = error as NetError
  if (err.$metadata?.httpStatusCode !== undefined || err.$response !== undefined) return false
  return err.name === 'TimeoutError' || NETWORK_CODES.has(err.code ?? '') || /socket hang up/.test(err.message ?? '')
}

/**
 * The client's own retry strategy (adaptive, with its attempt count), bounded in time: after an error
 * without an answer the next attempt comes only within NO_ANSWER_RETRY_WINDOW_MS of the call's start
 * (with a backoff that ends inside it; a first reset is retried once whenever it comes), after any
 * error only within RETRY_WINDOW_MS. Counts, throttling
 * backoff and the adaptive rate limiter stay the SDK's.
 */
export function timeBoundedRetries(inner: RetryStrategyV2, maxAttempts: number, now: () => number = Date.now): RetryStrategyV2 {
  const started = new WeakMap<RetryToken, number>()
  const strategy: RetryStrategyV2 & {mode?: string} = {
    async acquireInitialRetryToken(scope) {
      const token = await inner.acquireInitialRetryToken(scope)
      started.set(token, now())
      return token
    },
    async refreshRetryTokenForRetry(token, errorInfo: RetryErrorInfo) {
      const start = started.get(token) ?? now()
      const elapsed = now() - start
      if (elapsed >= RETRY_WINDOW_MS) throw new Error('retry time window used up')
      let next: RetryToken
      if (isNoAnswer(errorInfo.error)) {
        const count = token.getRetryCount() + 1
        // A first reset (a stale keep-alive socket, a long upload cut off) is retried whenever it comes;
        // timeouts and refusals only inside the window.
        const firstReset = count === 1 && !isDeadEndpoint(errorInfo.error as NetError)
        const left = firstReset ? Math.max(100, NO_ANSWER_RETRY_WINDOW_MS - elapsed) : NO_ANSWER_RETRY_WINDOW_MS - elapsed
        if (errorInfo.errorType !== 'TRANSIENT' || count >= maxAttempts || left <= 0) throw new Error('no answer: retry time window used up')
        // Full jitter on 100 ms x 2^n, as the SDK's, cut to end inside the window.
        const delay = Math.min(left, Math.floor(Math.random() * Math.min(20_000, 100 * 2 ** count)))
        next = retryToken(count, delay)
      } else {
        next = await inner.refreshRetryTokenForRetry(token, errorInfo)
      }
      started.set(next, start)
      return next
    },
    recordSuccess: (token) => inner.recordSuccess(token),
  }
  const mode = (inner as {mode?: string}).mode
  if (mode) strategy.mode = mode
  return strategy
}

function retryToken(count: number, delay: number): StandardRetryToken {
  return {getRetryCount: () => count, getRetryDelay: () => delay, getRetryCost: () => undefined}
}

interface RetryConfigured {
  config: object
}

/** Bounds in time the retries of a client the SDK made (its `retryStrategy` provider is wrapped once). */
export function boundRetries(client: RetryConfigured, maxAttempts: number): void {
  const config = client.config as {retryStrategy: () => Promise<RetryStrategy | RetryStrategyV2>}
  const own = config.retryStrategy
  let bounded: Promise<RetryStrategy | RetryStrategyV2> | undefined
  config.retryStrategy = () =>
    (bounded ??= own().then((strategy) => ('acquireInitialRetryToken' in strategy ? timeBoundedRetries(strategy, maxAttempts) : strategy)))
}

/** A retry strategy made on first use, for SDK clients layers does not construct (the STS and SSO clients behind credentials). */
export function lazyRetryStrategy(make: () => Promise<RetryStrategyV2>): RetryStrategyV2 {
  let strategy: Promise<RetryStrategyV2> | undefined
  let made: RetryStrategyV2 | undefined
  const get = () => (strategy ??= make().then((value) => (made = value)))
  return {
    acquireInitialRetryToken: async (scope) => (await get()).acquireInitialRetryToken(scope),
    refreshRetryTokenForRetry: async (token, errorInfo) => (await get()).refreshRetryTokenForRetry(token, errorInfo),
    recordSuccess: (token) => made?.recordSuccess(token),
  }
}

/** What a client's calls are for, to name them while waiting and in errors. */
export interface CallTarget {
  service: string
  /** e.g. `dev (111111111111)`, or `the default credentials`. */
  account: string
  region: string
}

/** How callWatcher names a call: for errors raised about its answer (describedCall). */
export interface DescribedCall {
  /** e.g. `lambda GetLayerVersion for account dev (111111111111), region eu-west-1, at https://...`. */
  what: string
  details: CallTarget & {operation: string; endpoint: string}
}

const CALL = Symbol('layers.call')

/**
 * How the call of a middleware `context` is named in errors: as callWatcher named it (service,
 * operation, account, region, endpoint) when the client is one of the factory's, else from what the
 * SDK resolved (operation and endpoint).
 */
export function describedCall(context: object, service: string): DescribedCall {
  const watched = (context as Record<symbol, DescribedCall | undefined>)[CALL]
  if (watched) return watched
  const {commandName, endpointV2} = context as {commandName?: string; endpointV2?: {url?: URL}}
  const operation = (commandName ?? 'call').replace(/Command$/, '')
  const endpoint = endpointV2?.url ? endpointV2.url.origin : 'the default endpoint'
  return {what: `${service} ${operation} at ${endpoint}`, details: {service, account: 'unknown', region: 'unknown', operation, endpoint}}
}

interface RequestShape {
  protocol?: string
  hostname?: string
  port?: number
}

/** A watched call's name and details, made when an error or a notice reads them: most calls never need them (an audit makes thousands a second). */
class WatchedCall implements DescribedCall {
  constructor(
    private readonly target: CallTarget,
    private readonly operation: string,
    private readonly endpoint: string,
  ) {}

  get what(): string {
    return `${this.target.service} ${this.operation} for account ${this.target.account}, region ${this.target.region}, at ${this.endpoint}`
  }

  get details(): DescribedCall['details'] {
    return {...this.target, operation: this.operation, endpoint: this.endpoint}
  }
}

/** Watches one whole call (retries included) of `target`: `operation` to `endpoint`, `run` sending it. */
export type WatchCall = <T>(target: CallTarget, operation: string, endpoint: string, run: (described: DescribedCall) => Promise<T>) => Promise<T>

/**
 * Watches the calls of one run (outside the retries, so it sees each whole call): names a call on the
 * terminal when it is still waiting after WAIT_NOTICE_MS; turns a call that ended without any answer
 * into ERR_LAYERS_AWS_NO_ANSWER naming the operation, account, region and endpoint; and fails at once a
 * call started after another call to the same endpoint timed out or was refused (until a call to it
 * succeeds again), so a dead endpoint costs one timeout per run, not one per call.
 */
export function callWatcher(timeouts: AwsTimeouts, emit: EmitEvent | undefined, now: () => number = Date.now): WatchCall {
  const unanswered = new Map<string, string>()
  return async (target, operation, endpoint, run) => {
    const described = new WatchedCall(target, operation, endpoint)
    const earlier = unanswered.get(endpoint)
    if (earlier) {
      throw new OperationalError(NO_ANSWER_CODE, `No answer from ${described.what}: not sent, as an earlier call to this endpoint in this run got no answer (${earlier}).`, {hint: NO_ANSWER_HINT, details: {...described.details}})
    }
    const start = now()
    let timer: NodeJS.Timeout | undefined
    if (emit) {
      const notice = () => {
        emit({type: 'progress', phase: 'waiting', message: `for ${described.what} (${Math.round((now() - start) / 1000)} s)`})
        timer = setTimeout(notice, WAIT_REPEAT_MS)
        timer.unref()
      }
      timer = setTimeout(notice, WAIT_NOTICE_MS)
      timer.unref()
    }
    try {
      const result = await run(described)
      unanswered.delete(endpoint)
      return result
    } catch (error) {
      // The answer could not be read as the operation's (an HTML 404 page, a body of another shape).
      if (!(error instanceof LayersError) && isUnreadableAnswer(error)) {
        const status = (error as {$response?: {statusCode?: number}}).$response?.statusCode
        const reason = String((error as Error).message ?? error).split('\n')[0] ?? ''
        throw new OperationalError(MALFORMED_ANSWER_CODE, `The answer to ${described.what} is not one AWS gives (HTTP ${status ?? 'status unknown'}: ${shorten(reason, 120)}).`, {
          hint: MALFORMED_ANSWER_HINT,
          cause: error,
          details: {...described.details, ...(status !== undefined ? {httpStatus: status} : {})},
        })
      }
      if (!isNoAnswer(error) || error instanceof LayersError) throw error
      const reason = noAnswerReason(error as NetError, timeouts)
      // A timeout or a refusal says the endpoint is down; a reset (a lost answer, a stale keep-alive
      // socket) does not, and the caller may well have to look at what its write did.
      if (isDeadEndpoint(error as NetError)) unanswered.set(endpoint, reason)
      const attempts = (error as NetError).$metadata?.attempts ?? 1
      throw new OperationalError(NO_ANSWER_CODE, `No answer from ${described.what}: ${reason}; ${attempts} attempt${attempts === 1 ? '' : 's'} in ${((now() - start) / 1000).toFixed(1)} s.`, {
        hint: NO_ANSWER_HINT,
        cause: error,
        details: {...described.details, error: (error as NetError).code ?? (error as NetError).name},
      })
    } finally {
      clearTimeout(timer)
    }
  }
}

/** `watch` as build-step middleware of an SDK client: each call is named as describedCall reads it back. */
export function watchMiddleware(watch: WatchCall, target: CallTarget): BuildMiddleware<object, object> {
  return (next, context) => (args) => {
    const request = args.request as RequestShape
    const endpoint = request.hostname ? `${request.protocol ?? 'https:'}//${request.hostname}${request.port ? `:${request.port}` : ''}` : 'the default endpoint'
    const operation = (context.commandName ?? 'call').replace(/Command$/, '')
    return watch(target, operation, endpoint, (described) => {
      ;(context as Record<symbol, unknown>)[CALL] = described satisfies DescribedCall
      return next(args)
    })
  }
}

const NO_ANSWER_HINT =
  'Check the network, any proxy and AWS_ENDPOINT_URL (when set), then run again; on a slow link raise --connect-timeout / --read-timeout (or LAYERS_CONNECT_TIMEOUT / LAYERS_READ_TIMEOUT).'

type NoAnswerKind = 'refused' | 'connect-timeout' | 'read-timeout' | 'unresolved' | 'unreachable' | 'reset'

/** What kind of no-answer: smithy names ECONNRESET and EPIPE TimeoutError too, so the code and message decide. */
function noAnswerKind(error: NetError): NoAnswerKind {
  const message = error.message ?? ''
  if (error.code === 'ECONNREFUSED') return 'refused'
  if (/did not establish a connection/.test(message)) return 'connect-timeout'
  if (/timed out after \d+ ms of inactivity/.test(message)) return 'read-timeout'
  if (error.code === 'ENOTFOUND' || error.code === 'EAI_AGAIN') return 'unresolved'
  if (['ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH'].includes(error.code ?? '')) return 'unreachable'
  return 'reset'
}

/** A timeout or a refusal says the endpoint is down; a reset (a lost answer, a stale keep-alive socket) does not. */
function isDeadEndpoint(error: NetError): boolean {
  return noAnswerKind(error) !== 'reset'
}

function noAnswerReason(error: NetError, timeouts: AwsTimeouts): string {
  switch (noAnswerKind(error)) {
    case 'refused':
      return 'the connection was refused'
    case 'connect-timeout':
      return `no connection within ${timeouts.connectTimeoutMs / 1000} s (--connect-timeout)`
    case 'read-timeout':
      return `nothing came back for ${timeouts.readTimeoutMs / 1000} s (--read-timeout)`
    case 'unresolved':
      return 'the host name did not resolve'
    case 'unreachable':
      return `the host could not be reached (${error.code})`
    case 'reset':
      return `the connection was closed before an answer came (${error.code ?? error.name ?? 'reset'})`
  }
}
