// Seeding helpers for tests and benchmarks that need AWS state before they run the CLI (layer versions
// of other accounts, functions with given runtimes, layers and code sizes, published versions, aliases).
// Lambda state goes in as direct calls (AwsServer.direct): the server's own handlers apply them, so
// seeded state obeys the same rules as state the CLI creates, without HTTP, signing, faults, quotas or
// call records, so a fleet of 40,000 functions is seeded in seconds and seeding never counts as the
// calls a test checks. Zips over Lambda's inline limit go through an S3 object of the account over the SDK.
import {CreateBucketCommand, PutObjectCommand, S3Client} from '@aws-sdk/client-s3'
import {randomBytes} from 'node:crypto'
import yazl from 'yazl'
import type {AwsServer, DirectCall, DirectReply} from './index.js'
import {partitionOf} from './auth.js'

const INLINE_LIMIT = 5 * 1024 * 1024

export interface SeedLayer {
  runtimes?: string[]
  architectures?: string[]
  description?: string
  /** The zip to publish; default a small one, or one of exactly `codeSize` bytes. */
  zip?: Buffer
  codeSize?: number
}

export interface SeedFunction {
  name: string
  runtime?: string
  architecture?: 'x86_64' | 'arm64'
  handler?: string
  layers?: string[]
  /** Tags of CreateFunction (user tags; CloudFormation's come from the server's `stacks` option). */
  tags?: Record<string, string>
  /** The code zip; default a small one, or one of exactly `codeSize` bytes (CodeSize as Lambda reports it). */
  zip?: Buffer
  codeSize?: number
}

export interface Seeder {
  /** Publishes a layer version as `accountId` in `region`; returns its LayerVersionArn. */
  layerVersion(accountId: string, region: string, name: string, layer?: SeedLayer): Promise<string>
  deleteLayerVersion(arn: string): Promise<void>
  /** Grants lambda:GetLayerVersion on a version to an account id or `*` (optionally one organization). */
  share(arn: string, principal: string, organizationId?: string): Promise<void>
  /** Creates a function (waits for nothing: with updateDelayMs 0 it is Active at once); returns its ARN. */
  function(accountId: string, region: string, fn: SeedFunction): Promise<string>
  /** Publishes a version of a function's $LATEST (PublishVersion); returns its number. */
  publishVersion(accountId: string, region: string, functionName: string): Promise<string>
  /** Creates an alias on a version (CreateAlias), optionally routing `weights` of the traffic to other versions. */
  alias(accountId: string, region: string, functionName: string, name: string, version: string, weights?: Record<string, number>): Promise<void>
}

/** A zip of `files`, or of one stored entry padded so the zip is exactly `size` bytes. */
export async function zipBytes(files: Record<string, string | Buffer> = {'index.js': 'exports.handler = async () => 1\n'}, size?: number): Promise<Buffer> {
  const build = (entries: Record<string, string | Buffer>, compress: boolean): Promise<Buffer> => {
    const zip = new yazl.ZipFile()
    for (const [name, content] of Object.entries(entries)) zip.addBuffer(Buffer.isBuffer(content) ? content : Buffer.from(content), name, {mtime: new Date(0), compress})
    zip.end()
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = []
      zip.outputStream.on('data', (chunk: Buffer) => chunks.push(chunk))
      zip.outputStream.on('end', () => resolve(Buffer.concat(chunks)))
      zip.outputStream.on('error', reject)
    })
  }
  if (size === undefined) return build(files, true)
  const overhead = (await build({'padding.bin': Buffer.alloc(0)}, false)).length
  if (size <= overhead) throw new Error(`seed: a zip needs more than ${overhead} bytes`)
  const exact = await build({'padding.bin': randomBytes(size - overhead)}, false)
  if (exact.length !== size) throw new Error(`seed: made a ${exact.length}-byte zip, wanted ${size}`)
  return exact
}

export function seeder(server: AwsServer): Seeder {
  const config = (accountId: string, region: string) => ({region, endpoint: server.endpoint, credentials: server.credentials(accountId), maxAttempts: 1})
  // Calls made in the same turn of the event loop (concurrent seeding) go to the server as one batch.
  let queue: Array<{call: DirectCall; resolve(reply: DirectReply): void; reject(error: Error): void}> = []
  const flush = (): void => {
    const batch = queue
    queue = []
    server.direct(batch.map((entry) => entry.call)).then(
      (replies) => batch.forEach((entry, index) => entry.resolve(replies[index]!)),
      (error: Error) => batch.forEach((entry) => entry.reject(error)),
    )
  }
  const direct = (call: DirectCall): Promise<DirectReply> =>
    new Promise((resolve, reject) => {
      if (queue.length === 0) setImmediate(flush)
      queue.push({call, resolve, reject})
    })
  /** One Lambda call applied directly; its JSON answer, or the AWS error it got, thrown with the error code as name. */
  const lambda = async (accountId: string, region: string, method: DirectCall['method'], path: string, body?: unknown): Promise<Record<string, unknown>> => {
    const reply = await direct({accountId, region, method, path, ...(body === undefined ? {} : {body})})
    if (reply?.error) throw Object.assign(new Error(`seed: ${method} ${path} as ${accountId} in ${region}: ${reply.error.code}: ${reply.error.message}`), {name: reply.error.code})
    return (reply?.body ?? {}) as Record<string, unknown>
  }
  const segment = (value: string | number): string => encodeURIComponent(String(value))
  const parse = (arn: string): {region: string; accountId: string; name: string; version: number} => {
    const match = /^arn:aws[a-z-]*:lambda:([^:]+):(\d{12}):layer:([^:]+):(\d+)$/.exec(arn)
    if (!match) throw new Error(`seed: not a layer version ARN: ${arn}`)
    return {region: match[1]!, accountId: match[2]!, name: match[3]!, version: Number(match[4])}
  }
  /** Inline when small, through an S3 object of the account when large (as Lambda requires). */
  const content = async (accountId: string, region: string, zip: Buffer): Promise<{ZipFile: string} | {S3Bucket: string; S3Key: string}> => {
    if (zip.length <= INLINE_LIMIT) return {ZipFile: zip.toString('base64')}
    const s3 = new S3Client(config(accountId, region))
    const bucket = `seed-${accountId}-${region}`
    await s3.send(new CreateBucketCommand({Bucket: bucket})).catch((error: Error) => {
      if (error.name !== 'BucketAlreadyOwnedByYou') throw error
    })
    const key = `seed/${randomBytes(8).toString('hex')}.zip`
    await s3.send(new PutObjectCommand({Bucket: bucket, Key: key, Body: zip}))
    return {S3Bucket: bucket, S3Key: key}
  }
  // The default function zip is the same for every function: made once.
  let defaultZip: Promise<Buffer> | undefined
  return {
    async layerVersion(accountId, region, name, layer = {}) {
      const zip = layer.zip ?? (await zipBytes({'nodejs/node_modules/seed/index.js': `module.exports = ${JSON.stringify(name)}\n`}, layer.codeSize))
      const published = await lambda(accountId, region, 'POST', `/2018-10-31/layers/${segment(name)}/versions`, {
        Content: await content(accountId, region, zip),
        ...(layer.runtimes ? {CompatibleRuntimes: layer.runtimes} : {}),
        ...(layer.architectures ? {CompatibleArchitectures: layer.architectures} : {}),
        ...(layer.description !== undefined ? {Description: layer.description} : {}),
      })
      return published.LayerVersionArn as string
    },
    async deleteLayerVersion(arn) {
      const {accountId, region, name, version} = parse(arn)
      await lambda(accountId, region, 'DELETE', `/2018-10-31/layers/${segment(name)}/versions/${version}`)
    },
    async share(arn, principal, organizationId) {
      const {accountId, region, name, version} = parse(arn)
      const statementId = `seed-${principal === '*' ? 'all' : principal}${organizationId ? `-${organizationId}` : ''}`
      await lambda(accountId, region, 'POST', `/2018-10-31/layers/${segment(name)}/versions/${version}/policy`, {StatementId: statementId, Action: 'lambda:GetLayerVersion', Principal: principal, ...(organizationId ? {OrganizationId: organizationId} : {})})
    },
    async function(accountId, region, fn) {
      const zip = fn.zip ?? (fn.codeSize === undefined ? await (defaultZip ??= zipBytes()) : await zipBytes(undefined, fn.codeSize))
      const created = await lambda(accountId, region, 'POST', '/2015-03-31/functions', {
        FunctionName: fn.name,
        Role: `arn:${partitionOf(region)}:iam::${accountId}:role/${fn.name}-role`,
        Runtime: fn.runtime ?? 'nodejs22.x',
        Handler: fn.handler ?? 'index.handler',
        Architectures: [fn.architecture ?? 'x86_64'],
        Code: await content(accountId, region, zip),
        ...(fn.layers ? {Layers: fn.layers} : {}),
        ...(fn.tags ? {Tags: fn.tags} : {}),
      })
      return created.FunctionArn as string
    },
    async publishVersion(accountId, region, functionName) {
      return (await lambda(accountId, region, 'POST', `/2015-03-31/functions/${segment(functionName)}/versions`, {})).Version as string
    },
    async alias(accountId, region, functionName, name, version, weights) {
      await lambda(accountId, region, 'POST', `/2015-03-31/functions/${segment(functionName)}/aliases`, {Name: name, FunctionVersion: version, ...(weights ? {RoutingConfig: {AdditionalVersionWeights: weights}} : {})})
    },
  }
}
