// `layers image` through the built CLI: the same project in two directories (other file times, another
// time zone) gives the same manifest digest; the image pushed to a real registry (docker-registry on
// loopback, credentials from the aws-double's ECR GetAuthorizationToken) holds /opt and /var/task as
// Lambda assembles them (read back layer by layer from the registry, a later layer winning), the base
// layer mounted from its repository; a second push uploads no blob (the registry's own access log).
import {execFileSync} from 'node:child_process'
import {chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {DescribeImagesCommand, ECRClient} from '@aws-sdk/client-ecr'
import {AddLayerVersionPermissionCommand, GetLayerVersionByArnCommand, PublishLayerVersionCommand} from '@aws-sdk/client-lambda'
import yazl from 'yazl'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startAwsServer, type AwsServer} from '../../aws-double/index.js'
import {canonicalBytes, OCI_CONFIG, OCI_LAYER_GZIP, OCI_MANIFEST, sha256Digest} from '../../src/image/oci.js'
import {layerBlob} from '../../src/image/tar.js'
import {DEV, EU, lambdaAs, makeProject, PROD, type Project} from '../publish/support.js'
import {startOciRegistry, type OciRegistry} from '../support/oci-registry.js'

const MANIFEST = `version: 1
settings:
  bucket: "image-{accountId}-{region}"
  regions: [${EU}]
  architectures: [x86_64]
  runtimes: [nodejs22.x]
accounts:
  dev: {id: "${DEV}", profile: dev, regions: [${EU}]}
layers:
  first:
    dir: layers/first
  second:
    dir: layers/second
  vendor:
    arn: "arn:aws:lambda:${EU}:${PROD}:layer:vendor:1"
functions:
  api: {name: acme-api, source: fns/api, handler: index.handler, runtime: nodejs22.x, architecture: x86_64, layers: [first, second], accounts: [dev]}
  vendored: {name: acme-vendored, source: fns/api, handler: index.handler, runtime: nodejs22.x, architecture: x86_64, layers: [first, vendor], accounts: [dev]}
`

const FILES = {
  'layers.yaml': MANIFEST,
  'layers/first/nodejs/node_modules/shared/index.js': "module.exports = 'first'\n",
  'layers/first/nodejs/node_modules/only-first/index.js': "module.exports = 'only first'\n",
  'layers/first/bin/tool': '#!/bin/sh\necho tool\n',
  'layers/second/nodejs/node_modules/shared/index.js': "module.exports = 'second'\n",
  'fns/api/index.js': "const shared = require('shared')\nexports.handler = async () => shared\n",
}

let registry: OciRegistry
let server: AwsServer
let one: Project
let two: Project
let scratch: string
let baseLayout: string
const auth = () => `Basic ${Buffer.from(`AWS:${registry.password}`).toString('base64')}`

const VENDOR_ARN = `arn:aws:lambda:${EU}:${PROD}:layer:vendor:1`
let vendorSha256 = ''

function zipOf(files: Record<string, string>): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const zip = new yazl.ZipFile()
    for (const [name, text] of Object.entries(files)) zip.addBuffer(Buffer.from(text), name, {mtime: new Date(0)})
    zip.end()
    const chunks: Buffer[] = []
    zip.outputStream.on('data', (chunk: Buffer) => chunks.push(chunk)).on('end', () => resolve(Buffer.concat(chunks))).on('error', reject)
  })
}

/** A vendor's layer in another account, readable by dev only once granted (as on AWS). */
async function publishVendorLayer(): Promise<void> {
  const vendor = lambdaAs(server, PROD, EU)
  const dev = lambdaAs(server, DEV, EU)
  const zip = await zipOf({'nodejs/node_modules/shared/index.js': "module.exports = 'vendor'\n", 'extensions/vendor-agent': 'agent\n'})
  const published = await vendor.send(new PublishLayerVersionCommand({LayerName: 'vendor', Content: {ZipFile: zip}}))
  expect(published.LayerVersionArn).toBe(VENDOR_ARN)
  await expect(dev.send(new GetLayerVersionByArnCommand({Arn: VENDOR_ARN}))).rejects.toMatchObject({name: 'AccessDeniedException'})
  await vendor.send(new AddLayerVersionPermissionCommand({LayerName: 'vendor', VersionNumber: 1, StatementId: 'dev', Action: 'lambda:GetLayerVersion', Principal: DEV}))
  vendorSha256 = (await dev.send(new GetLayerVersionByArnCommand({Arn: VENDOR_ARN}))).Content!.CodeSha256!
  vendor.destroy()
  dev.destroy()
}

/** Extracts the layers of the one image of an OCI layout in order into `root`. */
function extractFromLayout(layout: string, root: string): void {
  const blob = (digest: string) => readFileSync(path.join(layout, 'blobs', 'sha256', digest.slice(7)))
  const index = JSON.parse(readFileSync(path.join(layout, 'index.json'), 'utf8')) as {manifests: Array<{digest: string}>}
  const manifest = JSON.parse(blob(index.manifests[0]!.digest).toString('utf8')) as {layers: Array<{digest: string}>}
  mkdirSync(root, {recursive: true})
  for (const layer of manifest.layers) execFileSync('tar', ['-xzf', path.join(layout, 'blobs', 'sha256', layer.digest.slice(7)), '-C', root])
}

/** A tiny base image (one layer with /var/runtime/bootstrap, an entrypoint, env and workdir), as an OCI layout and in the registry as lambda/base:1. */
async function makeBase(): Promise<void> {
  const layer = await layerBlob([{path: 'var/runtime/bootstrap', mode: 0o755, data: Buffer.from('#!/bin/sh\necho base\n')}], 'base')
  const config = canonicalBytes({architecture: 'amd64', os: 'linux', created: '2024-01-01T00:00:00Z', config: {Entrypoint: ['/lambda-entrypoint.sh'], Env: ['LAMBDA_TASK_ROOT=/var/task'], WorkingDir: '/var/task'}, rootfs: {type: 'layers', diff_ids: [layer.diffId]}})
  const manifest = canonicalBytes({schemaVersion: 2, mediaType: OCI_MANIFEST, config: {mediaType: OCI_CONFIG, digest: sha256Digest(config), size: config.length}, layers: [{mediaType: OCI_LAYER_GZIP, digest: layer.digest, size: layer.bytes.length}]})
  mkdirSync(path.join(baseLayout, 'blobs', 'sha256'), {recursive: true})
  for (const bytes of [layer.bytes, config, manifest]) writeFileSync(path.join(baseLayout, 'blobs', 'sha256', sha256Digest(bytes).slice(7)), bytes)
  writeFileSync(path.join(baseLayout, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}')
  writeFileSync(path.join(baseLayout, 'index.json'), JSON.stringify({schemaVersion: 2, manifests: [{mediaType: OCI_MANIFEST, digest: sha256Digest(manifest), size: manifest.length}]}))
  for (const bytes of [layer.bytes, config]) {
    const start = await fetch(`${registry.url}/v2/lambda/base/blobs/uploads/`, {method: 'POST', headers: {authorization: auth()}})
    const location = new URL(start.headers.get('location')!, registry.url)
    location.searchParams.set('digest', sha256Digest(bytes))
    expect((await fetch(location, {method: 'PUT', headers: {authorization: auth()}, body: bytes})).status).toBe(201)
  }
  expect((await fetch(`${registry.url}/v2/lambda/base/manifests/1`, {method: 'PUT', headers: {authorization: auth(), 'content-type': OCI_MANIFEST}, body: manifest})).status).toBe(201)
}

beforeAll(async () => {
  registry = await startOciRegistry()
  server = await startAwsServer({ecr: {registry: registry.url, password: registry.password}})
  scratch = mkdtempSync(path.join(tmpdir(), 'layers-image-e2e-'))
  baseLayout = path.join(scratch, 'base')
  await makeBase()
  await publishVendorLayer()
  one = makeProject(server, FILES)
  two = makeProject(server, FILES)
  for (const project of [one, two]) chmodSync(path.join(project.dir, 'layers/first/bin/tool'), 0o755)
  const locked = await one.run(['lock', '--json'])
  expect(locked.status, locked.stderr).toBe(0)
  // The second copy: the same lock, other file times (a checkout on another day), built itself.
  cpSync(path.join(one.dir, 'lockfile.json'), path.join(two.dir, 'lockfile.json'))
  for (const file of Object.keys(FILES)) utimesSync(path.join(two.dir, file), new Date('2031-05-06T07:08:09Z'), new Date('2031-05-06T07:08:09Z'))
  const built = await Promise.all([one.run(['build', '--json']), two.run(['build', '--json'])])
  for (const result of built) expect(result.status, result.stderr).toBe(0)
}, 120_000)

afterAll(async () => {
  one?.remove()
  two?.remove()
  if (scratch) rmSync(scratch, {recursive: true, force: true})
  await server?.close()
  await registry?.close()
})

/** Extracts the image's layers from the registry in order into `root`, as a container runtime stacks them. */
async function extractFromRegistry(repository: string, digest: string, root: string): Promise<{Cmd: string[]; Entrypoint: string[]}> {
  const manifest = (await (await fetch(`${registry.url}/v2/${repository}/manifests/${digest}`, {headers: {authorization: auth(), accept: OCI_MANIFEST}})).json()) as {layers: Array<{digest: string}>; config: {digest: string}}
  mkdirSync(root, {recursive: true})
  for (const [index, layer] of manifest.layers.entries()) {
    const bytes = Buffer.from(await (await fetch(`${registry.url}/v2/${repository}/blobs/${layer.digest}`, {headers: {authorization: auth()}})).arrayBuffer())
    expect(sha256Digest(bytes)).toBe(layer.digest)
    const file = path.join(root, `..layer${index}.tgz`)
    writeFileSync(file, bytes)
    execFileSync('tar', ['-xzf', file, '-C', root])
    rmSync(file)
  }
  const config = (await (await fetch(`${registry.url}/v2/${repository}/blobs/${manifest.config.digest}`, {headers: {authorization: auth()}})).json()) as {config: {Cmd: string[]; Entrypoint: string[]}}
  return config.config
}

describe('layers image', () => {
  it('same digest in two directories and time zones; pushed image holds /opt and /var/task as Lambda lays them out; a second push uploads no blob', async () => {
    const [first, second] = await Promise.all([
      one.run(['image', 'api', '--base', `oci:${baseLayout}`, '--output', 'out', '--json'], {TZ: 'UTC'}),
      two.run(['image', 'api', '--base', `oci:${baseLayout}`, '--output', 'out', '--json'], {TZ: 'Asia/Kathmandu'}),
    ])
    expect(first.status, first.stderr).toBe(0)
    expect(second.status, second.stderr).toBe(0)
    expect(first.json.digest).toMatch(/^sha256:[0-9a-f]{64}$/)
    expect(second.json.digest).toBe(first.json.digest)
    expect(first.json.layers.map((layer: {source: string; name?: string}) => layer.name ?? layer.source)).toEqual(['base', 'first', 'second', 'code'])
    const index = JSON.parse(readFileSync(path.join(one.dir, 'out', 'index.json'), 'utf8')) as {manifests: Array<{digest: string}>}
    expect(index.manifests[0]!.digest).toBe(first.json.digest)
    expect(readFileSync(path.join(two.dir, 'out', 'blobs', 'sha256', first.json.digest.slice(7))).equals(readFileSync(path.join(one.dir, 'out', 'blobs', 'sha256', first.json.digest.slice(7))))).toBe(true)

    // Push on the same base, read from the registry (the ECR token's credentials): the same image.
    const before = (await registry.settled()).length
    const pushArgs = ['image', 'api', '--base', `${registry.host}/lambda/base:1`, '--push', '--repository', 'fn/api', '--create-repository', '--tag', 'v1', '--json']
    const pushed = await one.run(pushArgs)
    expect(pushed.status, pushed.stderr).toBe(0)
    expect(pushed.json.digest).toBe(first.json.digest)
    expect(pushed.json.pushes).toEqual([
      {account: 'dev', accountId: DEV, region: EU, repository: 'fn/api', repositoryCreated: true, imageUri: `${registry.host}/fn/api@${first.json.digest}`, digest: first.json.digest, blobsPushed: 4, blobsSkipped: 0, blobsMounted: 1},
    ])
    const firstPush = (await registry.settled()).slice(before)
    expect(firstPush.filter((request) => request.method === 'PUT' && request.uri.includes('/blobs/uploads/'))).toHaveLength(4)
    expect(firstPush.filter((request) => request.uri.includes('mount=') && request.status === 201)).toHaveLength(1)
    const ecrCalls = server.calls.filter((call) => call.service === 'ecr').map((call) => call.operation)
    expect(ecrCalls).toEqual(['GetAuthorizationToken', 'DescribeRepositories', 'CreateRepository'])
    // The account was checked before ECR was asked.
    expect(server.calls.findIndex((call) => call.operation === 'GetCallerIdentity')).toBeLessThan(server.calls.findIndex((call) => call.service === 'ecr'))

    const root = path.join(scratch, 'rootfs')
    const config = await extractFromRegistry('fn/api', pushed.json.pushes[0].digest, root)
    expect(config).toMatchObject({Cmd: ['index.handler'], Entrypoint: ['/lambda-entrypoint.sh']})
    expect(readFileSync(path.join(root, 'opt/nodejs/node_modules/shared/index.js'), 'utf8')).toBe("module.exports = 'second'\n")
    expect(readFileSync(path.join(root, 'opt/nodejs/node_modules/only-first/index.js'), 'utf8')).toBe("module.exports = 'only first'\n")
    expect(statSync(path.join(root, 'opt/bin/tool')).mode & 0o777).toBe(0o755)
    expect(readFileSync(path.join(root, 'var/task/index.js'), 'utf8')).toContain("require('shared')")
    expect(existsSync(path.join(root, 'var/runtime/bootstrap'))).toBe(true)
    expect(existsSync(path.join(root, 'var/task/node_modules'))).toBe(false)

    const ecr = new ECRClient({region: EU, endpoint: server.endpoint, credentials: async () => server.credentials(DEV), maxAttempts: 1})
    const {imageDetails} = await ecr.send(new DescribeImagesCommand({repositoryName: 'fn/api', imageIds: [{imageDigest: first.json.digest}]}))
    expect(imageDetails?.[0]?.imageTags).toEqual(['v1'])

    // Again: every blob is there, none is uploaded.
    const beforeSecond = (await registry.settled()).length
    const again = await one.run(pushArgs.filter((arg) => arg !== '--create-repository'))
    expect(again.status, again.stderr).toBe(0)
    expect(again.json.pushes[0]).toMatchObject({digest: first.json.digest, blobsPushed: 0, blobsSkipped: 5, blobsMounted: 0, repositoryCreated: false})
    const secondPush = (await registry.settled()).slice(beforeSecond)
    expect(secondPush.filter((request) => request.method === 'POST' || (request.method === 'PUT' && request.uri.includes('/blobs/')))).toEqual([])
    // Five blobs found (HEAD 200); the first request of the run is also answered 401 (the auth challenge).
    expect(secondPush.filter((request) => request.method === 'HEAD' && request.status === 200)).toHaveLength(5)
  }, 180_000)

  it('lays an ARN layer of another account (granted) under /opt in the function order, its bytes verified, downloaded once', async () => {
    const mark = server.calls.length
    const first = await one.run(['image', 'vendored', '--base', `oci:${baseLayout}`, '--output', 'vendored', '--json'])
    expect(first.status, first.stderr).toBe(0)
    expect(first.json.layers.map((layer: {source: string; name?: string}) => layer.name ?? layer.source)).toEqual(['base', 'first', 'vendor', 'code'])
    const calls = server.calls.slice(mark)
    expect(calls.filter((call) => call.operation.startsWith('GetLayerVersion')).map((call) => call.accountId)).toEqual([DEV])
    expect(calls.filter((call) => call.operation === 'DownloadContent')).toHaveLength(1)
    const cached = path.join(one.dir, '.layers', 'cache', 'arn-layers', `${Buffer.from(vendorSha256, 'base64').toString('hex')}.zip`)
    expect(sha256Digest(readFileSync(cached))).toBe(`sha256:${Buffer.from(vendorSha256, 'base64').toString('hex')}`)

    const root = path.join(scratch, 'vendored-rootfs')
    extractFromLayout(path.join(one.dir, 'vendored'), root)
    // The later layer (vendor) wins over first; what only first has stays.
    expect(readFileSync(path.join(root, 'opt/nodejs/node_modules/shared/index.js'), 'utf8')).toBe("module.exports = 'vendor'\n")
    expect(readFileSync(path.join(root, 'opt/nodejs/node_modules/only-first/index.js'), 'utf8')).toBe("module.exports = 'only first'\n")
    expect(readFileSync(path.join(root, 'opt/extensions/vendor-agent'), 'utf8')).toBe('agent\n')
    expect(existsSync(path.join(root, 'var/task/index.js'))).toBe(true)

    // Again: the version is read (the account may still use it), its zip comes from the cache.
    const again = server.calls.length
    const second = await one.run(['image', 'vendored', '--base', `oci:${baseLayout}`, '--output', 'vendored', '--json'])
    expect(second.status, second.stderr).toBe(0)
    expect(second.json.digest).toBe(first.json.digest)
    expect(server.calls.slice(again).filter((call) => call.operation === 'DownloadContent')).toEqual([])
  }, 60_000)

  it('refuses a push to a repository that does not exist, naming it, account and region (exit 2)', async () => {
    const result = await one.run(['image', 'api', '--base', `oci:${baseLayout}`, '--push', '--repository', 'nope/missing', '--json'])
    expect(result.status).toBe(2)
    expect(result.json.error).toMatchObject({code: 'ERR_LAYERS_ECR_REPOSITORY_MISSING'})
    expect(result.json.error.message).toContain(`nope/missing does not exist in account dev (${DEV}), ${EU}`)
  })
})
