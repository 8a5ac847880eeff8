// ARN layer zips for an image (src/image/arn-layers.ts) with a fake Lambda client (its answers name a
// loopback Location): bytes other than CodeSha256 says are refused naming the ARN and never cached;
// targets whose pinned versions hold other content are refused; a cached zip is taken without a download.
import {createHash} from 'node:crypto'
import {existsSync, mkdtempSync, readdirSync, rmSync} from 'node:fs'
import {createServer, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {arnLayerZips, type ArnLayerEnv} from '../../src/image/arn-layers.js'
import type {Lockfile} from '../../src/lock/types.js'
import type {Account, FunctionSpec, Manifest} from '../../src/manifest/types.js'

const DEV: Account = {name: 'dev', id: '111111111111'} as Account
const ARN = (region: string) => `arn:aws:lambda:${region}:222222222222:layer:vendor:3`
const GOOD = Buffer.from('PK\x05\x06'.padEnd(22, '\0'), 'latin1')
const manifest = {file: 'layers.yaml', layers: {vendor: {kind: 'arn', name: 'vendor', arn: ARN('{region}')}}} as unknown as Manifest
const fn = {key: 'api', layers: ['vendor'], architecture: 'x86_64'} as unknown as FunctionSpec
const lock = {layers: {vendor: {kind: 'arn', inputs: 'x', arns: {[DEV.id]: {'eu-west-1': ARN('eu-west-1'), 'us-east-1': ARN('us-east-1')}}}}} as unknown as Lockfile

let server: Server
let served = GOOD
let downloads = 0
let location = ''
let dir: string

beforeAll(async () => {
  server = createServer((_req, res) => {
    downloads++
    res.end(served)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  location = `http://127.0.0.1:${(server.address() as AddressInfo).port}/content/vendor-3?X-Amz-Signature=secret`
  dir = mkdtempSync(path.join(tmpdir(), 'layers-arn-layers-'))
})

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve))
  rmSync(dir, {recursive: true, force: true})
})

function env(cacheDir: string, contentOf: (region: string) => Buffer = () => GOOD): ArnLayerEnv {
  return {
    timeouts: {connectTimeoutMs: 2000, readTimeoutMs: 2000},
    cacheDir,
    lambda: async (_account, region) => ({
      send: async () => {
        const content = contentOf(region)
        return {LayerVersionArn: ARN(region), Version: 3, Content: {Location: location, CodeSha256: createHash('sha256').update(content).digest('base64'), CodeSize: content.length}}
      },
    }) as never,
  }
}

describe('arnLayerZips', () => {
  it('refuses a download whose bytes are not the CodeSha256 Lambda gives, naming the ARN, and caches nothing', async () => {
    const cacheDir = path.join(dir, 'tampered')
    served = Buffer.from('not the layer')
    const error = await arnLayerZips(manifest, lock, fn, [{account: DEV, region: 'eu-west-1'}], env(cacheDir)).catch((caught: unknown) => caught)
    expect(error).toMatchObject({code: 'ERR_LAYERS_IMAGE_ARN_INTEGRITY', exitCode: 1})
    expect((error as Error).message).toContain(ARN('eu-west-1'))
    expect((error as Error).message).not.toContain('secret')
    expect(existsSync(cacheDir) ? readdirSync(cacheDir) : []).toEqual([])
  })

  it('downloads a version once, then takes it from the cache', async () => {
    const cacheDir = path.join(dir, 'cache')
    served = GOOD
    const before = downloads
    const zips = await arnLayerZips(manifest, lock, fn, [{account: DEV, region: 'eu-west-1'}], env(cacheDir))
    expect(zips.get('vendor')).toEqual({zipPath: expect.stringMatching(/^.*\.zip$/), arn: ARN('eu-west-1')})
    expect(path.dirname(zips.get('vendor')!.zipPath)).toBe(cacheDir)
    expect(await arnLayerZips(manifest, lock, fn, [{account: DEV, region: 'eu-west-1'}], env(cacheDir))).toEqual(zips)
    expect(downloads - before).toBe(1)
  })

  it('refuses targets whose pinned versions hold other content, naming both', async () => {
    const contentOf = (region: string) => (region === 'eu-west-1' ? GOOD : Buffer.from('other'))
    const targets = [{account: DEV, region: 'eu-west-1'}, {account: DEV, region: 'us-east-1'}]
    const error = await arnLayerZips(manifest, lock, fn, targets, env(path.join(dir, 'differs'), contentOf)).catch((caught: unknown) => caught)
    expect(error).toMatchObject({code: 'ERR_LAYERS_IMAGE_ARN_LAYER_DIFFERS', exitCode: 2})
    expect((error as Error).message).toContain(ARN('us-east-1'))
    expect((error as Error).message).toContain(ARN('eu-west-1'))
  })
})
