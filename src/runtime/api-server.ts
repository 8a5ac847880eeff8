// Owns a local Lambda Runtime API (version 2018-06-01) on loopback, for running a custom runtime's
// `bootstrap` outside Lambda (`layers run`, runtime template tests). The runtime process gets
// AWS_LAMBDA_RUNTIME_API=<address>; `invoke()` queues an event and resolves with what the runtime
// posted. Behaviour follows Lambda's:
// - GET  /2018-06-01/runtime/invocation/next blocks until an event is queued, then answers 200 with
//   the event and headers Lambda-Runtime-Aws-Request-Id, -Deadline-Ms (epoch ms), -Invoked-Function-Arn,
//   -Trace-Id (X-Ray format) and, when given, -Client-Context and -Cognito-Identity.
// - POST .../invocation/{id}/response and .../invocation/{id}/error answer 202 {"status":"OK"}; an
//   unknown id 400 InvalidRequestID, an id already answered (or timed out) 400 InvalidStateTransition,
//   a response over 6,291,556 bytes 413 RequestEntityTooLarge (the invocation then fails with
//   Function.ResponseSizeTooLarge, as on Lambda).
// - POST /2018-06-01/runtime/init/error answers 202; queued and later invocations then fail with the
//   init error (Lambda serves it in response to the invoke).
// - An invocation not answered by its deadline resolves as `timeout`; stopping the process is the
//   caller's job (Lambda would stop the sandbox).
// Events over 6,291,456 bytes are refused, like Lambda's synchronous Invoke.
import {randomBytes, randomUUID} from 'node:crypto'
import http, {type IncomingMessage, type ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'
import {OperationalError, UserInputError} from '../errors/index.js'

/** Lambda's synchronous invocation limits (request and response payloads). */
export const MAX_EVENT_BYTES = 6_291_456
export const MAX_RESPONSE_BYTES = 6_291_556
export const DEFAULT_TIMEOUT_MS = 3000
export const DEFAULT_FUNCTION_ARN = 'arn:aws:lambda:us-east-1:000000000000:function:layers-local'
const PREFIX = '/2018-06-01/runtime'

/** Lambda's error document, as runtimes post it. */
export interface LambdaErrorDocument {
  errorType: string
  errorMessage: string
  stackTrace?: string[]
}

export interface InvokeOptions {
  requestId?: string
  functionArn?: string
  /** Milliseconds from hand-out to the deadline (the function's timeout). */
  timeoutMs?: number
  /** Lambda-Runtime-Trace-Id; a new X-Ray trace header when absent. */
  traceId?: string
  clientContext?: string
  cognitoIdentity?: string
}

interface ResultBase {
  requestId: string
  /** From hand-out to the runtime's answer (0 when never handed out). */
  durationMs: number
}

export type InvocationResult =
  | (ResultBase & {status: 'success'; payload: Buffer})
  | (ResultBase & {
      /** `error`: the function failed; `init-error`: the runtime failed to start; `timeout`: no answer by the deadline. */
      status: 'error' | 'init-error' | 'timeout'
      /** The raw error body the runtime posted (empty for timeouts). */
      payload: Buffer
      /** The parsed error document (or one built from the Lambda-Runtime-Function-Error-Type header). */
      error: LambdaErrorDocument
    })

/** What the runtime received with an invocation (for tests and `layers run` output). */
export interface HandedOut {
  requestId: string
  deadlineMs: number
  functionArn: string
  traceId: string
}

export interface RuntimeApiServer {
  /** host:port, the value for AWS_LAMBDA_RUNTIME_API. */
  readonly address: string
  /** Queues an event (raw JSON bytes) and resolves when the runtime answers it, fails it or times out. */
  invoke(payload: Buffer | string, options?: InvokeOptions): Promise<InvocationResult>
  /** Resolves at the runtime's first GET /invocation/next, or with its init error. */
  ready(): Promise<{ok: true} | {ok: false; error: LambdaErrorDocument}>
  /** The init error the runtime reported, if any. */
  readonly initError: LambdaErrorDocument | undefined
  /** Invocations handed out so far, in order. */
  readonly handedOut: readonly HandedOut[]
  close(): Promise<void>
}

export interface RuntimeApiServerOptions {
  /** Loopback by default; never listen on other interfaces. */
  host?: string
  port?: number
}

interface Pending {
  requestId: string
  payload: Buffer
  options: InvokeOptions
  resolve(result: InvocationResult): void
  startedAt?: number
  timer?: NodeJS.Timeout
}

export async function startRuntimeApiServer(options: RuntimeApiServerOptions = {}): Promise<RuntimeApiServer> {
  const queue: Pending[] = []
  const waiting: ServerResponse[] = []
  const inFlight = new Map<string, Pending>()
  const finished = new Set<string>()
  const handedOut: HandedOut[] = []
  let initError: {document: LambdaErrorDocument; payload: Buffer} | undefined
  let readyResolve!: (value: {ok: true} | {ok: false; error: LambdaErrorDocument}) => void
  const readyPromise = new Promise<{ok: true} | {ok: false; error: LambdaErrorDocument}>((resolve) => (readyResolve = resolve))
  let closed = false

  const finish = (pending: Pending, result: InvocationResult): void => {
    if (pending.timer) clearTimeout(pending.timer)
    inFlight.delete(pending.requestId)
    finished.add(pending.requestId)
    pending.resolve(result)
  }

  const failWithInitError = (pending: Pending): void => {
    finish(pending, {requestId: pending.requestId, durationMs: 0, status: 'init-error', payload: initError!.payload, error: initError!.document})
  }

  const dispatch = (): void => {
    while (queue.length > 0 && waiting.length > 0) {
      const res = waiting.shift()!
      if (res.destroyed || res.writableEnded) continue
      const pending = queue.shift()!
      const now = Date.now()
      const deadlineMs = now + (pending.options.timeoutMs ?? DEFAULT_TIMEOUT_MS)
      const functionArn = pending.options.functionArn ?? DEFAULT_FUNCTION_ARN
      const traceId = pending.options.traceId ?? newTraceId(now)
      pending.startedAt = now
      inFlight.set(pending.requestId, pending)
      handedOut.push({requestId: pending.requestId, deadlineMs, functionArn, traceId})
      pending.timer = setTimeout(() => {
        finish(pending, {
          requestId: pending.requestId,
          durationMs: Date.now() - now,
          status: 'timeout',
          payload: Buffer.alloc(0),
          error: {errorType: 'Sandbox.Timedout', errorMessage: `Task timed out after ${((deadlineMs - now) / 1000).toFixed(2)} seconds`},
        })
      }, deadlineMs - now)
      pending.timer.unref()
      const headers: Record<string, string | number> = {
        'Content-Type': 'application/json',
        'Content-Length': pending.payload.length,
        'Lambda-Runtime-Aws-Request-Id': pending.requestId,
        'Lambda-Runtime-Deadline-Ms': String(deadlineMs),
        'Lambda-Runtime-Invoked-Function-Arn': functionArn,
        'Lambda-Runtime-Trace-Id': traceId,
      }
      if (pending.options.clientContext !== undefined) headers['Lambda-Runtime-Client-Context'] = pending.options.clientContext
      if (pending.options.cognitoIdentity !== undefined) headers['Lambda-Runtime-Cognito-Identity'] = pending.options.cognitoIdentity
      res.writeHead(200, headers)
      res.end(pending.payload)
    }
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) send(res, 500, {errorType: 'ServiceException', errorMessage: (error as Error).message})
      else res.destroy()
    })
  })

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://runtime')
    const route = url.pathname.startsWith(PREFIX) ? url.pathname.slice(PREFIX.length) : undefined
    if (route === '/invocation/next') {
      if (req.method !== 'GET') return send(res, 405, {errorType: 'MethodNotAllowed', errorMessage: 'Use GET for /invocation/next.'})
      await drain(req)
      readyResolve({ok: true})
      waiting.push(res)
      res.on('close', () => {
        const index = waiting.indexOf(res)
        if (index >= 0) waiting.splice(index, 1)
      })
      return dispatch()
    }
    if (route === '/init/error') {
      if (req.method !== 'POST') return send(res, 405, {errorType: 'MethodNotAllowed', errorMessage: 'Use POST for /init/error.'})
      const body = await readBody(req, MAX_RESPONSE_BYTES)
      const document = errorDocumentOf(body ?? Buffer.alloc(0), req.headers['lambda-runtime-function-error-type'])
      initError = {document, payload: body ?? Buffer.alloc(0)}
      readyResolve({ok: false, error: document})
      send(res, 202, {status: 'OK'})
      for (const pending of queue.splice(0)) failWithInitError(pending)
      for (const pending of [...inFlight.values()]) failWithInitError(pending)
      return
    }
    const match = route === undefined ? null : /^\/invocation\/([^/]+)\/(response|error)$/.exec(route)
    if (!match) return send(res, 404, {errorType: 'UnknownResource', errorMessage: `No Runtime API resource ${url.pathname}.`})
    if (req.method !== 'POST') return send(res, 405, {errorType: 'MethodNotAllowed', errorMessage: `Use POST for ${url.pathname}.`})
    const requestId = decodeURIComponent(match[1]!)
    const pending = inFlight.get(requestId)
    if (!pending) {
      await drain(req)
      return finished.has(requestId)
        ? send(res, 400, {errorType: 'InvalidStateTransition', errorMessage: `Invocation ${requestId} is already complete.`})
        : send(res, 400, {errorType: 'InvalidRequestID', errorMessage: `Invalid request ID: ${requestId}`})
    }
    const durationMs = Date.now() - (pending.startedAt ?? Date.now())
    const body = await readBody(req, MAX_RESPONSE_BYTES)
    if (match[2] === 'response') {
      if (body === undefined) {
        send(res, 413, {errorType: 'RequestEntityTooLarge', errorMessage: `Exceeded maximum allowed payload size (${MAX_RESPONSE_BYTES} bytes).`})
        const error = {errorType: 'Function.ResponseSizeTooLarge', errorMessage: `Response payload size exceeded maximum allowed payload size (${MAX_RESPONSE_BYTES} bytes).`}
        return finish(pending, {requestId, durationMs, status: 'error', payload: Buffer.from(JSON.stringify(error)), error})
      }
      send(res, 202, {status: 'OK'})
      return finish(pending, {requestId, durationMs, status: 'success', payload: body})
    }
    const payload = body ?? Buffer.alloc(0)
    send(res, 202, {status: 'OK'})
    finish(pending, {requestId, durationMs, status: 'error', payload, error: errorDocumentOf(payload, req.headers['lambda-runtime-function-error-type'])})
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve())
  })
  const info = server.address() as AddressInfo
  const address = `${info.family === 'IPv6' ? `[${info.address}]` : info.address}:${info.port}`

  return {
    address,
    get initError() {
      return initError?.document
    },
    handedOut,
    ready: () => readyPromise,
    invoke(payload, invokeOptions = {}) {
      if (closed) return Promise.reject(new OperationalError('ERR_LAYERS_RUNTIME_API_CLOSED', 'The local Runtime API server is closed.'))
      const bytes = Buffer.isBuffer(payload) ? payload : Buffer.from(payload, 'utf8')
      if (bytes.length > MAX_EVENT_BYTES) {
        return Promise.reject(
          new UserInputError('ERR_LAYERS_EVENT_TOO_LARGE', `The event is ${bytes.length} bytes; Lambda accepts at most ${MAX_EVENT_BYTES} bytes for a synchronous invocation.`, {
            hint: 'Use a smaller event (put large data in S3 and pass its key).',
          }),
        )
      }
      const requestId = invokeOptions.requestId ?? randomUUID()
      if (inFlight.has(requestId) || finished.has(requestId) || queue.some((pending) => pending.requestId === requestId)) {
        return Promise.reject(new UserInputError('ERR_LAYERS_DUPLICATE_REQUEST_ID', `Request id ${requestId} was already used.`, {hint: 'Give each invocation its own request id.'}))
      }
      return new Promise<InvocationResult>((resolve) => {
        const pending: Pending = {requestId, payload: bytes, options: invokeOptions, resolve}
        if (initError) return failWithInitError(pending)
        queue.push(pending)
        dispatch()
      })
    },
    async close() {
      closed = true
      for (const pending of [...queue.splice(0), ...inFlight.values()]) {
        finish(pending, {requestId: pending.requestId, durationMs: 0, status: 'error', payload: Buffer.alloc(0), error: {errorType: 'Runtime.ApiClosed', errorMessage: 'The local Runtime API server was closed before the runtime answered.'}})
      }
      for (const res of waiting.splice(0)) res.destroy()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const data = Buffer.from(JSON.stringify(body))
  res.writeHead(status, {'Content-Type': 'application/json', 'Content-Length': data.length})
  res.end(data)
}

async function drain(req: IncomingMessage): Promise<void> {
  for await (const _chunk of req) {
    // discard
  }
}

/** The request body, or undefined when it is longer than `limit` (the rest is discarded). */
async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size <= limit) chunks.push(chunk as Buffer)
  }
  return size > limit ? undefined : Buffer.concat(chunks)
}

/** The posted error document; built from the error-type header when the body is not one (as Lambda does). */
export function errorDocumentOf(body: Buffer, headerType: string | string[] | undefined): LambdaErrorDocument {
  const fallbackType = (Array.isArray(headerType) ? headerType[0] : headerType) || 'Unhandled'
  try {
    const parsed = JSON.parse(body.toString('utf8')) as Partial<LambdaErrorDocument>
    if (parsed && typeof parsed === 'object' && (typeof parsed.errorMessage === 'string' || typeof parsed.errorType === 'string')) {
      const document: LambdaErrorDocument = {errorType: typeof parsed.errorType === 'string' ? parsed.errorType : fallbackType, errorMessage: typeof parsed.errorMessage === 'string' ? parsed.errorMessage : ''}
      if (Array.isArray(parsed.stackTrace)) document.stackTrace = parsed.stackTrace.map(String)
      return document
    }
  } catch {
    // not JSON: fall through
  }
  return {errorType: fallbackType, errorMessage: body.toString('utf8')}
}

/** An X-Ray trace header: Root=1-<epoch seconds hex>-<96-bit id>;Parent=<64-bit id>;Sampled=0. */
export function newTraceId(now = Date.now()): string {
  const seconds = Math.floor(now / 1000).toString(16).padStart(8, '0')
  return `Root=1-${seconds}-${randomBytes(12).toString('hex')};Parent=${randomBytes(8).toString('hex')};Sampled=0`
}
