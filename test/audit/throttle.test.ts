// The audit's Lambda reads (src/audit/lambda-read.ts) with the real SDK and adaptive retries against
// the local AWS test server: a target whose ListFunctions is throttled past the client's attempts is
// reported failed with TooManyRequestsException after exactly that many attempts, while the targets
// beside it complete with every function. The throttled target is served by a second server instance
// whose every ListFunctions answers 429 (faults apply per server, not per target).
import {LambdaClient} from '@aws-sdk/client-lambda'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {lambdaReadApi} from '../../src/audit/lambda-read.js'
import {lambdaGetOf} from '../support/lambda-get.js'
import {scanTargets} from '../support/scan-targets.js'
import {startAwsServer, type AwsServer} from '../../aws-double/index.js'
import {seeder} from '../../aws-double/seed.js'

const A = '111111111111'
const B = '222222222222'
const EU = 'eu-west-1'
const US = 'us-east-1'
const ATTEMPTS = 3

let server: AwsServer
let throttled: AwsServer

beforeAll(async () => {
  ;[server, throttled] = await Promise.all([startAwsServer(), startAwsServer()])
  for (const target of [server, throttled]) {
    const seed = seeder(target)
    for (const [accountId, region] of [[A, EU], [A, US], [B, EU]] as const) {
      for (const name of ['one', 'two', 'three']) await seed.function(accountId, region, {name: `${name}-${region}`, runtime: 'nodejs24.x'})
    }
  }
  throttled.setFaults({throttleRate: 1, operations: ['ListFunctions']})
}, 60_000)

afterAll(async () => {
  await Promise.all([server?.close(), throttled?.close()])
})

describe('audit scan with the SDK (adaptive retries)', () => {
  it('reports a target throttled past its retries as failed and completes the others', async () => {
    const result = await scanTargets(
      [
        {accountId: A, region: EU},
        {accountId: A, region: US},
        {accountId: B, region: EU},
      ],
      async (target) => {
        const endpoint = target.accountId === A && target.region === US ? throttled : server
        const client = new LambdaClient({endpoint: endpoint.endpoint, region: target.region, credentials: endpoint.credentials(target.accountId), retryMode: 'adaptive', maxAttempts: ATTEMPTS})
        return lambdaReadApi(await lambdaGetOf(client, target.accountId, target.region))
      },
      {concurrency: 3, emit: () => {}},
    )
    expect(result.scans.map((scan) => `${scan.accountId}/${scan.region}/${scan.status === 'ok' ? scan.functions.map((fn) => fn.name).sort().join(',') : scan.error.code}`)).toEqual([
      `${A}/${EU}/one-${EU},three-${EU},two-${EU}`,
      `${A}/${US}/TooManyRequestsException`,
      `${B}/${EU}/one-${EU},three-${EU},two-${EU}`,
    ])
    expect(throttled.calls.filter((call) => call.operation === 'ListFunctions').map((call) => call.status)).toEqual(Array.from({length: ATTEMPTS}, () => 429))
  })
})
