// Contract: seeded fault injection (latency, 429 throttling, 500s, dropped connections, stalls, answers
// lost after the write was applied, held requests, per-operation limits) as the SDK sees it, the SDK's
// standard retry mode riding out 30% throttling, and the black-hole and refused endpoints.
import {GetLayerVersionCommand, LambdaClient, ListFunctionsCommand, ListLayersCommand, ListLayerVersionsCommand, PublishLayerVersionCommand} from '@aws-sdk/client-lambda'
import {NodeHttpHandler} from '@smithy/node-http-handler'
import {GetCallerIdentityCommand} from '@aws-sdk/client-sts'
import {HeadBucketCommand} from '@aws-sdk/client-s3'
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'
import {blackHoleEndpoint, refusedEndpoint, startAwsServer, type AwsServer, type CallRecord} from '../../aws-double/index.js'
import {ACCOUNT1, clients, failure, makeZip, REGION} from './helpers.js'

let server: AwsServer

beforeAll(async () => {
  server = await startAwsServer()
})
afterEach(() => server.setFaults(undefined))
afterAll(() => server.close())

const statuses = (from: number): number[] => server.calls.slice(from).map((call) => call.status)

/** Resolves with the first call since `from` that matches (the call log is shared memory: polled, not slept on). */
async function callSeen(from: number, match: (call: CallRecord) => boolean): Promise<CallRecord> {
  for (;;) {
    const call = server.calls.slice(from).find(match)
    if (call) return call
    await new Promise((resolve) => setTimeout(resolve, 2))
  }
}

/** A Lambda client whose attempts give up after `socketTimeoutMs` of silence, without retries. */
function impatientLambda(socketTimeoutMs: number): LambdaClient {
  return new LambdaClient({region: REGION, endpoint: server.endpoint, credentials: server.credentials(ACCOUNT1), maxAttempts: 1, requestHandler: new NodeHttpHandler({socketTimeout: socketTimeoutMs})})
}

const versionNumbers = async (layer: string): Promise<number[]> =>
  ((await clients(server, ACCOUNT1).lambda.send(new ListLayerVersionsCommand({LayerName: layer}))).LayerVersions ?? []).map((version) => version.Version!)

describe('faults', () => {
  it('adds latency to every call', async () => {
    const c = clients(server, ACCOUNT1)
    server.setFaults({latencyMs: 150})
    const started = performance.now()
    await c.lambda.send(new ListFunctionsCommand({}))
    expect(performance.now() - started).toBeGreaterThanOrEqual(145)
  })

  it('throttles with 429 TooManyRequestsException (Lambda), Throttling (STS), SlowDown (S3)', async () => {
    const c = clients(server, ACCOUNT1)
    server.setFaults({throttleRate: 1})
    const lambda = await failure(c.lambda.send(new ListFunctionsCommand({})))
    expect(lambda.name).toBe('TooManyRequestsException')
    expect(lambda.$metadata.httpStatusCode).toBe(429)
    expect((lambda as unknown as {Reason?: string}).Reason).toBe('CallerRateLimitExceeded')
    expect((await failure(c.sts.send(new GetCallerIdentityCommand({})))).name).toBe('Throttling')
    const s3 = await failure(c.s3.send(new HeadBucketCommand({Bucket: 'any-bucket'})))
    expect(s3.$metadata.httpStatusCode).toBe(503)
  })

  it('fails with 500 ServiceException and drops connections', async () => {
    const c = clients(server, ACCOUNT1)
    server.setFaults({errorRate: 1})
    const error = await failure(c.lambda.send(new ListFunctionsCommand({})))
    expect(error.name).toBe('ServiceException')
    expect(error.$metadata.httpStatusCode).toBe(500)
    expect(error.$fault).toBe('server')
    server.setFaults({dropRate: 1})
    const before = server.calls.length
    const dropped = await failure(c.lambda.send(new ListFunctionsCommand({})))
    expect(dropped.message).toMatch(/socket hang up|ECONNRESET/)
    expect(statuses(before)).toEqual([0])
  })

  it('is seeded: the same seed gives the same sequence of faults', async () => {
    const c = clients(server, ACCOUNT1)
    const run = async (seed: number): Promise<number[]> => {
      server.setFaults({throttleRate: 0.3, errorRate: 0.2, seed})
      const before = server.calls.length
      for (let i = 0; i < 30; i++) await c.lambda.send(new ListFunctionsCommand({})).catch(() => undefined)
      return statuses(before)
    }
    const first = await run(42)
    expect(await run(42)).toEqual(first)
    expect(first.filter((s) => s === 429).length).toBeGreaterThan(3)
    expect(first.filter((s) => s === 500).length).toBeGreaterThan(1)
    expect(await run(7)).not.toEqual(first)
  })

  it('denies listed accounts or account/regions with AccessDeniedException (Lambda) and AccessDenied (S3)', async () => {
    server.setFaults({deny: [`${ACCOUNT1}/eu-west-1`]})
    const west = clients(server, ACCOUNT1, 'eu-west-1')
    const denied = await failure(west.lambda.send(new ListFunctionsCommand({})))
    expect(denied.name).toBe('AccessDeniedException')
    expect(denied.$metadata.httpStatusCode).toBe(403)
    expect(denied.message).toContain(`User: arn:aws:iam::${ACCOUNT1}:user/layers-test is not authorized to perform: lambda:ListFunctions`)
    expect((await failure(west.s3.send(new HeadBucketCommand({Bucket: 'any-bucket'})))).$metadata.httpStatusCode).toBe(403)
    expect((await clients(server, ACCOUNT1).lambda.send(new ListFunctionsCommand({}))).Functions).toEqual([])
  })

  it('limits faults to the listed operations', async () => {
    const c = clients(server, ACCOUNT1)
    server.setFaults({throttleRate: 1, operations: ['PublishLayerVersion']})
    await c.lambda.send(new ListLayersCommand({}))
    const zip = await makeZip({'a.txt': 'a'})
    expect((await failure(c.lambda.send(new PublishLayerVersionCommand({LayerName: 'limited', Content: {ZipFile: zip}})))).name).toBe('TooManyRequestsException')
  })

  it('the SDK standard retry mode rides out 30% throttling (and dropped connections)', async () => {
    const zip = await makeZip({'nodejs/index.js': 'module.exports = 1'})
    const c = clients(server, ACCOUNT1, 'us-east-1', {maxAttempts: 5, retryMode: 'standard'})
    await c.lambda.send(new PublishLayerVersionCommand({LayerName: 'retried', Content: {ZipFile: zip}}))
    server.setFaults({throttleRate: 0.3, dropRate: 0.05, seed: 3})
    const before = server.calls.length
    // One call after another, so the seeded draws fall on the same requests every run.
    const results = []
    for (let i = 0; i < 15; i++) results.push(await c.lambda.send(new GetLayerVersionCommand({LayerName: 'retried', VersionNumber: 1})))
    expect(results.every((result) => result.Version === 1)).toBe(true)
    const seen = statuses(before)
    // Seed 3 throttles 7 of the 23 requests these calls make and drops one: 30%, as configured.
    expect(seen.filter((s) => s === 429).length / seen.length).toBeGreaterThan(0.25)
    expect(seen.filter((s) => s === 0).length).toBeGreaterThanOrEqual(1)
    expect(seen.filter((s) => s === 200)).toHaveLength(15)
    expect(Math.max(...results.map((result) => result.$metadata.attempts ?? 1))).toBeGreaterThanOrEqual(3)
  })

  it('stalls: accepts the request of a listed operation and never answers; the others answer', async () => {
    server.setFaults({stallRate: 1, operations: ['ListFunctions']})
    const before = server.calls.length
    const client = impatientLambda(300)
    const stalled = await failure(client.send(new ListFunctionsCommand({})))
    expect(stalled.name).toBe('TimeoutError')
    expect(server.calls.slice(before)).toEqual([expect.objectContaining({operation: 'ListFunctions', accountId: ACCOUNT1, status: 0, fault: 'stall'})])
    expect((await client.send(new ListLayersCommand({}))).Layers).toBeDefined()
    client.destroy()
  })

  it('loses the answer after the write was applied: a reset, or a 500 in place of the answer', async () => {
    const c = clients(server, ACCOUNT1)
    const zip = await makeZip({'a.txt': 'lost'})
    server.setFaults({loseAnswerRate: 1, operations: ['PublishLayerVersion']})
    const before = server.calls.length
    const reset = await failure(c.lambda.send(new PublishLayerVersionCommand({LayerName: 'lost-answers', Content: {ZipFile: zip}})))
    expect(reset.message).toMatch(/socket hang up|ECONNRESET/)
    expect(await versionNumbers('lost-answers')).toEqual([1])
    server.setFaults({loseAnswerRate: 1, loseAnswerAs: 'error', operations: ['PublishLayerVersion']})
    const error = await failure(c.lambda.send(new PublishLayerVersionCommand({LayerName: 'lost-answers', Content: {ZipFile: zip}})))
    expect(error.name).toBe('ServiceException')
    expect(error.$metadata.httpStatusCode).toBe(500)
    expect(await versionNumbers('lost-answers')).toEqual([2, 1])
    expect(server.calls.slice(before).filter((call) => call.operation === 'PublishLayerVersion')).toEqual([
      expect.objectContaining({status: 0, fault: 'lost'}),
      expect.objectContaining({status: 500, fault: 'lost'}),
    ])
    // loseAnswers: exactly the next N answers, then the calls answer again.
    server.setFaults({loseAnswers: 2, operations: ['PublishLayerVersion']})
    for (let i = 0; i < 2; i++) await failure(c.lambda.send(new PublishLayerVersionCommand({LayerName: 'lost-answers', Content: {ZipFile: zip}})))
    expect((await c.lambda.send(new PublishLayerVersionCommand({LayerName: 'lost-answers', Content: {ZipFile: zip}}))).Version).toBe(5)
    expect(await versionNumbers('lost-answers')).toEqual([5, 4, 3, 2, 1])
  })

  it('holds a listed operation unapplied, reports it, and applies it when the hold is lifted', async () => {
    const c = clients(server, ACCOUNT1)
    server.setFaults({hold: ['PublishLayerVersion']})
    const before = server.calls.length
    const publishing = c.lambda.send(new PublishLayerVersionCommand({LayerName: 'held', Content: {ZipFile: await makeZip({'a.txt': 'held'})}}))
    await callSeen(before, (call) => call.operation === 'PublishLayerVersion' && call.fault === 'held')
    // Held means not applied: no version yet, and other operations still answer.
    expect(await versionNumbers('held')).toEqual([])
    server.setFaults(undefined)
    expect((await publishing).Version).toBe(1)
    expect(server.calls.slice(before).filter((call) => call.operation === 'PublishLayerVersion').map((call) => [call.status, call.fault])).toEqual([
      [0, 'held'],
      [201, undefined],
    ])
  })

  it('discards a held request, unapplied, when its client goes away first', async () => {
    server.setFaults({hold: ['PublishLayerVersion']})
    const before = server.calls.length
    const abort = new AbortController()
    const publishing = clients(server, ACCOUNT1).lambda.send(new PublishLayerVersionCommand({LayerName: 'discarded', Content: {ZipFile: await makeZip({'a.txt': 'x'})}}), {abortSignal: abort.signal})
    await callSeen(before, (call) => call.fault === 'held')
    abort.abort()
    expect((await failure(publishing)).name).toBe('AbortError')
    await callSeen(before, (call) => call.fault === 'discarded')
    server.setFaults(undefined)
    expect(await versionNumbers('discarded')).toEqual([])
  })

  it('refuses rates outside 0..1, rates that add up to more than 1, and an unknown loseAnswerAs', () => {
    expect(() => server.setFaults({stallRate: 2})).toThrow(/stallRate must be between 0 and 1/)
    expect(() => server.setFaults({dropRate: 0.6, loseAnswerRate: 0.6})).toThrow(/add up to 1.2/)
    expect(() => server.setFaults({loseAnswerAs: 'sometimes' as 'reset'})).toThrow(/loseAnswerAs must be reset or error/)
    expect(() => server.setFaults({loseAnswers: 1.5})).toThrow(/loseAnswers must be a whole number/)
  })

  it('a black-hole endpoint accepts connections and never answers; a refused endpoint refuses them', async () => {
    const hole = await blackHoleEndpoint()
    try {
      const client = new LambdaClient({region: REGION, endpoint: hole.endpoint, credentials: server.credentials(ACCOUNT1), maxAttempts: 1, requestHandler: new NodeHttpHandler({socketTimeout: 300})})
      expect((await failure(client.send(new ListFunctionsCommand({})))).name).toBe('TimeoutError')
      expect(hole.connections).toBe(1)
      client.destroy()
    } finally {
      await hole.close()
    }
    const refused = new LambdaClient({region: REGION, endpoint: await refusedEndpoint(), credentials: server.credentials(ACCOUNT1), maxAttempts: 1})
    expect((await failure(refused.send(new ListFunctionsCommand({})))) as unknown as {code: string}).toMatchObject({code: 'ECONNREFUSED'})
    refused.destroy()
  })
})
