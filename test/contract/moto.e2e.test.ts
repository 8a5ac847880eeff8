// Contract suite against a real moto server (moto[server] 5.2.1; see test/contract/moto-server.ts for
// where it comes from): the built CLI runs lock, publish --create-bucket (with SSM parameters, and a
// second publish that writes none), attach, audit (a `missing`
// finding for a deleted layer version included), outdated and prune --yes as a team that tests
// against moto would. Two accounts as moto maps credentials: any plain access key is moto's default
// account 123456789012 (dev), and `roleArn` credentials from STS AssumeRole belong to the role's
// account (prod, 222222222222). Every layer version is read with GetLayerVersion and the layer ARN,
// the call moto has (it answers GetLayerVersionByArn's path as ListLayers, 200 with no version).
import {mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {AssumeRoleCommand, STSClient} from '@aws-sdk/client-sts'
import {GetParametersCommand, SSMClient} from '@aws-sdk/client-ssm'
import {CreateFunctionCommand, DeleteLayerVersionCommand, LambdaClient, ListLayerVersionsCommand, PublishLayerVersionCommand} from '@aws-sdk/client-lambda'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {zipBytes} from '../../aws-double/seed.js'
import {runCli, type CliResult} from '../support/cli.js'
import {createRole, MOTO_INSTALL, motoSource, resetMoto, startMoto, type Moto} from './moto-server.js'

const DEV = '123456789012'
const PROD = '222222222222'
const EU = 'eu-west-1'
const KEY = 'testing'
const layerArn = (account: string, name: string) => `arn:aws:lambda:${EU}:${account}:layer:${name}`

const source = motoSource()

if (source.kind === 'absent') describe('moto contract suite (moto is not installed)', () => {
  const message = `moto_server is not on PATH and MOTO_ENDPOINT is not set: install it with \`${MOTO_INSTALL}\` (or start one and set MOTO_ENDPOINT)`
  if (process.env.CI) {
    it('needs moto under CI', () => {
      throw new Error(message)
    })
  } else {
    console.warn(`Skipping the moto contract suite: ${message}.`)
    it.skip(message, () => {})
  }
})

describe.skipIf(source.kind === 'absent')('layers against moto (publish, attach, audit, outdated, prune)', () => {
  let moto: Moto
  let dir: string
  let env: NodeJS.ProcessEnv
  let lambda: LambdaClient
  const layers = (args: string[]): Promise<CliResult> => runCli([...args, '--json'], {cwd: dir, baseEnv: env, timeoutMs: 60_000})
  /** Bytes of the `config` version seeded by hand before the first publish: what prune must report. */
  let strayConfigSize = 0

  beforeAll(async () => {
    moto = await startMoto(source as Exclude<typeof source, {kind: 'absent'}>)
    await resetMoto(moto.endpoint)
    dir = mkdtempSync(path.join(tmpdir(), 'layers-moto-'))
    const write = (file: string, text: string) => {
      mkdirSync(path.dirname(path.join(dir, file)), {recursive: true})
      writeFileSync(path.join(dir, file), text)
    }
    write('layers/config/nodejs/node_modules/cfg/index.js', 'module.exports = {stage: "moto"}\n')
    write('fns/api/index.js', 'exports.handler = async () => "ok"\n')
    write(
      'layers.yaml',
      `version: 1
settings:
  bucket: "layers-moto-{accountId}-{region}"
  regions: [${EU}]
  architectures: [x86_64]
  runtimes: [nodejs24.x]
  ssm: {}
accounts:
  dev:
    id: "${DEV}"
  prod:
    id: "${PROD}"
    roleArn: arn:aws:iam::${PROD}:role/layers-deployer
layers:
  config:
    dir: layers/config
    share: {accounts: [prod]}
  ext:
    arn: ${layerArn(DEV, 'ext')}:1
functions:
  api: {name: api, source: fns/api, handler: index.handler, runtime: nodejs24.x, architecture: x86_64, layers: [config], accounts: [dev, prod]}
  worker: {name: worker, source: fns/api, handler: index.handler, runtime: nodejs24.x, architecture: x86_64, layers: [config, ext], accounts: [dev]}
  stacked: {name: stacked, source: fns/api, handler: index.handler, runtime: nodejs24.x, architecture: x86_64, layers: [config], accounts: [dev]}
`,
    )
    env = {
      PATH: process.env.PATH,
      HOME: dir,
      AWS_ENDPOINT_URL: moto.endpoint,
      AWS_ACCESS_KEY_ID: KEY,
      AWS_SECRET_ACCESS_KEY: KEY,
      AWS_CONFIG_FILE: path.join(dir, '.aws', 'config'),
      AWS_SHARED_CREDENTIALS_FILE: path.join(dir, '.aws', 'credentials'),
      AWS_EC2_METADATA_DISABLED: 'true',
      LAYERS_CONNECT_TIMEOUT: '5',
      LAYERS_READ_TIMEOUT: '20',
      NO_COLOR: '1',
    }
    // Seeded in dev over the SDK (and api in prod, with the role's credentials): the functions, `ext` (an arn layer for arm64 only; version 2 is
    // newer), a `config` version layers did not publish (prune's candidate), and `old`, deleted while
    // the function `legacy` still uses it (audit's `missing`).
    const config = {endpoint: moto.endpoint, region: EU, maxAttempts: 1}
    lambda = new LambdaClient({...config, credentials: {accessKeyId: KEY, secretAccessKey: KEY}})
    const sts = new STSClient({...config, credentials: {accessKeyId: KEY, secretAccessKey: KEY}})
    const assumed = (await sts.send(new AssumeRoleCommand({RoleArn: `arn:aws:iam::${PROD}:role/layers-deployer`, RoleSessionName: 'seed'}))).Credentials!
    sts.destroy()
    const prod = new LambdaClient({...config, credentials: {accessKeyId: assumed.AccessKeyId!, secretAccessKey: assumed.SecretAccessKey!, sessionToken: assumed.SessionToken!}})
    const [role, prodRole] = await Promise.all([createRole(moto.endpoint, KEY, 'fn'), createRole(moto.endpoint, assumed.AccessKeyId!, 'fn')])
    const code = await zipBytes()
    const layer = async (name: string, text: string, architectures?: Array<'arm64' | 'x86_64'>) =>
      lambda.send(new PublishLayerVersionCommand({LayerName: name, Content: {ZipFile: await zipBytes({'nodejs/node_modules/x/index.js': text})}, CompatibleRuntimes: ['nodejs24.x'], ...(architectures ? {CompatibleArchitectures: architectures} : {})}))
    const fn = (name: string, layerArns: string[] = [], tags?: Record<string, string>) =>
      lambda.send(new CreateFunctionCommand({FunctionName: name, Runtime: 'nodejs24.x', Role: role, Handler: 'index.handler', Code: {ZipFile: code}, Architectures: ['x86_64'], Layers: layerArns, ...(tags ? {Tags: tags} : {})}))
    await layer('ext', 'ext 1', ['arm64'])
    await layer('ext', 'ext 2', ['arm64', 'x86_64'])
    strayConfigSize = (await layer('config', 'published by hand')).Content!.CodeSize!
    const old = await layer('old', 'old 1')
    await Promise.all([
      fn('api'),
      fn('worker'),
      fn('legacy', [old.LayerVersionArn!]),
      // As CloudFormation tags the functions of a stack: attach must leave it to the stack.
      fn('stacked', [], {'aws:cloudformation:stack-name': 'api-stack'}),
      prod.send(new CreateFunctionCommand({FunctionName: 'api', Runtime: 'nodejs24.x', Role: prodRole, Handler: 'index.handler', Code: {ZipFile: code}, Architectures: ['x86_64']})),
    ])
    prod.destroy()
    await lambda.send(new DeleteLayerVersionCommand({LayerName: 'old', VersionNumber: 1}))
    const lock = await layers(['lock'])
    if (lock.code !== 0) throw new Error(`layers lock failed (${lock.code}): ${lock.stderr}`)
  }, 90_000)

  afterAll(async () => {
    lambda?.destroy()
    await moto?.stop()
    if (dir) rmSync(dir, {recursive: true, force: true})
  })

  it('publish --create-bucket: one version per account (dev by access key, prod by assumed role), buckets made, prod granted', async () => {
    const run = await layers(['publish', '--create-bucket'])
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    expect(run.json.units.map((u: {accountId: string; status: string; bucketCreated: boolean; arn: string; grantsAdded: string[]}) => [u.accountId, u.status, u.bucketCreated, u.arn, u.grantsAdded])).toEqual([
      [DEV, 'published', true, `${layerArn(DEV, 'config')}:2`, [`layers-account-${PROD}`]],
      [PROD, 'published', true, `${layerArn(PROD, 'config')}:1`, []],
    ])
    // The pinned arn layer was checked with GetLayerVersion, not taken as readable from an empty answer.
    expect(run.json.arnChecks.map((c: {arn: string; status: string}) => [c.arn, c.status])).toEqual([[`${layerArn(DEV, 'ext')}:1`, 'ok']])
    // settings.ssm: config's parameter in each account, written once; a second publish writes none.
    expect(run.json.parameters.parameters.map((p: {accountId: string; name: string; value: string; status: string}) => [p.accountId, p.name, p.value, p.status])).toEqual([
      [DEV, '/layers/config/default/x86_64', `${layerArn(DEV, 'config')}:2`, 'created'],
      [PROD, '/layers/config/default/x86_64', `${layerArn(PROD, 'config')}:1`, 'created'],
    ])
    const again = await layers(['publish'])
    expect(again.code).toBe(0)
    expect(again.json.parameters.summary).toMatchObject({parameters: 2, written: 0, unchanged: 2})
  })

  it("attach: sets the locked layers, and refuses a layer version whose architectures exclude the function's", async () => {
    const run = await layers(['attach', '--wait-timeout', '10'])
    expect(run.code).toBe(1)
    expect(run.stderr).toContain('ERR_LAYERS_ATTACH_FAILED')
    const byName = Object.fromEntries(run.json.functions.map((f: {function: string; accountId: string}) => [`${f.function}@${f.accountId}`, f]))
    expect(byName[`api@${DEV}`]).toMatchObject({status: 'updated', after: [`${layerArn(DEV, 'config')}:2`]})
    expect(byName[`api@${PROD}`]).toMatchObject({status: 'updated', after: [`${layerArn(PROD, 'config')}:1`]})
    expect(byName[`worker@${DEV}`]).toMatchObject({status: 'refused', before: []})
    expect(byName[`worker@${DEV}`].reasons).toEqual([`${layerArn(DEV, 'ext')}:1 declares architectures arm64, not x86_64.`])
    // Owned by a CloudFormation stack (its tag read with ListTags): refused, unchanged.
    expect(byName[`stacked@${DEV}`]).toMatchObject({status: 'refused', before: []})
    expect(JSON.stringify(byName[`stacked@${DEV}`])).toContain('api-stack')
  })

  it('export: the Terraform variables hold the ARNs the lock records', async () => {
    const file = path.join(dir, 'layers.auto.tfvars.json')
    const run = await layers(['export', '--format', 'terraform', '--output', file])
    expect(run.code, run.stderr).toBe(0)
    const lock = JSON.parse(readFileSync(path.join(dir, 'lockfile.json'), 'utf8'))
    const arns = JSON.parse(readFileSync(file, 'utf8')).layer_arns.config
    for (const account of [DEV, PROD]) expect(arns[account][EU].x86_64).toBe(Object.values(lock.layers.config.published[account][EU] as Record<string, {arn: string}>)[0]!.arn)
  })

  it('audit reports the deleted layer version in use as missing; outdated finds the newer version of the arn layer', async () => {
    const [audit, outdated] = await Promise.all([layers(['audit', '--no-save']), layers(['outdated'])])
    expect(audit.stderr).toBe('')
    expect(audit.code).toBe(0)
    expect(audit.json.targets.map((t: {accountId: string; status: string; functions: number}) => [t.accountId, t.status, t.functions])).toEqual([
      [DEV, 'ok', 4],
      [PROD, 'ok', 1],
    ])
    const findings = audit.json.findings.map((f: {severity: string; code: string; function: string; layer?: string}) => [f.severity, f.code, f.function, f.layer ?? ''])
    expect(findings).toContainEqual(['error', 'missing', 'legacy', `${layerArn(DEV, 'old')}:1`])
    // The stack's function drifts from the lock: the fix is a redeploy of its stack.
    expect(audit.json.findings.find((f: {code: string; function: string}) => f.function === 'stacked')).toMatchObject({code: 'drift-iac', stack: 'api-stack'})
    // Every other layer version was read (none unreadable), and none of the findings is about api.
    expect(findings.filter(([severity, code]: string[]) => code === 'missing' && severity !== 'error')).toEqual([])
    expect(findings.filter(([, , fn]: string[]) => fn === 'api')).toEqual([])
    expect(outdated.stderr).toBe('')
    expect(outdated.code).toBe(0)
    expect(outdated.json.rows).toEqual([
      {kind: 'arn', layer: 'ext', accountId: DEV, region: EU, locked: `${layerArn(DEV, 'ext')}:1`, lockedVersion: 1, latest: `${layerArn(DEV, 'ext')}:2`, latestVersion: 2, outdated: true},
    ])
  })

  it('prune --yes deletes the version nothing pins or uses, with its size from GetLayerVersion, and keeps the rest', async () => {
    const run = await layers(['prune', '--yes'])
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    expect(run.json.candidates.map((c: {arn: string; codeSize: number}) => [c.arn, c.codeSize])).toEqual([[`${layerArn(DEV, 'config')}:1`, strayConfigSize]])
    expect(run.json.freedBytes).toBe(strayConfigSize)
    expect(run.json.failures).toEqual([])
    const left = await lambda.send(new ListLayerVersionsCommand({LayerName: 'config'}))
    expect(left.LayerVersions?.map((v) => v.Version)).toEqual([2])
  })
})

// promote on moto: `publish --channel beta` then `promote --from beta --to prod` writes prod's SSM
// parameter with the version ARN beta holds, under the team-state lease (S3 conditional writes), and
// publishes nothing. No moto gap met here: GetParametersByPath (Recursive, MaxResults 10), PutParameter
// with Tags / Overwrite, AddTagsToResource and S3 If-None-Match / If-Match behave as AWS's for these
// calls (the name and value limits moto does not enforce are noted in test/aws-double/ssm.test.ts).
describe.skipIf(source.kind === 'absent')('layers promote against moto', () => {
  let moto: Moto
  let dir: string
  let env: NodeJS.ProcessEnv
  const layers = (args: string[]): Promise<CliResult> => runCli([...args, '--json'], {cwd: dir, baseEnv: env, timeoutMs: 60_000})

  beforeAll(async () => {
    moto = await startMoto(source as Exclude<typeof source, {kind: 'absent'}>)
    dir = mkdtempSync(path.join(tmpdir(), 'layers-moto-promote-'))
    mkdirSync(path.join(dir, 'layers/flag/nodejs/node_modules/flag'), {recursive: true})
    writeFileSync(path.join(dir, 'layers/flag/nodejs/node_modules/flag/index.js'), 'module.exports = {on: true}\n')
    writeFileSync(
      path.join(dir, 'layers.yaml'),
      `version: 1
settings:
  bucket: "layers-moto-promote-{accountId}-{region}"
  regions: [${EU}]
  architectures: [x86_64]
  runtimes: [nodejs24.x]
  # Its own path: a moto server CI shares holds the other suite's /layers/ parameters, which this
  # manifest does not name and publish rightly reports as stale.
  ssm: {parameterName: "/promote/{layer}/{channel}/{architecture}"}
accounts:
  dev:
    id: "${DEV}"
layers:
  flag:
    dir: layers/flag
    channels: [prod, beta]
`,
    )
    env = {PATH: process.env.PATH, HOME: dir, AWS_ENDPOINT_URL: moto.endpoint, AWS_ACCESS_KEY_ID: KEY, AWS_SECRET_ACCESS_KEY: KEY, AWS_EC2_METADATA_DISABLED: 'true', LAYERS_CONNECT_TIMEOUT: '5', LAYERS_READ_TIMEOUT: '20', NO_COLOR: '1'}
    const lock = await layers(['lock'])
    if (lock.code !== 0) throw new Error(`layers lock failed (${lock.code}): ${lock.stderr}`)
  }, 90_000)

  afterAll(async () => {
    await moto?.stop()
    if (dir) rmSync(dir, {recursive: true, force: true})
  })

  it('publish --channel beta, then promote beta to prod: the prod parameter holds the ARN beta holds', async () => {
    const published = await layers(['publish', '--channel', 'beta', '--create-bucket'])
    expect(published.code, published.stderr).toBe(0)
    const arn = published.json.units[0].arn as string
    expect(published.json.parameters.parameters.map((p: {name: string; value: string; status: string}) => `${p.name} ${p.value} ${p.status}`)).toEqual([`/promote/flag/beta/x86_64 ${arn} created`])

    const promoted = await layers(['promote', 'flag', '--from', 'beta', '--to', 'prod'])
    expect(promoted.code, promoted.stderr).toBe(0)
    expect(promoted.json.moves).toEqual([expect.objectContaining({accountId: DEV, region: EU, arn, status: 'moved'})])
    expect(promoted.json.parameters.parameters.map((p: {name: string; value: string; status: string}) => `${p.name} ${p.value} ${p.status}`)).toEqual([`/promote/flag/prod/x86_64 ${arn} created`])
    const ssm = new SSMClient({endpoint: moto.endpoint, region: EU, credentials: {accessKeyId: KEY, secretAccessKey: KEY}, maxAttempts: 1})
    expect((await ssm.send(new GetParametersCommand({Names: ['/promote/flag/prod/x86_64']}))).Parameters?.[0]?.Value).toBe(arn)
    ssm.destroy()
    const lock = JSON.parse(readFileSync(path.join(dir, 'lockfile.json'), 'utf8')) as {layers: {flag: {channels: Record<string, unknown>}}}
    expect(lock.layers.flag.channels.prod).toEqual(lock.layers.flag.channels.beta)

    // Again: nothing to move or write.
    const again = await layers(['promote', 'flag', '--from', 'beta', '--to', 'prod'])
    expect(again.code, again.stderr).toBe(0)
    expect(again.json.parameters.summary).toMatchObject({written: 0, unchanged: 1, stale: 0})
  })
})
