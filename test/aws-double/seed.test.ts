// The seeding helpers: what they create is visible through the SDK exactly as asked for; they apply
// their calls directly (no call record, no faults or quotas in the way).
import {GetFunctionConfigurationCommand, GetLayerVersionByArnCommand, ListAliasesCommand, ListLayerVersionsCommand} from '@aws-sdk/client-lambda'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startAwsServer, type AwsServer} from '../../aws-double/index.js'
import {seeder, zipBytes, type Seeder} from '../../aws-double/seed.js'
import {ACCOUNT1, ACCOUNT2, clients, failure} from './helpers.js'

let server: AwsServer
let seed: Seeder

beforeAll(async () => {
  server = await startAwsServer()
  seed = seeder(server)
})
afterAll(() => server.close())

describe('seeder', () => {
  it('makes zips of an exact size', async () => {
    expect((await zipBytes(undefined, 5000)).length).toBe(5000)
  })

  it('publishes, shares and deletes layer versions; creates functions with code sizes and layers', async () => {
    const arn = await seed.layerVersion(ACCOUNT2, 'eu-west-1', 'tools', {architectures: ['arm64'], runtimes: ['nodejs22.x'], codeSize: 2048})
    expect(arn).toBe(`arn:aws:lambda:eu-west-1:${ACCOUNT2}:layer:tools:1`)
    const two = clients(server, ACCOUNT2, 'eu-west-1')
    expect((await two.lambda.send(new GetLayerVersionByArnCommand({Arn: arn})))).toMatchObject({CompatibleArchitectures: ['arm64'], Content: {CodeSize: 2048}})
    const one = clients(server, ACCOUNT1, 'eu-west-1')
    expect((await failure(one.lambda.send(new GetLayerVersionByArnCommand({Arn: arn})))).name).toBe('AccessDeniedException')
    await seed.share(arn, ACCOUNT1)
    expect((await one.lambda.send(new GetLayerVersionByArnCommand({Arn: arn}))).Version).toBe(1)
    const big = 6 * 1024 * 1024
    const fnArn = await seed.function(ACCOUNT1, 'eu-west-1', {name: 'big-fn', runtime: 'nodejs16.x', architecture: 'arm64', layers: [arn], codeSize: big})
    expect(await one.lambda.send(new GetFunctionConfigurationCommand({FunctionName: fnArn}))).toMatchObject({Runtime: 'nodejs16.x', Architectures: ['arm64'], CodeSize: big, Layers: [{Arn: arn, CodeSize: 2048}]})
    await seed.deleteLayerVersion(arn)
    expect((await two.lambda.send(new ListLayerVersionsCommand({LayerName: 'tools'}))).LayerVersions).toEqual([])
  })

  it('publishes function versions and creates aliases, recording no call and passing by faults and quotas', async () => {
    server.setFaults({quotas: {control: 1}, deny: [ACCOUNT1], operations: ['CreateFunction', 'CreateAlias']})
    const mark = server.calls.length
    try {
      await seed.function(ACCOUNT1, 'eu-west-1', {name: 'aliased'})
      expect(await seed.publishVersion(ACCOUNT1, 'eu-west-1', 'aliased')).toBe('1')
      await seed.alias(ACCOUNT1, 'eu-west-1', 'aliased', 'live', '1')
      await seed.alias(ACCOUNT1, 'eu-west-1', 'aliased', 'dev', '$LATEST')
      // Lambda's rules still apply: an alias name is taken once.
      await expect(seed.alias(ACCOUNT1, 'eu-west-1', 'aliased', 'live', '1')).rejects.toMatchObject({name: 'ResourceConflictException'})
      expect(server.calls.length).toBe(mark)
    } finally {
      server.setFaults(undefined)
    }
    const {lambda} = clients(server, ACCOUNT1, 'eu-west-1')
    expect((await lambda.send(new ListAliasesCommand({FunctionName: 'aliased'}))).Aliases?.map((alias) => [alias.Name, alias.FunctionVersion, alias.RoutingConfig?.AdditionalVersionWeights])).toEqual([
      ['dev', '$LATEST', undefined],
      ['live', '1', undefined],
    ])
  })
})
