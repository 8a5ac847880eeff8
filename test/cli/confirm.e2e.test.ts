// Confirmation before destruction, end to end through the built CLI against the local AWS test server:
// attach to an account marked `protected: true`, prune's deletions and publish's grant removals. On a
// real pseudo-terminal (test/support/pty.ts) each shows its plan and asks y/N: y goes ahead; Enter,
// Ctrl-D and Ctrl-C change nothing (Ctrl-C exits 130). Without a terminal each refuses with
// ERR_LAYERS_CONFIRMATION_REQUIRED (exit 2) naming what it would change, before any write; --yes
// skips the question (here for attach; prune --yes and publish --yes in their own e2e tests). One
// server and one project; the steps build on each other.
import {GetFunctionConfigurationCommand, GetLayerVersionPolicyCommand, PublishLayerVersionCommand} from '@aws-sdk/client-lambda'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startAwsServer, type AwsServer} from '../../aws-double/index.js'
import {createFunction, DEV, EU, functionZip, lambdaAs, makeProject, versionsOf, WRITE_OPERATIONS, type Project} from '../publish/support.js'
import {runOnTerminal} from '../support/pty.js'

const OTHER = '333333333333'

const manifest = (share: string) => `version: 1
settings:
  bucket: "confirm-{accountId}-{region}"
  regions: [${EU}]
  architectures: [x86_64]
  runtimes: [nodejs22.x]
  state: {remote: false}
accounts:
  dev: {id: "${DEV}", profile: dev, protected: true}
layers:
  config:
    dir: layers/config
    share: ${share}
functions:
  api: {source: fns/api, handler: index.handler, runtime: nodejs22.x, architecture: x86_64, layers: [config], accounts: [dev]}
`

let server: AwsServer
let project: Project
const arn = (version: number): string => `arn:aws:lambda:${EU}:${DEV}:layer:config:${version}`
const terminal = (args: string[], answer?: string) => runOnTerminal(args, {cwd: project.dir, env: project.env, ...(answer === undefined ? {} : {answer})})
const writesSince = (mark: number) => server.calls.slice(mark).filter((call) => WRITE_OPERATIONS.has(call.operation)).map((call) => call.operation)

async function layersOfApi(): Promise<string[]> {
  const config = await lambdaAs(server, DEV, EU).send(new GetFunctionConfigurationCommand({FunctionName: 'api'}))
  return (config.Layers ?? []).map((layer) => layer.Arn!)
}

beforeAll(async () => {
  server = await startAwsServer()
  project = makeProject(server, {
    'layers.yaml': manifest('{accounts: []}'),
    'layers/config/config.json': '{"stage": 1}\n',
    'fns/api/index.js': 'export const handler = async () => "ok"\n',
  })
  await project.lock()
  const [published] = await Promise.all([project.run(['publish', '--json', '--create-bucket']), createFunction(server, DEV, EU, 'api')])
  if (published.status !== 0) throw new Error(`publish failed: ${published.stderr}`)
  // Version 2, made by hand: no lockfile pins it and no function will use it (prune's candidate).
  await lambdaAs(server, DEV, EU).send(new PublishLayerVersionCommand({LayerName: 'config', Content: {ZipFile: await functionZip()}}))
})

afterAll(async () => {
  project?.remove()
  await server?.close()
})

describe('confirmation before destruction', () => {
  it('attach to a protected account: refused without a terminal (exit 2, naming the change); on a terminal Ctrl-C and Enter change nothing; --yes updates without asking', async () => {
    const mark = server.calls.length
    const [refused, interrupted, declined] = await Promise.all([project.run(['attach', '--json']), terminal(['attach'], '\u0003'), terminal(['attach'], '\r')])
    expect(refused.status, refused.stderr).toBe(2)
    expect(refused.json.error).toMatchObject({code: 'ERR_LAYERS_CONFIRMATION_REQUIRED', hint: expect.stringContaining('--yes'), details: {functions: [{function: 'api', accountId: DEV, region: EU, after: [arn(1)]}]}})
    expect(refused.json.error.message).toContain(`layers attach would update 1 function(s) in protected accounts: api in dev (${DEV})/${EU}: + config:1`)
    expect(interrupted.asked, interrupted.output).toBe(true)
    expect(interrupted.output).toContain(`api in dev (${DEV})/${EU}: + config:1`)
    expect(interrupted.code, interrupted.output).toBe(130)
    expect(interrupted.output).toContain('ERR_LAYERS_INTERRUPTED')
    expect(interrupted.output).toContain('no function was updated')
    expect(declined.asked, declined.output).toBe(true)
    expect(declined.code, declined.output).toBe(0)
    expect(declined.output).toContain('Not confirmed: no function was updated.')
    expect(writesSince(mark)).toEqual([])
    expect(await layersOfApi()).toEqual([])

    const yes = await project.run(['attach', '--json', '--yes'])
    expect(yes.status, yes.stderr).toBe(0)
    expect(yes.json.functions[0]).toMatchObject({status: 'updated', after: [arn(1)]})
    expect(await layersOfApi()).toEqual([arn(1)])
  })

  it('prune: refused without a terminal, Ctrl-D deletes nothing, y deletes', async () => {
    const mark = server.calls.length
    const [refused, eof] = await Promise.all([project.run(['prune', '--json']), terminal(['prune'], '\u0004')])
    expect(refused.status, refused.stderr).toBe(2)
    expect(refused.json.error).toMatchObject({code: 'ERR_LAYERS_CONFIRMATION_REQUIRED', details: {candidates: [arn(2)]}})
    expect(refused.json.error.message).toContain(`layers prune would delete 1 layer version(s)`)
    expect(refused.json.error.message).toContain(arn(2))
    expect(eof.asked, eof.output).toBe(true)
    expect(eof.code, eof.output).toBe(0)
    expect(eof.output).toContain('Not confirmed: nothing was deleted.')
    expect(writesSince(mark)).toEqual([])

    const accepted = await terminal(['prune'], 'y\r')
    expect(accepted.code, accepted.output).toBe(0)
    expect(accepted.output).toContain('Delete it? [y/N] ')
    expect((await versionsOf(server, DEV, EU, 'config')).map((entry) => entry.version)).toEqual([1])
  })

  it('publish: adding a grant asks nothing; one the manifest no longer names is removed only after y, refused without a terminal', async () => {
    project.write('layers.yaml', manifest(`{accounts: ["${OTHER}"]}`))
    const shared = await project.run(['publish', '--json'])
    expect(shared.status, shared.stderr).toBe(0)
    expect(shared.json.units[0]).toMatchObject({status: 'unchanged', grantsAdded: [`layers-account-${OTHER}`], grantsRemoved: []})
    project.write('layers.yaml', manifest('{accounts: []}'))
    const mark = server.calls.length
    const [refused, declined] = await Promise.all([project.run(['publish', '--json']), terminal(['publish'], 'n\r')])
    expect(refused.status, refused.stderr).toBe(2)
    expect(refused.json.error).toMatchObject({code: 'ERR_LAYERS_CONFIRMATION_REQUIRED', details: {grantRemovals: [{arn: arn(1), accountId: DEV, region: EU, statementIds: [`layers-account-${OTHER}`]}]}})
    expect(declined.asked, declined.output).toBe(true)
    expect(declined.output).toContain(`${arn(1)} in dev (${DEV})/${EU}: layers-account-${OTHER}`)
    expect(declined.output).toContain('Not confirmed: nothing was uploaded, published or shared.')
    expect(writesSince(mark)).toEqual([])

    const accepted = await terminal(['publish'], 'y\r')
    expect(accepted.code, accepted.output).toBe(0)
    expect(writesSince(mark)).toEqual(['RemoveLayerVersionPermission'])
    await expect(lambdaAs(server, DEV, EU).send(new GetLayerVersionPolicyCommand({LayerName: 'config', VersionNumber: 1}))).rejects.toMatchObject({name: 'ResourceNotFoundException'})
  })
})
