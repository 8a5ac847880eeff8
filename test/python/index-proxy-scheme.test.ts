// Which proxy layers' own reads of an https:// Python index take, as uv and pip take them: HTTPS_PROXY
// (a CONNECT to it), else ALL_PROXY, and with HTTP_PROXY alone none (straight to the index). The
// "index" is a bare TCP server that records connections (no TLS: the read fails after connecting,
// which is all these cases look at); the proxy records CONNECTs and closes them unanswered
// (test/support/forward-proxy.ts), which fails the attempt once, naming the proxy (undici alone would
// connect again thousands of times a second until the timeout).
import {createServer, type Server, type Socket} from 'node:net'
import type {AddressInfo} from 'node:net'
import {afterAll, afterEach, beforeAll, describe, expect, it, vi} from 'vitest'
import type {PythonIndexConfig} from '../../src/python/config.js'
import {startForwardProxy, type ForwardProxy} from '../support/forward-proxy.js'

let index: Server
let indexUrl: string
let connections = 0
const sockets = new Set<Socket>()
let proxy: ForwardProxy

beforeAll(async () => {
  index = createServer((socket) => {
    connections++
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.destroy()
  })
  await new Promise<void>((resolve) => index.listen(0, '127.0.0.1', resolve))
  indexUrl = `https://127.0.0.1:${(index.address() as AddressInfo).port}/simple/`
  proxy = await startForwardProxy()
})
afterAll(async () => {
  for (const socket of sockets) socket.destroy()
  await new Promise<void>((resolve) => index.close(() => resolve()))
  await proxy.close()
})
afterEach(() => {
  vi.unstubAllEnvs()
  connections = 0
  proxy.connects.length = 0
})

const VARIABLES = ['http_proxy', 'HTTP_PROXY', 'https_proxy', 'HTTPS_PROXY', 'all_proxy', 'ALL_PROXY', 'no_proxy', 'NO_PROXY']

/** One read of the https index with only `set` among the proxy variables, in a fresh module (its agents are made once per process). */
async function readWith(set: Record<string, string>): Promise<Error> {
  for (const name of VARIABLES) vi.stubEnv(name, set[name])
  vi.resetModules()
  const {readFromIndex} = await import('../../src/python/download.js')
  const config: PythonIndexConfig = {indexes: [{url: indexUrl, public: indexUrl}], network: {retries: 0, timeoutMs: 2000}}
  return readFromIndex(`${indexUrl}numpy/`, config, {what: 'numpy', totalTimeoutMs: 5000}).then(
    () => expect.fail('the read of a server that speaks no TLS succeeded'),
    (error: Error) => error,
  )
}

describe('the proxy of an https:// index read', () => {
  it('HTTP_PROXY alone: none, the index is reached directly (uv and pip use HTTP_PROXY for http:// URLs only)', async () => {
    await readWith({HTTP_PROXY: proxy.url})
    expect(proxy.connects).toEqual([])
    expect(connections).toBe(1)
  })

  it('HTTPS_PROXY: one CONNECT to the index through it, which the proxy closing fails at once, naming the proxy', async () => {
    const started = Date.now()
    const error = await readWith({HTTP_PROXY: 'http://127.0.0.1:9', HTTPS_PROXY: proxy.url})
    expect(proxy.connects).toEqual([new URL(indexUrl).host])
    expect(error.message).toContain(`the proxy ${proxy.url} closed the connection before it answered CONNECT ${new URL(indexUrl).host}`)
    expect(Date.now() - started).toBeLessThan(1500)
    expect(connections).toBe(0)
  })

  it('ALL_PROXY, with HTTP_PROXY beside it: a CONNECT through ALL_PROXY', async () => {
    await readWith({HTTP_PROXY: 'http://127.0.0.1:9', ALL_PROXY: proxy.url})
    expect(proxy.connects).toEqual([new URL(indexUrl).host])
    expect(connections).toBe(0)
  })
})
