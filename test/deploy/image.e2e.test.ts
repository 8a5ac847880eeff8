// End to end through the built CLI against the local AWS test server and the real loopback registry
// behind its ECR (updates take 150 ms, so every wait for LastUpdateStatus is real): `layers deploy
// FUNCTION --image-uri` on an Image function (exactly one UpdateFunctionCode, no layer update; again:
// no write), a Zip function refused (exit 2, the hint says how to recreate it), a digest the registry
// does not hold (Lambda's refusal, naming the function, account and region), a tag refused before any
// AWS call, a zip deploy to the Image function refused pointing at --image-uri, and --alias live
// (version published, alias made, moved by the next image) then rollback; a lost answer of the image
// update read back (one update, no conflict); --image builds and pushes the function's image to its
// ECR and deploys it by digest (again: no blob sent, no write), and is refused with --dry-run; before
// it pushes anything it reads the function (after STS): a Zip function is refused (exit 2) and a
// protected account without a terminal or --yes refused (exit 2), the registry's access log showing no
// upload and ECR no repository call; on several targets it goes ahead in all or none: a Zip function
// in one region, or a protected account without --yes, and no target gets the image (the error names
// each target in the way and says nothing was pushed); with --yes both accounts get the same image.
import {readFileSync} from 'node:fs'
import path from 'node:path'
import {CreateRepositoryCommand, ECRClient} from '@aws-sdk/client-ecr'
import {CreateFunctionCommand, GetAliasCommand, GetFunctionConfigurationCommand} from '@aws-sdk/client-lambda'
import {Ajv} from 'ajv'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startAwsServer, type AwsServer, type CallRecord} from '../../aws-double/index.js'
import {pushTestImage} from '../aws-double/helpers.js'
import {startOciRegistry, type OciRegistry} from '../support/oci-registry.js'
import {createFunction, DEV, EU, lambdaAs, makeProject, PROD, US, WRITE_OPERATIONS, type CliResult, type Project} from '../publish/support.js'

const validDeploy = new Ajv({allErrors: true, strict: false}).compile(JSON.parse(readFileSync(path.resolve(import.meta.dirname, '../../schema/deploy.schema.json'), 'utf8')))

const MANIFEST = `version: 1
settings:
  bucket: "deploy-{accountId}-{region}"
  architectures: [x86_64]
  runtimes: [nodejs22.x]
accounts:
  dev: {id: "${DEV}", profile: dev, regions: [${US}]}
functions:
  img: {source: fns/img, handler: index.handler, runtime: nodejs22.x, architecture: x86_64, accounts: [dev], image: {base: scratch, repository: fn/img}}
  api: {source: fns/api, handler: index.handler, runtime: nodejs22.x, architecture: x86_64, accounts: [dev]}
`

const WRITES = new Set([...WRITE_OPERATIONS, 'PublishVersion', 'CreateAlias', 'UpdateAlias'])

let registry: OciRegistry
let server: AwsServer
let project: Project
let v1: string
let v2: string

const uri = (digest: string) => `${registry.host}/fn/img@${digest}`

async function run(args: string[]): Promise<CliResult & {calls: CallRecord[]; writes: string[]}> {
  const mark = server.calls.length
  const result = await project.run(args)
  const calls = server.calls.slice(mark)
  return {...result, calls, writes: calls.filter((call) => WRITES.has(call.operation)).map((call) => call.operation)}
}

const lambda = () => lambdaAs(server, DEV, US)

/** The run's uploads (blob POST/PUT, manifest PUT) as the registry logged them, and its ECR operations. */
async function pushing(args: string[]) {
  const before = (await registry.settled()).length
  const result = await run(args)
  const uploads = (await registry.settled()).slice(before).filter((request) => request.method === 'POST' || request.method === 'PUT' || request.method === 'PATCH')
  return {...result, uploads, ecr: result.calls.filter((call) => call.service === 'ecr').map((call) => call.operation)}
}

beforeAll(async () => {
  registry = await startOciRegistry()
  server = await startAwsServer({updateDelayMs: 150, ecr: {registry: registry.url, password: registry.password}})
  const ecr = new ECRClient({region: US, endpoint: server.endpoint, credentials: server.credentials(DEV), maxAttempts: 1})
  await ecr.send(new CreateRepositoryCommand({repositoryName: 'fn/img'}))
  ecr.destroy()
  v1 = await pushTestImage(registry, 'fn/img', 'v1')
  v2 = await pushTestImage(registry, 'fn/img', 'v2')
  await lambda().send(new CreateFunctionCommand({FunctionName: 'img', Role: `arn:aws:iam::${DEV}:role/fn`, PackageType: 'Image', Code: {ImageUri: uri(v1)}}))
  await createFunction(server, DEV, US, 'api')
  project = makeProject(server, {'layers.yaml': MANIFEST, 'fns/img/index.js': 'exports.handler = async () => "img"\n', 'fns/api/index.js': 'exports.handler = async () => "api"\n'})
}, 60_000)

afterAll(async () => {
  project?.remove()
  await server?.close()
  await registry?.close()
})

describe('layers deploy --image-uri', () => {
  it('puts the image on with exactly one UpdateFunctionCode and no layer update, waiting for Successful; again writes nothing', async () => {
    const result = await run(['deploy', 'img', '--image-uri', uri(v2), '--json'])
    expect(result.status, result.stderr).toBe(0)
    expect(validDeploy(result.json), JSON.stringify(validDeploy.errors)).toBe(true)
    expect(result.json.functions[0]).toMatchObject({status: 'deployed', code: 'updated', codeSha256: v2.slice(7), previousCodeSha256: v1.slice(7), image: {uri: uri(v2), digest: v2}, layers: {status: 'unchanged', before: [], after: []}})
    expect(result.json.functions[0].s3).toBeUndefined()
    expect(result.writes).toEqual(['UpdateFunctionCode'])
    expect(result.calls[0]?.operation).toBe('GetCallerIdentity')
    // The wait was real: a read after the update saw it finish.
    const ops = result.calls.map((call) => call.operation)
    expect(ops.slice(ops.indexOf('UpdateFunctionCode') + 1)).toContain('GetFunctionConfiguration')
    expect(await lambda().send(new GetFunctionConfigurationCommand({FunctionName: 'img'}))).toMatchObject({CodeSha256: v2.slice(7), LastUpdateStatus: 'Successful', PackageType: 'Image'})

    const again = await run(['deploy', 'img', '--image-uri', uri(v2), '--json'])
    expect(again.status, again.stderr).toBe(0)
    expect(again.json.functions[0]).toMatchObject({status: 'unchanged', code: 'unchanged'})
    expect(again.writes).toEqual([])
  })

  it('refuses a Zip function (exit 2) with the way to recreate it as an Image function, and a tag before any AWS call', async () => {
    const zip = await run(['deploy', 'api', '--image-uri', uri(v2), '--json'])
    expect(zip.status, zip.stderr).toBe(2)
    expect(validDeploy(zip.json), JSON.stringify(validDeploy.errors)).toBe(true)
    expect(zip.json).toMatchObject({dryRun: false, summary: {targets: 1, deployed: 0, refused: 1}})
    expect(zip.json.functions[0]).toMatchObject({status: 'refused', code: 'unchanged', error: {code: 'ERR_LAYERS_PACKAGE_TYPE'}})
    expect(zip.json.functions[0].error.message).toContain(`api in account ${DEV} (dev), region ${US} is a .zip function (PackageType Zip)`)
    expect(zip.stderr).toContain('aws lambda delete-function --function-name api')
    expect(zip.stderr).toContain(`--package-type Image --code ImageUri=${uri(v2)}`)
    expect(zip.writes).toEqual([])

    const tag = await run(['deploy', 'img', '--image-uri', `${registry.host}/fn/img:v2`, '--json'])
    expect(tag.status).toBe(2)
    expect(tag.json.error).toMatchObject({code: 'ERR_LAYERS_FLAG_VALUE', message: expect.stringContaining('by tag v2, not by digest')})
    expect(tag.calls).toEqual([])
  })

  it('surfaces Lambda refusing a digest the registry does not hold, naming the function, account and region', async () => {
    const missing = `sha256:${'0'.repeat(64)}`
    const result = await run(['deploy', 'img', '--image-uri', uri(missing), '--json'])
    expect(result.status).toBe(1)
    expect(result.json.functions[0]).toMatchObject({status: 'failed', code: 'not-done', error: {code: 'ERR_LAYERS_IMAGE_REFUSED'}})
    const {message, hint} = result.json.functions[0].error
    expect(message).toBe(`Lambda refused image ${uri(missing)} for img in account ${DEV} (dev), region ${US}: Source image ${uri(missing)} does not exist. Provide a valid source image.`)
    expect(hint).toContain('layers image')
    expect(result.writes).toEqual(['UpdateFunctionCode'])
    expect((await lambda().send(new GetFunctionConfigurationCommand({FunctionName: 'img'}))).CodeSha256).toBe(v2.slice(7))
  })

  it('refuses a zip deploy to the Image function (exit 2), pointing at --image-uri', async () => {
    expect((await project.run(['lock', '--json'])).status).toBe(0)
    const result = await run(['deploy', 'img', '--json'])
    expect(result.status, result.stderr).toBe(2)
    expect(result.json.functions[0]).toMatchObject({status: 'refused', error: {code: 'ERR_LAYERS_PACKAGE_TYPE'}})
    expect(result.json.functions[0].error.hint).toContain('layers deploy img --image-uri')
    expect(result.writes).toEqual([])
  })

  it('--alias live publishes a version of the image and points the alias at it; the next image moves it; rollback moves it back', async () => {
    const first = await run(['deploy', 'img', '--image-uri', uri(v2), '--alias', 'live', '--json'])
    expect(first.status, first.stderr).toBe(0)
    expect(first.json.functions[0]).toMatchObject({status: 'deployed', code: 'unchanged', version: '1', published: true, alias: {name: 'live', status: 'created'}})
    expect(first.writes).toEqual(['PublishVersion', 'CreateAlias'])

    const second = await run(['deploy', 'img', '--image-uri', uri(v1), '--alias', 'live', '--json'])
    expect(second.status, second.stderr).toBe(0)
    expect(second.json.functions[0]).toMatchObject({status: 'deployed', code: 'updated', version: '2', published: true, alias: {status: 'moved', before: {functionVersion: '1'}, after: {functionVersion: '2'}}})
    expect(second.writes).toEqual(['UpdateFunctionCode', 'PublishVersion', 'UpdateAlias'])

    const back = await run(['rollback', 'img', '--alias', 'live', '--json'])
    expect(back.status, back.stderr).toBe(0)
    expect(back.writes).toEqual(['UpdateAlias'])
    expect((await lambda().send(new GetAliasCommand({FunctionName: 'img', Name: 'live'}))).FunctionVersion).toBe('1')
    // Version 1 still runs the first image.
    expect((await lambda().send(new GetFunctionConfigurationCommand({FunctionName: 'img', Qualifier: '1'}))).CodeSha256).toBe(v2.slice(7))
  })

  it('a lost answer of UpdateFunctionCode ImageUri is read back, not reported as a conflict: one image update, the rerun writes nothing', async () => {
    const mark = server.calls.length
    server.setFaults({loseAnswers: 1, loseAnswerAs: 'error', operations: ['UpdateFunctionCode']})
    const result = await project.run(['deploy', 'img', '--image-uri', uri(v2), '--json'])
    server.setFaults(undefined)
    expect(result.status, result.stderr).toBe(0)
    const updates = server.calls.slice(mark).filter((call) => call.operation === 'UpdateFunctionCode')
    expect(updates[0]?.fault).toBe('lost')
    // The SDK's retry met the update the first call started, and was refused: one update applied.
    expect(updates.slice(1).every((call) => call.status === 409 || call.status === 412)).toBe(true)
    expect(result.json.functions[0]).toMatchObject({status: 'deployed', code: 'updated'})
    expect((await lambda().send(new GetFunctionConfigurationCommand({FunctionName: 'img'}))).CodeSha256).toBe(v2.slice(7))
    const rerun = await run(['deploy', 'img', '--image-uri', uri(v2), '--json'])
    expect(rerun.json.functions[0]).toMatchObject({status: 'unchanged'})
    expect(rerun.writes).toEqual([])
  })

  it('--image reads the function before pushing: a Zip function, and a protected account without --yes, are refused (exit 2) with nothing uploaded', async () => {
    const zip = await pushing(['deploy', 'api', '--image', '--base', 'scratch', '--repository', 'fn/img', '--json'])
    expect(zip.status, zip.stderr).toBe(2)
    expect(validDeploy(zip.json), JSON.stringify(validDeploy.errors)).toBe(true)
    expect(zip.json).toMatchObject({dryRun: false, summary: {targets: 1, deployed: 0, refused: 1}})
    expect(zip.json.functions[0]).toMatchObject({status: 'refused', code: 'unchanged', error: {code: 'ERR_LAYERS_PACKAGE_TYPE'}})
    expect(zip.stderr).toContain('aws lambda delete-function --function-name api')
    expect(zip.uploads).toEqual([])
    expect(zip.ecr).toEqual(['GetAuthorizationToken'])
    expect(zip.writes).toEqual([])
    // STS first, then (the ECR login of the build) the function is read.
    const ops = zip.calls.map((call) => call.operation)
    expect(ops[0]).toBe('GetCallerIdentity')
    expect(ops).toEqual(['GetCallerIdentity', 'GetAuthorizationToken', 'GetFunctionConfiguration'])

    project.write('layers.yaml', MANIFEST.replace('profile: dev, regions', 'profile: dev, protected: true, regions'))
    project.write('fns/img/index.js', 'exports.handler = async () => "img protected"\n')
    try {
      const guarded = await pushing(['deploy', 'img', '--image', '--json'])
      expect(guarded.status, guarded.stderr).toBe(2)
      expect(guarded.json.error).toMatchObject({code: 'ERR_LAYERS_CONFIRMATION_REQUIRED', message: expect.stringContaining('layers deploy would change 1 function(s) in protected accounts')})
      expect(guarded.uploads).toEqual([])
      expect(guarded.ecr).toEqual(['GetAuthorizationToken'])
      expect(guarded.writes).toEqual([])
    } finally {
      project.write('layers.yaml', MANIFEST)
      project.write('fns/img/index.js', 'exports.handler = async () => "img"\n')
    }
  })

  it('--image builds the image, pushes it to the function\'s ECR and deploys it by digest; again sends no blob and writes nothing; refused with --dry-run', async () => {
    // The base and the repository come from the function's image: settings.
    const args = ['deploy', 'img', '--image', '--json']
    const first = await run(args)
    expect(first.status, first.stderr).toBe(0)
    const digest: string = first.json.functions[0].image.digest
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/)
    expect(first.json.functions[0]).toMatchObject({status: 'deployed', code: 'updated', codeSha256: digest.slice(7), image: {uri: uri(digest)}})
    expect(first.writes).toEqual(['UpdateFunctionCode'])
    // The account is checked once, before the push, for the push and the deploy.
    expect(first.calls.filter((call) => call.operation === 'GetCallerIdentity')).toHaveLength(1)
    expect(first.calls[0]?.operation).toBe('GetCallerIdentity')
    expect((await lambda().send(new GetFunctionConfigurationCommand({FunctionName: 'img'}))).CodeSha256).toBe(digest.slice(7))

    const before = (await registry.settled()).length
    const again = await run(args)
    expect(again.status, again.stderr).toBe(0)
    expect(again.json.functions[0]).toMatchObject({status: 'unchanged', image: {digest}})
    expect(again.writes).toEqual([])
    const sent = (await registry.settled()).slice(before).filter((request) => request.method === 'POST' || (request.method === 'PUT' && request.uri.includes('/blobs/')))
    expect(sent).toEqual([])

    const dry = await run([...args, '--dry-run'])
    expect(dry.status).toBe(2)
    expect(dry.calls).toEqual([])
  })

  it('--image on several targets goes ahead in all or none: a Zip function in one region, or a protected account without --yes, and nothing is pushed anywhere (exit 2)', async () => {
    await createFunction(server, DEV, EU, 'img')
    const ecr = new ECRClient({region: US, endpoint: server.endpoint, credentials: server.credentials(PROD), maxAttempts: 1})
    await ecr.send(new CreateRepositoryCommand({repositoryName: 'fn/img'}))
    ecr.destroy()
    await lambdaAs(server, PROD, US).send(new CreateFunctionCommand({FunctionName: 'img', Role: `arn:aws:iam::${PROD}:role/fn`, PackageType: 'Image', Code: {ImageUri: uri(v1)}}))
    server.writeAwsConfig(path.join(project.dir, '.aws'), {default: {accountId: DEV}, dev: {accountId: DEV}, prod: {accountId: PROD}})
    const devImage = (await lambda().send(new GetFunctionConfigurationCommand({FunctionName: 'img'}))).CodeSha256
    project.write('fns/img/index.js', 'exports.handler = async () => "img everywhere"\n')
    try {
      // dev us-east-1 would take the image; dev eu-west-1 is a Zip function.
      project.write('layers.yaml', MANIFEST.replace(`regions: [${US}]}`, `regions: [${US}, ${EU}]}`))
      const zip = await pushing(['deploy', 'img', '--image', '--json'])
      expect(zip.status, zip.stderr).toBe(2)
      expect(validDeploy(zip.json), JSON.stringify(validDeploy.errors)).toBe(true)
      expect(zip.json.summary).toEqual({targets: 2, deployed: 0, unchanged: 0, refused: 1, conflicts: 0, failed: 0, notStarted: 1})
      expect(zip.json.functions).toMatchObject([
        {region: EU, status: 'refused', code: 'unchanged', error: {code: 'ERR_LAYERS_PACKAGE_TYPE'}},
        {region: US, status: 'not-started', code: 'not-done'},
      ])
      expect(zip.stderr).toContain(`img in account ${DEV} (dev), region ${EU} is a .zip function`)
      expect(zip.stderr).toContain('The image was pushed nowhere and no function was changed')
      expect(zip.uploads).toEqual([])
      expect(zip.ecr.every((operation) => operation === 'GetAuthorizationToken')).toBe(true)
      expect(zip.writes).toEqual([])

      // dev takes it without asking; prod is protected, and there is no terminal to ask on.
      const twoAccounts = MANIFEST.replace('accounts: [dev], image', 'accounts: [dev, prod], image').replace('accounts:\n', `accounts:\n  prod: {id: "${PROD}", profile: prod, protected: true, regions: [${US}]}\n`)
      project.write('layers.yaml', twoAccounts)
      const guarded = await pushing(['deploy', 'img', '--image', '--json'])
      expect(guarded.status, guarded.stderr).toBe(2)
      expect(guarded.json.error).toMatchObject({code: 'ERR_LAYERS_CONFIRMATION_REQUIRED', message: expect.stringContaining(`img in prod (${PROD})/${US}`)})
      expect(guarded.json.error.message).toContain('nothing was pushed to ECR and nothing was deployed')
      expect(guarded.json.error.message).not.toContain(`(${DEV})`)
      expect(guarded.uploads).toEqual([])
      expect(guarded.writes).toEqual([])
      expect((await lambda().send(new GetFunctionConfigurationCommand({FunctionName: 'img'}))).CodeSha256).toBe(devImage)

      // With --yes both take the same image, each from its own account's ECR.
      const both = await run(['deploy', 'img', '--image', '--yes', '--json'])
      expect(both.status, both.stderr).toBe(0)
      expect(both.json.functions.map((outcome: {accountId: string; status: string}) => [outcome.accountId, outcome.status])).toEqual([[DEV, 'deployed'], [PROD, 'deployed']])
      expect(new Set(both.json.functions.map((outcome: {image: {digest: string}}) => outcome.image.digest)).size).toBe(1)
      expect(both.writes).toEqual(['UpdateFunctionCode', 'UpdateFunctionCode'])
    } finally {
      project.write('layers.yaml', MANIFEST)
      project.write('fns/img/index.js', 'exports.handler = async () => "img"\n')
    }
  })
})
