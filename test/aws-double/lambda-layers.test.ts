// Contract: Lambda layer versions through the real @aws-sdk/client-lambda: publish (inline and from
// S3), numbering, get/list/filters/pagination, delete, resource policies and cross-account reads,
// with every error as the SDK raises it.
import {
  AddLayerVersionPermissionCommand,
  DeleteLayerVersionCommand,
  GetLayerVersionByArnCommand,
  GetLayerVersionCommand,
  GetLayerVersionPolicyCommand,
  ListLayersCommand,
  ListLayerVersionsCommand,
  PublishLayerVersionCommand,
  RemoveLayerVersionPermissionCommand,
  paginateListLayerVersions,
} from '@aws-sdk/client-lambda'
import {CreateBucketCommand, PutObjectCommand} from '@aws-sdk/client-s3'
import {createHash} from 'node:crypto'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startAwsServer, type AwsServer} from '../../aws-double/index.js'
import {ACCOUNT1, ACCOUNT2, clients, failure, makeZip, REGION, type Clients} from './helpers.js'

const ORG = 'o-abcdef12345'
let server: AwsServer
let one: Clients
let two: Clients
let zip: Buffer

beforeAll(async () => {
  server = await startAwsServer({organizations: {[ACCOUNT1]: ORG, [ACCOUNT2]: ORG}, accounts: {AKIDACCOUNT1: ACCOUNT1, AKIDACCOUNT2: ACCOUNT2, AKIDACCOUNT3: '333333333333'}})
  one = clients(server, ACCOUNT1)
  two = clients(server, ACCOUNT2)
  zip = await makeZip({'nodejs/node_modules/left-pad/index.js': 'module.exports = 1\n'})
})
afterAll(() => server.close())

describe('PublishLayerVersion', () => {
  it('creates versions 1, 2, 3 with base64 CodeSha256 and CodeSize; numbers are never reused', async () => {
    const first = await one.lambda.send(new PublishLayerVersionCommand({LayerName: 'numbers', Content: {ZipFile: zip}, CompatibleRuntimes: ['nodejs20.x', 'nodejs22.x'], CompatibleArchitectures: ['x86_64'], Description: 'left-pad', LicenseInfo: 'MIT'}))
    expect(first.$metadata.httpStatusCode).toBe(201)
    expect(first.Version).toBe(1)
    expect(first.LayerArn).toBe(`arn:aws:lambda:${REGION}:${ACCOUNT1}:layer:numbers`)
    expect(first.LayerVersionArn).toBe(`arn:aws:lambda:${REGION}:${ACCOUNT1}:layer:numbers:1`)
    expect(first.Content?.CodeSha256).toBe(createHash('sha256').update(zip).digest('base64'))
    expect(first.Content?.CodeSize).toBe(zip.length)
    expect(first.CreatedDate).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$/)
    expect(first).toMatchObject({Description: 'left-pad', LicenseInfo: 'MIT', CompatibleRuntimes: ['nodejs20.x', 'nodejs22.x'], CompatibleArchitectures: ['x86_64']})
    const download = await fetch(first.Content!.Location!)
    expect(Buffer.from(await download.arrayBuffer())).toEqual(zip)
    // Identical content still makes a new version.
    expect((await one.lambda.send(new PublishLayerVersionCommand({LayerName: 'numbers', Content: {ZipFile: zip}}))).Version).toBe(2)
    await one.lambda.send(new DeleteLayerVersionCommand({LayerName: 'numbers', VersionNumber: 2}))
    expect((await one.lambda.send(new PublishLayerVersionCommand({LayerName: 'numbers', Content: {ZipFile: zip}}))).Version).toBe(3)
    // A layer ARN is accepted where a name is; each account numbers its own layers.
    expect((await one.lambda.send(new PublishLayerVersionCommand({LayerName: first.LayerArn, Content: {ZipFile: zip}}))).Version).toBe(4)
    expect((await two.lambda.send(new PublishLayerVersionCommand({LayerName: 'numbers', Content: {ZipFile: zip}}))).Version).toBe(1)
  })

  it('publishes from an S3 object in the same region, and refuses missing objects and other regions', async () => {
    await one.s3.send(new CreateBucketCommand({Bucket: 'layer-artifacts-use1'}))
    await one.s3.send(new PutObjectCommand({Bucket: 'layer-artifacts-use1', Key: 'numbers/1.zip', Body: zip}))
    const published = await one.lambda.send(new PublishLayerVersionCommand({LayerName: 'from-s3', Content: {S3Bucket: 'layer-artifacts-use1', S3Key: 'numbers/1.zip'}}))
    expect(published.Content?.CodeSha256).toBe(createHash('sha256').update(zip).digest('base64'))
    const missing = await failure(one.lambda.send(new PublishLayerVersionCommand({LayerName: 'from-s3', Content: {S3Bucket: 'layer-artifacts-use1', S3Key: 'nope.zip'}})))
    expect(missing.name).toBe('InvalidParameterValueException')
    expect(missing.message).toContain('S3 Error Code: NoSuchKey')
    const noBucket = await failure(one.lambda.send(new PublishLayerVersionCommand({LayerName: 'from-s3', Content: {S3Bucket: 'no-such-bucket-here', S3Key: 'a.zip'}})))
    expect(noBucket.message).toContain('S3 Error Code: NoSuchBucket')
    const west = clients(server, ACCOUNT1, 'eu-west-1')
    const otherRegion = await failure(west.lambda.send(new PublishLayerVersionCommand({LayerName: 'from-s3', Content: {S3Bucket: 'layer-artifacts-use1', S3Key: 'numbers/1.zip'}})))
    expect(otherRegion.name).toBe('InvalidParameterValueException')
    expect(otherRegion.message).toContain('The bucket is in this region: us-east-1')
    const otherAccount = await failure(two.lambda.send(new PublishLayerVersionCommand({LayerName: 'from-s3', Content: {S3Bucket: 'layer-artifacts-use1', S3Key: 'numbers/1.zip'}})))
    expect(otherAccount.message).toContain('S3 Error Code: AccessDenied')
  })

  it('validates name, runtimes, architectures, description and content', async () => {
    const cases: Array<[Record<string, unknown>, string, string]> = [
      [{LayerName: 'bad name!'}, 'ValidationException', "at 'layerName' failed to satisfy constraint"],
      [{LayerName: 'x'.repeat(141)}, 'ValidationException', "at 'layerName'"],
      [{CompatibleRuntimes: Array.from({length: 16}, () => 'nodejs20.x')}, 'ValidationException', "at 'compatibleRuntimes' failed to satisfy constraint: Member must have length less than or equal to 15"],
      [{CompatibleRuntimes: ['nodejs99.x']}, 'ValidationException', 'Member must satisfy enum value set'],
      [{CompatibleArchitectures: ['x86_64', 'arm64', 'x86_64']}, 'ValidationException', "at 'compatibleArchitectures' failed to satisfy constraint: Member must have length less than or equal to 2"],
      [{CompatibleArchitectures: ['sparc']}, 'ValidationException', 'Member must satisfy enum value set: [x86_64, arm64]'],
      [{Description: 'd'.repeat(257)}, 'ValidationException', "at 'description' failed to satisfy constraint: Member must have length less than or equal to 256"],
      [{Content: {ZipFile: Buffer.from('not a zip')}}, 'InvalidParameterValueException', 'Uploaded file must be a non-empty zip'],
    ]
    for (const [input, name, message] of cases) {
      const error = await failure(one.lambda.send(new PublishLayerVersionCommand({LayerName: 'valid', Content: {ZipFile: zip}, ...input} as never)))
      expect(error.name, JSON.stringify(input).slice(0, 80)).toBe(name)
      expect(error.$metadata.httpStatusCode).toBe(400)
      expect(error.message).toContain(message)
    }
    const ok = await one.lambda.send(new PublishLayerVersionCommand({LayerName: 'valid', Content: {ZipFile: zip}, CompatibleRuntimes: Array.from({length: 15}, () => 'nodejs20.x'), CompatibleArchitectures: ['x86_64', 'arm64'], Description: 'd'.repeat(256)}))
    expect(ok.Version).toBe(1)
  })

  it('refuses publishing to another account layer', async () => {
    const error = await failure(two.lambda.send(new PublishLayerVersionCommand({LayerName: `arn:aws:lambda:${REGION}:${ACCOUNT1}:layer:numbers`, Content: {ZipFile: zip}})))
    expect(error.name).toBe('AccessDeniedException')
    expect(error.$metadata.httpStatusCode).toBe(403)
  })
})

describe('GetLayerVersion, ListLayers, ListLayerVersions, DeleteLayerVersion', () => {
  it('gets a version by name or ARN; missing and deleted versions are ResourceNotFoundException', async () => {
    const published = await one.lambda.send(new PublishLayerVersionCommand({LayerName: 'getme', Content: {ZipFile: zip}, CompatibleRuntimes: ['python3.12']}))
    const byName = await one.lambda.send(new GetLayerVersionCommand({LayerName: 'getme', VersionNumber: 1}))
    const byArn = await one.lambda.send(new GetLayerVersionByArnCommand({Arn: published.LayerVersionArn}))
    for (const got of [byName, byArn]) {
      expect(got).toMatchObject({LayerVersionArn: published.LayerVersionArn, Version: 1, CompatibleRuntimes: ['python3.12'], Content: {CodeSha256: published.Content!.CodeSha256, CodeSize: zip.length}})
    }
    const missing = await failure(one.lambda.send(new GetLayerVersionCommand({LayerName: 'getme', VersionNumber: 9})))
    expect(missing.name).toBe('ResourceNotFoundException')
    expect(missing.$metadata.httpStatusCode).toBe(404)
    await one.lambda.send(new DeleteLayerVersionCommand({LayerName: 'getme', VersionNumber: 1}))
    expect((await failure(one.lambda.send(new GetLayerVersionByArnCommand({Arn: published.LayerVersionArn})))).name).toBe('ResourceNotFoundException')
    // Deleting again (or a version that never existed) succeeds, as on AWS.
    const again = await one.lambda.send(new DeleteLayerVersionCommand({LayerName: 'getme', VersionNumber: 1}))
    expect(again.$metadata.httpStatusCode).toBe(204)
    const badArn = await failure(one.lambda.send(new GetLayerVersionByArnCommand({Arn: `arn:aws:lambda:${REGION}:${ACCOUNT1}:layer:getme`})))
    expect(badArn.name).toBe('ValidationException')
  })

  it('GetLayerVersion takes the layer ARN as LayerName, as AWS does, and refuses what AWS refuses', async () => {
    const published = await one.lambda.send(new PublishLayerVersionCommand({LayerName: 'byarn', Content: {ZipFile: zip}, CompatibleArchitectures: ['arm64']}))
    const got = await one.lambda.send(new GetLayerVersionCommand({LayerName: published.LayerArn, VersionNumber: 1}))
    expect(got).toMatchObject({LayerVersionArn: published.LayerVersionArn, Version: 1, CompatibleArchitectures: ['arm64'], Content: {CodeSize: zip.length, CodeSha256: published.Content!.CodeSha256}})
    // The same layer named in another region: not there (its owner) or not readable (anyone else).
    const otherRegion = `arn:aws:lambda:eu-west-1:${ACCOUNT1}:layer:byarn`
    expect((await failure(one.lambda.send(new GetLayerVersionCommand({LayerName: otherRegion, VersionNumber: 1})))).name).toBe('ResourceNotFoundException')
    expect((await failure(two.lambda.send(new GetLayerVersionCommand({LayerName: otherRegion, VersionNumber: 1})))).name).toBe('AccessDeniedException')
    // A partition that is not the region's names nothing.
    expect((await failure(one.lambda.send(new GetLayerVersionCommand({LayerName: `arn:aws-cn:lambda:${REGION}:${ACCOUNT1}:layer:byarn`, VersionNumber: 1})))).name).toBe('ResourceNotFoundException')
    // A layer version ARN is not a LayerName; a version that does not exist is not found.
    expect((await failure(one.lambda.send(new GetLayerVersionCommand({LayerName: published.LayerVersionArn, VersionNumber: 1})))).name).toBe('ValidationException')
    expect((await failure(one.lambda.send(new GetLayerVersionCommand({LayerName: published.LayerArn, VersionNumber: 2})))).name).toBe('ResourceNotFoundException')
    // Not shared: another account is denied, as for GetLayerVersionByArn.
    expect((await failure(two.lambda.send(new GetLayerVersionCommand({LayerName: published.LayerArn, VersionNumber: 1})))).name).toBe('AccessDeniedException')
  })

  it('ListLayerVersions pages newest first with Marker/MaxItems and filters by runtime and architecture', async () => {
    const c = clients(server, ACCOUNT1, 'ap-southeast-2')
    for (let i = 1; i <= 7; i++) {
      await c.lambda.send(new PublishLayerVersionCommand({LayerName: 'paged', Content: {ZipFile: zip}, CompatibleRuntimes: [i % 2 ? 'nodejs20.x' : 'nodejs22.x'], CompatibleArchitectures: i <= 3 ? ['arm64'] : ['x86_64', 'arm64']}))
    }
    await c.lambda.send(new DeleteLayerVersionCommand({LayerName: 'paged', VersionNumber: 5}))
    const first = await c.lambda.send(new ListLayerVersionsCommand({LayerName: 'paged', MaxItems: 4}))
    expect(first.LayerVersions?.map((v) => v.Version)).toEqual([7, 6, 4, 3])
    expect(first.NextMarker).toBeTruthy()
    const second = await c.lambda.send(new ListLayerVersionsCommand({LayerName: 'paged', MaxItems: 4, Marker: first.NextMarker}))
    expect(second.LayerVersions?.map((v) => v.Version)).toEqual([2, 1])
    expect(second.NextMarker).toBeUndefined()
    const all: number[] = []
    for await (const page of paginateListLayerVersions({client: c.lambda, pageSize: 2}, {LayerName: 'paged'})) all.push(...(page.LayerVersions ?? []).map((v) => v.Version!))
    expect(all).toEqual([7, 6, 4, 3, 2, 1])
    const node20 = await c.lambda.send(new ListLayerVersionsCommand({LayerName: 'paged', CompatibleRuntime: 'nodejs20.x'}))
    expect(node20.LayerVersions?.map((v) => v.Version)).toEqual([7, 3, 1])
    const x86 = await c.lambda.send(new ListLayerVersionsCommand({LayerName: 'paged', CompatibleArchitecture: 'x86_64'}))
    expect(x86.LayerVersions?.map((v) => v.Version)).toEqual([7, 6, 4])
    expect((await c.lambda.send(new ListLayerVersionsCommand({LayerName: 'never-published'}))).LayerVersions).toEqual([])
    const tooMany = await failure(c.lambda.send(new ListLayerVersionsCommand({LayerName: 'paged', MaxItems: 51})))
    expect(tooMany.name).toBe('ValidationException')
    // Other regions and accounts do not see the layer.
    expect((await clients(server, ACCOUNT1).lambda.send(new ListLayerVersionsCommand({LayerName: 'paged'}))).LayerVersions).toEqual([])
    const foreign = await failure(two.lambda.send(new ListLayerVersionsCommand({LayerName: `arn:aws:lambda:ap-southeast-2:${ACCOUNT1}:layer:paged`})))
    expect(foreign.name).toBe('AccessDeniedException')
  })

  it('ListLayers shows the caller account layers with their latest matching version, paged', async () => {
    const c = clients(server, ACCOUNT2, 'ca-central-1')
    for (const name of ['alpha', 'beta', 'gamma']) {
      await c.lambda.send(new PublishLayerVersionCommand({LayerName: name, Content: {ZipFile: zip}, CompatibleRuntimes: ['nodejs20.x']}))
      await c.lambda.send(new PublishLayerVersionCommand({LayerName: name, Content: {ZipFile: zip}, CompatibleRuntimes: ['nodejs22.x']}))
    }
    const page1 = await c.lambda.send(new ListLayersCommand({MaxItems: 2}))
    expect(page1.Layers?.map((l) => [l.LayerName, l.LatestMatchingVersion?.Version])).toEqual([['alpha', 2], ['beta', 2]])
    const page2 = await c.lambda.send(new ListLayersCommand({MaxItems: 2, Marker: page1.NextMarker}))
    expect(page2.Layers?.map((l) => l.LayerName)).toEqual(['gamma'])
    expect(page2.NextMarker).toBeUndefined()
    const node20 = await c.lambda.send(new ListLayersCommand({CompatibleRuntime: 'nodejs20.x'}))
    expect(node20.Layers?.map((l) => l.LatestMatchingVersion?.LayerVersionArn)).toEqual(['alpha', 'beta', 'gamma'].map((n) => `arn:aws:lambda:ca-central-1:${ACCOUNT2}:layer:${n}:1`))
    expect((await clients(server, ACCOUNT1, 'ca-central-1').lambda.send(new ListLayersCommand({}))).Layers).toEqual([])
  })
})

describe('layer version permissions', () => {
  it('shares a version with an account; other versions and accounts stay private', async () => {
    const v1 = await one.lambda.send(new PublishLayerVersionCommand({LayerName: 'shared', Content: {ZipFile: zip}}))
    const v2 = await one.lambda.send(new PublishLayerVersionCommand({LayerName: 'shared', Content: {ZipFile: zip}}))
    const before = await failure(two.lambda.send(new GetLayerVersionByArnCommand({Arn: v1.LayerVersionArn})))
    expect(before.name).toBe('AccessDeniedException')
    expect(before.message).toContain('because no resource-based policy allows the lambda:GetLayerVersion action')
    expect((await failure(one.lambda.send(new GetLayerVersionPolicyCommand({LayerName: 'shared', VersionNumber: 1})))).name).toBe('ResourceNotFoundException')
    const granted = await one.lambda.send(new AddLayerVersionPermissionCommand({LayerName: 'shared', VersionNumber: 1, StatementId: 'to-two', Action: 'lambda:GetLayerVersion', Principal: ACCOUNT2}))
    expect(granted.$metadata.httpStatusCode).toBe(201)
    expect(JSON.parse(granted.Statement!)).toEqual({Sid: 'to-two', Effect: 'Allow', Principal: {AWS: `arn:aws:iam::${ACCOUNT2}:root`}, Action: 'lambda:GetLayerVersion', Resource: v1.LayerVersionArn})
    expect((await two.lambda.send(new GetLayerVersionByArnCommand({Arn: v1.LayerVersionArn}))).Version).toBe(1)
    expect((await two.lambda.send(new GetLayerVersionCommand({LayerName: v1.LayerArn, VersionNumber: 1}))).Content?.CodeSize).toBe(zip.length)
    expect((await failure(two.lambda.send(new GetLayerVersionByArnCommand({Arn: v2.LayerVersionArn})))).name).toBe('AccessDeniedException')
    const three = clients(server, '333333333333')
    expect((await failure(three.lambda.send(new GetLayerVersionByArnCommand({Arn: v1.LayerVersionArn})))).name).toBe('AccessDeniedException')
    // ListLayerVersions stays the owner's business.
    expect((await failure(two.lambda.send(new ListLayerVersionsCommand({LayerName: v1.LayerArn})))).name).toBe('AccessDeniedException')
  })

  it('grants to an organization only with principal *; policy, revision ids, duplicates and removal', async () => {
    const v = await one.lambda.send(new PublishLayerVersionCommand({LayerName: 'org-shared', Content: {ZipFile: zip}}))
    const wrongPrincipal = await failure(one.lambda.send(new AddLayerVersionPermissionCommand({LayerName: 'org-shared', VersionNumber: 1, StatementId: 'org', Action: 'lambda:GetLayerVersion', Principal: ACCOUNT2, OrganizationId: ORG})))
    expect(wrongPrincipal.name).toBe('InvalidParameterValueException')
    const badAction = await failure(one.lambda.send(new AddLayerVersionPermissionCommand({LayerName: 'org-shared', VersionNumber: 1, StatementId: 'x', Action: 'lambda:InvokeFunction', Principal: '*'})))
    expect(badAction.name).toBe('ValidationException')
    const org = await one.lambda.send(new AddLayerVersionPermissionCommand({LayerName: 'org-shared', VersionNumber: 1, StatementId: 'org', Action: 'lambda:GetLayerVersion', Principal: '*', OrganizationId: ORG}))
    expect(JSON.parse(org.Statement!)).toMatchObject({Principal: '*', Condition: {StringEquals: {'aws:PrincipalOrgID': ORG}}})
    expect((await two.lambda.send(new GetLayerVersionByArnCommand({Arn: v.LayerVersionArn}))).Version).toBe(1)
    expect((await failure(clients(server, '333333333333').lambda.send(new GetLayerVersionByArnCommand({Arn: v.LayerVersionArn})))).name).toBe('AccessDeniedException')

    const duplicate = await failure(one.lambda.send(new AddLayerVersionPermissionCommand({LayerName: 'org-shared', VersionNumber: 1, StatementId: 'org', Action: 'lambda:GetLayerVersion', Principal: '*'})))
    expect(duplicate.name).toBe('ResourceConflictException')
    expect(duplicate.$metadata.httpStatusCode).toBe(409)
    const stale = await failure(one.lambda.send(new AddLayerVersionPermissionCommand({LayerName: 'org-shared', VersionNumber: 1, StatementId: 'public', Action: 'lambda:GetLayerVersion', Principal: '*', RevisionId: 'stale-revision'})))
    expect(stale.name).toBe('PreconditionFailedException')
    expect(stale.$metadata.httpStatusCode).toBe(412)
    const pub = await one.lambda.send(new AddLayerVersionPermissionCommand({LayerName: 'org-shared', VersionNumber: 1, StatementId: 'public', Action: 'lambda:GetLayerVersion', Principal: '*', RevisionId: org.RevisionId}))
    const policy = await one.lambda.send(new GetLayerVersionPolicyCommand({LayerName: 'org-shared', VersionNumber: 1}))
    expect(policy.RevisionId).toBe(pub.RevisionId)
    expect(JSON.parse(policy.Policy!).Statement.map((s: {Sid: string}) => s.Sid)).toEqual(['org', 'public'])
    expect((await clients(server, '333333333333').lambda.send(new GetLayerVersionByArnCommand({Arn: v.LayerVersionArn}))).Version).toBe(1)

    await one.lambda.send(new RemoveLayerVersionPermissionCommand({LayerName: 'org-shared', VersionNumber: 1, StatementId: 'public'}))
    expect((await failure(clients(server, '333333333333').lambda.send(new GetLayerVersionByArnCommand({Arn: v.LayerVersionArn})))).name).toBe('AccessDeniedException')
    const gone = await failure(one.lambda.send(new RemoveLayerVersionPermissionCommand({LayerName: 'org-shared', VersionNumber: 1, StatementId: 'public'})))
    expect(gone.name).toBe('ResourceNotFoundException')
    const notOwner = await failure(two.lambda.send(new AddLayerVersionPermissionCommand({LayerName: v.LayerArn, VersionNumber: 1, StatementId: 'sneaky', Action: 'lambda:GetLayerVersion', Principal: '*'})))
    expect(notOwner.name).toBe('AccessDeniedException')
    const missingVersion = await failure(one.lambda.send(new AddLayerVersionPermissionCommand({LayerName: 'org-shared', VersionNumber: 7, StatementId: 's', Action: 'lambda:GetLayerVersion', Principal: '*'})))
    expect(missingVersion.name).toBe('ResourceNotFoundException')
  })
})
