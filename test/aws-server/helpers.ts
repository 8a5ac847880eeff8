// Helpers for the AWS test server's contract suite: SDK clients aimed at the server, zips built in
// memory, and a way to capture the exception an SDK call throws.
import {LambdaClient} from '@aws-sdk/client-lambda'
import {S3Client} from '@aws-sdk/client-s3'
import {STSClient} from '@aws-sdk/client-sts'
import yazl from 'yazl'
import type {AwsServer} from '../support/aws-server/index.js'

export const ACCOUNT1 = '111111111111'
export const ACCOUNT2 = '222222222222'
export const REGION = 'us-east-1'

export interface Clients {
  lambda: LambdaClient
  s3: S3Client
  sts: STSClient
}

export function clients(server: AwsServer, accountId: string, region = REGION, extra: {maxAttempts?: number; retryMode?: string} = {}): Clients {
  const config = {region, endpoint: server.endpoint, credentials: server.credentials(accountId), maxAttempts: extra.maxAttempts ?? 1, ...(extra.retryMode ? {retryMode: extra.retryMode} : {})}
  return {lambda: new LambdaClient(config), s3: new S3Client(config), sts: new STSClient(config)}
}

/** A zip holding `files` (path -> content), built in memory. */
export function makeZip(files: Record<string, string | Buffer>): Promise<Buffer> {
  const zip = new yazl.ZipFile()
  for (const [path, content] of Object.entries(files)) zip.addBuffer(Buffer.isBuffer(content) ? content : Buffer.from(content), path, {mtime: new Date(0)})
  zip.end()
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    zip.outputStream.on('data', (chunk: Buffer) => chunks.push(chunk))
    zip.outputStream.on('end', () => resolve(Buffer.concat(chunks)))
    zip.outputStream.on('error', reject)
  })
}

/** The error a promise rejects with; fails the test when it resolves. */
export async function failure(promise: Promise<unknown>): Promise<Error & {name: string; $metadata: {httpStatusCode?: number}; $fault?: string}> {
  try {
    await promise
  } catch (error) {
    return error as Error & {name: string; $metadata: {httpStatusCode?: number}}
  }
  throw new Error('expected the call to fail, it succeeded')
}
