// Crash safety of `layers publish`: the built CLI is killed with SIGKILL from outside at many points
// (before and during the upload, after it, while PublishLayerVersion runs, right after it answered,
// while the lockfile lock is held or its temp file written, while granting), timed on the calls the
// local AWS test server sees and on the files appearing in the project. After each kill a rerun must
// finish cleanly, and then every target holds exactly one version per distinct content, and
// lockfile.json is valid and records the version holding the current content.
import {watch} from 'node:fs'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {parseLockfile} from '../../src/lock/io.js'
import {startAwsServer, type AwsServer, type CallRecord} from '../support/aws-server/index.js'
import {accountsYaml, DEV, EU, EXTERNAL_ID, makeProject, ROLE, TARGETS, versionsOf, type Project} from './support.js'

let server: AwsServer
let project: Project

const MANIFEST = `version: 1
settings:
  bucket: "crash-{accountId}-{region}"
  regions: [${EU}]
  architectures: [x86_64]
  runtimes: [nodejs22.x]
${accountsYaml()}
layers:
  config:
    dir: layers/config
    share: {accounts: [dev, prod]}
  tools:
    dir: layers/tools
functions:
  api: {source: fns/api, handler: index.handler, runtime: nodejs22.x, architecture: x86_64, layers: [config, tools], accounts: [dev, prod]}
`

beforeAll(async () => {
  server = await startAwsServer({roles: {[ROLE]: {externalId: EXTERNAL_ID, trust: [DEV]}}})
  project = makeProject(server, {
    'layers.yaml': MANIFEST,
    'layers/config/config.json': '{"round": 0}\n',
    'layers/tools/tool.sh': 'echo 0\n',
    'fns/api/index.js': 'export const handler = async () => "ok"\n',
  })
  await project.lock()
  const first = await project.run(['publish', '--json', '--create-bucket'])
  expect(first.status, first.stderr).toBe(0)
  // Every call slower, so each kill lands inside the step it aims at.
  server.setFaults({latencyMs: 8})
})

afterAll(async () => {
  project?.remove()
  await server?.close()
})

type Trigger = {calls: (call: CallRecord, seen: CallRecord[]) => boolean; delayMs?: number} | {file: RegExp}

const POINTS: Array<[string, Trigger]> = [
  ['after the first read, before any upload', {calls: (call) => call.operation === 'HeadObject'}],
  ['while an upload is in flight', {calls: (call) => call.operation === 'PutObject'}],
  ['right after an upload, before publishing', {calls: (call) => call.operation === 'PutObject' && call.status === 200}],
  ['while PublishLayerVersion is in flight', {calls: (call) => call.operation === 'PublishLayerVersion'}],
  ['right after PublishLayerVersion answered', {calls: (call) => call.operation === 'PublishLayerVersion' && call.status === 201}],
  ['2 ms after PublishLayerVersion answered', {calls: (call) => call.operation === 'PublishLayerVersion' && call.status === 201, delayMs: 2}],
  ['6 ms after PublishLayerVersion answered', {calls: (call) => call.operation === 'PublishLayerVersion' && call.status === 201, delayMs: 6}],
  ['when the lockfile lock is taken', {file: /^lockfile\.json\.lock$/}],
  ['while the lockfile temp file is written', {file: /^lockfile\.json\.\d+$/}],
  ['after the third version', {calls: (call, seen) => call.operation === 'PublishLayerVersion' && call.status === 201 && seen.filter((c) => c.operation === 'PublishLayerVersion' && c.status === 201).length >= 3}],
  ['while granting', {calls: (call) => call.operation === 'AddLayerVersionPermission'}],
  ['after the first grant', {calls: (call) => call.operation === 'AddLayerVersionPermission' && call.status === 201, delayMs: 1}],
]

/** Starts `layers publish --json` and SIGKILLs it when the trigger fires; resolves with how it ended. */
function publishAndKill(trigger: Trigger): Promise<{signal: NodeJS.Signals | null; code: number | null}> {
  const child = project.start(['publish', '--json'])
  const mark = server.calls.length
  let fired = false
  const kill = () => {
    if (fired) return
    fired = true
    child.kill('SIGKILL')
  }
  const stop: Array<() => void> = []
  if ('file' in trigger) {
    const watcher = watch(project.dir, (_event, name) => {
      if (name && trigger.file.test(name.toString())) kill()
    })
    stop.push(() => watcher.close())
  } else {
    const timer = setInterval(() => {
      const seen = server.calls.slice(mark)
      if (seen.some((call) => trigger.calls(call, seen))) {
        clearInterval(timer)
        if (trigger.delayMs) setTimeout(kill, trigger.delayMs)
        else kill()
      }
    }, 1)
    stop.push(() => clearInterval(timer))
  }
  return new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      for (const s of stop) s()
      resolve({code, signal})
    })
  })
}

describe('layers publish killed with SIGKILL', () => {
  it.each(POINTS.map(([name, trigger], index) => [name, trigger, index + 1] as const))('%s: the rerun leaves one version per content per target', async (_name, trigger, round) => {
    // New content in both layers, so this round publishes in every target.
    project.write('layers/config/config.json', `{"round": ${round}}\n`)
    project.write('layers/tools/tool.sh', `echo ${round}\n`)
    const killed = await publishAndKill(trigger)
    expect(killed.signal, 'the kill point was reached before publish finished').toBe('SIGKILL')

    const rerun = await project.run(['publish', '--json'])
    expect(rerun.status, rerun.stderr).toBe(0)
    expect(rerun.json.summary.failed).toBe(0)
    expect(rerun.json.units.every((unit: {status: string}) => ['published', 'adopted', 'unchanged'].includes(unit.status))).toBe(true)

    const lock = parseLockfile('lockfile.json', project.read('lockfile.json'))
    for (const layer of ['config', 'tools']) {
      const locked = lock.layers[layer]
      if (!locked || locked.kind === 'arn') throw new Error('not locked')
      for (const [account, region] of TARGETS) {
        const versions = await versionsOf(server, account, region, layer)
        const shas = versions.map((version) => version.codeSha256)
        expect(new Set(shas).size, `${layer} ${account}/${region} has a duplicate: ${shas.join(' ')}`).toBe(shas.length)
        // one version per round so far (first publish + one per completed round)
        expect(versions).toHaveLength(round + 1)
        const record = locked.published?.[account]?.[region]?.x86_64
        const current = rerun.json.units.find((unit: {layer: string; accountId: string; region: string}) => unit.layer === layer && unit.accountId === account && unit.region === region)
        expect(record).toMatchObject({codeSha256: current.codeSha256, arn: versions.at(-1)!.arn})
      }
    }
  })
})
