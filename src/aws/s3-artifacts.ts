// Owns the S3 calls `layers publish` makes for layer artifacts, behind a small interface: does the
// bucket exist (and is it reachable), create it in its region, does an object exist with a given size,
// put a small object (an SBOM) in one PUT and read one back, and upload a file (a single PUT for small zips, multipart through @aws-sdk/lib-storage for large ones;
// every part is bounded by the client's read timeout, which is inactivity, so a large upload that keeps
// sending is never cut, and a failed multipart upload is aborted without the abort hiding the failure).
// An interrupt (`signal`) cancels an upload in flight: the object is content-addressed and S3 stores
// no part of an unfinished PUT or multipart upload, so the rerun uploads it whole and nothing is lost.
// S3's answers for a bucket in another region are named by the client itself (s3-region.ts).
import {createReadStream} from 'node:fs'
import {createHash} from 'node:crypto'
import type {BucketLocationConstraint, S3Client} from '@aws-sdk/client-s3'

export type BucketState = 'exists' | 'missing' | 'forbidden'

export interface ArtifactStoreApi {
  bucketState(bucket: string): Promise<BucketState>
  createBucket(bucket: string, region: string): Promise<void>
  /** The object's size in bytes; undefined when it does not exist. */
  objectSize(bucket: string, key: string): Promise<number | undefined>
  /**
   * `onProgress` hears the bytes sent so far after each part of a multipart upload (a single PUT, over at
   * once, says nothing). Resolves false when `signal` cancelled the upload (nothing stored), true when stored.
   */
  upload(input: {bucket: string; key: string; file: string; bytes: number; sha256Base64: string; onProgress?: (sent: number, total: number) => void; signal?: AbortSignal}): Promise<boolean>
  /** A small object in one PUT, its SHA-256 sent for S3 to verify (resent whole by the SDK's retries: the same bytes). */
  putObject(input: {bucket: string; key: string; body: Uint8Array; contentType: string}): Promise<void>
  /** The object's bytes; undefined when it does not exist. */
  readObject(bucket: string, key: string): Promise<Uint8Array | undefined>
}

/** Part size for multipart uploads; a zip up to this size goes up in a single PUT. */
export const UPLOAD_PART_SIZE = 8 * 1024 * 1024

function status(error: unknown): number | undefined {
  return (error as {$metadata?: {httpStatusCode?: number}}).$metadata?.httpStatusCode
}

function isMissing(error: unknown): boolean {
  const name = (error as {name?: string}).name
  return status(error) === 404 || name === 'NotFound' || name === 'NoSuchKey'
}

export function artifactStoreApi(client: S3Client, options: {partSize?: number} = {}): ArtifactStoreApi {
  return {
    async bucketState(bucket) {
      const {HeadBucketCommand} = await import('@aws-sdk/client-s3')
      try {
        await client.send(new HeadBucketCommand({Bucket: bucket}))
        return 'exists'
      } catch (error) {
        const code = status(error)
        if (code === 404 || (error as {name?: string}).name === 'NotFound' || (error as {name?: string}).name === 'NoSuchBucket') return 'missing'
        if (code === 403) return 'forbidden'
        throw error
      }
    },
    async createBucket(bucket, region) {
      const {CreateBucketCommand} = await import('@aws-sdk/client-s3')
      try {
        await client.send(
          new CreateBucketCommand({
            Bucket: bucket,
            ...(region === 'us-east-1' ? {} : {CreateBucketConfiguration: {LocationConstraint: region as BucketLocationConstraint}}),
          }),
        )
      } catch (error) {
        // A concurrent publish (or an earlier interrupted one) made it already: that is what we wanted.
        if ((error as {name?: string}).name === 'BucketAlreadyOwnedByYou') return
        throw error
      }
    },
    async objectSize(bucket, key) {
      const {HeadObjectCommand} = await import('@aws-sdk/client-s3')
      try {
        const reply = await client.send(new HeadObjectCommand({Bucket: bucket, Key: key}))
        return reply.ContentLength ?? 0
      } catch (error) {
        if (isMissing(error)) return undefined
        throw error
      }
    },
    async putObject(input) {
      const {PutObjectCommand} = await import('@aws-sdk/client-s3')
      const sha256Base64 = createHash('sha256').update(input.body).digest('base64')
      await client.send(new PutObjectCommand({Bucket: input.bucket, Key: input.key, Body: input.body, ContentType: input.contentType, ContentLength: input.body.byteLength, ChecksumSHA256: sha256Base64}))
    },
    async readObject(bucket, key) {
      const {GetObjectCommand} = await import('@aws-sdk/client-s3')
      try {
        const reply = await client.send(new GetObjectCommand({Bucket: bucket, Key: key}))
        return await reply.Body!.transformToByteArray()
      } catch (error) {
        if (isMissing(error)) return undefined
        throw error
      }
    },
    async upload(input) {
      const [{AbortMultipartUploadCommand}, {Upload}] = await Promise.all([import('@aws-sdk/client-s3'), import('@aws-sdk/lib-storage')])
      const partSize = options.partSize ?? UPLOAD_PART_SIZE
      if (input.signal?.aborted) return false
      const cancel = new AbortController()
      const onInterrupt = () => cancel.abort()
      input.signal?.addEventListener('abort', onInterrupt, {once: true})
      const upload = new Upload({
        client,
        abortController: cancel,
        partSize,
        queueSize: 4,
        // Aborted below: lib-storage's own abort throws its error in place of the part's (and to an
        // endpoint that stopped answering it is not even sent), hiding why the upload failed.
        leavePartsOnError: true,
        params: {
          Bucket: input.bucket,
          Key: input.key,
          // lib-storage reads the stream into part-sized Buffers, so a throttled part (or single PUT) is resent whole.
          Body: createReadStream(input.file),
          ContentType: 'application/zip',
          // A single PUT carries the whole object's SHA-256 for S3 to verify; multipart parts are
          // checksummed one by one by the SDK.
          ...(input.bytes <= partSize ? {ChecksumSHA256: input.sha256Base64, ContentLength: input.bytes} : {}),
        },
      })
      if (input.onProgress && input.bytes > partSize) upload.on('httpUploadProgress', (progress) => input.onProgress!(progress.loaded ?? 0, progress.total ?? input.bytes))
      try {
        await upload.done()
        return true
      } catch (error) {
        // Best effort: parts left behind only cost storage (a lifecycle rule removes them); the failure is the news.
        if (upload.uploadId) await client.send(new AbortMultipartUploadCommand({Bucket: input.bucket, Key: input.key, UploadId: upload.uploadId})).catch(() => undefined)
        if (cancel.signal.aborted) return false
        throw error
      } finally {
        input.signal?.removeEventListener('abort', onInterrupt)
      }
    },
  }
}
