// Contract: an account used in aws-cn (cn-north-1) gets aws-cn ARNs from Lambda and STS, and an ARN
// whose partition is not its region's names nothing (as in AWS, where the partitions are apart).
import {AddLayerVersionPermissionCommand, CreateFunctionCommand, GetLayerVersionByArnCommand, GetLayerVersionCommand, PublishLayerVersionCommand} from '@aws-sdk/client-lambda'
import {AssumeRoleCommand, GetCallerIdentityCommand} from '@aws-sdk/client-sts'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startAwsServer, type AwsServer} from '../../aws-double/index.js'
import {ACCOUNT1, ACCOUNT2, clients, failure, makeZip, type Clients} from './helpers.js'

const CN = 'cn-north-1'
let server: AwsServer
let one: Clients
let two: Clients

beforeAll(async () => {
  server = await startAwsServer({roles: {[`arn:aws-cn:iam::${ACCOUNT2}:role/deploy`]: {trust: [ACCOUNT1]}}})
  one = clients(server, ACCOUNT1, CN)
  two = clients(server, ACCOUNT2, CN)
})
afterAll(() => server.close())

describe('aws-cn', () => {
  it('layer versions, grants and functions in cn-north-1 carry arn:aws-cn ARNs', async () => {
    const zip = await makeZip({'nodejs/node_modules/a/index.js': 'module.exports = 1\n'})
    const published = await one.lambda.send(new PublishLayerVersionCommand({LayerName: 'dep', Content: {ZipFile: zip}}))
    expect(published.LayerArn).toBe(`arn:aws-cn:lambda:${CN}:${ACCOUNT1}:layer:dep`)
    expect(published.LayerVersionArn).toBe(`arn:aws-cn:lambda:${CN}:${ACCOUNT1}:layer:dep:1`)
    await one.lambda.send(new AddLayerVersionPermissionCommand({LayerName: 'dep', VersionNumber: 1, StatementId: 'two', Action: 'lambda:GetLayerVersion', Principal: ACCOUNT2}))
    expect((await two.lambda.send(new GetLayerVersionByArnCommand({Arn: published.LayerVersionArn}))).Version).toBe(1)
    expect((await two.lambda.send(new GetLayerVersionCommand({LayerName: published.LayerArn, VersionNumber: 1}))).LayerVersionArn).toBe(published.LayerVersionArn)
    // The same resource named in partition aws does not exist.
    const wrong = await failure(two.lambda.send(new GetLayerVersionByArnCommand({Arn: `arn:aws:lambda:${CN}:${ACCOUNT1}:layer:dep:1`})))
    expect(wrong.name).toBe('ResourceNotFoundException')
    const fn = await one.lambda.send(
      new CreateFunctionCommand({FunctionName: 'api', Role: `arn:aws-cn:iam::${ACCOUNT1}:role/exec`, Runtime: 'nodejs22.x', Handler: 'index.handler', Code: {ZipFile: zip}, Layers: [published.LayerVersionArn!]}),
    )
    expect(fn.FunctionArn).toBe(`arn:aws-cn:lambda:${CN}:${ACCOUNT1}:function:api`)
    const refused = await failure(
      one.lambda.send(new CreateFunctionCommand({FunctionName: 'b', Role: `arn:aws-cn:iam::${ACCOUNT1}:role/exec`, Runtime: 'nodejs22.x', Handler: 'index.handler', Code: {ZipFile: zip}, Layers: [`arn:aws:lambda:${CN}:${ACCOUNT1}:layer:dep:1`]})),
    )
    expect(refused.name).toBe('InvalidParameterValueException')
  })

  it('STS reports aws-cn identities and assumes only aws-cn roles', async () => {
    expect((await one.sts.send(new GetCallerIdentityCommand({}))).Arn).toBe(`arn:aws-cn:iam::${ACCOUNT1}:user/layers-test`)
    expect((await clients(server, ACCOUNT1).sts.send(new GetCallerIdentityCommand({}))).Arn).toBe(`arn:aws:iam::${ACCOUNT1}:user/layers-test`)
    const assumed = await one.sts.send(new AssumeRoleCommand({RoleArn: `arn:aws-cn:iam::${ACCOUNT2}:role/deploy`, RoleSessionName: 'cn'}))
    expect(assumed.AssumedRoleUser?.Arn).toBe(`arn:aws-cn:sts::${ACCOUNT2}:assumed-role/deploy/cn`)
    const otherPartition = await failure(one.sts.send(new AssumeRoleCommand({RoleArn: `arn:aws:iam::${ACCOUNT2}:role/deploy`, RoleSessionName: 'cn'})))
    expect(otherPartition.name).toBe('AccessDenied')
  })
})
