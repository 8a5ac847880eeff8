// End to end for each built-in runtime template: lock against the npm registry (binary packages come
// from the npm cache after the first run), build both architectures, extract the x86_64 layer with a
// sample function, run its bootstrap against the local Runtime API server and invoke it three times
// (a normal call, a handler that throws, a ~1 MB payload), check the arm64 binary is an aarch64 ELF,
// and check that locking twice and building twice give the same lock and the same bytes.
import {execFileSync} from 'node:child_process'
import {createHash} from 'node:crypto'
import {mkdir, mkdtemp, readFile, rm, stat, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {buildLayers, type BuiltArtifact} from '../../src/build/build.js'
import {collectEvents} from '../../src/events.js'
import type {LockedRuntimeLayer, Lockfile} from '../../src/lock/types.js'
import {loadNpmOptions, type NpmOptions} from '../../src/npm/config.js'
import {pacotePackumentSource} from '../../src/resolve/source.js'
import {startRuntimeApiServer, type RuntimeApiServer} from '../../src/runtime/api-server.js'
import {lockRuntimeLayer} from '../../src/runtime/lock.js'
import {elfMachine, manifestWith, runtimeLayer, startBootstrap, type StartedRuntime} from './support.js'

const JS_FUNCTION = `import process from 'node:process'
let count = 0
export async function handler(event, context) {
  count++
  if (event.throw) throw new TypeError('bad input: ' + event.throw)
  const runtime = typeof Bun !== 'undefined' ? 'bun' : typeof Deno !== 'undefined' ? 'deno' : 'node'
  const version = runtime === 'bun' ? Bun.version : runtime === 'deno' ? Deno.version.deno : process.versions.node
  return {
    count,
    pid: process.pid,
    runtime,
    version,
    requestId: context.awsRequestId,
    functionArn: context.invokedFunctionArn,
    remaining: context.getRemainingTimeInMillis(),
    trace: process.env._X_AMZN_TRACE_ID,
    data: event.data,
  }
}
`

const TS_FUNCTION = `interface Event { name: string }
export const handler = async (event: Event): Promise<{greeting: string}> => ({greeting: \`hello \${event.name}\`})
`

const SHELL_FUNCTION = `# Sample shell handler: echoes large events, fails on "throw", else reports what the runtime passed.
handler() {
  local event=$1
  case "$event" in
    *'"throw"'*) echo "warming up" >&2; echo "bad input: $event" >&2; return 3 ;;
    *'"data"'*) cat ;;
    *) printf '{"pid":%s,"requestId":"%s","functionArn":"%s","deadline":%s,"trace":"%s","length":%s}' "$$" "$LAMBDA_RUNTIME_AWS_REQUEST_ID" "$LAMBDA_RUNTIME_INVOKED_FUNCTION_ARN" "$LAMBDA_RUNTIME_DEADLINE_MS" "$_X_AMZN_TRACE_ID" "\${#event}" ;;
  esac
}
`

interface Case {
  template: string
  version: string
  /** Layer path of the binary, when the template ships one. */
  binary?: string
  files: Record<string, string>
}

const CASES: Case[] = [
  {template: 'node', version: '^26.0.0', binary: 'bin/node', files: {'function.mjs': JS_FUNCTION, 'typed.ts': TS_FUNCTION}},
  {template: 'bun', version: '^1.1', binary: 'bin/bun', files: {'function.mjs': JS_FUNCTION, 'typed.ts': TS_FUNCTION}},
  {template: 'deno', version: '^2.1', binary: 'bin/deno', files: {'function.mjs': JS_FUNCTION, 'typed.ts': TS_FUNCTION}},
  {template: 'shell', version: '', files: {'function.sh': SHELL_FUNCTION}},
]

const FUNCTION_ARN = 'arn:aws:lambda:eu-west-1:123456789012:function:sample'
const TRACE = 'Root=1-67890abc-0123456789abcdef01234567;Parent=0123456789abcdef;Sampled=1'

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex')
}

describe.each(CASES)('runtime template $template', (testCase) => {
  let dir: string
  let npmOptions: NpmOptions
  let lock: Lockfile
  let built: BuiltArtifact[]
  const layer = runtimeLayer('rt', testCase.template, testCase.version)

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), `layers-runtime-${testCase.template}-`))
    npmOptions = await loadNpmOptions(dir)
    const source = pacotePackumentSource(npmOptions)
    const first = await lockRuntimeLayer(layer, undefined, {root: dir, source, inputs: 'fingerprint'})
    lock = {lockfileVersion: 1, layers: {rt: first}}
    const started = Date.now()
    built = await buildLayers(manifestWith(dir, [layer]), lock, {stateDir: path.join(dir, 'state-1'), emit: collectEvents().emit, staleLayers: () => [], npmOptions: async () => npmOptions as unknown as Record<string, unknown>})
    console.log(`${testCase.template}: built ${built.map((artifact) => `${artifact.artifactKey} ${artifact.zipBytes} bytes (${artifact.unzippedBytes} unzipped)`).join(', ')} in ${Date.now() - started} ms`)
  }, 240_000)
  afterAll(async () => {
    if (dir) await rm(dir, {recursive: true, force: true, maxRetries: 5})
  })

  it('locks exact binary versions per architecture, and the same lock twice', async () => {
    const locked = lock.layers.rt as LockedRuntimeLayer
    expect(locked).toMatchObject({kind: 'runtime', template: testCase.template, inputs: 'fingerprint'})
    if (testCase.binary) {
      expect(Object.keys(locked.artifacts).sort()).toEqual(['arm64', 'x86_64'])
      const x86 = locked.artifacts.x86_64!.binary!
      const arm = locked.artifacts.arm64!.binary!
      expect(x86.version).toBe(arm.version)
      expect(x86.version).toMatch(/^\d+\.\d+\.\d+$/)
      expect(x86.integrity).toMatch(/^sha512-/)
      expect(x86.resolved).toMatch(new RegExp(`^https?://.+/-/.+-${x86.version.replace(/\./g, '\\.')}\\.tgz$`))
      expect(x86.name).not.toBe(arm.name)
    } else {
      expect(locked.artifacts).toEqual({'arm64+x86_64': {architectures: ['arm64', 'x86_64']}})
    }
    const source = pacotePackumentSource(npmOptions)
    // Locked again from scratch and from the previous lock: the same entry both ways.
    expect(await lockRuntimeLayer(layer, undefined, {root: dir, source, inputs: 'fingerprint'})).toEqual(locked)
    expect(await lockRuntimeLayer(layer, locked, {root: dir, source, inputs: 'fingerprint'})).toEqual(locked)
  })

  it('builds both architectures with bootstrap at the root; the arm64 binary is an aarch64 ELF; builds are byte-identical', async () => {
    const keys = built.map((artifact) => artifact.artifactKey).sort()
    expect(keys).toEqual(testCase.binary ? ['arm64', 'x86_64'] : ['arm64+x86_64'])
    for (const artifact of built) {
      const listing = execFileSync('zipinfo', [artifact.zipPath]).toString()
      expect(listing).toMatch(/^-rwxr-xr-x .* bootstrap$/m)
      if (testCase.binary) expect(listing).toMatch(new RegExp(`^-rwxr-xr-x .* ${testCase.binary}$`, 'm'))
    }
    if (testCase.binary) {
      const arm = built.find((artifact) => artifact.artifactKey === 'arm64')!
      const out = path.join(dir, 'arm64')
      execFileSync('unzip', ['-q', arm.zipPath, testCase.binary, '-d', out])
      expect(await elfMachine(path.join(out, testCase.binary))).toBe(0xb7)
      const x86 = built.find((artifact) => artifact.artifactKey === 'x86_64')!
      execFileSync('unzip', ['-q', x86.zipPath, testCase.binary, '-d', path.join(dir, 'x86')])
      expect(await elfMachine(path.join(dir, 'x86', testCase.binary))).toBe(0x3e)
    }
    // A second build into a fresh state directory (no build cache) gives the same bytes (the x86_64
    // artifact only: deflating another 150 MB binary would prove nothing more).
    const locked = lock.layers.rt as LockedRuntimeLayer
    const x86Key = Object.keys(locked.artifacts).find((key) => key.split('+').includes('x86_64'))!
    const x86Lock: Lockfile = {lockfileVersion: 1, layers: {rt: {...locked, artifacts: {[x86Key]: locked.artifacts[x86Key]!}}}}
    const again = await buildLayers(manifestWith(dir, [layer]), x86Lock, {stateDir: path.join(dir, 'state-2'), emit: collectEvents().emit, staleLayers: () => [], npmOptions: async () => npmOptions as unknown as Record<string, unknown>})
    expect(again.map((artifact) => [artifact.artifactKey, artifact.cached])).toEqual([[x86Key, false]])
    for (const twin of again) {
      const artifact = built.find((other) => other.artifactKey === twin.artifactKey)!
      expect(twin.codeSha256).toBe(artifact.codeSha256)
      expect(sha256(await readFile(twin.zipPath))).toBe(sha256(await readFile(artifact.zipPath)))
    }
  }, 240_000)

  describe('the x86_64 layer with a sample function', () => {
    let server: RuntimeApiServer
    let runtime: StartedRuntime
    let taskRoot: string

    beforeAll(async () => {
      const artifact = built.find((candidate) => candidate.architectures.includes('x86_64'))!
      const opt = path.join(dir, 'opt')
      execFileSync('unzip', ['-q', artifact.zipPath, '-d', opt])
      expect((await stat(path.join(opt, 'bootstrap'))).mode & 0o777).toBe(0o755)
      taskRoot = path.join(dir, 'task')
      await mkdir(taskRoot, {recursive: true})
      for (const [name, content] of Object.entries(testCase.files)) await writeFile(path.join(taskRoot, name), content)
      server = await startRuntimeApiServer()
      runtime = startBootstrap(opt, taskRoot, 'function.handler', server.address)
    })
    afterAll(async () => {
      await runtime?.stop()
      await server?.close()
    })

    it('serves three invocations in one process: a response, the error document of a throwing handler, a ~1 MB payload', async () => {
      const ready = await Promise.race([server.ready(), runtime.exited.then((code) => ({exited: code}))])
      expect(ready, runtime.output()).toEqual({ok: true})

      const first = await server.invoke(JSON.stringify({hello: 'world'}), {requestId: 'req-first', functionArn: FUNCTION_ARN, traceId: TRACE, timeoutMs: 20_000})
      expect(first.status, runtime.output()).toBe('success')
      const body = JSON.parse(first.payload.toString('utf8'))
      const handed = server.handedOut[0]!
      expect(body).toMatchObject({requestId: 'req-first', functionArn: FUNCTION_ARN, trace: TRACE})
      if (testCase.binary) {
        const version = (lock.layers.rt as LockedRuntimeLayer).artifacts.x86_64!.binary!.version
        expect(body).toMatchObject({count: 1, runtime: testCase.template, version})
        expect(body.remaining).toBeGreaterThan(10_000)
        expect(body.remaining).toBeLessThanOrEqual(20_000)
      } else {
        expect(body).toMatchObject({deadline: handed.deadlineMs, length: '{"hello":"world"}'.length})
      }

      const second = await server.invoke(JSON.stringify({throw: 'nope'}), {timeoutMs: 20_000})
      expect(second.status, runtime.output()).toBe('error')
      if (second.status === 'success') return
      if (testCase.binary) {
        expect(second.error).toMatchObject({errorType: 'TypeError', errorMessage: 'bad input: nope'})
        expect(second.error.stackTrace!.length).toBeGreaterThan(0)
        expect(second.error.stackTrace!.join('\n')).toContain('function.mjs')
      } else {
        expect(second.error).toEqual({errorType: 'HandlerError', errorMessage: 'bad input: {"throw":"nope"}', stackTrace: ['warming up', 'bad input: {"throw":"nope"}']})
      }
      expect(JSON.parse(second.payload.toString('utf8'))).toMatchObject({errorType: second.error.errorType, errorMessage: second.error.errorMessage})

      const data = 'x'.repeat(1024 * 1024 - 20) + 'end-of-the-payload'
      const third = await server.invoke(JSON.stringify({data}), {timeoutMs: 20_000})
      expect(third.status, runtime.output()).toBe('success')
      const echoed = JSON.parse(third.payload.toString('utf8'))
      expect(echoed.data).toBe(data)
      if (testCase.binary) {
        expect(echoed.count).toBe(3)
        expect(echoed.pid).toBe(body.pid)
        expect(echoed.trace).not.toBe(TRACE)
      } else {
        expect(body.pid).toBe(runtime.child.pid)
      }
      expect(runtime.child.exitCode).toBeNull()
    }, 60_000)

    it.skipIf(!testCase.files['typed.ts'])('runs a TypeScript handler', async () => {
      const typedServer = await startRuntimeApiServer()
      const typed = startBootstrap(path.join(dir, 'opt'), taskRoot, 'typed.handler', typedServer.address)
      try {
        const result = await typedServer.invoke('{"name":"layers"}', {timeoutMs: 20_000})
        expect(result.status, typed.output()).toBe('success')
        expect(JSON.parse(result.payload.toString())).toEqual({greeting: 'hello layers'})
      } finally {
        await typed.stop()
        await typedServer.close()
      }
    }, 60_000)
  })
})
