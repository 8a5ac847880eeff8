// Contract: state persisted to SQLite survives a restart (the demo relies on it): buckets, objects,
// layer versions with their numbering and content, and functions.
import {GetFunctionConfigurationCommand, CreateFunctionCommand, GetLayerVersionCommand, PublishLayerVersionCommand, DeleteLayerVersionCommand} from '@aws-sdk/client-lambda'
import {CreateBucketCommand, GetObjectCommand, PutObjectCommand} from '@aws-sdk/client-s3'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {startAwsServer} from '../../aws-double/index.js'
import {ACCOUNT1, clients, makeZip} from './helpers.js'

const dir = mkdtempSync(join(tmpdir(), 'aws-server-db-'))
afterAll(() => rmSync(dir, {recursive: true, force: true}))

describe('persistence', () => {
  it('keeps layers, functions, buckets and objects across restarts', async () => {
    const dbFile = join(dir, 'state', 'aws.db')
    const zip = await makeZip({'index.js': 'export const handler = () => 1'})
    const first = await startAwsServer({dbFile})
    const a = clients(first, ACCOUNT1)
    await a.s3.send(new CreateBucketCommand({Bucket: 'persisted-bucket'}))
    await a.s3.send(new PutObjectCommand({Bucket: 'persisted-bucket', Key: 'k.zip', Body: zip}))
    const layer = await a.lambda.send(new PublishLayerVersionCommand({LayerName: 'kept', Content: {S3Bucket: 'persisted-bucket', S3Key: 'k.zip'}}))
    await a.lambda.send(new PublishLayerVersionCommand({LayerName: 'kept', Content: {ZipFile: zip}}))
    await a.lambda.send(new DeleteLayerVersionCommand({LayerName: 'kept', VersionNumber: 2}))
    await a.lambda.send(new CreateFunctionCommand({FunctionName: 'kept-fn', Role: `arn:aws:iam::${ACCOUNT1}:role/r`, Runtime: 'nodejs20.x', Handler: 'index.handler', Code: {ZipFile: zip}, Layers: [layer.LayerVersionArn!]}))
    await first.close()

    const second = await startAwsServer({dbFile})
    try {
      const b = clients(second, ACCOUNT1)
      const got = await b.lambda.send(new GetLayerVersionCommand({LayerName: 'kept', VersionNumber: 1}))
      expect(got.Content?.CodeSha256).toBe(layer.Content?.CodeSha256)
      expect(Buffer.from(await (await fetch(got.Content!.Location!)).arrayBuffer())).toEqual(zip)
      expect((await b.lambda.send(new PublishLayerVersionCommand({LayerName: 'kept', Content: {ZipFile: zip}}))).Version).toBe(3)
      expect((await b.lambda.send(new GetFunctionConfigurationCommand({FunctionName: 'kept-fn'}))).Layers?.[0]?.Arn).toBe(layer.LayerVersionArn)
      const object = await b.s3.send(new GetObjectCommand({Bucket: 'persisted-bucket', Key: 'k.zip'}))
      expect(Buffer.from(await object.Body!.transformToByteArray())).toEqual(zip)
    } finally {
      await second.close()
    }
  })
})
