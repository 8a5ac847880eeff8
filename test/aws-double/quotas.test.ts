// Contract: Lambda's API request quotas per account and region (aws-double/quotas.ts): off by default;
// with `faults.quotas` a burst beyond the shared control-plane bucket is answered 429
// TooManyRequestsException with Reason CallerRateLimitExceeded and Retry-After, unapplied, while
// GetFunction's own bucket, other regions and other accounts are not touched; the bucket itself
// refills at its rate (a fake clock, no sleeping).
import {GetFunctionCommand, ListFunctionsCommand, ListLayerVersionsCommand, PublishLayerVersionCommand, type LambdaClient} from '@aws-sdk/client-lambda'
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'
import {startAwsServer, type AwsServer} from '../../aws-double/index.js'
import {ApiError} from '../../aws-double/common.js'
import {LambdaQuotas} from '../../aws-double/quotas.js'
import {ACCOUNT1, ACCOUNT2, clients, makeZip, REGION} from './helpers.js'

let server: AwsServer

beforeAll(async () => {
  server = await startAwsServer()
})
afterEach(() => server.setFaults(undefined))
afterAll(() => server.close())

/** Sends `count` calls at once; the HTTP status of each (200 for a success). */
async function burst(lambda: LambdaClient, count: number, send: (lambda: LambdaClient) => Promise<unknown> = (client) => client.send(new ListFunctionsCommand({}))): Promise<number[]> {
  return Promise.all(
    Array.from({length: count}, () =>
      send(lambda).then(
        () => 200,
        (error: {$metadata?: {httpStatusCode?: number}}) => error.$metadata?.httpStatusCode ?? 0,
      ),
    ),
  )
}

describe('Lambda API request quotas', () => {
  it('are off by default: a burst of 40 control-plane calls is answered', async () => {
    const statuses = await burst(clients(server, ACCOUNT1).lambda, 40)
    expect(statuses.every((status) => status === 200)).toBe(true)
  })

  it('answer calls beyond the shared control-plane bucket 429 TooManyRequestsException, CallerRateLimitExceeded, Retry-After', async () => {
    server.setFaults({quotas: {control: 5}})
    const lambda = clients(server, ACCOUNT1).lambda
    const statuses = await burst(lambda, 30)
    // 5 in the bucket, plus what refilled (5/s) while the 30 arrived.
    expect(statuses.filter((status) => status === 200).length).toBeGreaterThanOrEqual(5)
    expect(statuses.filter((status) => status === 429).length).toBeGreaterThan(0)
    const error = await lambda.send(new ListFunctionsCommand({})).catch((caught: unknown) => caught as {name: string; Reason?: string; retryAfterSeconds?: string; message: string; $metadata: {httpStatusCode?: number}})
    expect(error).toMatchObject({name: 'TooManyRequestsException', Reason: 'CallerRateLimitExceeded', retryAfterSeconds: '1', message: 'Rate exceeded', $metadata: {httpStatusCode: 429}})
  })

  it('count every control-plane call against one bucket, GetFunction against its own, per account and region', async () => {
    server.setFaults({quotas: {control: 3, GetFunction: 50}})
    const own = clients(server, ACCOUNT1).lambda
    const layer = `quota-${Date.now()}`
    const zip = await makeZip({'nodejs/index.js': 'x'})
    // ListFunctions, ListLayerVersions and PublishLayerVersion share the bucket; the refused publish is not applied.
    const statuses = [
      ...(await burst(own, 3)),
      ...(await burst(own, 3, (client) => client.send(new ListLayerVersionsCommand({LayerName: layer})))),
      ...(await burst(own, 1, (client) => client.send(new PublishLayerVersionCommand({LayerName: layer, Content: {ZipFile: zip}})))),
    ]
    expect(statuses.slice(3)).toContain(429)
    expect(statuses.at(-1)).toBe(429)
    // GetFunction has its own bucket: a missing function is 404, not 429, while the control plane is empty.
    expect(await burst(own, 5, (client) => client.send(new GetFunctionCommand({FunctionName: 'nothing-here'})))).toEqual([404, 404, 404, 404, 404])
    // Another region and another account have buckets of their own.
    expect(await burst(clients(server, ACCOUNT1, 'eu-west-1').lambda, 3)).toEqual([200, 200, 200])
    expect(await burst(clients(server, ACCOUNT2, REGION).lambda, 3)).toEqual([200, 200, 200])
    server.setFaults(undefined)
    expect((await own.send(new ListLayerVersionsCommand({LayerName: layer}))).LayerVersions).toEqual([])
    const recorded = server.calls.filter((call) => call.operation === 'PublishLayerVersion' && call.accountId === ACCOUNT1)
    expect(recorded.at(-1)?.status).toBe(429)
  })

  it('reject a rate that is not a number above 0', () => {
    expect(() => server.setFaults({quotas: {control: 0}})).toThrow(/faults.quotas.control must be a number above 0/)
  })
})

describe('the quota bucket (fake clock)', () => {
  it('holds one second of its rate, refills at its rate and says when to retry', () => {
    let now = 0
    const quotas = new LambdaQuotas(() => now)
    quotas.configure(true)
    const admitted = (operation = 'ListFunctions', accountId = ACCOUNT1, region = REGION): boolean => {
      try {
        quotas.admit(accountId, region, operation)
        return true
      } catch (error) {
        expect(error).toBeInstanceOf(ApiError)
        expect((error as ApiError).headers['retry-after']).toBe('1')
        return false
      }
    }
    expect(Array.from({length: 16}, () => admitted())).toEqual([...Array(15).fill(true), false])
    now += 1000 / 15
    expect([admitted(), admitted()]).toEqual([true, false])
    // GetFunction: 100 a second of its own; GetPolicy 15.
    expect(Array.from({length: 101}, () => admitted('GetFunction')).filter(Boolean).length).toBe(100)
    expect(Array.from({length: 16}, () => admitted('GetPolicy')).filter(Boolean).length).toBe(15)
    now += 1000
    expect(Array.from({length: 16}, () => admitted()).filter(Boolean).length).toBe(15)
    quotas.configure(undefined)
    expect(Array.from({length: 50}, () => admitted()).every(Boolean)).toBe(true)
  })
})
