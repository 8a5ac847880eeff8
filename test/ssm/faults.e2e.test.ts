// SSM parameter writes under faults, through the built CLI against the local AWS double's fault
// injection: a stalled PutParameter ends within the time bounds (--read-timeout) with an error naming
// the parameter, account and region (exit 1), and a rerun converges; PutParameter answers lost after
// they were applied (connection reset, or a 500) are read back, not repeated: each parameter gets
// exactly one new version; SIGINT while the parameters are written exits 130 with lockfile.json valid
// and holding the new channels, and a rerun writes the rest.
import {readdirSync} from 'node:fs'
import {DeleteParametersCommand, GetParametersCommand, PutParameterCommand, SSMClient} from '@aws-sdk/client-ssm'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startAwsServer, type AwsServer, type CallRecord} from '../../aws-double/index.js'
import {parseLockfile} from '../../src/lock/io.js'
import {accountsYaml, DEV, EU, makeProject, PROD, ROLES, type Project} from '../publish/support.js'
import {whileStalled} from '../support/stall.js'

const MANIFEST = `version: 1
settings:
  bucket: "ssmfault-{accountId}-{region}"
  regions: [${EU}]
  architectures: [x86_64]
  runtimes: [nodejs22.x]
  ssm: {}
${accountsYaml([EU])}
layers:
  config:
    dir: layers/config
    channels: [prod, beta]
  tools:
    dir: layers/tools
`

/** The six parameters: config's two channels and tools' implicit one, in dev and prod (EU). */
const NAMES = ['/layers/config/beta/x86_64', '/layers/config/prod/x86_64', '/layers/tools/default/x86_64']
const TARGETS = [DEV, PROD]

let server: AwsServer
let project: Project

const ssmAs = (account: string) => new SSMClient({region: EU, endpoint: server.endpoint, credentials: async () => server.credentials(account), maxAttempts: 1})

/** name -> `version value` of the six parameters, per account. */
async function parameters(): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  for (const account of TARGETS) {
    for (const parameter of (await ssmAs(account).send(new GetParametersCommand({Names: NAMES}))).Parameters ?? []) out[`${account} ${parameter.Name}`] = `${parameter.Version} ${parameter.Value}`
  }
  return out
}

async function deleteAll(): Promise<void> {
  for (const account of TARGETS) await ssmAs(account).send(new DeleteParametersCommand({Names: NAMES}))
}

const puts = (calls: CallRecord[]) => calls.filter((call) => call.operation === 'PutParameter')

beforeAll(async () => {
  server = await startAwsServer({roles: ROLES})
  project = makeProject(server, {'layers.yaml': MANIFEST, 'layers/config/config.json': '{"stage": 1}\n', 'layers/tools/tool.sh': 'echo 1\n'})
  await project.lock()
  const first = await project.run(['publish', '--json', '--create-bucket', '--no-remote-state'])
  expect(first.status, first.stderr).toBe(0)
  expect(first.json.parameters.summary).toMatchObject({parameters: 6, written: 6})
})

afterAll(async () => {
  project?.remove()
  await server?.close()
})

describe('SSM parameter writes under faults', () => {
  it('a stalled PutParameter ends within the time bounds naming the parameter, account and region (exit 1); the rerun converges', async () => {
    await deleteAll()
    const {result: stalled, seconds} = await whileStalled(server, ['PutParameter'], () => project.run(['publish', '--read-timeout', '1', '--concurrency', '1', '--no-remote-state']))
    expect(stalled.status, stalled.stderr).toBe(1)
    // Six parameters, each stalled once (no second attempt after no answer at all) within a 1 s read timeout.
    expect(seconds).toBeLessThan(25)
    const output = stalled.stdout + stalled.stderr
    expect(output).toContain('ERR_LAYERS_AWS_NO_ANSWER')
    expect(output).toMatch(new RegExp(`/layers/tools/default/x86_64 [^\\n]*dev \\(${DEV}\\) ${EU}`))
    // (The failures are wrapped at 80 columns.)
    expect(output.replace(/\s+/g, ' ')).toContain(`No answer from ssm PutParameter for account dev (${DEV}), region ${EU}`)
    expect(Object.keys(await parameters())).toEqual([])

    const rerun = await project.run(['publish', '--json', '--no-remote-state'])
    expect(rerun.status, rerun.stderr).toBe(0)
    expect(rerun.json.parameters.summary).toMatchObject({parameters: 6, written: 6, failed: 0})
    expect(Object.values(await parameters()).every((entry) => entry.startsWith('1 arn:aws:lambda:'))).toBe(true)
  })

  it('PutParameter answers lost after they were applied are read back, not repeated: one new version each; the rerun writes nothing', async () => {
    // Creations whose answers are reset.
    await deleteAll()
    let mark = server.calls.length
    server.setFaults({loseAnswers: 6, loseAnswerAs: 'reset', operations: ['PutParameter']})
    const created = await project.run(['publish', '--json', '--no-remote-state'])
    server.setFaults(undefined)
    expect(created.status, created.stderr).toBe(0)
    expect(puts(server.calls.slice(mark)).map((call) => call.fault)).toEqual(Array(6).fill('lost'))
    const after = await parameters()
    expect(Object.keys(after)).toHaveLength(6)
    expect(Object.values(after).every((entry) => entry.startsWith('1 '))).toBe(true)

    // Overwrites whose answers are 500s: from version 2 (a wrong value) to exactly 3.
    for (const account of TARGETS) for (const name of NAMES) await ssmAs(account).send(new PutParameterCommand({Name: name, Value: 'wrong', Type: 'String', Overwrite: true}))
    mark = server.calls.length
    server.setFaults({loseAnswers: 6, loseAnswerAs: 'error', operations: ['PutParameter']})
    const overwritten = await project.run(['publish', '--json', '--no-remote-state'])
    server.setFaults(undefined)
    expect(overwritten.status, overwritten.stderr).toBe(0)
    expect(puts(server.calls.slice(mark))).toHaveLength(6)
    const fixed = await parameters()
    for (const [key, entry] of Object.entries(fixed)) expect(entry, key).toBe(after[key]!.replace(/^1 /, '3 '))

    mark = server.calls.length
    const rerun = await project.run(['publish', '--json', '--no-remote-state'])
    expect(rerun.status, rerun.stderr).toBe(0)
    expect(rerun.json.parameters.summary).toMatchObject({written: 0, unchanged: 6})
    expect(puts(server.calls.slice(mark))).toEqual([])
  })

  it('SIGINT while the parameters are written: exit 130, lockfile.json valid with the new channels; the rerun writes the rest', async () => {
    project.write('layers/config/config.json', '{"stage": 2}\n')
    await project.lock()
    server.setFaults({latencyMs: 400, operations: ['PutParameter']})
    const mark = server.calls.length
    const child = project.start(['publish', '--json', '--concurrency', '1', '--no-remote-state'])
    let stdout = ''
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
    child.stderr!.resume()
    const timer = setInterval(() => {
      if (puts(server.calls.slice(mark)).some((call) => call.status === 200)) {
        clearInterval(timer)
        child.kill('SIGINT')
      }
    }, 2)
    const code = await new Promise<number | null>((resolve) => child.on('close', (status) => resolve(status)))
    clearInterval(timer)
    server.setFaults(undefined)
    expect(code, stdout).toBe(130)
    const error = JSON.parse(stdout).error
    expect(error).toMatchObject({code: 'ERR_LAYERS_INTERRUPTED'})
    expect(error.message).toMatch(/while writing SSM parameters: \d+ written, \d+ not started/)
    const {written, notStarted} = error.details.parameters.summary as {written: number; notStarted: number}
    expect(written).toBeGreaterThanOrEqual(1)
    expect(notStarted).toBeGreaterThanOrEqual(1)

    // lockfile.json is whole (no temp file or lock left) and both channels of config hold version 2 in both accounts.
    expect(readdirSync(project.dir).filter((name) => name.startsWith('lockfile.json.') || name.endsWith('.tmp'))).toEqual([])
    const lock = parseLockfile('lockfile.json', project.read('lockfile.json'))
    const config = lock.layers.config as unknown as {channels: Record<string, Record<string, Record<string, {x86_64: {arn: string; version: number}}>>>}
    for (const channel of ['prod', 'beta']) for (const account of TARGETS) expect(config.channels[channel]![account]![EU]!.x86_64.version, `${channel} ${account}`).toBe(2)

    const rerun = await project.run(['publish', '--json', '--no-remote-state'])
    expect(rerun.status, rerun.stderr).toBe(0)
    // config's four parameters move (tools' is unchanged; a target not started counts it as not started too).
    expect(rerun.json.parameters.summary).toMatchObject({written: 4 - written, failed: 0})
    const now = await parameters()
    for (const channel of ['prod', 'beta']) for (const account of TARGETS) expect(now[`${account} /layers/config/${channel}/x86_64`]).toBe(`4 ${config.channels[channel]![account]![EU]!.x86_64.arn}`)
  })
})
