// `layers image --push` under faults, through the built CLI, the real registry (docker-registry on
// loopback) behind a proxy that can stall it (test/support/stalling-proxy.ts) and the aws-double's ECR
// in front of the proxy: a registry that stops answering mid-upload ends the push within the time
// bounds (exit 1) naming the registry, the repository and the blob it waited for, and the rerun
// uploads only the blobs missing (same digest); Ctrl-C during an upload cuts it (exit 130) saying what
// the repository got and that the manifest was not put, leaves no temp file, and the rerun converges;
// credentials of another account are refused by STS before any ECR call or registry request (image
// --push and deploy --image alike); deploy --image interrupted while it pushes changes no function.
import {readdirSync} from 'node:fs'
import path from 'node:path'
import {CreateFunctionCommand} from '@aws-sdk/client-lambda'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startAwsServer, type AwsServer} from '../../aws-double/index.js'
import {DEV, EU, lambdaAs, makeProject, PROD, type Project} from '../publish/support.js'
import {startOciRegistry, type OciRegistry} from '../support/oci-registry.js'
import {startStallingProxy, type ProxiedRequest, type StallingProxy} from '../support/stalling-proxy.js'

const MANIFEST = `version: 1
settings:
  bucket: "imagefault-{accountId}-{region}"
  architectures: [x86_64]
  runtimes: [nodejs22.x]
accounts:
  dev: {id: "${DEV}", profile: dev, regions: [${EU}]}
layers:
  first:
    dir: layers/first
functions:
  api: {source: fns/api, handler: index.handler, runtime: nodejs22.x, architecture: x86_64, layers: [first], accounts: [dev]}
`

let registry: OciRegistry
let proxy: StallingProxy
let server: AwsServer
let project: Project
/** The image's digest, built offline: what every push must end with. */
let digest: string

/** The image's three blobs (the layer, the code, the config) are each uploaded by POST then PUT; stall all but the first PUT. */
const blobPut = (request: ProxiedRequest) => request.method === 'PUT' && request.url.includes('/blobs/uploads/')
const push = (repository: string) => ['image', 'api', '--base', 'scratch', '--push', '--repository', repository, '--json']
const target = `dev (${DEV}) ${EU}`

/** The blob uploads (PUTs) the registry answered while `run` ran. */
async function uploadsDuring<T>(run: () => Promise<T>): Promise<{result: T; uploads: number}> {
  const before = (await registry.settled()).length
  const result = await run()
  return {result, uploads: (await registry.settled()).slice(before).filter((request) => blobPut({method: request.method, url: request.uri})).length}
}

/**
 * Starts the CLI with the blob uploads after the first `skip` stalled, and sends SIGINT once one is
 * held; `seconds` from the SIGINT to the exit.
 */
async function interruptedUpload(args: string[], skip: number): Promise<{code: number | null; stdout: string; stderr: string; seconds: number}> {
  proxy.stall(blobPut, skip)
  const child = project.start(args)
  let stdout = ''
  let stderr = ''
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  let sentAt = Number.NaN
  const timer = setInterval(() => {
    if (proxy.stalled.length > 0) {
      clearInterval(timer)
      sentAt = performance.now()
      child.kill('SIGINT')
    }
  }, 5)
  const code = await new Promise<number | null>((resolve) => child.on('close', (exit) => resolve(exit)))
  clearInterval(timer)
  proxy.release()
  return {code, stdout, stderr, seconds: (performance.now() - sentAt) / 1000}
}

/** Temp files (tempPath's `.NAME.PID.HEX.tmp`) anywhere in the project. */
function tempFiles(): string[] {
  return readdirSync(project.dir, {recursive: true, encoding: 'utf8'}).filter((file) => /^\..*\.\d+\.[0-9a-f]{8}\.tmp$/.test(path.basename(file)))
}

beforeAll(async () => {
  registry = await startOciRegistry()
  proxy = await startStallingProxy(registry.url)
  server = await startAwsServer({ecr: {registry: proxy.url, password: registry.password}})
  project = makeProject(server, {'layers.yaml': MANIFEST, 'layers/first/config.json': '{"stage": 1}\n', 'fns/api/index.js': 'exports.handler = async () => "ok"\n'})
  await project.lock()
  const built = await project.run(['build', '--json'])
  expect(built.status, built.stderr).toBe(0)
  const offline = await project.run(['image', 'api', '--base', 'scratch', '--json'])
  expect(offline.status, offline.stderr).toBe(0)
  digest = offline.json.digest
}, 60_000)

afterAll(async () => {
  project?.remove()
  await server?.close()
  await proxy?.close()
  await registry?.close()
})

describe('layers image --push under faults', () => {
  it('a registry that stalls mid-upload: exit 1 within the time bounds naming the registry, repository and blob; the rerun uploads only what is missing', async () => {
    proxy.stall(blobPut, 1)
    const started = performance.now()
    const stalled = await project.run([...push('fn/stall'), '--create-repository', '--read-timeout', '1'])
    const seconds = (performance.now() - started) / 1000
    proxy.release()
    expect(stalled.status, stalled.stderr).toBe(1)
    // Three attempts of one second each, and their backoff.
    expect(seconds).toBeLessThan(12)
    expect(proxy.stalled).toHaveLength(3)
    expect(stalled.json.error).toMatchObject({code: 'ERR_LAYERS_REGISTRY', details: {registry: proxy.host}})
    expect(stalled.json.error.message).toMatch(new RegExp(`^Registry ${proxy.host}: uploading blob sha256:[0-9a-f]{64} \\(\\d+ bytes\\) to fn/stall: nothing came back for 1 s \\(--read-timeout\\)\\.$`))

    const {result: rerun, uploads} = await uploadsDuring(() => project.run(push('fn/stall')))
    expect(rerun.status, rerun.stderr).toBe(0)
    expect(rerun.json.pushes[0]).toMatchObject({digest, repositoryCreated: false, blobsPushed: 2, blobsSkipped: 1, blobsMounted: 0})
    expect(uploads).toBe(2)
  })

  it('SIGINT during an upload: the upload is cut, exit 130 saying what the repository got; no temp file; the rerun converges', async () => {
    const {code, stdout, stderr, seconds} = await interruptedUpload([...push('fn/sigint'), '--create-repository'], 1)
    expect(code, stderr).toBe(130)
    // Cut at once, not after the 30 s read timeout of the upload the registry never answers.
    expect(seconds).toBeLessThan(5)
    const error = JSON.parse(stdout).error
    const inFlight = {registry: proxy.host, repository: 'fn/sigint', blobs: 3, blobsPushed: 1, blobsSkipped: 0, blobsMounted: 0, manifestPut: false}
    expect(error).toMatchObject({code: 'ERR_LAYERS_INTERRUPTED', exitCode: 130, details: {signal: 'SIGINT', output: null, pushed: [], notPushed: [target], inFlight}})
    expect(error.message).toBe(`layers image interrupted by SIGINT: no OCI layout was written; pushed to no target; not pushed to ${target} (${target}: 1 of 3 blobs uploaded, 0 already there, 0 mounted; the manifest not put (the image is not there)).`)
    expect(tempFiles()).toEqual([])

    const {result: rerun, uploads} = await uploadsDuring(() => project.run(push('fn/sigint')))
    expect(rerun.status, rerun.stderr).toBe(0)
    expect(rerun.json.pushes[0]).toMatchObject({digest, blobsPushed: 2, blobsSkipped: 1})
    expect(uploads).toBe(2)
  }, 30_000)

  it('deploy --image: SIGINT during the push exits 130 with no function changed; the rerun pushes what is missing and deploys', async () => {
    // An Image function running the image the first test pushed to fn/stall; then other code.
    await lambdaAs(server, DEV, EU).send(new CreateFunctionCommand({FunctionName: 'api', Role: `arn:aws:iam::${DEV}:role/fn`, PackageType: 'Image', Code: {ImageUri: `${proxy.host}/fn/stall@${digest}`}}))
    project.write('fns/api/index.js', 'exports.handler = async () => "v2"\n')
    const deploy = ['deploy', 'api', '--image', '--base', 'scratch', '--repository', 'fn/stall', '--json']
    const mark = server.calls.length
    const {code, stdout, stderr, seconds} = await interruptedUpload(deploy, 0)
    expect(code, stderr).toBe(130)
    expect(seconds).toBeLessThan(5)
    const error = JSON.parse(stdout).error
    // The layer blob is there already; the code's upload was cut.
    expect(error.message).toBe(`layers deploy interrupted by SIGINT while pushing the image of api: pushed to no target; not pushed to ${target} (${target}: 0 of 3 blobs uploaded, 1 already there, 0 mounted; the manifest not put (the image is not there)); no function was changed.`)
    expect(server.calls.slice(mark).filter((call) => call.service === 'lambda' && !/^(Get|List)/.test(call.operation))).toEqual([])
    expect(tempFiles()).toEqual([])

    const {result: rerun, uploads} = await uploadsDuring(() => project.run(deploy))
    expect(rerun.status, rerun.stderr).toBe(0)
    expect(rerun.json.functions[0]).toMatchObject({status: 'deployed', code: 'updated', previousCodeSha256: digest.slice(7)})
    expect(uploads).toBe(2)
  })

  it('credentials of another account: refused by STS before any ECR call or registry request (image --push and deploy --image)', async () => {
    const wrong = server.writeAwsConfig(path.join(project.dir, '.aws-wrong'), {default: {accountId: PROD}, dev: {accountId: PROD}})
    for (const args of [[...push('fn/wrong'), '--create-repository'], ['deploy', 'api', '--image', '--base', 'scratch', '--repository', 'fn/wrong', '--create-repository', '--json']]) {
      const mark = server.calls.length
      const {result, uploads} = await uploadsDuring(() => project.run(args, wrong))
      expect(result.status, result.stderr).toBe(1)
      expect(result.json.error).toMatchObject({code: 'ERR_LAYERS_ACCOUNT_MISMATCH', message: expect.stringContaining(`belong to account ${PROD}, not ${DEV}`)})
      expect(server.calls.slice(mark).map((call) => `${call.accountId}:${call.operation}`), args[0]).toEqual([`${PROD}:GetCallerIdentity`])
      expect(uploads).toBe(0)
    }
    expect((await registry.settled()).filter((request) => request.uri.includes('fn/wrong'))).toEqual([])
  })
})
