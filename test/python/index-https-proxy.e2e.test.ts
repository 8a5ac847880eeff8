// `layers lock` of a pip layer (the built CLI) against an https:// index (test/support/pypi-index.ts over
// TLS, its certificate from a throwaway CA made at test time, test/support/tls.ts) behind a proxy that
// serves CONNECT tunnels (test/support/forward-proxy.ts): with HTTPS_PROXY set and NO_PROXY empty, uv's
// and layers' own reads all reach the index through CONNECTs (every connection the index accepted is
// one of the proxy's), trusting the CA as a user would say it (NODE_EXTRA_CA_CERTS for layers' reads,
// SSL_CERT_FILE for uv's, PIP_CERT for pip's when uv is not there), and the lockfile is the one locked
// without the proxy. A CA trusted by nobody, or by uv only, fails the lock at once naming the index and
// the certificate, with a hint saying which variable each reader takes (pip's refusal too, which pip
// itself reports as "No matching distribution").
import {mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {runCli} from '../support/cli.js'
import {startForwardProxy, type ForwardProxy} from '../support/forward-proxy.js'
import {pipTestEnv, startPyPIIndex, type PyPIIndex} from '../support/pypi-index.js'
import {hasOpenssl, makeTestCertificates, type TestCertificates} from '../support/tls.js'
import {hasUv} from '../support/uv.js'

let index: PyPIIndex
let proxy: ForwardProxy
let certificates: TestCertificates
let dir: string
let runs = 0

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'layers-pip-https-proxy-'))
  mkdirSync(path.join(dir, 'tls'))
  certificates = makeTestCertificates(path.join(dir, 'tls'))
  index = await startPyPIIndex({tls: {cert: certificates.cert, key: certificates.key}})
  index.publish({name: 'described', version: '1.0', metadata: ['License-Expression: MIT'], wheels: [{tag: 'py3-none-any'}]})
  index.publish({name: 'bare', version: '2.0', metadata: ['License-Expression: Apache-2.0'], noCoreMetadata: true, wheels: [{tag: 'py3-none-any'}]})
  proxy = await startForwardProxy({tunnel: true})
  writeFileSync(path.join(dir, 'layers.yaml'), 'version: 1\nsettings:\n  regions: [us-east-1]\nlayers:\n  deps:\n    pip: {described: "*", bare: "*"}\n    runtimes: [python3.12]\n    architectures: [x86_64]\n')
})

afterAll(async () => {
  await proxy?.close()
  await index?.close()
  if (dir) rmSync(dir, {recursive: true, force: true})
})

/** Variables of the machine running the tests that would change whom the run trusts or which proxy it takes: left out. */
const MACHINE_VARIABLES = /^(NODE_EXTRA_CA_CERTS|NODE_TLS_REJECT_UNAUTHORIZED|NODE_USE_ENV_PROXY|SSL_CERT_FILE|SSL_CERT_DIR|REQUESTS_CA_BUNDLE|CURL_CA_BUNDLE|(HTTPS?|ALL|NO)_PROXY)$/i

/** How the run is told to trust the CA: `layers` NODE_EXTRA_CA_CERTS, `uv` SSL_CERT_FILE, `pip` PIP_CERT (and no uv, so that pip resolves). */
interface Trust {
  layers?: boolean
  uv?: boolean
  pip?: boolean
}

/** A lock from nothing (no lockfile, no layers cache, a fresh uv cache) with HTTPS_PROXY `proxyUrl` (none: '') and this trust, NO_PROXY empty; by pip when `resolver` says so. */
function lock(proxyUrl: string, trust: Trust, resolver: 'uv' | 'pip' = 'uv') {
  rmSync(path.join(dir, 'lockfile.json'), {force: true})
  rmSync(path.join(dir, '.cache', 'layers'), {recursive: true, force: true})
  const baseEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => !MACHINE_VARIABLES.test(name)))
  const env: NodeJS.ProcessEnv = {
    ...pipTestEnv(index.url, dir, path.join(dir, `.uv-cache-${++runs}`)),
    HTTPS_PROXY: proxyUrl,
    https_proxy: proxyUrl,
    NO_PROXY: '',
    no_proxy: '',
    ...(trust.layers ? {NODE_EXTRA_CA_CERTS: certificates.caFile} : {}),
    ...(trust.uv ? {SSL_CERT_FILE: certificates.caFile} : {}),
    ...(trust.pip ? {PIP_CERT: certificates.caFile} : {}),
    ...(resolver === 'pip' ? {LAYERS_UV: path.join(dir, 'no-uv')} : {}),
  }
  return runCli(['lock', '--json'], {cwd: dir, baseEnv, env, timeoutMs: 30_000})
}

const host = (): string => new URL(index.publicUrl).host

describe.skipIf(!hasUv || !hasOpenssl)('a pip layer locked from an https:// index behind a CONNECT proxy', () => {
  let direct: string

  beforeAll(async () => {
    const locked = await lock('', {layers: true, uv: true})
    expect(locked.code, locked.stderr).toBe(0)
    direct = readFileSync(path.join(dir, 'lockfile.json'), 'utf8')
    expect(proxy.connects).toEqual([])
  })

  it('HTTPS_PROXY set, NO_PROXY empty: every read (uv\'s and layers\') reaches the index through a CONNECT; the lockfile is the direct one', async () => {
    const connectionsBefore = index.connectionPorts.length
    const requestsBefore = index.requests.length
    const locked = await lock(proxy.url, {layers: true, uv: true})
    expect(locked.code, locked.stderr).toBe(0)
    expect(readFileSync(path.join(dir, 'lockfile.json'), 'utf8')).toBe(direct)
    expect(proxy.connects.length).toBeGreaterThan(0)
    expect(new Set(proxy.connects)).toEqual(new Set([host()]))
    // The index saw no connection but the proxy's tunnels.
    const connections = index.connectionPorts.slice(connectionsBefore)
    expect(connections.length).toBeGreaterThan(0)
    expect(connections.filter((port) => !proxy.tunnelPorts.includes(port))).toEqual([])
    // Both readers came: layers' pages, metadata and wheel, and uv's resolution.
    const agents = index.userAgents.slice(requestsBefore)
    expect(agents.filter((agent) => agent === 'layers')).toHaveLength(4)
    expect(agents.some((agent) => agent.startsWith('uv/'))).toBe(true)
    expect(locked.stderr).not.toContain('experimental')
  })

  it('a CA trusted by nobody: the lock fails at once, naming the index and its certificate', async () => {
    const started = Date.now()
    const locked = await lock(proxy.url, {})
    expect(locked.code, locked.stderr).toBe(1)
    expect(locked.json.error).toMatchObject({code: 'ERR_LAYERS_PYTHON_INDEX_CERTIFICATE', message: expect.stringContaining(`uv does not trust the certificate of ${index.publicUrl} (layer deps`)})
    expect(locked.json.error.message).toContain('invalid peer certificate: UnknownIssuer')
    expect(locked.json.error.hint).toContain('SSL_CERT_FILE for uv')
    expect(Date.now() - started).toBeLessThan(10_000)
  })

  // (Node 24 adds a suggestion of --use-system-ca inside the parentheses.)
  it('a CA trusted by uv only (SSL_CERT_FILE, no NODE_EXTRA_CA_CERTS): layers\' own read fails at once, naming the page and the certificate', async () => {
    const started = Date.now()
    const connectsBefore = proxy.connects.length
    const locked = await lock(proxy.url, {uv: true})
    expect(locked.code, locked.stderr).toBe(1)
    expect(locked.json.error.code).toBe('ERR_LAYERS_PYTHON_INDEX_UNREACHABLE')
    expect(locked.json.error.message).toMatch(new RegExp(`^Cannot read ${index.publicUrl}(bare|described)/: fetch failed \\(unable to verify the first certificate[^)]*\\) \\[UNABLE_TO_VERIFY_LEAF_SIGNATURE\\]\\.$`))
    expect(locked.json.error.hint).toContain('NODE_EXTRA_CA_CERTS')
    expect(proxy.connects.length).toBeGreaterThan(connectsBefore)
    expect(Date.now() - started).toBeLessThan(10_000)
  })

  it('no uv, pip resolves: PIP_CERT is its trust (layers keeps it for pip), and it tunnels through HTTPS_PROXY too', async () => {
    const connectionsBefore = index.connectionPorts.length
    const requestsBefore = index.requests.length
    const locked = await lock(proxy.url, {layers: true, pip: true}, 'pip')
    expect(locked.code, locked.stdout + locked.stderr).toBe(0)
    expect(readFileSync(path.join(dir, 'lockfile.json'), 'utf8')).toBe(direct)
    expect(index.userAgents.slice(requestsBefore).some((agent) => agent.startsWith('pip/'))).toBe(true)
    expect(index.connectionPorts.slice(connectionsBefore).filter((port) => !proxy.tunnelPorts.includes(port))).toEqual([])
  })

  it('no uv, pip not trusting the CA: the certificate is named, not "no wheel fits" (pip\'s own retries: some 9 s)', async () => {
    const locked = await lock(proxy.url, {layers: true}, 'pip')
    expect(locked.code, locked.stdout + locked.stderr).toBe(1)
    expect(locked.json.error).toMatchObject({code: 'ERR_LAYERS_PYTHON_INDEX_CERTIFICATE', message: expect.stringContaining(`pip does not trust the certificate of ${index.publicUrl}`), hint: expect.stringContaining('PIP_CERT for pip')})
    expect(locked.json.error.message).toContain('CERTIFICATE_VERIFY_FAILED')
  })
})

