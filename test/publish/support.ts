// Test support for publish/attach end-to-end tests: a project in a temp dir (layers.yaml, dir layers,
// function sources), AWS config files pointing at the local AWS test server, and the built CLI
// (`layers lock`, `publish`, `attach`) spawned with them.
import {spawn} from 'node:child_process'
import {mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {CreateFunctionCommand, GetLayerVersionCommand, LambdaClient, ListLayerVersionsCommand} from '@aws-sdk/client-lambda'
import yazl from 'yazl'
import type {Lockfile} from '../../src/lock/types.js'
import type {AwsServer, CallRecord} from '../../aws-double/index.js'
import {BIN, runCli as runShared, type CliResult as SharedCliResult} from '../support/cli.js'

export const DEV = '111111111111'
export const PROD = '222222222222'
export const EU = 'eu-west-1'
export const US = 'us-east-1'
export const ROLE = `arn:aws:iam::${PROD}:role/deployer`
export const EXTERNAL_ID = 'layers-e2e'
/** The four account x region targets of accountsYaml(). */
export const TARGETS = [
  [DEV, EU],
  [DEV, US],
  [PROD, EU],
  [PROD, US],
] as const

/**
 * A run of the built CLI (test/support/cli.ts) with `status`: its exit code, or null when a signal ended
 * it or it never ran, so neither can pass for an exit code the test expects.
 */
export interface CliResult extends SharedCliResult {
  status: number | null
}

export interface Project {
  dir: string
  env: NodeJS.ProcessEnv
  write(file: string, text: string): void
  read(file: string): string
  /** Runs `layers lock --json [LAYER...]` (dir layers need no registry; arn layers are pinned over AWS); throws when it fails. */
  lock(names?: string[]): Promise<CliResult>
  lockfile(): Lockfile
  /** Runs the CLI to the end (asynchronously: the test server lives in this process). */
  run(args: string[], extraEnv?: NodeJS.ProcessEnv): Promise<CliResult>
  /** Starts the CLI without waiting (for kill tests). */
  start(args: string[]): ReturnType<typeof spawn>
  remove(): void
}

/** dev is reached through a named profile; prod by assuming ROLE (with its external id) from the default credentials. */
export function accountsYaml(regions: string[] = [EU, US]): string {
  return `accounts:
  dev:
    id: "${DEV}"
    profile: dev
    regions: [${regions.join(', ')}]
  prod:
    id: "${PROD}"
    roleArn: ${ROLE}
    externalId: ${EXTERNAL_ID}
    regions: [${regions.join(', ')}]
`
}

/** The roles accountsYaml() relies on, for startAwsServer: ROLE, with its external id, trusts dev (the default credentials). */
export const ROLES = {[ROLE]: {externalId: EXTERNAL_ID, trust: [DEV]}}

/**
 * A manifest over accountsYaml() in EU only, x86_64, nodejs22.x: the dir layers `config` (shared with
 * dev and prod) and `tools`, and the function lines given (YAML entries indented under `functions:`).
 */
export function configToolsManifest(bucket: string, functions: string): string {
  return `version: 1
settings:
  bucket: "${bucket}"
  regions: [${EU}]
  architectures: [x86_64]
  runtimes: [nodejs22.x]
${accountsYaml()}
layers:
  config:
    dir: layers/config
    share: {accounts: [dev, prod]}
  tools:
    dir: layers/tools
functions:
${functions}`
}

/**
 * A manifest with the one account dev (profile dev) in `region`, x86_64, the dir layer `config`, and
 * a function per name (source fns/api, handler index.handler, layer config) on `runtime`.
 */
export function devConfigManifest(options: {bucket: string; region: string; runtime: string; functions: string[]}): string {
  const {bucket, region, runtime, functions} = options
  return `version: 1
settings:
  bucket: "${bucket}"
  architectures: [x86_64]
  runtimes: [${runtime}]
accounts:
  dev: {id: "${DEV}", profile: dev, regions: [${region}]}
layers:
  config:
    dir: layers/config
functions:
${functions.map((name) => `  ${name}: {source: fns/api, handler: index.handler, runtime: ${runtime}, architecture: x86_64, layers: [config], accounts: [dev]}\n`).join('')}`
}

/** Points the project's npm at `registryUrl` (the loopback test registry), with a cache and user config of its own. */
export function useRegistry(project: Project, registryUrl: string): void {
  Object.assign(project.env, {npm_config_registry: registryUrl, npm_config_cache: path.join(project.dir, '.npm-cache'), npm_config_userconfig: path.join(project.dir, 'npmrc')})
}

export function makeProject(server: AwsServer, files: Record<string, string>): Project {
  const dir = mkdtempSync(path.join(tmpdir(), 'layers-publish-e2e-'))
  const write = (file: string, text: string) => {
    mkdirSync(path.dirname(path.join(dir, file)), {recursive: true})
    writeFileSync(path.join(dir, file), text)
  }
  for (const [file, text] of Object.entries(files)) write(file, text)
  const aws = server.writeAwsConfig(path.join(dir, '.aws'), {default: {accountId: DEV}, dev: {accountId: DEV}})
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: dir,
    AWS_ENDPOINT_URL: server.endpoint,
    ...aws,
    AWS_EC2_METADATA_DISABLED: 'true',
    NO_COLOR: '1',
  }
  const lockPath = path.join(dir, 'lockfile.json')
  const project: Project = {
    dir,
    env,
    write,
    read: (file) => readFileSync(path.join(dir, file), 'utf8'),
    lockfile: () => JSON.parse(readFileSync(lockPath, 'utf8')) as Lockfile,
    async lock(names = []) {
      const result = await runCli(dir, env, ['lock', '--json', ...names])
      if (result.status !== 0) throw new Error(`layers lock ${names.join(' ')} failed (${result.status}): ${result.stderr}`)
      return result
    },
    run: (args, extraEnv = {}) => runCli(dir, {...env, ...extraEnv}, args),
    start: (args) => spawn(process.execPath, [BIN, ...args], {cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe']}),
    remove: () => rmSync(dir, {recursive: true, force: true}),
  }
  return project
}

/** Runs the built CLI in `cwd` with exactly `env` (asynchronously: the test server answers from this process). */
export async function runCli(cwd: string, env: NodeJS.ProcessEnv, args: string[]): Promise<CliResult> {
  const result = await runShared(args, {cwd, baseEnv: env})
  return {...result, status: result.signal !== null || result.spawnError !== undefined ? null : result.code}
}

/** A Lambda client of the test server acting as `accountId`. */
export function lambdaAs(server: AwsServer, accountId: string, region: string): LambdaClient {
  return new LambdaClient({endpoint: server.endpoint, region, credentials: server.credentials(accountId), maxAttempts: 10})
}

/** A tiny function package (index.mjs and index.js exporting a handler). */
export function functionZip(): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const file = new yazl.ZipFile()
    file.addBuffer(Buffer.from('export const handler = async () => "ok"\n'), 'index.mjs', {mtime: new Date(0)})
    file.addBuffer(Buffer.from('exports.handler = async () => "ok"\n'), 'index.js', {mtime: new Date(0)})
    file.end()
    const chunks: Buffer[] = []
    file.outputStream.on('data', (chunk: Buffer) => chunks.push(chunk)).on('end', () => resolve(Buffer.concat(chunks))).on('error', reject)
  })
}

/** Deploys a function in the test server, as the account itself would. */
export async function createFunction(server: AwsServer, account: string, region: string, name: string, architecture: 'arm64' | 'x86_64' = 'x86_64', runtime = 'nodejs22.x'): Promise<void> {
  const client = lambdaAs(server, account, region)
  await client.send(
    new CreateFunctionCommand({FunctionName: name, Runtime: runtime as never, Role: `arn:aws:iam::${account}:role/fn`, Handler: 'index.handler', Code: {ZipFile: await functionZip()}, Architectures: [architecture]}),
  )
  client.destroy()
}

/** Every version of a layer with its CodeSha256, as the account sees it. */
export async function versionsOf(server: AwsServer, accountId: string, region: string, layer: string): Promise<Array<{version: number; codeSha256: string; arn: string}>> {
  const client = lambdaAs(server, accountId, region)
  const listed = await client.send(new ListLayerVersionsCommand({LayerName: layer})).catch((error: Error) => {
    if (error.name === 'ResourceNotFoundException') return {LayerVersions: []}
    throw error
  })
  const out: Array<{version: number; codeSha256: string; arn: string}> = []
  for (const item of listed.LayerVersions ?? []) {
    const full = await client.send(new GetLayerVersionCommand({LayerName: layer, VersionNumber: item.Version!}))
    out.push({version: item.Version!, codeSha256: full.Content!.CodeSha256!, arn: item.LayerVersionArn!})
  }
  client.destroy()
  return out.sort((a, b) => a.version - b.version)
}

/** A call on a team-state object (the leases under `.layers-state/`), not on a layer artifact. */
export function isStateCall(call: CallRecord): boolean {
  return call.key?.includes('.layers-state/') ?? false
}

/** Operations the test server saw that change state. */

export const WRITE_OPERATIONS = new Set([
  'PublishLayerVersion',
  'AddLayerVersionPermission',
  'RemoveLayerVersionPermission',
  'DeleteLayerVersion',
  'UpdateFunctionConfiguration',
  'UpdateFunctionCode',
  'CreateFunction',
  'DeleteFunction',
  'PutObject',
  'CreateMultipartUpload',
  'UploadPart',
  'CompleteMultipartUpload',
  'CreateBucket',
])
