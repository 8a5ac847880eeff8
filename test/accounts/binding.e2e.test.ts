// End to end through the built CLI against the local AWS test server: a manifest account `dev`
// (111111111111, no profile) run with AWS_PROFILE pointing at account 222222222222, next to a correctly
// configured account `good` (333333333333, its own profile). Every command that acts on manifest
// accounts (publish on its locked-record, adoption and first-publish paths, attach and attach --dry-run,
// outdated, audit, prune) refuses dev with ERR_LAYERS_ACCOUNT_MISMATCH before any call other than
// GetCallerIdentity, writes nothing in either account and leaves lockfile.json alone, while good
// completes. A role whose trust policy does not name the caller fails its target with a clear error.
import {GetFunctionConfigurationCommand} from '@aws-sdk/client-lambda'
import {writeFileSync} from 'node:fs'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startAwsServer, type AwsServer, type CallRecord} from '../../aws-double/index.js'
import {seeder} from '../../aws-double/seed.js'
import {createFunction, lambdaAs, makeProject, versionsOf, WRITE_OPERATIONS, type CliResult, type Project} from '../publish/support.js'

const DEV = '111111111111'
const OTHER = '222222222222'
const GOOD = '333333333333'
const VENDOR = '444444444444'
const EU = 'eu-west-1'
const US = 'us-east-1'
const LOCKED_ROLE = `arn:aws:iam::${VENDOR}:role/locked-down`

const manifest = `version: 1
settings:
  bucket: "bind-{accountId}-{region}"
  architectures: [x86_64]
  runtimes: [nodejs22.x]
accounts:
  dev:
    id: "${DEV}"
    regions: [${EU}]
  good:
    id: "${GOOD}"
    profile: good
    regions: [${US}]
layers:
  deps:
    dir: layers/deps
    share: {accounts: [good]}
  vendor:
    arn: arn:aws:lambda:{region}:${VENDOR}:layer:vendor
functions:
  api:
    source: fns/api
    handler: index.handler
    runtime: nodejs22.x
    architecture: x86_64
    layers: [deps]
    accounts: [dev, good]
`

/** Account 222222222222's own project: the same layer, no grants. */
const otherManifest = `version: 1
settings:
  bucket: "bind-{accountId}-{region}"
  architectures: [x86_64]
  runtimes: [nodejs22.x]
accounts:
  dev: {id: "${OTHER}", profile: other, regions: [${EU}]}
layers:
  deps:
    dir: layers/deps
`

const files = {
  'layers/deps/nodejs/node_modules/deps/index.js': 'module.exports = 1\n',
  'fns/api/index.js': 'exports.handler = async () => "ok"\n',
}

let server: AwsServer
let project: Project
/** Project of account 222222222222: the same layer content, published there with no grants. */
let other: Project
const WRONG = {AWS_PROFILE: 'other'}

const profiles = () => ({default: {accountId: DEV}, other: {accountId: OTHER}, good: {accountId: GOOD}})

/** Runs the CLI and returns its result with the calls the server saw meanwhile. */
async function run(args: string[], env: NodeJS.ProcessEnv = WRONG): Promise<CliResult & {calls: CallRecord[]}> {
  const mark = server.calls.length
  const result = await project.run(args, env)
  return {...result, calls: server.calls.slice(mark)}
}

/** The wrong account (and the right one the credentials missed) saw nothing but GetCallerIdentity; the other credentials were asked once. */
function expectUntouched(calls: CallRecord[]): void {
  expect(calls.filter((call) => call.accountId === DEV)).toEqual([])
  expect(calls.filter((call) => call.accountId === OTHER).map((call) => call.operation)).toEqual(['GetCallerIdentity'])
  expect(calls.filter((call) => WRITE_OPERATIONS.has(call.operation) && call.accountId !== GOOD)).toEqual([])
}

function expectMismatch(error: {code: string; message: string} | undefined): void {
  expect(error?.code).toBe('ERR_LAYERS_ACCOUNT_MISMATCH')
  expect(error?.message).toBe(`The credentials for account dev (AWS_PROFILE=other) belong to account ${OTHER}, not ${DEV}: nothing was read or written with them.`)
}

beforeAll(async () => {
  server = await startAwsServer({
    accounts: {AKIDACCOUNT1: DEV, AKIDACCOUNT2: OTHER, AKIDGOOD: GOOD, AKIDVENDOR: VENDOR},
    // Exists, but trusts only its own account.
    roles: {[LOCKED_ROLE]: {}},
  })
  const seed = seeder(server)
  for (const region of [EU, US]) await seed.share(await seed.layerVersion(VENDOR, region, 'vendor'), '*')
  project = makeProject(server, {...files, 'layers.yaml': manifest})
  server.writeAwsConfig(path.join(project.dir, '.aws'), profiles())
  other = makeProject(server, {...files, 'layers.yaml': otherManifest})
  server.writeAwsConfig(path.join(other.dir, '.aws'), profiles())
  for (const p of [project, other]) {
    await p.lock()
    const published = await p.run(['publish', '--json', '--create-bucket'])
    expect(published.status, published.stderr).toBe(0)
  }
  for (const [account, region] of [[DEV, EU], [OTHER, EU], [GOOD, US]] as const) await createFunction(server, account, region, 'api')
}, 120_000)

afterAll(async () => {
  await server?.close()
  project?.remove()
  other?.remove()
})

describe('account binding (CLI, wrong-account credentials next to a right one)', () => {
  it('publish, locked-record path: dev fails, nothing is written in 111111111111 or 222222222222, good stays unchanged', async () => {
    const before = project.read('lockfile.json')
    const grants = await versionsOf(server, OTHER, EU, 'deps')
    const result = await run(['publish', '--json'])
    expect(result.status).toBe(1)
    const dev = result.json.units.find((unit: {accountName: string}) => unit.accountName === 'dev')
    expect(dev.status).toBe('failed')
    expectMismatch(dev.error)
    expect(result.json.units.find((unit: {accountName: string}) => unit.accountName === 'good')).toMatchObject({status: 'unchanged'})
    // The arn layer's check (is the pinned version readable there?) is refused the same way.
    const devCheck = result.json.arnChecks.find((check: {accountName: string}) => check.accountName === 'dev')
    expect(devCheck.status).toBe('failed')
    expectMismatch(devCheck.error)
    expect(result.json.arnChecks.find((check: {accountName: string}) => check.accountName === 'good')).toMatchObject({status: 'ok'})
    expectUntouched(result.calls)
    // one GetCallerIdentity per account and run
    expect(result.calls.filter((call) => call.operation === 'GetCallerIdentity').map((call) => call.accountId).sort()).toEqual([OTHER, GOOD])
    expect(project.read('lockfile.json')).toBe(before)
    expect(await versionsOf(server, OTHER, EU, 'deps')).toEqual(grants)
    // The human summary names the failed target.
    const human = await run(['publish'])
    expect(human.status).toBe(1)
    expect(human.stdout + human.stderr).toContain('ERR_LAYERS_ACCOUNT_MISMATCH')
  })

  it('publish, adoption path: no ARN of 222222222222 is recorded under dev', async () => {
    const lock = project.lockfile()
    const deps = lock.layers.deps as {published?: Record<string, unknown>}
    delete deps.published![DEV]
    const edited = `${JSON.stringify(lock, null, 2)}\n`
    writeFileSync(path.join(project.dir, 'lockfile.json'), edited)
    const result = await run(['publish', '--json'])
    expect(result.status).toBe(1)
    expectMismatch(result.json.units.find((unit: {accountName: string}) => unit.accountName === 'dev').error)
    expectUntouched(result.calls)
    expect(project.read('lockfile.json')).toBe(edited)
    // With the right credentials the record comes back from dev's own version.
    const fixed = await run(['publish', '--json'], {})
    expect(fixed.status, fixed.stderr).toBe(0)
    expect(fixed.json.units.find((unit: {accountName: string}) => unit.accountName === 'dev')).toMatchObject({status: 'adopted', arn: `arn:aws:lambda:${EU}:${DEV}:layer:deps:1`})
  })

  it('publish, first publish of new content: dev uploads and publishes nothing anywhere, good publishes', async () => {
    project.write('layers/deps/nodejs/node_modules/deps/index.js', 'module.exports = 2\n')
    await project.lock(['deps'])
    const devRecord = (project.lockfile().layers.deps as {published: Record<string, unknown>}).published[DEV]
    const result = await run(['publish', '--json'])
    expect(result.status).toBe(1)
    expectMismatch(result.json.units.find((unit: {accountName: string}) => unit.accountName === 'dev').error)
    expect(result.json.units.find((unit: {accountName: string}) => unit.accountName === 'good')).toMatchObject({status: 'published', version: 2})
    expectUntouched(result.calls)
    expect(result.calls.filter((call) => ['PutObject', 'CreateBucket', 'CreateMultipartUpload'].includes(call.operation) && call.accountId !== GOOD)).toEqual([])
    const published = (project.lockfile().layers.deps as {published: Record<string, unknown>}).published
    // dev keeps the record of its old content (its own ARN), and nothing of 222222222222 is recorded anywhere.
    expect(published[DEV]).toEqual(devRecord)
    expect(JSON.stringify(published)).not.toContain(OTHER)
    expect((await versionsOf(server, OTHER, EU, 'deps')).map((version) => version.version)).toEqual([1])
    // dev catches up with its own credentials, for the attach tests.
    expect((await run(['publish', '--json'], {})).status).toBe(0)
  })

  it('attach --dry-run and attach: dev fails before reading its function, good is updated', async () => {
    const dry = await run(['attach', 'api', '--dry-run', '--json'])
    expect(dry.status).toBe(1)
    const devDry = dry.json.functions.find((fn: {accountName: string}) => fn.accountName === 'dev')
    expect(devDry.status).toBe('failed')
    expectMismatch(devDry.error)
    expect(dry.json.functions.find((fn: {accountName: string}) => fn.accountName === 'good')).toMatchObject({status: 'would-update'})
    expectUntouched(dry.calls)

    const result = await run(['attach', 'api', '--json'])
    expect(result.status).toBe(1)
    expectMismatch(result.json.functions.find((fn: {accountName: string}) => fn.accountName === 'dev').error)
    expect(result.json.functions.find((fn: {accountName: string}) => fn.accountName === 'good')).toMatchObject({status: 'updated'})
    expectUntouched(result.calls)
    for (const [account, region] of [[DEV, EU], [OTHER, EU]] as const) {
      expect((await lambdaAs(server, account, region).send(new GetFunctionConfigurationCommand({FunctionName: 'api'}))).Layers ?? []).toEqual([])
    }
  })

  it('lock of an arn layer: the pin is not read with credentials of another account', async () => {
    const before = project.read('lockfile.json')
    const result = await run(['lock', 'vendor', '--update', 'vendor', '--json'])
    expect(result.status).toBe(1)
    expectMismatch(result.json.error)
    expectUntouched(result.calls)
    expect(project.read('lockfile.json')).toBe(before)
  })

  it('outdated: dev is an error row, good is compared', async () => {
    const result = await run(['outdated', '--json'])
    expect(result.status).toBe(1)
    expect(result.json.errors).toEqual([expect.objectContaining({layer: 'vendor', accountId: DEV, region: EU, code: 'ERR_LAYERS_ACCOUNT_MISMATCH'})])
    expect(result.json.rows).toEqual(expect.arrayContaining([expect.objectContaining({layer: 'vendor', accountId: GOOD, region: US})]))
    expectUntouched(result.calls)
  })

  it('audit: dev is a failed target, good is scanned', async () => {
    const result = await run(['audit', '--json', '--no-save'])
    expect(result.status).toBe(1)
    const targets = result.json.targets as Array<{accountId: string; region: string; status: string; error?: {code: string; message: string}}>
    const dev = targets.find((target) => target.accountId === DEV)
    expect(dev?.status).toBe('failed')
    expectMismatch(dev?.error)
    expect(targets.find((target) => target.accountId === GOOD)).toMatchObject({region: US, status: 'ok'})
    expectUntouched(result.calls)
  })

  it('prune --yes: nothing is deleted in 222222222222, good\'s unused version goes', async () => {
    const result = await run(['prune', '--yes', '--json'])
    expect(result.status).toBe(1)
    const failures = result.json.failures as Array<{accountId: string; error: {code: string; message: string}}>
    expect(failures.length).toBeGreaterThan(0)
    for (const failure of failures) {
      expect(failure.accountId).toBe(DEV)
      expectMismatch(failure.error)
    }
    expect(result.json.deleted).toEqual([expect.objectContaining({accountId: GOOD, region: US, layer: 'deps', version: 1})])
    expectUntouched(result.calls)
    expect((await versionsOf(server, OTHER, EU, 'deps')).map((version) => version.version)).toEqual([1])
    expect((await versionsOf(server, DEV, EU, 'deps')).map((version) => version.version)).toEqual([1, 2])
  })

  it('a role whose trust policy does not name the caller fails its target with the role, the caller and STS\'s answer', async () => {
    project.write('roles.yaml', `version: 1
accounts:
  vendor:
    id: "${VENDOR}"
    roleArn: ${LOCKED_ROLE}
    regions: [${EU}]
  good:
    id: "${GOOD}"
    profile: good
    regions: [${US}]
`)
    const result = await run(['audit', '--manifest', 'roles.yaml', '--json', '--no-save'], {})
    expect(result.status).toBe(1)
    const targets = result.json.targets as Array<{accountId: string; status: string; error?: {code: string; message: string}}>
    expect(targets.find((target) => target.accountId === VENDOR)).toMatchObject({
      status: 'failed',
      error: {
        code: 'ERR_LAYERS_ROLE_DENIED',
        message: `Account vendor (${VENDOR}): STS refused to let the default credential chain assume roleArn ${LOCKED_ROLE}: User: arn:aws:iam::${DEV}:user/layers-test is not authorized to perform: sts:AssumeRole on resource: ${LOCKED_ROLE}`,
      },
    })
    expect(targets.find((target) => target.accountId === GOOD)).toMatchObject({status: 'ok'})
    expect(result.calls.filter((call) => call.accountId === VENDOR)).toEqual([])
  })
})
