// The HTML report's pure renderer (src/report/html.ts): the matrix's states, the findings groups
// with their fix said once, the runtime timeline, escaping of hostile text, and byte-identical
// output for the same input.
import {readFileSync} from 'node:fs'
import path from 'node:path'
import {describe, expect, it} from 'vitest'
import {LAMBDA_RUNTIMES} from '../../src/manifest/runtimes.js'
import {auditMatrix, escapeHtml, fillTemplate, findingsGroups, renderAuditHtml, renderHistoryHtml, runtimeUses} from '../../src/report/html.js'
import type {LayerHistory} from '../../src/history/store.js'
import {REPO_ROOT} from '../support/cli.js'
import {fleetReport, HOSTILE} from './fleet.js'

const TEMPLATE = readFileSync(path.join(REPO_ROOT, 'templates', 'report', 'report.html'), 'utf8')

const history: LayerHistory = {
  layer: `common${HOSTILE}`,
  publications: [{accountId: '100000000000', region: 'eu-west-1', artifact: 'x86_64', version: 4, arn: 'arn:aws:lambda:eu-west-1:100000000000:layer:common:4', codeSha256: 'x', publishedAt: '2026-02-01T00:00:00.000Z'}],
  usage: [
    {runId: 1, startedAt: '2026-01-01T00:00:00.000Z', versions: [{version: 3, arn: 'a:3', functions: 10, targets: 2}]},
    {runId: 2, startedAt: '2026-02-02T00:00:00.000Z', versions: [{version: 3, arn: 'a:3', functions: 4, targets: 1}, {version: 4, arn: 'a:4', functions: 6, targets: 1}]},
  ],
  prunes: [],
  grants: [],
  attaches: [{type: 'attach', layer: 'common', accountId: '100000000000', region: 'eu-west-1', at: '2026-02-03T00:00:00.000Z', version: 4, arn: 'a:4', function: `fn${HOSTILE}`}],
  audits: [],
}

describe('the HTML report', () => {
  const report = fleetReport(12)

  it('has one matrix row per account-region and one column per layer, each cell in the state of its worst finding', () => {
    const matrix = auditMatrix(report)
    expect(matrix.columns.map((column) => `${column.label}${column.owner ? `@${column.owner}` : ''}`)).toEqual(['common', 'config', 'LambdaInsightsExtension@580247275435'])
    expect(matrix.rows).toHaveLength(24)
    const row = (account: number, region = 'eu-west-1') => matrix.rows.find((entry) => entry.accountId === String(100000000000 + account) && entry.region === region)!
    expect(row(2).status).toBe('failed')
    expect(row(0).cells[0]).toMatchObject({state: 'behind', versions: [{version: 3, functions: 3}], functions: 3})
    expect(row(3).cells[0]).toMatchObject({state: 'missing', versions: [{version: 1, functions: 3}]})
    expect(row(1).cells[0]).toMatchObject({state: 'current', versions: [{version: 4, functions: 3}], drift: 0})
    // Account 4's api function drifts: every layer it uses is marked in its row.
    expect(row(4).cells.map((cell) => cell?.drift)).toEqual([1, 1, 0])
    expect(row(1).cells[1]).toMatchObject({state: 'current', functions: 2})
  })

  it('names the alias of a per-alias finding, marks drift-iac as drift, and shows an incomplete target\'s cells', () => {
    const small = fleetReport(2, 1)
    const [accountId, region] = ['100000000001', 'eu-west-1']
    const common = `arn:aws:lambda:${region}:999999999999:layer:common:3`
    small.findings.push(
      {code: 'behind', severity: 'warning', accountId, region, function: 'worker', alias: 'prod', layer: common, message: 'alias prod -> 7 runs common:3, behind: the lock has version 4', fix: 'Publish a new version of the function and point the alias at it.'},
      {code: 'drift-iac', severity: 'error', accountId, region, function: 'api', stack: 'api-stack', message: 'belongs to CloudFormation stack api-stack, and its layers differ from the lock', fix: 'Redeploy the stack api-stack.'},
    )
    const target = small.targets.find((entry) => entry.accountId === accountId)!
    Object.assign(target, {status: 'incomplete', error: {code: 'AccessDeniedException', message: 'aliases of cron could not be read'}})
    const row = auditMatrix(small).rows.find((entry) => entry.accountId === accountId)!
    expect(row.cells.map((cell) => cell?.drift)).toEqual([1, 1, 0])
    const html = renderAuditHtml({report: small, runtimes: LAMBDA_RUNTIMES, histories: []}, TEMPLATE)
    expect(html).toContain('<td class="mono">worker:prod</td>')
    expect(html).toContain('title="incomplete: AccessDeniedException: aliases of cron could not be read"')
    expect(html).not.toContain('not scanned: AccessDeniedException: aliases of cron')
  })

  it('an older version than another target runs of the same layer ARN is `older` even without a lock', () => {
    const small = fleetReport(2, 1)
    const insights = small.usage.find((usage) => usage.arn.includes('LambdaInsightsExtension'))!
    small.usage.push({...insights, version: 40, arn: insights.arn.replace(/:38$/, ':40'), functions: 1, targets: [{accountId: '100000000000', region: 'eu-west-1', functions: 1}]})
    const matrix = auditMatrix(small)
    expect(matrix.rows[1]!.cells[2]).toMatchObject({state: 'older'})
    expect(matrix.rows[0]!.cells[2]).toMatchObject({state: 'older', versions: [{version: 38, functions: 1}, {version: 40, functions: 1}]})
  })

  it('groups findings by severity and code, the fix said once (attach commands per row)', () => {
    const groups = findingsGroups(report.findings)
    expect(groups.map((group) => `${group.severity} ${group.code} ${group.findings.length}`)).toEqual(['error drift 2', 'error missing 6', 'warning behind 18', 'info unmanaged 23'])
    const behind = groups.find((group) => group.code === 'behind')!
    expect(behind.fix).toBe('Run `layers attach` with the command in each row.')
    expect(behind.commands?.[0]).toMatch(/^layers attach api --account team-000 --region eu-west-1$/)
    expect(groups.find((group) => group.code === 'missing')!.commands).toBeUndefined()
  })

  it('puts the runtimes the fleet runs on the deprecation timeline, soonest first', () => {
    const uses = runtimeUses(report, LAMBDA_RUNTIMES, report.startedAt)
    expect(uses.map((use) => `${use.runtime} ${use.deprecated} ${use.state} ${use.functions}/${use.targets}`)).toEqual([
      'python3.9 2025-12-15 deprecated 4/4',
      'nodejs20.x 2026-04-30 soon 23/23',
      'nodejs22.x 2027-04-30 later 42/23',
    ])
  })

  it('escapes every piece of data, and gives the same bytes for the same input', () => {
    const html = renderAuditHtml({report, runtimes: LAMBDA_RUNTIMES, histories: [history]}, TEMPLATE)
    expect(html).not.toContain('<script>window')
    expect(html).not.toContain('<img')
    expect(html).toContain(escapeHtml(HOSTILE))
    // One inline script (the template's), no external reference of any kind.
    expect(html.match(/<script/g)).toHaveLength(1)
    expect(html.match(/<table class="matrix">/g)).toHaveLength(1)
    expect(html).not.toMatch(/<\w+(\s+[\w-]+(="[^"]*")?)*\s+(src|href)=/)
    expect(html).not.toMatch(/https?:\/\//)
    expect(renderAuditHtml({report, runtimes: LAMBDA_RUNTIMES, histories: [history]}, TEMPLATE)).toBe(html)
    const page = renderHistoryHtml(history, new Map([['100000000000', `dev${HOSTILE}`]]), TEMPLATE)
    expect(page).not.toContain('<script>window')
    expect(page).toContain(`fn${escapeHtml(HOSTILE)}`)
    expect(page).toContain('<svg class="versions"')
  })

  it('fills the template in one pass: inserted text is never read as a placeholder', () => {
    expect(fillTemplate('<h1>{{title}}</h1>{{body}}', {title: '{{body}}', body: '$& {{title}}'})).toBe('<h1>{{body}}</h1>$& {{title}}')
  })
})
