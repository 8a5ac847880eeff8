// Helpers for the AWS test server's contract suite: SDK clients aimed at the server, zips built in
// memory, a way to capture the exception an SDK call throws, and a tiny image pushed to the loopback registry.
import {createHash} from 'node:crypto'
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

/**
 * Pushes a tiny image (a config blob and an OCI manifest with no layers; `label` makes it distinct)
 * to `repository` of the loopback registry under `tag`, with plain HTTP PUTs as a registry client
 * sends them; the repository must exist in the ECR double for Lambda to see it. Returns the manifest digest.
 */
export async function pushTestImage(registry: {url: string; username: string; password: string}, repository: string, tag: string, label = tag): Promise<string> {
  const auth = {authorization: `Basic ${Buffer.from(`${registry.username}:${registry.password}`).toString('base64')}`}
  const digestOf = (bytes: Buffer) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`
  const config = Buffer.from(JSON.stringify({architecture: 'amd64', os: 'linux', config: {Labels: {test: label}}, rootfs: {type: 'layers', diff_ids: []}}))
  const start = await fetch(`${registry.url}/v2/${repository}/blobs/uploads/`, {method: 'POST', headers: auth})
  if (start.status !== 202) throw new Error(`pushTestImage: starting the upload answered ${start.status}`)
  const location = new URL(start.headers.get('location')!, registry.url)
  location.searchParams.set('digest', digestOf(config))
  const blob = await fetch(location, {method: 'PUT', headers: {...auth, 'content-type': 'application/octet-stream'}, body: config})
  if (blob.status !== 201) throw new Error(`pushTestImage: the config blob PUT answered ${blob.status}`)
  const manifest = Buffer.from(JSON.stringify({schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: {mediaType: 'application/vnd.oci.image.config.v1+json', digest: digestOf(config), size: config.length}, layers: []}))
  const put = await fetch(`${registry.url}/v2/${repository}/manifests/${tag}`, {method: 'PUT', headers: {...auth, 'content-type': 'application/vnd.oci.image.manifest.v1+json'}, body: manifest})
  if (put.status !== 201) throw new Error(`pushTestImage: the manifest PUT answered ${put.status}`)
  return digestOf(manifest)
}
