// End to end through the built CLI (node bin/run.js; run `npx tsc` first) against the local AWS test
// server (aws-double): an AWS Organization of four accounts (the management account and
// three members), each reached by assuming a role, x 2 regions, one target denied; functions seeded
// over the SDK in the finding states an audit without a manifest can reach (drift and behind need
// layers.yaml: see managed.e2e.test.ts).
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {parse} from 'csv-parse/sync'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {AuditReport} from '../../src/audit/types.js'
import {runCli, type CliResult} from '../support/cli.js'
import {startAwsServer, type AwsServer} from '../../aws-double/index.js'
import {seeder} from '../../aws-double/seed.js'
import {validateAuditJson} from './support/schema.js'
import {existsSync, readFileSync} from 'node:fs'
import {sortFindings} from '../../src/audit/findings.js'
import {compareText} from '../../src/audit/catalog.js'

const MGMT = '100000000000'
const PROD = '111111111111'
const DEV = '222222222222'
const OPS = '333333333333'
const EU = 'eu-west-1'
const US = 'us-east-1'
const ORG_ID = 'o-audit00001'

let server: AwsServer
let dir: string
let env: NodeJS.ProcessEnv
const layer: Record<string, string> = {}

beforeAll(async () => {
  server = await startAwsServer({
    accounts: {AKIDMGMT: MGMT, AKIDPROD: PROD, AKIDDEV: DEV, AKIDOPS: OPS},
    organizations: {[MGMT]: ORG_ID, [PROD]: ORG_ID, [DEV]: ORG_ID, [OPS]: ORG_ID},
    accountNames: {[MGMT]: 'mgmt', [PROD]: 'prod', [DEV]: 'dev', [OPS]: 'ops'},
    optInRegions: {[OPS]: ['af-south-1']},
    // The audit role of every member account trusts the management account, as AWS Organizations sets it up.
    roles: Object.fromEntries([MGMT, PROD, DEV, OPS].map((id) => [`arn:aws:iam::${id}:role/Audit`, {trust: [MGMT]}])),
  })
  dir = mkdtempSync(path.join(tmpdir(), 'layers-audit-e2e-'))
  env = {
    ...server.writeAwsConfig(path.join(dir, '.aws'), {default: {accountId: MGMT, region: US}}),
    AWS_ENDPOINT_URL: server.endpoint,
    HOME: dir,
    AWS_EC2_METADATA_DISABLED: 'true',
    NO_COLOR: '1',
  }
  const seed = seeder(server)
  layer.tool = await seed.layerVersion(PROD, EU, 'tool', {architectures: ['x86_64']})
  layer.shared1 = await seed.layerVersion(PROD, EU, 'shared')
  layer.shared2 = await seed.layerVersion(PROD, EU, 'shared')
  await seed.share(layer.shared2, OPS)
  const five: string[] = []
  for (const n of [1, 2, 3, 4, 5]) five.push(await seed.layerVersion(PROD, EU, `five${n}`))
  await seed.function(PROD, EU, {name: 'clean-fn', runtime: 'nodejs24.x'})
  await seed.function(PROD, EU, {name: 'arch-fn', runtime: 'nodejs24.x', architecture: 'arm64', layers: [layer.tool]})
  await seed.function(PROD, EU, {name: 'old-fn', runtime: 'nodejs16.x'})
  await seed.function(PROD, EU, {name: 'missing-fn', runtime: 'nodejs24.x', layers: [layer.shared1]})
  // Deleted after use: the function keeps it, GetLayerVersion no longer finds it.
  await seed.deleteLayerVersion(layer.shared1)
  await seed.function(PROD, EU, {name: 'five-fn', runtime: 'nodejs24.x', layers: five})
  // 70 MB zipped, estimated x3 unzipped: above 80% of 262,144,000 bytes.
  await seed.function(PROD, EU, {name: 'big-fn', runtime: 'nodejs24.x', codeSize: 70_000_000})
  // More than one ListFunctions page (50).
  for (let index = 0; index < 60; index++) await seed.function(PROD, US, {name: `bulk-${String(index).padStart(2, '0')}`, runtime: 'nodejs24.x'})
  await seed.function(OPS, EU, {name: 'cross-fn', runtime: 'nodejs24.x', layers: [layer.shared2]})
  await seed.function(DEV, EU, {name: 'dev-fn', runtime: 'nodejs24.x'})
  server.setFaults({deny: [`${DEV}/${US}`]})
}, 120_000)

afterAll(async () => {
  await server?.close()
  if (dir) rmSync(dir, {recursive: true, force: true})
})

const layers = (args: string[]): Promise<CliResult> => runCli(args, {cwd: dir, env})

// The request budget (default 10 Lambda calls a second per account and region: 6 s for the 60 functions
// of prod/us-east-1) is budget.e2e.test.ts's subject; here it would only add waiting to every run.
const FAST = ['--max-rps', '1000']
const ORG = ['audit', '--org', '--role-name', 'Audit', '--region', EU, '--region', US, ...FAST]

describe('layers audit (CLI, organization via assume-role)', () => {
  let report: AuditReport

  it('scans every target, reports the denied one as failed, and finds exactly the seeded problems', async () => {
    const mark = server.calls.length
    const run = await layers([...ORG, '--json'])
    expect(run.code).toBe(1)
    expect(run.stderr).toContain('ERR_LAYERS_AUDIT_TARGETS_FAILED')
    expect(run.stderr).not.toMatch(/\n\s+at .*:\d+:\d+/)
    report = run.json as AuditReport
    expect(validateAuditJson(report)).toEqual([])
    expect(report.targets.map((t) => `${t.accountName}/${t.region}/${t.status}/${t.functions}${t.error ? `/${t.error.code}` : ''}`)).toEqual([
      `mgmt/${EU}/ok/0`,
      `mgmt/${US}/ok/0`,
      `prod/${EU}/ok/6`,
      `prod/${US}/ok/60`,
      `dev/${EU}/ok/1`,
      `dev/${US}/failed/0/AccessDeniedException`,
      `ops/${EU}/ok/1`,
      `ops/${US}/ok/0`,
    ])
    expect(report.summary).toEqual({targets: 8, failedTargets: 1, functions: 68, findings: {error: 3, warning: 2, info: 8}})
    expect(report.findings.map((f) => [f.severity, f.code, f.accountId, f.region, f.function, f.layer ?? ''])).toEqual([
      ['error', 'arch', PROD, EU, 'arch-fn', layer.tool],
      ['error', 'missing', PROD, EU, 'missing-fn', layer.shared1],
      ['error', 'runtime', PROD, EU, 'old-fn', ''],
      ['warning', 'limits', PROD, EU, 'big-fn', ''],
      ['warning', 'limits', PROD, EU, 'five-fn', ''],
      ['info', 'unmanaged', PROD, EU, 'arch-fn', layer.tool],
      ...[1, 2, 3, 4, 5].map((n) => ['info', 'unmanaged', PROD, EU, 'five-fn', `arn:aws:lambda:${EU}:${PROD}:layer:five${n}:1`]),
      ['info', 'unmanaged', PROD, EU, 'missing-fn', layer.shared1],
      ['info', 'unmanaged', OPS, EU, 'cross-fn', layer.shared2],
    ])
    expect(report.findings.every((f) => f.fix.length > 0 && !f.fix.includes('\n'))).toBe(true)
    expect(report.usage.find((u) => u.arn === layer.shared2)?.targets).toEqual([{accountId: OPS, region: EU, functions: 1}])
    expect(report.runId).toBe(1)
    // Every page was read: 60 functions in prod/us-east-1 take two ListFunctions calls.
    const calls = server.calls.slice(mark)
    expect(calls.filter((c) => c.operation === 'ListFunctions' && c.accountId === PROD && c.region === US && c.status === 200)).toHaveLength(2)
    expect(calls.filter((c) => c.operation === 'ListAccounts').map((c) => c.accountId)).toEqual([MGMT])
    expect(new Set(calls.filter((c) => c.operation === 'AssumeRole').map((c) => c.accountId))).toEqual(new Set([MGMT]))
  })

  it('prints CSV a CSV parser reads back, one row per finding; markdown and the table name the failed target', async () => {
    const [run, markdown, table] = await Promise.all([layers([...ORG, '--format', 'csv', '--no-save']), layers([...ORG, '--format', 'markdown', '--no-save']), layers([...ORG, '--no-save'])])
    expect(run.code).toBe(1)
    const rows = parse(run.stdout, {columns: true}) as Array<Record<string, string>>
    expect(rows.map((row) => `${row.code}:${row.function}`)).toEqual(report.findings.map((f) => `${f.code}:${f.function}`))
    expect(markdown.stdout).toContain('AccessDeniedException')
    expect(markdown.stdout).toMatch(/^\|/m)
    expect(table.stdout).toContain(`${DEV}`)
    expect(table.stdout).toContain('AccessDeniedException')
  })

  it('--format jsonl streams the --json report line by line, a summary last; --format html writes one page, to stdout or --output', async () => {
    const out = path.join(dir, 'reports', 'audit.html')
    const [lines, html, toFile, diff, json] = await Promise.all([
      layers([...ORG, '--format', 'jsonl', '--no-save']),
      layers([...ORG, '--format', 'html', '--no-save']),
      layers([...ORG, '--format', 'html', '--no-save', '--output', out]),
      layers([...ORG, '--format', 'jsonl', '--diff']),
      layers([...ORG, '--json', '--output', out]),
    ])
    // The failed target still fails the run, after every line was written.
    expect(lines.code).toBe(1)
    expect(lines.stderr).toContain('ERR_LAYERS_AUDIT_TARGETS_FAILED')
    const parsed = lines.stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as {type: string; [key: string]: unknown})
    expect(parsed.at(-1)).toMatchObject({type: 'summary', schemaVersion: 2, summary: report.summary})
    expect(parsed.filter((line) => line.type === 'summary')).toHaveLength(1)
    const byTarget = (a: {accountId: string; region: string; name?: string}, b: {accountId: string; region: string; name?: string}) => compareText(a.accountId, b.accountId) || compareText(a.region, b.region) || compareText(a.name ?? '', b.name ?? '')
    const of = (type: string) => parsed.filter((line) => line.type === type).map((line) => line[type] as never)
    expect([...of('target')].sort(byTarget)).toEqual(report.targets)
    expect([...of('function')].sort(byTarget)).toEqual(report.functions)
    expect(sortFindings(of('finding'))).toEqual(report.findings)
    // A function's finding lines follow its function line; its target's line comes after all its functions.
    const at = (line: (typeof parsed)[number]) => line[line.type] as {accountId: string; region: string; name?: string; function?: string}
    for (const [index, line] of parsed.entries()) {
      if (line.type !== 'finding') continue
      const owner = parsed.slice(0, index).findLast((earlier) => earlier.type === 'function')
      expect(owner && at(owner)).toMatchObject({accountId: at(line).accountId, region: at(line).region, name: at(line).function})
    }
    const targetLine = parsed.findIndex((line) => line.type === 'target' && at(line).accountId === PROD && at(line).region === US)
    const lastFunction = parsed.findLastIndex((line) => line.type === 'function' && at(line).accountId === PROD && at(line).region === US)
    expect(lastFunction).toBeGreaterThan(-1)
    expect(targetLine).toBeGreaterThan(lastFunction)

    expect(html.code).toBe(1)
    expect(html.stdout).toMatch(/^<!doctype html>/)
    expect(html.stdout).toContain('<table class="matrix">')
    expect(html.stdout).toContain('AccessDeniedException')
    expect(html.stdout).not.toMatch(/https?:\/\//)
    expect(toFile.code).toBe(1)
    expect(toFile.stdout).toBe('')
    // The same page, but for the run's own times (two runs, two audits).
    const times = (page: string) => page.replace(/Audit from \S+ to \S+\./, 'Audit from - to -.')
    expect(existsSync(out) && times(readFileSync(out, 'utf8'))).toBe(times(html.stdout))

    expect(diff.code).toBe(2)
    expect(diff.stderr).toContain('--diff cannot be streamed')
    expect(json.code).toBe(2)
  })

  it('--fail-on sets the exit code; --diff compares with the previous run', async () => {
    const ops = ['audit', '--org', '--role-name', 'Audit', '--account', OPS, '--region', EU, ...FAST]
    expect((await layers([...ops, '--json'])).code).toBe(0)
    expect((await layers([...ops, '--fail-on', 'warning', '--json'])).code).toBe(0)
    const prod = ['audit', '--org', '--role-name', 'Audit', '--account', 'prod', '--region', EU, ...FAST]
    expect((await layers([...prod, '--json', '--no-save'])).code).toBe(0)
    const failed = await layers([...prod, '--fail-on', 'error', '--json'])
    expect(failed.code).toBe(1)
    expect(failed.stderr).toContain('ERR_LAYERS_AUDIT_FINDINGS')
    expect((failed.json as AuditReport).summary.findings.error).toBe(3)
    expect((await layers([...prod, '--fail-on', 'warning'])).code).toBe(1)
    const diff = (await layers([...ORG, '--json', '--diff'])).json as AuditReport
    // The previous saved run covered prod/eu-west-1 only: the ops finding is new, the rest unchanged.
    expect(diff.diff?.added.map((f) => `${f.code}:${f.function}`)).toEqual(['unmanaged:cross-fn'])
    expect(diff.diff?.unchanged).toBe(12)
    expect(diff.diff?.resolved).toEqual([])
  })

  it('layers history shows the usage saved by each run', async () => {
    const history = (await layers(['history', `arn:aws:lambda:${EU}:${PROD}:layer:tool`, '--json'])).json as {usage: Array<{runId: number; versions: Array<{version: number; functions: number}>}>}
    // Saved runs that scanned prod/eu-west-1: #1, the prod --fail-on runs (#4, #5) and the --diff run (#6).
    expect(history.usage.map((run) => run.runId)).toEqual([1, 4, 5, 6])
    expect(history.usage.every((run) => run.versions.length === 1 && run.versions[0]!.version === 1 && run.versions[0]!.functions === 1)).toBe(true)
    const page = await layers(['history', `arn:aws:lambda:${EU}:${PROD}:layer:tool`, '--format', 'html'])
    expect(page.code, page.stderr).toBe(0)
    expect(page.stdout.match(/<g class="run"/g)).toHaveLength(4)
  })

  it('--all-regions scans every region Account ListRegions reports enabled for the account', async () => {
    const run = await layers(['audit', '--org', '--role-name', 'Audit', '--account', 'ops', '--all-regions', '--json', '--no-save', ...FAST])
    expect(run.code, run.stderr).toBe(0)
    const regions = (run.json as AuditReport).targets.map((t) => `${t.accountId}/${t.region}/${t.status}`)
    expect(regions).toHaveLength(18) // the 17 default regions and the one opt-in region ops enabled
    expect(regions).toContain(`${OPS}/af-south-1/ok`)
    expect(regions).toContain(`${OPS}/${EU}/ok`)
    expect(regions.some((r) => r.includes('ap-east-1'))).toBe(false)
    expect((run.json as AuditReport).summary.functions).toBe(1)
  })

  it('fails a target whose credentials reach another account instead of reporting that account there', async () => {
    await seeder(server).function(MGMT, 'ap-south-1', {name: 'mgmt-fn', runtime: 'nodejs24.x'})
    // No manifest, an account id: the default credentials, which belong to the management account.
    const run = await layers(['audit', '--account', PROD, '--region', 'ap-south-1', '--json', '--no-save'])
    expect(run.code).toBe(1)
    const report = run.json as AuditReport
    expect(report.targets).toEqual([
      expect.objectContaining({accountId: PROD, region: 'ap-south-1', status: 'failed', error: {code: 'ERR_LAYERS_ACCOUNT_MISMATCH', message: `The credentials for account ${PROD} (the default credential chain) belong to account ${MGMT}, not ${PROD}: nothing was read or written with them.`}}),
    ])
    expect(report.summary.functions).toBe(0)
  })

  it('rejects --org without --role-name and an unknown account name with exit 2', async () => {
    const noRole = await layers(['audit', '--org', '--region', EU, '--json'])
    expect(noRole.code).toBe(2)
    expect(noRole.json.error.code).toBe('ERR_LAYERS_USAGE')
    const bad = await layers(['audit', '--account', 'staging', '--region', EU, '--json'])
    expect(bad.code).toBe(2)
    expect(bad.stderr + bad.stdout).not.toMatch(/at .*\.js:\d+/)
  })
})
