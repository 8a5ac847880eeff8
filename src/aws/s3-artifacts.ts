// Owns the S3 calls `layers publish` makes for layer artifacts, behind a small interface: does the
// bucket exist (and is it reachable), create it in its region, does an object exist with a given size,
// and upload a file (a single PUT for small zips, multipart through @aws-sdk/lib-storage for large ones;
// every part is bounded by the client's read timeout, which is inactivity, so a large upload that keeps
// sending is never cut, and a failed multipart upload is aborted without the abort hiding the failure).
// S3's answers for a bucket in another region (301 PermanentRedirect, often with no body;
// AuthorizationHeaderMalformed naming the expected region; IllegalLocationConstraintException) become
// one clear error naming the bucket, the region asked and the bucket's actual region when S3 says it.
import {createReadStream} from 'node:fs'
import {AbortMultipartUploadCommand, CreateBucketCommand, HeadBucketCommand, HeadObjectCommand, type BucketLocationConstraint, type S3Client} from '@aws-sdk/client-s3'
import {Upload} from '@aws-sdk/lib-storage'
import {OperationalError} from '../errors/index.js'

export type BucketState = 'exists' | 'missing' | 'forbidden'

export interface ArtifactStoreApi {
  bucketState(bucket: string): Promise<BucketState>
  createBucket(bucket: string, region: string): Promise<void>
  /** The object's size in bytes; undefined when it does not exist. */
  objectSize(bucket: string, key: string): Promise<number | undefined>
  upload(input: {bucket: string; key: string; file: string; bytes: number; sha256Base64: string}): Promise<void>
}

/** Part size for multipart uploads; a zip up to this size goes up in a single PUT. */
export const UPLOAD_PART_SIZE = 8 * 1024 * 1024

function status(error: unknown): number | undefined {
  return (error as {$metadata?: {httpStatusCode?: number}}).$metadata?.httpStatusCode
}

interface S3Failure {
  name?: string
  message?: string
  Region?: unknown
  Endpoint?: unknown
  $metadata?: {httpStatusCode?: number}
  $response?: {headers?: Record<string, string | undefined>}
}

/** The region S3 says the bucket is in: the x-amz-bucket-region header, the Region element, or the Endpoint it names. */
function bucketRegionOf(error: S3Failure): string | undefined {
  const header = error.$response?.headers?.['x-amz-bucket-region']
  if (header) return header
  if (typeof error.Region === 'string' && error.Region) return error.Region
  const endpoint = typeof error.Endpoint === 'string' ? /\.s3[.-]([a-z0-9-]+)\.amazonaws\.com/.exec(error.Endpoint)?.[1] : undefined
  return endpoint && endpoint !== 'external-1' ? endpoint : undefined
}

/** A wrong-region answer as an error naming bucket and regions; undefined for any other failure. */
export function wrongRegionError(error: unknown, bucket: string, region: string): OperationalError | undefined {
  const failure = (error ?? {}) as S3Failure
  const name = failure.name ?? ''
  const wrongRegion =
    failure.$metadata?.httpStatusCode === 301 ||
    name === 'PermanentRedirect' ||
    name === 'IllegalLocationConstraintException' ||
    (name === 'AuthorizationHeaderMalformed' && (failure.Region !== undefined || /region/i.test(failure.message ?? '')))
  if (!wrongRegion) return undefined
  const actual = bucketRegionOf(failure)
  const answer = `S3 answered ${name && name !== 'Unknown' ? name : `HTTP ${failure.$metadata?.httpStatusCode ?? '?'}`}`
  const message = actual && actual !== region
    ? `Bucket ${bucket} is in region ${actual}, not ${region} (${answer}): Lambda in ${region} reads a layer's zip only from a bucket in ${region}.`
    : `Bucket ${bucket} cannot be used from region ${region}: it is not in that region (${answer}).`
  return new OperationalError('ERR_LAYERS_BUCKET_WRONG_REGION', message, {
    hint: 'Give every region its own bucket: put {region} in settings.bucket (e.g. "acme-layers-{accountId}-{region}"), or pick a bucket name that is free in this region.',
    cause: error,
    details: {bucket, region, ...(actual ? {bucketRegion: actual} : {})},
  })
}

export function artifactStoreApi(client: S3Client, options: {partSize?: number} = {}): ArtifactStoreApi {
  const clientRegion = async (): Promise<string> => {
    const configured = client.config.region as string | (() => Promise<string>)
    return typeof configured === 'function' ? configured() : configured
  }
  const rethrow = async (error: unknown, bucket: string, region?: string): Promise<never> => {
    throw wrongRegionError(error, bucket, region ?? (await clientRegion())) ?? error
  }
  return {
    async bucketState(bucket) {
      try {
        await client.send(new HeadBucketCommand({Bucket: bucket}))
        return 'exists'
      } catch (error) {
        const code = status(error)
        if (code === 404 || (error as {name?: string}).name === 'NotFound' || (error as {name?: string}).name === 'NoSuchBucket') return 'missing'
        if (code === 403) return 'forbidden'
        return rethrow(error, bucket)
      }
    },
    async createBucket(bucket, region) {
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
        return rethrow(error, bucket, region)
      }
    },
    async objectSize(bucket, key) {
      try {
        const reply = await client.send(new HeadObjectCommand({Bucket: bucket, Key: key}))
        return reply.ContentLength ?? 0
      } catch (error) {
        if (status(error) === 404 || (error as {name?: string}).name === 'NotFound' || (error as {name?: string}).name === 'NoSuchKey') return undefined
        return rethrow(error, bucket)
      }
    },
    async upload(input) {
      const partSize = options.partSize ?? UPLOAD_PART_SIZE
      const upload = new Upload({
        client,
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
      try {
        await upload.done()
      } catch (error) {
        // Best effort: parts left behind only cost storage (a lifecycle rule removes them); the failure is the news.
        if (upload.uploadId) await client.send(new AbortMultipartUploadCommand({Bucket: input.bucket, Key: input.key, UploadId: upload.uploadId})).catch(() => undefined)
        await rethrow(error, input.bucket)
      }
    },
  }
}
