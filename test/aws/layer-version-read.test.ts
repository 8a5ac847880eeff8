// SDK-client-level tests of reading one layer version (src/aws/lambda-layers.ts readLayerVersion, and
// every caller: publish's readByArn/getVersion, attach's readLayer, audit, prune, outdated) against a
// stub Lambda endpoint on loopback. The stub answers as moto 5 does: GetLayerVersionByArn's path
// (GET /layers?find=LayerVersion&Arn=...) is ListLayers there, 200 with no layer version in it, so
// only GetLayerVersion with the layer ARN reads a version. An answer without the fields AWS always
// returns, or one the SDK cannot read at all, is ERR_LAYERS_AWS_MALFORMED_ANSWER, never a readable
// version of size 0.
import http from 'node:http'
import type {AddressInfo} from 'node:net'
import {LambdaClient} from '@aws-sdk/client-lambda'
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'
import {lambdaReadApi} from '../../src/audit/lambda-read.js'
import {lambdaGetOf} from '../support/lambda-get.js'
import {awsClientFactory} from '../../src/aws/clients.js'
import {functionsApi} from '../../src/aws/lambda-functions.js'
import {layerVersionsApi, MALFORMED_ANSWER_CODE, readLayerVersion} from '../../src/aws/lambda-layers.js'
import {layerProbeApi} from '../../src/outdated/lambda.js'
import {pruneLambdaApi} from '../../src/prune/lambda.js'

const ACCOUNT = '111111111111'
const REGION = 'eu-west-1'
const LAYER_ARN = `arn:aws:lambda:${REGION}:${ACCOUNT}:layer:tool`
const V2 = `${LAYER_ARN}:2`

/** What GetLayerVersion answers for version 2 of `tool`: as AWS (and moto) do, unless a test sets `reply`. */
let reply: ((layerName: string, version: string) => {status: number; body: string}) | undefined
const requests: string[] = []
const userAgents: string[] = []

const full = (version = 2) => ({
  Content: {Location: 'https://example.invalid/zip', CodeSha256: 'c2hhMjU2', CodeSize: 4096},
  LayerArn: LAYER_ARN,
  LayerVersionArn: `${LAYER_ARN}:${version}`,
  Version: version,
  CreatedDate: '2026-01-01T00:00:00.000+0000',
  CompatibleRuntimes: ['nodejs22.x'],
  CompatibleArchitectures: ['arm64'],
})

let server: http.Server
let endpoint: string

beforeAll(async () => {
  server = http.createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://stub')
    requests.push(`${request.method} ${url.pathname}${url.search}`)
    userAgents.push(String(request.headers['user-agent']))
    const send = (status: number, body: string, type?: string) => {
      response.writeHead(status, {'content-type': 'application/json', ...(type ? {'x-amzn-errortype': type} : {})})
      response.end(body)
    }
    // moto: the ListLayers route answers GetLayerVersionByArn's path.
    if (url.pathname === '/2018-10-31/layers') return send(200, JSON.stringify({Layers: []}))
    const match = /^\/2018-10-31\/layers\/([^/]+)\/versions\/([^/]+)$/.exec(url.pathname)
    if (!match) return send(404, JSON.stringify({message: 'unknown route'}), 'UnknownOperationException')
    const layerName = decodeURIComponent(match[1]!)
    if (reply) {
      const answer = reply(layerName, match[2]!)
      return send(answer.status, answer.body)
    }
    if ((layerName === LAYER_ARN || layerName === 'tool') && match[2] === '2') return send(200, JSON.stringify(full()))
    send(404, JSON.stringify({Type: 'User', message: 'The resource you requested does not exist.'}), 'ResourceNotFoundException')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve))
})

afterEach(() => {
  reply = undefined
  requests.length = 0
  userAgents.length = 0
})

const client = () => new LambdaClient({endpoint, region: REGION, maxAttempts: 1, credentials: {accessKeyId: 'AKIDSTUB', secretAccessKey: 'secret'}})

describe('readLayerVersion (GetLayerVersion with the layer ARN)', () => {
  it('reads a version by its ARN with GetLayerVersion (LayerName = layer ARN, VersionNumber), never GetLayerVersionByArn', async () => {
    expect(await readLayerVersion(client(), V2)).toEqual({arn: V2, version: 2, codeSha256: 'c2hhMjU2', codeSize: 4096, location: 'https://example.invalid/zip', compatibleRuntimes: ['nodejs22.x'], compatibleArchitectures: ['arm64']})
    expect(requests).toEqual([`GET /2018-10-31/layers/${encodeURIComponent(LAYER_ARN)}/versions/2`])
  })

  it('gives every caller the version, its size, runtimes and architectures, and not found where it is not found', async () => {
    const lambda = client()
    expect((await layerVersionsApi(lambda).readByArn(V2))?.codeSize).toBe(4096)
    expect((await layerVersionsApi(lambda).getVersion('tool', 2))?.arn).toBe(V2)
    expect((await functionsApi(lambda).readLayer(V2))?.compatibleArchitectures).toEqual(['arm64'])
    expect(await pruneLambdaApi(lambda).layerVersionSize(V2)).toBe(4096)
    expect(await lambdaReadApi(await lambdaGetOf(lambda, ACCOUNT, REGION)).readLayerVersion(V2)).toEqual({status: 'ok', codeSize: 4096, codeSha256: 'c2hhMjU2', compatibleArchitectures: ['arm64'], compatibleRuntimes: ['nodejs22.x']})
    expect(await layerProbeApi(lambda, ACCOUNT, REGION).canRead(V2)).toBe(true)
    // A deleted (or never published) version: not found, as each caller reports it.
    expect(await layerVersionsApi(lambda).readByArn(`${LAYER_ARN}:1`)).toBeUndefined()
    expect(await lambdaReadApi(await lambdaGetOf(lambda, ACCOUNT, REGION)).readLayerVersion(`${LAYER_ARN}:1`)).toEqual({status: 'missing'})
    expect(await layerProbeApi(lambda, ACCOUNT, REGION).canRead(`${LAYER_ARN}:3`)).toBe(false)
    expect(requests.some((request) => request.includes('find=LayerVersion'))).toBe(false)
  })

  it('refuses a 200 without a body, naming the layer version, the call and the endpoint', async () => {
    reply = () => ({status: 200, body: ''})
    const error = await readLayerVersion(client(), V2).catch((caught: unknown) => caught)
    expect(error).toMatchObject({name: 'OperationalError', code: MALFORMED_ANSWER_CODE, details: {layer: LAYER_ARN, version: 2, endpoint}})
    expect((error as Error).message).toContain(`${LAYER_ARN}:2`)
    expect((error as Error).message).toContain(endpoint)
    expect((error as Error).message).toMatch(/lacks Version, LayerVersionArn, Content/)
  })

  /** Runs `use` with a Lambda client of the product's factory (credentials and endpoint from the environment). */
  async function withFactoryLambda<T>(use: (lambda: LambdaClient) => Promise<T>): Promise<T> {
    const saved = {...process.env}
    Object.assign(process.env, {AWS_ENDPOINT_URL: endpoint, AWS_ACCESS_KEY_ID: 'AKIDSTUB', AWS_SECRET_ACCESS_KEY: 'secret'})
    delete process.env.AWS_PROFILE
    try {
      return await use(await awsClientFactory({maxAttempts: 1}).lambda({name: 'dev', id: ACCOUNT, regions: [REGION]}, REGION))
    } finally {
      process.env = saved
    }
  }

  /** Reads V2 through a Lambda client of the product's factory. */
  const readThroughFactory = (): Promise<unknown> => withFactoryLambda((lambda) => readLayerVersion(lambda, V2).catch((caught: unknown) => caught))

  it('checks every answer against its own call on a factory client (whose middleware stack is resolved once), with the same user agent every time', async () => {
    reply = (_layer, version) => ({status: 200, body: JSON.stringify(full(Number(version)))})
    await withFactoryLambda(async (lambda) => {
      const versions = await Promise.all([2, 3, 4, 2, 3, 4].map((version) => readLayerVersion(lambda, `${LAYER_ARN}:${version}`)))
      expect(versions.map((read) => read.version)).toEqual([2, 3, 4, 2, 3, 4])
      // Every answer is about version 2 now: only the calls for 2 pass, the others are refused as their own.
      reply = () => ({status: 200, body: JSON.stringify(full(2))})
      const results = await Promise.all([3, 2, 4].map((version) => readLayerVersion(lambda, `${LAYER_ARN}:${version}`).then((read) => read.version, (error: Error) => error.message)))
      expect(results[0]).toMatch(new RegExp(`for ${LAYER_ARN}:3 is about another version`))
      expect(results[1]).toBe(2)
      expect(results[2]).toMatch(new RegExp(`for ${LAYER_ARN}:4 is about another version`))
    })
    expect(userAgents).toHaveLength(9)
    expect(new Set(userAgents).size).toBe(1)
  })

  it('names the account and region too on a client of the factory', async () => {
    reply = () => ({status: 200, body: '{}'})
    const error = await readThroughFactory()
    expect(error).toMatchObject({code: MALFORMED_ANSWER_CODE, details: {account: `dev (${ACCOUNT})`, region: REGION, endpoint, operation: 'GetLayerVersion'}})
    expect((error as Error).message).toContain(`lambda GetLayerVersion for account dev (${ACCOUNT}), region ${REGION}, at ${endpoint}`)
  })

  it('turns an answer the SDK cannot read (an HTML page where JSON belongs) into the same error, naming the call and HTTP status', async () => {
    reply = () => ({status: 404, body: '<!doctype html><title>404 Not Found</title>'})
    const error = await readThroughFactory()
    expect(error).toMatchObject({code: MALFORMED_ANSWER_CODE, details: {operation: 'GetLayerVersion', endpoint, httpStatus: 404}})
    expect((error as Error).message).toMatch(new RegExp(`^The answer to lambda GetLayerVersion for account dev \\(${ACCOUNT}\\), region ${REGION}, at ${endpoint} is not one AWS gives \\(HTTP 404: `))
  })

  it('never lets an empty or partial answer pass for a readable version of size 0 in any caller', async () => {
    reply = () => ({status: 200, body: '{}'})
    const lambda = client()
    const code = {code: MALFORMED_ANSWER_CODE}
    await expect(layerVersionsApi(lambda).readByArn(V2)).rejects.toMatchObject(code)
    await expect(layerVersionsApi(lambda).getVersion('tool', 2)).rejects.toMatchObject(code)
    await expect(functionsApi(lambda).readLayer(V2)).rejects.toMatchObject(code)
    await expect(pruneLambdaApi(lambda).layerVersionSize(V2)).rejects.toMatchObject(code)
    await expect(lambdaReadApi(await lambdaGetOf(lambda, ACCOUNT, REGION)).readLayerVersion(V2)).rejects.toMatchObject(code)
    await expect(layerProbeApi(lambda, ACCOUNT, REGION).canRead(V2)).rejects.toMatchObject(code)
    // Content without its size, or an answer about another version, is refused the same way.
    reply = () => ({status: 200, body: JSON.stringify({...full(), Content: {CodeSha256: 'c2hhMjU2'}})})
    await expect(readLayerVersion(lambda, V2)).rejects.toThrow(/lacks Content\.CodeSize/)
    reply = () => ({status: 200, body: JSON.stringify(full(1))})
    await expect(readLayerVersion(lambda, V2)).rejects.toThrow(/is about another version/)
  })

  it('refuses a text that is not a layer version ARN before calling anything', async () => {
    await expect(readLayerVersion(client(), LAYER_ARN)).rejects.toMatchObject({code: 'ERR_LAYERS_LAYER_ARN_INVALID'})
    expect(requests).toEqual([])
  })
})
