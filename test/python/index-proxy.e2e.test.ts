// `layers lock` of a pip layer (the built CLI) behind a forward HTTP proxy (test/support/forward-proxy.ts)
// in front of the local index (test/support/pypi-index.ts): with HTTP_PROXY set, layers' own reads
// (project pages, the PEP 658 metadata and, for a project without it, the wheel, for the licences) go
// through the proxy, told from uv's by their User-Agent; with ALL_PROXY alone too, as uv's; with the index's
// host in NO_PROXY none of them do.
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {runCli} from '../support/cli.js'
import {startForwardProxy, type ForwardProxy} from '../support/forward-proxy.js'
import {pipTestEnv, startPyPIIndex, type PyPIIndex} from '../support/pypi-index.js'
import {hasUv} from '../support/uv.js'

let index: PyPIIndex
let proxy: ForwardProxy
let dir: string

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'layers-pip-proxy-'))
  index = await startPyPIIndex()
  index.publish({name: 'described', version: '1.0', metadata: ['License-Expression: MIT'], wheels: [{tag: 'py3-none-any'}]})
  index.publish({name: 'bare', version: '2.0', metadata: ['License-Expression: Apache-2.0'], noCoreMetadata: true, wheels: [{tag: 'py3-none-any'}]})
  proxy = await startForwardProxy()
  writeFileSync(path.join(dir, 'layers.yaml'), 'version: 1\nsettings:\n  regions: [us-east-1]\nlayers:\n  deps:\n    pip: {described: "*", bare: "*"}\n    runtimes: [python3.12]\n    architectures: [x86_64]\n')
})

afterAll(async () => {
  await proxy?.close()
  await index?.close()
  if (dir) rmSync(dir, {recursive: true, force: true})
})

/** The proxy variables of a run, each in both cases (a set lowercase one hides its uppercase twin in undici, the reverse in uv): those given, every other one blank. */
function proxyVariables(given: {HTTP_PROXY?: string; ALL_PROXY?: string; NO_PROXY?: string}): NodeJS.ProcessEnv {
  const variables: NodeJS.ProcessEnv = {}
  for (const name of ['HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'NO_PROXY'] as const) {
    const value = (given as Record<string, string | undefined>)[name] ?? ''
    variables[name] = value
    variables[name.toLowerCase()] = value
  }
  return variables
}

/** A lock from nothing (no lockfile, no cached wheel) with these proxy variables, every other one of the test's environment blanked. */
function lock(proxyEnv: {HTTP_PROXY?: string; ALL_PROXY?: string; NO_PROXY?: string}) {
  rmSync(path.join(dir, 'lockfile.json'), {force: true})
  rmSync(path.join(dir, '.cache', 'layers'), {recursive: true, force: true})
  return runCli(['lock', '--json'], {cwd: dir, env: {...pipTestEnv(index.url, dir), ...proxyVariables(proxyEnv)}})
}

const origin = (): string => index.publicUrl.replace('/simple/', '')
/** layers' own requests (User-Agent `layers`) the proxy forwarded, as `GET <path>`, sorted. */
const proxiedByLayers = (): string[] => proxy.requests.filter((request) => request.userAgent === 'layers').map((request) => `${request.method} ${request.url.replace(origin(), '')}`).sort()

describe.skipIf(!hasUv)('a pip layer locked behind an HTTP proxy', () => {
  it('HTTP_PROXY set, NO_PROXY empty: the pages, the metadata and the wheel layers reads go through the proxy; the lock has both licences', async () => {
    const locked = await lock({HTTP_PROXY: proxy.url, NO_PROXY: ''})
    expect(locked.code, locked.stderr).toBe(0)
    expect(proxiedByLayers()).toEqual(['GET /files/bare-2.0-py3-none-any.whl', 'GET /files/described-1.0-py3-none-any.whl.metadata', 'GET /simple/bare/', 'GET /simple/described/'])
    // All of layers' reads came by the proxy: the index saw no other.
    expect(index.userAgents.filter((agent) => agent === 'layers')).toHaveLength(4)
    expect(locked.stderr).not.toContain('experimental')
    const lockfile = readFileSync(path.join(dir, 'lockfile.json'), 'utf8')
    expect(lockfile).toContain('"license": "MIT"')
    expect(lockfile).toContain('"license": "Apache-2.0"')
  })

  it('ALL_PROXY alone: layers reads through it as uv does (uv and pip take it for a scheme without its own variable)', async () => {
    const proxiedBefore = proxy.requests.length
    rmSync(path.join(dir, '.uv-cache'), {recursive: true, force: true})
    const locked = await lock({ALL_PROXY: proxy.url})
    expect(locked.code, locked.stderr).toBe(0)
    const proxied = proxy.requests.slice(proxiedBefore)
    expect(proxied.filter((request) => request.userAgent === 'layers').map((request) => `${request.method} ${request.url.replace(origin(), '')}`).sort()).toEqual(['GET /files/bare-2.0-py3-none-any.whl', 'GET /files/described-1.0-py3-none-any.whl.metadata', 'GET /simple/bare/', 'GET /simple/described/'])
    expect(proxied.some((request) => request.userAgent.startsWith('uv/')), 'uv went through ALL_PROXY too').toBe(true)
  })

  it('NO_PROXY=127.0.0.1: layers reads the index directly, the proxy sees none of its requests', async () => {
    const proxiedBefore = proxy.requests.length
    const readBefore = index.userAgents.filter((agent) => agent === 'layers').length
    const locked = await lock({HTTP_PROXY: proxy.url, NO_PROXY: '127.0.0.1'})
    expect(locked.code, locked.stderr).toBe(0)
    expect(proxy.requests.slice(proxiedBefore).filter((request) => request.userAgent === 'layers')).toEqual([])
    expect(index.userAgents.filter((agent) => agent === 'layers').length - readBefore).toBe(4)
  })
})
