// Shared history end to end through the built CLI (run `npm run build` first) against the local AWS
// test server: in one clone, publish (a version shared with prod: a grant change), attach, audit,
// publish a second version, attach it with --no-remote-state and prune the first; a second clone of
// the repository (no .layers/ of its own) then shows each shared event in `layers history`, merged
// from the state bucket. Each event is one PutObject (If-None-Match: *) of its command in the state
// bucket of its account and region; --no-remote-state writes none.
import {cpSync, mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startAwsServer, type AwsServer} from '../../aws-double/index.js'
import {accountsYaml, createFunction, DEV, EU, EXTERNAL_ID, isStateCall, makeProject, PROD, ROLE, runCli, versionsOf, type Project} from '../publish/support.js'

const MANIFEST = `version: 1
settings:
  bucket: "hist-{accountId}-{region}"
  regions: [${EU}]
  runtimes: [nodejs22.x]
${accountsYaml([EU])}layers:
  deps:
    dir: layers/deps
    share: {accounts: ["${PROD}"]}
functions:
  api:
    source: fns/api
    handler: index.handler
    runtime: nodejs22.x
    layers: [deps]
    accounts: [dev]
`
const CONTENT = 'layers/deps/nodejs/node_modules/dep/index.js'

let server: AwsServer
let project: Project
const root = mkdtempSync(path.join(tmpdir(), 'layers-history-e2e-'))

beforeAll(async () => {
  server = await startAwsServer({roles: {[ROLE]: {externalId: EXTERNAL_ID, trust: [DEV]}}})
  project = makeProject(server, {'layers.yaml': MANIFEST, [CONTENT]: 'export const v = 1\n', 'fns/api/index.js': 'export const handler = async () => "ok"\n'})
  await project.lock()
  await createFunction(server, DEV, EU, 'api')
})

afterAll(async () => {
  project?.remove()
  rmSync(root, {recursive: true, force: true})
  await server?.close()
})

/** Runs the command and returns the shared-history events it wrote (their types, sorted). */
async function stateWrites(args: string[]): Promise<string[]> {
  const mark = server.calls.length
  const result = await project.run([...args, '--json'])
  expect(result.status, `${args.join(' ')}: ${result.stderr}`).toBe(0)
  return server.calls.slice(mark).filter((call) => isStateCall(call) && call.operation === 'PutObject' && call.key?.includes('/history/')).map((call) => call.key!.replace(/^.*\/history\/deps\/(\d+)\/[\w-]+\//, '$1 ').replace(/-[\w-]*\.json$/, '')).sort()
}

describe('shared history: every event of one clone in the other', () => {
  it('publish, grant, attach, audit and prune in one clone appear in `layers history` of another', async () => {
    // Published where a function uses it (dev) and shared with prod: a publication and a grant change.
    const published = [`${DEV} grant`, `${DEV} publication`]
    expect(await stateWrites(['publish', '--create-bucket'])).toEqual(published)
    expect(await stateWrites(['attach'])).toEqual([`${DEV} attach`])
    expect(await stateWrites(['audit'])).toEqual([`${DEV} audit`])
    // --no-remote-state: nothing is written to the shared history.
    expect(await stateWrites(['audit', '--no-remote-state'])).toEqual([])
    project.write(CONTENT, 'export const v = 2\n')
    await project.lock()
    expect(await stateWrites(['publish'])).toEqual(published)
    expect(await stateWrites(['attach', '--no-remote-state'])).toEqual([])
    expect(await stateWrites(['attach'])).toEqual([])
    expect(await stateWrites(['prune', '--yes'])).toEqual([`${DEV} prune`])
    expect((await versionsOf(server, DEV, EU, 'deps')).map((version) => version.version)).toEqual([2])
    const kept = `arn:aws:lambda:${EU}:${DEV}:layer:deps:2`

    const clone = path.join(root, 'clone')
    cpSync(project.dir, clone, {recursive: true})
    rmSync(path.join(clone, '.layers'), {recursive: true, force: true})
    const history = await runCli(clone, project.env, ['history', 'deps', '--json'])
    expect(history.status, history.stderr).toBe(0)
    const v1 = kept.replace(/:2$/, ':1')
    expect(history.json.publications.map((entry: {arn: string}) => entry.arn)).toEqual([v1, kept])
    expect(history.json.grants.map((entry: {arn: string; added: string[]}) => [entry.arn, entry.added])).toEqual([[v1, [expect.stringContaining(PROD)]], [kept, [expect.stringContaining(PROD)]]])
    // The first attach (v1); the second, with --no-remote-state, is not shared.
    expect(history.json.attaches.map((entry: {arn: string; function: string}) => [entry.arn, entry.function])).toEqual([[v1, 'api']])
    expect(history.json.audits).toEqual([expect.objectContaining({accountId: DEV, region: EU, functions: 1, versions: [{version: 1, functions: 1}]})])
    expect(history.json.prunes.map((entry: {arn: string}) => entry.arn).sort()).toEqual([v1])
    const text = await runCli(clone, project.env, ['history', 'deps'])
    for (const section of ['Grant changes', 'Attached to functions', 'Audit summaries (shared)', 'Pruned versions']) expect(text.stdout).toContain(section)
    // Local only: the clone's cache now has them (the merge wrote them), nothing is read.
    const local = await runCli(clone, project.env, ['history', 'deps', '--json', '--no-remote-state'])
    expect(local.json.attaches).toHaveLength(1)
  })
})
