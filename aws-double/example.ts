// The AWS side of a layers project, for the demo, `npm run demo:server` and the tests that run the
// example project (layers.yaml, examples/): derived from a manifest's text, the accounts it names (one
// access key each), the roles it assumes (trusting the default credentials' account, with their
// external ids), the accounts as one AWS Organization whose management account holds the default
// credentials (each with OrganizationAccountAccessRole, for `audit --org`), the AWS config profiles it
// uses (`default` plus each account's `profile`), the AWS-provided layers it pins (their account's
// versions up to the pinned one and one newer, the pinned and newer ones shared with everyone, as AWS
// does, in every region the manifest uses), and optionally the artifact buckets and the functions
// (as the infrastructure and a deployment tool would have made them).
import {GetFunctionCommand, LambdaClient, ListLayerVersionsCommand} from '@aws-sdk/client-lambda'
import {CreateBucketCommand, S3Client} from '@aws-sdk/client-s3'
import {parse} from 'yaml'
import {startAwsServer, type AwsProfile, type AwsServer} from './index.js'
import {seeder, zipBytes} from './seed.js'
import type {RoleRule} from './sts.js'

export const ORGANIZATION_ID = 'o-exampleorg1'
export const ORGANIZATION_ROLE = 'OrganizationAccountAccessRole'

export interface ExampleAccount {
  name: string
  id: string
  profile?: string
  roleArn?: string
  externalId?: string
  regions: string[]
}

export interface ExampleFunction {
  key: string
  name: string
  runtime: string
  handler: string
  architecture: 'x86_64' | 'arm64'
  /** Account ids and regions the function is deployed to. */
  targets: Array<{accountId: string; region: string}>
}

export interface ExampleSetup {
  accounts: ExampleAccount[]
  /** The account of the `default` profile: the manifest's first account with a profile (else its first). */
  defaultAccountId: string
  /** accessKeyId -> account id, for the server. */
  accessKeys: Record<string, string>
  roles: Record<string, RoleRule>
  organizations: Record<string, string>
  profiles: Record<string, AwsProfile>
  /** AWS-provided layers the manifest pins (arn:aws:lambda:{region}:ACCOUNT:layer:NAME:VERSION). */
  providedLayers: Array<{layer: string; accountId: string; name: string; version: number}>
  /** Every region a manifest account uses. */
  regions: string[]
  /** The artifact buckets, per account and region (settings.bucket with {accountId} and {region}). */
  buckets: Array<{accountId: string; region: string; name: string}>
  functions: ExampleFunction[]
}

type Doc = {
  settings?: {regions?: string[]; bucket?: string}
  accounts?: Record<string, {id?: string | number; profile?: string; roleArn?: string; externalId?: string; regions?: string[]}>
  layers?: Record<string, {arn?: unknown}>
  functions?: Record<string, {name?: string; runtime?: string; handler?: string; architecture?: 'x86_64' | 'arm64'; accounts?: string[]}>
}

/** What the server needs for the manifest in `manifestText` (plain data, no I/O). */
export function exampleSetup(manifestText: string): ExampleSetup {
  const doc = (parse(manifestText) ?? {}) as Doc
  const defaultRegions = doc.settings?.regions ?? ['us-east-1']
  const accounts: ExampleAccount[] = Object.entries(doc.accounts ?? {}).map(([name, account]) => ({
    name,
    id: String(account.id),
    ...(account.profile ? {profile: account.profile} : {}),
    ...(account.roleArn ? {roleArn: account.roleArn} : {}),
    ...(account.externalId ? {externalId: account.externalId} : {}),
    regions: account.regions ?? defaultRegions,
  }))
  const providedLayers = Object.entries(doc.layers ?? {}).flatMap(([layer, spec]) => {
    const match = typeof spec?.arn === 'string' ? /^arn:aws:lambda:[^:]+:(\d{12}):layer:([^:]+):(\d+)$/.exec(spec.arn) : null
    return match ? [{layer, accountId: match[1]!, name: match[2]!, version: Number(match[3])}] : []
  })
  const accessKeys: Record<string, string> = {}
  for (const id of new Set([...accounts.map((account) => account.id), ...providedLayers.map((layer) => layer.accountId)])) accessKeys[`AKIDEXAMPLE${id}`] = id
  const defaultAccountId = (accounts.find((account) => account.profile) ?? accounts[0])?.id ?? '111111111111'
  // A role is assumed with the default credentials, or with its account's own profile when it has one.
  const roles: Record<string, RoleRule> = {}
  const organizations: Record<string, string> = {}
  for (const account of [accounts.find((candidate) => candidate.id === defaultAccountId), ...accounts]) {
    if (!account || organizations[account.id]) continue
    organizations[account.id] = ORGANIZATION_ID
    roles[`arn:aws:iam::${account.id}:role/${ORGANIZATION_ROLE}`] = {trust: [defaultAccountId]}
  }
  for (const account of accounts) {
    if (account.roleArn) roles[account.roleArn] = {trust: [account.profile ? account.id : defaultAccountId], ...(account.externalId ? {externalId: account.externalId} : {})}
  }
  const firstRegion = defaultRegions[0]!
  const profiles: Record<string, AwsProfile> = {default: {accountId: defaultAccountId, region: firstRegion}}
  for (const account of accounts) if (account.profile) profiles[account.profile] = {accountId: account.id, region: firstRegion}
  const bucket = doc.settings?.bucket
  const buckets = bucket
    ? accounts.flatMap((account) => account.regions.map((region) => ({accountId: account.id, region, name: bucket.replaceAll('{accountId}', account.id).replaceAll('{region}', region)})))
    : []
  const functions = Object.entries(doc.functions ?? {}).map(([key, fn]): ExampleFunction => ({
    key,
    name: fn.name ?? key,
    runtime: fn.runtime ?? 'nodejs22.x',
    handler: fn.handler ?? 'index.handler',
    architecture: fn.architecture ?? 'x86_64',
    targets: accounts.filter((account) => !fn.accounts || fn.accounts.includes(account.name)).flatMap((account) => account.regions.map((region) => ({accountId: account.id, region}))),
  }))
  return {accounts, defaultAccountId, accessKeys, roles, organizations, profiles, providedLayers, regions: [...new Set(accounts.flatMap((account) => account.regions))], buckets, functions}
}

export interface ExampleServerOptions {
  /** The manifest's text (layers.yaml). */
  manifest: string
  /** Where the AWS config and credentials files are written. */
  awsDir: string
  dbFile?: string
  port?: number
  /** Also create the artifact buckets (default false: `layers publish --create-bucket` makes them). */
  buckets?: boolean
  /** Also create the manifest's functions with placeholder code (default false). */
  functions?: boolean
}

export interface ExampleServer {
  server: AwsServer
  setup: ExampleSetup
  /** AWS_ENDPOINT_URL, AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE for the CLI. */
  env: Record<string, string>
}

/** Starts the local AWS double for the manifest and seeds it (idempotent over a persisted dbFile). */
export async function startExampleServer(options: ExampleServerOptions): Promise<ExampleServer> {
  const setup = exampleSetup(options.manifest)
  const server = await startAwsServer({
    accounts: setup.accessKeys,
    roles: setup.roles,
    organizations: setup.organizations,
    ...(options.dbFile ? {dbFile: options.dbFile} : {}),
    ...(options.port !== undefined ? {port: options.port} : {}),
  })
  try {
    await seedProvidedLayers(server, setup)
    if (options.buckets) await createBuckets(server, setup)
    if (options.functions) await createFunctions(server, setup)
  } catch (error) {
    await server.close()
    throw error
  }
  return {server, setup, env: {...server.writeAwsConfig(options.awsDir, setup.profiles), AWS_ENDPOINT_URL: server.endpoint}}
}

const clientConfig = (server: AwsServer, accountId: string, region: string) => ({region, endpoint: server.endpoint, credentials: server.credentials(accountId), maxAttempts: 1})

/** AWS's own layers exist in every region the manifest uses: versions 1 to one past the pin, the pinned and the newer one public. */
async function seedProvidedLayers(server: AwsServer, setup: ExampleSetup): Promise<void> {
  const seed = seeder(server)
  await Promise.all(
    setup.providedLayers.flatMap((layer) =>
      setup.regions.map(async (region) => {
        const lambda = new LambdaClient(clientConfig(server, layer.accountId, region))
        let latest = (await lambda.send(new ListLayerVersionsCommand({LayerName: layer.name}))).LayerVersions?.[0]?.Version ?? 0
        if (latest > layer.version) return
        const zip = await zipBytes({[`extensions/${layer.name}`]: '#!/bin/sh\necho extension\n'})
        while (latest <= layer.version) {
          const arn = await seed.layerVersion(layer.accountId, region, layer.name, {zip, runtimes: ['nodejs20.x', 'nodejs22.x', 'nodejs24.x'], architectures: ['x86_64', 'arm64']})
          latest = Number(arn.split(':').pop())
          if (latest >= layer.version) await seed.share(arn, '*')
        }
      }),
    ),
  )
}

async function createBuckets(server: AwsServer, setup: ExampleSetup): Promise<void> {
  for (const bucket of setup.buckets) {
    const s3 = new S3Client(clientConfig(server, bucket.accountId, bucket.region))
    await s3.send(new CreateBucketCommand({Bucket: bucket.name, ...(bucket.region === 'us-east-1' ? {} : {CreateBucketConfiguration: {LocationConstraint: bucket.region as 'eu-west-1'}})})).catch((error: Error) => {
      if (error.name !== 'BucketAlreadyOwnedByYou') throw error
    })
  }
}

/** The manifest's functions where they do not exist yet, with placeholder code; returns "name (account/region)" of each created. */
export async function createFunctions(server: AwsServer, setup: ExampleSetup): Promise<string[]> {
  const seed = seeder(server)
  const created: string[] = []
  for (const fn of setup.functions) {
    for (const {accountId, region} of fn.targets) {
      const lambda = new LambdaClient(clientConfig(server, accountId, region))
      const exists = await lambda.send(new GetFunctionCommand({FunctionName: fn.name})).then(
        () => true,
        (error: Error) => (error.name === 'ResourceNotFoundException' ? false : Promise.reject(error)),
      )
      if (exists) continue
      await seed.function(accountId, region, {name: fn.name, runtime: fn.runtime, handler: fn.handler, architecture: fn.architecture})
      created.push(`${fn.name} (${accountId}/${region})`)
    }
  }
  return created
}
