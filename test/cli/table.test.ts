// The pure parts of human output: column fitting and wrapping, the colour decision, finding and failure
// grouping, the account label, the one date format and progress lines.
import {stripVTControlCharacters} from 'node:util'
import {describe, expect, it} from 'vitest'
import {groupFindings, renderText} from '../../src/audit/render.js'
import type {AuditReport, Finding} from '../../src/audit/types.js'
import {groupFailures} from '../../src/cli/failures.js'
import {createReporter, progressLine} from '../../src/cli/reporter.js'
import {accountLabel, colorEnabled, formatDate, outputColumns} from '../../src/cli/style.js'
import {fitColumns, renderTable, wrapText} from '../../src/cli/table.js'

const widest = (text: string) => Math.max(...text.split('\n').map((line) => line.length))

describe('fitColumns', () => {
  it('keeps natural widths that fit, else shrinks the widest wrapping column first', () => {
    expect(fitColumns([10, 20], [{}, {wrap: 5}], 80)).toEqual([10, 20])
    expect(fitColumns([10, 30, 20], [{wrap: 4}, {wrap: 5}, {wrap: 5}], 44)).toEqual([10, 15, 15])
  })
  it('drops columns (1 first) only when the narrowest widths do not fit, and never goes below them', () => {
    expect(fitColumns([10, 10, 10], [{}, {drop: 2}, {drop: 1}], 22)).toEqual([10, 10, null])
    expect(fitColumns([10, 10, 10], [{}, {drop: 2}, {drop: 1}], 5)).toEqual([10, null, null])
    expect(fitColumns([40, 40], [{wrap: 30}, {}], 10)).toEqual([30, 40])
  })
})

describe('wrapText', () => {
  it('breaks at spaces, then after : / , + - ; else at the width', () => {
    expect(wrapText('runs on nodejs16.x, deprecated', 12)).toEqual(['runs on', 'nodejs16.x,', 'deprecated'])
    expect(wrapText('arn:aws:lambda:eu-west-1:111111111111:layer:x:1', 26)).toEqual(['arn:aws:lambda:eu-west-1:', '111111111111:layer:x:1'])
    expect(wrapText('abcdefghij', 4)).toEqual(['abcd', 'efgh', 'ij'])
    expect(wrapText('ab/cdefgh', 4, true)).toEqual(['ab/c', 'defg', 'h'])
  })
})

describe('renderTable', () => {
  const columns = [{header: 'name', wrap: 6}, {header: 'hash', wrap: 10, anywhere: true}, {header: 'note', drop: 1}]
  const rows = [['a-long-layer-name', 'X'.repeat(44), 'a note that is long enough to matter']]
  it('fits the width given, names the columns left out, and prints every character of the rest', () => {
    const text = renderTable(columns, rows, {columns: 40, color: false})
    expect(widest(text)).toBeLessThanOrEqual(40)
    expect(text.replace(/\n/g, ' ')).toContain('(not shown at 40 columns: note;')
    expect(text.replace(/\s+/g, '')).toContain('X'.repeat(44).slice(0, 10))
    expect((text.match(/X/g) ?? []).length).toBe(44)
    expect(renderTable(columns, rows, {columns: 200, color: false})).not.toContain('not shown')
  })
  it('paints cells by their tone only when colour is on, without changing the layout', () => {
    const toned = [{header: 'status', tone: (text: string) => (text === 'failed' ? ('bad' as const) : undefined)}]
    const on = renderTable(toned, [['failed'], ['ok']], {columns: 80, color: true})
    const off = renderTable(toned, [['failed'], ['ok']], {columns: 80, color: false})
    expect(on).toContain('\u001B[31mfailed\u001B[39m')
    expect(off).not.toContain('\u001B[')
    expect(stripVTControlCharacters(on)).toBe(off)
  })
})

describe('colour and width decisions', () => {
  it('honours FORCE_COLOR, then NO_COLOR, then the terminal; never under --json', () => {
    expect(colorEnabled({env: {}, isTTY: true})).toBe(true)
    expect(colorEnabled({env: {}, isTTY: false})).toBe(false)
    expect(colorEnabled({env: {TERM: 'dumb'}, isTTY: true})).toBe(false)
    expect(colorEnabled({env: {NO_COLOR: '1'}, isTTY: true})).toBe(false)
    expect(colorEnabled({env: {NO_COLOR: ''}, isTTY: true})).toBe(true)
    expect(colorEnabled({env: {FORCE_COLOR: '1'}, isTTY: false})).toBe(true)
    expect(colorEnabled({env: {FORCE_COLOR: '0'}, isTTY: true})).toBe(false)
    expect(colorEnabled({env: {FORCE_COLOR: '1', NO_COLOR: '1'}, isTTY: false})).toBe(true)
    expect(colorEnabled({env: {FORCE_COLOR: '1'}, isTTY: true, json: true})).toBe(false)
  })
  it('takes the terminal width, else COLUMNS, else 80 (a terminal reporting 0 columns included)', () => {
    expect(outputColumns({env: {COLUMNS: '120'}, isTTY: true, columns: 100})).toBe(100)
    expect(outputColumns({env: {COLUMNS: '120'}, isTTY: true, columns: 0})).toBe(120)
    expect(outputColumns({env: {COLUMNS: '120'}, isTTY: false})).toBe(120)
    expect(outputColumns({env: {COLUMNS: 'wide'}, isTTY: false})).toBe(80)
  })
  it('keeps every character of a progress line when the terminal reports 0 columns', () => {
    expect(progressLine('publish [1/2] common dev/eu-west-1', 0)).toBe('publish [1/2] common dev/eu-west-1')
    expect(progressLine('publish [1/2] common dev/eu-west-1', undefined)).toBe('publish [1/2] common dev/eu-west-1')
    expect(progressLine('publish [1/2] common', 10)).toBe('publish [')
  })
})

describe('warnings on stderr', () => {
  const warn = (env: Record<string, string | undefined>, isTTY: boolean) => {
    const saved = {NO_COLOR: process.env.NO_COLOR, FORCE_COLOR: process.env.FORCE_COLOR}
    Object.assign(process.env, env)
    for (const [key, value] of Object.entries(env)) if (value === undefined) delete process.env[key]
    try {
      const written: string[] = []
      const stream = {isTTY, columns: 80, write: (text: string) => written.push(text)} as unknown as NodeJS.WriteStream
      createReporter({json: false, stream}).emit({type: 'warning', warning: {severity: 'warning', code: 'ERR_LAYERS_X', message: 'Careful.'}})
      return written.join('')
    } finally {
      for (const [key, value] of Object.entries(saved)) if (value === undefined) delete process.env[key]
      else process.env[key] = value
    }
  }
  it('colour the severity as the stream allows', () => {
    expect(warn({FORCE_COLOR: '1', NO_COLOR: undefined}, false)).toBe('\u001B[33mwarning ERR_LAYERS_X\u001B[39m Careful.\n')
    expect(warn({FORCE_COLOR: undefined, NO_COLOR: '1'}, true)).toBe('warning ERR_LAYERS_X Careful.\n')
    expect(warn({FORCE_COLOR: undefined, NO_COLOR: undefined}, false)).toBe('warning ERR_LAYERS_X Careful.\n')
  })
})

describe('labels', () => {
  it('shows accounts as name (id) and dates as ISO 8601 UTC to the second', () => {
    expect(accountLabel('111111111111', 'dev')).toBe('dev (111111111111)')
    expect(accountLabel('111111111111')).toBe('111111111111')
    expect(formatDate('2026-12-02T00:07:33.123Z')).toBe('2026-12-02T00:07:33Z')
    expect(formatDate('2026-12-02T01:07:33.000+0100')).toBe('2026-12-02T00:07:33Z')
    expect(formatDate('not a date')).toBe('not a date')
    expect(formatDate(undefined)).toBe('-')
  })
})

describe('grouping', () => {
  const finding = (fn: string, region: string): Finding => ({code: 'runtime', severity: 'warning', accountId: '111111111111', region, function: fn, message: 'runs on nodejs16.x', fix: 'Move to nodejs24.x.'})
  it('groups findings by severity, code and fix, errors first', () => {
    const limits: Finding = {...finding('big', 'eu-west-1'), code: 'limits', severity: 'error', fix: 'Trim it.'}
    const groups = groupFindings([finding('a', 'eu-west-1'), finding('b', 'us-east-1'), limits])
    expect(groups.map((group) => [group.severity, group.code, group.findings.length])).toEqual([['error', 'limits', 1], ['warning', 'runtime', 2]])
  })
  it('says a fix once in the text of an audit, with the account named', () => {
    const report = {
      schemaVersion: 1, startedAt: '', finishedAt: '',
      summary: {targets: 1, failedTargets: 0, functions: 3, findings: {error: 0, warning: 3, info: 0}},
      targets: [{accountId: '111111111111', accountName: 'dev', region: 'eu-west-1', status: 'ok', functions: 3}],
      findings: ['a', 'b', 'c'].map((fn) => finding(fn, 'eu-west-1')),
      usage: [],
    } as unknown as AuditReport
    const text = renderText(report, {color: false, columns: 80})
    expect(text.match(/Move to nodejs24\.x\./g)).toHaveLength(1)
    expect(text).toContain('dev (111111111111) eu-west-1')
    expect(widest(text)).toBeLessThanOrEqual(80)
  })
  it('groups failures whose messages differ only in the target names', () => {
    const fail = (region: string) => ({where: `dev ${region}`, names: ['111111111111', 'dev', region], error: {code: 'AccessDenied', message: `not allowed in ${region}`, hint: 'Grant it.'}})
    const groups = groupFailures([fail('eu-west-1'), fail('us-east-1'), {...fail('us-west-2'), error: {code: 'Throttled', message: 'slow down'}}])
    expect(groups.map((group) => [group.code, group.where])).toEqual([['AccessDenied', ['dev eu-west-1', 'dev us-east-1']], ['Throttled', ['dev us-west-2']]])
  })
})
