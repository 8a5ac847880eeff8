// Contract: SSM Parameter Store as the double serves it (aws-double/ssm.ts), through the project's SSM
// client (the AWS SDK's SSMClient). The shared flows run against moto as well when a moto server is
// there (MOTO_ENDPOINT, or moto_server on PATH; see test/contract/moto-server.ts); the double-only ones
// cover what moto does not (per-account state with our keys, seeded public parameters). Each run
// works under its own prefix, so a shared moto needs no reset.
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startAwsServer, type AwsServer} from '../../aws-double/index.js'
import {AddTagsToResourceCommand, DeleteParameterCommand, DeleteParametersCommand, GetParameterCommand, GetParametersByPathCommand, GetParametersCommand, ListTagsForResourceCommand, PutParameterCommand, SSMClient} from '@aws-sdk/client-ssm'
import {motoSource, startMoto, type Moto} from '../contract/moto-server.js'
import {ACCOUNT1, ACCOUNT2, failure, REGION} from './helpers.js'

let server: AwsServer
const POWERTOOLS = '/aws/service/powertools/typescript/generic/all/latest'

beforeAll(async () => {
  server = await startAwsServer({publicParameters: {[POWERTOOLS]: 'arn:aws:lambda:{region}:094274105915:layer:AWSLambdaPowertoolsTypeScriptV2:27'}})
})
afterAll(() => server.close())

function doubleClient(accountId: string, region = REGION): SSMClient {
  return new SSMClient({region, endpoint: server.endpoint, credentials: async () => server.credentials(accountId), maxAttempts: 1})
}

const source = motoSource()
let moto: Moto | undefined

interface Target {
  name: string
  client(): SSMClient
}

const targets: Target[] = [{name: 'the double', client: () => doubleClient(ACCOUNT1)}]
if (source.kind !== 'absent') {
  targets.push({
    name: 'moto',
    client: () => new SSMClient({region: REGION, endpoint: moto!.endpoint, credentials: async () => ({accessKeyId: 'testing', secretAccessKey: 'testing'}), maxAttempts: 1}),
  })
}

describe.each(targets)('SSM Parameter Store on $name', (target) => {
  const prefix = `/layers-contract/${process.pid}-${Date.now()}`
  let ssm: SSMClient
  beforeAll(async () => {
    if (target.name === 'moto' && !moto) moto = await startMoto(source as Exclude<typeof source, {kind: 'absent'}>)
    ssm = target.client()
  })
  afterAll(async () => {
    if (target.name === 'moto') await moto?.stop()
  })

  it('numbers versions, refuses a second put without Overwrite, and Tags with Overwrite', async () => {
    const name = `${prefix}/versions/a`
    expect((await ssm.send(new PutParameterCommand({Name: name, Value: 'one', Type: 'String', Tags: [{Key: 'k', Value: 'v'}]}))).Version).toBe(1)
    expect((await failure(ssm.send(new PutParameterCommand({Name: name, Value: 'two', Type: 'String'})))).name).toBe('ParameterAlreadyExists')
    expect((await failure(ssm.send(new PutParameterCommand({Name: name, Value: 'two', Type: 'String', Overwrite: true, Tags: [{Key: 'k', Value: 'w'}]})))).name).toBe('ValidationException')
    expect((await ssm.send(new PutParameterCommand({Name: name, Value: 'two', Type: 'String', Overwrite: true}))).Version).toBe(2)
    const got = (await ssm.send(new GetParameterCommand({Name: name}))).Parameter!
    expect(got).toMatchObject({Name: name, Type: 'String', Value: 'two', Version: 2})
    expect(got.ARN).toMatch(new RegExp(`^arn:aws:ssm:${REGION}:\\d{12}:parameter${name}$`))
    expect(got.LastModifiedDate).toBeInstanceOf(Date)
    // The tags of the first put stay (an overwrite does not touch them).
    expect((await ssm.send(new ListTagsForResourceCommand({ResourceType: 'Parameter', ResourceId: name}))).TagList).toEqual([{Key: 'k', Value: 'v'}])
    expect((await failure(ssm.send(new GetParameterCommand({Name: `${prefix}/versions/missing`})))).name).toBe('ParameterNotFound')
  })

  it('reads at most 10 names a GetParameters call, listing missing ones in InvalidParameters', async () => {
    await ssm.send(new PutParameterCommand({Name: `${prefix}/batch/0`, Value: 'zero', Type: 'String'}))
    const names = Array.from({length: 10}, (_, i) => `${prefix}/batch/${i}`)
    const answer = await ssm.send(new GetParametersCommand({Names: names}))
    expect(answer.Parameters!.map((p) => p.Value)).toEqual(['zero'])
    expect([...answer.InvalidParameters!].sort()).toEqual(names.slice(1).sort())
    const eleven = await failure(ssm.send(new GetParametersCommand({Names: [...names, `${prefix}/batch/10`]})))
    expect(eleven.name).toBe('ValidationException')
  })

  it('lists by path, one level or recursively, paging with NextToken (MaxResults at most 10)', async () => {
    for (const leaf of ['a', 'b', 'c', 'd/x', 'd/y']) await ssm.send(new PutParameterCommand({Name: `${prefix}/tree/${leaf}`, Value: leaf, Type: 'String'}))
    const walk = async (recursive: boolean) => {
      const names: string[] = []
      let token: string | undefined
      let pages = 0
      do {
        const page = await ssm.send(new GetParametersByPathCommand({Path: `${prefix}/tree`, Recursive: recursive, MaxResults: 2, ...(token ? {NextToken: token} : {})}))
        names.push(...page.Parameters!.map((p) => p.Name!))
        token = page.NextToken
        pages++
      } while (token && pages < 10)
      return names.sort()
    }
    expect(await walk(false)).toEqual(['a', 'b', 'c'].map((leaf) => `${prefix}/tree/${leaf}`))
    expect(await walk(true)).toEqual(['a', 'b', 'c', 'd/x', 'd/y'].map((leaf) => `${prefix}/tree/${leaf}`))
    expect((await failure(ssm.send(new GetParametersByPathCommand({Path: `${prefix}/tree`, MaxResults: 11})))).name).toBe('ValidationException')
  })

  it('deletes one (ParameterNotFound when absent) or up to 10 at once', async () => {
    await ssm.send(new PutParameterCommand({Name: `${prefix}/del/a`, Value: 'a', Type: 'String'}))
    await ssm.send(new PutParameterCommand({Name: `${prefix}/del/b`, Value: 'b', Type: 'String'}))
    await ssm.send(new DeleteParameterCommand({Name: `${prefix}/del/a`}))
    expect((await failure(ssm.send(new DeleteParameterCommand({Name: `${prefix}/del/a`})))).name).toBe('ParameterNotFound')
    const answer = await ssm.send(new DeleteParametersCommand({Names: [`${prefix}/del/b`, `${prefix}/del/c`]}))
    expect(answer.DeletedParameters).toEqual([`${prefix}/del/b`])
    expect(answer.InvalidParameters).toEqual([`${prefix}/del/c`])
    expect((await failure(ssm.send(new GetParameterCommand({Name: `${prefix}/del/b`})))).name).toBe('ParameterNotFound')
  })

  it('adds tags to an existing parameter and lists them', async () => {
    const name = `${prefix}/tags/a`
    await ssm.send(new PutParameterCommand({Name: name, Value: 'a', Type: 'String'}))
    await ssm.send(new AddTagsToResourceCommand({ResourceType: 'Parameter', ResourceId: name, Tags: [{Key: 'layers:sha256', Value: 'abc'}, {Key: 'layers:published', Value: '2026-01-01T00:00:00.000Z'}]}))
    const tags = (await ssm.send(new ListTagsForResourceCommand({ResourceType: 'Parameter', ResourceId: name}))).TagList!
    expect([...tags].sort((a, b) => a.Key!.localeCompare(b.Key!))).toEqual([
      {Key: 'layers:published', Value: '2026-01-01T00:00:00.000Z'},
      {Key: 'layers:sha256', Value: 'abc'},
    ])
  })

  it('enforces the name and value limits', async () => {
    const long = `${prefix}/${'n'.repeat(2049 - prefix.length - 1)}`
    expect(long).toHaveLength(2049)
    // moto gaps (5.2.1): it accepts a 2049-character name, a 4097-character standard value and a name with `!` and a space.
    if (target.name !== 'moto') {
      expect((await failure(ssm.send(new PutParameterCommand({Name: long, Value: 'x', Type: 'String'})))).name).toBe('ValidationException')
      expect((await failure(ssm.send(new PutParameterCommand({Name: `${prefix}/big`, Value: 'x'.repeat(4097), Type: 'String'})))).name).toBe('ValidationException')
      expect((await failure(ssm.send(new PutParameterCommand({Name: `${prefix}/bad name!`, Value: 'x', Type: 'String'})))).name).toBe('ParameterPatternMismatchException')
    }
    expect((await ssm.send(new PutParameterCommand({Name: `${prefix}/max`, Value: 'x'.repeat(4096), Type: 'String'}))).Version).toBe(1)
  })
})

describe('SSM on the double only', () => {
  it('keeps parameters per account and region', async () => {
    const name = '/layers-contract/scoped'
    await doubleClient(ACCOUNT1).send(new PutParameterCommand({Name: name, Value: 'one', Type: 'String'}))
    expect((await failure(doubleClient(ACCOUNT2).send(new GetParameterCommand({Name: name})))).name).toBe('ParameterNotFound')
    expect((await failure(doubleClient(ACCOUNT1, 'eu-west-1').send(new GetParameterCommand({Name: name})))).name).toBe('ParameterNotFound')
    expect(server.calls.filter((call) => call.service === 'ssm' && call.operation === 'GetParameter').at(-1)).toMatchObject({accountId: ACCOUNT1, region: 'eu-west-1', status: 400})
  })

  it('answers seeded public parameters to every account and region, and lets none write under /aws', async () => {
    for (const [account, region] of [[ACCOUNT1, REGION], [ACCOUNT2, 'eu-west-1']] as const) {
      const got = (await doubleClient(account, region).send(new GetParametersCommand({Names: [POWERTOOLS]}))).Parameters!
      expect(got.map((p) => p.Value)).toEqual([`arn:aws:lambda:${region}:094274105915:layer:AWSLambdaPowertoolsTypeScriptV2:27`])
    }
    const byPath = await doubleClient(ACCOUNT2).send(new GetParametersByPathCommand({Path: '/aws/service/powertools', Recursive: true}))
    expect(byPath.Parameters!.map((p) => p.Name)).toEqual([POWERTOOLS])
    expect((await failure(doubleClient(ACCOUNT1).send(new PutParameterCommand({Name: POWERTOOLS, Value: 'x', Type: 'String', Overwrite: true})))).name).toBe('ParameterPatternMismatchException')
    expect((await failure(doubleClient(ACCOUNT1).send(new DeleteParameterCommand({Name: POWERTOOLS})))).name).toBe('ParameterNotFound')
  })
})

describe('SSM persisted with dbFile (the demo)', () => {
  it('keeps parameters, versions and tags across a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'layers-ssm-persist-'))
    try {
      const dbFile = join(dir, 'aws.db')
      const client = (endpoint: string, credentials: {accessKeyId: string; secretAccessKey: string}) => new SSMClient({region: REGION, endpoint, credentials: async () => credentials, maxAttempts: 1})
      const first = await startAwsServer({dbFile})
      const ssm = client(first.endpoint, first.credentials(ACCOUNT1))
      await ssm.send(new PutParameterCommand({Name: '/kept/a', Value: 'one', Type: 'String', Tags: [{Key: 'k', Value: 'v'}]}))
      await ssm.send(new PutParameterCommand({Name: '/kept/a', Value: 'two', Type: 'String', Overwrite: true}))
      await first.close()
      const second = await startAwsServer({dbFile})
      try {
        const again = client(second.endpoint, second.credentials(ACCOUNT1))
        expect((await again.send(new GetParameterCommand({Name: '/kept/a'}))).Parameter).toMatchObject({Value: 'two', Version: 2})
        expect((await again.send(new ListTagsForResourceCommand({ResourceType: 'Parameter', ResourceId: '/kept/a'}))).TagList).toEqual([{Key: 'k', Value: 'v'}])
      } finally {
        await second.close()
      }
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })
})
