// The distribution client against a loopback server that behaves as public.ecr.aws and Docker Hub do:
// a Bearer challenge answered with a token from the realm for the challenge's scope, a multi-platform
// index resolved to linux/<arch>, and bytes that do not match their digest refused; a request it never
// answers is named while it waits (after 3 s) and cut by an interrupt.
import {createServer, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {defaultBaseReference, loadBaseImage, parseImageReference} from '../../src/image/base.js'
import {canonicalBytes, OCI_CONFIG, OCI_INDEX, OCI_LAYER_GZIP, OCI_MANIFEST, sha256Digest} from '../../src/image/oci.js'
import {parseChallenge, Registry} from '../../src/image/registry.js'

const timeouts = {connectTimeoutMs: 2000, readTimeoutMs: 2000}
const layer = Buffer.from('not really a tar, but a blob')
const configOf = (architecture: string) => canonicalBytes({architecture, os: 'linux', rootfs: {type: 'layers', diff_ids: [sha256Digest('x')]}})
const manifestOf = (architecture: string) => canonicalBytes({schemaVersion: 2, mediaType: OCI_MANIFEST, config: {mediaType: OCI_CONFIG, digest: sha256Digest(configOf(architecture)), size: configOf(architecture).length}, layers: [{mediaType: OCI_LAYER_GZIP, digest: sha256Digest(layer), size: layer.length}]})
const index = canonicalBytes({
  schemaVersion: 2,
  mediaType: OCI_INDEX,
  manifests: ['amd64', 'arm64'].map((architecture) => ({mediaType: OCI_MANIFEST, digest: sha256Digest(manifestOf(architecture)), size: manifestOf(architecture).length, platform: {architecture, os: 'linux'}})),
})
const blobs = new Map<string, {type: string; bytes: Buffer}>([[sha256Digest(layer), {type: 'application/octet-stream', bytes: layer}]])
for (const architecture of ['amd64', 'arm64']) {
  blobs.set(sha256Digest(configOf(architecture)), {type: 'application/json', bytes: configOf(architecture)})
  blobs.set(sha256Digest(manifestOf(architecture)), {type: OCI_MANIFEST, bytes: manifestOf(architecture)})
}

let server: Server
let host: string
const scopes: string[] = []
let corrupt = false
let unavailable = 0

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x')
    // Taken in, never answered.
    if (url.pathname.startsWith('/v2/silent/')) return
    if (url.pathname === '/token') {
      scopes.push(url.searchParams.get('scope') ?? '')
      res.writeHead(200, {'content-type': 'application/json'}).end(JSON.stringify({token: `t:${url.searchParams.get('scope')}`}))
      return
    }
    const repository = /^\/v2\/(.+?)\/(manifests|blobs)\//.exec(url.pathname)?.[1] ?? ''
    if (req.headers.authorization !== `Bearer t:repository:${repository}:pull`) {
      res.writeHead(401, {'www-authenticate': `Bearer realm="http://${host}/token",service="test",scope="repository:${repository}:pull"`}).end('{"errors":[{"code":"UNAUTHORIZED"}]}')
      return
    }
    if (unavailable > 0) {
      unavailable--
      res.writeHead(503).end('{"errors":[{"code":"UNAVAILABLE","message":"try later"}]}')
      return
    }
    const reference = url.pathname.split('/').at(-1)!
    const found = reference === '22' ? {type: OCI_INDEX, bytes: index} : blobs.get(reference)
    if (!found) return void res.writeHead(404).end('{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}')
    const bytes = corrupt && url.pathname.includes('/blobs/') ? Buffer.concat([found.bytes, Buffer.from('!')]) : found.bytes
    res.writeHead(200, {'content-type': found.type, 'docker-content-digest': sha256Digest(found.bytes)}).end(bytes)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  host = `127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(() => {
  server.closeAllConnections()
  return new Promise<void>((resolve) => server.close(() => resolve()))
})

describe('registry client', () => {
  it('answers a Bearer challenge anonymously and picks linux/arm64 from the index', async () => {
    const base = await loadBaseImage(`${host}/lambda/nodejs:22`, 'arm64', (name) => new Registry({host: name, timeouts}))
    expect(base.manifestDigest).toBe(sha256Digest(manifestOf('arm64')))
    expect(base.config.architecture).toBe('arm64')
    expect((await base.blob(sha256Digest(layer))).equals(layer)).toBe(true)
    expect(scopes).toEqual(['repository:lambda/nodejs:pull'])
  })

  it('refuses a blob whose bytes do not match its digest, naming registry and blob', async () => {
    corrupt = true
    try {
      await expect(new Registry({host, timeouts}).blob('lambda/nodejs', sha256Digest(layer))).rejects.toThrow(new RegExp(`Registry ${host}: blob ${sha256Digest(layer)} of lambda/nodejs: the bytes hash to sha256:`))
    } finally {
      corrupt = false
    }
  })

  it('tries an operation again after a 503, up to three attempts', async () => {
    unavailable = 2
    expect((await new Registry({host, timeouts}).blob('lambda/nodejs', sha256Digest(layer))).equals(layer)).toBe(true)
    unavailable = 3
    await expect(new Registry({host, timeouts}).blob('lambda/nodejs', sha256Digest(layer))).rejects.toThrow(/HTTP 503: UNAVAILABLE try later/)
    unavailable = 0
  })

  it('defaults to AWS\'s Lambda base image of the runtime and parses references as Docker does', () => {
    expect(['nodejs22.x', 'python3.12', 'provided.al2023', 'java21', 'nodejs4.3-edge'].map(defaultBaseReference)).toEqual(['public.ecr.aws/lambda/nodejs:22', 'public.ecr.aws/lambda/python:3.12', 'public.ecr.aws/lambda/provided:al2023', 'public.ecr.aws/lambda/java:21', undefined])
    expect(parseImageReference('public.ecr.aws/lambda/nodejs:22')).toEqual({host: 'public.ecr.aws', repository: 'lambda/nodejs', reference: '22'})
    expect(parseImageReference('alpine')).toEqual({host: 'registry-1.docker.io', repository: 'library/alpine', reference: 'latest'})
    expect(parseImageReference(`127.0.0.1:5000/a/b@${sha256Digest('x')}`)).toEqual({host: '127.0.0.1:5000', repository: 'a/b', reference: sha256Digest('x')})
    expect(() => parseImageReference('Bad/Name:tag')).toThrow(/is not an image reference/)
  })

  it('names a request still waiting after 3 s (what, in which registry), and an interrupt cuts it at once', async () => {
    const messages: string[] = []
    const controller = new AbortController()
    const registry = new Registry({host, timeouts: {connectTimeoutMs: 2000, readTimeoutMs: 10_000}, signal: controller.signal, emit: (event) => void (event.type === 'progress' && messages.push(`${event.phase} ${event.message}`))})
    const digest = sha256Digest(layer)
    const upload = registry.uploadBlob('silent/repo', digest, layer)
    await new Promise((resolve) => setTimeout(resolve, 3300))
    expect(messages).toEqual([`waiting for registry ${host}: uploading blob ${digest} (${layer.length} bytes) to silent/repo (3 s)`])
    const reason = Object.assign(new Error('Interrupted by SIGINT'), {name: 'AbortError', signal: 'SIGINT'})
    const aborted = performance.now()
    controller.abort(reason)
    await expect(upload).rejects.toBe(reason)
    expect(performance.now() - aborted).toBeLessThan(500)
  })

  it('says a missing image does not exist (exit 2) and parses challenges', async () => {
    await expect(new Registry({host, timeouts}).manifest('lambda/nodejs', '99')).rejects.toMatchObject({code: 'ERR_LAYERS_IMAGE_NOT_FOUND'})
    expect(parseChallenge('Bearer realm="https://public.ecr.aws/token/",service="public.ecr.aws",scope="aws"')).toEqual({scheme: 'bearer', params: {realm: 'https://public.ecr.aws/token/', service: 'public.ecr.aws', scope: 'aws'}})
  })
})
