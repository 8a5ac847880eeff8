// Owns Lambda's read calls sent as signed REST-JSON requests without the SDK's per-call middleware
// stack: the audit's hot path (ListFunctions, ListAliases, GetFunctionConfiguration), where that stack
// cost more CPU than everything else a call does (bench/audit/sdk-overhead.mjs prints both). Everything
// but the stack is the SDK client's own: its credentials, its endpoint (resolved once, as the SDK
// resolves it: --endpoint-url, AWS_ENDPOINT_URL(_LAMBDA), the config file, else the region's), its
// request handler (keep-alive pool, connect and read timeouts), its retry strategy (adaptive, bounded in
// time: src/aws/time-bounds.ts), its signer and its clock-skew offset, kept by the SDK's own SigV4 auth
// scheme (AwsSdkSigV4Signer: each attempt signed at the corrected clock, the offset taken from the Date
// header of every answer, a refusal for skew marked so the strategy retries it); and the run's request
// budget and call watcher, as on every Lambda client. Errors come out as the SDK's would (its exception classes, name,
// message, $fault and $metadata), so every caller reads them one way.
import * as lambda from '@aws-sdk/client-lambda'
import {AwsSdkSigV4Signer} from '@aws-sdk/core/httpAuthSchemes'
import {HttpRequest} from '@smithy/core/protocols'
import {getRetryAfterHint, isServerError, isThrottlingError, isTransientError} from '@smithy/core/retry'
import {getEndpointFromInstructions} from '@smithy/core/endpoints'
import type {HttpResponse, RetryErrorInfo, RetryErrorType, RetryStrategyV2} from '@smithy/types'
import type {RequestBudget} from './request-budget.js'
import type {CallTarget, WatchCall} from './time-bounds.js'

/** GET one Lambda REST-JSON resource: the parsed JSON body of a 2xx answer. */
export type LambdaRestGet = <T>(operation: string, path: string, query: Record<string, string>) => Promise<T>

export interface LambdaRestOptions {
  budget: RequestBudget
  accountId: string
  region: string
  /** The run's call watcher (waiting line, no-answer and unreadable-answer errors), and what it names the calls of this client. */
  watch: WatchCall
  target: CallTarget
}

/** The GET of `client`'s account and region: one signed request per attempt, retried by the client's own strategy. */
export async function lambdaRestGet(client: lambda.LambdaClient, options: LambdaRestOptions): Promise<LambdaRestGet> {
  const config = client.config
  const endpoint = await getEndpointFromInstructions({}, lambda.ListFunctionsCommand, config as never)
  const url = endpoint.url
  const basePath = url.pathname.replace(/\/$/, '')
  const sigv4 = new AwsSdkSigV4Signer()
  // The client's signing config with its signer made once (the SDK makes one per request, copying the
  // whole config); the clock offset read and written is the client's own, shared with its commands.
  const signer = await config.signer()
  const signingConfig = {
    signer: () => Promise.resolve(signer),
    disableClockSkewCorrection: config.disableClockSkewCorrection,
    get systemClockOffset() {
      return config.systemClockOffset
    },
    set systemClockOffset(offset: number) {
      config.systemClockOffset = offset
    },
  }
  const strategy = (await config.retryStrategy()) as RetryStrategyV2
  const handler = config.requestHandler as {handle(request: HttpRequest): Promise<{response: HttpResponse}>}
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
    const signed = await sigv4.sign(request, await config.credentials(), signingProperties)
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
  return async <T>(operation: string, path: string, query: Record<string, string>): Promise<T> => {
    await options.budget.take(options.accountId, options.region, operation)
    // Watched as a whole, retries included, as the SDK clients' calls are in their build step.
    return options.watch(options.target, operation, origin, () => call<T>(operation, path, query))
  }
}

async function text(response: HttpResponse): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of response.body as AsyncIterable<Buffer>) chunks.push(chunk)
  return Buffer.concat(chunks).toString('utf8')
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
