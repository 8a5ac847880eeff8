// End to end through the built CLI against the local AWS test server (updates take 150 ms) and the real
// loopback registry behind its ECR: two machines (two checkouts of one project) run `layers deploy img
// --image --create-repository --alias live` at once. Both build the same image (the build is
// deterministic), find no repository and create it at once (one is told it exists), push the image to it
// at the same time; their UpdateFunctionCode calls are held until both are at
// Lambda and then let go together, so one is applied and the other meets its update (in progress, or
// the RevisionId it moved). Both must end deployed on the image's digest: one code update, one new
// version, the alias on it, every upload the registry began finished; a rerun on either writes nothing.
// With other code on each, the one whose update Lambda applied wins and the other reports the conflict
// (exit 1: wait and run again), which its rerun then does, its image already in ECR.
import {CreateRepositoryCommand, ECRClient} from '@aws-sdk/client-ecr'
import {CreateFunctionCommand, GetAliasCommand, GetFunctionConfigurationCommand, ListVersionsByFunctionCommand} from '@aws-sdk/client-lambda'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startAwsServer, type AwsServer, type CallRecord} from '../../aws-double/index.js'
import {pushTestImage} from '../aws-double/helpers.js'
import {startOciRegistry, type OciRegistry} from '../support/oci-registry.js'
import {DEV, lambdaAs, makeProject, US, WRITE_OPERATIONS, type Project} from '../publish/support.js'

const MANIFEST = `version: 1
settings:
  architectures: [x86_64]
  runtimes: [nodejs22.x]
accounts:
  dev: {id: "${DEV}", profile: dev, regions: [${US}]}
functions:
  img: {source: fns/img, handler: index.handler, runtime: nodejs22.x, architecture: x86_64, accounts: [dev], image: {base: scratch, repository: fn/race}}
`
const FILES = {'layers.yaml': MANIFEST, 'fns/img/index.js': 'exports.handler = async () => "img"\n'}
const WRITES = new Set([...WRITE_OPERATIONS, 'PublishVersion', 'CreateAlias', 'UpdateAlias'])

let registry: OciRegistry
let server: AwsServer
let project: Project
/** A second machine's checkout of the same project. */
let other: Project

const lambda = () => lambdaAs(server, DEV, US)
const since = (mark: number, operation: string): CallRecord[] => server.calls.slice(mark).filter((call) => call.operation === operation)

interface Run {
  status: number | null
  json: {functions: Array<Record<string, any>>} // eslint-disable-line @typescript-eslint/no-explicit-any -- asserted field by field
  stderr: string
}

const DEPLOY = ['deploy', 'img', '--image', '--create-repository', '--alias', 'live', '--json']

/** Starts DEPLOY in `from`; resolves with its exit code and output. */
function deploy(from: Project): Promise<Run> {
  const child = from.start(DEPLOY)
  let stdout = ''
  let stderr = ''
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  return new Promise((resolve) => child.on('close', (status) => resolve({status, json: JSON.parse(stdout), stderr})))
}

/**
 * Both deploys start with `held` operations held: each of them (in order) until both runs' calls of it are
 * at the server, then let go together.
 */
async function together(held: string[]): Promise<[Run, Run]> {
  const mark = server.calls.length
  const heldOf = (operation: string) => since(mark, operation).filter((call) => call.fault === 'held')
  server.setFaults({hold: held})
  const runs = [deploy(project), deploy(other)]
  // A run that ended early (failed) never sends its call: no wait for it.
  let ended = 0
  for (const run of runs) void run.then(() => ended++)
  const deadline = Date.now() + 60_000
  for (const [index, operation] of held.entries()) {
    while (heldOf(operation).length + ended < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
    server.setFaults(index + 1 < held.length ? {hold: held.slice(index + 1)} : undefined)
  }
  const both = (await Promise.all(runs)) as [Run, Run]
  for (const operation of held) expect(heldOf(operation), `${operation}: ${both.map((run) => JSON.stringify(run.json)).join('\n')}`).toHaveLength(2)
  return both
}

beforeAll(async () => {
  registry = await startOciRegistry()
  server = await startAwsServer({updateDelayMs: 150, ecr: {registry: registry.url, password: registry.password}})
  const ecr = new ECRClient({region: US, endpoint: server.endpoint, credentials: server.credentials(DEV), maxAttempts: 1})
  await ecr.send(new CreateRepositoryCommand({repositoryName: 'fn/img'}))
  ecr.destroy()
  const v1 = await pushTestImage(registry, 'fn/img', 'v1')
  await lambda().send(new CreateFunctionCommand({FunctionName: 'img', Role: `arn:aws:iam::${DEV}:role/fn`, PackageType: 'Image', Code: {ImageUri: `${registry.host}/fn/img@${v1}`}}))
  project = makeProject(server, FILES)
  other = makeProject(server, FILES)
}, 60_000)

afterAll(async () => {
  project?.remove()
  other?.remove()
  await server?.close()
  await registry?.close()
})

describe('two machines deploy --image at once', () => {
  it('both end deployed on the one image: one code update, one version, the alias on it; every upload finished; reruns write nothing', async () => {
    const mark = server.calls.length
    const logMark = (await registry.settled()).length
    // Neither finds the repository: both create it at once.
    const [mine, theirs] = await together(['CreateRepository', 'UpdateFunctionCode'])

    expect(mine.status, mine.stderr).toBe(0)
    expect(theirs.status, theirs.stderr).toBe(0)
    const digest: string = mine.json.functions[0]!.image.digest
    expect(theirs.json.functions[0]!.image.digest).toBe(digest)
    for (const run of [mine, theirs]) expect(run.json.functions[0]).toMatchObject({status: 'deployed', code: 'updated', codeSha256: digest.slice(7), version: '1', alias: {name: 'live', after: {functionVersion: '1'}}})
    // Lambda applied one image update; the other met it (409 in progress, or 412 its moved RevisionId).
    expect(since(mark, 'UpdateFunctionCode').filter((call) => call.status !== 0).map((call) => call.status).sort()).toEqual([200, expect.toBeOneOf([409, 412])])

    expect(await lambda().send(new GetFunctionConfigurationCommand({FunctionName: 'img'}))).toMatchObject({CodeSha256: digest.slice(7), LastUpdateStatus: 'Successful'})
    const versions = (await lambda().send(new ListVersionsByFunctionCommand({FunctionName: 'img'}))).Versions ?? []
    expect(versions.map((version) => [version.Version, version.CodeSha256])).toEqual([
      ['$LATEST', digest.slice(7)],
      ['1', digest.slice(7)],
    ])
    expect((await lambda().send(new GetAliasCommand({FunctionName: 'img', Name: 'live'}))).FunctionVersion).toBe('1')
    // Every blob upload either machine began at the registry was finished (none left open); the image is there by digest.
    const log = (await registry.settled()).slice(logMark)
    const begun = log.filter((request) => request.method === 'POST' && request.uri.includes('/blobs/uploads/') && request.status === 202)
    const finished = log.filter((request) => request.method === 'PUT' && request.uri.includes('/blobs/uploads/') && request.status === 201)
    expect(finished).toHaveLength(begun.length)
    expect(log.filter((request) => request.method === 'PUT' && request.uri === `/v2/fn/race/manifests/${digest}`).every((request) => request.status === 201)).toBe(true)

    // Either machine's rerun finds everything in place: no write, no blob sent.
    for (const from of [project, other]) {
      const before = server.calls.length
      const sentBefore = (await registry.settled()).length
      const rerun = await from.run(DEPLOY)
      expect(rerun.status, rerun.stderr).toBe(0)
      expect(rerun.json.functions[0]).toMatchObject({status: 'unchanged', version: '1', image: {digest}})
      expect(server.calls.slice(before).filter((call) => WRITES.has(call.operation))).toEqual([])
      expect((await registry.settled()).slice(sentBefore).filter((request) => request.method === 'POST' || request.method === 'PATCH')).toEqual([])
    }
  }, 120_000)

  it('with other code, one wins and the other reports the conflict (exit 1, retryable); its rerun then deploys its own image', async () => {
    project.write('fns/img/index.js', 'exports.handler = async () => "mine"\n')
    other.write('fns/img/index.js', 'exports.handler = async () => "theirs"\n')
    const runs = await together(['UpdateFunctionCode'])
    expect(runs.map((run) => run.status).sort(), runs.map((run) => run.stderr).join('\n')).toEqual([0, 1])
    const winner = runs.find((run) => run.status === 0)!.json.functions[0]!
    const loserRun = runs.find((run) => run.status === 1)!
    const loser = loserRun.json.functions[0]!
    expect(winner).toMatchObject({status: 'deployed', code: 'updated', version: '2', alias: {after: {functionVersion: '2'}}})
    expect(loser).toMatchObject({status: 'conflict', code: 'not-done', error: {code: 'ERR_LAYERS_DEPLOY_CONFLICT', message: expect.stringContaining('(UpdateFunctionCode: '), hint: expect.stringContaining('run `layers deploy` again')}})
    expect(loser.image.digest).not.toBe(winner.image.digest)
    expect((await lambda().send(new GetFunctionConfigurationCommand({FunctionName: 'img'}))).CodeSha256).toBe(winner.codeSha256)
    expect(((await lambda().send(new ListVersionsByFunctionCommand({FunctionName: 'img'}))).Versions ?? []).map((version) => version.Version)).toEqual(['$LATEST', '1', '2'])
    expect((await lambda().send(new GetAliasCommand({FunctionName: 'img', Name: 'live'}))).FunctionVersion).toBe('2')

    // The loser's image is in ECR already: its rerun deploys it without sending a blob.
    const from = loserRun === runs[0] ? project : other
    const sentBefore = (await registry.settled()).length
    const rerun = await from.run(DEPLOY)
    expect(rerun.status, rerun.stderr).toBe(0)
    expect(rerun.json.functions[0]).toMatchObject({status: 'deployed', code: 'updated', version: '3', image: {digest: loser.image.digest}})
    expect((await registry.settled()).slice(sentBefore).filter((request) => request.method === 'POST' || request.method === 'PATCH')).toEqual([])
  }, 120_000)
})
