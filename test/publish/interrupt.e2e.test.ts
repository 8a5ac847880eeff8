// Interrupting `layers publish` and `layers attach` (the built CLI) against the local AWS test server:
// SIGINT is sent once the server has answered the first write of the run (an event in server.calls),
// while later units are still to come (one at a time, every PublishLayerVersion / UpdateFunctionConfiguration
// slowed down). The run exits 130 and reports what it did (versions with their ARNs, functions
// updated) and what it did not start; lockfile.json records exactly the reported versions; a rerun
// converges with no duplicate version. A second SIGINT, while the first waits on a slow call, exits
// at once and leaves lockfile.json valid with every version recorded so far.
import {existsSync, readdirSync} from 'node:fs'
import path from 'node:path'
import {GetFunctionConfigurationCommand} from '@aws-sdk/client-lambda'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {parseLockfile} from '../../src/lock/io.js'
import type {UnitOutcome} from '../../src/publish/run.js'
import {startAwsServer, type AwsServer, type CallRecord} from '../../aws-double/index.js'
import {configToolsManifest, createFunction, DEV, EU, lambdaAs, makeProject, ROLES, TARGETS, versionsOf, type Project} from './support.js'

const MANIFEST = configToolsManifest('interrupt-{accountId}-{region}', `
  api: {source: fns/api, handler: index.handler, runtime: nodejs22.x, architecture: x86_64, layers: [config, tools], accounts: [dev, prod]}
  worker: {source: fns/api, handler: index.handler, runtime: nodejs22.x, architecture: x86_64, layers: [config], accounts: [dev, prod]}
`)

let server: AwsServer
let project: Project

beforeAll(async () => {
  server = await startAwsServer({roles: ROLES})
  project = makeProject(server, {
    'layers.yaml': MANIFEST,
    'layers/config/config.json': '{"stage": 1}\n',
    'layers/tools/tool.sh': 'echo 1\n',
    'fns/api/index.js': 'export const handler = async () => "ok"\n',
  })
  await project.lock()
  for (const [account, region] of TARGETS) {
    await createFunction(server, account, region, 'api')
    await createFunction(server, account, region, 'worker')
  }
})

afterAll(async () => {
  project?.remove()
  await server?.close()
})

interface Ended {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

/**
 * Starts the CLI and sends SIGINT once `when` holds for the calls the server answered since the start;
 * with `again`, a second SIGINT once the CLI said it is finishing the work in flight.
 */
function interruptWhen(args: string[], when: (calls: CallRecord[]) => boolean, again = false): Promise<Ended> {
  const mark = server.calls.length
  const child = project.start(args)
  let stdout = ''
  let stderr = ''
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    const before = stderr
    stderr += chunk
    if (again && !before.includes('finishing the work in flight') && stderr.includes('finishing the work in flight')) child.kill('SIGINT')
  })
  const timer = setInterval(() => {
    if (when(server.calls.slice(mark))) {
      clearInterval(timer)
      child.kill('SIGINT')
    }
  }, 2)
  return new Promise((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearInterval(timer)
      resolve({code, signal, stdout, stderr})
    })
  })
}

const answered = (operation: string) => (calls: CallRecord[]) => calls.some((call) => call.operation === operation && call.status >= 200 && call.status < 300)

/** Temp files and lock directories left in the project directory (lockfile.json.*, .*.tmp). */
function leftovers(): string[] {
  return readdirSync(project.dir).filter((name) => name.startsWith('lockfile.json.') || name.endsWith('.tmp'))
}

/** Every ARN lockfile.json records under published, as `layer account region -> arn`. */
function recordedArns(): Record<string, string> {
  const lock = parseLockfile('lockfile.json', project.read('lockfile.json'))
  const out: Record<string, string> = {}
  for (const [name, layer] of Object.entries(lock.layers)) {
    if (layer.kind === 'arn') continue
    for (const [account, regions] of Object.entries(layer.published ?? {})) {
      for (const [region, artifacts] of Object.entries(regions)) for (const publication of Object.values(artifacts)) out[`${name} ${account} ${region}`] = publication.arn
    }
  }
  return out
}

describe('layers publish interrupted', () => {
  it('SIGINT after the first version: exit 130, the versions published (with ARNs) and the units not started; the lockfile holds exactly those; the rerun converges', async () => {
    server.setFaults({latencyMs: 400, operations: ['PublishLayerVersion']})
    const ended = await interruptWhen(['publish', '--json', '--create-bucket', '--concurrency', '1'], answered('PublishLayerVersion'))
    server.setFaults(undefined)
    expect(ended.signal).toBeNull()
    expect(ended.code, ended.stderr).toBe(130)
    expect(ended.stderr).toContain('SIGINT: finishing the work in flight')
    const error = JSON.parse(ended.stdout).error
    expect(error).toMatchObject({code: 'ERR_LAYERS_INTERRUPTED', exitCode: 130, details: {signal: 'SIGINT'}})
    const units = error.details.units as UnitOutcome[]
    expect(units).toHaveLength(8)
    const published = units.filter((unit) => unit.status === 'published')
    const notStarted = units.filter((unit) => unit.status === 'not-started')
    expect(published.length).toBeGreaterThanOrEqual(1)
    expect(notStarted.length).toBeGreaterThanOrEqual(1)
    expect(published.length + notStarted.length).toBe(8)
    expect(error.details.summary).toMatchObject({published: published.length, notStarted: notStarted.length})
    for (const unit of published) expect(error.message).toContain(`published: ${unit.layer} (x86_64) ${unit.accountName}/${unit.region} ${unit.arn}`)
    for (const unit of notStarted) expect(error.message).toContain(`not started: ${unit.layer} (x86_64) ${unit.accountName}/${unit.region}`)

    // lockfile.json (valid, no temp file or lock left) records exactly the reported versions, and they are all AWS has.
    expect(leftovers()).toEqual([])
    expect(existsSync(path.join(project.dir, 'lockfile.json.lock'))).toBe(false)
    expect(recordedArns()).toEqual(Object.fromEntries(published.map((unit) => [`${unit.layer} ${unit.accountId} ${unit.region}`, unit.arn])))
    for (const layer of ['config', 'tools']) {
      for (const [account, region] of TARGETS) {
        const arns = (await versionsOf(server, account, region, layer)).map((version) => version.arn)
        const reported = published.filter((unit) => unit.layer === layer && unit.accountId === account && unit.region === region).map((unit) => unit.arn)
        expect(arns, `${layer} ${account}/${region}`).toEqual(reported)
      }
    }

    const mark = server.calls.length
    const rerun = await project.run(['publish', '--json', '--create-bucket'])
    expect(rerun.status, rerun.stderr).toBe(0)
    const statuses = Object.fromEntries((rerun.json.units as UnitOutcome[]).map((unit) => [`${unit.layer} ${unit.accountId} ${unit.region}`, unit.status]))
    for (const unit of published) expect(statuses[`${unit.layer} ${unit.accountId} ${unit.region}`]).toBe('unchanged')
    for (const unit of notStarted) expect(statuses[`${unit.layer} ${unit.accountId} ${unit.region}`]).toBe('published')
    expect(server.calls.slice(mark).filter((call) => call.operation === 'PublishLayerVersion')).toHaveLength(notStarted.length)
    for (const layer of ['config', 'tools']) {
      for (const [account, region] of TARGETS) expect(await versionsOf(server, account, region, layer), `${layer} ${account}/${region}`).toHaveLength(1)
    }
    expect(Object.keys(recordedArns())).toHaveLength(8)
  })
})

describe('layers publish interrupted twice', () => {
  it('the second SIGINT exits at once, leaving lockfile.json valid and no temp file; the rerun records the version and converges', async () => {
    project.write('layers/config/config.json', '{"stage": 2}\n')
    await project.lock()
    // The first SIGINT lands right after the first version (while it is recorded or granted); each grant
    // takes 3 s, so the run is still finishing its work in flight when the second SIGINT comes.
    server.setFaults({latencyMs: 3000, operations: ['AddLayerVersionPermission']})
    const ended = await interruptWhen(['publish', '--create-bucket', '--concurrency', '1'], answered('PublishLayerVersion'), true)
    server.setFaults(undefined)
    expect(ended.signal).toBeNull()
    expect(ended.code, ended.stderr).toBe(130)
    expect(ended.stderr).toContain('SIGINT again: stopping now')
    expect(ended.stderr).not.toContain('ERR_LAYERS_INTERRUPTED')
    // A lock held at exit is removed with it; only an emptied one (its note gone, the directory not yet)
    // can stay, and the next run's lock takes its place.
    const left = leftovers()
    if (left.includes('lockfile.json.lock')) expect(readdirSync(path.join(project.dir, 'lockfile.json.lock'))).toEqual([])
    expect(left.filter((name) => name !== 'lockfile.json.lock')).toEqual([])
    // Valid JSON; the new version is recorded, or (when the second signal cut its write short) the old record stands.
    const recorded = recordedArns()
    const configVersions = await versionsOf(server, DEV, EU, 'config')
    expect(configVersions).toHaveLength(2)
    expect(configVersions.map((version) => version.arn)).toContain(recorded[`config ${DEV} ${EU}`])

    const rerun = await project.run(['publish', '--json'])
    expect(rerun.status, rerun.stderr).toBe(0)
    for (const [account, region] of TARGETS) expect(await versionsOf(server, account, region, 'config'), `${account}/${region}`).toHaveLength(2)
    const first = (rerun.json.units as UnitOutcome[]).find((unit) => unit.layer === 'config' && unit.accountId === DEV && unit.region === EU)!
    expect(first.arn).toBe(configVersions[1]!.arn)
    expect(['unchanged', 'adopted']).toContain(first.status)
    expect(recordedArns()[`config ${DEV} ${EU}`]).toBe(configVersions[1]!.arn)
  })
})

describe('layers attach interrupted', () => {
  it('SIGINT after the first update: exit 130, the functions updated and those not started; the rerun updates the rest', async () => {
    server.setFaults({latencyMs: 400, operations: ['UpdateFunctionConfiguration']})
    const ended = await interruptWhen(['attach', '--concurrency', '1'], answered('UpdateFunctionConfiguration'))
    server.setFaults(undefined)
    expect(ended.signal).toBeNull()
    expect(ended.code, ended.stderr).toBe(130)
    const report = /attach interrupted by SIGINT: (\d+) function target\(s\) updated, 0 unchanged, 0 refused or failed, (\d+) not started\./.exec(ended.stderr)
    expect(report, ended.stderr).not.toBeNull()
    const updated = [...ended.stderr.matchAll(/^ {2}updated: (\S+) (\S+)\/(\S+) -> /gm)].map((match) => `${match[1]} ${match[2]}/${match[3]}`)
    const notStarted = [...ended.stderr.matchAll(/^ {2}not started: (\S+) (\S+)\/(\S+)$/gm)].map((match) => `${match[1]} ${match[2]}/${match[3]}`)
    expect(updated.length).toBe(Number(report![1]))
    expect(notStarted.length).toBe(Number(report![2]))
    expect(updated.length).toBeGreaterThanOrEqual(1)
    expect(notStarted.length).toBeGreaterThanOrEqual(1)
    expect(updated.length + notStarted.length).toBe(8)

    const lock = project.lockfile()
    const arnOf = (layer: string, account: string, region: string) => {
      const locked = lock.layers[layer]
      if (!locked || locked.kind === 'arn') throw new Error(`${layer} not locked`)
      return locked.published![account]![region]!.x86_64!.arn
    }
    const desired = (fn: string, account: string, region: string) => (fn === 'api' ? ['config', 'tools'] : ['config']).map((layer) => arnOf(layer, account, region))
    const accountName = (account: string) => (account === DEV ? 'dev' : 'prod')
    const layersOf = async (fn: string, account: string, region: string) =>
      ((await lambdaAs(server, account, region).send(new GetFunctionConfigurationCommand({FunctionName: fn}))).Layers ?? []).map((layer) => layer.Arn)
    for (const fn of ['api', 'worker']) {
      for (const [account, region] of TARGETS) {
        const key = `${fn} ${accountName(account)}/${region}`
        expect(await layersOf(fn, account, region), key).toEqual(updated.includes(key) ? desired(fn, account, region) : [])
      }
    }

    const rerun = await project.run(['attach', '--json'])
    expect(rerun.status, rerun.stderr).toBe(0)
    for (const outcome of rerun.json.functions as Array<{functionName: string; accountName: string; region: string; status: string}>) {
      const key = `${outcome.functionName} ${outcome.accountName}/${outcome.region}`
      expect(outcome.status, key).toBe(updated.includes(key) ? 'unchanged' : 'updated')
    }
    for (const fn of ['api', 'worker']) for (const [account, region] of TARGETS) expect(await layersOf(fn, account, region)).toEqual(desired(fn, account, region))
  })
})
