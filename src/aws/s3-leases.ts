// Owns the S3 calls behind the team-state leases (src/publish/lease.ts), as a small interface over
// S3's conditional writes: create an object only when its key is free (`If-None-Match: *`), replace or
// delete it only while it still has the ETag the caller saw (`If-Match`), and read it with its ETag.
// Every failed condition comes back as a typed outcome; any other error is thrown as the SDK raised it.
import {DeleteObjectCommand, GetObjectCommand, PutObjectCommand, type S3Client} from '@aws-sdk/client-s3'

/**
 * Why a conditional write did not apply: `taken` (the key exists, 412 on If-None-Match), `changed` (it
 * has another ETag, 412 on If-Match), `missing` (it is gone, 404 on If-Match), `conflict` (another
 * conditional write of the key was in flight, 409 ConditionalRequestConflict: look again and retry).
 */
export type ConditionFailure = 'taken' | 'changed' | 'missing' | 'conflict'

export type ConditionalResult = {ok: true; etag: string} | {ok: false; reason: ConditionFailure}

export interface LeaseStoreApi {
  /** PutObject If-None-Match: *. */
  create(bucket: string, key: string, body: string): Promise<ConditionalResult>
  /** PutObject If-Match: etag. */
  replace(bucket: string, key: string, body: string, etag: string): Promise<ConditionalResult>
  /** DeleteObject If-Match: etag. */
  remove(bucket: string, key: string, etag: string): Promise<ConditionalResult>
  /** The object's body and ETag; undefined when there is none. */
  read(bucket: string, key: string): Promise<{body: string; etag: string} | undefined>
}

function failureOf(error: unknown, onPrecondition: ConditionFailure): ConditionFailure | undefined {
  const name = (error as {name?: string}).name
  const status = (error as {$metadata?: {httpStatusCode?: number}}).$metadata?.httpStatusCode
  if (name === 'PreconditionFailed' || status === 412) return onPrecondition
  if (name === 'ConditionalRequestConflict' || status === 409) return 'conflict'
  if (name === 'NoSuchKey' || status === 404) return name === 'NoSuchBucket' ? undefined : 'missing'
  return undefined
}

export function leaseStoreApi(client: Pick<S3Client, 'send'>): LeaseStoreApi {
  const put = async (bucket: string, key: string, body: string, condition: {IfNoneMatch: string} | {IfMatch: string}, onPrecondition: ConditionFailure): Promise<ConditionalResult> => {
    try {
      const reply = await client.send(new PutObjectCommand({Bucket: bucket, Key: key, Body: body, ContentType: 'application/json', ...condition}))
      return {ok: true, etag: reply.ETag ?? ''}
    } catch (error) {
      const reason = failureOf(error, onPrecondition)
      if (reason) return {ok: false, reason}
      throw error
    }
  }
  return {
    create: (bucket, key, body) => put(bucket, key, body, {IfNoneMatch: '*'}, 'taken'),
    replace: (bucket, key, body, etag) => put(bucket, key, body, {IfMatch: etag}, 'changed'),
    async remove(bucket, key, etag) {
      try {
        await client.send(new DeleteObjectCommand({Bucket: bucket, Key: key, IfMatch: etag}))
        return {ok: true, etag}
      } catch (error) {
        const reason = failureOf(error, 'changed')
        if (reason) return {ok: false, reason}
        throw error
      }
    },
    async read(bucket, key) {
      try {
        const reply = await client.send(new GetObjectCommand({Bucket: bucket, Key: key}))
        return {body: (await reply.Body?.transformToString('utf8')) ?? '', etag: reply.ETag ?? ''}
      } catch (error) {
        const name = (error as {name?: string}).name
        if (name === 'NoSuchKey' || (name !== 'NoSuchBucket' && (error as {$metadata?: {httpStatusCode?: number}}).$metadata?.httpStatusCode === 404)) return undefined
        throw error
      }
    },
  }
}
