// Contract: Lambda's API request quotas per account and region (aws-double/quotas.ts): off by default;
// with `faults.quotas` a burst beyond the shared control-plane bucket is answered 429
// TooManyRequestsException with Reason CallerRateLimitExceeded and Retry-After, unapplied, while
// GetFunction's own bucket, other regions and other accounts are not touched. Over HTTP the bursts are
// counted against what the bucket may let through in the time they took (a loaded machine refills it
// more, never past that); the bucket itself refills at its rate (a fake clock, no sleeping).
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

type Throttle = {name: string; Reason?: string; retryAfterSeconds?: string; message: string; $metadata: {httpStatusCode?: number}}
type Call = (lambda: LambdaClient) => Promise<unknown>
const listFunctions: Call = (client) => client.send(new ListFunctionsCommand({}))

/** Sends every call at once; the HTTP status of each (200 for a success), a refusal's error, and how long the burst took (ms). */
async function burst(calls: {lambda: LambdaClient; send: Call}[]): Promise<{statuses: number[]; refusal?: Throttle; ms: number}> {
  let refusal: Throttle | undefined
  const start = performance.now()
  const statuses = await Promise.all(
    calls.map(({lambda, send}) =>
      send(lambda).then(
        () => 200,
        (error: Throttle) => {
          if (error.$metadata?.httpStatusCode === 429) refusal ??= error
          return error.$metadata?.httpStatusCode ?? 0
        },
      ),
    ),
  )
  return {statuses, refusal, ms: performance.now() - start}
}

const times = (count: number, lambda: LambdaClient, send: Call = listFunctions) => Array.from({length: count}, () => ({lambda, send}))
const count = (statuses: number[], status: number) => statuses.filter((each) => each === status).length

/**
 * At most what a bucket of `rate` lets through within `ms`: it starts full (one second's worth) and
 * refills at `rate` a second, and the server admitted every call of the burst inside the test's window
 * (the same monotonic clock), so however slow the machine, no more got through.
 */
const mostAdmitted = (rate: number, ms: number) => rate + (rate * ms) / 1000

describe('Lambda API request quotas', () => {
  it('are off by default: a burst of 40 control-plane calls is answered', async () => {
    const {statuses} = await burst(times(40, clients(server, ACCOUNT1).lambda))
    expect(statuses.every((status) => status === 200)).toBe(true)
  })

  it('answer calls beyond the shared control-plane bucket 429 TooManyRequestsException, CallerRateLimitExceeded, Retry-After', async () => {
    server.setFaults({quotas: {control: 3}})
    const {statuses, refusal, ms} = await burst(times(30, clients(server, ACCOUNT1).lambda))
    // The full bucket, plus what refilled while the 30 were answered: a slow machine lets more through, never more than that.
    expect(count(statuses, 200)).toBeGreaterThanOrEqual(3)
    expect(count(statuses, 200)).toBeLessThanOrEqual(mostAdmitted(3, ms))
    expect(count(statuses, 200) + count(statuses, 429)).toBe(30)
    expect(refusal).toMatchObject({name: 'TooManyRequestsException', Reason: 'CallerRateLimitExceeded', retryAfterSeconds: '1', message: 'Rate exceeded', $metadata: {httpStatusCode: 429}})
  })

  it('count every control-plane call against one bucket, GetFunction against its own, per account and region', async () => {
    server.setFaults({quotas: {control: 2, GetFunction: 50}})
    const own = clients(server, ACCOUNT1).lambda
    const layer = `quota-${Date.now()}`
    const zip = await makeZip({'nodejs/index.js': 'x'})
    const publish: Call = (client) => client.send(new PublishLayerVersionCommand({LayerName: layer, Content: {ZipFile: zip}}))
    // One burst: ListFunctions, ListLayerVersions and PublishLayerVersion share the bucket; GetFunction
    // (a missing function: 404, never 429), another region and another account have buckets of their own.
    const {statuses, ms} = await burst([
      ...times(10, own),
      ...times(10, own, (client) => client.send(new ListLayerVersionsCommand({LayerName: layer}))),
      ...times(10, own, publish),
      ...times(10, own, (client) => client.send(new GetFunctionCommand({FunctionName: 'nothing-here'}))),
      ...times(2, clients(server, ACCOUNT1, 'eu-west-1').lambda),
      ...times(2, clients(server, ACCOUNT2, REGION).lambda),
    ])
    const control = statuses.slice(0, 30)
    expect(count(control, 200)).toBeGreaterThanOrEqual(2)
    expect(count(control, 200)).toBeLessThanOrEqual(mostAdmitted(2, ms))
    expect(count(control, 200) + count(control, 429)).toBe(30)
    expect(statuses.slice(30, 40)).toEqual(Array(10).fill(404))
    expect(statuses.slice(40)).toEqual([200, 200, 200, 200])
    // A refused publish is not applied: the layer has exactly the versions of the admitted ones.
    server.setFaults(undefined)
    const published = count(statuses.slice(20, 30), 200)
    expect((await own.send(new ListLayerVersionsCommand({LayerName: layer}))).LayerVersions ?? []).toHaveLength(published)
    const recorded = server.calls.filter((call) => call.operation === 'PublishLayerVersion' && call.accountId === ACCOUNT1 && call.status === 429)
    expect(recorded).toHaveLength(10 - published)
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
