// The Lambda Runtime API loop of the `node` runtime template of `layers`, also used by `bun` and `deno`.
// Each template's `bootstrap` starts it on the JavaScript binary shipped in the same layer. It only
// uses APIs all three provide (node:http, node:process, node:url, dynamic import), so the three
// runtimes behave the same.
//
// - Loads the handler named by _HANDLER (`path/to/module.export[.nested]`) from LAMBDA_TASK_ROOT,
//   trying the extensions .js .mjs .cjs .ts .mts .cts in that order, with ES module imports of layer
//   packages resolved by esm-layers.mjs; a load failure is reported on /runtime/init/error (errorType
//   Runtime.UserCodeSyntaxError, Runtime.ImportModuleError for a module not found,
//   Runtime.HandlerNotFound, Runtime.MalformedHandlerName, or the thrown error's own name) and the
//   process exits.
// - Then loops: GET /runtime/invocation/next, call the handler with (event, context[, callback]),
//   POST the JSON result to /response or the error document {errorType, errorMessage, stackTrace}
//   to /error (Content-Type application/vnd.aws.lambda.error+json, header
//   Lambda-Runtime-Function-Error-Type), in one process for as many invocations as come.
// - Per invocation, _X_AMZN_TRACE_ID is set from Lambda-Runtime-Trace-Id, and the context carries the
//   request id, the invoked function ARN and the deadline (getRemainingTimeInMillis).
// - The long-poll GET has no client timeout: on Lambda the sandbox is frozen between invocations.
/* global console */
import {Buffer} from 'node:buffer'
import http from 'node:http'
import process from 'node:process'
import {pathToFileURL, URL} from 'node:url'
import {existsSync} from 'node:fs'
import module from 'node:module'
import path from 'node:path'

const API = process.env.AWS_LAMBDA_RUNTIME_API
const BASE = '/2018-06-01/runtime'
const EXTENSIONS = ['.js', '.mjs', '.cjs', '.ts', '.mts', '.cts']
const ERROR_CONTENT_TYPE = 'application/vnd.aws.lambda.error+json'
const agent = new http.Agent({keepAlive: true})

if (!API) {
  console.error('AWS_LAMBDA_RUNTIME_API is not set: this bootstrap runs inside Lambda (or `layers run`).')
  process.exit(1)
}
const [apiHost, apiPort] = splitHostPort(API)

// ES module imports of packages in the layers (esm-layers.mjs), before the handler is imported. The
// node template ships the hook; Bun and Deno, which run this loop too, resolve them themselves.
const esmHook = new URL('./esm-layers.mjs', import.meta.url)
if (typeof module.register === 'function' && existsSync(esmHook)) module.register(esmHook)

function splitHostPort(value) {
  const colon = value.lastIndexOf(':')
  if (colon < 0) return [value, 80]
  return [value.slice(0, colon).replace(/^\[|\]$/g, ''), Number(value.slice(colon + 1))]
}

/** One HTTP request to the Runtime API; resolves with status, headers and the body as a Buffer. */
function request(method, pathname, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({host: apiHost, port: apiPort, method, path: BASE + pathname, agent, headers: body === undefined ? headers : {...headers, 'Content-Length': body.length}}, (res) => {
      const chunks = []
      res.on('data', (chunk) => chunks.push(chunk))
      res.on('error', reject)
      res.on('end', () => resolve({status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks)}))
    })
    req.on('error', reject)
    req.end(body)
  })
}

async function post(pathname, body, headers) {
  const res = await request('POST', pathname, Buffer.from(body, 'utf8'), headers)
  if (res.status >= 500) {
    console.error(`Runtime API ${pathname} answered ${res.status}: ${res.body.toString('utf8')}; exiting.`)
    process.exit(1)
  }
  if (res.status !== 202) console.error(`Runtime API ${pathname} answered ${res.status}: ${res.body.toString('utf8')}`)
  return res
}

/** The Lambda error document for anything thrown; as Lambda's Node.js runtime, a non-Error's type is its typeof. */
export function errorDocument(error) {
  if (error instanceof Error) {
    const lines = typeof error.stack === 'string' ? error.stack.split('\n') : []
    const stackTrace = lines.filter((line) => /^\s+at /.test(line)).map((line) => line.trim())
    return {errorType: error.name || error.constructor?.name || 'Error', errorMessage: error.message, stackTrace}
  }
  return {errorType: typeof error, errorMessage: typeof error === 'string' ? error : safeJson(error) ?? String(error), stackTrace: []}
}

function safeJson(value) {
  try {
    return JSON.stringify(value)
  } catch {
    return undefined
  }
}

function postError(pathname, document) {
  return post(pathname, JSON.stringify(document), {'Content-Type': ERROR_CONTENT_TYPE, 'Lambda-Runtime-Function-Error-Type': document.errorType})
}

class InitError extends Error {
  constructor(errorType, message, cause) {
    super(message)
    this.name = errorType
    this.cause = cause
  }
}

async function loadHandler() {
  const root = process.env.LAMBDA_TASK_ROOT || process.cwd()
  const spec = process.env._HANDLER || ''
  const slash = spec.lastIndexOf('/')
  const dot = spec.indexOf('.', slash + 1)
  if (dot <= slash + 1 || dot === spec.length - 1) {
    throw new InitError('Runtime.MalformedHandlerName', `Bad handler ${JSON.stringify(spec)}: expected module.function (e.g. index.handler).`)
  }
  const modulePath = spec.slice(0, dot)
  const exportPath = spec.slice(dot + 1).split('.')
  const base = path.resolve(root, modulePath)
  const file = EXTENSIONS.map((ext) => base + ext).find((candidate) => existsSync(candidate))
  if (!file) {
    throw new InitError('Runtime.ImportModuleError', `Error: Cannot find module '${modulePath}' in ${root} (tried ${EXTENSIONS.join(', ')}).`)
  }
  let loaded
  try {
    loaded = await import(pathToFileURL(file).href)
  } catch (error) {
    // As Lambda's Node.js runtime: a syntax error and a module that cannot be found get the Runtime.*
    // types; any other error thrown while loading is reported as itself.
    const {errorType, errorMessage, stackTrace} = errorDocument(error)
    const code = error && typeof error === 'object' ? error.code : undefined
    const runtimeType = error instanceof SyntaxError ? 'Runtime.UserCodeSyntaxError' : code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND' ? 'Runtime.ImportModuleError' : undefined
    const init = runtimeType ? new InitError(runtimeType, `${errorType}: ${errorMessage}`, error) : new InitError(errorType, errorMessage, error)
    init.stackTrace = stackTrace
    throw init
  }
  let handler = loaded
  for (const key of exportPath) handler = handler == null ? undefined : handler[key] ?? (handler === loaded ? loaded.default?.[key] : undefined)
  if (typeof handler !== 'function') {
    throw new InitError('Runtime.HandlerNotFound', `${spec} is undefined or not exported`)
  }
  return handler
}

function header(headers, name) {
  const value = headers[name.toLowerCase()]
  return Array.isArray(value) ? value[0] : value
}

function parseJsonHeader(value) {
  if (!value) return undefined
  try {
    return JSON.parse(value)
  } catch {
    return undefined
  }
}

function contextFor(headers) {
  const deadline = Number(header(headers, 'Lambda-Runtime-Deadline-Ms'))
  return {
    awsRequestId: header(headers, 'Lambda-Runtime-Aws-Request-Id'),
    invokedFunctionArn: header(headers, 'Lambda-Runtime-Invoked-Function-Arn'),
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    clientContext: parseJsonHeader(header(headers, 'Lambda-Runtime-Client-Context')),
    identity: parseJsonHeader(header(headers, 'Lambda-Runtime-Cognito-Identity')),
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => (Number.isFinite(deadline) ? Math.max(0, deadline - Date.now()) : 0),
  }
}

/** Calls the handler; supports async handlers and callback-style (event, context, callback) ones. */
function invoke(handler, event, context) {
  return new Promise((resolve, reject) => {
    let settled = false
    const callback = (error, result) => {
      if (settled) return
      settled = true
      if (error !== undefined && error !== null) reject(error)
      else resolve(result)
    }
    let returned
    try {
      returned = handler(event, context, callback)
    } catch (error) {
      callback(error)
      return
    }
    if (returned && typeof returned.then === 'function') returned.then((result) => callback(null, result), (error) => callback(error ?? new Error('Handler rejected')))
    else if (handler.length < 3) callback(null, returned)
  })
}

/** Request id of the invocation being handled; undefined while loading the handler or waiting. */
let current
let initialised = false
function reportFatal(errorType) {
  return (error) => {
    const document = {...errorDocument(error), errorType}
    console.error(`${errorType}: ${document.errorMessage}`)
    // Between invocations there is nothing to report to: Lambda reports the exit on the next invoke.
    if (initialised && !current) process.exit(1)
    const pathname = current ? `/invocation/${current}/error` : '/init/error'
    postError(pathname, document).finally(() => process.exit(1))
  }
}
process.on('uncaughtException', reportFatal('Runtime.UncaughtException'))
process.on('unhandledRejection', reportFatal('Runtime.UnhandledPromiseRejection'))

async function main() {
  let handler
  try {
    handler = await loadHandler()
  } catch (error) {
    const document = error instanceof InitError ? {errorType: error.name, errorMessage: error.message, stackTrace: error.stackTrace ?? []} : {...errorDocument(error), errorType: 'Runtime.ImportModuleError'}
    console.error(`${document.errorType}: ${document.errorMessage}`)
    await postError('/init/error', document)
    process.exit(1)
  }
  initialised = true
  for (;;) {
    const next = await request('GET', '/invocation/next')
    if (next.status !== 200) {
      console.error(`Runtime API /invocation/next answered ${next.status}: ${next.body.toString('utf8')}; exiting.`)
      process.exit(1)
    }
    const requestId = header(next.headers, 'Lambda-Runtime-Aws-Request-Id')
    const traceId = header(next.headers, 'Lambda-Runtime-Trace-Id')
    if (traceId) process.env._X_AMZN_TRACE_ID = traceId
    else delete process.env._X_AMZN_TRACE_ID
    current = requestId
    let event
    try {
      event = next.body.length === 0 ? null : JSON.parse(next.body.toString('utf8'))
    } catch (error) {
      await postError(`/invocation/${requestId}/error`, {...errorDocument(error), errorType: 'Runtime.InvalidEventJson'})
      current = undefined
      continue
    }
    try {
      const result = await invoke(handler, event, contextFor(next.headers))
      let body
      try {
        body = JSON.stringify(result === undefined ? null : result)
      } catch (error) {
        await postError(`/invocation/${requestId}/error`, {...errorDocument(error), errorType: 'Runtime.SerializationError'})
        continue
      }
      await post(`/invocation/${requestId}/response`, body, {'Content-Type': 'application/json'})
    } catch (error) {
      await postError(`/invocation/${requestId}/error`, errorDocument(error))
    } finally {
      current = undefined
    }
  }
}

main().catch((error) => {
  // The Runtime API went away (or answered garbage): nothing to report to, so log and exit.
  console.error(`Runtime API failure: ${error instanceof Error ? error.message : String(error)}; exiting.`)
  process.exit(1)
})
