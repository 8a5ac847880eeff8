// Contract: Lambda function tags through the real @aws-sdk/client-lambda: ListTags, TagResource,
// UntagResource and CreateFunction's Tags; the resource is a whole function ARN of the caller's
// account and region; `aws:` keys are AWS's (CloudFormation's, from the `stacks` option) and cannot
// be set or removed by the caller; at most 50 user tags, keys 1-128 and values 0-256 characters.
import {CreateFunctionCommand, GetFunctionCommand, ListTagsCommand, TagResourceCommand, UntagResourceCommand} from '@aws-sdk/client-lambda'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startAwsServer, type AwsServer} from '../../aws-double/index.js'
import {ACCOUNT1, ACCOUNT2, clients, failure, makeZip, REGION, type Clients} from './helpers.js'

const ROLE = `arn:aws:iam::${ACCOUNT1}:role/lambda-exec`
const arn = (name: string, account = ACCOUNT1, region = REGION) => `arn:aws:lambda:${region}:${account}:function:${name}`
let server: AwsServer
let one: Clients
let two: Clients
let code: Buffer

async function createFunction(name: string, extra: Record<string, unknown> = {}): Promise<void> {
  await one.lambda.send(new CreateFunctionCommand({FunctionName: name, Role: ROLE, Runtime: 'nodejs22.x', Handler: 'index.handler', Code: {ZipFile: code}, ...extra}))
}

beforeAll(async () => {
  server = await startAwsServer({stacks: {'stacked-fn': 'orders-prod', [`${ACCOUNT1}/${REGION}/stacked-too`]: 'billing'}})
  one = clients(server, ACCOUNT1)
  two = clients(server, ACCOUNT2)
  code = await makeZip({'index.js': 'exports.handler = async () => 1\n'})
  await createFunction('plain')
  await createFunction('tagged', {Tags: {team: 'core', ManagedBy: 'terraform'}})
  await createFunction('stacked-fn', {Tags: {team: 'orders'}})
  await createFunction('stacked-too')
})

afterAll(async () => {
  await server.close()
})

describe('ListTags', () => {
  it('returns CreateFunction tags, an empty map for none, and the same tags as GetFunction', async () => {
    expect((await one.lambda.send(new ListTagsCommand({Resource: arn('tagged')}))).Tags).toEqual({team: 'core', ManagedBy: 'terraform'})
    expect((await one.lambda.send(new ListTagsCommand({Resource: arn('plain')}))).Tags).toEqual({})
    expect((await one.lambda.send(new GetFunctionCommand({FunctionName: 'tagged'}))).Tags).toEqual({team: 'core', ManagedBy: 'terraform'})
  })

  it('shows the tags CloudFormation adds to the functions of a stack (the stacks option)', async () => {
    const tags = (await one.lambda.send(new ListTagsCommand({Resource: arn('stacked-fn')}))).Tags!
    expect(tags).toMatchObject({team: 'orders', 'aws:cloudformation:stack-name': 'orders-prod', 'aws:cloudformation:logical-id': 'stackedfn'})
    expect(tags['aws:cloudformation:stack-id']).toMatch(new RegExp(`^arn:aws:cloudformation:${REGION}:${ACCOUNT1}:stack/orders-prod/`))
    expect((await one.lambda.send(new ListTagsCommand({Resource: arn('stacked-too')}))).Tags!['aws:cloudformation:stack-name']).toBe('billing')
  })

  it('takes a function ARN only: a name is a ValidationException, a qualified ARN is refused', async () => {
    expect((await failure(one.lambda.send(new ListTagsCommand({Resource: 'tagged'})))).name).toBe('ValidationException')
    const qualified = await failure(one.lambda.send(new ListTagsCommand({Resource: `${arn('tagged')}:prod`})))
    expect(qualified.name).toBe('InvalidParameterValueException')
  })

  it('is ResourceNotFoundException for a missing function or another region, AccessDenied for another account', async () => {
    const missing = await failure(one.lambda.send(new ListTagsCommand({Resource: arn('nope')})))
    expect([missing.name, missing.$metadata.httpStatusCode]).toEqual(['ResourceNotFoundException', 404])
    expect((await failure(one.lambda.send(new ListTagsCommand({Resource: arn('tagged', ACCOUNT1, 'eu-west-1')})))).name).toBe('ResourceNotFoundException')
    const denied = await failure(two.lambda.send(new ListTagsCommand({Resource: arn('tagged')})))
    expect([denied.name, denied.$metadata.httpStatusCode]).toEqual(['AccessDeniedException', 403])
  })
})

describe('TagResource and UntagResource', () => {
  it('adds and replaces tags, then removes the keys named', async () => {
    await createFunction('retag', {Tags: {a: '1'}})
    await one.lambda.send(new TagResourceCommand({Resource: arn('retag'), Tags: {a: '2', b: ''}}))
    expect((await one.lambda.send(new ListTagsCommand({Resource: arn('retag')}))).Tags).toEqual({a: '2', b: ''})
    await one.lambda.send(new UntagResourceCommand({Resource: arn('retag'), TagKeys: ['a', 'absent']}))
    expect((await one.lambda.send(new ListTagsCommand({Resource: arn('retag')}))).Tags).toEqual({b: ''})
  })

  it('refuses aws: keys (set or removed, CreateFunction too) and leaves the tags as they were', async () => {
    const calls = [
      () => one.lambda.send(new TagResourceCommand({Resource: arn('stacked-fn'), Tags: {'AWS:cloudformation:stack-name': 'other'}})),
      () => one.lambda.send(new UntagResourceCommand({Resource: arn('stacked-fn'), TagKeys: ['aws:cloudformation:stack-name']})),
      () => createFunction('sneaky', {Tags: {'aws:cloudformation:stack-name': 'fake'}}),
    ]
    for (const call of calls) expect((await failure(call())).name).toBe('InvalidParameterValueException')
    expect((await one.lambda.send(new ListTagsCommand({Resource: arn('stacked-fn')}))).Tags!['aws:cloudformation:stack-name']).toBe('orders-prod')
  })

  it('enforces at most 50 user tags (aws: tags not counted), key and value lengths', async () => {
    const fifty = Object.fromEntries(Array.from({length: 49}, (_, index) => [`k${index}`, 'v']))
    await one.lambda.send(new TagResourceCommand({Resource: arn('stacked-fn'), Tags: fifty}))
    expect((await failure(one.lambda.send(new TagResourceCommand({Resource: arn('stacked-fn'), Tags: {extra: 'x'}})))).name).toBe('InvalidParameterValueException')
    expect((await failure(one.lambda.send(new TagResourceCommand({Resource: arn('plain'), Tags: {['k'.repeat(129)]: 'v'}})))).name).toBe('InvalidParameterValueException')
    expect((await failure(one.lambda.send(new TagResourceCommand({Resource: arn('plain'), Tags: {k: 'v'.repeat(257)}})))).name).toBe('InvalidParameterValueException')
    expect((await one.lambda.send(new ListTagsCommand({Resource: arn('plain')}))).Tags).toEqual({})
  })

  it('refuses another account\'s function', async () => {
    expect((await failure(two.lambda.send(new TagResourceCommand({Resource: arn('plain'), Tags: {x: 'y'}})))).name).toBe('AccessDeniedException')
  })
})
