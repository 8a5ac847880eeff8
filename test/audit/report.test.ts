import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {parse} from 'csv-parse/sync'
import {afterEach, describe, expect, it} from 'vitest'
import {buildCatalog} from '../../src/audit/catalog.js'
import {buildReport, diffFindings} from '../../src/audit/findings.js'
import {CSV_COLUMNS, renderAudit, renderText} from '../../src/audit/render.js'
import type {AuditReport} from '../../src/audit/types.js'
import {layerHistory, openAuditRun, previousRun, recordPrune, runFindings, runLayerUsage} from '../../src/history/store.js'
import {openStateDatabase, type StateDatabase} from '../../src/store/db.js'
import {parseDuration} from '../../src/prune/duration.js'
import {validateAuditJson} from './support/schema.js'

const A = '111111111111'
const R = 'eu-west-1'
const arn = (name: string, version: number): string => `arn:aws:lambda:${R}:${A}:layer:${name}:${version}`

/** Saves a whole report as one run (as an audit saves it, target by target); returns its id. */
function saveRun(db: StateDatabase, report: AuditReport): number {
  const run = openAuditRun(db, report.startedAt)
  run.add(report)
  run.finish(report)
  return run.runId
}

export function sampleReport(): AuditReport {
  return buildReport({
    scans: [
      {
        accountId: A, accountName: 'prod', region: R, status: 'ok',
        functions: [
          {name: 'a, "quoted"', runtime: 'nodejs16.x', architecture: 'x86_64', codeSize: 5, layers: [{arn: arn('ext', 1), codeSize: 1}]},
          {name: 'b', architecture: 'arm64', codeSize: 5, layers: [{arn: arn('ext', 2), codeSize: 1}, {arn: arn('ext2', 7), codeSize: 1}]},
        ],
      },
      {accountId: A, region: 'us-east-1', status: 'failed', error: {code: 'AccessDeniedException', message: 'User is not authorized | to list'}},
    ],
    catalog: buildCatalog(undefined, undefined),
    desired: {},
    layerVersions: {},
    unzippedBytes: {},
    runtimes: [{runtime: 'nodejs16.x', deprecated: '2024-06-12'}],
    now: '2025-01-01T00:00:00.000Z',
    startedAt: '2025-01-01T00:00:00.000Z',
    finishedAt: '2025-01-01T00:00:02.000Z',
  })
}

describe('audit output', () => {
  it('JSON validates against schema/audit.schema.json, and the schema rejects a broken report', () => {
    const report = sampleReport()
    expect(validateAuditJson(JSON.parse(renderAudit(report, 'json')))).toEqual([])
    expect(validateAuditJson({...report, diff: {...diffFindings([], report.findings), previousRunId: 1, previousStartedAt: report.startedAt}})).toEqual([])
    expect(validateAuditJson({...report, findings: [{...report.findings[0], severity: 'fatal'}]}).length).toBeGreaterThan(0)
    expect(validateAuditJson({...report, targets: [{accountId: 'x', region: R, status: 'ok', functions: 0}]}).length).toBeGreaterThan(0)
    const {usage: _usage, ...withoutUsage} = report
    expect(validateAuditJson(withoutUsage)).toContain(" must have required property 'usage'")
  })

  it('CSV has a header and one row per finding, quoted so a CSV parser reads it back', () => {
    const report = sampleReport()
    const rows = parse(renderAudit(report, 'csv'), {columns: true}) as Array<Record<string, string>>
    expect(Object.keys(rows[0]!)).toEqual([...CSV_COLUMNS])
    expect(rows.map((row) => [row.severity, row.code, row.function, row.layer])).toEqual([
      ['error', 'runtime', 'a, "quoted"', ''],
      ['info', 'unmanaged', 'a, "quoted"', arn('ext', 1)],
      ['info', 'unmanaged', 'b', arn('ext2', 7)],
      ['info', 'unmanaged', 'b', arn('ext', 2)],
    ])
  })

  it('the table shows failed targets, findings, then the usage matrix and a summary line', () => {
    const text = renderText(sampleReport(), {color: false, columns: 120})
    const order = ['Failed targets', 'AccessDeniedException', 'Findings', 'Layer usage', '2 functions in 1 of 2 targets; 1 errors, 0 warnings, 3 notes']
    const positions = order.map((word) => text.indexOf(word))
    expect(positions.every((position) => position >= 0)).toBe(true)
    expect([...positions].sort((a, b) => a - b)).toEqual(positions)
    expect(text).toMatch(/^arn:aws:lambda:eu-west-1:111111111111:layer:ext\s+1\s+1\s+prod \(111111111111\) eu-west-1: 1$/m)
    expect(renderAudit(sampleReport(), 'table')).toContain('Layer usage')
  })

  it('Markdown escapes pipes in cells', () => {
    const text = renderAudit(sampleReport(), 'markdown')
    expect(text).toContain('User is not authorized \\| to list')
    expect(text).toContain('## Layer usage')
  })
})

describe('history store', () => {
  const dirs: string[] = []
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, {recursive: true, force: true})
  })

  it('saves runs and reads back targets, findings and usage; previousRun walks back', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'layers-history-'))
    dirs.push(dir)
    const db = openStateDatabase(dir)
    const report = sampleReport()
    const first = saveRun(db, report)
    const second = saveRun(db, {...report, findings: report.findings.slice(1), startedAt: '2025-01-02T00:00:00.000Z'})
    expect(second).toBeGreaterThan(first)
    expect(previousRun(db)?.id).toBe(second)
    const prior = previousRun(db, second)!
    expect(prior.id).toBe(first)
    expect(prior.targets.find((target) => target.status === 'failed')?.error?.code).toBe('AccessDeniedException')
    expect(runFindings(db, first)).toEqual(report.findings)
    expect(runFindings(db, second)).toEqual(report.findings.slice(1))
    expect(runLayerUsage(db, first).map((row) => [row.arn, row.functions])).toEqual([
      [arn('ext2', 7), 1],
      [arn('ext', 1), 1],
      [arn('ext', 2), 1],
    ])
    db.prepare(`INSERT INTO publications (layer, artifact, account_id, region, version, arn, code_sha256, published_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`).run(
      'ext', 'x86_64', A, R, 2, arn('ext', 2), 'sha', '2024-12-31T00:00:00.000Z',
    )
    recordPrune(db, {layer: 'ext', accountId: A, region: R, version: 1, arn: arn('ext', 1), codeSize: 10, deletedAt: '2025-01-03T00:00:00.000Z'})
    const byArn = layerHistory(db, `arn:aws:lambda:${R}:${A}:layer:ext`)
    expect(byArn.publications.map((p) => p.version)).toEqual([2])
    expect(byArn.usage.map((run) => [run.runId, run.versions.map((v) => v.version)])).toEqual([
      [first, [1, 2]],
      [second, [1, 2]],
    ])
    expect(byArn.prunes.map((p) => p.version)).toEqual([1])
    expect(layerHistory(db, 'ext').publications.map((p) => p.arn)).toEqual([arn('ext', 2)])
    expect(layerHistory(db, 'nothing')).toEqual({layer: 'nothing', publications: [], usage: [], prunes: [], grants: [], attaches: [], audits: []})
    db.close()
  })
})

describe('parseDuration', () => {
  it('reads m, h, d, w and combinations', () => {
    expect(parseDuration('30m')).toBe(1_800_000)
    expect(parseDuration('12h')).toBe(43_200_000)
    expect(parseDuration('90d')).toBe(90 * 86_400_000)
    expect(parseDuration('1w2d')).toBe(9 * 86_400_000)
  })
  it('rejects anything else with exit 2 and the flag named', () => {
    for (const bad of ['', '30', 'd', '1.5d', '-3d', '0d', '3 days', '3y']) {
      expect(() => parseDuration(bad)).toThrowError(expect.objectContaining({code: 'ERR_LAYERS_FLAG_VALUE', exitCode: 2}))
    }
    expect(() => parseDuration('soon')).toThrow('--older-than "soon" is not a duration.')
  })
})
