// End to end through the built CLI against the local AWS test server (updates take 150 ms, so every
// wait for LastUpdateStatus is real): deploy (code from S3, then the locked layers), deploy again (no
// write), changed code (--dry-run writes nothing; then exactly one UpdateFunctionCode), a 60 MB package
// (multipart upload, code from S3 as Lambda requires above 50 MB), --alias live (a version published,
// the alias made), a weighted shift (--traffic 10), the full move and rollback, SIGINT after the code
// update (no version, no alias; the rerun does only those), credentials of another account (refused
// before anything is read or written in the manifest's account), and a function terraform owns
// (refused unless --force).
import {createHash, randomBytes} from 'node:crypto'
import {readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {GetAliasCommand, GetFunctionConfigurationCommand, TagResourceCommand} from '@aws-sdk/client-lambda'
import {Ajv} from 'ajv'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startAwsServer, type AwsServer, type CallRecord} from '../../aws-double/index.js'
import {createFunction, DEV, EU, lambdaAs, makeProject, PROD, WRITE_OPERATIONS, type CliResult, type Project} from '../publish/support.js'

const validate = (name: string) => new Ajv({allErrors: true, strict: false}).compile(JSON.parse(readFileSync(path.resolve(import.meta.dirname, `../../schema/${name}.schema.json`), 'utf8')))
const validDeploy = validate('deploy')
const validRollback = validate('rollback')

const MANIFEST = `version: 1
settings:
  bucket: "deploy-{accountId}-{region}"
  architectures: [x86_64]
  runtimes: [nodejs22.x]
  ownershipTags: [ManagedBy=terraform]
accounts:
  dev: {id: "${DEV}", profile: dev, regions: [${EU}]}
layers:
  config:
    dir: layers/config
functions:
  api: {source: fns/api, handler: index.handler, runtime: nodejs22.x, architecture: x86_64, layers: [config], accounts: [dev]}
  big: {source: fns/big, handler: index.handler, runtime: nodejs22.x, architecture: x86_64, accounts: [dev]}
`

/** Every call that changes something in AWS (S3 and Lambda, versions and aliases included). */
const WRITES = new Set([...WRITE_OPERATIONS, 'PublishVersion', 'CreateAlias', 'UpdateAlias'])

let server: AwsServer
let project: Project

async function run(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult & {calls: CallRecord[]; writes: string[]}> {
  const mark = server.calls.length
  const result = await project.run(args, env)
  const calls = server.calls.slice(mark)
  return {...result, calls, writes: calls.filter((call) => WRITES.has(call.operation)).map((call) => call.operation)}
}

async function configuration(name: string) {
  return lambdaAs(server, DEV, EU).send(new GetFunctionConfigurationCommand({FunctionName: name}))
}

async function alias(name: string) {
  const reply = await lambdaAs(server, DEV, EU).send(new GetAliasCommand({FunctionName: name, Name: 'live'}))
  return {version: reply.FunctionVersion, weights: reply.RoutingConfig?.AdditionalVersionWeights ?? {}}
}

const CONFIG_ARN = `arn:aws:lambda:${EU}:${DEV}:layer:config:1`

beforeAll(async () => {
  server = await startAwsServer({updateDelayMs: 150})
  project = makeProject(server, {
    'layers.yaml': MANIFEST,
    'layers/config/nodejs/node_modules/cfg/index.js': 'module.exports = 1\n',
    'fns/api/index.js': 'exports.handler = async () => "v1"\n',
    'fns/big/index.js': 'exports.handler = async () => "big"\n',
  })
  await project.lock(['config'])
  const published = await project.run(['publish', '--json', '--create-bucket'])
  if (published.status !== 0) throw new Error(`publish failed: ${published.stderr}`)
  await createFunction(server, DEV, EU, 'api')
  await createFunction(server, DEV, EU, 'big')
}, 60_000)

afterAll(async () => {
  project?.remove()
  await server?.close()
})

describe('layers deploy', () => {
  it('uploads the package, updates the code from S3, waits for Successful, then puts the locked layers on', async () => {
    const result = await run(['deploy', 'api', '--json'])
    expect(result.status, result.stderr).toBe(0)
    expect(validDeploy(result.json), JSON.stringify(validDeploy.errors)).toBe(true)
    const outcome = result.json.functions[0]
    const key = `layers/functions/api/${Buffer.from(outcome.codeSha256, 'base64').toString('hex')}.zip`
    expect(outcome).toMatchObject({status: 'deployed', code: 'updated', s3: {bucket: `deploy-${DEV}-${EU}`, key, upload: 'uploaded'}, layers: {status: 'updated', before: [], after: [CONFIG_ARN]}})
    // The zip layers package wrote is what Lambda now runs (its base64 SHA-256 as CodeSha256).
    const zip = readFileSync(path.join(project.dir, '.layers', 'package', 'api.zip'))
    expect(outcome.codeSha256).toBe(createHash('sha256').update(zip).digest('base64'))
    const config = await configuration('api')
    expect(config).toMatchObject({CodeSha256: outcome.codeSha256, Layers: [{Arn: CONFIG_ARN}], LastUpdateStatus: 'Successful'})
    expect(result.writes).toEqual(['PutObject', 'UpdateFunctionCode', 'UpdateFunctionConfiguration'])
    // Account bound first; the layers update only after a read that saw the code update finished.
    const ops = result.calls.map((call) => call.operation)
    expect(ops[0]).toBe('GetCallerIdentity')
    const code = ops.indexOf('UpdateFunctionCode')
    expect(ops.slice(code + 1, ops.indexOf('UpdateFunctionConfiguration'))).toContain('GetFunctionConfiguration')
    // No Lambda call was refused (no ResourceConflictException from an update sent too early).
    expect(result.calls.filter((call) => call.service === 'lambda' && call.status >= 400)).toEqual([])
  })

  it('writes nothing when the code and the layers already match', async () => {
    const result = await run(['deploy', 'api', '--json'])
    expect(result.status, result.stderr).toBe(0)
    expect(result.json.functions[0]).toMatchObject({status: 'unchanged', code: 'unchanged', layers: {status: 'unchanged'}})
    expect(result.writes).toEqual([])
  })

  it('changed code: --dry-run writes nothing, then exactly one UpdateFunctionCode and no layer update', async () => {
    project.write('fns/api/index.js', 'exports.handler = async () => "v2"\n')
    const dry = await run(['deploy', 'api', '--dry-run', '--json'])
    expect(dry.status, dry.stderr).toBe(0)
    expect(dry.json.functions[0]).toMatchObject({status: 'would-deploy', code: 'would-update', s3: {upload: 'would-upload'}, layers: {status: 'unchanged'}})
    expect(dry.writes).toEqual([])
    const result = await run(['deploy', 'api', '--json'])
    expect(result.status, result.stderr).toBe(0)
    expect(result.json.functions[0]).toMatchObject({status: 'deployed', code: 'updated', layers: {status: 'unchanged'}})
    expect(result.writes).toEqual(['PutObject', 'UpdateFunctionCode'])
    expect((await configuration('api')).CodeSha256).toBe(result.json.functions[0].codeSha256)
  })

  it('sends a 60 MB package in parts and has Lambda take it from S3 (over the 50 MB direct limit)', async () => {
    // Random bytes do not compress: the zip stays above 60 MB.
    writeFileSync(path.join(project.dir, 'fns', 'big', 'blob.bin'), randomBytes(60 * 1024 * 1024))
    const result = await run(['deploy', 'big', '--json'])
    expect(result.status, result.stderr).toBe(0)
    expect(result.json.functions[0]).toMatchObject({status: 'deployed', code: 'updated', s3: {upload: 'uploaded'}})
    expect(result.writes.filter((op) => op === 'UploadPart').length).toBeGreaterThan(1)
    expect(result.writes.filter((op) => op !== 'UploadPart')).toEqual(['CreateMultipartUpload', 'CompleteMultipartUpload', 'UpdateFunctionCode'])
    const config = await configuration('big')
    expect(config.CodeSize).toBeGreaterThan(60 * 1024 * 1024)
    expect(config.CodeSha256).toBe(result.json.functions[0].codeSha256)
  }, 120_000)

  it('--publish --alias live, a weighted shift with --traffic 10, the full move, and rollback', async () => {
    const first = await run(['deploy', 'api', '--publish', '--alias', 'live', '--json'])
    expect(first.status, first.stderr).toBe(0)
    expect(first.json.functions[0]).toMatchObject({status: 'deployed', code: 'unchanged', version: '1', published: true, alias: {name: 'live', status: 'created', after: {functionVersion: '1', weights: {}}}})
    expect(first.writes).toEqual(['PublishVersion', 'CreateAlias'])
    expect(await alias('api')).toEqual({version: '1', weights: {}})

    project.write('fns/api/index.js', 'exports.handler = async () => "v3"\n')
    const shift = await run(['deploy', 'api', '--alias', 'live', '--traffic', '10', '--json'])
    expect(shift.status, shift.stderr).toBe(0)
    expect(validDeploy(shift.json), JSON.stringify(validDeploy.errors)).toBe(true)
    expect(shift.json.functions[0]).toMatchObject({code: 'updated', version: '2', alias: {status: 'moved', before: {functionVersion: '1', weights: {}}, after: {functionVersion: '1', weights: {'2': 0.1}}}})
    expect(shift.writes).toEqual(['PutObject', 'UpdateFunctionCode', 'PublishVersion', 'UpdateAlias'])
    expect(await alias('api')).toEqual({version: '1', weights: {'2': 0.1}})
    // The same shift again: nothing to write.
    expect((await run(['deploy', 'api', '--alias', 'live', '--traffic', '10', '--json'])).writes).toEqual([])

    // All of it to version 2: no new version (one with this code and these layers exists).
    const full = await run(['deploy', 'api', '--alias', 'live', '--json'])
    expect(full.json.functions[0]).toMatchObject({status: 'deployed', version: '2', published: false, alias: {status: 'moved', after: {functionVersion: '2', weights: {}}}})
    expect(full.writes).toEqual(['UpdateAlias'])
    expect(await alias('api')).toEqual({version: '2', weights: {}})

    const back = await run(['rollback', 'api', '--alias', 'live', '--json'])
    expect(back.status, back.stderr).toBe(0)
    expect(validRollback(back.json), JSON.stringify(validRollback.errors)).toBe(true)
    expect(back.json.functions[0]).toMatchObject({status: 'rolled-back', before: {functionVersion: '2'}, after: {functionVersion: '1', weights: {}}})
    expect(back.writes).toEqual(['UpdateAlias'])
    expect(await alias('api')).toEqual({version: '1', weights: {}})
  })

  it('SIGINT once the code is updated: exit 130, no version or alias written; the rerun publishes and moves the alias only', async () => {
    project.write('fns/api/index.js', 'exports.handler = async () => "v5"\n')
    const mark = server.calls.length
    const child = project.start(['deploy', 'api', '--alias', 'live'])
    let stderr = ''
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    const timer = setInterval(() => {
      if (server.calls.slice(mark).some((call) => call.operation === 'UpdateFunctionCode' && call.status === 200)) {
        clearInterval(timer)
        child.kill('SIGINT')
      }
    }, 2)
    const code = await new Promise<number | null>((resolve) => child.on('close', (exit) => resolve(exit)))
    clearInterval(timer)
    expect(code, stderr).toBe(130)
    expect(stderr).toContain('deploy interrupted by SIGINT:\n  interrupted: api dev/eu-west-1 (code updated; the rest not done)')
    const ops = server.calls.slice(mark).map((call) => call.operation)
    expect(ops.filter((op) => WRITES.has(op))).toEqual(['PutObject', 'UpdateFunctionCode'])
    const rerun = await run(['deploy', 'api', '--alias', 'live', '--json'])
    expect(rerun.status, rerun.stderr).toBe(0)
    expect(rerun.json.functions[0]).toMatchObject({status: 'deployed', code: 'unchanged', version: '3', published: true, alias: {status: 'moved', after: {functionVersion: '3'}}})
    expect(rerun.writes).toEqual(['PublishVersion', 'UpdateAlias'])
  })

  it('refuses credentials of another account before reading or writing anything in the manifest\'s', async () => {
    project.write('fns/api/index.js', 'exports.handler = async () => "v4"\n')
    const before = (await configuration('api')).CodeSha256
    const wrong = server.writeAwsConfig(path.join(project.dir, '.aws-wrong'), {default: {accountId: PROD}, dev: {accountId: PROD}})
    // A protected account without a terminal and without --yes: refused after reading, before any write (exit 2).
    project.write('layers.yaml', MANIFEST.replace(`profile: dev, regions`, `profile: dev, protected: true, regions`))
    try {
      const guarded = await run(['deploy', 'api', '--json'])
      expect(guarded.status).toBe(2)
      expect(guarded.json.error).toMatchObject({code: 'ERR_LAYERS_CONFIRMATION_REQUIRED', message: expect.stringContaining('layers deploy would change 1 function(s) in protected accounts')})
      expect(guarded.writes).toEqual([])
    } finally {
      project.write('layers.yaml', MANIFEST)
    }
    // A flag that needs another is refused before any AWS call (exit 2).
    const usage = await run(['deploy', 'api', '--traffic', '10', '--json'])
    expect(usage.status).toBe(2)
    expect(usage.json.error).toMatchObject({code: 'ERR_LAYERS_FLAG_VALUE', message: expect.stringContaining('--traffic needs --alias')})
    expect(usage.calls).toEqual([])
    const result = await run(['deploy', 'api', '--alias', 'live', '--json'], wrong)
    expect(result.status).toBe(1)
    expect(result.json.functions[0]).toMatchObject({status: 'failed', error: {code: 'ERR_LAYERS_ACCOUNT_MISMATCH', message: expect.stringContaining(`belong to account ${PROD}, not ${DEV}`)}})
    expect(result.calls.map((call) => `${call.accountId}:${call.operation}`)).toEqual([`${PROD}:GetCallerIdentity`])
    expect((await configuration('api')).CodeSha256).toBe(before)
  })

  it('refuses a function an ownership tag of the manifest says terraform owns, writing nothing, unless --force', async () => {
    const config = await configuration('api')
    await lambdaAs(server, DEV, EU).send(new TagResourceCommand({Resource: config.FunctionArn!, Tags: {ManagedBy: 'terraform'}}))
    const refused = await run(['deploy', 'api', '--json'])
    expect(refused.status).toBe(1)
    expect(refused.json.functions[0]).toMatchObject({status: 'refused', code: 'not-done', owner: {kind: 'tag', tag: 'ManagedBy=terraform'}, reasons: [expect.stringContaining('belongs to tag ManagedBy=terraform')]})
    expect(refused.writes).toEqual([])
    const forced = await run(['deploy', 'api', '--force', '--json'])
    expect(forced.status, forced.stderr).toBe(0)
    expect(forced.json.functions[0]).toMatchObject({status: 'deployed', code: 'updated'})
    expect(forced.writes).toEqual(['PutObject', 'UpdateFunctionCode'])
  })
})
