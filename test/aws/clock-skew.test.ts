// A machine whose clock is 20 minutes behind AWS's: the product's Lambda clients (the SDK's commands and
// the audit's REST reads, src/aws/lambda-rest.ts) each have their first signature refused
// ("Signature expired"), take AWS's clock from the refusal's Date header, and sign every later attempt
// with it: one refused attempt per client, then every call answered.
import {ListFunctionsCommand} from '@aws-sdk/client-lambda'
import {afterAll, afterEach, beforeAll, beforeEach, describe, expect, it} from 'vitest'
import {startAwsServer, type AwsServer} from '../../aws-double/index.js'
import {seeder} from '../../aws-double/seed.js'
import {awsClientFactory} from '../../src/aws/clients.js'
import {pathLabel} from '../../src/audit/lambda-read.js'
import {RequestBudget} from '../../src/aws/request-budget.js'

const ACCOUNT = '111111111111'
const REGION = 'eu-west-1'
const DEV = {name: 'dev', id: ACCOUNT, regions: [REGION]}
const AHEAD_MS = 20 * 60_000

let server: AwsServer
const saved = {...process.env}

beforeAll(async () => {
  server = await startAwsServer({clockOffsetMs: AHEAD_MS})
  await seeder(server).function(ACCOUNT, REGION, {name: 'orders', runtime: 'nodejs22.x'})
}, 60_000)
afterAll(async () => {
  await server?.close()
})
beforeEach(() => {
  const {accessKeyId, secretAccessKey} = server.credentials(ACCOUNT)
  Object.assign(process.env, {AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, AWS_EC2_METADATA_DISABLED: 'true'})
  delete process.env.AWS_PROFILE
})
afterEach(() => {
  process.env = {...saved}
})

/** A factory of this run (its own clients, so its own clock offset) aimed at the server. */
const factory = () => awsClientFactory({endpoint: server.endpoint, budget: new RequestBudget()})

/** The statuses the server answered `operation` with since `mark`. */
const statuses = (mark: number, operation: string) =>
  server.calls
    .slice(mark)
    .filter((call) => call.operation === operation)
    .map((call) => call.status)

describe('a clock 20 minutes behind AWS', () => {
  it("an SDK command of the product's Lambda client: refused once, then signed with AWS's clock", async () => {
    const lambda = await factory().lambda(DEV, REGION)
    expect(lambda.config.systemClockOffset).toBe(0)
    const mark = server.calls.length
    const listed = await lambda.send(new ListFunctionsCommand({}))
    expect(listed.Functions?.map((fn) => fn.FunctionName)).toEqual(['orders'])
    expect(listed.$metadata.attempts).toBe(2)
    expect(statuses(mark, 'ListFunctions')).toEqual([403, 200])
    expect(Math.abs(lambda.config.systemClockOffset - AHEAD_MS)).toBeLessThan(5_000)
    // Later calls are signed right the first time.
    const again = server.calls.length
    await lambda.send(new ListFunctionsCommand({}))
    expect(statuses(again, 'ListFunctions')).toEqual([200])
  })

  it('a REST read of the audit (lambdaRestGet): refused once, then signed with the corrected offset, which it keeps', async () => {
    const get = await factory().lambdaGet(DEV, REGION)
    const mark = server.calls.length
    const config = await get<{FunctionName?: string}>('GetFunctionConfiguration', `/2015-03-31/functions/${pathLabel('orders')}/configuration`, {})
    expect(config.FunctionName).toBe('orders')
    expect(statuses(mark, 'GetFunctionConfiguration')).toEqual([403, 200])
    // Later reads of that account and region are signed right the first time.
    const again = server.calls.length
    await get('ListFunctions', '/2015-03-31/functions', {})
    await get('ListFunctions', '/2015-03-31/functions', {})
    expect(statuses(again, 'ListFunctions')).toEqual([200, 200])
  })
})
