// Team state end to end through the built CLI (run `npm run build` first) against the local AWS test
// server with 20 ms latency on every call: 8 publish processes started together from 8 separate clones
// (each its own lockfile.json and .layers/) publish exactly one version per target for one new
// content, and one per content for two; a lease holder killed with SIGKILL is taken over once its
// lease (1 s here, LAYERS_LEASE_MS) is not renewed, and the work converges. Also the figures the issue
// asks for: the calls a no-op publish adds (none) and the time a first publish adds.
import {spawn} from 'node:child_process'
import {cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {CreateBucketCommand, GetObjectCommand, S3Client, type BucketLocationConstraint} from '@aws-sdk/client-s3'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {Lockfile} from '../../src/lock/types.js'
import {startAwsServer, type AwsServer} from '../../aws-double/index.js'
import {BIN} from '../support/cli.js'
import {DEV, EU, isStateCall, makeProject, runCli, US, versionsOf, type CliResult, type Project} from './support.js'

const LAYER = 'shared'
const MANIFEST = `version: 1
settings:
  bucket: "team-{accountId}-{region}"
  prefix: artifacts/
  runtimes: [nodejs22.x]
accounts:
  dev:
    id: "${DEV}"
    profile: dev
    regions: [${EU}, ${US}]
layers:
  ${LAYER}:
    dir: layers/shared
`
const CONTENT = 'layers/shared/nodejs/node_modules/@acme/shared/index.js'

let server: AwsServer
let base: Project
const clonesRoot = mkdtempSync(path.join(tmpdir(), 'layers-team-e2e-'))
let run = 0

beforeAll(async () => {
  server = await startAwsServer()
  base = makeProject(server, {'layers.yaml': MANIFEST, [CONTENT]: 'export const v = 0\n'})
  await base.lock()
  // The buckets exist, as on a team's account (the first test also passes --create-bucket: that path is raced too).
  for (const region of [EU, US]) {
    const s3 = new S3Client({endpoint: server.endpoint, region, credentials: server.credentials(DEV), forcePathStyle: true})
    await s3.send(new CreateBucketCommand({Bucket: `team-${DEV}-${region}`, ...(region === US ? {} : {CreateBucketConfiguration: {LocationConstraint: region as BucketLocationConstraint}})}))
    s3.destroy()
  }
  server.setFaults({latencyMs: 20})
})

afterAll(async () => {
  base?.remove()
  rmSync(clonesRoot, {recursive: true, force: true})
  await server?.close()
})

interface Clone {
  dir: string
  run(args: string[], env?: NodeJS.ProcessEnv): Promise<CliResult>
  lockfile(): Lockfile
}

/** `count` copies of the base project (own lockfile.json and .layers/), each with `contents[i]` as the layer's file. */
function clones(count: number, contents: (index: number) => string): Clone[] {
  run++
  return Array.from({length: count}, (_, index) => {
    const dir = path.join(clonesRoot, `run${run}-clone${index}`)
    cpSync(base.dir, dir, {recursive: true})
    writeFileSync(path.join(dir, CONTENT), contents(index))
    return {
      dir,
      run: (args, env = {}) => runCli(dir, {...base.env, ...env}, args),
      lockfile: () => JSON.parse(readFileSync(path.join(dir, 'lockfile.json'), 'utf8')) as Lockfile,
    }
  })
}

function recorded(clone: Clone, region: string): {arn: string; version: number} | undefined {
  const layer = clone.lockfile().layers[LAYER]
  if (!layer || layer.kind === 'arn') return undefined
  return Object.values(layer.published?.[DEV]?.[region] ?? {})[0]
}

async function versionsByContent(region: string): Promise<Map<string, number[]>> {
  const byContent = new Map<string, number[]>()
  for (const version of await versionsOf(server, DEV, region, LAYER)) byContent.set(version.codeSha256, [...(byContent.get(version.codeSha256) ?? []), version.version])
  return byContent
}

describe('team state: concurrent publishes from separate clones', () => {
  it('8 processes, one new content: exactly one version per target, recorded by all 8 lockfiles', async () => {
    const team = clones(8, () => 'export const v = 1\n')
    const started = Date.now()
    const results = await Promise.all(team.map((clone) => clone.run(['publish', '--json', '--create-bucket'])))
    const seconds = (Date.now() - started) / 1000
    console.log(`[figures] 8 concurrent publishes of one new content, 2 targets: ${seconds.toFixed(1)} s`)
    for (const result of results) expect(result.status, result.stderr).toBe(0)
    const statuses = results.flatMap((result) => (result.json.units as Array<{status: string}>).map((unit) => unit.status)).sort()
    expect(statuses.filter((status) => status === 'published')).toHaveLength(2)
    expect(statuses.filter((status) => status === 'adopted')).toHaveLength(14)
    for (const region of [EU, US]) {
      const versions = await versionsOf(server, DEV, region, LAYER)
      expect(versions, region).toHaveLength(1)
      for (const clone of team) expect(recorded(clone, region)).toMatchObject({arn: versions[0]!.arn})
    }
  })

  it('two clones: a publish in one appears in `layers history` of the other (shared history)', async () => {
    const [other] = clones(1, () => 'export const v = 1\n')
    rmSync(path.join(other!.dir, '.layers', 'state.db'), {force: true})
    const history = await other!.run(['history', LAYER, '--json'])
    expect(history.status, history.stderr).toBe(0)
    const published = [EU, US].map(async (region) => (await versionsOf(server, DEV, region, LAYER))[0]!.arn)
    expect(history.json.publications.map((entry: {arn: string}) => entry.arn).sort()).toEqual((await Promise.all(published)).sort())
    const local = await other!.run(['history', LAYER, '--json', '--no-remote-state'])
    expect(local.json.publications).toHaveLength(2)
  })

  it('8 processes, two contents: two versions per target, each content once', async () => {
    const team = clones(8, (index) => `export const v = ${index % 2 === 0 ? '"two-a"' : '"two-b"'}\n`)
    const before = new Map([[EU, (await versionsOf(server, DEV, EU, LAYER)).length], [US, (await versionsOf(server, DEV, US, LAYER)).length]])
    const results = await Promise.all(team.map((clone) => clone.run(['publish', '--json'])))
    for (const result of results) expect(result.status, result.stderr).toBe(0)
    for (const region of [EU, US]) {
      const byContent = await versionsByContent(region)
      for (const [sha, numbers] of byContent) expect(numbers, `${region} ${sha}`).toHaveLength(1)
      expect(byContent.size, region).toBe(before.get(region)! + 2)
      for (const clone of team) {
        const record = recorded(clone, region)!
        const expected = (await versionsOf(server, DEV, region, LAYER)).find((version) => version.arn === record.arn)
        expect(expected, `${clone.dir} ${region}`).toBeDefined()
      }
    }
  })

  it('figures: a first publish adds 4 calls per target (lease create and release, one ListLayerVersions, the history event); a no-op adds none', async () => {
    const measure = async (clone: Clone, flags: string[]) => {
      const mark = server.calls.length
      const result = await clone.run(['publish', '--json', ...flags])
      expect(result.status, result.stderr).toBe(0)
      const all = server.calls.slice(mark)
      // The AWS phase: from the first answer (GetCallerIdentity, before any other call) to the last,
      // without the process start and the build.
      return {calls: all.filter((call) => call.service !== 'sts'), ms: all.length > 0 ? all.at(-1)!.at! - all[0]!.at! : 0}
    }
    const firsts: Array<{without: number; with: number}> = []
    for (let round = 0; round < 3; round++) {
      const [plain, leased] = clones(2, (index) => `export const v = "figures-${round}-${index}"\n`)
      const without = await measure(plain!, ['--no-remote-state'])
      const withLease = await measure(leased!, [])
      expect(withLease.calls.length - without.calls.length).toBe(2 * 4)
      expect(withLease.calls.filter(isStateCall).map((call) => call.operation).sort()).toEqual(['DeleteObject', 'DeleteObject', 'PutObject', 'PutObject', 'PutObject', 'PutObject'])
      firsts.push({without: without.ms, with: withLease.ms})
      if (round === 0) {
        const noopWithout = await measure(plain!, ['--no-remote-state'])
        const noopWith = await measure(leased!, [])
        expect(noopWith.calls.length).toBe(noopWithout.calls.length)
        expect(noopWith.calls.filter(isStateCall)).toEqual([])
        console.log(`[figures] no-op publish, 2 targets: ${noopWithout.calls.length} calls without remote state, ${noopWith.calls.length} with`)
      }
    }
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[1]!
    const without = median(firsts.map((entry) => entry.without))
    const withLease = median(firsts.map((entry) => entry.with))
    console.log(`[figures] first publish, 2 targets, 20 ms latency, AWS phase (median of 3): ${without} ms without remote state, ${withLease} ms with (+${withLease - without} ms, +8 calls); rounds ${JSON.stringify(firsts)}`)
  })

  it('a holder killed with SIGKILL: its lease is taken over after expiry and the work converges', async () => {
    const [first, second] = clones(2, () => 'export const v = "killed"\n')
    const env = {...base.env, LAYERS_LEASE_MS: '1000'}
    // PublishLayerVersion takes 500 ms (less than the lease): the holder is killed with its publish in
    // flight, which still lands; the survivor must find that version, not publish a second one.
    server.setFaults({latencyMs: 500, operations: ['PublishLayerVersion']})
    // Two machines (LAYERS_HOSTNAME): the survivor cannot see that the holder's process is gone, only that its lease is not renewed.
    const procs = [first!, second!].map((clone, index) => {
      const child = spawn(process.execPath, [BIN, 'publish', '--json', '--create-bucket'], {cwd: clone.dir, env: {...env, LAYERS_HOSTNAME: `machine-${index}`}, stdio: ['ignore', 'pipe', 'pipe']})
      let stdout = ''
      let stderr = ''
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
      const proc = {clone, child, exited: false, done: undefined as unknown as Promise<{status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string}>}
      proc.done = new Promise((resolve) =>
        child.on('close', (status, signal) => {
          proc.exited = true
          resolve({status, signal, stdout, stderr})
        }),
      )
      return proc
    })
    // The moment one of them has uploaded the new zip it holds the lease and is publishing: kill it.
    const mark = server.calls.length
    const s3 = new S3Client({endpoint: server.endpoint, region: EU, credentials: server.credentials(DEV), forcePathStyle: true})
    let holderPid: number | undefined
    while (holderPid === undefined) {
      if (procs.every((proc) => proc.exited)) throw new Error(`both publishes ended before the kill: ${(await procs[0]!.done).stderr}`)
      const upload = server.calls.slice(mark).find((call) => call.operation === 'PutObject' && call.status === 200 && !isStateCall(call) && call.region === EU)
      if (upload) {
        const lease = await s3.send(new GetObjectCommand({Bucket: `team-${DEV}-${EU}`, Key: `artifacts/.layers-state/leases/${LAYER}/${DEV}/${EU}.json`})).catch(() => undefined)
        if (lease) holderPid = (JSON.parse(await lease.Body!.transformToString()) as {pid: number}).pid
      }
      await new Promise((resolve) => setImmediate(resolve))
    }
    const holder = procs.find((proc) => proc.child.pid === holderPid)!
    const survivor = procs.find((proc) => proc !== holder)!
    holder.child.kill('SIGKILL')
    server.setFaults({latencyMs: 20})
    const killed = await holder.done
    expect(killed.signal).toBe('SIGKILL')
    const finished = await survivor.done
    expect(finished.status, finished.stderr).toBe(0)
    expect(finished.stderr + finished.stdout).toContain('ERR_LAYERS_LEASE_TAKEN_OVER')
    expect(finished.stdout).toContain('not renewed for 1 s')
    // The killed clone, run again, converges on the same versions.
    const again = await holder.clone.run(['publish', '--json'])
    expect(again.status, again.stderr).toBe(0)
    for (const region of [EU, US]) {
      const byContent = await versionsByContent(region)
      for (const [sha, numbers] of byContent) expect(numbers, `${region} ${sha}`).toHaveLength(1)
      expect(recorded(holder.clone, region)).toEqual(recorded(survivor.clone, region))
    }
    // The takeover happened: a lease write with If-Match over the dead holder's lease.
    expect(server.calls.slice(mark).filter((call) => isStateCall(call) && call.operation === 'PutObject' && call.status === 412).length).toBeGreaterThan(0)
    s3.destroy()
  })
})
