// Contract: how S3 (the test server, as AWS) answers for a bucket in another region, and what the
// artifact store (src/aws/s3-artifacts.ts) makes of it: HeadBucket gets a 301 with no body (the SDK
// can only call it "Unknown") but the x-amz-bucket-region header; other calls a PermanentRedirect
// document; CreateBucket with another region's constraint IllegalLocationConstraintException. Each
// becomes ERR_LAYERS_BUCKET_WRONG_REGION naming bucket, region and (when S3 says it) the bucket's region.
import {CreateBucketCommand, HeadBucketCommand} from '@aws-sdk/client-s3'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {artifactStoreApi} from '../../src/aws/s3-artifacts.js'
import {withWrongRegionErrors} from '../../src/aws/s3-region.js'
import {startAwsServer, type AwsServer} from '../../aws-double/index.js'
import {ACCOUNT1, clients, failure} from './helpers.js'

let server: AwsServer

beforeAll(async () => {
  server = await startAwsServer()
  await clients(server, ACCOUNT1, 'us-east-1').s3.send(new CreateBucketCommand({Bucket: 'east-only'}))
})
afterAll(() => server.close())

describe('a bucket in another region', () => {
  it('HeadBucket: a bare 301 whose only clue is the x-amz-bucket-region header', async () => {
    const error = (await failure(clients(server, ACCOUNT1, 'eu-west-1').s3.send(new HeadBucketCommand({Bucket: 'east-only'})))) as Error & {$metadata: {httpStatusCode?: number}; $response?: {headers?: Record<string, string>}}
    expect(error.$metadata.httpStatusCode).toBe(301)
    expect(error.$response?.headers?.['x-amz-bucket-region']).toBe('us-east-1')
  })

  it('the artifact store names bucket and both regions for every call, with a hint', async () => {
    const store = artifactStoreApi(withWrongRegionErrors(clients(server, ACCOUNT1, 'eu-west-1').s3))
    const expected = {code: 'ERR_LAYERS_BUCKET_WRONG_REGION', message: expect.stringContaining('Bucket east-only is in region us-east-1, not eu-west-1'), hint: expect.stringContaining('{region}'), details: {bucket: 'east-only', region: 'eu-west-1', bucketRegion: 'us-east-1'}}
    await expect(store.bucketState('east-only')).rejects.toMatchObject(expected)
    await expect(store.objectSize('east-only', 'layers/x.zip')).rejects.toMatchObject(expected)
    // A location constraint for another region than the endpoint's: IllegalLocationConstraintException.
    await expect(store.createBucket('fresh-bucket', 'us-west-2')).rejects.toMatchObject({code: 'ERR_LAYERS_BUCKET_WRONG_REGION', message: expect.stringContaining('IllegalLocationConstraintException'), details: {bucket: 'fresh-bucket', region: 'us-west-2'}})
    // A bucket in the client's own region is unaffected.
    expect(await artifactStoreApi(withWrongRegionErrors(clients(server, ACCOUNT1, 'us-east-1').s3)).bucketState('east-only')).toBe('exists')
  })
})
