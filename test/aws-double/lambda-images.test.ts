// Container image functions on the AWS test server, against the real loopback registry behind its ECR:
// CreateFunction/UpdateFunctionCode with ImageUri (resolved to its digest, checked to exist in the
// caller's account and region), what GetFunction reports, and Lambda's refusals of zips, layers,
// runtimes and handlers for Image functions and of ImageUri for Zip functions.
import {CreateRepositoryCommand, ECRClient} from '@aws-sdk/client-ecr'
import {CreateFunctionCommand, GetFunctionCommand, PublishVersionCommand, UpdateFunctionCodeCommand, UpdateFunctionConfigurationCommand, waitUntilFunctionUpdatedV2} from '@aws-sdk/client-lambda'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startAwsServer, type AwsServer} from '../../aws-double/index.js'
import {startOciRegistry, type OciRegistry} from '../support/oci-registry.js'
import {ACCOUNT1, ACCOUNT2, clients, failure, makeZip, pushTestImage, REGION, type Clients} from './helpers.js'

const ROLE = `arn:aws:iam::${ACCOUNT1}:role/fn`
let registry: OciRegistry
let server: AwsServer
let one: Clients
let v1: string
let v2: string

beforeAll(async () => {
  registry = await startOciRegistry()
  server = await startAwsServer({ecr: {registry: registry.url, password: registry.password}})
  one = clients(server, ACCOUNT1)
  const ecr = new ECRClient({region: REGION, endpoint: server.endpoint, credentials: server.credentials(ACCOUNT1), maxAttempts: 1})
  await ecr.send(new CreateRepositoryCommand({repositoryName: 'fn/api'}))
  v1 = await pushTestImage(registry, 'fn/api', 'v1')
  v2 = await pushTestImage(registry, 'fn/api', 'v2')
})
afterAll(async () => {
  await server?.close()
  await registry?.close()
})

const uri = (reference: string) => `${registry.host}/fn/api${reference.startsWith('sha256:') ? '@' : ':'}${reference}`

async function invalidMessage(promise: Promise<unknown>): Promise<string> {
  const error = await failure(promise)
  expect(error.name).toBe('InvalidParameterValueException')
  return error.message
}

describe('Image functions', () => {
  it('creates one from a tag, resolved to its digest; reports PackageType Image, the ECR code and the digest as CodeSha256; updates it by ImageUri', async () => {
    const created = await one.lambda.send(new CreateFunctionCommand({FunctionName: 'img', Role: ROLE, PackageType: 'Image', Code: {ImageUri: uri('v1')}, ImageConfig: {Command: ['index.handler']}}))
    expect(created).toMatchObject({PackageType: 'Image', CodeSha256: v1.slice(7), CodeSize: 0, ImageConfigResponse: {ImageConfig: {Command: ['index.handler']}}})
    expect(created.Runtime).toBeUndefined()
    const got = await one.lambda.send(new GetFunctionCommand({FunctionName: 'img'}))
    expect(got.Code).toEqual({RepositoryType: 'ECR', ImageUri: uri('v1'), ResolvedImageUri: uri(v1)})

    const updated = await one.lambda.send(new UpdateFunctionCodeCommand({FunctionName: 'img', ImageUri: uri(v2)}))
    expect(updated.CodeSha256).toBe(v2.slice(7))
    await waitUntilFunctionUpdatedV2({client: one.lambda, maxWaitTime: 10, minDelay: 1}, {FunctionName: 'img'})
    const published = await one.lambda.send(new PublishVersionCommand({FunctionName: 'img', CodeSha256: v2.slice(7)}))
    expect(published).toMatchObject({Version: '1', PackageType: 'Image', CodeSha256: v2.slice(7)})
    await one.lambda.send(new UpdateFunctionCodeCommand({FunctionName: 'img', ImageUri: uri('v1')}))
    // The version keeps its image.
    expect((await one.lambda.send(new GetFunctionCommand({FunctionName: 'img', Qualifier: '1'}))).Code?.ResolvedImageUri).toBe(uri(v2))
  })

  it('refuses images that do not exist, are of another registry, region or account, and what Image functions do not take', async () => {
    const missing = `sha256:${'0'.repeat(64)}`
    expect(await invalidMessage(one.lambda.send(new CreateFunctionCommand({FunctionName: 'gone', Role: ROLE, PackageType: 'Image', Code: {ImageUri: uri(missing)}})))).toBe(`Source image ${uri(missing)} does not exist. Provide a valid source image.`)
    // The repository exists in account 1 only.
    const other = clients(server, ACCOUNT2)
    expect(await invalidMessage(other.lambda.send(new CreateFunctionCommand({FunctionName: 'theirs', Role: `arn:aws:iam::${ACCOUNT2}:role/fn`, PackageType: 'Image', Code: {ImageUri: uri(v1)}})))).toMatch(/does not exist/)
    for (const elsewhere of ['docker.io/library/node:22', `${ACCOUNT1}.dkr.ecr.eu-west-1.amazonaws.com/fn/api@${v1}`, `${registry.host}/fn/api`]) {
      expect(await invalidMessage(one.lambda.send(new CreateFunctionCommand({FunctionName: 'bad', Role: ROLE, PackageType: 'Image', Code: {ImageUri: elsewhere}})))).toBe(`Source image ${elsewhere} is not valid. Provide a valid source image.`)
    }
    const denied = await failure(one.lambda.send(new CreateFunctionCommand({FunctionName: 'bad', Role: ROLE, PackageType: 'Image', Code: {ImageUri: `${ACCOUNT2}.dkr.ecr.${REGION}.amazonaws.com/fn/api@${v1}`}})))
    expect([denied.name, denied.message]).toEqual(['AccessDeniedException', 'Lambda does not have permission to access the ECR image. Check the ECR permissions.'])
    expect(await invalidMessage(one.lambda.send(new CreateFunctionCommand({FunctionName: 'bad', Role: ROLE, PackageType: 'Image', Runtime: 'nodejs22.x', Code: {ImageUri: uri(v1)}})))).toBe("Please don't provide Handler or Runtime or Layer when the intended function PackageType is Image.")
    expect(await invalidMessage(one.lambda.send(new CreateFunctionCommand({FunctionName: 'bad', Role: ROLE, PackageType: 'Image', Code: {ZipFile: await makeZip({'index.js': ''})}})))).toMatch(/when the intended function PackageType is Image/)

    await one.lambda.send(new CreateFunctionCommand({FunctionName: 'img2', Role: ROLE, PackageType: 'Image', Code: {ImageUri: uri(v1)}}))
    await waitUntilFunctionUpdatedV2({client: one.lambda, maxWaitTime: 10, minDelay: 1}, {FunctionName: 'img2'})
    const layer = `arn:aws:lambda:${REGION}:${ACCOUNT1}:layer:dep:1`
    expect(await invalidMessage(one.lambda.send(new UpdateFunctionConfigurationCommand({FunctionName: 'img2', Layers: [layer]})))).toBe('Lambda layers are not supported for functions created with container images.')
    expect(await invalidMessage(one.lambda.send(new UpdateFunctionCodeCommand({FunctionName: 'img2', ZipFile: await makeZip({'index.js': ''})})))).toBe('Please provide ImageUri when updating a function with packageType Image.')

    const zip = await makeZip({'index.js': 'export const handler = async () => 1\n'})
    await one.lambda.send(new CreateFunctionCommand({FunctionName: 'zipped', Role: ROLE, Runtime: 'nodejs22.x', Handler: 'index.handler', Code: {ZipFile: zip}}))
    await waitUntilFunctionUpdatedV2({client: one.lambda, maxWaitTime: 10, minDelay: 1}, {FunctionName: 'zipped'})
    expect(await invalidMessage(one.lambda.send(new UpdateFunctionCodeCommand({FunctionName: 'zipped', ImageUri: uri(v1)})))).toBe("Please don't provide ImageUri when updating a function with packageType Zip.")
    expect(await invalidMessage(one.lambda.send(new CreateFunctionCommand({FunctionName: 'bad', Role: ROLE, Runtime: 'nodejs22.x', Handler: 'index.handler', Code: {ImageUri: uri(v1)}})))).toBe("Please don't provide ImageUri when the intended function PackageType is Zip.")
  })
})
