// The run's request budget (src/aws/request-budget.ts): the token bucket on a fake clock (no
// sleeping), the share of each of Lambda's quotas, where the rate comes from, and the middleware on the
// factory's Lambda clients (every attempt takes a token, in its account and region, retries included).
import {ListFunctionsCommand} from '@aws-sdk/client-lambda'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startAwsServer, type AwsServer} from '../../aws-double/index.js'
import {awsClientFactory} from '../../src/aws/clients.js'
import {awsConnection} from '../../src/cli/aws-flags.js'
import {createReporter} from '../../src/cli/reporter.js'
import {inspectManifestText} from '../../src/manifest/load.js'
import {budgetText, DEFAULT_MAX_RPS, lambdaQuotaOf, RequestBudget, TokenBucket, type BudgetClock} from '../../src/aws/request-budget.js'

/** A clock that only moves when told; sleep resolves once the clock passed its end. */
function fakeClock(): BudgetClock & {advance(ms: number): Promise<void>; sleeps: number[]} {
  let now = 0
  const waiting: Array<{until: number; resolve: () => void}> = []
  const sleeps: number[] = []
  return {
    sleeps,
    now: () => now,
    sleep: (ms) => {
      sleeps.push(ms)
      return new Promise<void>((resolve) => waiting.push({until: now + ms, resolve}))
    },
    async advance(ms) {
      now += ms
      for (const entry of waiting.splice(0)) {
        if (entry.until <= now + 1e-9) entry.resolve()
        else waiting.push(entry)
      }
      await new Promise((resolve) => setImmediate(resolve))
    },
  }
}

describe('TokenBucket', () => {
  it('lets a second of its rate through at once, then one token every 1/rate s, in order', async () => {
    const clock = fakeClock()
    const bucket = new TokenBucket(10, clock)
    expect(Array.from({length: 13}, () => bucket.reserve())).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 100, 200, 300].map((ms) => expect.closeTo(ms, 6)))
    const order: number[] = []
    const takes = [1, 2, 3].map((n) => bucket.take().then(() => order.push(n)))
    await clock.advance(399)
    expect(order).toEqual([])
    await clock.advance(1)
    expect(order).toEqual([1])
    await clock.advance(200)
    await Promise.all(takes)
    expect(order).toEqual([1, 2, 3])
  })

  it('never starts more than burst + rate x t calls in any t seconds however many wait', () => {
    const clock = fakeClock()
    const bucket = new TokenBucket(10, clock)
    const due = Array.from({length: 200}, () => bucket.reserve())
    for (let start = 0; start < 15_000; start += 250) {
      const inWindow = due.filter((ms) => ms >= start && ms < start + 1000).length
      expect(inWindow).toBeLessThanOrEqual(start === 0 ? 20 : 10)
    }
    expect(Math.max(...due)).toBeCloseTo(19_000, 6)
  })

  it('refills while idle up to one second of its rate, not more', async () => {
    const clock = fakeClock()
    const bucket = new TokenBucket(5, clock)
    for (let i = 0; i < 5; i++) bucket.reserve()
    await clock.advance(60_000)
    expect(Array.from({length: 6}, () => bucket.reserve())).toEqual([0, 0, 0, 0, 0, 200].map((ms) => expect.closeTo(ms, 6)))
    expect(bucket.inUse()).toBe(5)
  })
})

describe('RequestBudget', () => {
  it('gives each of Lambda quotas the same share: 10 of 15/s control plane, 66.7 of 100/s GetFunction, 10 of 15/s GetPolicy', () => {
    const budget = new RequestBudget(fakeClock())
    expect(budget.maxRps).toBe(DEFAULT_MAX_RPS)
    expect(DEFAULT_MAX_RPS).toBe(10)
    expect(budget.source).toBe('default')
    expect([budget.rateOf('control'), budget.rateOf('GetFunction'), budget.rateOf('GetPolicy')]).toEqual([10, expect.closeTo(66.67, 2), 10])
    expect(['ListFunctions', 'GetLayerVersion', 'GetFunctionConfiguration', 'PublishLayerVersion', 'GetFunction', 'GetPolicy'].map(lambdaQuotaOf)).toEqual(['control', 'control', 'control', 'control', 'GetFunction', 'GetPolicy'])
  })

  it('takes --max-rps over settings.maxRps over the default, and retunes buckets already made', () => {
    const budget = new RequestBudget(fakeClock())
    const bucket = budget.bucket('111111111111', 'eu-west-1', 'control')
    budget.useSetting(4)
    expect([budget.maxRps, budget.source, bucket.perSecond]).toEqual([4, 'settings.maxRps', 4])
    budget.useFlag(30)
    budget.useSetting(2)
    expect([budget.maxRps, budget.source, bucket.perSecond, budget.rateOf('GetFunction')]).toEqual([30, '--max-rps', 30, 200])
  })

  it('keeps one bucket per account, region and quota, and says how much is in use', async () => {
    const clock = fakeClock()
    const budget = new RequestBudget(clock)
    for (let i = 0; i < 12; i++) void budget.take('111111111111', 'eu-west-1', 'ListFunctions')
    for (let i = 0; i < 3; i++) void budget.take('111111111111', 'us-east-1', 'GetLayerVersion')
    for (let i = 0; i < 20; i++) void budget.take('111111111111', 'eu-west-1', 'GetFunction')
    expect(budget.use()).toEqual({maxRps: 10, source: 'default', peakRps: 10, activeTargets: 2, calls: 35})
    expect(clock.sleeps.map(Math.round)).toEqual([100, 200])
    expect(budgetText(budget.use())).toBe('budget 10/s per account-region (default): up to 10/s in use, 2 account-regions busy')
    await clock.advance(5000)
    expect(budget.use().activeTargets).toBe(0)
  })
})

describe('settings.maxRps', () => {
  const inspect = (setting: string) => inspectManifestText(`version: 1\nsettings:\n  bucket: "layers-{accountId}-{region}"\n${setting}\naccounts:\n  dev:\n    id: "111111111111"\n    regions: [eu-west-1]\n`, '/project/layers.yaml')
  it('is the project\'s budget; absent, the default; not a rate above 0 and at most 1000, a located manifest error', () => {
    expect(inspect('  maxRps: 4.5').manifest!.settings.maxRps).toBe(4.5)
    expect(inspect('').manifest!.settings.maxRps).toBeUndefined()
    for (const bad of ['0', '1001', '"fast"']) {
      expect(inspect(`  maxRps: ${bad}`).problems.map((problem) => ({message: problem.message, at: `${problem.location?.line}:${problem.location?.column}`}))).toEqual([expect.objectContaining({at: '4:11', message: expect.stringContaining('settings.maxRps')})])
    }
  })
})

describe('progress', () => {
  it('shows the targets done and the budget in use on a terminal', () => {
    const saved = process.env.CI
    delete process.env.CI
    try {
      const budget = new RequestBudget(fakeClock())
      for (let i = 0; i < 4; i++) void budget.take('111111111111', 'eu-west-1', 'ListFunctions')
      const written: string[] = []
      const stream = {isTTY: true, columns: 200, write: (text: string) => written.push(text)} as unknown as NodeJS.WriteStream
      createReporter({json: false, stream, progressSuffix: () => budgetText(budget.use())}).emit({type: 'progress', phase: 'audit', message: '111111111111/eu-west-1', current: 3, total: 8})
      expect(written.join('')).toBe('\r\u001B[2Kaudit [3/8] 111111111111/eu-west-1; budget 10/s per account-region (default): up to 4/s in use, 1 account-region busy')
    } finally {
      if (saved !== undefined) process.env.CI = saved
    }
  })
})

describe('--max-rps', () => {
  it('is a rate above 0 and at most 1000; anything else is ERR_LAYERS_FLAG_VALUE naming the flag', () => {
    expect(awsConnection({'max-rps': '12.5'}).maxRps).toBe(12.5)
    expect(awsConnection({}).maxRps).toBeUndefined()
    for (const bad of ['0', '-1', 'fast', '1001', '']) {
      expect(() => awsConnection({'max-rps': bad})).toThrow(expect.objectContaining({code: 'ERR_LAYERS_FLAG_VALUE', message: expect.stringContaining('--max-rps: requests per second must be a number above 0')}))
    }
  })
})

describe('the budget on the factory\'s Lambda clients', () => {
  let server: AwsServer
  beforeAll(async () => {
    server = await startAwsServer()
  })
  afterAll(() => server.close())

  it('takes a token for every attempt, retries included, from the bucket of the client\'s account and region', async () => {
    const saved = {...process.env}
    Object.assign(process.env, {AWS_ENDPOINT_URL: server.endpoint, AWS_ACCESS_KEY_ID: server.credentials('111111111111').accessKeyId, AWS_SECRET_ACCESS_KEY: server.credentials('111111111111').secretAccessKey})
    delete process.env.AWS_PROFILE
    try {
      const budget = new RequestBudget()
      const taken: string[] = []
      const take = budget.take.bind(budget)
      budget.take = (accountId, region, operation) => {
        taken.push(`${accountId}/${region}/${operation}`)
        return take(accountId, region, operation)
      }
      const factory = awsClientFactory({maxAttempts: 2, budget, maxRps: 500})
      expect(budget.source).toBe('--max-rps')
      const lambda = await factory.lambda({name: 'dev', id: '111111111111', regions: ['eu-west-1']}, 'eu-west-1')
      await lambda.send(new ListFunctionsCommand({}))
      expect(budget.use().calls).toBe(1)
      server.setFaults({throttleRate: 1, operations: ['ListFunctions']})
      await expect(lambda.send(new ListFunctionsCommand({}))).rejects.toMatchObject({name: 'TooManyRequestsException'})
      server.setFaults(undefined)
      expect(budget.use().calls).toBe(3)
      expect(taken).toEqual(Array(3).fill('111111111111/eu-west-1/ListFunctions'))
      expect(server.calls.filter((call) => call.operation === 'ListFunctions').map((call) => call.status)).toEqual([200, 429, 429])
    } finally {
      process.env = saved
    }
  })
})
