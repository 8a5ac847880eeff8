// Contract: S3 through the real @aws-sdk/client-s3 and @aws-sdk/lib-storage, with the SDK's default
// flexible checksums (CRC32 headers, aws-chunked bodies with trailers), multipart uploads, listing,
// ranges, path-style and virtual-host addressing, and the errors S3 sends.
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetBucketLocationCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  paginateListObjectsV2,
} from '@aws-sdk/client-s3'
import {Upload} from '@aws-sdk/lib-storage'
import {NodeHttpHandler} from '@smithy/node-http-handler'
import {createHash} from 'node:crypto'
import {Agent} from 'node:http'
import {Readable} from 'node:stream'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startAwsServer, type AwsServer} from '../../aws-double/index.js'
import {ACCOUNT1, ACCOUNT2, clients, failure, type Clients} from './helpers.js'

let server: AwsServer
let one: Clients

beforeAll(async () => {
  server = await startAwsServer()
  one = clients(server, ACCOUNT1)
  await one.s3.send(new CreateBucketCommand({Bucket: 'artifacts-one'}))
})
afterAll(() => server.close())

const md5 = (data: Buffer): string => createHash('md5').update(data).digest('hex')

describe('buckets', () => {
  it('creates buckets in the signing region; location constraint, name and ownership errors', async () => {
    const west = clients(server, ACCOUNT1, 'eu-west-1')
    await west.s3.send(new CreateBucketCommand({Bucket: 'artifacts-west'}))
    expect((await west.s3.send(new GetBucketLocationCommand({Bucket: 'artifacts-west'}))).LocationConstraint).toBe('eu-west-1')
    expect((await one.s3.send(new GetBucketLocationCommand({Bucket: 'artifacts-one'}))).LocationConstraint).toBeUndefined()
    const head = await west.s3.send(new HeadBucketCommand({Bucket: 'artifacts-west'}))
    expect(head.BucketRegion).toBe('eu-west-1')
    const mismatch = await failure(one.s3.send(new CreateBucketCommand({Bucket: 'artifacts-x', CreateBucketConfiguration: {LocationConstraint: 'eu-west-1'}})))
    expect(mismatch.name).toBe('IllegalLocationConstraintException')
    expect((await failure(one.s3.send(new CreateBucketCommand({Bucket: 'artifacts-one'})))).name).toBe('BucketAlreadyOwnedByYou')
    const taken = await failure(clients(server, ACCOUNT2).s3.send(new CreateBucketCommand({Bucket: 'artifacts-one'})))
    expect(taken.name).toBe('BucketAlreadyExists')
    expect(taken.$metadata.httpStatusCode).toBe(409)
    expect((await failure(one.s3.send(new CreateBucketCommand({Bucket: 'Bad_Name'})))).name).toBe('InvalidBucketName')
    const missing = await failure(one.s3.send(new HeadBucketCommand({Bucket: 'no-such-bucket-anywhere'})))
    expect(missing.name).toBe('NotFound')
    expect(missing.$metadata.httpStatusCode).toBe(404)
    const otherRegion = await failure(one.s3.send(new PutObjectCommand({Bucket: 'artifacts-west', Key: 'k', Body: 'x'})))
    expect(otherRegion.name).toBe('PermanentRedirect')
    expect(otherRegion.$metadata.httpStatusCode).toBe(301)
    const foreign = await failure(clients(server, ACCOUNT2).s3.send(new GetObjectCommand({Bucket: 'artifacts-one', Key: 'k'})))
    expect(foreign.name).toBe('AccessDenied')
    expect(foreign.$metadata.httpStatusCode).toBe(403)
  })
})

describe('objects', () => {
  it('puts a buffer (CRC32 header) and a stream (aws-chunked with trailer), gets them back with checksums', async () => {
    const body = Buffer.from('layer zip bytes '.repeat(1000))
    const put = await one.s3.send(new PutObjectCommand({Bucket: 'artifacts-one', Key: 'a/one.zip', Body: body}))
    expect(put.ETag).toBe(`"${md5(body)}"`)
    expect(put.ChecksumCRC32).toBeTruthy()
    const streamed = await one.s3.send(new PutObjectCommand({Bucket: 'artifacts-one', Key: 'a/two.zip', Body: Readable.from([body.subarray(0, 5000), body.subarray(5000)]), ContentLength: body.length}))
    expect(streamed.ETag).toBe(`"${md5(body)}"`)
    expect(server.calls.at(-1)).toMatchObject({operation: 'PutObject', status: 200})
    const sha = await one.s3.send(new PutObjectCommand({Bucket: 'artifacts-one', Key: 'a/three.zip', Body: body, ChecksumAlgorithm: 'SHA256', ContentMD5: createHash('md5').update(body).digest('base64')}))
    expect(sha.ChecksumSHA256).toBe(createHash('sha256').update(body).digest('base64'))
    for (const key of ['a/one.zip', 'a/two.zip', 'a/three.zip']) {
      const got = await one.s3.send(new GetObjectCommand({Bucket: 'artifacts-one', Key: key, ChecksumMode: 'ENABLED'}))
      expect(Buffer.from(await got.Body!.transformToByteArray())).toEqual(body)
      expect(got.ContentLength).toBe(body.length)
    }
    const head = await one.s3.send(new HeadObjectCommand({Bucket: 'artifacts-one', Key: 'a/one.zip'}))
    expect(head).toMatchObject({ContentLength: body.length, ETag: `"${md5(body)}"`})
    const range = await one.s3.send(new GetObjectCommand({Bucket: 'artifacts-one', Key: 'a/one.zip', Range: 'bytes=6-8'}))
    expect(await range.Body!.transformToString()).toBe('zip')
    expect(range.ContentRange).toBe(`bytes 6-8/${body.length}`)
  })

  it('refuses a wrong checksum or Content-MD5 with BadDigest, missing keys with NoSuchKey/NotFound', async () => {
    const wrong = await failure(one.s3.send(new PutObjectCommand({Bucket: 'artifacts-one', Key: 'bad', Body: Buffer.from('abc'), ChecksumCRC32: 'AAAAAA=='})))
    expect(wrong.name).toBe('BadDigest')
    expect(wrong.$metadata.httpStatusCode).toBe(400)
    const md5Wrong = await failure(one.s3.send(new PutObjectCommand({Bucket: 'artifacts-one', Key: 'bad', Body: Buffer.from('abc'), ContentMD5: createHash('md5').update('xyz').digest('base64')})))
    expect(md5Wrong.name).toBe('BadDigest')
    const missing = await failure(one.s3.send(new GetObjectCommand({Bucket: 'artifacts-one', Key: 'bad'})))
    expect(missing.name).toBe('NoSuchKey')
    expect(missing.$metadata.httpStatusCode).toBe(404)
    expect((await failure(one.s3.send(new HeadObjectCommand({Bucket: 'artifacts-one', Key: 'bad'})))).name).toBe('NotFound')
    expect((await failure(one.s3.send(new GetObjectCommand({Bucket: 'no-such-bucket-anywhere', Key: 'bad'})))).name).toBe('NoSuchBucket')
  })

  it('ListObjectsV2 filters by prefix, groups by delimiter and pages with continuation tokens', async () => {
    const c = clients(server, ACCOUNT1, 'sa-east-1')
    await c.s3.send(new CreateBucketCommand({Bucket: 'listing-bucket'}))
    const keys = ['layers/a/1.zip', 'layers/a/2.zip', 'layers/b/1.zip', 'layers/top.zip', 'other/x.zip']
    for (const key of keys) await c.s3.send(new PutObjectCommand({Bucket: 'listing-bucket', Key: key, Body: key}))
    const all = await c.s3.send(new ListObjectsV2Command({Bucket: 'listing-bucket'}))
    expect(all.Contents?.map((o) => o.Key)).toEqual(keys)
    expect(all.KeyCount).toBe(5)
    expect(all.Contents?.[0]?.Size).toBe(keys[0]!.length)
    const grouped = await c.s3.send(new ListObjectsV2Command({Bucket: 'listing-bucket', Prefix: 'layers/', Delimiter: '/'}))
    expect(grouped.Contents?.map((o) => o.Key)).toEqual(['layers/top.zip'])
    expect(grouped.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['layers/a/', 'layers/b/'])
    const pages: string[][] = []
    for await (const page of paginateListObjectsV2({client: c.s3, pageSize: 2}, {Bucket: 'listing-bucket'})) pages.push((page.Contents ?? []).map((o) => o.Key!))
    expect(pages).toEqual([keys.slice(0, 2), keys.slice(2, 4), keys.slice(4)])
  })

  it('keeps keys with spaces, unicode, plus signs and reserved characters intact (signing included)', async () => {
    const keys = ['layers/a b/ü+x.zip', "odd/!'()*~@$&=;:,?#[].zip", 'deep/./x/../y.zip']
    for (const key of keys) await one.s3.send(new PutObjectCommand({Bucket: 'artifacts-one', Key: key, Body: key}))
    for (const key of keys) expect(await (await one.s3.send(new GetObjectCommand({Bucket: 'artifacts-one', Key: key}))).Body!.transformToString()).toBe(key)
    const listed = await one.s3.send(new ListObjectsV2Command({Bucket: 'artifacts-one', Prefix: 'odd/'}))
    expect(listed.Contents?.map((o) => o.Key)).toEqual([keys[1]])
  })

  it('serves virtual-host style requests (bucket.localhost)', async () => {
    const port = new URL(server.endpoint).port
    const agent = new Agent({lookup: ((_host: string, options: {all?: boolean}, callback: (...args: unknown[]) => void) => (options.all ? callback(null, [{address: '127.0.0.1', family: 4}]) : callback(null, '127.0.0.1', 4))) as never})
    const s3 = new S3Client({region: 'us-east-1', endpoint: `http://localhost:${port}`, credentials: server.credentials(ACCOUNT1), requestHandler: new NodeHttpHandler({httpAgent: agent}), maxAttempts: 1})
    await s3.send(new PutObjectCommand({Bucket: 'artifacts-one', Key: 'virtual/host.txt', Body: 'hosted'}))
    expect(await (await one.s3.send(new GetObjectCommand({Bucket: 'artifacts-one', Key: 'virtual/host.txt'}))).Body!.transformToString()).toBe('hosted')
    agent.destroy()
  })
})

describe('multipart', () => {
  it('lib-storage Upload of a buffer and of a stream: parts, composite CRC32, ETag -N, same bytes back', async () => {
    const size = 11 * 1024 * 1024 + 123
    const body = Buffer.alloc(size)
    for (let i = 0; i < size; i += 4096) body[i] = i % 251
    const done = await new Upload({client: one.s3, params: {Bucket: 'artifacts-one', Key: 'big/layer.zip', Body: body}, partSize: 5 * 1024 * 1024, queueSize: 2}).done()
    expect(done.ETag).toMatch(/^"[0-9a-f]{32}-3"$/)
    expect(server.calls.filter((call) => call.operation === 'UploadPart' && call.status === 200).length).toBeGreaterThanOrEqual(3)
    const got = await one.s3.send(new GetObjectCommand({Bucket: 'artifacts-one', Key: 'big/layer.zip', ChecksumMode: 'ENABLED'}))
    expect(got.ChecksumCRC32).toMatch(/-3$/)
    expect(md5(Buffer.from(await got.Body!.transformToByteArray()))).toBe(md5(body))
    const streamed = await new Upload({client: one.s3, params: {Bucket: 'artifacts-one', Key: 'big/streamed.zip', Body: Readable.from((function* () {
      for (let offset = 0; offset < body.length; offset += 1024 * 1024) yield body.subarray(offset, offset + 1024 * 1024)
    })())}}).done()
    expect(streamed.ETag).toMatch(/-3"$/)
    const back = await one.s3.send(new GetObjectCommand({Bucket: 'artifacts-one', Key: 'big/streamed.zip'}))
    expect(md5(Buffer.from(await back.Body!.transformToByteArray()))).toBe(md5(body))
  })

  it('refuses unknown parts, wrong order, small parts and aborted uploads', async () => {
    const {UploadId} = await one.s3.send(new CreateMultipartUploadCommand({Bucket: 'artifacts-one', Key: 'mp/errors'}))
    const small = await one.s3.send(new UploadPartCommand({Bucket: 'artifacts-one', Key: 'mp/errors', UploadId, PartNumber: 1, Body: Buffer.from('tiny')}))
    const last = await one.s3.send(new UploadPartCommand({Bucket: 'artifacts-one', Key: 'mp/errors', UploadId, PartNumber: 2, Body: Buffer.from('end')}))
    const unknown = await failure(one.s3.send(new CompleteMultipartUploadCommand({Bucket: 'artifacts-one', Key: 'mp/errors', UploadId, MultipartUpload: {Parts: [{PartNumber: 1, ETag: '"00000000000000000000000000000000"'}]}})))
    expect(unknown.name).toBe('InvalidPart')
    const order = await failure(one.s3.send(new CompleteMultipartUploadCommand({Bucket: 'artifacts-one', Key: 'mp/errors', UploadId, MultipartUpload: {Parts: [{PartNumber: 2, ETag: last.ETag}, {PartNumber: 1, ETag: small.ETag}]}})))
    expect(order.name).toBe('InvalidPartOrder')
    const tooSmall = await failure(one.s3.send(new CompleteMultipartUploadCommand({Bucket: 'artifacts-one', Key: 'mp/errors', UploadId, MultipartUpload: {Parts: [{PartNumber: 1, ETag: small.ETag}, {PartNumber: 2, ETag: last.ETag}]}})))
    expect(tooSmall.name).toBe('EntityTooSmall')
    // A single small part is a valid (last) part.
    const one1 = await one.s3.send(new CompleteMultipartUploadCommand({Bucket: 'artifacts-one', Key: 'mp/errors', UploadId, MultipartUpload: {Parts: [{PartNumber: 1, ETag: small.ETag}]}}))
    expect(one1.ETag).toMatch(/-1"$/)
    const second = await one.s3.send(new CreateMultipartUploadCommand({Bucket: 'artifacts-one', Key: 'mp/aborted'}))
    await one.s3.send(new AbortMultipartUploadCommand({Bucket: 'artifacts-one', Key: 'mp/aborted', UploadId: second.UploadId}))
    const aborted = await failure(one.s3.send(new UploadPartCommand({Bucket: 'artifacts-one', Key: 'mp/aborted', UploadId: second.UploadId, PartNumber: 1, Body: Buffer.from('x')})))
    expect(aborted.name).toBe('NoSuchUpload')
    expect(aborted.$metadata.httpStatusCode).toBe(404)
  })
})

describe('conditional writes', () => {
  const bucket = 'artifacts-one'
  const put = (key: string, body: string, conditions: {IfNoneMatch?: string; IfMatch?: string} = {}) => one.s3.send(new PutObjectCommand({Bucket: bucket, Key: key, Body: body, ...conditions}))
  const read = async (key: string): Promise<string> => (await (await one.s3.send(new GetObjectCommand({Bucket: bucket, Key: key}))).Body!.transformToString())

  it('PutObject If-None-Match: * creates once (412 PreconditionFailed after); If-Match writes only over that ETag (412 otherwise, 404 NoSuchKey when missing)', async () => {
    const created = await put('cond/lease.json', 'one', {IfNoneMatch: '*'})
    const again = await failure(put('cond/lease.json', 'two', {IfNoneMatch: '*'}))
    expect(again.name).toBe('PreconditionFailed')
    expect(again.$metadata.httpStatusCode).toBe(412)
    expect(await read('cond/lease.json')).toBe('one')
    const renewed = await put('cond/lease.json', 'three', {IfMatch: created.ETag!})
    expect(renewed.ETag).not.toBe(created.ETag)
    const stale = await failure(put('cond/lease.json', 'four', {IfMatch: created.ETag!}))
    expect(stale.name).toBe('PreconditionFailed')
    expect(stale.$metadata.httpStatusCode).toBe(412)
    // Unquoted ETags match as well (S3 compares the entity tag, quotes or not).
    await put('cond/lease.json', 'five', {IfMatch: renewed.ETag!.replace(/"/g, '')})
    expect(await read('cond/lease.json')).toBe('five')
    const missing = await failure(put('cond/nothing.json', 'x', {IfMatch: created.ETag!}))
    expect(missing.name).toBe('NoSuchKey')
    expect(missing.$metadata.httpStatusCode).toBe(404)
    const notStar = await failure(put('cond/other.json', 'x', {IfNoneMatch: created.ETag!}))
    expect(notStar.$metadata.httpStatusCode).toBe(501)
    expect(server.calls.filter((call) => call.operation === 'PutObject' && call.status === 412)).toHaveLength(2)
  })

  it('DeleteObject If-Match deletes only that ETag: 412 for another, 404 NoSuchKey when missing; unconditional deletes stay 204', async () => {
    const {ETag} = await put('cond/del.json', 'one')
    const other = await failure(one.s3.send(new DeleteObjectCommand({Bucket: bucket, Key: 'cond/del.json', IfMatch: '"0123456789abcdef0123456789abcdef"'})))
    expect(other.name).toBe('PreconditionFailed')
    expect(await read('cond/del.json')).toBe('one')
    await one.s3.send(new DeleteObjectCommand({Bucket: bucket, Key: 'cond/del.json', IfMatch: ETag!}))
    const gone = await failure(one.s3.send(new DeleteObjectCommand({Bucket: bucket, Key: 'cond/del.json', IfMatch: ETag!})))
    expect(gone.name).toBe('NoSuchKey')
    expect(gone.$metadata.httpStatusCode).toBe(404)
    await one.s3.send(new DeleteObjectCommand({Bucket: bucket, Key: 'cond/del.json'}))
  })

  it('two conditional writes of one key in flight at once: one lands, the other is 409 ConditionalRequestConflict', async () => {
    // Both requests are held 300 ms after they arrive, so the second is in flight when the first lands.
    server.setFaults({latencyMs: 300, operations: ['PutObject']})
    try {
      const results = await Promise.allSettled([put('cond/race.json', 'a', {IfNoneMatch: '*'}), put('cond/race.json', 'b', {IfNoneMatch: '*'})])
      expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1)
      const rejected = results.find((result) => result.status === 'rejected') as PromiseRejectedResult
      expect((rejected.reason as {name: string}).name).toBe('ConditionalRequestConflict')
      expect((rejected.reason as {$metadata: {httpStatusCode: number}}).$metadata.httpStatusCode).toBe(409)
    } finally {
      server.setFaults(undefined)
    }
    // Retried once the conflict is over, the condition decides: 412.
    expect((await failure(put('cond/race.json', 'b', {IfNoneMatch: '*'}))).name).toBe('PreconditionFailed')
  })

  it('CompleteMultipartUpload: If-None-Match creates or 412s; a write of the key after the upload began is 409; If-Match checks the ETag', async () => {
    const complete = async (key: string, conditions: {IfNoneMatch?: string; IfMatch?: string}, between?: () => Promise<unknown>) => {
      const {UploadId} = await one.s3.send(new CreateMultipartUploadCommand({Bucket: bucket, Key: key}))
      const part = await one.s3.send(new UploadPartCommand({Bucket: bucket, Key: key, UploadId, PartNumber: 1, Body: Buffer.from(`part of ${key}`)}))
      await between?.()
      return one.s3.send(new CompleteMultipartUploadCommand({Bucket: bucket, Key: key, UploadId, MultipartUpload: {Parts: [{PartNumber: 1, ETag: part.ETag}]}, ...conditions}))
    }
    const first = await complete('cond/mp.zip', {IfNoneMatch: '*'})
    expect(first.ETag).toMatch(/-1"$/)
    expect((await failure(complete('cond/mp.zip', {IfNoneMatch: '*'}))).name).toBe('PreconditionFailed')
    const conflict = await failure(complete('cond/mp-race.zip', {IfNoneMatch: '*'}, () => put('cond/mp-race.zip', 'landed meanwhile')))
    expect(conflict.name).toBe('ConditionalRequestConflict')
    expect(conflict.$metadata.httpStatusCode).toBe(409)
    expect(await read('cond/mp-race.zip')).toBe('landed meanwhile')
    expect((await failure(complete('cond/mp.zip', {IfMatch: '"0123456789abcdef0123456789abcdef-1"'}))).name).toBe('PreconditionFailed')
    const over = await complete('cond/mp.zip', {IfMatch: first.ETag!})
    expect(over.ETag).toMatch(/-1"$/)
    expect((await failure(complete('cond/mp-none.zip', {IfMatch: first.ETag!}))).name).toBe('NoSuchKey')
  })
})
