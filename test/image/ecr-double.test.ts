// The ECR side of aws-double in front of the real loopback registry: an authorization token that the
// registry accepts, repositories per account, and image reads answered from what the registry holds.
import {createHash} from 'node:crypto'
import {BatchGetImageCommand, CreateRepositoryCommand, DescribeImagesCommand, DescribeRepositoriesCommand, ECRClient, GetAuthorizationTokenCommand} from '@aws-sdk/client-ecr'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startAwsServer, type AwsServer} from '../../aws-double/index.js'
import {startOciRegistry, type OciRegistry} from '../support/oci-registry.js'

const ACCOUNT = '111111111111'
let registry: OciRegistry
let server: AwsServer

beforeAll(async () => {
  registry = await startOciRegistry()
  server = await startAwsServer({ecr: {registry: registry.url, password: registry.password}})
})
afterAll(async () => {
  await server?.close()
  await registry?.close()
})

const ecr = (accountId = ACCOUNT) => new ECRClient({region: 'us-east-1', endpoint: server.endpoint, credentials: async () => server.credentials(accountId), maxAttempts: 1})

function digestOf(bytes: Buffer | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`
}

describe('aws-double ECR', () => {
  it('hands out a Basic token for the registry, keeps repositories per account and reads images from the registry', async () => {
    const {authorizationData} = await ecr().send(new GetAuthorizationTokenCommand({}))
    const [data] = authorizationData!
    expect(data!.proxyEndpoint).toBe(registry.url)
    expect(data!.expiresAt!.getTime()).toBeGreaterThan(Date.now())
    const auth = `Basic ${data!.authorizationToken!}`
    expect(Buffer.from(data!.authorizationToken!, 'base64').toString()).toBe(`AWS:${registry.password}`)

    const {repository} = await ecr().send(new CreateRepositoryCommand({repositoryName: 'fn/api'}))
    expect(repository!.repositoryUri).toBe(`${registry.host}/fn/api`)
    await expect(ecr().send(new CreateRepositoryCommand({repositoryName: 'fn/api'}))).rejects.toMatchObject({name: 'RepositoryAlreadyExistsException'})
    await expect(ecr('222222222222').send(new DescribeRepositoriesCommand({repositoryNames: ['fn/api']}))).rejects.toMatchObject({name: 'RepositoryNotFoundException'})
    await expect(ecr().send(new CreateRepositoryCommand({repositoryName: 'Bad_Name'}))).rejects.toMatchObject({name: 'InvalidParameterException'})

    // Push one config blob and a manifest with the token, as a client would (monolithic upload).
    const config = Buffer.from('{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}')
    const start = await fetch(`${registry.url}/v2/fn/api/blobs/uploads/`, {method: 'POST', headers: {authorization: auth}})
    expect(start.status).toBe(202)
    const location = new URL(start.headers.get('location')!, registry.url)
    location.searchParams.set('digest', digestOf(config))
    expect((await fetch(location, {method: 'PUT', headers: {authorization: auth, 'content-type': 'application/octet-stream'}, body: config})).status).toBe(201)
    const manifest = JSON.stringify({schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: {mediaType: 'application/vnd.oci.image.config.v1+json', digest: digestOf(config), size: config.length}, layers: []})
    const put = await fetch(`${registry.url}/v2/fn/api/manifests/v1`, {method: 'PUT', headers: {authorization: auth, 'content-type': 'application/vnd.oci.image.manifest.v1+json'}, body: manifest})
    expect(put.status).toBe(201)

    const {imageDetails} = await ecr().send(new DescribeImagesCommand({repositoryName: 'fn/api', imageIds: [{imageDigest: digestOf(manifest)}]}))
    expect(imageDetails).toMatchObject([{registryId: ACCOUNT, repositoryName: 'fn/api', imageDigest: digestOf(manifest), imageTags: ['v1'], imageManifestMediaType: 'application/vnd.oci.image.manifest.v1+json'}])
    await expect(ecr().send(new DescribeImagesCommand({repositoryName: 'fn/api', imageIds: [{imageTag: 'v2'}]}))).rejects.toMatchObject({name: 'ImageNotFoundException'})
    const batch = await ecr().send(new BatchGetImageCommand({repositoryName: 'fn/api', imageIds: [{imageTag: 'v1'}, {imageTag: 'nope'}]}))
    expect(batch.images!.map((image) => image.imageManifest)).toEqual([manifest])
    expect(batch.failures).toMatchObject([{imageId: {imageTag: 'nope'}, failureCode: 'ImageNotFound'}])

    const requests = await registry.settled()
    expect(requests.filter((request) => request.method === 'PUT').map((request) => request.status)).toEqual([201, 201])
    expect(server.calls.filter((call) => call.service === 'ecr').map((call) => call.operation)).toContain('GetAuthorizationToken')
  })
})
