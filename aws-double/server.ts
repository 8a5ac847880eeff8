// The HTTP side of the local AWS test server (it runs in a worker thread, see index.ts): routes each
// request by the service of its SigV4 credential scope (lambda, s3, sts, organizations, account, ssm, ecr), authenticates it (account from
// the access key, region from the scope), applies the current faults (before the service handles the
// request: drop, throttle, 500, stall, hold; after it: a lost answer), lets the service answer, and
// reports the call. Direct calls (bulk seeding) skip all of that: a Lambda call applied to the state as
// the handler would apply it, with no HTTP, signing, faults, quota or record. Content Location URLs (layer and function zips) are served without signing, as
// AWS's presigned URLs are, and reported as operation DownloadContent (no account or region).
import {createServer, type IncomingMessage, type ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'
import {Accounts} from './auth.js'
import {ApiError, DEFAULT_ACCOUNTS, header, serverNow, setClockOffset, json11Error, json11Operation, requestId, SERVICES, tick, type Reply, type RequestContext, type ServiceName} from './common.js'
import {Faults, type FaultConfig} from './faults.js'
import {partitionOf} from './auth.js'
import type {AwsServerOptions, CallRecord, DirectCall, DirectReply} from './index.js'
import {Lambda, lambdaError, lambdaRoute, type BlobStore} from './lambda.js'
import {memoryOnly, sqlitePersistence} from './persist.js'
import {S3, s3Error, s3Operation, s3Target} from './s3.js'
import {accountOperation, handleAccount, handleOrganizations, organizationsOperation} from './org.js'
import {Ssm, SSM_TARGET_PREFIX} from './ssm.js'
import {Ecr, ECR_TARGET_PREFIX} from './ecr.js'
import {Sts, stsError} from './sts.js'

const CONTENT_PREFIX = '/__aws-test-server/content/'

/** Which service a request is for: the SigV4 scope says; without one, guess from its shape. */
function serviceOf(req: IncomingMessage, body: Buffer): ServiceName {
  const scope = /Credential=[^/]+\/\d{8}\/[^/]+\/([^/]+)\//.exec(req.headers.authorization ?? '')
  if (scope && (SERVICES as readonly string[]).includes(scope[1]!)) return scope[1] as ServiceName
  if (/^\/20(15-03-31|17-03-31|18-10-31)\//.test(req.url ?? '')) return 'lambda'
  if (/^AWSOrganizations/.test(header(req.headers, 'x-amz-target') ?? '')) return 'organizations'
  if (/^AmazonSSM\./.test(header(req.headers, 'x-amz-target') ?? '')) return 'ssm'
  if ((header(req.headers, 'x-amz-target') ?? '').startsWith(ECR_TARGET_PREFIX)) return 'ecr'
  if (req.method === 'POST' && /(^|&)Action=/.test(body.toString('utf8'))) return 'sts'
  return 's3'
}

function operationOf(service: ServiceName, req: IncomingMessage, url: URL, body: Buffer): string {
  if (service === 'lambda') return lambdaRoute(req.method ?? 'GET', url).operation
  if (service === 'sts') return Sts.operation(body)
  if (service === 'organizations') return organizationsOperation(header(req.headers, 'x-amz-target'))
  if (service === 'ssm') return json11Operation(SSM_TARGET_PREFIX, header(req.headers, 'x-amz-target'))
  if (service === 'ecr') return json11Operation(ECR_TARGET_PREFIX, header(req.headers, 'x-amz-target'))
  if (service === 'account') return accountOperation(req.method ?? 'GET', url)
  return s3Operation(req.method ?? 'GET', url, header(req.headers, 'host') ?? '', req.headers)
}

function errorReply(service: ServiceName, error: ApiError, id: string, method: string): Reply {
  if (service === 'ssm' || service === 'ecr') return json11Error(error, id)
  if (service === 'lambda' || service === 'organizations' || service === 'account') return lambdaError(error, id)
  if (service === 'sts') return stsError(error, id)
  return s3Error(error, id, method)
}

function throttleError(service: ServiceName): ApiError {
  if (service === 's3') return new ApiError(503, 'SlowDown', 'Please reduce your request rate.')
  if (service === 'sts') return new ApiError(400, 'Throttling', 'Rate exceeded')
  if (service === 'organizations') return new ApiError(400, 'TooManyRequestsException', 'You have sent too many requests in too short a period of time.')
  if (service === 'account') return new ApiError(429, 'TooManyRequestsException', 'Rate exceeded')
  if (service === 'ssm' || service === 'ecr') return new ApiError(400, 'ThrottlingException', 'Rate exceeded')
  return new ApiError(429, 'TooManyRequestsException', 'Rate exceeded', {Reason: 'CallerRateLimitExceeded'})
}

/** An explicit deny (faults.deny): what each service answers a caller without permission. */
function deniedError(service: ServiceName, operation: string, callerArn: string): ApiError {
  if (service === 's3') return new ApiError(403, 'AccessDenied', 'Access Denied')
  if (service === 'sts') return new ApiError(403, 'AccessDenied', `User: ${callerArn} is not authorized to perform: sts:${operation} with an explicit deny`)
  if (service === 'organizations') return new ApiError(400, 'AccessDeniedException', "You don't have permissions to access this resource.")
  if (service === 'ssm' || service === 'ecr') return new ApiError(400, 'AccessDeniedException', `User: ${callerArn} is not authorized to perform: ${service}:${operation} with an explicit deny in an identity-based policy`)
  return new ApiError(403, 'AccessDeniedException', `User: ${callerArn} is not authorized to perform: ${service}:${operation} with an explicit deny in an identity-based policy`)
}

function internalError(service: ServiceName): ApiError {
  if (service === 's3') return new ApiError(500, 'InternalError', 'We encountered an internal error. Please try again.')
  if (service === 'sts') return new ApiError(500, 'InternalFailure', 'The request processing has failed because of an unknown error, exception or failure.')
  if (service === 'ssm') return new ApiError(500, 'InternalServerError', 'An error occurred on the server side.')
  if (service === 'ecr') return new ApiError(500, 'ServerException', 'An error occurred on the server side.')
  return new ApiError(500, 'ServiceException', 'An internal error occurred.')
}

/** The server's clock as an HTTP Date header (node:http would send the host's). */
function httpDate(): string {
  return new Date(serverNow()).toUTCString()
}

export interface ServerHooks {
  record(call: CallRecord): void
  /** The fault configuration when it changed since the last call, else `unchanged`. */
  pollFaults(): FaultConfig | undefined | 'unchanged'
}

/** Starts the HTTP server in this thread (the worker); the test talks to it through `hooks`. */
export async function serveAws(options: AwsServerOptions, hooks: ServerHooks): Promise<{endpoint: string; direct(call: DirectCall): Promise<DirectReply>; close(): Promise<void>}> {
  const accounts = new Accounts(options.accounts ?? DEFAULT_ACCOUNTS)
  const faults = new Faults(options.faults)
  setClockOffset(options.clockOffsetMs ?? 0)
  const persistence = options.dbFile ? sqlitePersistence(options.dbFile) : memoryOnly
  const blobMap = new Map<string, Buffer>()
  const blobs: BlobStore = {get: (id) => blobMap.get(id), set: (id, bytes) => void blobMap.set(id, bytes), delete: (id) => void blobMap.delete(id)}
  const s3 = new S3(persistence)
  const ecr = new Ecr(options.ecr)
  const lambda = new Lambda(persistence, blobs, s3, {
    updateDelayMs: options.updateDelayMs ?? 0,
    organizations: options.organizations ?? {},
    ...(options.failUpdates ? {failUpdates: options.failUpdates} : {}),
    ...(options.today ? {today: options.today} : {}),
    ...(options.stacks ? {stacks: options.stacks} : {}),
    ...(options.ecr ? {images: {host: new URL(options.ecr.registry).host, imageOf: (ctx, uri) => ecr.imageOf(ctx, uri)}} : {}),
    quotas: () => faults.quotas(),
  })
  const sts = new Sts(accounts, options.roles)
  const ssm = new Ssm(persistence, options.publicParameters)
  const orgOptions = {organizations: options.organizations ?? {}, accountNames: options.accountNames ?? {}, optInRegions: options.optInRegions ?? {}}
  let endpoint = ''

  const send = (res: ServerResponse, reply: Reply, id: string, service: ServiceName): void => {
    // AWS's clock in every answer's Date header: what the SDK corrects a skewed signing clock from.
    const headers: Record<string, string> = {date: httpDate(), ...(service === 's3' ? {'x-amz-request-id': id, 'x-amz-id-2': id} : {'x-amzn-requestid': id}), ...reply.headers}
    const body = reply.body === undefined ? Buffer.alloc(0) : Buffer.isBuffer(reply.body) ? reply.body : Buffer.from(reply.body, 'utf8')
    if (headers['content-length'] === undefined) headers['content-length'] = String(body.length)
    res.writeHead(reply.status, headers)
    res.end(body)
  }

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const body = Buffer.concat(chunks)
    const rawUrl = req.url ?? '/'
    // Concatenated, not resolved: a path starting with // stays a path.
    const url = new URL(`http://127.0.0.1${rawUrl.startsWith('/') ? '' : '/'}${rawUrl}`)
    const method = req.method ?? 'GET'
    if (url.pathname.startsWith(CONTENT_PREFIX) && (method === 'GET' || method === 'HEAD')) {
      const bytes = blobs.get(url.pathname.slice(CONTENT_PREFIX.length))
      res.writeHead(bytes ? 200 : 404, {date: httpDate(), 'content-type': bytes ? 'application/zip' : 'text/plain', 'content-length': String(bytes ? bytes.length : 9)})
      res.end(bytes ?? 'Not Found')
      hooks.record({service: 'lambda', operation: 'DownloadContent', accountId: '', region: '', status: bytes ? 200 : 404, at: Date.now()})
      return
    }
    const service = serviceOf(req, body)
    let operation: string
    try {
      operation = operationOf(service, req, url, body)
    } catch {
      operation = 'MalformedRequest'
    }
    const id = requestId()
    const received = tick()
    const record: CallRecord = {service, operation, accountId: '', region: '', status: 0}
    if (service === 's3') {
      try {
        const {key} = s3Target(url, header(req.headers, 'host') ?? '')
        if (key !== undefined) record.key = key
      } catch {
        // a malformed path: the handler answers InvalidURI
      }
    }
    const polled = hooks.pollFaults()
    if (polled !== 'unchanged') faults.set(polled)
    const answerOf = async (ctx: RequestContext, caller: Parameters<Sts['handle']>[1]): Promise<Reply> => {
      if (service === 'lambda') return await lambda.handle(ctx)
      if (service === 'sts') return sts.handle(ctx, caller)
      if (service === 'organizations') return handleOrganizations(ctx, orgOptions)
      if (service === 'account') return handleAccount(ctx, orgOptions)
      if (service === 'ssm') return ssm.handle(ctx)
      if (service === 'ecr') return await ecr.handle(ctx)
      return s3.handle(ctx)
    }
    const reply = async (): Promise<Reply | 'drop' | 'stall' | 'discarded'> => {
      try {
        const caller = accounts.authenticate({method, rawUrl, headers: req.headers, body}, service)
        record.accountId = caller.accountId
        record.region = caller.region
        const latency = faults.latency(operation)
        if (latency > 0) await new Promise((resolve) => setTimeout(resolve, latency))
        if (faults.denies(operation, caller.accountId, caller.region)) throw deniedError(service, operation, caller.arn)
        const fault = faults.decide(operation)
        if (fault === 'drop' || fault === 'stall') return fault
        if (fault === 'throttle') throw throttleError(service)
        if (fault === 'error') throw internalError(service)
        if (faults.holds(operation) && !(await held())) return 'discarded'
        const ctx: RequestContext = {service, operation, method, url, headers: req.headers, body, accountId: caller.accountId, region: caller.region, callerArn: caller.arn, endpoint, received}
        if (fault === 'lose') {
          // Handled (an error answer, e.g. a 404, is lost as well), then the answer is lost.
          await answerOf(ctx, caller).catch((error: unknown) => {
            if (!(error instanceof ApiError)) throw error
          })
          record.fault = 'lost'
          if (faults.loseAnswerAs() === 'reset') return 'drop'
          return errorReply(service, internalError(service), id, method)
        }
        return await answerOf(ctx, caller)
      } catch (error) {
        if (error instanceof ApiError) return errorReply(service, error, id, method)
        if (error instanceof URIError) {
          return errorReply(service, service === 's3' ? new ApiError(400, 'InvalidURI', "Couldn't parse the specified URI.") : new ApiError(400, 'ValidationException', `The request URI is not valid: ${rawUrl}`), id, method)
        }
        return errorReply(service, new ApiError(500, internalError(service).code, `aws-server bug: ${(error as Error).stack ?? String(error)}`), id, method)
      }
    }
    /** Holds the request until the faults no longer hold its operation (true) or the client went away first (false). */
    const held = (): Promise<boolean> => {
      hooks.record({...record, fault: 'held'})
      if (req.socket.destroyed) return Promise.resolve(false)
      return new Promise((resolve) => {
        const timer = setInterval(() => {
          const polled = hooks.pollFaults()
          if (polled !== 'unchanged') faults.set(polled)
          if (!faults.holds(operation)) finish(true)
        }, 2)
        const onClose = () => finish(false)
        const finish = (apply: boolean) => {
          clearInterval(timer)
          req.socket.off('close', onClose)
          resolve(apply)
        }
        req.socket.once('close', onClose)
      })
    }
    const result = await reply()
    record.at = Date.now()
    if (result === 'stall') {
      // Accepted and never answered: the client's timeouts (or server.close) end it.
      hooks.record({...record, fault: 'stall'})
      return
    }
    if (result === 'discarded') {
      hooks.record({...record, fault: 'discarded'})
      return
    }
    if (result === 'drop') {
      record.fault ??= 'drop'
      hooks.record(record)
      req.socket.destroy()
      return
    }
    record.status = result.status
    hooks.record(record)
    send(res, result, id, service)
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: Error) => {
      if (!res.headersSent) res.writeHead(500, {'content-type': 'text/plain'})
      res.end(`aws-server bug: ${error.stack ?? error.message}`)
    })
  })
  server.keepAliveTimeout = 60_000
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve())
  })
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

  const direct = async (call: DirectCall): Promise<DirectReply> => {
    const url = new URL(`http://127.0.0.1${call.path}`)
    const body = call.body === undefined ? Buffer.alloc(0) : Buffer.from(JSON.stringify(call.body))
    const operation = lambdaRoute(call.method, url).operation
    const callerArn = `arn:${partitionOf(call.region)}:iam::${call.accountId}:root`
    const ctx: RequestContext = {service: 'lambda', operation, method: call.method, url, headers: {}, body, accountId: call.accountId, region: call.region, callerArn, endpoint, received: tick()}
    try {
      const reply = await lambda.apply(ctx)
      return {status: reply.status, ...(reply.body === undefined || reply.body.length === 0 ? {} : {body: JSON.parse(reply.body.toString()) as unknown})}
    } catch (error) {
      if (error instanceof ApiError) return {status: error.status, error: {code: error.code, message: error.message}}
      throw error
    }
  }

  return {
    endpoint,
    direct,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => {
          persistence.close()
          resolve()
        })
      }),
  }
}
