// `layers run` through the built CLI: nodejs functions (CommonJS and ESM importing from an npm layer),
// layer order, thrown errors as Lambda's error document, missing builds, and a provided.al2023
// function on the `shell` runtime template's bootstrap.
import {rm, writeFile} from 'node:fs/promises'
import {existsSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {Ajv} from 'ajv'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {runCli} from '../support/cli.js'
import {lockedFixture, writeTree, type LockedFixture} from '../package/fixture-project.js'

const validateOutput = new Ajv({allErrors: true, strict: false}).compile(JSON.parse(readFileSync(path.join(import.meta.dirname, '..', '..', 'schema', 'run.schema.json'), 'utf8')))

let fixture: LockedFixture
let dir: string
let project: string
let env: NodeJS.ProcessEnv

beforeAll(async () => {
  fixture = await lockedFixture('layers-run-test-', {'events/order.json': '{"name": "Ada", "n": 21}'})
  ;({dir, project, env} = fixture)
}, 60_000)

afterAll(async () => {
  await fixture?.stop()
})

describe('layers run', () => {
  it('asks for a build when the layers are not built', async () => {
    const result = await runCli(['run', 'cjs', '--json'], {cwd: project, env})
    expect(result.code).toBe(2)
    expect(result.json.error).toMatchObject({code: 'ERR_LAYERS_LAYER_NOT_BUILT', message: expect.stringContaining('layer deps (x86_64)'), hint: expect.stringContaining('layers build deps')})
  }, 30_000)

  it("returns the handler's real output with Lambda's environment, a thrown error as Lambda's error document, and the later layer's file", async () => {
    const build = await runCli(['build', '--json'], {cwd: project, env})
    expect(build.code, build.stderr).toBe(0)

    const cjs = await runCli(['run', 'cjs', '--event', 'events/order.json', '--json'], {cwd: project, env})
    expect(cjs.code, cjs.stderr).toBe(0)
    expect(validateOutput(cjs.json), JSON.stringify(validateOutput.errors)).toBe(true)
    expect(cjs.json).toMatchObject({function: 'cjs', status: 'success', runtime: 'nodejs20.x', architecture: 'x86_64', payloadEncoding: 'json'})
    expect(cjs.json.functionError).toBeUndefined()
    expect(cjs.json.payload).toEqual({message: 'hello Ada', doubled: 42, base: 'task', fn: 'cjs', handler: 'index.handler', region: 'eu-west-1'})
    expect(cjs.json.logTail).toContain('handling Ada')
    expect(cjs.json.layers.map((layer: {layer: string}) => layer.layer)).toEqual(['deps'])

    // ESM, importing a subpath and an ESM-only package from the npm layer; human output.
    const human = await runCli(['run', 'esm', '--event', path.join(project, 'events', 'order.json')], {cwd: project, env})
    expect(human.code, human.stderr).toBe(1) // event.text is missing: the handler throws a TypeError
    const document = JSON.parse(human.stdout)
    expect(document).toMatchObject({errorType: 'TypeError', errorMessage: "Cannot read properties of undefined (reading 'toUpperCase')"})
    expect(document.trace[0]).toBe("TypeError: Cannot read properties of undefined (reading 'toUpperCase')")
    expect(document.trace.join('\n')).toContain('/opt/nodejs/node_modules/esm-only/index.js')
    expect(human.stderr).toContain('Function error (error)')

    await writeFile(path.join(dir, 'esm.json'), '{"text": "hi"}')
    const esm = await runCli(['run', 'esm', '--event', path.join(dir, 'esm.json'), '--json'], {cwd: project, env})
    expect(esm.code, esm.stderr).toBe(0)
    expect(esm.json.payload).toEqual({text: '[HI!]'})

    await writeFile(path.join(dir, 'fail.json'), '{"fail": "no text"}')
    const failed = await runCli(['run', 'esm', '--event', path.join(dir, 'fail.json'), '--json'], {cwd: project, env})
    expect(failed.code).toBe(1)
    expect(validateOutput(failed.json), JSON.stringify(validateOutput.errors)).toBe(true)
    expect(failed.json).toMatchObject({status: 'error', functionError: 'Unhandled', payload: {errorType: 'TypeError', errorMessage: 'bad input: no text'}})
    expect(failed.json.payload.trace[1]).toMatch(/^ {4}at handler \(file:\/\/\/var\/task\/handler\.js:5:/)

    // Layer order: both layers hold nodejs/node_modules/shared/index.js; the later one wins.
    const order = await runCli(['run', 'order', '--json'], {cwd: project, env})
    expect(order.code, order.stderr).toBe(0)
    expect(order.json.payload).toEqual({shared: 'second', onlyFirst: 'only in first'})
  }, 120_000)

  it('rejects an event that is not JSON and an unknown function', async () => {
    await writeFile(path.join(dir, 'bad.json'), '{"name": ')
    const bad = await runCli(['run', 'cjs', '--event', path.join(dir, 'bad.json'), '--json'], {cwd: project, env})
    expect(bad.code).toBe(2)
    expect(bad.json.error).toMatchObject({code: 'ERR_LAYERS_EVENT_INVALID', message: expect.stringContaining('bad.json is not JSON')})
    const unknown = await runCli(['run', 'nope', '--json'], {cwd: project, env})
    expect(unknown.code).toBe(2)
    expect(unknown.json.error.code).toBe('ERR_LAYERS_UNKNOWN_FUNCTION')
  }, 30_000)

  it('times out like Lambda and keeps the assembled directory on request', async () => {
    const slow = path.join(dir, 'slow')
    await writeTree(slow, {
      'layers.yaml': 'version: 1\nsettings:\n  bucket: b-{accountId}-{region}\n  regions: [eu-west-1]\n  architectures: [x86_64]\n  runtimes: [nodejs20.x]\nfunctions:\n  wait:\n    source: fn\n    handler: index.handler\n    runtime: nodejs20.x\n',
      'fn/index.js': 'exports.handler = () => new Promise((resolve) => setTimeout(resolve, 60000))\n',
    })
    const result = await runCli(['run', 'wait', '--timeout', '1', '--keep', '--json'], {cwd: slow, env})
    expect(result.code).toBe(1)
    expect(result.json).toMatchObject({status: 'timeout', functionError: 'Unhandled', payload: {errorType: 'Sandbox.Timedout', errorMessage: expect.stringContaining('Task timed out after 1.00 seconds')}})
    expect(existsSync(path.join(result.json.directory, 'task', 'index.js'))).toBe(true)
    await rm(result.json.directory, {recursive: true, force: true})
  }, 30_000)

  it('runs a provided.al2023 function on the bootstrap of a runtime layer', async () => {
    const shell = path.join(dir, 'shell')
    await writeTree(shell, {
      'layers.yaml': 'version: 1\nsettings:\n  bucket: b-{accountId}-{region}\n  regions: [eu-west-1]\n  architectures: [x86_64]\n  runtimes: [provided.al2023]\nlayers:\n  sh:\n    runtime:\n      template: shell\nfunctions:\n  hello:\n    source: fn\n    handler: function.handler\n    runtime: provided.al2023\n    layers: [sh]\n',
      'fn/function.sh': 'handler() {\n  if [ "$1" = \'{"fail":true}\' ]; then echo "it failed" >&2; return 3; fi\n  if [ "$1" = \'{"text":true}\' ]; then echo "plain text"; return 0; fi\n  printf \'{"got":%s,"name":"%s"}\' "$1" "$AWS_LAMBDA_FUNCTION_NAME"\n}\n',
    })
    for (const step of [['lock'], ['build']]) {
      const result = await runCli([...step, '--json'], {cwd: shell, env})
      expect(result.code, result.stderr).toBe(0)
    }
    await writeFile(path.join(dir, 'x.json'), '{"x":1}')
    const ok = await runCli(['run', 'hello', '--event', path.join(dir, 'x.json'), '--json'], {cwd: shell, env})
    expect(ok.code, ok.stderr).toBe(0)
    expect(ok.json.payload).toEqual({got: {x: 1}, name: 'hello'})
    await writeFile(path.join(dir, 'f.json'), '{"fail":true}')
    const failed = await runCli(['run', 'hello', '--event', path.join(dir, 'f.json'), '--json'], {cwd: shell, env})
    expect(failed.code).toBe(1)
    expect(failed.json.payload).toMatchObject({errorType: 'HandlerError', errorMessage: 'it failed'})
    // A response that is not JSON is printed as the bytes the runtime posted.
    await writeFile(path.join(dir, 't.json'), '{"text":true}')
    const text = await runCli(['run', 'hello', '--event', path.join(dir, 't.json')], {cwd: shell, env})
    expect(text.code, text.stderr).toBe(0)
    expect(text.stdout.trim()).toBe('plain text')
  }, 60_000)
})
