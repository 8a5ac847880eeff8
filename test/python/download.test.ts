// src/python/download.ts against a plain HTTP server on loopback: an attempt that receives nothing for
// pip's `timeout` fails as ETIMEDOUT and is tried again (the wait said); a 404 is not tried again; a
// SOCKS proxy for the index URL (which undici cannot use), named by HTTP_PROXY or ALL_PROXY, is exit 2 before any request.
import {createServer, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'
import {afterAll, afterEach, beforeAll, describe, expect, it, vi} from 'vitest'
import {UserInputError} from '../../src/errors/index.js'
import type {PythonIndexConfig} from '../../src/python/config.js'
import {downloadFromIndex, IndexDownloadError} from '../../src/python/download.js'
import type {LayersEvent} from '../../src/events.js'

let server: Server
let base: string
const hits = new Map<string, number>()

beforeAll(async () => {
  server = createServer((request, response) => {
    const count = (hits.get(request.url!) ?? 0) + 1
    hits.set(request.url!, count)
    if (request.url === '/files/stalls-once.whl') {
      // The first answer sends its headers and part of the body, then nothing.
      if (count === 1) return void response.writeHead(200, {'content-length': '10'}).write('12345')
      return void response.writeHead(200).end('1234567890')
    }
    response.writeHead(404).end()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  server.closeAllConnections()
  await new Promise<void>((resolve) => server.close(() => resolve()))
})

const config = (): PythonIndexConfig => ({indexes: [{url: `${base}/simple/`, public: `${base}/simple/`}], network: {retries: 2, timeoutMs: 200}})

describe('downloads from a Python index', () => {
  it('an attempt with nothing received for the timeout fails as ETIMEDOUT and is tried again, the wait said', async () => {
    const events: LayersEvent[] = []
    const body = await downloadFromIndex(`${base}/files/stalls-once.whl`, config(), {what: 'stalls-once.whl', totalTimeoutMs: 10_000, emit: (event) => events.push(event)})
    expect(body.toString()).toBe('1234567890')
    expect(hits.get('/files/stalls-once.whl')).toBe(2)
    expect(events).toEqual([{type: 'info', message: 'Waiting 0.5 s to fetch stalls-once.whl again: attempt 1 of 3 failed (ETIMEDOUT).'}])
  })

  it('a 404 fails at once, naming the status', async () => {
    const error = await downloadFromIndex(`${base}/files/missing.whl`, config(), {what: 'missing.whl', totalTimeoutMs: 10_000}).catch((thrown: unknown) => thrown)
    expect(error).toBeInstanceOf(IndexDownloadError)
    expect(error).toMatchObject({message: 'HTTP 404', attempts: 1, statusCode: 404})
    expect(hits.get('/files/missing.whl')).toBe(1)
  })
  afterEach(() => vi.unstubAllEnvs())

  it('a SOCKS proxy for the index URL is ERR_LAYERS_PROXY_ENV naming the variable, its credentials hidden, and nothing is requested', async () => {
    vi.stubEnv('http_proxy', undefined)
    vi.stubEnv('HTTP_PROXY', 'socks5://user:secret@127.0.0.1:1080')
    const error = await downloadFromIndex(`${base}/files/socks.whl`, config(), {what: 'socks.whl', totalTimeoutMs: 10_000}).catch((thrown: unknown) => thrown)
    expect(error).toBeInstanceOf(UserInputError)
    expect(error).toMatchObject({code: 'ERR_LAYERS_PROXY_ENV', message: `The environment variable HTTP_PROXY is "socks5://***@127.0.0.1:1080", a SOCKS proxy: layers reads the Python index ${base} through http(s) proxies only.`, details: {variable: 'HTTP_PROXY'}})
    expect(hits.get('/files/socks.whl')).toBeUndefined()
  })

  it('ALL_PROXY serves a scheme without its own variable, as for uv and pip: a SOCKS one is refused the same way, a malformed one named', async () => {
    for (const name of ['http_proxy', 'HTTP_PROXY', 'all_proxy']) vi.stubEnv(name, undefined)
    vi.stubEnv('ALL_PROXY', 'socks5h://user:secret@127.0.0.1:1080')
    const socks = await downloadFromIndex(`${base}/files/socks-all.whl`, config(), {what: 'socks-all.whl', totalTimeoutMs: 10_000}).catch((thrown: unknown) => thrown)
    expect(socks).toMatchObject({code: 'ERR_LAYERS_PROXY_ENV', exitCode: 2, message: `The environment variable ALL_PROXY is "socks5h://***@127.0.0.1:1080", a SOCKS proxy: layers reads the Python index ${base} through http(s) proxies only.`, details: {variable: 'ALL_PROXY'}})
    expect((socks as UserInputError).hint).toContain('or set HTTP_PROXY to one for the index')
    vi.stubEnv('ALL_PROXY', 'deploy:s3cret@proxy.example:3128')
    const malformed = await downloadFromIndex(`${base}/files/socks-all.whl`, config(), {what: 'socks-all.whl', totalTimeoutMs: 10_000}).catch((thrown: unknown) => thrown)
    expect(malformed).toMatchObject({code: 'ERR_LAYERS_PROXY_ENV', exitCode: 2, message: 'The environment variable ALL_PROXY is "***@proxy.example:3128", not an http://, https:// or socks5:// (socks, socks4, socks4a, socks5h) URL.'})
    expect(hits.get('/files/socks-all.whl')).toBeUndefined()
  })
})
