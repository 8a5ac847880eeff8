// The Runtime API loops of the templates, in depth and fast: the node template's bootstrap and the
// shared JavaScript loop run on this machine's Node.js (linked as the layer's bin/node), the shell
// template's bootstrap on this machine's bash and curl. Covers init errors, handler styles, error
// documents and process lifetime; templates.test.ts runs the real binaries.
import {copyFile, mkdir, mkdtemp, rm, symlink, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {startRuntimeApiServer, type RuntimeApiServer} from '../../src/runtime/api-server.js'
import {builtInTemplatesDir} from '../../src/runtime/template.js'
import {startBootstrap, type StartedRuntime} from './support.js'

let dir: string
let server: RuntimeApiServer | undefined
let runtime: StartedRuntime | undefined
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'layers-runtime-loop-'))
})
afterEach(async () => {
  await runtime?.stop()
  await server?.close()
  runtime = undefined
  server = undefined
  await rm(dir, {recursive: true, force: true})
})

/** A node-template layer using this machine's node (plus `optFiles`, e.g. an npm layer's), and a task root with `files`. */
async function nodeLayer(files: Record<string, string>, optFiles: Record<string, string> = {}): Promise<{opt: string; task: string}> {
  const opt = path.join(dir, 'opt')
  const task = path.join(dir, 'task')
  await mkdir(path.join(opt, 'bin'), {recursive: true})
  await mkdir(path.join(opt, 'runtime'), {recursive: true})
  await copyFile(path.join(builtInTemplatesDir(), 'node', 'bootstrap'), path.join(opt, 'bootstrap'))
  for (const file of ['lambda-runtime.mjs', 'esm-layers.mjs']) await copyFile(path.join(builtInTemplatesDir(), 'node', file), path.join(opt, 'runtime', file))
  await symlink(process.execPath, path.join(opt, 'bin', 'node'))
  await writeFiles(opt, optFiles)
  await writeFiles(task, files)
  return {opt, task}
}

async function shellLayer(files: Record<string, string>): Promise<{opt: string; task: string}> {
  const opt = path.join(dir, 'opt')
  const task = path.join(dir, 'task')
  await mkdir(opt, {recursive: true})
  await copyFile(path.join(builtInTemplatesDir(), 'shell', 'bootstrap'), path.join(opt, 'bootstrap'))
  await writeFiles(task, files)
  return {opt, task}
}

async function writeFiles(root: string, files: Record<string, string>): Promise<void> {
  await mkdir(root, {recursive: true})
  for (const [name, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, name)), {recursive: true})
    await writeFile(path.join(root, name), content)
  }
}

async function start(layer: {opt: string; task: string}, handler: string): Promise<RuntimeApiServer> {
  server = await startRuntimeApiServer()
  runtime = startBootstrap(layer.opt, layer.task, handler, server.address)
  return server
}

describe('init errors', () => {
  type Layer = (files: Record<string, string>) => Promise<{opt: string; task: string}>
  it.each<[string, string, Layer, string, Record<string, string>, string, string]>([
    ['node', 'a missing module', nodeLayer, 'index.handler', {}, 'Runtime.ImportModuleError', "Cannot find module 'index'"],
    ['node', 'a module that throws while loading (as itself)', nodeLayer, 'index.handler', {'index.mjs': "throw new RangeError('config missing')\n"}, 'RangeError', 'config missing'],
    ['node', 'a syntax error', nodeLayer, 'index.handler', {'index.mjs': 'export const handler = (\n'}, 'Runtime.UserCodeSyntaxError', 'SyntaxError: '],
    ['node', 'an import of a package nothing provides', nodeLayer, 'index.handler', {'index.mjs': "import 'no-such-package'\nexport const handler = () => 1\n"}, 'Runtime.ImportModuleError', "Cannot find package 'no-such-package'"],
    ['node', 'a handler that is not exported', nodeLayer, 'index.handler', {'index.mjs': 'export const other = () => 1\n'}, 'Runtime.HandlerNotFound', 'index.handler is undefined or not exported'],
    ['node', 'a malformed handler name', nodeLayer, 'index', {'index.mjs': 'export const handler = () => 1\n'}, 'Runtime.MalformedHandlerName', 'Bad handler "index"'],
    ['shell', 'a missing file', shellLayer, 'function.handler', {}, 'Runtime.ImportModuleError', 'Cannot find function.sh'],
    ['shell', 'a missing function', shellLayer, 'function.handler', {'function.sh': 'other() { :; }\n'}, 'Runtime.HandlerNotFound', 'defines no function handler'],
    ['shell', 'a file that fails to load', shellLayer, 'function.handler', {'function.sh': 'handler() {\n'}, 'Runtime.ImportModuleError', 'syntax error'],
    ['shell', 'a malformed handler name', shellLayer, 'function', {'function.sh': 'handler() { :; }\n'}, 'Runtime.MalformedHandlerName', 'expected file.function'],
  ])('%s: reports %s on /init/error and exits', async (_template, _what, layer, handler, files, errorType, message) => {
    const api = await start(await layer(files), handler)
    expect(await api.ready()).toMatchObject({ok: false, error: {errorType, errorMessage: expect.stringContaining(message), stackTrace: expect.any(Array)}})
    expect(await runtime!.exited).toBe(1)
    expect(await api.invoke('{}')).toMatchObject({status: 'init-error', error: {errorType}})
  })
})

describe('JavaScript runtime loop (node template bootstrap)', () => {
  it('resolves ES module and require() imports of packages in /opt/nodejs/node_modules, as Lambda does', async () => {
    const api = await start(
      await nodeLayer(
        {'index.mjs': "import {greet} from 'greeter'\nimport {createRequire} from 'node:module'\nconst {shout} = createRequire(import.meta.url)('shouter')\nexport const handler = async (event) => shout(greet(event.name))\n"},
        {
          'nodejs/node_modules/greeter/package.json': '{"name":"greeter","type":"module","exports":"./index.js"}',
          'nodejs/node_modules/greeter/index.js': 'export const greet = (name) => `hello ${name}`\n',
          'nodejs/node_modules/shouter/index.js': 'exports.shout = (text) => text.toUpperCase()\n',
        },
      ),
      'index.handler',
    )
    const result = await api.invoke(JSON.stringify({name: 'opt'}))
    expect(result.status).toBe('success')
    expect(JSON.parse(result.payload.toString())).toBe('HELLO OPT')
  })

  it('runs CommonJS, callback and nested handlers from subdirectories, with the Lambda context', async () => {
    const api = await start(
      await nodeLayer({
        'src/app.cjs': `exports.handlers = {
  main(event, context, callback) {
    if (event.fail) return callback(new SyntaxError('callback failure'))
    setTimeout(() => callback(null, {
      via: 'callback',
      client: context.clientContext,
      identity: context.identity,
      name: context.functionName,
      remaining: context.getRemainingTimeInMillis(),
      trace: process.env._X_AMZN_TRACE_ID,
    }), 5)
  },
}
`,
      }),
      'src/app.handlers.main',
    )
    const ok = await api.invoke('{}', {clientContext: '{"client":{"app":"x"}}', cognitoIdentity: '{"cognitoIdentityId":"id-1"}', timeoutMs: 9000, traceId: 'Root=1-00000000-000000000000000000000000'})
    expect(ok.status, runtime!.output()).toBe('success')
    const body = JSON.parse(ok.payload.toString())
    expect(body).toMatchObject({via: 'callback', client: {client: {app: 'x'}}, identity: {cognitoIdentityId: 'id-1'}, name: 'sample', trace: 'Root=1-00000000-000000000000000000000000'})
    expect(body.remaining).toBeGreaterThan(8000)
    const failed = await api.invoke('{"fail":true}')
    expect(failed).toMatchObject({status: 'error', error: {errorType: 'SyntaxError', errorMessage: 'callback failure'}})
  })

  it('answers null for undefined, reports thrown non-errors and unserialisable results, and keeps serving', async () => {
    const api = await start(
      await nodeLayer({
        'index.mjs': `export async function handler(event) {
  if (event.kind === 'nothing') return undefined
  if (event.kind === 'string') throw 'just a string'
  if (event.kind === 'cycle') { const a = {}; a.a = a; return a }
  return {echo: event}
}
`,
      }),
      'index.handler',
    )
    expect((await api.invoke('{"kind":"nothing"}')).payload.toString()).toBe('null')
    expect(await api.invoke('{"kind":"string"}')).toMatchObject({status: 'error', error: {errorType: 'string', errorMessage: 'just a string', stackTrace: []}})
    expect(await api.invoke('{"kind":"cycle"}')).toMatchObject({status: 'error', error: {errorType: 'Runtime.SerializationError'}})
    const last = await api.invoke('{"kind":"fine"}')
    expect(JSON.parse(last.payload.toString())).toEqual({echo: {kind: 'fine'}})
    expect(runtime!.child.exitCode).toBeNull()
  })

  it('exits when the Runtime API goes away', async () => {
    const api = await start(await nodeLayer({'index.mjs': 'export const handler = async () => 1\n'}), 'index.handler')
    expect((await api.invoke('{}')).payload.toString()).toBe('1')
    await api.close()
    server = undefined
    expect(await runtime!.exited).toBe(1)
    expect(runtime!.output()).toContain('Runtime API failure')
  })

  it('exits on an error thrown between invocations (nothing to report it to)', async () => {
    const api = await start(await nodeLayer({'index.mjs': "export const handler = async () => { setTimeout(() => { throw new Error('late timer') }, 50); return 'done' }\n"}), 'index.handler')
    expect((await api.invoke('{}')).payload.toString()).toBe('"done"')
    expect(await runtime!.exited).toBe(1)
    expect(runtime!.output()).toContain('Runtime.UncaughtException: late timer')
  })

  it('fails the invocation on an unhandled rejection and exits, like Lambda', async () => {
    const api = await start(
      await nodeLayer({
        'index.mjs': `export function handler(event, context, callback) {
  Promise.reject(new Error('forgotten promise'))
}
`,
      }),
      'index.handler',
    )
    expect(await api.invoke('{}')).toMatchObject({status: 'error', error: {errorType: 'Runtime.UnhandledPromiseRejection', errorMessage: 'forgotten promise'}})
    expect(await runtime!.exited).toBe(1)
  })
})

describe('shell runtime loop', () => {
  it('exits when the Runtime API goes away', async () => {
    const api = await start(await shellLayer({'function.sh': 'handler() { echo 1; }\n'}), 'function.handler')
    expect((await api.invoke('{}')).payload.toString()).toBe('1\n')
    await api.close()
    server = undefined
    expect(await runtime!.exited).not.toBe(0)
  })

  it('escapes error messages as JSON, answers null for no output, and survives exit in the handler', async () => {
    const api = await start(
      await shellLayer({
        'function.sh': `handler() {
  case "$1" in
    *quiet*) return 0 ;;
    *exit*) echo 'tab\there "quoted" back\\slash' >&2; exit 7 ;;
    *) printf '{"trace":"%s"}' "\${_X_AMZN_TRACE_ID:-none}" ;;
  esac
}
`,
      }),
      'function.handler',
    )
    expect((await api.invoke('"quiet"')).payload.toString()).toBe('null')
    const failed = await api.invoke('"exit"')
    expect(failed).toMatchObject({status: 'error', error: {errorType: 'HandlerError', errorMessage: 'tab\there "quoted" back\\slash'}})
    const after = await api.invoke('"trace"', {traceId: 'Root=1-abc'})
    expect(JSON.parse(after.payload.toString())).toEqual({trace: 'Root=1-abc'})
    expect(runtime!.child.exitCode).toBeNull()
  })
})
