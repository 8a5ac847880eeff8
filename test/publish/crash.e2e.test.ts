// Crash safety of `layers publish`: the built CLI is killed with SIGKILL from outside at many points,
// each fired by an event, never by a delay: while a write is in flight and certainly not applied (the
// local AWS test server holds that operation's request, reports it, and discards it unapplied once the
// killed client's connection is gone: an upload, PublishLayerVersion, a grant), right after a write was
// answered (the server's call log), and while the lockfile lock is held or its temp file written (the
// project directory watched). After each kill a rerun must finish cleanly, and then every target holds
// exactly one version per distinct content, and lockfile.json is valid and records the version holding
// the current content.
import {watch} from 'node:fs'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {parseLockfile} from '../../src/lock/io.js'
import {startAwsServer, type AwsServer, type CallRecord} from '../../aws-double/index.js'
import {configToolsManifest, makeProject, ROLES, TARGETS, versionsOf, type Project} from './support.js'

let server: AwsServer
let project: Project

const MANIFEST = configToolsManifest('crash-{accountId}-{region}', `
  api: {source: fns/api, handler: index.handler, runtime: nodejs22.x, architecture: x86_64, layers: [config, tools], accounts: [dev, prod]}
`)

beforeAll(async () => {
  server = await startAwsServer({roles: ROLES})
  project = makeProject(server, {
    'layers.yaml': MANIFEST,
    'layers/config/config.json': '{"round": 0}\n',
    'layers/tools/tool.sh': 'echo 0\n',
    'fns/api/index.js': 'export const handler = async () => "ok"\n',
  })
  await project.lock()
  const first = await project.run(['publish', '--json', '--create-bucket'])
  expect(first.status, first.stderr).toBe(0)
})

afterAll(async () => {
  project?.remove()
  await server?.close()
})

/**
 * When to kill: `hold` an operation and kill once its first request is held (in flight, not applied);
 * `calls` kill once the call log shows a matching call (answered writes); `file` kill once a matching
 * name appears in the project directory.
 */
type Trigger = {hold: string} | {calls: (call: CallRecord, seen: CallRecord[]) => boolean} | {file: RegExp}

const answered = (operation: string, status: number) => (call: CallRecord) => call.operation === operation && call.status === status

const POINTS: Array<[string, Trigger]> = [
  ['after the first read, before any upload', {calls: (call) => call.operation === 'HeadObject'}],
  ['while an upload is in flight, not stored yet', {hold: 'PutObject'}],
  ['right after an upload, before publishing', {calls: answered('PutObject', 200)}],
  ['while PublishLayerVersion is in flight, not applied yet', {hold: 'PublishLayerVersion'}],
  ['right after PublishLayerVersion answered', {calls: answered('PublishLayerVersion', 201)}],
  ['when the lockfile lock is taken', {file: /^lockfile\.json\.lock$/}],
  ['while the lockfile temp file is written', {file: /^lockfile\.json\.\d+$/}],
  ['after the third version', {calls: (call, seen) => answered('PublishLayerVersion', 201)(call) && seen.filter(answered('PublishLayerVersion', 201)).length >= 3}],
  ['while granting, the grant not applied yet', {hold: 'AddLayerVersionPermission'}],
  ['right after the first grant answered', {calls: answered('AddLayerVersionPermission', 201)}],
]

/** Resolves once the call log since `mark` satisfies `done` (the log is shared memory: polled every millisecond). */
function logShows(mark: number, done: (seen: CallRecord[]) => boolean): Promise<CallRecord[]> {
  return new Promise((resolve) => {
    const timer = setInterval(() => {
      const seen = server.calls.slice(mark)
      if (done(seen)) {
        clearInterval(timer)
        resolve(seen)
      }
    }, 1)
  })
}

/** Starts `layers publish --json` and SIGKILLs it when the trigger fires; resolves with how it ended. */
async function publishAndKill(trigger: Trigger): Promise<{signal: NodeJS.Signals | null; code: number | null; seen: CallRecord[]}> {
  const mark = server.calls.length
  if ('hold' in trigger) server.setFaults({hold: [trigger.hold]})
  const child = project.start(['publish', '--json'])
  const exited = new Promise<{code: number | null; signal: NodeJS.Signals | null}>((resolve) => child.on('exit', (code, signal) => resolve({code, signal})))
  if ('file' in trigger) {
    const watcher = watch(project.dir, (_event, name) => {
      if (name && trigger.file.test(name.toString())) child.kill('SIGKILL')
    })
    void exited.then(() => watcher.close())
  } else {
    const fired = 'hold' in trigger ? (call: CallRecord) => call.operation === trigger.hold && call.fault === 'held' : trigger.calls
    void Promise.race([logShows(mark, (seen) => seen.some((call) => fired(call, seen))), exited]).then(() => child.kill('SIGKILL'))
  }
  const ended = await exited
  let seen = server.calls.slice(mark)
  if ('hold' in trigger) {
    // Every held request is discarded, unapplied, once the killed client's connection is gone; only
    // then is the hold lifted, so none of them can land after the kill.
    seen = await logShows(mark, (calls) => calls.filter((call) => call.fault === 'discarded').length === calls.filter((call) => call.fault === 'held').length)
    server.setFaults(undefined)
  }
  return {...ended, seen}
}

describe('layers publish killed with SIGKILL', () => {
  it.each(POINTS.map(([name, trigger], index) => [name, trigger, index + 1] as const))('%s: the rerun leaves one version per content per target', async (_name, trigger, round) => {
    // New content in both layers, so this round publishes in every target.
    project.write('layers/config/config.json', `{"round": ${round}}\n`)
    project.write('layers/tools/tool.sh', `echo ${round}\n`)
    const killed = await publishAndKill(trigger)
    expect(killed.signal, 'the kill point was reached before publish finished').toBe('SIGKILL')
    if ('hold' in trigger) {
      // The kill really fired while that write was in flight: held, then discarded, never answered.
      const calls = killed.seen.filter((call) => call.operation === trigger.hold)
      expect(calls.length).toBeGreaterThan(0)
      expect(calls.every((call) => call.fault === 'held' || call.fault === 'discarded'), JSON.stringify(calls)).toBe(true)
    }

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
