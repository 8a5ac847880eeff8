// Contract: published function versions and aliases through the real @aws-sdk/client-lambda:
// PublishVersion (preconditions, no new version when nothing changed, an immutable snapshot with its
// layers and code), ListVersionsByFunction paging, the Qualifier of GetFunction/GetFunctionConfiguration
// (number, $LATEST, alias, `name:qualifier`), aliases with routing, DeleteFunction with a Qualifier.
import {
  CreateAliasCommand,
  CreateFunctionCommand,
  DeleteAliasCommand,
  DeleteFunctionCommand,
  GetAliasCommand,
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  ListAliasesCommand,
  ListVersionsByFunctionCommand,
  PublishLayerVersionCommand,
  PublishVersionCommand,
  UpdateAliasCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
  paginateListAliases,
  paginateListVersionsByFunction,
} from '@aws-sdk/client-lambda'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startAwsServer, type AwsServer} from '../../aws-double/index.js'
import {ACCOUNT1, ACCOUNT2, clients, failure, makeZip, REGION, type Clients} from './helpers.js'

const ROLE = `arn:aws:iam::${ACCOUNT1}:role/lambda-exec`
const ARN = (name: string, qualifier?: string) => `arn:aws:lambda:${REGION}:${ACCOUNT1}:function:${name}${qualifier === undefined ? '' : `:${qualifier}`}`
let server: AwsServer
let one: Clients
let two: Clients
let code: Buffer
let layerV1: string
let layerV2: string

async function createFunction(name: string, layers: string[] = []): Promise<void> {
  // updateDelayMs 0: the next call sees the function Active (no waiter needed).
  await one.lambda.send(new CreateFunctionCommand({FunctionName: name, Role: ROLE, Runtime: 'nodejs20.x', Handler: 'index.handler', Code: {ZipFile: code}, Layers: layers}))
}

async function setLayers(name: string, layers: string[]): Promise<void> {
  await one.lambda.send(new UpdateFunctionConfigurationCommand({FunctionName: name, Layers: layers}))
}

beforeAll(async () => {
  server = await startAwsServer({updateDelayMs: 0})
  one = clients(server, ACCOUNT1)
  two = clients(server, ACCOUNT2)
  code = await makeZip({'index.js': 'export const handler = async () => 1\n'})
  const zip = await makeZip({'nodejs/node_modules/dep/index.js': 'module.exports = 2\n'})
  layerV1 = (await one.lambda.send(new PublishLayerVersionCommand({LayerName: 'common', Content: {ZipFile: zip}}))).LayerVersionArn!
  layerV2 = (await one.lambda.send(new PublishLayerVersionCommand({LayerName: 'common', Content: {ZipFile: zip}}))).LayerVersionArn!
})
afterAll(() => server.close())

describe('PublishVersion', () => {
  it('snapshots $LATEST with its layers; a later update leaves the version as it was', async () => {
    await createFunction('snap', [layerV1])
    const v1 = await one.lambda.send(new PublishVersionCommand({FunctionName: 'snap', Description: 'first'}))
    expect(v1.$metadata.httpStatusCode).toBe(201)
    expect(v1).toMatchObject({Version: '1', FunctionArn: ARN('snap', '1'), Description: 'first', Layers: [{Arn: layerV1}], State: 'Active'})
    await setLayers('snap', [layerV2])
    await one.lambda.send(new UpdateFunctionCodeCommand({FunctionName: 'snap', ZipFile: await makeZip({'index.js': 'export const handler = async () => 2\n'})}))
    const still = await one.lambda.send(new GetFunctionConfigurationCommand({FunctionName: 'snap', Qualifier: '1'}))
    expect(still).toMatchObject({Version: '1', FunctionArn: ARN('snap', '1'), Layers: [{Arn: layerV1}], CodeSha256: v1.CodeSha256})
    const got = await one.lambda.send(new GetFunctionCommand({FunctionName: 'snap:1'}))
    expect(got.Configuration?.Version).toBe('1')
    expect(Buffer.from(await (await fetch(got.Code!.Location!)).arrayBuffer())).toEqual(code)
    const latest = await one.lambda.send(new GetFunctionConfigurationCommand({FunctionName: 'snap', Qualifier: '$LATEST'}))
    expect(latest).toMatchObject({Version: '$LATEST', FunctionArn: ARN('snap', '$LATEST'), Layers: [{Arn: layerV2}]})
    expect((await one.lambda.send(new GetFunctionConfigurationCommand({FunctionName: 'snap'}))).FunctionArn).toBe(ARN('snap'))
  })

  it('returns the last published version when nothing changed since, and a new number once something did', async () => {
    await createFunction('same')
    const first = await one.lambda.send(new PublishVersionCommand({FunctionName: 'same'}))
    const again = await one.lambda.send(new PublishVersionCommand({FunctionName: 'same'}))
    expect(again.Version).toBe(first.Version)
    // PublishVersion's own Description is the version's, not a change of $LATEST.
    expect((await one.lambda.send(new PublishVersionCommand({FunctionName: 'same', Description: 'again'}))).Version).toBe(first.Version)
    await setLayers('same', [layerV1])
    expect((await one.lambda.send(new PublishVersionCommand({FunctionName: 'same'}))).Version).toBe('2')
    await one.lambda.send(new UpdateFunctionConfigurationCommand({FunctionName: 'same', Description: 'described'}))
    expect((await one.lambda.send(new PublishVersionCommand({FunctionName: 'same', Description: 'v3'}))).Version).toBe('3')
    expect((await one.lambda.send(new PublishVersionCommand({FunctionName: 'same'}))).Version).toBe('3')
  })

  it('refuses a stale RevisionId or CodeSha256, and an update in progress', async () => {
    await createFunction('pre')
    const stale = await failure(one.lambda.send(new PublishVersionCommand({FunctionName: 'pre', RevisionId: 'nope'})))
    expect([stale.name, stale.$metadata.httpStatusCode]).toEqual(['PreconditionFailedException', 412])
    const sha = await failure(one.lambda.send(new PublishVersionCommand({FunctionName: 'pre', CodeSha256: 'AAAA'})))
    expect(sha.name).toBe('InvalidParameterValueException')
    expect(sha.message).toMatch(/^CodeSHA256 \(AAAA\) is different from current CodeSHA256 in \$LATEST \(.+\)\. Please try again with the CodeSHA256 in \$LATEST\.$/)
    const config = await one.lambda.send(new GetFunctionConfigurationCommand({FunctionName: 'pre'}))
    expect((await one.lambda.send(new PublishVersionCommand({FunctionName: 'pre', RevisionId: config.RevisionId, CodeSha256: config.CodeSha256}))).Version).toBe('1')
    const slow = await startAwsServer({updateDelayMs: 60_000})
    try {
      const c = clients(slow, ACCOUNT1)
      await c.lambda.send(new CreateFunctionCommand({FunctionName: 'busy', Role: ROLE, Runtime: 'nodejs20.x', Handler: 'index.handler', Code: {ZipFile: code}}))
      const pending = await failure(c.lambda.send(new PublishVersionCommand({FunctionName: 'busy'})))
      expect(pending.name).toBe('ResourceConflictException')
    } finally {
      await slow.close()
    }
  })

  it('names a missing function or version as Lambda does, and another account gets AccessDenied', async () => {
    const missing = await failure(one.lambda.send(new PublishVersionCommand({FunctionName: 'ghost'})))
    expect([missing.name, missing.message]).toEqual(['ResourceNotFoundException', `Function not found: ${ARN('ghost')}`])
    const version = await failure(one.lambda.send(new GetFunctionConfigurationCommand({FunctionName: 'snap', Qualifier: '9'})))
    expect([version.name, version.message]).toEqual(['ResourceNotFoundException', `Function not found: ${ARN('snap', '9')}`])
    const mismatch = await failure(one.lambda.send(new GetFunctionConfigurationCommand({FunctionName: 'snap:1', Qualifier: '2'})))
    expect(mismatch.name).toBe('InvalidParameterValueException')
    const other = await failure(two.lambda.send(new GetFunctionConfigurationCommand({FunctionName: ARN('snap'), Qualifier: '1'})))
    expect(other.name).toBe('AccessDeniedException')
  })
})

describe('ListVersionsByFunction', () => {
  it('lists $LATEST then the versions in order, in pages of MaxItems', async () => {
    await createFunction('many')
    for (const layer of [[layerV1], [layerV2], []]) {
      await setLayers('many', layer)
      await one.lambda.send(new PublishVersionCommand({FunctionName: 'many'}))
    }
    const first = await one.lambda.send(new ListVersionsByFunctionCommand({FunctionName: 'many', MaxItems: 2}))
    expect(first.Versions?.map((entry) => entry.Version)).toEqual(['$LATEST', '1'])
    expect(first.NextMarker).toBeDefined()
    const all: string[] = []
    for await (const pageOf of paginateListVersionsByFunction({client: one.lambda, pageSize: 2}, {FunctionName: 'many'})) all.push(...(pageOf.Versions ?? []).map((entry) => entry.Version!))
    expect(all).toEqual(['$LATEST', '1', '2', '3'])
    const tooMany = await failure(one.lambda.send(new ListVersionsByFunctionCommand({FunctionName: 'many', MaxItems: 0})))
    expect(tooMany.name).toBe('ValidationException')
  })
})

describe('aliases', () => {
  it('creates, reads, routes, updates and deletes an alias; its qualifier reads the version it points at', async () => {
    await createFunction('web', [layerV1])
    await one.lambda.send(new PublishVersionCommand({FunctionName: 'web'}))
    await setLayers('web', [layerV2])
    await one.lambda.send(new PublishVersionCommand({FunctionName: 'web'}))
    const created = await one.lambda.send(new CreateAliasCommand({FunctionName: 'web', Name: 'prod', FunctionVersion: '1', RoutingConfig: {AdditionalVersionWeights: {'2': 0.1}}}))
    expect(created.$metadata.httpStatusCode).toBe(201)
    expect(created).toMatchObject({AliasArn: ARN('web', 'prod'), Name: 'prod', FunctionVersion: '1', Description: '', RoutingConfig: {AdditionalVersionWeights: {'2': 0.1}}})
    const viaAlias = await one.lambda.send(new GetFunctionConfigurationCommand({FunctionName: 'web', Qualifier: 'prod'}))
    expect(viaAlias).toMatchObject({FunctionArn: ARN('web', 'prod'), Version: '1', Layers: [{Arn: layerV1}]})
    expect((await one.lambda.send(new GetAliasCommand({FunctionName: 'web', Name: 'prod'}))).RevisionId).toBe(created.RevisionId)
    const stale = await failure(one.lambda.send(new UpdateAliasCommand({FunctionName: 'web', Name: 'prod', FunctionVersion: '2', RevisionId: 'old'})))
    expect(stale.name).toBe('PreconditionFailedException')
    // Moving the alias onto its additional version is refused while the routing still names it.
    const onto = await failure(one.lambda.send(new UpdateAliasCommand({FunctionName: 'web', Name: 'prod', FunctionVersion: '2'})))
    expect([onto.name, onto.message]).toEqual(['InvalidParameterValueException', 'Invalid function version 2. Function version 2 is already included in routing configuration.'])
    const moved = await one.lambda.send(new UpdateAliasCommand({FunctionName: 'web', Name: 'prod', FunctionVersion: '2', RoutingConfig: {AdditionalVersionWeights: {}}, RevisionId: created.RevisionId}))
    expect(moved.FunctionVersion).toBe('2')
    expect(moved.RoutingConfig).toBeUndefined()
    expect(moved.RevisionId).not.toBe(created.RevisionId)
    await one.lambda.send(new CreateAliasCommand({FunctionName: 'web', Name: 'dev', FunctionVersion: '$LATEST'}))
    await one.lambda.send(new CreateAliasCommand({FunctionName: 'web', Name: 'canary', FunctionVersion: '2'}))
    const listed: string[] = []
    for await (const pageOf of paginateListAliases({client: one.lambda, pageSize: 1}, {FunctionName: 'web'})) listed.push(...(pageOf.Aliases ?? []).map((alias) => alias.Name!))
    expect(listed).toEqual(['canary', 'dev', 'prod'])
    const onTwo = await one.lambda.send(new ListAliasesCommand({FunctionName: 'web', FunctionVersion: '2'}))
    expect(onTwo.Aliases?.map((alias) => alias.Name)).toEqual(['canary', 'prod'])
    expect((await one.lambda.send(new GetFunctionConfigurationCommand({FunctionName: 'web:dev'}))).Layers).toEqual([{Arn: layerV2, CodeSize: expect.any(Number)}])
    await one.lambda.send(new DeleteAliasCommand({FunctionName: 'web', Name: 'canary'}))
    const gone = await failure(one.lambda.send(new GetAliasCommand({FunctionName: 'web', Name: 'canary'})))
    expect([gone.name, gone.message]).toEqual(['ResourceNotFoundException', `Cannot find alias arn: ${ARN('web', 'canary')}`])
  })

  it('validates names, versions and routing as Lambda does', async () => {
    await createFunction('rules')
    await one.lambda.send(new PublishVersionCommand({FunctionName: 'rules'}))
    const cases: Array<[Record<string, unknown>, string, RegExp]> = [
      [{Name: '42', FunctionVersion: '1'}, 'ValidationException', /at 'name' failed to satisfy constraint/],
      [{Name: 'x', FunctionVersion: 'latest'}, 'ValidationException', /at 'functionVersion'/],
      [{Name: 'x', FunctionVersion: '7'}, 'ResourceNotFoundException', /^Function not found: .*:function:rules:7$/],
      [{Name: 'x', FunctionVersion: '1', RoutingConfig: {AdditionalVersionWeights: {'1': 0.5}}}, 'InvalidParameterValueException', /already included in routing configuration/],
      [{Name: 'x', FunctionVersion: '1', RoutingConfig: {AdditionalVersionWeights: {'2': 1.5}}}, 'ValidationException', /Map value must satisfy constraint/],
      [{Name: 'x', FunctionVersion: '1', RoutingConfig: {AdditionalVersionWeights: {'2': 0.5, '3': 0.1}}}, 'InvalidParameterValueException', /cannot be greater than 1/],
      [{Name: 'x', FunctionVersion: '$LATEST', RoutingConfig: {AdditionalVersionWeights: {'1': 0.5}}}, 'InvalidParameterValueException', /^\$LATEST is not supported for an alias pointing to more than 1 version$/],
      [{Name: 'x', FunctionVersion: '1', RoutingConfig: {AdditionalVersionWeights: {'2': 0.5}}}, 'ResourceNotFoundException', /:function:rules:2$/],
    ]
    for (const [input, name, message] of cases) {
      const error = await failure(one.lambda.send(new CreateAliasCommand({FunctionName: 'rules', ...(input as {Name: string; FunctionVersion: string})})))
      expect([error.name, error.message], JSON.stringify(input)).toEqual([name, expect.stringMatching(message)])
    }
    await one.lambda.send(new CreateAliasCommand({FunctionName: 'rules', Name: 'live', FunctionVersion: '1'}))
    const twice = await failure(one.lambda.send(new CreateAliasCommand({FunctionName: 'rules', Name: 'live', FunctionVersion: '1'})))
    expect([twice.name, twice.message]).toEqual(['ResourceConflictException', `Alias already exists: ${ARN('rules', 'live')}`])
  })
})

describe('DeleteFunction with a Qualifier', () => {
  it('deletes a version no alias routes to, refuses one an alias uses, $LATEST and alias names; deleting the function drops all', async () => {
    await createFunction('del')
    await one.lambda.send(new PublishVersionCommand({FunctionName: 'del'}))
    await setLayers('del', [layerV1])
    await one.lambda.send(new PublishVersionCommand({FunctionName: 'del'}))
    await one.lambda.send(new CreateAliasCommand({FunctionName: 'del', Name: 'live', FunctionVersion: '2'}))
    const used = await failure(one.lambda.send(new DeleteFunctionCommand({FunctionName: 'del', Qualifier: '2'})))
    expect([used.name, used.message]).toEqual(['ResourceConflictException', 'Unable to delete version because the following aliases reference it: [live]'])
    expect((await failure(one.lambda.send(new DeleteFunctionCommand({FunctionName: 'del', Qualifier: '$LATEST'})))).name).toBe('InvalidParameterValueException')
    expect((await failure(one.lambda.send(new DeleteFunctionCommand({FunctionName: 'del', Qualifier: 'live'})))).name).toBe('InvalidParameterValueException')
    await one.lambda.send(new DeleteFunctionCommand({FunctionName: 'del', Qualifier: '1'}))
    const versions = await one.lambda.send(new ListVersionsByFunctionCommand({FunctionName: 'del'}))
    expect(versions.Versions?.map((entry) => entry.Version)).toEqual(['$LATEST', '2'])
    expect((await failure(one.lambda.send(new DeleteFunctionCommand({FunctionName: 'del', Qualifier: '1'})))).name).toBe('ResourceNotFoundException')
    await one.lambda.send(new DeleteFunctionCommand({FunctionName: 'del'}))
    await createFunction('del')
    expect((await one.lambda.send(new ListAliasesCommand({FunctionName: 'del'}))).Aliases).toEqual([])
    expect((await one.lambda.send(new PublishVersionCommand({FunctionName: 'del'}))).Version).toBe('1')
  })
})

describe('persistence', () => {
  it('keeps versions (with their code), their numbering and aliases across restarts (dbFile)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aws-versions-db-'))
    try {
      const dbFile = join(dir, 'aws.db')
      const first = await startAwsServer({dbFile})
      const a = clients(first, ACCOUNT1)
      await a.lambda.send(new CreateFunctionCommand({FunctionName: 'kept', Role: ROLE, Runtime: 'nodejs20.x', Handler: 'index.handler', Code: {ZipFile: code}}))
      await a.lambda.send(new PublishVersionCommand({FunctionName: 'kept'}))
      await a.lambda.send(new CreateAliasCommand({FunctionName: 'kept', Name: 'live', FunctionVersion: '1'}))
      await first.close()
      const second = await startAwsServer({dbFile})
      try {
        const b = clients(second, ACCOUNT1)
        expect((await b.lambda.send(new GetAliasCommand({FunctionName: 'kept', Name: 'live'}))).FunctionVersion).toBe('1')
        const got = await b.lambda.send(new GetFunctionCommand({FunctionName: 'kept', Qualifier: 'live'}))
        expect(got.Configuration?.Version).toBe('1')
        expect(Buffer.from(await (await fetch(got.Code!.Location!)).arrayBuffer())).toEqual(code)
        await b.lambda.send(new UpdateFunctionConfigurationCommand({FunctionName: 'kept', Timeout: 10}))
        expect((await b.lambda.send(new PublishVersionCommand({FunctionName: 'kept'}))).Version).toBe('2')
      } finally {
        await second.close()
      }
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })
})
