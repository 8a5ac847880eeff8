// The local AWS test server: one HTTP endpoint on 127.0.0.1 that the unmodified AWS SDK clients reach
// through an endpoint override (AWS_ENDPOINT_URL). Requests are routed by the service of their SigV4
// credential scope (lambda, s3, sts); the caller's account comes from the access key (session keys from
// sts:AssumeRole act as the role's account), the region from the scope. State is in memory, optionally
// persisted to SQLite. Faults (latency, throttling, 500s, dropped connections) are seeded per test.
// Every call is recorded (service, operation, account, region, status) for assertions.
//
// Use: `const server = await startAwsServer()`, then spawn the CLI with
// `{...server.writeAwsConfig(dir, {default: {accountId: '111111111111', region: 'us-east-1'}}), AWS_ENDPOINT_URL: server.endpoint}`
// (or pass `endpoint: server.endpoint` and `credentials: server.credentials(id)` to an SDK client).
// The server runs in the test's own process: spawn the CLI asynchronously (execFile/spawn), never
// with execFileSync, or the server cannot answer.
import {mkdirSync, renameSync, writeFileSync} from 'node:fs'
import {createServer, type IncomingMessage, type ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'
import {join} from 'node:path'
import {Accounts} from './auth.js'
import {ApiError, header, requestId, type Reply, type RequestContext, type ServiceName} from './common.js'
import {Faults, type FaultConfig} from './faults.js'
import {Lambda, lambdaError, lambdaRoute, type BlobStore} from './lambda.js'
import {memoryOnly, sqlitePersistence} from './persist.js'
import {S3, s3Error, s3Operation} from './s3.js'
import {Sts, stsError, type RoleRule} from './sts.js'

export type {FaultConfig} from './faults.js'

export interface AwsServerOptions {
  /** accessKeyId -> 12-digit accountId; default 111111111111 (AKIDACCOUNT1) and 222222222222 (AKIDACCOUNT2). */
  accounts?: Record<string, string>
  faults?: FaultConfig
  /** How long LastUpdateStatus stays InProgress (and State Pending after CreateFunction); default 0. */
  updateDelayMs?: number
  /** Persist state to this SQLite file (the demo). */
  dbFile?: string
  /** accountId -> AWS Organizations id, for layer grants narrowed by OrganizationId. */
  organizations?: Record<string, string>
  /** Roles whose trust policy requires an sts:ExternalId. Any other role of a known account may be assumed. */
  roles?: Record<string, RoleRule>
  /** Port on 127.0.0.1; default a free one. */
  port?: number
}

export interface CallRecord {
  service: 'lambda' | 's3' | 'sts'
  operation: string
  accountId: string
  region: string
  /** HTTP status sent; 0 when the connection was dropped. */
  status: number
}

export interface AwsProfile {
  /** Static keys of this account go into the credentials file. */
  accountId?: string
  /** Assume this role (with sourceProfile's credentials). */
  roleArn?: string
  sourceProfile?: string
  externalId?: string
  region?: string
}

export interface AwsServer {
  /** http://127.0.0.1:PORT */
  endpoint: string
  calls: CallRecord[]
  setFaults(f: FaultConfig | undefined): void
  credentials(accountId: string): {accessKeyId: string; secretAccessKey: string}
  /** Writes `config` and `credentials` files for these profiles into `dir`; returns the env a spawned CLI needs. */
  writeAwsConfig(dir: string, profiles: Record<string, AwsProfile>): {AWS_CONFIG_FILE: string; AWS_SHARED_CREDENTIALS_FILE: string}
  close(): Promise<void>
}

export const DEFAULT_ACCOUNTS: Readonly<Record<string, string>> = {AKIDACCOUNT1: '111111111111', AKIDACCOUNT2: '222222222222'}

const CONTENT_PREFIX = '/__aws-test-server/content/'

/** Which service a request is for: the SigV4 scope says; without one, guess from its shape. */
function serviceOf(req: IncomingMessage, body: Buffer): ServiceName {
  const scope = /Credential=[^/]+\/\d{8}\/[^/]+\/([^/]+)\//.exec(req.headers.authorization ?? '')
  if (scope && (scope[1] === 'lambda' || scope[1] === 's3' || scope[1] === 'sts')) return scope[1]
  if (/^\/20(15-03-31|18-10-31)\//.test(req.url ?? '')) return 'lambda'
  if (req.method === 'POST' && /(^|&)Action=/.test(body.toString('utf8'))) return 'sts'
  return 's3'
}

function operationOf(service: ServiceName, req: IncomingMessage, url: URL, body: Buffer): string {
  if (service === 'lambda') return lambdaRoute(req.method ?? 'GET', url).operation
  if (service === 'sts') return Sts.operation(body)
  return s3Operation(req.method ?? 'GET', url, header(req.headers, 'host') ?? '', req.headers)
}

function errorReply(service: ServiceName, error: ApiError, id: string, method: string): Reply {
  if (service === 'lambda') return lambdaError(error, id)
  if (service === 'sts') return stsError(error, id)
  return s3Error(error, id, method)
}

function throttleError(service: ServiceName): ApiError {
  if (service === 's3') return new ApiError(503, 'SlowDown', 'Please reduce your request rate.')
  if (service === 'sts') return new ApiError(400, 'Throttling', 'Rate exceeded')
  return new ApiError(429, 'TooManyRequestsException', 'Rate exceeded', {Reason: 'CallerRateLimitExceeded'})
}

function internalError(service: ServiceName): ApiError {
  if (service === 's3') return new ApiError(500, 'InternalError', 'We encountered an internal error. Please try again.')
  if (service === 'sts') return new ApiError(500, 'InternalFailure', 'The request processing has failed because of an unknown error, exception or failure.')
  return new ApiError(500, 'ServiceException', 'An internal error occurred.')
}

export async function startAwsServer(options: AwsServerOptions = {}): Promise<AwsServer> {
  const accounts = new Accounts(options.accounts ?? DEFAULT_ACCOUNTS)
  const faults = new Faults(options.faults)
  const persistence = options.dbFile ? sqlitePersistence(options.dbFile) : memoryOnly
  const blobMap = new Map<string, Buffer>()
  const blobs: BlobStore = {get: (id) => blobMap.get(id), set: (id, bytes) => void blobMap.set(id, bytes), delete: (id) => void blobMap.delete(id)}
  const s3 = new S3(persistence)
  const lambda = new Lambda(persistence, blobs, s3, {updateDelayMs: options.updateDelayMs ?? 0, organizations: options.organizations ?? {}})
  const sts = new Sts(accounts, options.roles)
  const calls: CallRecord[] = []
  let endpoint = ''

  const send = (res: ServerResponse, reply: Reply, id: string, service: ServiceName): void => {
    const headers: Record<string, string> = {...(service === 's3' ? {'x-amz-request-id': id, 'x-amz-id-2': id} : {'x-amzn-requestid': id}), ...reply.headers}
    const body = reply.body === undefined ? Buffer.alloc(0) : Buffer.isBuffer(reply.body) ? reply.body : Buffer.from(reply.body, 'utf8')
    if (headers['content-length'] === undefined) headers['content-length'] = String(body.length)
    res.writeHead(reply.status, headers)
    res.end(body)
  }

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const body = Buffer.concat(chunks)
    const rawUrl = req.url ?? '/'
    const url = new URL(rawUrl, 'http://127.0.0.1')
    const method = req.method ?? 'GET'
    if (url.pathname.startsWith(CONTENT_PREFIX) && (method === 'GET' || method === 'HEAD')) {
      const bytes = blobs.get(url.pathname.slice(CONTENT_PREFIX.length))
      res.writeHead(bytes ? 200 : 404, {'content-type': bytes ? 'application/zip' : 'text/plain', 'content-length': String(bytes ? bytes.length : 9)})
      res.end(bytes ?? 'Not Found')
      return
    }
    const service = serviceOf(req, body)
    const operation = operationOf(service, req, url, body)
    const id = requestId()
    const record: CallRecord = {service, operation, accountId: '', region: '', status: 0}
    calls.push(record)
    const reply = async (): Promise<Reply | 'drop'> => {
      try {
        const caller = accounts.authenticate({method, rawUrl, headers: req.headers, body}, service)
        record.accountId = caller.accountId
        record.region = caller.region
        const latency = faults.latency(operation)
        if (latency > 0) await new Promise((resolve) => setTimeout(resolve, latency))
        const fault = faults.decide(operation)
        if (fault === 'drop') return 'drop'
        if (fault === 'throttle') throw throttleError(service)
        if (fault === 'error') throw internalError(service)
        const ctx: RequestContext = {service, operation, method, url, headers: req.headers, body, accountId: caller.accountId, region: caller.region, callerArn: caller.arn, endpoint}
        if (service === 'lambda') return await lambda.handle(ctx)
        if (service === 'sts') return sts.handle(ctx, caller)
        return s3.handle(ctx)
      } catch (error) {
        if (error instanceof ApiError) return errorReply(service, error, id, method)
        return errorReply(service, new ApiError(500, service === 's3' ? 'InternalError' : service === 'sts' ? 'InternalFailure' : 'ServiceException', `aws-server bug: ${(error as Error).stack ?? String(error)}`), id, method)
      }
    }
    const result = await reply()
    if (result === 'drop') {
      req.socket.destroy()
      return
    }
    record.status = result.status
    send(res, result, id, service)
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: Error) => {
      if (!res.headersSent) res.writeHead(500, {'content-type': 'text/plain'})
      res.end(`aws-server bug: ${error.stack ?? error.message}`)
    })
  })
  server.keepAliveTimeout = 60_000
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve())
  })
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

  return {
    endpoint,
    calls,
    setFaults: (config) => faults.set(config),
    credentials: (accountId) => accounts.credentials(accountId),
    writeAwsConfig: (dir, profiles) => writeAwsConfig(dir, profiles, endpoint, (accountId) => accounts.credentials(accountId)),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => {
          persistence.close()
          resolve()
        })
      }),
  }
}

function writeAtomic(file: string, text: string): void {
  const temp = `${file}.${process.pid}.tmp`
  writeFileSync(temp, text, {mode: 0o600})
  renameSync(temp, file)
}

/** Shared config and credentials files (INI) for the given profiles, each pointing at this server. */
export function writeAwsConfig(
  dir: string,
  profiles: Record<string, AwsProfile>,
  endpoint: string,
  credentials: (accountId: string) => {accessKeyId: string; secretAccessKey: string},
): {AWS_CONFIG_FILE: string; AWS_SHARED_CREDENTIALS_FILE: string} {
  mkdirSync(dir, {recursive: true})
  const config: string[] = []
  const creds: string[] = []
  for (const [name, profile] of Object.entries(profiles)) {
    if (!/^[\w.-]+$/.test(name)) throw new Error(`aws-server: profile name ${JSON.stringify(name)} must be letters, digits, '.', '_' or '-'`)
    if (profile.roleArn && !profile.sourceProfile) throw new Error(`aws-server: profile ${name} has roleArn but no sourceProfile`)
    if (profile.sourceProfile && !profiles[profile.sourceProfile]) throw new Error(`aws-server: profile ${name} names sourceProfile ${profile.sourceProfile}, which is not in the list`)
    if (!profile.accountId && !profile.roleArn) throw new Error(`aws-server: profile ${name} needs an accountId or a roleArn`)
    const lines = [name === 'default' ? '[default]' : `[profile ${name}]`]
    if (profile.region) lines.push(`region = ${profile.region}`)
    lines.push(`endpoint_url = ${endpoint}`)
    if (profile.roleArn) {
      lines.push(`role_arn = ${profile.roleArn}`, `source_profile = ${profile.sourceProfile}`)
      if (profile.externalId) lines.push(`external_id = ${profile.externalId}`)
    }
    config.push(lines.join('\n'))
    if (profile.accountId && !profile.roleArn) {
      const keys = credentials(profile.accountId)
      creds.push(`[${name}]\naws_access_key_id = ${keys.accessKeyId}\naws_secret_access_key = ${keys.secretAccessKey}`)
    }
  }
  const files = {AWS_CONFIG_FILE: join(dir, 'config'), AWS_SHARED_CREDENTIALS_FILE: join(dir, 'credentials')}
  writeAtomic(files.AWS_CONFIG_FILE, `${config.join('\n\n')}\n`)
  writeAtomic(files.AWS_SHARED_CREDENTIALS_FILE, `${creds.join('\n\n')}\n`)
  return files
}
