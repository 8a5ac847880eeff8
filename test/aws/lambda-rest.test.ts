// The audit's REST reads (src/aws/lambda-rest.ts) against the local AWS test server, which checks every
// SigV4 signature as AWS does: a function named by its ARN (a path label with `:`) is read, Lambda's
// errors come out as the SDK's exception classes with their status and attempts, throttling is retried
// by the client's own strategy with a budget token per attempt, and an answer that is not Lambda's (an
// HTML page) is ERR_LAYERS_AWS_MALFORMED_ANSWER naming the call.
import http from 'node:http'
import type {AddressInfo} from 'node:net'
import {LambdaClient, ResourceNotFoundException} from '@aws-sdk/client-lambda'
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'
import {startAwsServer, type AwsServer} from '../../aws-double/index.js'
import {seeder} from '../../aws-double/seed.js'
import {pathLabel} from '../../src/audit/lambda-read.js'
import {RequestBudget} from '../../src/aws/request-budget.js'
import {MALFORMED_ANSWER_CODE} from '../../src/aws/time-bounds.js'
import {lambdaGetOf} from '../support/lambda-get.js'

const ACCOUNT = '111111111111'
const REGION = 'eu-west-1'
const ATTEMPTS = 3

let server: AwsServer
let functionArn: string

beforeAll(async () => {
  server = await startAwsServer()
  functionArn = await seeder(server).function(ACCOUNT, REGION, {name: 'orders', runtime: 'nodejs22.x'})
}, 60_000)

afterAll(async () => {
  await server?.close()
})

afterEach(() => {
  server.setFaults(undefined)
})

async function getOf(endpoint: string, credentials: {accessKeyId: string; secretAccessKey: string}, budget = new RequestBudget()) {
  const client = new LambdaClient({endpoint, region: REGION, credentials, retryMode: 'adaptive', maxAttempts: ATTEMPTS})
  return lambdaGetOf(client, ACCOUNT, REGION, {budget, accountLabel: `dev (${ACCOUNT})`})
}

describe('Lambda REST reads', () => {
  it('reads a function by its ARN, signed as AWS checks it (the path label escaped once, signed escaped twice)', async () => {
    const get = await getOf(server.endpoint, server.credentials(ACCOUNT))
    const config = await get<{FunctionName?: string; Runtime?: string}>('GetFunctionConfiguration', `/2015-03-31/functions/${pathLabel(functionArn)}/configuration`, {Qualifier: '$LATEST'})
    expect(config).toMatchObject({FunctionName: 'orders', Runtime: 'nodejs22.x'})
    const listed = await get<{Functions?: Array<{FunctionName?: string}>}>('ListFunctions', '/2015-03-31/functions', {MaxItems: '50'})
    expect(listed.Functions?.map((fn) => fn.FunctionName)).toEqual(['orders'])
  })

  it('refuses a wrong secret as Lambda does, without retrying it', async () => {
    const get = await getOf(server.endpoint, {...server.credentials(ACCOUNT), secretAccessKey: 'wrong'})
    const mark = server.calls.length
    const error = await get('ListFunctions', '/2015-03-31/functions', {}).catch((caught: unknown) => caught)
    expect(error).toMatchObject({$fault: 'client', $metadata: {httpStatusCode: 403, attempts: 1}})
    expect((error as Error).name).toMatch(/InvalidSignatureException|UnrecognizedClientException/)
    expect(server.calls.length - mark).toBe(1)
  })

  it("gives Lambda's errors as the SDK's exception classes", async () => {
    const get = await getOf(server.endpoint, server.credentials(ACCOUNT))
    const error = await get('GetFunctionConfiguration', `/2015-03-31/functions/${pathLabel('missing')}/configuration`, {}).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(ResourceNotFoundException)
    expect(error).toMatchObject({name: 'ResourceNotFoundException', $fault: 'client', $metadata: {httpStatusCode: 404, attempts: 1}})
    expect((error as Error).message).toMatch(/missing/)
  })

  it('retries throttling with the client strategy, one budget token per attempt, and ends as TooManyRequestsException', async () => {
    const budget = new RequestBudget()
    const get = await getOf(server.endpoint, server.credentials(ACCOUNT), budget)
    server.setFaults({throttleRate: 1, operations: ['ListFunctions']})
    const mark = server.calls.length
    const error = await get('ListFunctions', '/2015-03-31/functions', {}).catch((caught: unknown) => caught)
    expect(error).toMatchObject({name: 'TooManyRequestsException', $metadata: {httpStatusCode: 429, attempts: ATTEMPTS}})
    expect(server.calls.slice(mark).map((call) => call.status)).toEqual(Array.from({length: ATTEMPTS}, () => 429))
    expect(budget.use().calls).toBe(ATTEMPTS)
    // Throttled, then answered: the call succeeds on a later attempt.
    server.setFaults({throttleRate: 0.5, seed: 3, operations: ['ListFunctions']})
    expect((await get<{Functions?: unknown[]}>('ListFunctions', '/2015-03-31/functions', {})).Functions).toHaveLength(1)
  })

  it('names an answer that is not Lambda\'s (an HTML page) ERR_LAYERS_AWS_MALFORMED_ANSWER, with the call and the status', async () => {
    const html = http.createServer((_request, response) => {
      response.writeHead(404, {'content-type': 'text/html'})
      response.end('<html>Not Found</html>')
    })
    await new Promise<void>((resolve) => html.listen(0, '127.0.0.1', resolve))
    try {
      const endpoint = `http://127.0.0.1:${(html.address() as AddressInfo).port}`
      const get = await getOf(endpoint, server.credentials(ACCOUNT))
      const error = await get('ListAliases', `/2015-03-31/functions/orders/aliases`, {}).catch((caught: unknown) => caught)
      expect(error).toMatchObject({code: MALFORMED_ANSWER_CODE, details: {operation: 'ListAliases', endpoint, httpStatus: 404}})
      expect((error as Error).message).toMatch(new RegExp(`^The answer to lambda ListAliases for account dev \\(${ACCOUNT}\\), region ${REGION}, at ${endpoint} is not one AWS gives`))
    } finally {
      await new Promise((resolve) => html.close(resolve))
    }
  })

  it('ends a call whose answer breaks off mid-body as ERR_LAYERS_AWS_NO_ANSWER after its retries, not a hang or an internal error', async () => {
    let answers = 0
    const cut = http.createServer((_request, response) => {
      answers++
      response.writeHead(200, {'content-type': 'application/json', 'content-length': '200'})
      response.write('{"Functions": [')
      setTimeout(() => response.socket?.destroy(), 20)
    })
    await new Promise<void>((resolve) => cut.listen(0, '127.0.0.1', resolve))
    try {
      const endpoint = `http://127.0.0.1:${(cut.address() as AddressInfo).port}`
      const get = await getOf(endpoint, server.credentials(ACCOUNT))
      const error = await get('ListFunctions', '/2015-03-31/functions', {}).catch((caught: unknown) => caught)
      expect(error).toMatchObject({code: 'ERR_LAYERS_AWS_NO_ANSWER', details: {operation: 'ListFunctions', endpoint}})
      expect((error as Error).message).toMatch(/^No answer from lambda ListFunctions for account dev/)
      expect(answers).toBe(ATTEMPTS)
    } finally {
      await new Promise((resolve) => cut.close(resolve))
    }
  })

  it('escapes path labels as the SDK does', () => {
    expect(pathLabel("arn:aws:lambda:eu-west-1:111111111111:function:a(b)*'!")).toBe('arn%3Aaws%3Alambda%3Aeu-west-1%3A111111111111%3Afunction%3Aa%28b%29%2A%27%21')
  })
})
