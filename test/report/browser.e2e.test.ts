// The HTML report in a real browser: headless Chromium (Debian's chromium; CI installs it) opens the
// audit page of a 200 account-region fleet and a layer's history page from files, the test reads the
// rendered matrix and findings through the DOM, types into the search box, checks that hostile text
// stayed text, that the page threw nothing and made no network request, and saves screenshots in its
// temp dir. Without chromium the file is skipped, except under CI, where that is a failure.
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {pathToFileURL} from 'node:url'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {LAMBDA_RUNTIMES} from '../../src/manifest/runtimes.js'
import type {LayerHistory} from '../../src/history/store.js'
import {renderAuditHtml, renderHistoryHtml} from '../../src/report/html.js'
import {reportTemplate} from '../../src/report/template.js'
import {Chromium, chromiumPath, type Page} from '../support/chromium.js'
import {fleetReport, HOSTILE} from './fleet.js'

const binary = chromiumPath()
if (!binary && process.env.CI) throw new Error('chromium is not installed (apt-get install chromium): under CI the HTML report must be tested in a browser')
if (!binary) console.warn('test/report/browser.e2e.test.ts skipped: no chromium (/usr/bin/chromium or $CHROMIUM); install it to test the HTML report in a browser')

let browser: Chromium
let dir: string
let auditFile: string
let historyFile: string
/** Screenshots go here (kept when LAYERS_KEEP_SCREENSHOTS names a directory, to look at them). */
let shots: string

const history: LayerHistory = {
  layer: 'common',
  publications: [3, 4, 5].map((version, index) => ({accountId: '100000000000', region: 'eu-west-1', artifact: 'x86_64', version, arn: `arn:aws:lambda:eu-west-1:100000000000:layer:common:${version}`, codeSha256: 'x', publishedAt: `2026-0${index + 1}-01T00:00:00.000Z`})),
  usage: [1, 2, 3, 4, 5, 6].map((run) => ({
    runId: run,
    startedAt: `2026-0${run}-02T00:00:00.000Z`,
    versions: [
      {version: 3, arn: 'a:3', functions: Math.max(0, 120 - run * 25), targets: 40},
      ...(run >= 2 ? [{version: 4, arn: 'a:4', functions: 20 + run * 10, targets: 30}] : []),
      ...(run >= 4 ? [{version: 5, arn: 'a:5', functions: run * 15, targets: 20}] : []),
    ].filter((entry) => entry.functions > 0),
  })),
  prunes: [],
  grants: [],
  attaches: [{type: 'attach', layer: 'common', accountId: '100000000000', region: 'eu-west-1', at: '2026-05-03T00:00:00.000Z', version: 5, arn: 'a:5', function: `fn${HOSTILE}`}],
  audits: [],
}

beforeAll(async () => {
  if (!binary) return
  dir = mkdtempSync(path.join(tmpdir(), 'layers-report-browser-'))
  shots = process.env.LAYERS_KEEP_SCREENSHOTS ?? dir
  const template = await reportTemplate()
  auditFile = path.join(dir, 'audit.html')
  historyFile = path.join(dir, 'history.html')
  writeFileSync(auditFile, renderAuditHtml({report: fleetReport(100, 2), runtimes: LAMBDA_RUNTIMES, histories: [history]}, template))
  writeFileSync(historyFile, renderHistoryHtml(history, new Map(), template))
  // A request that got past the page would also fail here: no name resolves, no proxy answers.
  browser = await Chromium.launch(binary, ['--host-resolver-rules=MAP * ~NOTFOUND', '--proxy-server=127.0.0.1:9'])
}, 60_000)

afterAll(async () => {
  await browser?.close()
  if (dir) rmSync(dir, {recursive: true, force: true})
})

/** Every URL the page asked the network for, and every exception its script threw. */
function traffic(page: Page): {requests: string[]; exceptions: unknown[]} {
  return {
    requests: page.events('Network.requestWillBeSent').map((event) => (event.params.request as {url: string}).url),
    exceptions: page.events('Runtime.exceptionThrown').map((event) => event.params.exceptionDetails),
  }
}

describe.skipIf(!binary)('the HTML report in Chromium', () => {
  it('shows the matrix of 200 account-regions, the grouped findings and the timeline; search filters rows and columns; nothing reaches the network', async () => {
    const page = await browser.newPage()
    await page.open(pathToFileURL(auditFile).href)
    const dom = await page.evaluate<{rows: number; failed: number; columns: string[]; cells: number; states: Record<string, number>; drift: number; groups: Array<{code: string; open: boolean; count: string; fix: string}>; runtimes: string[]; pwned: unknown; hostile: boolean; sticky: string}>(`(() => {
      const states = {}
      for (const cell of document.querySelectorAll('table.matrix tbody td[data-state]')) states[cell.dataset.state] = (states[cell.dataset.state] || 0) + 1
      return {
        rows: document.querySelectorAll('table.matrix tbody tr').length,
        failed: document.querySelectorAll('table.matrix tbody tr.failed').length,
        columns: [...document.querySelectorAll('table.matrix thead th.layer')].map((th) => th.firstChild.textContent),
        cells: document.querySelectorAll('table.matrix tbody td').length,
        states,
        drift: document.querySelectorAll('table.matrix td.drift').length,
        groups: [...document.querySelectorAll('details.group[data-code]')].map((group) => ({code: group.dataset.code, open: group.open, count: group.querySelector('.count').textContent, fix: group.querySelector('.fix').textContent})),
        runtimes: [...document.querySelectorAll('svg.timeline g.runtime')].map((g) => g.dataset.runtime + ':' + g.getAttribute('class')),
        pwned: window.__pwned,
        hostile: document.body.textContent.includes('<script>window.__pwned = 1</script>'),
        sticky: getComputedStyle(document.querySelector('table.matrix thead th')).position,
      }
    })()`)
    expect(dom.rows).toBe(200)
    expect(dom.failed).toBe(1)
    expect(dom.columns).toEqual(['common', 'config', 'LambdaInsightsExtension'])
    // Three cells per scanned row, one spanning cell for the failed one.
    expect(dom.cells).toBe(199 * 3 + 1)
    // common: every fifth account behind the lock (v3), account 3 on a deleted version; config and the AWS layer current.
    expect(dom.states).toEqual({current: 157 + 199 + 199, behind: 40, missing: 2})
    expect(dom.drift).toBeGreaterThan(0)
    expect(dom.groups.map((group) => `${group.code} ${group.count} ${group.open}`)).toEqual(['drift 18 true', 'missing 6 true', 'behind 120 false', 'unmanaged 199 false'])
    expect(dom.groups.find((group) => group.code === 'behind')!.fix).toBe('Fix: Run layers attach with the command in each row.')
    expect(dom.runtimes).toEqual(['python3.9:runtime deprecated', 'nodejs20.x:runtime soon', 'nodejs22.x:runtime later'])
    // Hostile text is shown as text and never ran.
    expect(dom.pwned).toBeUndefined()
    expect(dom.hostile).toBe(true)
    expect(dom.sticky).toBe('sticky')
    writeFileSync(path.join(shots, 'audit.png'), await page.screenshot(true))

    // A region filters rows; a layer name filters columns (and the rows that use it); a function filters findings.
    await page.type('#search', 'ap-south-1')
    expect(await page.evaluate(`document.querySelectorAll('table.matrix tbody tr:not([hidden])').length`)).toBe(0)
    await page.evaluate(`(() => { const input = document.querySelector('#search'); input.select() })()`)
    await page.type('#search', 'team-042')
    const filtered = await page.evaluate<{rows: string[]; count: string; findings: number}>(`({
      rows: [...document.querySelectorAll('table.matrix tbody tr:not([hidden]) th')].map((th) => th.firstChild.textContent.trim()),
      count: document.getElementById('matrix-count').textContent,
      findings: document.querySelectorAll('details.group:not([hidden]) tbody tr:not([hidden])').length,
    })`)
    expect(filtered.rows).toEqual(['team-042 (100000000042) eu-west-1', 'team-042 (100000000042) us-east-1'])
    expect(filtered.count).toBe('2 of 200 account-regions')
    expect(filtered.findings).toBe(2)
    await page.evaluate(`document.querySelector('#search').select()`)
    await page.type('#search', 'insights')
    const columns = await page.evaluate<{visible: number; rows: number}>(`({
      visible: [...document.querySelectorAll('table.matrix thead th.layer')].filter((th) => getComputedStyle(th).display !== 'none').length,
      rows: document.querySelectorAll('table.matrix tbody tr:not([hidden])').length,
    })`)
    expect(columns).toEqual({visible: 1, rows: 199})
    // Collapse all, then the findings tables are not shown.
    await page.evaluate(`document.getElementById('collapse').click()`)
    expect(await page.evaluate(`[...document.querySelectorAll('details')].some((d) => d.open)`)).toBe(false)

    const {requests, exceptions} = traffic(page)
    expect(exceptions).toEqual([])
    expect(requests).toEqual([pathToFileURL(auditFile).href])
  })

  it("shows a layer's versions over time", async () => {
    const page = await browser.newPage({width: 1100, height: 700})
    await page.open(pathToFileURL(historyFile).href)
    const dom = await page.evaluate<{runs: number; segments: number; legend: string[]; tables: string[]; pwned: unknown}>(`({
      runs: document.querySelectorAll('svg.versions g.run').length,
      segments: document.querySelectorAll('svg.versions rect').length,
      legend: [...document.querySelectorAll('.legend span')].map((span) => span.textContent),
      tables: [...document.querySelectorAll('details.group summary .code')].map((el) => el.textContent),
      pwned: window.__pwned,
    })`)
    expect(dom.runs).toBe(6)
    expect(dom.segments).toBe(history.usage.reduce((sum, run) => sum + run.versions.length, 0))
    expect(dom.legend.slice(0, 3)).toEqual(['v5', 'v4', 'v3'])
    expect(dom.tables).toEqual(['Publications', 'Attached to functions'])
    expect(dom.pwned).toBeUndefined()
    writeFileSync(path.join(shots, 'history.png'), await page.screenshot(true))
    const {requests, exceptions} = traffic(page)
    expect(exceptions).toEqual([])
    expect(requests).toEqual([pathToFileURL(historyFile).href])
    expect(readFileSync(path.join(shots, 'history.png')).subarray(1, 4).toString()).toBe('PNG')
  })
})
