// streamAudit: each function (its row and findings) is handed on as soon as it is judged and each
// target (row, usage) once its functions are, before the others finish, and saved in the history as it
// goes; a run still streaming is invisible to the history's readers, and one that fails is removed.
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import {runAudit, streamAudit, type AuditEnv} from '../../src/audit/run.js'
import type {LambdaReadApi} from '../../src/audit/scan.js'
import type {ScannedFunction} from '../../src/audit/types.js'
import {collectEvents} from '../../src/events.js'
import {previousRun, runFindings} from '../../src/history/store.js'
import {openStateDatabase, type StateDatabase} from '../../src/store/db.js'

const A = '111111111111'
const B = '222222222222'
const EU = 'eu-west-1'
const fn = (name: string, runtime = 'nodejs16.x'): ScannedFunction => ({name, runtime, architecture: 'x86_64', codeSize: 1, layers: [{arn: `arn:aws:lambda:${EU}:${A}:layer:l:1`, codeSize: 1}]})

/** A's listing answers at once; B's only once `release` is called; targets released are logged in `released`. */
function env(release: Promise<void>, released: string[] = []): AuditEnv {
  const api = (functions: ScannedFunction[], wait?: Promise<void>): LambdaReadApi => ({
    async listFunctions() {
      await wait
      return {functions}
    },
    async readLayerVersion() {
      return {status: 'ok', codeSize: 1, codeSha256: 's', compatibleArchitectures: [], compatibleRuntimes: []}
    },
    async listAliases() {
      return {aliases: []}
    },
    async readFunctionVersion() {
      throw new Error('no function here has aliases')
    },
  })
  return {
    readApiFor: async (target) => (target.accountId === A ? api([fn('a1'), fn('a2')]) : api([fn('b1')], release)),
    releaseTarget: (target) => void released.push(`${target.accountId} released`),
  }
}

const request = (db?: StateDatabase) => ({
  flags: {accounts: [A, B], regions: [EU]},
  concurrency: 4,
  runtimes: [{runtime: 'nodejs16.x', deprecated: '2024-06-12'}],
  now: () => new Date('2025-01-01T00:00:00.000Z'),
  emit: collectEvents().emit,
  ...(db ? {db} : {}),
})

describe('streamAudit', () => {
  const dirs: string[] = []
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, {recursive: true, force: true})
  })
  const database = () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'layers-stream-'))
    dirs.push(dir)
    return openStateDatabase(dir)
  }

  it('hands on each target as it finishes, while the others still scan, and saves it as it goes', async () => {
    const db = database()
    let release!: () => void
    const blocked = new Promise<void>((resolve) => (release = resolve))
    const seen: string[] = []
    const result = await streamAudit(request(db), env(blocked, seen), {
      function(part) {
        seen.push(`${part.function.accountId}:${part.function.name}:${part.findings.map((f) => f.code).join(',')}`)
      },
      target(part, run) {
        seen.push(`${part.target.accountId} done: ${part.target.functions} functions, ${part.usage.map((row) => `${row.arn} x${row.functions}`).join(',')}`)
        // A's target ends while B's listing still waits: only now does B go on. Its row is saved, the run is not finished.
        if (part.target.accountId === A) {
          expect(db.prepare('SELECT account_id AS accountId, functions FROM audit_targets WHERE run_id = ?').all(run.runId)).toEqual([{accountId: A, functions: 2}])
          expect(previousRun(db)).toBeUndefined()
          release()
        }
      },
    })
    const l1 = `arn:aws:lambda:${EU}:${A}:layer:l:1`
    // Each target's clients are released once its last function is judged.
    expect(seen).toEqual([`${A}:a1:runtime,unmanaged`, `${A}:a2:runtime,unmanaged`, `${A} released`, `${A} done: 2 functions, ${l1} x2`, `${B}:b1:runtime,unmanaged`, `${B} released`, `${B} done: 1 functions, ${l1} x1`])
    expect(result).toMatchObject({runId: 1, summary: {targets: 2, failedTargets: 0, functions: 3, findings: {error: 3, warning: 0, info: 3}}, notScannedCompletely: []})
    expect(previousRun(db)?.id).toBe(1)
    expect(runFindings(db, 1)).toHaveLength(6)
    expect(db.prepare('SELECT COUNT(*) AS n FROM audit_functions WHERE run_id = 1').get()).toEqual({n: 3})
    // The collected report of the same fleet says the same.
    const report = await runAudit(request(), env(Promise.resolve()))
    expect(report.summary).toEqual(result.summary)
    expect(report.functions.map((f) => f.name)).toEqual(['a1', 'a2', 'b1'])
    db.close()
  })

  it('streams the findings of each alias with its target, and an incomplete target fails the run like a failed one', async () => {
    const gone = `arn:aws:lambda:${EU}:${A}:layer:gone:1`
    const aliased: LambdaReadApi = {
      async listFunctions() {
        return {functions: [fn('a1')]}
      },
      async readLayerVersion(arn) {
        return arn === gone ? {status: 'missing'} : {status: 'ok', codeSize: 1, codeSha256: 's', compatibleArchitectures: [], compatibleRuntimes: []}
      },
      async listAliases() {
        return {aliases: [{name: 'prod', version: '3'}]}
      },
      async readFunctionVersion(_name, version) {
        return {version, runtime: 'nodejs22.x', architecture: 'x86_64', layers: [{arn: gone, codeSize: 1}]}
      },
    }
    const unreadable: LambdaReadApi = {
      ...aliased,
      async listFunctions() {
        return {functions: [fn('b1')]}
      },
      async listAliases() {
        throw Object.assign(new Error('not allowed'), {name: 'AccessDeniedException'})
      },
    }
    const findings = new Map<string, string[]>()
    const statuses = new Map<string, string>()
    const result = await streamAudit(request(), {readApiFor: async (target) => (target.accountId === A ? aliased : unreadable)}, {
      function(part) {
        findings.set(part.function.name, part.findings.map((f) => `${f.function}${f.alias ? `:${f.alias}` : ''} ${f.code}`))
      },
      target(part) {
        statuses.set(part.target.accountId, part.target.status)
      },
    })
    // The layer of the version alias prod routes to was read with A's function, so its deletion is found there.
    expect(findings.get('a1')).toEqual(['a1:prod missing', 'a1 runtime', 'a1 unmanaged'])
    expect(statuses).toEqual(new Map([[A, 'ok'], [B, 'incomplete']]))
    // B's function is still judged, without what its aliases run.
    expect(findings.get('b1')).toEqual(['b1 runtime', 'b1 unmanaged'])
    expect(result.notScannedCompletely).toEqual([expect.objectContaining({accountId: B, status: 'incomplete', error: expect.objectContaining({code: 'AccessDeniedException'})})])
    expect(result.summary).toMatchObject({targets: 2, failedTargets: 0, functions: 2})
  })

  it('a target whose listing breaks off after a page fails as unread: its functions handed on stand, the summary and the history count none of them', async () => {
    const db = database()
    // A first page of 60 (more than the history saves at once), then a failure once all of them were read.
    const first = Array.from({length: 60}, (_, index) => fn(`b${index}`))
    const breaking: LambdaReadApi = {
      async listFunctions(marker) {
        if (marker === undefined) return {functions: first, nextMarker: 'next'}
        await new Promise((resolve) => setTimeout(resolve, 50))
        throw Object.assign(new Error('Rate exceeded'), {name: 'TooManyRequestsException'})
      },
      readLayerVersion: async () => ({status: 'ok', codeSize: 1, codeSha256: 's', compatibleArchitectures: [], compatibleRuntimes: []}),
      listAliases: async () => ({aliases: []}),
      readFunctionVersion: async () => Promise.reject(new Error('no versions')),
    }
    const handed: string[] = []
    const targets: Array<{status: string; functions: number; usage: number}> = []
    const result = await streamAudit({...request(db), flags: {accounts: [B], regions: [EU]}}, {readApiFor: async () => breaking}, {
      function(part) {
        handed.push(part.function.name)
      },
      target(part) {
        targets.push({status: part.target.status, functions: part.target.functions, usage: part.usage.length})
      },
    })
    expect(handed).toHaveLength(60)
    expect(targets).toEqual([{status: 'failed', functions: 0, usage: 0}])
    expect(result.summary).toEqual({targets: 1, failedTargets: 1, functions: 0, findings: {error: 0, warning: 0, info: 0}})
    expect(db.prepare('SELECT COUNT(*) AS n FROM audit_functions').get()).toEqual({n: 0})
    expect(db.prepare('SELECT COUNT(*) AS n FROM audit_findings').get()).toEqual({n: 0})
    expect(db.prepare('SELECT status FROM audit_targets').all()).toEqual([{status: 'failed'}])
    db.close()
  })

  it('removes the run when the consumer fails, so no half run is ever read', async () => {
    const db = database()
    await expect(
      streamAudit(request(db), env(Promise.resolve()), {
        function() {},
        target() {
          throw new Error('stdout closed')
        },
      }),
    ).rejects.toThrow('stdout closed')
    expect(db.prepare('SELECT COUNT(*) AS n FROM audit_runs').get()).toEqual({n: 0})
    expect(db.prepare('SELECT COUNT(*) AS n FROM audit_functions').get()).toEqual({n: 0})
    db.close()
  })
})
