// Owns Lambda's read calls sent as signed REST-JSON requests without an SDK client: the audit's reads
// (ListFunctions, ListAliases, GetFunctionConfiguration, GetLayerVersion, ListTags), where the SDK's
// per-call middleware stack cost more CPU than everything else a call does (bench/audit/sdk-overhead.mjs
// prints both), and an SDK client per account and region cost an audit of hundreds of them more memory
// than their reads (bench/audit/scale.mjs). Everything a client would bring is the SDK's own, given per
// account and region (src/aws/clients.ts): the account's credentials, the region's endpoint (resolved
// once, as the SDK resolves it: lambdaEndpointOf), the shared request handler (keep-alive pool, connect
// and read timeouts), an adaptive retry strategy (bounded in time: src/aws/time-bounds.ts), the SDK's
// SigV4 signing config and auth scheme (AwsSdkSigV4Signer: each attempt signed at the corrected clock,
// the offset taken from the Date header of every answer, a refusal for skew marked so the strategy
// retries it; the signature itself is src/aws/sigv4-get.ts's), the run's request budget and its call
// watcher. Errors come out as the SDK's would (its exception classes, name, message, $fault and
// $metadata), so every caller reads them one way.
import type {Readable} from 'node:stream'
import * as lambda from '@aws-sdk/client-lambda'
import {AwsSdkSigV4Signer, resolveAwsSdkSigV4Config} from '@aws-sdk/core/httpAuthSchemes'
import {Sha256} from '@smithy/core/checksum'
import {getEndpointFromInstructions} from '@smithy/core/endpoints'
import {HttpRequest} from '@smithy/core/protocols'
import {getRetryAfterHint, isServerError, isThrottlingError, isTransientError} from '@smithy/core/retry'
import type {AwsCredentialIdentityProvider, HttpResponse, RetryErrorInfo, RetryErrorType, RetryStrategyV2} from '@smithy/types'
import type {RequestBudget} from './request-budget.js'
import {GetRequestSigner} from './sigv4-get.js'
import type {CallTarget, DescribedCall, WatchCall} from './time-bounds.js'

/**
 * GET one Lambda REST-JSON resource: the parsed JSON body of a 2xx answer. `check` refuses an answer
 * that is not one AWS gives (it throws), given how the call is named in errors.
 */
export type LambdaRestGet = <T>(operation: string, path: string, query: Record<string, string>, check?: (reply: T, call: DescribedCall) => void) => Promise<T>

/** What an SDK client would bring to the calls of one account and region. */
export interface LambdaRestConnection {
  /** Lambda's endpoint in the region (lambdaEndpointOf). */
  endpoint: URL
  /** The account's credentials (one provider for all its regions). */
  credentials: AwsCredentialIdentityProvider
  /** Sends a signed request (the SDK's NodeHttpHandler: the run's one keep-alive pool). */
  requestHandler: {handle(request: HttpRequest): Promise<{response: HttpResponse}>}
  /** This account and region's own (the adaptive rate limiter learns from its throttles). */
  retryStrategy: RetryStrategyV2
}

export interface LambdaRestOptions {
  budget: RequestBudget
  accountId: string
  region: string
  /** The run's call watcher (waiting line, no-answer and unreadable-answer errors), and what it names the calls of these reads. */
  watch: WatchCall
  target: CallTarget
}

/** Lambda's endpoint for an SDK client config (its region, --endpoint-url, AWS_ENDPOINT_URL(_LAMBDA), the config file, FIPS and dual-stack settings), as its commands resolve it. */
export async function lambdaEndpointOf(config: lambda.LambdaClientResolvedConfig): Promise<URL> {
  const endpoint = await getEndpointFromInstructions({}, lambda.ListFunctionsCommand, config as never)
  return new URL(endpoint.url.href)
}

/** The GET of one account and region: one signed request per attempt, retried by its strategy, a budget token per attempt. */
export async function lambdaRestGet(connection: LambdaRestConnection, options: LambdaRestOptions): Promise<LambdaRestGet> {
  const url = connection.endpoint
  const basePath = url.pathname.replace(/\/$/, '')
  const sigv4 = new AwsSdkSigV4Signer()
  // The SDK's signing config (clock skew correction as the environment and config file say, the
  // offset kept here for this account and region), with a GET signer made once in place of the
  // SignatureV4 the SDK makes per request (src/aws/sigv4-get.ts says why). The endpoint settings it
  // also takes serve only a region-info signer, which Lambda's clients do not use.
  const signingConfig = resolveAwsSdkSigV4Config({credentials: connection.credentials, region: options.region, sha256: Sha256, signingName: 'lambda', serviceId: 'Lambda'} as Parameters<typeof resolveAwsSdkSigV4Config>[0])
  const signer = new GetRequestSigner(connection.credentials, options.region, 'lambda')
  signingConfig.signer = () => Promise.resolve(signer)
  const strategy = connection.retryStrategy
  const handler = connection.requestHandler
  const port = url.port ? Number(url.port) : undefined

  const attempt = async <T>(operation: string, path: string, query: Record<string, string>): Promise<T> => {
    const request = new HttpRequest({
      method: 'GET',
      protocol: url.protocol,
      hostname: url.hostname,
      ...(port !== undefined ? {port} : {}),
      path: basePath + path,
      query,
      headers: {host: url.host, 'user-agent': 'layers'},
    })
    // Per attempt, as the SDK's signing middleware has them: the signer notes there when it signed.
    const signingProperties = {config: signingConfig, context: {}, signingRegion: options.region, signingName: 'lambda'}
    const signed = await sigv4.sign(request, await connection.credentials(), signingProperties)
    try {
      const {response} = await handler.handle(signed as HttpRequest)
      const body = await text(response)
      const parsed = jsonObject(body)
      if (response.statusCode >= 200 && response.statusCode < 300) {
        sigv4.successHandler(response, signingProperties)
        if (parsed) return parsed as T
        throw unreadable(response, `${operation}: the answer is not a JSON object`)
      }
      // A 4xx that names no error (an HTML page of something that is not Lambda) is no answer of Lambda's;
      // a 5xx is a server error whatever its body (retried as the SDK retries it).
      if (response.statusCode < 500 && !header(response, 'x-amzn-errortype') && typeof (parsed?.__type ?? parsed?.code ?? parsed?.message ?? parsed?.Message) !== 'string') {
        throw unreadable(response, `${operation}: HTTP ${response.statusCode} without an AWS error`)
      }
      throw serviceError(response, parsed ?? {}, operation)
    } catch (error) {
      // The server's clock from the answer's Date header, as the SDK takes it: the next attempt is signed with it.
      return sigv4.errorHandler(signingProperties)(error as Error)
    }
  }

  const call = async <T>(operation: string, path: string, query: Record<string, string>): Promise<T> => {
    let token = await strategy.acquireInitialRetryToken('')
    let attempts = 0
    let totalRetryDelay = 0
    for (;;) {
      try {
        // The first attempt's token was taken before the request was built; each retry takes its own.
        if (attempts > 0) await options.budget.take(options.accountId, options.region, operation)
        attempts++
        const result = await attempt<T>(operation, path, query)
        strategy.recordSuccess(token)
        return result
      } catch (error) {
        try {
          token = await strategy.refreshRetryTokenForRetry(token, retryErrorInfo(error))
        } catch {
          const metadata = ((error as {$metadata?: Record<string, unknown>}).$metadata ??= {})
          Object.assign(metadata, {attempts, totalRetryDelay})
          throw error
        }
        const delay = token.getRetryDelay()
        totalRetryDelay += delay
        if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay))
      }
    }
  }

  const origin = url.origin
  // Not an async function: a call waiting for its token (most of an audit's reads in flight) holds no frame of this one.
  return <T>(operation: string, path: string, query: Record<string, string>, check?: (reply: T, call: DescribedCall) => void): Promise<T> =>
    options.budget.take(options.accountId, options.region, operation).then(() =>
      // Watched as a whole, retries included, as the SDK clients' calls are in their build step.
      options.watch(options.target, operation, origin, async (described) => {
        const reply = await call<T>(operation, path, query)
        check?.(reply, described)
        return reply
      }),
    )
}

/**
 * The answer's body as UTF-8 text. Read through its events, not `for await`: a stream's async iterator
 * and its end-of-stream watcher allocated more per call than the body itself. An error of the stream
 * (the socket timed out or was reset) rejects, as does a close before the end.
 */
function text(response: HttpResponse): Promise<string> {
  const body = response.body as Readable
  return new Promise((resolve, reject) => {
    let read = ''
    let ended = false
    body.setEncoding('utf8')
    body.on('data', (chunk: string) => void (read += chunk))
    body.once('end', () => {
      ended = true
      resolve(read)
    })
    body.once('error', reject)
    body.once('close', () => {
      if (!ended) reject(Object.assign(new Error('the answer ended before its body did'), {code: 'ERR_STREAM_PREMATURE_CLOSE'}))
    })
  })
}

function header(response: HttpResponse, name: string): string | undefined {
  const value = response.headers[name] ?? Object.entries(response.headers).find(([key]) => key.toLowerCase() === name)?.[1]
  return value === undefined ? undefined : String(value)
}

function jsonObject(body: string): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(body)
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}

/** An answer that is not one of Lambda's, shaped as the SDK's are (`$response`, no `$fault`): the call watcher names it ERR_LAYERS_AWS_MALFORMED_ANSWER. */
function unreadable(response: HttpResponse, message: string): Error {
  return Object.assign(new Error(message), {$response: response})
}

/** The error of a non-2xx answer, as the SDK builds it: its exception class for the name Lambda gave, else LambdaServiceException. */
function serviceError(response: HttpResponse, fields: Record<string, unknown>, operation: string): Error {
  const typed = header(response, 'x-amzn-errortype') ?? (typeof fields.__type === 'string' ? fields.__type : undefined) ?? (typeof fields.code === 'string' ? fields.code : undefined)
  const name = typed ? (typed.split(':')[0]!.split('#').pop() ?? typed) : `${operation}Error${response.statusCode}`
  const message = String(fields.message ?? fields.Message ?? `HTTP ${response.statusCode} from Lambda ${operation}`)
  const $metadata: Record<string, unknown> = {httpStatusCode: response.statusCode, requestId: header(response, 'x-amzn-requestid')}
  const Known = (lambda as unknown as Record<string, unknown>)[name]
  const $fault = response.statusCode >= 500 ? 'server' : 'client'
  const error =
    typeof Known === 'function' && Known.prototype instanceof lambda.LambdaServiceException
      ? new (Known as new (options: object) => Error)({...fields, message, $metadata})
      : new lambda.LambdaServiceException({...fields, name, message, $fault, $metadata: $metadata as never})
  return Object.assign(error, {$response: response})
}

/** What the retry strategy reads of a failure, as the SDK's retry middleware reads it. */
function retryErrorInfo(error: unknown): RetryErrorInfo {
  const sdkError = error as never
  const errorType: RetryErrorType = isThrottlingError(sdkError) ? 'THROTTLING' : isTransientError(sdkError) ? 'TRANSIENT' : isServerError(sdkError) ? 'SERVER_ERROR' : 'CLIENT_ERROR'
  const retryAfterHint = getRetryAfterHint((error as {$response?: unknown}).$response as never)
  return {error: sdkError, errorType, ...(retryAfterHint ? {retryAfterHint} : {})}
}
