// End to end through the built CLI against the local AWS test server: bad names and regions exit 2
// in every command that takes them, before any AWS call (src/manifest/select.ts); audit --org outside
// an organization or from a member account is a user-facing error; a bucket in another region is a
// clear error naming bucket and regions (S3 answers HeadBucket with a 301 and no body); a bucket
// template giving two regions one bucket is a manifest error at its line.
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {DEFAULT_ACCOUNTS, startAwsServer, type AwsServer} from '../../aws-double/index.js'
import {accountsYaml, DEV, EU, EXTERNAL_ID, makeProject, PROD, ROLE, US, type CliResult, type Project} from '../publish/support.js'

const LONELY = '333333333333'

function manifest(bucket = 'layers-{accountId}-{region}', regions = [EU, US]): string {
  return `version: 1
settings:
  bucket: "${bucket}"
  regions: [${EU}]
  architectures: [x86_64]
  runtimes: [nodejs22.x]
${accountsYaml(regions)}
layers:
  config:
    dir: layers/config
functions:
  api:
    source: fns/api
    handler: index.handler
    runtime: nodejs22.x
    layers: [config]
    accounts: [dev, prod]
`
}

/** The manifest for a subdirectory of the project (same layer and function sources). */
function inSubdir(text: string): string {
  return text.replace('dir: layers/config', 'dir: ../layers/config').replace('source: fns/api', 'source: ../fns/api')
}

let server: AwsServer
let project: Project

beforeAll(async () => {
  server = await startAwsServer({
    roles: {[ROLE]: {externalId: EXTERNAL_ID, trust: [DEV]}},
    accounts: {...DEFAULT_ACCOUNTS, AKIDACCOUNT3: LONELY},
    // 222222222222 manages the organization; 111111111111 is a member; 333333333333 is in none.
    organizations: {[PROD]: 'o-abc123', [DEV]: 'o-abc123'},
  })
  project = makeProject(server, {
    'layers.yaml': manifest(),
    'layers/config/nodejs/node_modules/@acme/config/index.js': 'export const stage = "one"\n',
    'fns/api/index.js': 'export const handler = async () => "ok"\n',
  })
  await project.lock()
})

afterAll(async () => {
  project?.remove()
  await server?.close()
})

function expectInputError(result: CliResult, code: string): void {
  expect(result.status, result.stderr + result.stdout).toBe(2)
  expect(result.json?.error?.code, result.stdout).toBe(code)
  expect(result.stdout + result.stderr).not.toContain('ERR_LAYERS_INTERNAL')
}

describe('names and regions', () => {
  it('refuses a --region that is not a region name in every command that takes it, before any AWS call', async () => {
    const mark = server.calls.length
    for (const args of [
      ['audit', '--region', 'mars-1', '--fail-on', 'error'],
      ['audit', '--account', '444444444444', '--region', 'mars-1'],
      ['publish', '--region', 'mars-1'],
      ['attach', '--region', 'mars-1', '--dry-run'],
      ['prune', '--region', 'mars-1'],
      ['outdated', '--region', 'mars-1'],
    ]) {
      const result = await project.run([...args, '--json'])
      expectInputError(result, 'ERR_LAYERS_UNKNOWN_REGION')
      expect(result.json.error.message).toContain('mars-1')
    }
    expect(server.calls.slice(mark)).toEqual([])
  })

  it('refuses a region outside the manifest for commands acting on its targets, listing the regions', async () => {
    const mark = server.calls.length
    for (const args of [['publish', 'config', '--region', 'ap-south-1'], ['attach', 'api', '--region', 'ap-south-1'], ['audit', '--region', 'ap-south-1', '--fail-on', 'error'], ['prune', '--region', 'ap-south-1']]) {
      const result = await project.run([...args, '--json'])
      expectInputError(result, 'ERR_LAYERS_REGION_NOT_IN_MANIFEST')
      expect(result.json.error.hint).toContain(`${EU}, ${US}`)
    }
    expect(server.calls.slice(mark)).toEqual([])
  })

  it('refuses unknown layer, function and account names in every command, with did-you-mean', async () => {
    const cases: Array<[string[], string]> = [
      [['build', 'confg'], 'ERR_LAYERS_UNKNOWN_LAYER'],
      [['lock', 'confg'], 'ERR_LAYERS_UNKNOWN_LAYER'],
      [['publish', 'confg'], 'ERR_LAYERS_UNKNOWN_LAYER'],
      [['history', 'confg'], 'ERR_LAYERS_UNKNOWN_LAYER'],
      [['prune', 'confg'], 'ERR_LAYERS_UNKNOWN_LAYER'],
      [['outdated', 'confg'], 'ERR_LAYERS_UNKNOWN_LAYER'],
      [['attach', 'apii'], 'ERR_LAYERS_UNKNOWN_FUNCTION'],
      [['package', 'apii'], 'ERR_LAYERS_UNKNOWN_FUNCTION'],
      [['run', 'apii'], 'ERR_LAYERS_UNKNOWN_FUNCTION'],
      [['publish', '--account', 'devv'], 'ERR_LAYERS_UNKNOWN_ACCOUNT'],
      [['attach', '--account', 'devv'], 'ERR_LAYERS_UNKNOWN_ACCOUNT'],
      [['audit', '--account', 'devv'], 'ERR_LAYERS_UNKNOWN_ACCOUNT'],
      [['prune', '--account', 'devv'], 'ERR_LAYERS_UNKNOWN_ACCOUNT'],
      [['outdated', '--account', 'devv'], 'ERR_LAYERS_UNKNOWN_ACCOUNT'],
    ]
    const mark = server.calls.length
    for (const [args, code] of cases) {
      const result = await project.run([...args, '--json'])
      expectInputError(result, code)
      expect(result.json.error.message, args.join(' ')).toMatch(/Did you mean "(config|api|dev)"\?/)
    }
    expect(server.calls.slice(mark)).toEqual([])
    const nosuch = await project.run(['history', 'nosuch'])
    expect(nosuch.status).toBe(2)
    expect(nosuch.stderr).toContain('Error [ERR_LAYERS_UNKNOWN_LAYER]')
  })
})

describe('audit --org', () => {
  it('outside an organization: a user-facing error with a hint, not an internal one', async () => {
    const aws = server.writeAwsConfig(path.join(project.dir, '.aws-lonely'), {default: {accountId: LONELY}})
    const result = await project.run(['audit', '--org', '--role-name', 'Auditor', '--region', EU, '--json'], aws)
    expectInputError(result, 'ERR_LAYERS_ORG_NOT_IN_USE')
    expect(result.json.error.hint).toContain('management account')
  })

  it('from a member account: access denied, named, exit 1', async () => {
    const result = await project.run(['audit', '--org', '--role-name', 'Auditor', '--region', EU, '--json'])
    expect(result.status, result.stderr).toBe(1)
    expect(result.json.error).toMatchObject({code: 'ERR_LAYERS_ORG_ACCESS_DENIED', hint: expect.stringContaining('delegated administrator')})
  })
})

describe('artifact bucket and regions', () => {
  it('a bucket template giving two regions one bucket is a manifest error at settings.bucket', async () => {
    project.write('bad/layers.yaml', inSubdir(manifest('acme-layers-{accountId}')))
    const result = await project.run(['validate', '--manifest', 'bad/layers.yaml', '--json'])
    expectInputError(result, 'ERR_LAYERS_MANIFEST_INVALID')
    expect(result.json.error.problems).toEqual([
      expect.objectContaining({code: 'ERR_LAYERS_MANIFEST_BUCKET_REGIONS', location: `${path.join(project.dir, 'bad/layers.yaml')}:3:11`, message: expect.stringContaining(`${EU}, ${US}`)}),
    ])
    const publish = await project.run(['publish', '--manifest', 'bad/layers.yaml', '--json'])
    expectInputError(publish, 'ERR_LAYERS_MANIFEST_INVALID')
  })

  it('a bucket that lives in another region fails that target with the bucket and both regions named', async () => {
    // One bucket per account, first made in us-east-1; then the manifest moves the targets to eu-west-1.
    project.write('moved/layers.yaml', inSubdir(manifest('moved-{accountId}', [US])))
    await project.run(['lock', '--manifest', 'moved/layers.yaml', '--json'])
    const first = await project.run(['publish', '--manifest', 'moved/layers.yaml', '--account', 'dev', '--create-bucket', '--json'])
    expect(first.status, first.stderr).toBe(0)
    project.write('moved/layers.yaml', inSubdir(manifest('moved-{accountId}', [EU])))
    const result = await project.run(['publish', '--manifest', 'moved/layers.yaml', '--account', 'dev', '--create-bucket', '--json'])
    expect(result.status, result.stderr).toBe(1)
    expect(result.json.units).toEqual([
      expect.objectContaining({
        status: 'failed',
        region: EU,
        error: expect.objectContaining({code: 'ERR_LAYERS_BUCKET_WRONG_REGION', message: expect.stringContaining(`Bucket moved-${DEV} is in region ${US}, not ${EU}`), hint: expect.stringContaining('{region}')}),
      }),
    ])
    expect(result.stdout + result.stderr).not.toContain('UnknownError')
  })
})
