// Owns the S3 calls behind the shared history (src/history/shared.ts): write an event object once
// (`If-None-Match: *`: events are immutable, a second write of one is a no-op), list the event keys
// under a prefix (all pages), and read one event.
import {GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client} from '@aws-sdk/client-s3'

export interface HistoryStoreApi {
  /** Writes the object unless the key exists; 'exists' when it did (the same event, written before). */
  putOnce(bucket: string, key: string, body: string): Promise<'written' | 'exists'>
  list(bucket: string, prefix: string): Promise<string[]>
  read(bucket: string, key: string): Promise<string | undefined>
}

export function historyStoreApi(client: Pick<S3Client, 'send'>): HistoryStoreApi {
  return {
    async putOnce(bucket, key, body) {
      try {
        await client.send(new PutObjectCommand({Bucket: bucket, Key: key, Body: body, ContentType: 'application/json', IfNoneMatch: '*'}))
        return 'written'
      } catch (error) {
        const name = (error as {name?: string}).name
        // 409: the same immutable event is being written by another run right now.
        if (name === 'PreconditionFailed' || name === 'ConditionalRequestConflict') return 'exists'
        throw error
      }
    },
    async list(bucket, prefix) {
      const keys: string[] = []
      let token: string | undefined
      do {
        const reply = await client.send(new ListObjectsV2Command({Bucket: bucket, Prefix: prefix, ...(token ? {ContinuationToken: token} : {})}))
        for (const item of reply.Contents ?? []) if (item.Key) keys.push(item.Key)
        token = reply.IsTruncated ? reply.NextContinuationToken : undefined
      } while (token)
      return keys
    },
    async read(bucket, key) {
      try {
        return await (await client.send(new GetObjectCommand({Bucket: bucket, Key: key}))).Body?.transformToString('utf8')
      } catch (error) {
        if ((error as {name?: string}).name === 'NoSuchKey') return undefined
        throw error
      }
    },
  }
}
