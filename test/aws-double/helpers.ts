// Helpers for the AWS test server's contract suite: SDK clients aimed at the server, zips built in
// memory, and a way to capture the exception an SDK call throws.
import {LambdaClient} from '@aws-sdk/client-lambda'
import {S3Client} from '@aws-sdk/client-s3'
import {STSClient} from '@aws-sdk/client-sts'
import type {AwsServer} from '../../aws-double/index.js'
import {zipBytes} from '../../aws-double/seed.js'

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
  return zipBytes(files)
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
