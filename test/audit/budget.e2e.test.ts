// End to end through the built CLI (node bin/run.js; `npm run build` first) against the local AWS
// double enforcing Lambda's API request quotas (faults.quotas: 15/s shared control plane per account and
// region): an audit at the default budget (10/s) gets no throttled answer, one at --max-rps 30 gets some
// and still completes through the adaptive retries; a second audit of an unchanged fleet reads no layer
// version again (the state database's cache), only the versions it sees for the first time (and each
// function's aliases, which can move between audits).
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {AuditReport} from '../../src/audit/types.js'
import {runCli, type CliResult} from '../support/cli.js'
import {startAwsServer, type AwsServer, type CallRecord} from '../../aws-double/index.js'
import {seeder} from '../../aws-double/seed.js'

const A = '111111111111'
const B = '222222222222'
const EU = 'eu-west-1'
/** Distinct layer versions per account: with ListFunctions, calls for 3 s of the 15/s bucket. */
const VERSIONS = 48

let server: AwsServer
let dir: string
let env: NodeJS.ProcessEnv

beforeAll(async () => {
  server = await startAwsServer()
  dir = mkdtempSync(path.join(tmpdir(), 'layers-budget-e2e-'))
  env = {
    ...server.writeAwsConfig(path.join(dir, '.aws'), {default: {accountId: A, region: EU}, b: {accountId: B, region: EU}}),
    AWS_ENDPOINT_URL: server.endpoint,
    HOME: dir,
    AWS_EC2_METADATA_DISABLED: 'true',
    NO_COLOR: '1',
  }
  const seed = seeder(server)
  await Promise.all(
    [A, B].flatMap((accountId) =>
      Array.from({length: VERSIONS}, async (_, n) => seed.function(accountId, EU, {name: `fn-${n}`, runtime: 'nodejs24.x', layers: [await seed.layerVersion(accountId, EU, 'lib')]})),
    ),
  )
  server.setFaults({quotas: true})
}, 120_000)

afterAll(async () => {
  await server?.close()
  if (dir) rmSync(dir, {recursive: true, force: true})
})

const audit = (args: string[], profile = 'default'): Promise<CliResult> => runCli(['audit', '--region', EU, '--json', ...args], {cwd: dir, env: {...env, AWS_PROFILE: profile}})
const lambdaCalls = (from: number, accountId: string): CallRecord[] => server.calls.slice(from).filter((call) => call.service === 'lambda' && call.accountId === accountId)
const count = (calls: CallRecord[], operation: string, status?: number): number => calls.filter((call) => call.operation === operation && (status === undefined || call.status === status)).length

describe('layers audit within Lambda\'s API request quotas', () => {
  let first: AuditReport

  it('gets no throttled answer at the default budget; at --max-rps 30 gets some and completes through retries', async () => {
    const mark = server.calls.length
    const [within, beyond] = await Promise.all([audit(['--account', A]), audit(['--account', B, '--no-save', '--max-rps', '30'], 'b')])
    for (const run of [within, beyond]) {
      expect(run.stderr).toBe('')
      expect(run.code).toBe(0)
      expect((run.json as AuditReport).summary).toMatchObject({targets: 1, failedTargets: 0, functions: VERSIONS})
    }
    first = within.json as AuditReport
    const a = lambdaCalls(mark, A)
    const b = lambdaCalls(mark, B)
    expect(count(a, 'GetLayerVersion', 200)).toBe(VERSIONS)
    expect(a.filter((call) => call.status === 429)).toEqual([])
    expect(b.filter((call) => call.status === 429).length).toBeGreaterThan(0)
    expect(count(b, 'GetLayerVersion', 200)).toBe(VERSIONS)
  }, 60_000)

  it('reads a layer version once across runs: a second audit reads only the version it sees for the first time', async () => {
    server.setFaults(undefined)
    const seed = seeder(server)
    await seed.function(A, EU, {name: 'fn-new', runtime: 'nodejs24.x', architecture: 'arm64', layers: [await seed.layerVersion(A, EU, 'lib', {architectures: ['x86_64']})]})
    server.setFaults({quotas: true})
    const mark = server.calls.length
    const second = await audit(['--account', A])
    expect(second.code).toBe(0)
    // Aliases can move between audits, so each function's are listed again (one ListAliases each); layer versions are not.
    const calls = lambdaCalls(mark, A).map((call) => `${call.operation} ${call.status}`)
    const functions = (second.json as AuditReport).functions.filter((fn) => fn.accountId === A).length
    expect(calls.filter((call) => !call.startsWith('ListAliases'))).toEqual(['ListFunctions 200', 'GetLayerVersion 200'])
    expect(calls.filter((call) => call === 'ListAliases 200')).toHaveLength(functions)
    // What the cached versions said is what Lambda said: the same findings, one more for the new version.
    const report = second.json as AuditReport
    expect(report.findings.filter((finding) => finding.function !== 'fn-new')).toEqual(first.findings)
    expect(report.findings.filter((finding) => finding.code === 'arch').map((finding) => finding.function)).toEqual(['fn-new'])
  }, 60_000)
})
