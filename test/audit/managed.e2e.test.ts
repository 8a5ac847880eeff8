// End to end through the built CLI (node bin/run.js; run `npx tsc` first) against the local AWS test
// server, for a project with layers.yaml and a lockfile: two accounts (dev by a named profile, prod
// by an assumed role with an external id) x two regions. Layer versions come from `layers publish`,
// functions are created over the SDK in every state an audit with a manifest reports (clean, drift,
// behind, missing, unmanaged), then: findings asserted exactly, a denied target reported while the
// others complete, --fail-on exit codes, JSON against schema/audit.schema.json, `layers history`,
// `layers prune` (refused without --yes off a terminal, what an account it cannot see could use kept, --yes deleting only unused old versions, a
// stale saved audit refused) and `layers outdated` for the pinned `arn` layer.
import path from 'node:path'
import Database from 'better-sqlite3'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {AuditReport} from '../../src/audit/types.js'
import {startAwsServer, type AwsServer} from '../../aws-double/index.js'
import {seeder, type Seeder} from '../../aws-double/seed.js'
import {accountsYaml, DEV, EU, EXTERNAL_ID, makeProject, PROD, ROLE, TARGETS, US, versionsOf, type Project} from '../publish/support.js'
import {validateAuditJson} from './support/schema.js'

const VENDOR = '333333333333'

const manifest = `version: 1
settings:
  bucket: "audit-{accountId}-{region}"
  regions: [${EU}]
  architectures: [x86_64]
  runtimes: [nodejs24.x]
${accountsYaml()}
layers:
  config:
    dir: layers/config
  ext:
    arn: arn:aws:lambda:{region}:${VENDOR}:layer:ext:1
functions:
  api:
    source: fns/api
    handler: index.handler
    runtime: nodejs24.x
    layers: [config]
    accounts: [dev, prod]
`

let server: AwsServer
let project: Project
let seed: Seeder
const config = (region: string, accountId: string, version: number): string => `arn:aws:lambda:${region}:${accountId}:layer:config:${version}`
const ext = (region: string, version: number): string => `arn:aws:lambda:${region}:${VENDOR}:layer:ext:${version}`
let oldLayer: string
let vendorLayer: string
let otherLayer: string

beforeAll(async () => {
  server = await startAwsServer({accounts: {AKIDACCOUNT1: DEV, AKIDACCOUNT2: PROD, AKIDVENDOR: VENDOR}, roles: {[ROLE]: {externalId: EXTERNAL_ID, trust: [DEV]}}})
  seed = seeder(server)
  project = makeProject(server, {
    'layers.yaml': manifest,
    'layers/config/config.json': '{"stage": 1}\n',
    'fns/api/index.js': 'export const handler = async () => "ok"\n',
  })
  // The vendor's layer: versions 1 and 2 readable by everyone, version 3 by dev only.
  for (const region of [EU, US]) {
    for (const version of [1, 2, 3]) {
      const arn = await seed.layerVersion(VENDOR, region, 'ext')
      expect(arn).toBe(ext(region, version))
      await seed.share(arn, version === 3 ? DEV : '*')
    }
  }
  // Three contents of `config`, each locked and published by the CLI: versions 1, 2, 3 in every target;
  // the lock ends on 3 (and pins ext version 1, as layers.yaml says).
  for (const stage of [1, 2, 3]) {
    project.write('layers/config/config.json', `{"stage": ${stage}}\n`)
    await project.lock()
    const published = await project.run(['publish', '--json', '--create-bucket', 'config'])
    expect(published.status, published.stderr).toBe(0)
  }
  for (const [accountId, region] of TARGETS) expect((await versionsOf(server, accountId, region, 'config')).map((v) => v.version)).toEqual([1, 2, 3])

  oldLayer = await seed.layerVersion(DEV, EU, 'old')
  vendorLayer = ext(US, 2)
  await seed.function(DEV, EU, {name: 'api', runtime: 'nodejs24.x', layers: [config(EU, DEV, 3)]}) // as attach sets it
  await seed.function(DEV, US, {name: 'api', runtime: 'nodejs24.x', layers: [config(US, DEV, 2)]}) // behind
  await seed.function(PROD, EU, {name: 'api', runtime: 'nodejs24.x'}) // drift: its layer is missing
  await seed.function(PROD, US, {name: 'api', runtime: 'nodejs24.x', layers: [config(US, PROD, 3)]})
  await seed.function(DEV, EU, {name: 'legacy', runtime: 'nodejs24.x', layers: [oldLayer]}) // missing once deleted
  await seed.deleteLayerVersion(oldLayer)
  await seed.function(PROD, US, {name: 'report', runtime: 'nodejs24.x', layers: [vendorLayer]}) // ext is known: not unmanaged
  otherLayer = await seed.layerVersion(VENDOR, US, 'other')
  await seed.share(otherLayer, '*')
  await seed.function(PROD, US, {name: 'thirdparty', runtime: 'nodejs24.x', layers: [otherLayer]}) // unmanaged
}, 240_000)

afterAll(async () => {
  project?.remove()
  await server?.close()
})

const row = (f: AuditReport['findings'][number]): string[] => [f.severity, f.code, f.accountId, f.region, f.function, f.layer ?? '']

const FINDINGS = (): string[][] => [
  ['error', 'missing', DEV, EU, 'legacy', oldLayer],
  ['error', 'drift', PROD, EU, 'api', ''],
  ['warning', 'behind', DEV, US, 'api', config(US, DEV, 2)],
  ['info', 'unmanaged', DEV, EU, 'legacy', oldLayer],
  ['info', 'unmanaged', PROD, US, 'thirdparty', otherLayer],
]

describe('layers audit with layers.yaml and lockfile.json (CLI)', () => {
  it('reports drift, behind, missing and unmanaged exactly, and validates against the schema', async () => {
    const run = await project.run(['audit', '--json'])
    expect(run.status, run.stderr).toBe(0)
    const report = run.json as AuditReport
    expect(validateAuditJson(report)).toEqual([])
    expect(report.targets.map((t) => `${t.accountName}/${t.region}/${t.status}/${t.functions}`)).toEqual([
      `dev/${EU}/ok/2`,
      `dev/${US}/ok/1`,
      `prod/${EU}/ok/1`,
      `prod/${US}/ok/3`,
    ])
    expect(report.findings.map(row)).toEqual(FINDINGS())
    const drift = report.findings.find((f) => f.code === 'drift')!
    expect(drift.message).toContain(config(EU, PROD, 3))
    expect(drift.fix).toMatch(/layers attach/)
    expect(report.findings.find((f) => f.code === 'behind')!.message).toContain('version 3')
    // The usage matrix: config version 3 in two targets, version 2 in one; the vendor's ext version 2 once, under its manifest name.
    const usage = Object.fromEntries(report.usage.map((u) => [u.arn, `${u.name ?? '-'}:${u.functions}:${u.targets.map((t) => `${t.accountId}/${t.region}`).join(',')}`]))
    expect(usage[config(EU, DEV, 3)]).toBe(`config:1:${DEV}/${EU}`)
    expect(usage[config(US, DEV, 2)]).toBe(`config:1:${DEV}/${US}`)
    expect(usage[vendorLayer]).toBe(`ext:1:${PROD}/${US}`)
    expect(usage[otherLayer]).toBe(`-:1:${PROD}/${US}`)
    const managed = report.functions.filter((fn) => fn.managed).map((fn) => `${fn.accountId}/${fn.region}/${fn.name}`)
    expect(managed).toEqual([`${DEV}/${EU}/api`, `${DEV}/${US}/api`, `${PROD}/${EU}/api`, `${PROD}/${US}/api`])
  })

  it('prints the findings and the layer x version matrix as a table', async () => {
    const run = await project.run(['audit', '--no-save'])
    expect(run.status, run.stderr).toBe(0)
    // Findings grouped under `severity code (n findings)`, a row per target and function.
    for (const [severity, code, account, region, fn] of FINDINGS()) {
      expect(run.stdout).toMatch(new RegExp(`^${severity} ${code} \\(\\d+ findings?\\)$`, 'm'))
      expect(run.stdout).toMatch(new RegExp(`^ {2}(dev|prod) \\(${account}\\) ${region}\\s+${fn}\\s`, 'm'))
    }
    // The usage matrix: one row per layer version (manifest name when known), its functions and targets.
    expect(run.stdout).toMatch(new RegExp(`^config\\s+2\\s+1\\s+dev \\(${DEV}\\) ${US}: 1$`, 'm'))
    expect(run.stdout).toMatch(new RegExp(`^ext\\s+2\\s+1\\s+prod \\(${PROD}\\) ${US}: 1$`, 'm'))
  })

  it('--fail-on gates on severity', async () => {
    expect((await project.run(['audit', '--no-save', '--fail-on', 'error'])).status).toBe(1)
    const devUs = ['audit', '--no-save', '--account', 'dev', '--region', US]
    expect((await project.run([...devUs, '--fail-on', 'error', '--json'])).status).toBe(0)
    const warning = await project.run([...devUs, '--fail-on', 'warning', '--json'])
    expect(warning.status).toBe(1)
    expect(warning.stderr).toContain('ERR_LAYERS_AUDIT_FINDINGS')
    expect((warning.json as AuditReport).findings.map(row)).toEqual([['warning', 'behind', DEV, US, 'api', config(US, DEV, 2)]])
  })

  it('reports a denied target as failed, completes the others, and --diff shows what changed', async () => {
    server.setFaults({deny: [`${PROD}/${US}`]})
    try {
      const run = await project.run(['audit', '--json', '--diff'])
      expect(run.status).toBe(1)
      expect(run.stderr).toContain('ERR_LAYERS_AUDIT_TARGETS_FAILED')
      expect(run.stderr).toContain(`${PROD}/${US}`)
      const report = run.json as AuditReport
      expect(validateAuditJson(report)).toEqual([])
      expect(report.targets.map((t) => `${t.accountName}/${t.region}/${t.status}/${t.error?.code ?? ''}`)).toEqual([
        `dev/${EU}/ok/`,
        `dev/${US}/ok/`,
        `prod/${EU}/ok/`,
        `prod/${US}/failed/AccessDeniedException`,
      ])
      expect(report.findings.map(row)).toEqual(FINDINGS().filter((f) => f[4] !== 'thirdparty'))
      expect(report.diff?.resolved.map(row)).toEqual([['info', 'unmanaged', PROD, US, 'thirdparty', otherLayer]])
      expect(report.diff?.added).toEqual([])
    } finally {
      server.setFaults(undefined)
    }
  })

  it('still reports every function when a third of the calls are throttled (adaptive retries)', async () => {
    server.setFaults({throttleRate: 0.33, seed: 11})
    try {
      const run = await project.run(['audit', '--json', '--no-save'])
      expect(run.status, run.stderr).toBe(0)
      expect((run.json as AuditReport).summary.functions).toBe(7)
      expect((run.json as AuditReport).findings.map(row)).toEqual(FINDINGS())
    } finally {
      server.setFaults(undefined)
    }
    expect(server.calls.some((call) => call.status === 429)).toBe(true)
  })
})

describe('layers history (CLI)', () => {
  it('shows the publications of a layer and its usage in each saved audit', async () => {
    const run = await project.run(['history', 'config', '--json'])
    expect(run.status, run.stderr).toBe(0)
    const history = run.json as {publications: Array<{accountId: string; region: string; version: number}>; usage: Array<{runId: number; versions: Array<{arn: string; functions: number}>}>}
    expect(history.publications.map((p) => `${p.accountId}/${p.region}/${p.version}`).sort()).toEqual(
      TARGETS.flatMap(([accountId, region]) => [1, 2, 3].map((version) => `${accountId}/${region}/${version}`)).sort(),
    )
    // Saved runs: #1 (every target) and #2 (prod/us-east-1 denied; the config uses there were not seen).
    expect(history.usage.map((entry) => entry.runId)).toEqual([1, 2])
    expect(history.usage.map((entry) => entry.versions.map((v) => `${v.arn}=${v.functions}`).sort())).toEqual([
      [`${config(EU, DEV, 3)}=1`, `${config(US, DEV, 2)}=1`, `${config(US, PROD, 3)}=1`],
      [`${config(EU, DEV, 3)}=1`, `${config(US, DEV, 2)}=1`],
    ])
  })
})

describe('layers prune (CLI)', () => {
  const prune = async (args: string[]) => {
    const run = await project.run(['prune', '--json', ...args])
    // Without --yes and without a terminal, prune refuses to delete candidates; the refusal names them.
    const refused = run.json?.error?.code === 'ERR_LAYERS_CONFIRMATION_REQUIRED' ? (run.json.error.details.candidates as string[]) : undefined
    return {...run, arns: refused ?? ((run.json?.candidates ?? []) as Array<{arn: string}>).map((c) => c.arn)}
  }

  it('without --yes and without a terminal: refuses (exit 2) naming the unused unlocked versions beyond --keep and the storage freed, deletes nothing', async () => {
    const mark = server.calls.length
    const run = await prune(['--keep', '2'])
    expect(run.status, run.stderr).toBe(2)
    expect(run.json.error).toMatchObject({code: 'ERR_LAYERS_CONFIRMATION_REQUIRED', hint: expect.stringContaining('--yes')})
    expect(run.arns).toEqual([config(EU, DEV, 1), config(US, DEV, 1), config(EU, PROD, 1), config(US, PROD, 1)])
    expect(run.json.error.message).toContain(`layers prune would delete 4 layer version(s)`)
    for (const arn of run.arns) expect(run.json.error.message).toContain(arn)
    expect(run.json.error.details.freedBytes).toBeGreaterThan(0)
    expect(server.calls.slice(mark).filter((call) => call.operation === 'DeleteLayerVersion')).toEqual([])
  })

  it('keeps every version an account it could not audit could use there (its own; config is not shared)', async () => {
    server.setFaults({deny: [`${PROD}/${US}`]})
    try {
      const run = await prune([])
      expect(run.status).toBe(2)
      // prod's versions in us-east-1 are kept; dev's there are not prod's to use.
      expect(run.arns).toEqual([config(EU, DEV, 1), config(EU, DEV, 2), config(US, DEV, 1), config(EU, PROD, 1), config(EU, PROD, 2)])
      expect(run.json.error.details.failures.map((f: {accountId: string; region: string}) => `${f.accountId}/${f.region}`)).toContain(`${PROD}/${US}`)
    } finally {
      server.setFaults(undefined)
    }
  })

  it('--yes deletes only versions nothing uses and the lock does not pin, and records them', async () => {
    const run = await prune(['--yes'])
    expect(run.status, run.stderr).toBe(0)
    const expected = [config(EU, DEV, 1), config(EU, DEV, 2), config(US, DEV, 1), config(EU, PROD, 1), config(EU, PROD, 2), config(US, PROD, 1), config(US, PROD, 2)]
    expect((run.json.deleted as Array<{arn: string}>).map((d) => d.arn)).toEqual(expected)
    expect((await versionsOf(server, DEV, EU, 'config')).map((v) => v.version)).toEqual([3])
    expect((await versionsOf(server, DEV, US, 'config')).map((v) => v.version)).toEqual([2, 3]) // used by dev/us-east-1 api
    expect((await versionsOf(server, PROD, EU, 'config')).map((v) => v.version)).toEqual([3])
    expect((await versionsOf(server, PROD, US, 'config')).map((v) => v.version)).toEqual([3])
    // The vendor's arn layer is not ours to prune.
    expect(server.calls.filter((call) => call.operation === 'DeleteLayerVersion' && call.accountId === VENDOR)).toEqual([])
    const history = await project.run(['history', 'config', '--json'])
    expect((history.json.prunes as Array<{arn: string}>).map((p) => p.arn).sort()).toEqual([...expected].sort())
    const again = await prune([])
    expect(again.arns).toEqual([])
  })

  it('refuses a saved audit older than --max-audit-age', async () => {
    const audit = await project.run(['audit', '--json'])
    expect(audit.status).toBe(0)
    const fresh = await prune(['--use-last-audit'])
    expect(fresh.status, fresh.stderr).toBe(0)
    expect(fresh.json.audit).toMatchObject({runId: audit.json.runId, reused: true})
    // The same audit, two hours later.
    const db = new Database(path.join(project.dir, '.layers', 'state.db'))
    db.prepare('UPDATE audit_runs SET started_at = ? WHERE id = ?').run(new Date(Date.now() - 2 * 3_600_000).toISOString(), audit.json.runId)
    db.close()
    const stale = await prune(['--use-last-audit', '--max-audit-age', '15m', '--yes'])
    expect(stale.status).toBe(1)
    expect(stale.json.error.code).toBe('ERR_LAYERS_PRUNE_STALE_AUDIT')
    expect(stale.json.error.hint).toMatch(/layers audit/)
  })

  it('rejects an arn layer and a bad duration with exit 2', async () => {
    const arn = await prune(['ext'])
    expect(arn.status).toBe(2)
    expect(arn.json.error.code).toBe('ERR_LAYERS_LAYER_KIND')
    const duration = await prune(['--older-than', 'soon'])
    expect(duration.status).toBe(2)
    expect(duration.json.error.code).toBe('ERR_LAYERS_FLAG_VALUE')
  })
})

describe('layers outdated (CLI, arn layers)', () => {
  it('reports per pinned target the newest version that account can read', async () => {
    const run = await project.run(['outdated', 'ext', '--json'])
    expect(run.status, run.stderr).toBe(0)
    const rows = (run.json.rows as Array<Record<string, unknown>>).map((r) => `${r.layer}/${r.accountId}/${r.region}/${r.lockedVersion}->${r.latestVersion}`)
    expect(rows).toEqual([`ext/${DEV}/${EU}/1->3`, `ext/${DEV}/${US}/1->3`, `ext/${PROD}/${EU}/1->2`, `ext/${PROD}/${US}/1->2`])
  })
})
