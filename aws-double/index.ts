// The local AWS test server: one HTTP endpoint on 127.0.0.1 that the unmodified AWS SDK clients reach
// through an endpoint override (AWS_ENDPOINT_URL). Requests are routed by the service of their SigV4
// credential scope (lambda, s3, sts, ssm, ecr, and the organizations/account calls `layers audit` makes); the caller's account comes from the access key (session keys from
// sts:AssumeRole act as the role's account), the region from the scope. State is in memory, optionally
// persisted to SQLite. Faults (latency, throttling, 500s, dropped connections, stalls, lost answers, held
// requests) are seeded per test.
// Every call is recorded (service, operation, account, region, status) for assertions.
//
// Use: `const server = await startAwsServer()`, then spawn the CLI with
// `{...server.writeAwsConfig(dir, {default: {accountId: '111111111111', region: 'us-east-1'}}), AWS_ENDPOINT_URL: server.endpoint}`
// (or pass `endpoint: server.endpoint` and `credentials: server.credentials(id)` to an SDK client).
// The server runs in a worker thread, so it answers while the test blocks in spawnSync; `calls` and
// setFaults go through shared memory and are exact at any moment. Under vitest (TypeScript sources)
// the worker's code is transpiled once into node_modules/.cache/layers-aws-server.
import {createHash} from 'node:crypto'
import {existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync} from 'node:fs'
import {createServer as createNetServer, type AddressInfo, type Socket} from 'node:net'
import {dirname, join} from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'
import {Worker} from 'node:worker_threads'
import {Accounts} from './auth.js'
import {callReader, createChannels, writeFaults} from './channel.js'
import {Faults, type FaultConfig} from './faults.js'
import {DEFAULT_ACCOUNTS} from './common.js'
import type {RoleRule} from './sts.js'
import type {EcrOptions} from './ecr.js'

export type {FaultConfig} from './faults.js'

export interface AwsServerOptions {
  /** accessKeyId -> 12-digit accountId; default 111111111111 (AKIDACCOUNT1) and 222222222222 (AKIDACCOUNT2). */
  accounts?: Record<string, string>
  faults?: FaultConfig
  /** How long LastUpdateStatus stays InProgress (and State Pending after CreateFunction); default 0. */
  updateDelayMs?: number
  /** Persist state to this SQLite file (the demo). */
  dbFile?: string
  /**
   * accountId -> AWS Organizations id: layer grants narrowed by OrganizationId, and Organizations
   * ListAccounts (answered for the first account named for an organization, its management account).
   */
  organizations?: Record<string, string>
  /** accountId -> name ListAccounts reports (default account-<id>). */
  accountNames?: Record<string, string>
  /** accountId -> opt-in regions Account ListRegions reports ENABLED (default regions are ENABLED_BY_DEFAULT). */
  optInRegions?: Record<string, string[]>
  /**
   * The roles that exist, each with its trust policy: the principals it trusts (default: its own account
   * only) and an optional required sts:ExternalId. AssumeRole of any other role is AccessDenied.
   */
  roles?: Record<string, RoleRule>
  /**
   * Function (`name`, or `accountId/region/name`) -> LastUpdateStatusReason: the next
   * UpdateFunctionConfiguration of that function is accepted, then ends LastUpdateStatus Failed with
   * this reason, and the function keeps its previous configuration (as Lambda aborts a failed update).
   */
  failUpdates?: Record<string, string>
  /** The day (YYYY-MM-DD) AWS's runtime block dates are compared with; default today (UTC). */
  today?: string
  /**
   * Function (`name`, or `accountId/region/name`) -> the CloudFormation stack that created it: its
   * CreateFunction adds CloudFormation's `aws:cloudformation:*` tags (stack-name, stack-id, logical-id).
   */
  stacks?: Record<string, string>
  /**
   * SSM public parameters (name under `/aws/service/` -> String value, `{region}` filled in per region),
   * readable with GetParameter(s)/GetParametersByPath from every account and region (aws-double/ssm.ts).
   */
  publicParameters?: Record<string, string>
  /**
   * The OCI registry behind ECR (test/support/oci-registry.ts: its `url` and `password`): what
   * GetAuthorizationToken hands out and where DescribeImages/BatchGetImage read (aws-double/ecr.ts),
   * and where Lambda looks up the ImageUri of CreateFunction/UpdateFunctionCode (lambda-images.ts);
   * without it no image exists.
   */
  ecr?: EcrOptions
  /**
   * How far the server's clock is ahead of the host's (negative: behind), in ms; default 0. Signatures
   * are checked against it as AWS checks them (X-Amz-Date more than 5 minutes away, 15 for S3, STS and
   * ECR, is refused: InvalidSignatureException "Signature expired: ..." and its kin), every answer's Date
   * header and every timestamp the server hands out (LastModified, credentials' Expiration) are on it.
   */
  clockOffsetMs?: number
  /** Port on 127.0.0.1; default a free one. */
  port?: number
}

export interface CallRecord {
  service: 'lambda' | 's3' | 'sts' | 'organizations' | 'account' | 'ssm' | 'ecr'
  /** The API operation; `DownloadContent` for a GET or HEAD of a Content Location URL (unsigned: accountId and region ''). */
  operation: string
  accountId: string
  region: string
  /** HTTP status sent; 0 when the connection was dropped, stalled, held or discarded. */
  status: number
  /**
   * A fault that hit this call: `drop` (destroyed before handling), `stall` (never answered), `held`
   * (reported when a held request arrives, before it is applied; a second record follows), `discarded`
   * (a held request whose client went away: never applied), `lost` (applied, then the answer was lost:
   * status 0 for a reset, 500 for an error answer).
   */
  fault?: 'drop' | 'stall' | 'held' | 'discarded' | 'lost'
  /** S3 object calls: the object key. */
  key?: string
  /** When the server answered (ms since the epoch). */
  at?: number
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

/**
 * A Lambda API call (its REST method, path with query, and JSON body, as the SDK would send it) made as
 * `accountId` in `region`, applied straight to the server's state: the same handler and rules, but no
 * HTTP, signing, faults, latency, quota or call record. For seeding large states fast (aws-double/seed.ts).
 */
export interface DirectCall {
  accountId: string
  region: string
  method: 'GET' | 'POST' | 'PUT' | 'DELETE'
  path: string
  body?: unknown
}

/** A direct call's answer: the HTTP status and the JSON body, or the AWS error. */
export interface DirectReply {
  status: number
  body?: unknown
  error?: {code: string; message: string}
}

export interface AwsServer {
  /** http://127.0.0.1:PORT */
  endpoint: string
  calls: CallRecord[]
  /** Applies Lambda calls straight to the state, in order (see DirectCall); the replies in the same order. */
  direct(calls: DirectCall[]): Promise<DirectReply[]>
  setFaults(f: FaultConfig | undefined): void
  credentials(accountId: string): {accessKeyId: string; secretAccessKey: string}
  /** Writes `config` and `credentials` files for these profiles into `dir`; returns the env a spawned CLI needs. */
  writeAwsConfig(dir: string, profiles: Record<string, AwsProfile>): {AWS_CONFIG_FILE: string; AWS_SHARED_CREDENTIALS_FILE: string}
  close(): Promise<void>
}

export {DEFAULT_ACCOUNTS}

/** Compiled JavaScript of the worker: beside this file when it is compiled, else transpiled once into node_modules/.cache. */
async function workerUrl(): Promise<URL> {
  const here = fileURLToPath(import.meta.url)
  if (here.endsWith('.js')) return new URL('./worker.js', import.meta.url)
  return pathToFileURL(join(await transpiled(dirname(here)), 'worker.js'))
}

/** Transpiles this directory's TypeScript (type-stripping only) into a cache keyed by the sources' hash. */
async function transpiled(sourceDir: string): Promise<string> {
  const files = readdirSync(sourceDir).filter((file) => file.endsWith('.ts')).sort()
  const sources = files.map((file) => [file, readFileSync(join(sourceDir, file), 'utf8')] as const)
  const hash = createHash('sha256')
  for (const [file, text] of sources) hash.update(`${file}\0${text}\0`)
  const digest = hash.digest('hex').slice(0, 16)
  const root = join(sourceDir, '../node_modules/.cache/layers-aws-server')
  const target = join(root, digest)
  if (existsSync(join(target, 'worker.js'))) return target
  const ts = (await import('typescript')).default
  const temp = join(root, `${digest}.${process.pid}.${Date.now()}.tmp`)
  mkdirSync(temp, {recursive: true})
  writeFileSync(join(temp, 'package.json'), '{"type": "module"}\n')
  for (const [file, text] of sources) {
    const output = ts.transpileModule(text, {fileName: file, compilerOptions: {module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: false}})
    writeFileSync(join(temp, file.replace(/\.ts$/, '.js')), output.outputText)
  }
  try {
    renameSync(temp, target)
  } catch {
    // Another test process got there first: its output is the same.
    rmSync(temp, {recursive: true, force: true})
  }
  // Outputs of earlier sources are no longer used.
  for (const entry of readdirSync(root)) if (/^[0-9a-f]{16}$/.test(entry) && entry !== digest) rmSync(join(root, entry), {recursive: true, force: true})
  return target
}

export async function startAwsServer(options: AwsServerOptions = {}): Promise<AwsServer> {
  const accounts = new Accounts(options.accounts ?? DEFAULT_ACCOUNTS)
  new Faults(options.faults) // validates the rates now, in the caller's stack
  const channels = createChannels()
  const worker = new Worker(await workerUrl(), {workerData: {options, channels}})
  const started = await new Promise<{endpoint?: string; error?: string}>((resolve, reject) => {
    worker.once('message', resolve)
    worker.once('error', reject)
    worker.once('exit', (code) => reject(new Error(`aws-server: worker exited with code ${code} before listening`)))
  })
  if (!started.endpoint) {
    await worker.terminate()
    throw new Error(`aws-server: could not start: ${started.error}`)
  }
  const endpoint = started.endpoint
  // A forgotten close() must not keep the test process alive; close() holds it until the state is saved.
  let exited = false
  worker.once('exit', () => {
    exited = true
  })
  worker.on('error', (error) => process.stderr.write(`aws-server: worker failed: ${error.stack ?? error.message}\n`))
  worker.unref()
  const readCalls = callReader(channels.calls)
  const calls: CallRecord[] = []
  let closed: Promise<void> | undefined
  // Direct batches in flight, by id; the worker is kept referenced while there are any (the caller may
  // have nothing else keeping its process alive while it waits).
  const batches = new Map<number, {resolve(replies: DirectReply[]): void; reject(error: Error): void}>()
  let batchId = 0
  worker.on('message', (message: {direct?: number; replies?: DirectReply[]; failed?: string}) => {
    if (typeof message?.direct !== 'number') return
    const batch = batches.get(message.direct)
    batches.delete(message.direct)
    if (batches.size === 0) worker.unref()
    if (message.failed !== undefined) batch?.reject(new Error(`aws-server: direct call failed: ${message.failed}`))
    else batch?.resolve(message.replies ?? [])
  })
  return {
    endpoint,
    direct: (batch) =>
      new Promise<DirectReply[]>((resolve, reject) => {
        if (exited) return reject(new Error('aws-server: the server is closed'))
        const id = batchId++
        if (batches.size === 0) worker.ref()
        batches.set(id, {resolve, reject})
        worker.postMessage({direct: id, calls: batch})
      }),
    get calls() {
      for (const call of readCalls()) calls.push(call)
      return calls
    },
    setFaults: (config) => {
      new Faults(config)
      writeFaults(channels.faults, config)
    },
    credentials: (accountId) => accounts.credentials(accountId),
    writeAwsConfig: (dir, profiles) => writeAwsConfig(dir, profiles, endpoint, (accountId) => accounts.credentials(accountId)),
    close: () => {
      closed ??= new Promise<void>((resolve) => {
        if (exited) return resolve()
        worker.ref()
        worker.once('exit', () => resolve())
        const onClosed = (message: {closed?: boolean}) => {
          if (!message?.closed) return
          worker.off('message', onClosed)
          void worker.terminate()
        }
        worker.on('message', onClosed)
        worker.postMessage('close')
      })
      return closed
    },
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

/**
 * A loopback endpoint that accepts connections and never answers (reads and ignores the request),
 * for tests of stalled endpoints that need no AWS behaviour at all. `connections` counts the accepted ones.
 */
export async function blackHoleEndpoint(): Promise<{endpoint: string; readonly connections: number; close(): Promise<void>}> {
  const sockets = new Set<Socket>()
  let connections = 0
  const server = createNetServer((socket) => {
    connections++
    sockets.add(socket)
    socket.on('data', () => {})
    socket.on('error', () => {})
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const {port} = server.address() as AddressInfo
  return {
    endpoint: `http://127.0.0.1:${port}`,
    get connections() {
      return connections
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      }),
  }
}

/** A loopback endpoint whose port refuses connections: bound once for a free port number, then closed. */
export async function refusedEndpoint(): Promise<string> {
  const server = createNetServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const {port} = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return `http://127.0.0.1:${port}`
}
