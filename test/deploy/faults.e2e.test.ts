// layers deploy under faults, through the built CLI against the local AWS double (updates take 150 ms):
// --direct-upload (the zip in UpdateFunctionCode, no bucket; a package over 50 MB refused before any AWS
// call); a stalled UpdateFunctionCode ends within the time bounds naming the call, function, account and
// region (exit 1) and the rerun converges; answers of UpdateFunctionCode, PublishVersion and UpdateAlias
// lost after Lambda applied them (a 500 or a reset; the SDK's retry meets the write's own RevisionId or
// update as a conflict) are read back: one code update, one new version, the alias on it; and two machines deploying
// at once: with other code one of them wins and the other reports the conflict, with the same code both
// converge on one version.
import {randomBytes} from 'node:crypto'
import {writeFileSync} from 'node:fs'
import path from 'node:path'
import {GetAliasCommand, GetFunctionConfigurationCommand, ListVersionsByFunctionCommand} from '@aws-sdk/client-lambda'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startAwsServer, type AwsServer, type CallRecord} from '../../aws-double/index.js'
import {createFunction, DEV, EU, lambdaAs, makeProject, type Project} from '../publish/support.js'
import {whileStalled} from '../support/stall.js'

const MANIFEST = `version: 1
settings:
  bucket: "deployfault-{accountId}-{region}"
  architectures: [x86_64]
  runtimes: [nodejs22.x]
accounts:
  dev: {id: "${DEV}", profile: dev, regions: [${EU}]}
functions:
  api: {source: fns/api, handler: index.handler, runtime: nodejs22.x, architecture: x86_64, accounts: [dev]}
  big: {source: fns/big, handler: index.handler, runtime: nodejs22.x, architecture: x86_64, accounts: [dev]}
`

let server: AwsServer
let project: Project
/** A second machine's checkout of the same project. */
let other: Project

const lambda = () => lambdaAs(server, DEV, EU)
const codeOf = async () => (await lambda().send(new GetFunctionConfigurationCommand({FunctionName: 'api'}))).CodeSha256
const versions = async () => ((await lambda().send(new ListVersionsByFunctionCommand({FunctionName: 'api'}))).Versions ?? []).map((version) => version.Version)
const live = async () => {
  const alias = await lambda().send(new GetAliasCommand({FunctionName: 'api', Name: 'live'}))
  return {version: alias.FunctionVersion, weights: alias.RoutingConfig?.AdditionalVersionWeights ?? {}}
}
const since = (mark: number, operation: string): CallRecord[] => server.calls.slice(mark).filter((call) => call.operation === operation)

function handler(text: string): string {
  return `exports.handler = async () => ${JSON.stringify(text)}\n`
}

/** Starts a deploy in `from` and resolves with its exit code and --json output. */
function deploy(from: Project, args: string[]): Promise<{status: number | null; json: {functions: Array<Record<string, unknown>>}; stdout: string}> {
  const child = from.start(['deploy', 'api', '--json', ...args])
  let stdout = ''
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
  child.stderr!.resume()
  return new Promise((resolve) => child.on('close', (status) => resolve({status, json: JSON.parse(stdout), stdout})))
}

/** Both deploys start with their UpdateFunctionCode held until both are at the server, then let go together. */
async function together(args: string[]): Promise<Array<Awaited<ReturnType<typeof deploy>>>> {
  const mark = server.calls.length
  server.setFaults({hold: ['UpdateFunctionCode']})
  const runs = [deploy(project, args), deploy(other, args)]
  const deadline = Date.now() + 30_000
  while (since(mark, 'UpdateFunctionCode').filter((call) => call.fault === 'held').length < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
  server.setFaults(undefined)
  return Promise.all(runs)
}

beforeAll(async () => {
  server = await startAwsServer({updateDelayMs: 150})
  const files = {'layers.yaml': MANIFEST, 'fns/api/index.js': handler('v1'), 'fns/big/index.js': handler('big')}
  project = makeProject(server, files)
  other = makeProject(server, files)
  await createFunction(server, DEV, EU, 'api')
  await createFunction(server, DEV, EU, 'big')
}, 60_000)

afterAll(async () => {
  project?.remove()
  other?.remove()
  await server?.close()
})

describe('layers deploy under faults', () => {
  it('--direct-upload sends the zip in UpdateFunctionCode without a bucket, and refuses a package over 50 MB before any AWS call', async () => {
    const mark = server.calls.length
    const result = await project.run(['deploy', 'api', '--direct-upload', '--alias', 'live', '--json'])
    expect(result.status, result.stderr).toBe(0)
    expect(result.json.functions[0]).toMatchObject({status: 'deployed', code: 'updated', version: '1', alias: {status: 'created'}})
    expect(result.json.functions[0].s3).toBeUndefined()
    expect(server.calls.slice(mark).filter((call) => call.service === 's3')).toEqual([])
    expect(await codeOf()).toBe(result.json.functions[0].codeSha256)

    // Random bytes do not compress: a zip of 51 MB.
    writeFileSync(path.join(project.dir, 'fns', 'big', 'blob.bin'), randomBytes(51 * 1024 * 1024))
    const before = server.calls.length
    const large = await project.run(['deploy', 'big', '--direct-upload', '--json'])
    expect(large.status).toBe(2)
    expect(large.json.error).toMatchObject({code: 'ERR_LAYERS_DIRECT_UPLOAD_TOO_LARGE', message: expect.stringContaining("the package of big ("), hint: expect.stringContaining('without --direct-upload')})
    expect(large.json.error.message).toContain("over Lambda's 50 MB direct-upload limit")
    expect(server.calls.slice(before)).toEqual([])
  }, 60_000)

  it('a stalled UpdateFunctionCode ends within the time bounds naming the call, function, account and region (exit 1); the rerun converges', async () => {
    project.write('fns/api/index.js', handler('v2'))
    const before = await codeOf()
    const {result: stalled, seconds} = await whileStalled(server, ['UpdateFunctionCode'], () => project.run(['deploy', 'api', '--create-bucket', '--read-timeout', '1', '--json']))
    expect(stalled.status, stalled.stderr).toBe(1)
    expect(seconds).toBeLessThan(15)
    expect(stalled.json.functions[0]).toMatchObject({status: 'failed', code: 'not-done', error: {code: 'ERR_LAYERS_AWS_NO_ANSWER', message: expect.stringContaining(`No answer from lambda UpdateFunctionCode for account dev (${DEV}), region ${EU}`)}})
    expect(stalled.json.functions[0]).toMatchObject({functionName: 'api', accountId: DEV, region: EU})
    expect(stalled.json.functions[0].error.message).toContain('(--read-timeout)')
    expect(await codeOf()).toBe(before)

    const rerun = await project.run(['deploy', 'api', '--json'])
    expect(rerun.status, rerun.stderr).toBe(0)
    expect(rerun.json.functions[0]).toMatchObject({status: 'deployed', code: 'updated'})
    expect(await codeOf()).toBe(rerun.json.functions[0].codeSha256)
  }, 60_000)

  it('lost answers of UpdateFunctionCode, PublishVersion and UpdateAlias are read back: one code update, one new version, the alias on it', async () => {
    // Each write's first answer lost after Lambda applied it; the SDK's retry meets what the write did
    // (the update in progress or the moved RevisionId; PublishVersion returns the version it made).
    const rounds = [
      {code: 'v3', operation: 'UpdateFunctionCode', as: 'error'},
      {code: 'v4', operation: 'PublishVersion', as: 'reset'},
      {code: 'v5', operation: 'UpdateAlias', as: 'error'},
    ] as const
    let version = 1
    for (const round of rounds) {
      project.write('fns/api/index.js', handler(round.code))
      const mark = server.calls.length
      server.setFaults({loseAnswers: 1, loseAnswerAs: round.as, operations: [round.operation]})
      const result = await project.run(['deploy', 'api', '--alias', 'live', '--json'])
      server.setFaults(undefined)
      version++
      expect(result.status, `${round.operation}: ${result.stderr}`).toBe(0)
      expect(since(mark, round.operation)[0]!.fault, round.operation).toBe('lost')
      expect(result.json.functions[0], round.operation).toMatchObject({status: 'deployed', code: 'updated', version: String(version), published: true, alias: {status: 'moved', after: {functionVersion: String(version)}}})
      expect(await codeOf()).toBe(result.json.functions[0].codeSha256)
      expect(await versions()).toEqual(['$LATEST', ...Array.from({length: version}, (_, index) => String(index + 1))])
      expect(await live()).toEqual({version: String(version), weights: {}})
    }
    const rerun = await project.run(['deploy', 'api', '--alias', 'live', '--json'])
    expect(rerun.json.functions[0]).toMatchObject({status: 'unchanged'})
  }, 60_000)

  it('two machines at once: with other code one wins and the other reports the conflict; with the same code both converge on one version', async () => {
    project.write('fns/api/index.js', handler('mine'))
    other.write('fns/api/index.js', handler('theirs'))
    const split = await together(['--alias', 'live'])
    expect(split.map((run) => run.status).sort()).toEqual([0, 1])
    const winner = split.find((run) => run.status === 0)!.json.functions[0]!
    const loser = split.find((run) => run.status === 1)!.json.functions[0]!
    expect(winner).toMatchObject({status: 'deployed', code: 'updated', version: '5', alias: {after: {functionVersion: '5'}}})
    expect(loser).toMatchObject({status: 'conflict', code: 'not-done', error: {code: 'ERR_LAYERS_DEPLOY_CONFLICT'}})
    expect(await codeOf()).toBe(winner.codeSha256)
    expect(await live()).toEqual({version: '5', weights: {}})

    other.write('fns/api/index.js', handler('same'))
    project.write('fns/api/index.js', handler('same'))
    const same = await together(['--alias', 'live'])
    expect(same.map((run) => run.status), same.map((run) => run.stdout).join('\n')).toEqual([0, 0])
    for (const run of same) expect(run.json.functions[0]).toMatchObject({status: 'deployed', version: '6', alias: {after: {functionVersion: '6'}}})
    expect(await versions()).toEqual(['$LATEST', '1', '2', '3', '4', '5', '6'])
    expect(await live()).toEqual({version: '6', weights: {}})
  }, 90_000)
})
