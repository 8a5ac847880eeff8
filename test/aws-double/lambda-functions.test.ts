// Contract: Lambda functions through the real @aws-sdk/client-lambda: create/get/update/list/delete,
// the Layers rules of UpdateFunctionConfiguration (5 at most, one version per layer, shared-only
// cross-account, deleted refused, 250 MiB unzipped), RevisionId preconditions and LastUpdateStatus.
import {
  AddLayerVersionPermissionCommand,
  CreateFunctionCommand,
  DeleteFunctionCommand,
  DeleteLayerVersionCommand,
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  ListFunctionsCommand,
  PublishLayerVersionCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
  paginateListFunctions,
  waitUntilFunctionActiveV2,
  waitUntilFunctionUpdatedV2,
} from '@aws-sdk/client-lambda'
import {CreateBucketCommand, PutObjectCommand} from '@aws-sdk/client-s3'
import {createHash, randomBytes} from 'node:crypto'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startAwsServer, type AwsServer} from '../../aws-double/index.js'
import {ACCOUNT1, ACCOUNT2, clients, failure, makeZip, REGION, type Clients} from './helpers.js'

const ROLE = `arn:aws:iam::${ACCOUNT1}:role/lambda-exec`
let server: AwsServer
let one: Clients
let two: Clients
let code: Buffer
let layerZip: Buffer

async function layer(c: Clients, name: string, zip = layerZip): Promise<string> {
  return (await c.lambda.send(new PublishLayerVersionCommand({LayerName: name, Content: {ZipFile: zip}}))).LayerVersionArn!
}

async function createFunction(c: Clients, name: string, extra: Record<string, unknown> = {}): Promise<void> {
  await c.lambda.send(new CreateFunctionCommand({FunctionName: name, Role: ROLE, Runtime: 'nodejs20.x', Handler: 'index.handler', Code: {ZipFile: code}, ...extra}))
}

beforeAll(async () => {
  server = await startAwsServer()
  one = clients(server, ACCOUNT1)
  two = clients(server, ACCOUNT2)
  code = await makeZip({'index.js': 'export const handler = async () => 1\n'})
  layerZip = await makeZip({'nodejs/node_modules/dep/index.js': 'module.exports = 2\n'})
})
afterAll(() => server.close())

describe('functions', () => {
  it('creates, gets, lists and deletes a function', async () => {
    const created = await one.lambda.send(new CreateFunctionCommand({FunctionName: 'hello', Role: ROLE, Runtime: 'nodejs22.x', Handler: 'index.handler', Code: {ZipFile: code}, Architectures: ['arm64'], Environment: {Variables: {A: '1'}}, Tags: {team: 'x'}}))
    expect(created.$metadata.httpStatusCode).toBe(201)
    expect(created).toMatchObject({FunctionName: 'hello', FunctionArn: `arn:aws:lambda:${REGION}:${ACCOUNT1}:function:hello`, Runtime: 'nodejs22.x', Architectures: ['arm64'], CodeSize: code.length, State: 'Pending', Version: '$LATEST', Environment: {Variables: {A: '1'}}})
    await waitUntilFunctionActiveV2({client: one.lambda, maxWaitTime: 10, minDelay: 1}, {FunctionName: 'hello'})
    const got = await one.lambda.send(new GetFunctionCommand({FunctionName: 'hello'}))
    expect(got.Configuration).toMatchObject({State: 'Active', LastUpdateStatus: 'Successful', PackageType: 'Zip'})
    expect(got.Tags).toEqual({team: 'x'})
    expect(Buffer.from(await (await fetch(got.Code!.Location!)).arrayBuffer())).toEqual(code)
    const byArn = await one.lambda.send(new GetFunctionConfigurationCommand({FunctionName: created.FunctionArn}))
    expect(byArn.FunctionName).toBe('hello')
    const duplicate = await failure(createFunction(one, 'hello'))
    expect(duplicate.name).toBe('ResourceConflictException')
    expect(duplicate.$metadata.httpStatusCode).toBe(409)
    await one.lambda.send(new DeleteFunctionCommand({FunctionName: 'hello'}))
    const missing = await failure(one.lambda.send(new GetFunctionCommand({FunctionName: 'hello'})))
    expect(missing.name).toBe('ResourceNotFoundException')
    expect(missing.message).toBe(`Function not found: arn:aws:lambda:${REGION}:${ACCOUNT1}:function:hello`)
    expect((await failure(one.lambda.send(new DeleteFunctionCommand({FunctionName: 'hello'})))).name).toBe('ResourceNotFoundException')
  })

  it('validates create input and refuses other accounts functions', async () => {
    expect((await failure(createFunction(one, 'bad name'))).name).toBe('ValidationException')
    expect((await failure(createFunction(one, 'badrole', {Role: 'not-a-role'}))).name).toBe('ValidationException')
    expect((await failure(createFunction(one, 'badzip', {Code: {ZipFile: Buffer.from('nope')}}))).message).toContain('Could not unzip uploaded file')
    expect((await failure(createFunction(one, 'badruntime', {Runtime: 'cobol85'}))).name).toBe('ValidationException')
    await createFunction(one, 'private')
    const foreign = await failure(two.lambda.send(new GetFunctionCommand({FunctionName: `arn:aws:lambda:${REGION}:${ACCOUNT1}:function:private`})))
    expect(foreign.name).toBe('AccessDeniedException')
    expect(foreign.$metadata.httpStatusCode).toBe(403)
    expect((await failure(two.lambda.send(new GetFunctionCommand({FunctionName: 'private'})))).name).toBe('ResourceNotFoundException')
  })

  it('ListFunctions pages at most 50 with NextMarker, per account and region', async () => {
    const c = clients(server, ACCOUNT2, 'eu-north-1')
    await Promise.all(Array.from({length: 120}, (_, i) => createFunction(c, `fn-${String(i).padStart(3, '0')}`, {Layers: []})))
    const first = await c.lambda.send(new ListFunctionsCommand({}))
    expect(first.Functions).toHaveLength(50)
    expect(first.Functions![0]).toMatchObject({FunctionName: 'fn-000', Runtime: 'nodejs20.x', Architectures: ['x86_64'], CodeSize: code.length})
    const big = await c.lambda.send(new ListFunctionsCommand({MaxItems: 1000}))
    expect(big.Functions).toHaveLength(50)
    const small = await c.lambda.send(new ListFunctionsCommand({MaxItems: 7, Marker: first.NextMarker}))
    expect(small.Functions?.map((f) => f.FunctionName)).toEqual(Array.from({length: 7}, (_, i) => `fn-${String(50 + i).padStart(3, '0')}`))
    const names: string[] = []
    for await (const page of paginateListFunctions({client: c.lambda}, {})) names.push(...page.Functions!.map((f) => f.FunctionName!))
    expect(names).toHaveLength(120)
    expect(new Set(names).size).toBe(120)
    expect((await clients(server, ACCOUNT2, 'eu-south-1').lambda.send(new ListFunctionsCommand({}))).Functions).toEqual([])
    expect((await failure(c.lambda.send(new ListFunctionsCommand({MaxItems: 0})))).name).toBe('ValidationException')
  })
})

describe('UpdateFunctionConfiguration layers', () => {
  it('replaces the Layers list and reports each layer CodeSize', async () => {
    await createFunction(one, 'layered')
    const a = await layer(one, 'lib-a')
    const b = await layer(one, 'lib-b')
    const updated = await one.lambda.send(new UpdateFunctionConfigurationCommand({FunctionName: 'layered', Layers: [a, b]}))
    expect(updated.LastUpdateStatus).toBe('InProgress')
    expect(updated.Layers).toEqual([{Arn: a, CodeSize: layerZip.length}, {Arn: b, CodeSize: layerZip.length}])
    const replaced = await one.lambda.send(new UpdateFunctionConfigurationCommand({FunctionName: 'layered', Layers: [b]}))
    expect(replaced.Layers?.map((l) => l.Arn)).toEqual([b])
    const listed = (await one.lambda.send(new ListFunctionsCommand({}))).Functions!.find((f) => f.FunctionName === 'layered')
    expect(listed?.Layers).toEqual([{Arn: b, CodeSize: layerZip.length}])
  })

  it('refuses more than 5 layers, two versions of one layer, other regions and bad ARNs', async () => {
    await createFunction(one, 'rules')
    const arns = await Promise.all(['r1', 'r2', 'r3', 'r4', 'r5', 'r6'].map((name) => layer(one, name)))
    const six = await failure(one.lambda.send(new UpdateFunctionConfigurationCommand({FunctionName: 'rules', Layers: arns})))
    expect(six.name).toBe('InvalidParameterValueException')
    expect(six.message).toBe('Cannot reference more than 5 layers.')
    expect((await one.lambda.send(new UpdateFunctionConfigurationCommand({FunctionName: 'rules', Layers: arns.slice(0, 5)}))).Layers).toHaveLength(5)
    const r1v2 = await layer(one, 'r1')
    const twice = await failure(one.lambda.send(new UpdateFunctionConfigurationCommand({FunctionName: 'rules', Layers: [arns[0]!, r1v2]})))
    expect(twice.name).toBe('InvalidParameterValueException')
    expect(twice.message).toContain('Two different versions of the same layer are not allowed to be referenced in the same function')
    const west = await layer(clients(server, ACCOUNT1, 'us-west-2'), 'r1')
    expect((await failure(one.lambda.send(new UpdateFunctionConfigurationCommand({FunctionName: 'rules', Layers: [west]})))).message).toContain('Layers are not in the same region as the function')
    expect((await failure(one.lambda.send(new UpdateFunctionConfigurationCommand({FunctionName: 'rules', Layers: ['arn:aws:lambda:us-east-1:111111111111:layer:r1']})))).name).toBe('ValidationException')
    const missing = await failure(one.lambda.send(new UpdateFunctionConfigurationCommand({FunctionName: 'rules', Layers: [`arn:aws:lambda:${REGION}:${ACCOUNT1}:layer:r1:99`]})))
    expect(missing.name).toBe('InvalidParameterValueException')
    expect(missing.message).toContain('does not exist')
  })

  it('uses another account layer only when shared with the caller', async () => {
    await createFunction(one, 'consumer')
    const foreign = await layer(two, 'shared-from-two')
    const denied = await failure(one.lambda.send(new UpdateFunctionConfigurationCommand({FunctionName: 'consumer', Layers: [foreign]})))
    expect(denied.name).toBe('AccessDeniedException')
    expect(denied.$metadata.httpStatusCode).toBe(403)
    await two.lambda.send(new AddLayerVersionPermissionCommand({LayerName: 'shared-from-two', VersionNumber: 1, StatementId: 'one', Action: 'lambda:GetLayerVersion', Principal: ACCOUNT1}))
    const ok = await one.lambda.send(new UpdateFunctionConfigurationCommand({FunctionName: 'consumer', Layers: [foreign]}))
    expect(ok.Layers?.[0]?.Arn).toBe(foreign)
  })

  it('refuses deleted versions, while functions already using them keep them', async () => {
    await createFunction(one, 'keeps')
    await createFunction(one, 'adds')
    const arn = await layer(one, 'soon-deleted')
    await one.lambda.send(new UpdateFunctionConfigurationCommand({FunctionName: 'keeps', Layers: [arn]}))
    await one.lambda.send(new DeleteLayerVersionCommand({LayerName: 'soon-deleted', VersionNumber: 1}))
    expect((await one.lambda.send(new GetFunctionConfigurationCommand({FunctionName: 'keeps'}))).Layers).toEqual([{Arn: arn, CodeSize: layerZip.length}])
    // A change that keeps the list still works; adding the deleted version to another function does not.
    await one.lambda.send(new UpdateFunctionConfigurationCommand({FunctionName: 'keeps', Description: 'still fine'}))
    const refused = await failure(one.lambda.send(new UpdateFunctionConfigurationCommand({FunctionName: 'adds', Layers: [arn]})))
    expect(refused.name).toBe('InvalidParameterValueException')
    expect(refused.message).toBe(`Layer version ${arn} does not exist.`)
  })

  it('refuses code plus layers above 262144000 bytes unzipped, quoting the byte counts', async () => {
    const heavy = await makeZip({'bin/blob': Buffer.alloc(140 * 1024 * 1024)})
    const a = await layer(one, 'heavy-a', heavy)
    const b = await layer(one, 'heavy-b', heavy)
    await createFunction(one, 'too-big')
    await one.lambda.send(new UpdateFunctionConfigurationCommand({FunctionName: 'too-big', Layers: [a]}))
    const error = await failure(one.lambda.send(new UpdateFunctionConfigurationCommand({FunctionName: 'too-big', Layers: [a, b]})))
    expect(error.name).toBe('InvalidParameterValueException')
    const codeUnzipped = 'export const handler = async () => 1\n'.length
    expect(error.message).toBe(`Function code combined with layers exceeds the maximum allowed size of 262144000 bytes. The actual size is ${2 * 140 * 1024 * 1024 + codeUnzipped} bytes.`)
  })
})

describe('code above 50 MB', () => {
  it('refuses a ZipFile above 50 MB with RequestEntityTooLargeException and takes the same zip from S3, its CodeSha256 recomputed', async () => {
    await createFunction(one, 'big')
    await waitUntilFunctionActiveV2({client: one.lambda, maxWaitTime: 10, minDelay: 1}, {FunctionName: 'big'})
    // Random bytes do not compress: the zip is just over 51 MiB.
    const big = await makeZip({'index.js': 'export const handler = async () => 1\n', 'blob.bin': randomBytes(51 * 1024 * 1024)})
    const direct = await failure(one.lambda.send(new UpdateFunctionCodeCommand({FunctionName: 'big', ZipFile: big})))
    expect(direct.name).toBe('RequestEntityTooLargeException')
    expect(direct.$metadata.httpStatusCode).toBe(413)
    expect(direct.message).toBe('Request must be smaller than 69905067 bytes for the UpdateFunctionCode operation')
    await one.s3.send(new CreateBucketCommand({Bucket: 'big-code'}))
    await one.s3.send(new PutObjectCommand({Bucket: 'big-code', Key: 'big.zip', Body: big}))
    const updated = await one.lambda.send(new UpdateFunctionCodeCommand({FunctionName: 'big', S3Bucket: 'big-code', S3Key: 'big.zip'}))
    expect(updated).toMatchObject({CodeSha256: createHash('sha256').update(big).digest('base64'), CodeSize: big.length, LastUpdateStatus: 'InProgress'})
  }, 60_000)
})

describe('RevisionId and LastUpdateStatus', () => {
  it('fails a stale RevisionId with PreconditionFailedException', async () => {
    await createFunction(one, 'revisions')
    const current = await one.lambda.send(new GetFunctionConfigurationCommand({FunctionName: 'revisions'}))
    const updated = await one.lambda.send(new UpdateFunctionConfigurationCommand({FunctionName: 'revisions', Description: 'v2', RevisionId: current.RevisionId}))
    expect(updated.RevisionId).not.toBe(current.RevisionId)
    const stale = await failure(one.lambda.send(new UpdateFunctionConfigurationCommand({FunctionName: 'revisions', Description: 'v3', RevisionId: current.RevisionId})))
    expect(stale.name).toBe('PreconditionFailedException')
    expect(stale.$metadata.httpStatusCode).toBe(412)
    const code2 = await makeZip({'index.js': 'export const handler = async () => 2\n'})
    const staleCode = await failure(one.lambda.send(new UpdateFunctionCodeCommand({FunctionName: 'revisions', ZipFile: code2, RevisionId: current.RevisionId})))
    expect(staleCode.name).toBe('PreconditionFailedException')
  })

  it('stays InProgress for updateDelayMs, refusing a second update, then Successful with a new RevisionId', async () => {
    const slow = await startAwsServer({updateDelayMs: 400})
    try {
      const c = clients(slow, ACCOUNT1)
      await createFunction(c, 'slow')
      const early = await failure(c.lambda.send(new UpdateFunctionConfigurationCommand({FunctionName: 'slow', Description: 'too soon'})))
      expect(early.name).toBe('ResourceConflictException')
      expect(early.message).toContain('The function is currently in the following state: Pending')
      await waitUntilFunctionActiveV2({client: c.lambda, maxWaitTime: 10, minDelay: 1}, {FunctionName: 'slow'})
      const started = Date.now()
      const updated = await c.lambda.send(new UpdateFunctionConfigurationCommand({FunctionName: 'slow', Description: 'first'}))
      expect(updated.LastUpdateStatus).toBe('InProgress')
      expect((await c.lambda.send(new GetFunctionConfigurationCommand({FunctionName: 'slow'}))).LastUpdateStatus).toBe('InProgress')
      const second = await failure(c.lambda.send(new UpdateFunctionConfigurationCommand({FunctionName: 'slow', Description: 'second'})))
      expect(second.name).toBe('ResourceConflictException')
      expect(second.$metadata.httpStatusCode).toBe(409)
      expect(second.message).toBe(`The operation cannot be performed at this time. An update is in progress for resource: arn:aws:lambda:${REGION}:${ACCOUNT1}:function:slow`)
      const code2 = await makeZip({'index.js': 'export const handler = async () => 2\n'})
      expect((await failure(c.lambda.send(new UpdateFunctionCodeCommand({FunctionName: 'slow', ZipFile: code2})))).name).toBe('ResourceConflictException')
      await waitUntilFunctionUpdatedV2({client: c.lambda, maxWaitTime: 10, minDelay: 1}, {FunctionName: 'slow'})
      expect(Date.now() - started).toBeGreaterThanOrEqual(400)
      const done = await c.lambda.send(new GetFunctionConfigurationCommand({FunctionName: 'slow'}))
      expect(done.LastUpdateStatus).toBe('Successful')
      expect(done.Description).toBe('first')
      expect(done.RevisionId).not.toBe(updated.RevisionId)
      const codeUpdate = await c.lambda.send(new UpdateFunctionCodeCommand({FunctionName: 'slow', ZipFile: code2, RevisionId: done.RevisionId}))
      expect(codeUpdate).toMatchObject({LastUpdateStatus: 'InProgress', CodeSize: code2.length})
    } finally {
      await slow.close()
    }
  })
})
