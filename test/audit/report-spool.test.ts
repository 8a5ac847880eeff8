// The spooled --json report (src/audit/report-spool.ts) is byte for byte what the collected report
// prints (runAudit, JSON.stringify(report, null, 2)): targets finishing out of order, functions listed
// out of name order, findings of every severity, a target that failed after handing functions over,
// a resolution failure, text outside ASCII (the spool's ranges are bytes) and U+2028/U+2029 (line
// terminators to a regular expression, plain text to JSON), saved and not saved.
import {mkdtempSync, readdirSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterEach, describe, expect, it, vi} from 'vitest'
import {ReportSpool} from '../../src/audit/report-spool.js'
import {runAudit, streamAudit, type AuditEnv, type AuditRequest} from '../../src/audit/run.js'
import type {LambdaReadApi} from '../../src/audit/scan.js'
import type {LayerVersionInfo, ScannedFunction} from '../../src/audit/types.js'
import {collectEvents} from '../../src/events.js'
import {openStateDatabase} from '../../src/store/db.js'

const A = '111111111111'
const B = '222222222222'
const C = '333333333333'
const REGIONS = ['eu-west-1', 'us-east-1']
const layer = (account: string, region: string, name: string, version: number) => ({arn: `arn:aws:lambda:${region}:${account}:layer:${name}:${version}`, codeSize: 10})

function functionsOf(account: string, region: string): ScannedFunction[] {
  // Listed out of name order; runtimes and layers that give errors, warnings and infos.
  return ['zeta', 'alpha', 'émile-ünïcode', 'beta', 'Gamma'].map((name, at) => ({
    name,
    arn: `arn:aws:lambda:${region}:${account}:function:${name}`,
    runtime: at % 2 === 0 ? 'nodejs16.x' : 'nodejs20.x',
    architecture: at === 3 ? 'arm64' : 'x86_64',
    codeSize: 1000 * (at + 1),
    layers: [layer(account, region, 'common', at + 1), ...(at === 2 ? [layer(account, region, 'gone', 1)] : [])],
  }))
}

/** Targets answer after delays that finish them out of order; B in us-east-1 fails on its second page. */
function env(): AuditEnv {
  const api = (account: string, region: string): LambdaReadApi => {
    const functions = functionsOf(account, region)
    const failsLate = account === B && region === 'us-east-1'
    return {
      async listFunctions(marker) {
        await new Promise((resolve) => setTimeout(resolve, account === A ? 15 : 1))
        if (marker === undefined) return {functions: functions.slice(0, 3), nextMarker: 'page-2'}
        if (failsLate) throw Object.assign(new Error('Rate exceeded — «throttled»'), {name: 'TooManyRequestsException'})
        return {functions: functions.slice(3)}
      },
      async readLayerVersion(arn): Promise<LayerVersionInfo> {
        if (arn.includes(':layer:gone:') && account === B) throw Object.assign(new Error('Service busy\u2028 split\u2029 by line separators'), {name: 'ServiceException'})
        if (arn.includes(':layer:gone:')) return {status: 'missing'}
        return {status: 'ok', codeSize: 10, codeSha256: 'sha', compatibleArchitectures: ['x86_64'], compatibleRuntimes: ['nodejs20.x']}
      },
      async listAliases(name) {
        return {aliases: name === 'beta' ? [{name: 'prod', version: '1', revisionId: 'r1'}] : []}
      },
      async readFunctionVersion(name, version) {
        return {version, runtime: 'nodejs18.x', architecture: 'x86_64', layers: [layer(account, region, 'common', 1)]}
      },
    }
  }
  return {
    readApiFor: async (target) => {
      if (target.accountId === C) throw Object.assign(new Error('The security token included in the request is invalid'), {name: 'UnrecognizedClientException'})
      return api(target.accountId, target.region)
    },
  }
}

describe('ReportSpool', () => {
  const dirs: string[] = []
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, {recursive: true, force: true})
  })
  const request = (saved: boolean): AuditRequest => {
    const dir = mkdtempSync(path.join(tmpdir(), 'layers-spool-test-'))
    dirs.push(dir)
    return {
      flags: {accounts: [B, A, C], regions: REGIONS},
      concurrency: 8,
      runtimes: [{runtime: 'nodejs16.x', deprecated: '2024-06-12'}, {runtime: 'nodejs18.x', deprecated: '2025-03-01'}],
      now: () => new Date('2025-01-01T00:00:00.000Z'),
      emit: collectEvents().emit,
      ...(saved ? {db: openStateDatabase(dir)} : {}),
    }
  }

  for (const saved of [false, true]) {
    it(`writes the document the collected report prints (${saved ? 'saved: with its run id' : 'not saved'})`, async () => {
      const expected = JSON.stringify(await runAudit(request(saved), env()), null, 2) + '\n'
      const spool = new ReportSpool()
      const chunks: string[] = []
      try {
        await spool.writeReport(await streamAudit(request(saved), env(), spool), async (text) => void chunks.push(text))
      } finally {
        spool.close()
      }
      const written = chunks.join('')
      expect(written).toBe(expected)
      const report = JSON.parse(written)
      // The fleet gave what the comparison is about.
      expect(new Set(report.findings.map((finding: {severity: string}) => finding.severity))).toEqual(new Set(['error', 'warning', 'info']))
      expect(report.targets.map((target: {status: string}) => target.status).sort()).toEqual(['failed', 'failed', 'failed', 'ok', 'ok', 'ok'])
      expect(report.functions.some((fn: {name: string}) => fn.name === 'émile-ünïcode')).toBe(true)
      expect(report.runId !== undefined).toBe(saved)
    })
  }

  it('fails as ERR_LAYERS_AUDIT_SPOOL naming the temp directory when it cannot make its file there', () => {
    const missing = path.join(tmpdir(), 'layers-no-such-dir', 'tmp')
    vi.stubEnv('TMPDIR', missing)
    try {
      expect(() => new ReportSpool()).toThrowError(expect.objectContaining({code: 'ERR_LAYERS_AUDIT_SPOOL', exitCode: 1, message: expect.stringContaining(`spool file in ${missing}: ENOENT`), hint: expect.stringContaining('TMPDIR')}))
    } finally {
      vi.unstubAllEnvs()
    }
  })

  it('leaves nothing in the temp directory, even before it is closed', () => {
    const spools = () => readdirSync(tmpdir()).filter((name) => name.startsWith('layers-audit-'))
    const before = new Set(spools())
    const spool = new ReportSpool()
    spool.function({function: {accountId: A, region: REGIONS[0]!, name: 'f', architecture: 'x86_64', codeSize: 1, layers: [], managed: false}, findings: []})
    expect(spools().filter((name) => !before.has(name))).toEqual([])
    spool.close()
  })
})
