// End to end through the built CLI against the local AWS test server (two accounts x two regions):
// attach before publishing (refused, naming the command), publish, pin an `arn` layer that is the
// other account's shared layer (`layers lock` pins the versionless ARN), attach (diff, wait for
// Successful), attach again (no write), a new version (moved), --dry-run, refusals (runtime, a sixth
// layer), a throttled run, and a function changed underneath (retried once, else a conflict).
import {CreateFunctionCommand, GetFunctionConfigurationCommand, UpdateFunctionConfigurationCommand} from '@aws-sdk/client-lambda'
import {readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {Ajv} from 'ajv'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {runAttach, type AttachOutcome} from '../../src/attach/run.js'
import type {Problem} from '../../src/errors/index.js'
import type {ArnCheckOutcome} from '../../src/publish/run.js'
import {functionsApi, type FunctionsApi} from '../../src/aws/lambda-functions.js'
import {startAwsServer, type AwsServer} from '../../aws-double/index.js'
import {accountsYaml, createFunction as deployFunction, DEV, EU, lambdaAs, makeProject, ROLES, PROD, US, WRITE_OPERATIONS, type Project} from '../publish/support.js'

const schema = JSON.parse(readFileSync(path.resolve(import.meta.dirname, '../../schema/attach.schema.json'), 'utf8'))
const validate = new Ajv({allErrors: true, strict: false}).compile(schema)

const manifest = (extraFunctions = '') => `version: 1
settings:
  bucket: "attach-{accountId}-{region}"
  regions: [${EU}]
  architectures: [x86_64, arm64]
  runtimes: [nodejs22.x]
${accountsYaml()}
layers:
  config:
    dir: layers/config
    share: {accounts: [dev]}
  tools:
    dir: layers/tools
  shared:
    arn: arn:aws:lambda:{region}:${PROD}:layer:config
functions:
  api:
    source: fns/api
    handler: index.handler
    runtime: nodejs22.x
    architecture: arm64
    layers: [config, tools]
    accounts: [dev, prod]
  worker:
    name: worker-fn
    source: fns/api
    handler: index.handler
    runtime: nodejs22.x
    architecture: x86_64
    layers: [shared]
    accounts: [dev]
${extraFunctions}`

let server: AwsServer
let project: Project

function createFunction(account: string, region: string, name: string, architecture: 'arm64' | 'x86_64', runtime = 'nodejs22.x'): Promise<void> {
  return deployFunction(server, account, region, name, architecture, runtime)
}

async function layersOf(account: string, region: string, name: string): Promise<{arns: string[]; status?: string}> {
  const config = await lambdaAs(server, account, region).send(new GetFunctionConfigurationCommand({FunctionName: name}))
  return {arns: (config.Layers ?? []).map((layer) => layer.Arn!), status: config.LastUpdateStatus}
}

beforeAll(async () => {
  server = await startAwsServer({roles: ROLES, updateDelayMs: 150})
  project = makeProject(server, {
    'layers.yaml': manifest(),
    'layers/config/nodejs/node_modules/cfg/index.js': 'export default 1\n',
    'layers/tools/bin/tool': 'echo 1\n',
    'fns/api/index.js': 'export const handler = async () => "ok"\n',
  })
  // `shared` is prod's config layer, which does not exist yet: lock the own layers now, pin it once published.
  await project.lock(['config', 'tools'])
  for (const account of [DEV, PROD]) for (const region of [EU, US]) await createFunction(account, region, 'api', 'arm64')
  for (const region of [EU, US]) await createFunction(DEV, region, 'worker-fn', 'x86_64')
})

afterAll(async () => {
  project?.remove()
  await server?.close()
})

describe('layers attach', () => {
  it('refuses functions whose layers are not published yet and names the command that publishes them', async () => {
    const result = await project.run(['attach', '--json', 'api', '--account', 'dev', '--region', EU])
    expect(result.status).toBe(1)
    expect(validate(result.json), JSON.stringify(validate.errors)).toBe(true)
    expect(result.json.functions[0]).toMatchObject({status: 'refused', reasons: [expect.stringContaining('run `layers publish config`')]})
  })

  it('pins the other account\'s shared layer per account and region (versionless ARN -> newest readable version)', async () => {
    // `shared` is not locked yet: publish and attach refuse it (exit 2) and say to lock it.
    const unlocked = await project.run(['publish', '--json', 'shared'])
    expect(unlocked.status).toBe(2)
    expect(unlocked.json.error).toMatchObject({code: 'ERR_LAYERS_LOCK_STALE', message: expect.stringContaining('layer shared'), hint: expect.stringContaining('layers lock')})
    expect((await project.run(['attach', '--json', 'worker'])).json.error.code).toBe('ERR_LAYERS_LOCK_STALE')
    const published = await project.run(['publish', '--json', '--create-bucket', 'config', 'tools'])
    expect(published.status, published.stderr).toBe(0)
    const locked = await project.lock(['shared'])
    expect(locked.json.layers).toEqual([{layer: 'shared', kind: 'arn', status: 'locked', artifacts: []}])
    const pinned = project.lockfile().layers.shared
    // dev reads prod's versionless ARN: the newest version shared with it, per region
    expect(pinned).toMatchObject({kind: 'arn', arns: {[DEV]: {[EU]: `arn:aws:lambda:${EU}:${PROD}:layer:config:1`, [US]: `arn:aws:lambda:${US}:${PROD}:layer:config:1`}}})
    const verified = await project.run(['publish', '--json', 'shared'])
    expect(verified.status, verified.stderr).toBe(0)
    expect(verified.json.arnChecks.map((check: ArnCheckOutcome) => `${check.accountId}/${check.region}:${check.status}`)).toEqual([`${DEV}/${EU}:ok`, `${DEV}/${US}:ok`])
    // A pin the account cannot read (here: a version that does not exist) fails that target only.
    const good = project.read('lockfile.json')
    const lock = JSON.parse(good)
    lock.layers.shared.arns[DEV][US] = `arn:aws:lambda:${US}:${PROD}:layer:config:9`
    project.write('lockfile.json', JSON.stringify(lock, null, 2) + '\n')
    try {
      const broken = await project.run(['publish', '--json', 'shared'])
      expect(broken.status).toBe(1)
      expect(broken.json.arnChecks.map((check: ArnCheckOutcome) => `${check.region}:${check.status}:${check.error?.code ?? ''}`)).toEqual([`${EU}:ok:`, `${US}:failed:ERR_LAYERS_ARN_UNREADABLE`])
    } finally {
      project.write('lockfile.json', good)
    }
  })

  it('puts every function on its locked versions in manifest order and waits until the update succeeded', async () => {
    const mark = server.calls.length
    const result = await project.run(['attach', '--json'])
    expect(result.status, result.stderr).toBe(0)
    expect(validate(result.json), JSON.stringify(validate.errors)).toBe(true)
    expect(result.json.summary).toMatchObject({targets: 6, updated: 6, failed: 0, refused: 0})
    const api = result.json.functions.find((f: AttachOutcome) => f.function === 'api' && f.accountId === PROD && f.region === US)
    const expected = [`arn:aws:lambda:${US}:${PROD}:layer:config:1`, `arn:aws:lambda:${US}:${PROD}:layer:tools:1`]
    expect(api).toMatchObject({status: 'updated', before: [], after: expected, diff: {added: expected, removed: [], moved: []}})
    expect(await layersOf(PROD, US, 'api')).toEqual({arns: expected, status: 'Successful'})
    // dev's worker uses prod's layer: allowed only because publish shared it with dev
    expect(await layersOf(DEV, EU, 'worker-fn')).toEqual({arns: [`arn:aws:lambda:${EU}:${PROD}:layer:config:1`], status: 'Successful'})
    // it polled until LastUpdateStatus left InProgress
    expect(server.calls.slice(mark).filter((call) => call.operation === 'GetFunctionConfiguration').length).toBeGreaterThan(6)
  })

  it('leaves functions already on the desired list untouched', async () => {
    const mark = server.calls.length
    const result = await project.run(['attach', '--json'])
    expect(result.status, result.stderr).toBe(0)
    expect(result.json.summary).toMatchObject({updated: 0, unchanged: 6})
    const calls = server.calls.slice(mark)
    expect(calls.filter((call) => WRITE_OPERATIONS.has(call.operation))).toEqual([])
    expect(calls.filter((call) => call.service === 'lambda').map((call) => call.operation)).toEqual(Array(6).fill('GetFunctionConfiguration'))
  })

  it('shows a moved version in --dry-run without writing, then moves it', async () => {
    project.write('layers/tools/bin/tool', 'echo 2\n')
    expect((await project.run(['publish', 'tools'])).status).toBe(0)
    const mark = server.calls.length
    const dry = await project.run(['attach', '--json', '--dry-run', 'api', '--account', 'prod'])
    expect(dry.status, dry.stderr).toBe(0)
    expect(dry.json.functions.map((f: AttachOutcome) => f.status)).toEqual(['would-update', 'would-update'])
    expect(dry.json.functions[0].diff).toEqual({added: [], removed: [], moved: [{from: `arn:aws:lambda:${EU}:${PROD}:layer:tools:1`, to: `arn:aws:lambda:${EU}:${PROD}:layer:tools:2`}], reordered: false})
    expect(server.calls.slice(mark).filter((call) => WRITE_OPERATIONS.has(call.operation))).toEqual([])
    const human = await project.run(['attach', 'api', '--account', 'prod'])
    expect(human.status, human.stderr).toBe(0)
    // In its own account and region a version is shown as name:version (--json has the ARN).
    expect(human.stdout).toContain('~ tools:1 -> 2')
    expect(human.stdout).toContain('Updated 2, unchanged 0, refused 0, conflicts 0, failed 0.')
    expect((await layersOf(PROD, EU, 'api')).arns[1]).toBe(`arn:aws:lambda:${EU}:${PROD}:layer:tools:2`)
  })

  it('refuses a function whose runtime a layer does not declare, and still attaches the others', async () => {
    await createFunction(DEV, EU, 'legacy', 'arm64', 'python3.12')
    project.write('layers.yaml', manifest(`  legacy:\n    source: fns/api\n    handler: index.handler\n    runtime: nodejs22.x\n    architecture: arm64\n    layers: [config]\n    accounts: [dev]\n`))
    const result = await project.run(['attach', '--json', '--region', EU])
    expect(result.status).toBe(1)
    const legacy = result.json.functions.find((f: AttachOutcome) => f.function === 'legacy')
    expect(legacy).toMatchObject({status: 'refused', reasons: [`arn:aws:lambda:${EU}:${DEV}:layer:config:1 declares runtimes nodejs22.x, not python3.12.`]})
    expect((await layersOf(DEV, EU, 'legacy')).arns).toEqual([])
    expect(result.json.functions.filter((f: AttachOutcome) => f.function !== 'legacy').every((f: AttachOutcome) => f.status === 'unchanged' || f.status === 'updated')).toBe(true)
    expect(result.stderr).toContain('ERR_LAYERS_ATTACH_FAILED')
  })

  it('counts a deployed package `layers package` made by its unzipped size, and refuses what would pass Lambda\'s limit', async () => {
    // One byte under Lambda's limit of code unzipped (a few hundred KB zipped): any layer puts it over.
    const code = 'exports.handler = async () => "big"\n'
    project.write('fns/big/index.js', code)
    writeFileSync(path.join(project.dir, 'fns/big/blob.bin'), Buffer.alloc(262_144_000 - 1 - code.length))
    const big = (layers: string) => manifest(`  big:\n    source: fns/big\n    handler: index.handler\n    runtime: nodejs22.x\n    architecture: arm64\n    layers: [${layers}]\n    accounts: [dev]\n`)
    // Packaged and deployed without layers (within the limit); then the manifest gives it one.
    project.write('big-alone.yaml', big(''))
    project.write('big.yaml', big('config'))
    const packaged = await project.run(['package', 'big', '--json', '--manifest', 'big-alone.yaml'])
    expect(packaged.status, packaged.stderr + packaged.stdout).toBe(0)
    const zip = readFileSync(packaged.json.functions[0].zipPath)
    expect(zip.length).toBeLessThan(1_000_000)
    const client = lambdaAs(server, DEV, EU)
    await client.send(new CreateFunctionCommand({FunctionName: 'big', Runtime: 'nodejs22.x', Role: `arn:aws:iam::${DEV}:role/fn`, Handler: 'index.handler', Code: {ZipFile: zip}, Architectures: ['arm64']}))
    const result = await project.run(['attach', 'big', '--json', '--region', EU, '--manifest', 'big.yaml'])
    expect(result.status).toBe(1)
    expect(result.json.functions[0]).toMatchObject({status: 'refused', reasons: [expect.stringMatching(/^The code and layers add up to \d+ bytes unzipped, over Lambda's limit of 262144000 bytes\.$/)]})
    expect((await layersOf(DEV, EU, 'big')).arns).toEqual([])
  })

  it('refuses a sixth layer (exit 2, naming the function and the limit)', async () => {
    const six = ['a', 'b', 'c', 'd', 'e', 'f']
    const layersYaml = six.map((name) => `  l${name}:\n    dir: layers/config\n`).join('')
    project.write('six.yaml', manifest(`  six:\n    source: fns/api\n    handler: index.handler\n    runtime: nodejs22.x\n    architecture: arm64\n    layers: [${six.map((n) => `l${n}`).join(', ')}]\n    accounts: [dev]\n`).replace('layers:\n  config:', `layers:\n${layersYaml}  config:`))
    const result = await project.run(['attach', '--json', 'six', '--manifest', 'six.yaml'])
    expect(result.status).toBe(2)
    expect(result.json.error.problems.map((p: Problem) => p.message)).toContain('functions.six has 6 layers; Lambda allows at most 5.')
    expect(result.stderr).not.toMatch(/\n\s+at /)
  })

  it('completes under 30% throttling', async () => {
    project.write('layers.yaml', manifest())
    project.write('layers/tools/bin/tool', 'echo 3\n')
    expect((await project.run(['publish', 'tools'])).status).toBe(0)
    server.setFaults({throttleRate: 0.3, seed: 11})
    try {
      const result = await project.run(['attach', '--json'])
      expect(result.status, result.stderr).toBe(0)
      expect(result.json.summary).toMatchObject({updated: 4, unchanged: 2, failed: 0})
    } finally {
      server.setFaults(undefined)
    }
    for (const account of [DEV, PROD]) for (const region of [EU, US]) expect((await layersOf(account, region, 'api')).arns[1]).toMatch(/:layer:tools:3$/)
  })

  it('converges when UpdateFunctionConfiguration is applied and its answer lost (a reset, then a 500)', async () => {
    for (const [round, loseAnswerAs] of [[4, 'reset'], [5, 'error']] as const) {
      project.write('layers/tools/bin/tool', `echo ${round}\n`)
      expect((await project.run(['publish', 'tools'])).status).toBe(0)
      const mark = server.calls.length
      server.setFaults({loseAnswers: 4, loseAnswerAs, operations: ['UpdateFunctionConfiguration']})
      let result
      try {
        result = await project.run(['attach', '--json', 'api'])
      } finally {
        server.setFaults(undefined)
      }
      expect(result.status, result.stderr).toBe(0)
      expect(server.calls.slice(mark).filter((call) => call.fault === 'lost'), loseAnswerAs).toHaveLength(4)
      // Every function was changed by this run: reported as updated (retried where the answer was lost), never a conflict.
      expect(result.json.functions.map((f: AttachOutcome) => f.status), loseAnswerAs).toEqual(['updated', 'updated', 'updated', 'updated'])
      expect(result.json.functions.some((f: AttachOutcome) => f.retried)).toBe(true)
      for (const f of result.json.functions as AttachOutcome[]) expect(f.before[1]).toMatch(new RegExp(`:layer:tools:${round - 1}$`))
      for (const account of [DEV, PROD]) {
        for (const region of [EU, US]) {
          const {arns, status} = await layersOf(account, region, 'api')
          expect(arns, `${account}/${region}`).toEqual([expect.stringMatching(/:layer:config:\d+$/), `arn:aws:lambda:${region}:${account}:layer:tools:${round}`])
          expect(status).toBe('Successful')
        }
      }
    }
  })
})

describe('attach when the function changes underneath', () => {
  const target = {function: 'api', functionName: 'api', architecture: 'arm64' as const, accountName: 'dev', accountId: DEV, region: EU}

  /** The real API, with someone else's update landing between our read and our write (`times` times). */
  function racing(times: number): FunctionsApi {
    const api = functionsApi(lambdaAs(server, DEV, EU))
    let left = times
    return {
      ...api,
      async updateLayers(name, arns, revisionId) {
        if (left-- > 0) {
          const other = lambdaAs(server, DEV, EU)
          await other.send(new UpdateFunctionConfigurationCommand({FunctionName: name, Description: `changed ${left}`}))
          let state = await api.getFunction(name)
          while (state?.lastUpdateStatus === 'InProgress') state = await new Promise((resolve) => setTimeout(resolve, 50)).then(() => api.getFunction(name))
        }
        return api.updateLayers(name, arns, revisionId)
      },
    }
  }

  const desired = [`arn:aws:lambda:${EU}:${DEV}:layer:tools:1`]

  it('re-reads and retries once when the RevisionId moved', async () => {
    const result = await runAttach([target], {functionsApi: async () => racing(1), unzippedBytes: () => undefined}, {dryRun: false, concurrency: 1, emit: () => {}, desired: () => ({arns: desired}), pollMs: 20})
    expect(result.functions[0]).toMatchObject({status: 'updated', retried: true, after: desired})
    expect((await layersOf(DEV, EU, 'api')).arns).toEqual(desired)
  })

  it('waits for a function still being created (State Pending) instead of failing on it', async () => {
    await createFunction(DEV, EU, 'fresh', 'arm64')
    const fresh = {...target, function: 'fresh', functionName: 'fresh'}
    const result = await runAttach([fresh], {functionsApi: async () => functionsApi(lambdaAs(server, DEV, EU)), unzippedBytes: () => undefined}, {dryRun: false, concurrency: 1, emit: () => {}, desired: () => ({arns: desired}), pollMs: 20})
    expect(result.functions[0]).toMatchObject({status: 'updated', retried: false})
    expect(await layersOf(DEV, EU, 'fresh')).toEqual({arns: desired, status: 'Successful'})
  })

  it('reports a conflict when it moved again', async () => {
    const again = [`arn:aws:lambda:${EU}:${DEV}:layer:config:1`]
    const result = await runAttach([target], {functionsApi: async () => racing(2), unzippedBytes: () => undefined}, {dryRun: false, concurrency: 1, emit: () => {}, desired: () => ({arns: again}), pollMs: 20})
    expect(result.functions[0]).toMatchObject({status: 'conflict', retried: true, error: {code: 'ERR_LAYERS_ATTACH_CONFLICT'}})
    expect((await layersOf(DEV, EU, 'api')).arns).toEqual(desired)
  })
})
