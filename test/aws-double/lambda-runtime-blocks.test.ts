// Contract: Lambda refuses runtimes past AWS's block dates (CreateFunction after the create block date,
// any update of a function on a runtime after the update block date) with AWS's error, compared with
// the server's day; and `failUpdates` makes the next configuration update of a function end
// LastUpdateStatus Failed with its reason while the function keeps its previous configuration.
import {CreateFunctionCommand, GetFunctionConfigurationCommand, PublishLayerVersionCommand, UpdateFunctionCodeCommand, UpdateFunctionConfigurationCommand, waitUntilFunctionActiveV2} from '@aws-sdk/client-lambda'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {RUNTIME_BLOCK_DATES} from '../../aws-double/lambda.js'
import {startAwsServer, type AwsServer} from '../../aws-double/index.js'
import {ACCOUNT1, clients, failure, makeZip, type Clients} from './helpers.js'

const ROLE = `arn:aws:iam::${ACCOUNT1}:role/lambda-exec`
const blockedMessage = (runtime: string) =>
  `The runtime parameter of ${runtime} is no longer supported for creating or updating AWS Lambda functions. We recommend you use a supported runtime while creating or updating functions.`
let code: Buffer
const servers: AwsServer[] = []
const dirs: string[] = []

async function serverOn(today: string | undefined, extra: Parameters<typeof startAwsServer>[0] = {}): Promise<Clients> {
  const server = await startAwsServer({...(today ? {today} : {}), ...extra})
  servers.push(server)
  return clients(server, ACCOUNT1)
}

const create = (c: Clients, name: string, runtime: string) =>
  c.lambda.send(new CreateFunctionCommand({FunctionName: name, Role: ROLE, Runtime: runtime as never, Handler: 'index.handler', Code: {ZipFile: code}}))

beforeAll(async () => {
  code = await makeZip({'index.js': 'exports.handler = async () => 1\n'})
})
afterAll(async () => {
  for (const server of servers) await server.close()
  for (const dir of dirs) rmSync(dir, {recursive: true, force: true})
})

describe('runtime block dates', () => {
  it('keeps AWS\'s documented dates for the runtimes the issue names', () => {
    expect(RUNTIME_BLOCK_DATES['nodejs14.x']).toEqual({create: '2024-01-09', update: '2027-08-31'})
    expect(RUNTIME_BLOCK_DATES['nodejs16.x']).toEqual({create: '2027-07-29', update: '2027-08-31'})
    expect(RUNTIME_BLOCK_DATES['python3.8']).toEqual({create: '2027-07-29', update: '2027-08-31'})
    expect(RUNTIME_BLOCK_DATES['nodejs24.x']).toBeUndefined()
  })

  it('refuses CreateFunction on a runtime from its create block date on, with InvalidParameterValueException', async () => {
    const before = await serverOn('2024-01-08')
    expect((await create(before, 'old', 'nodejs14.x')).Runtime).toBe('nodejs14.x')
    const after = await serverOn('2024-01-09')
    const refused = await failure(create(after, 'old', 'nodejs14.x'))
    expect(refused.name).toBe('InvalidParameterValueException')
    expect(refused.$metadata.httpStatusCode).toBe(400)
    expect(refused.message).toBe(blockedMessage('nodejs14.x'))
    // The real clock: a supported runtime is created.
    expect((await create(await serverOn(undefined), 'new', 'nodejs24.x')).Runtime).toBe('nodejs24.x')
  })

  it('refuses every update of a function on a runtime past its update block date, and moving a function onto such a runtime', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'aws-server-blocks-'))
    dirs.push(dir)
    const dbFile = path.join(dir, 'aws.db')
    // The day before python3.8's create block: created, and updated.
    const early = await serverOn('2027-07-28', {dbFile})
    await create(early, 'frozen', 'python3.8')
    await waitUntilFunctionActiveV2({client: early.lambda, maxWaitTime: 10, minDelay: 1}, {FunctionName: 'frozen'})
    expect((await early.lambda.send(new UpdateFunctionConfigurationCommand({FunctionName: 'frozen', Description: 'still allowed'}))).Description).toBe('still allowed')
    await servers.pop()!.close()
    // The same state on python3.8's update block day: no configuration or code update, no create.
    const late = await serverOn('2027-08-31', {dbFile})
    for (const update of [
      late.lambda.send(new UpdateFunctionConfigurationCommand({FunctionName: 'frozen', Description: 'too late'})),
      late.lambda.send(new UpdateFunctionCodeCommand({FunctionName: 'frozen', ZipFile: code})),
      create(late, 'another', 'python3.8'),
    ]) {
      const refused = await failure(update)
      expect(refused.name).toBe('InvalidParameterValueException')
      expect(refused.message).toBe(blockedMessage('python3.8'))
    }
    expect((await late.lambda.send(new GetFunctionConfigurationCommand({FunctionName: 'frozen'}))).Description).toBe('still allowed')
    // Moving a function onto a runtime whose updates are blocked is refused too.
    await create(late, 'mover', 'nodejs24.x')
    await waitUntilFunctionActiveV2({client: late.lambda, maxWaitTime: 10, minDelay: 1}, {FunctionName: 'mover'})
    const moved = await failure(late.lambda.send(new UpdateFunctionConfigurationCommand({FunctionName: 'mover', Runtime: 'nodejs12.x'})))
    expect(moved.name).toBe('InvalidParameterValueException')
    expect(moved.message).toBe(blockedMessage('nodejs12.x'))
  })
})

describe('failUpdates', () => {
  it('accepts the next configuration update of the named function, then reports it Failed with the reason and keeps the previous configuration; later updates succeed', async () => {
    const reason = 'The role defined for the function cannot be assumed by Lambda.'
    const c = await serverOn(undefined, {failUpdates: {[`${ACCOUNT1}/us-east-1/api`]: reason}})
    await create(c, 'api', 'nodejs22.x')
    await create(c, 'other', 'nodejs22.x')
    for (const name of ['api', 'other']) await waitUntilFunctionActiveV2({client: c.lambda, maxWaitTime: 10, minDelay: 1}, {FunctionName: name})
    const layer = (await c.lambda.send(new PublishLayerVersionCommand({LayerName: 'dep', Content: {ZipFile: code}}))).LayerVersionArn!
    const accepted = await c.lambda.send(new UpdateFunctionConfigurationCommand({FunctionName: 'api', Layers: [layer], Description: 'new'}))
    expect(accepted.$metadata.httpStatusCode).toBe(200)
    expect(accepted.LastUpdateStatus).toBe('InProgress')
    const after = await c.lambda.send(new GetFunctionConfigurationCommand({FunctionName: 'api'}))
    expect(after).toMatchObject({LastUpdateStatus: 'Failed', LastUpdateStatusReason: reason, LastUpdateStatusReasonCode: 'InvalidConfiguration', Description: ''})
    expect(after.Layers).toBeUndefined()
    // Another function is not affected; the failure is used once.
    expect((await c.lambda.send(new UpdateFunctionConfigurationCommand({FunctionName: 'other', Layers: [layer]}))).Layers).toHaveLength(1)
    await c.lambda.send(new UpdateFunctionConfigurationCommand({FunctionName: 'api', Layers: [layer]}))
    expect(await c.lambda.send(new GetFunctionConfigurationCommand({FunctionName: 'api'}))).toMatchObject({LastUpdateStatus: 'Successful', Layers: [{Arn: layer}]})
    // Code updates are not what failUpdates names.
    expect((await c.lambda.send(new UpdateFunctionCodeCommand({FunctionName: 'api', ZipFile: code}))).$metadata.httpStatusCode).toBe(200)
  })
})
