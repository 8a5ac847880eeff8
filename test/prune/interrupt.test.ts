// runPrune --yes on an interrupt: the deletion in flight when the signal fires finishes and is
// recorded in the history; no other deletion starts; InterruptedError lists the versions deleted and
// the candidates not deleted.
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import {InterruptedError} from '../../src/errors/index.js'
import {runPrune, type PruneEnv, type PrunedVersion} from '../../src/prune/run.js'
import {openStateDatabase, type StateDatabase} from '../../src/store/db.js'
import {arn, lockWithDeps, pruneManifest} from './support.js'

const manifest = pruneManifest()
const lock = lockWithDeps(5)

let dir: string
let db: StateDatabase
afterEach(() => {
  db.close()
  rmSync(dir, {recursive: true, force: true})
})

describe('runPrune interrupted', () => {
  it('finishes and records the deletion in flight, starts no other, and reports deleted and not deleted', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'layers-prune-interrupt-'))
    db = openStateDatabase(dir)
    const controller = new AbortController()
    const deleteCalls: number[] = []
    const env: PruneEnv = {
      readApiFor: async () => ({listFunctions: async () => ({functions: []}), listAliases: async () => ({aliases: []}), readFunctionVersion: async () => Promise.reject(new Error('no versions')), readLayerVersion: async () => ({status: 'ok', codeSize: 10, codeSha256: 's', compatibleArchitectures: [], compatibleRuntimes: []})}),
      pruneApiFor: async () => ({
        listLayerVersions: async () => [1, 2, 3, 4, 5].map((version) => ({version, arn: arn(version), createdDate: '2025-01-01T00:00:00.000+0000'})),
        layerVersionSize: async () => 100,
        deleteLayerVersion: async (_name, version) => {
          deleteCalls.push(version)
          // The interrupt lands while this deletion is in flight; it still completes.
          controller.abort(Object.assign(new Error('Interrupted by SIGTERM'), {name: 'AbortError', signal: 'SIGTERM'}))
        },
      }),
    }
    const run = runPrune(
      {manifest, lock, layers: [], keep: 0, yes: true, useLastAudit: false, maxAuditAgeMs: 900_000, flags: {}, concurrency: 1, db, runtimes: [], emit: () => {}, now: () => new Date('2025-06-01T00:00:00Z'), signal: controller.signal},
      env,
    )
    const error = await run.then(
      () => undefined,
      (thrown: unknown) => thrown,
    )
    expect(error).toBeInstanceOf(InterruptedError)
    const interrupted = error as InterruptedError
    expect(interrupted.exitCode).toBe(143)
    expect(deleteCalls).toHaveLength(1)
    const deleted = interrupted.details.deleted as PrunedVersion[]
    const notDeleted = interrupted.details.notDeleted as PrunedVersion[]
    expect(deleted.map((entry) => entry.version)).toEqual(deleteCalls)
    expect([...deleted, ...notDeleted].map((entry) => entry.version).sort()).toEqual([1, 2, 3, 4])
    expect(db.prepare('SELECT version FROM prunes').all()).toEqual([{version: deleteCalls[0]}])
    expect(interrupted.message).toContain(`deleted: ${arn(deleteCalls[0]!)}`)
    expect(interrupted.message).toMatch(/prune interrupted by SIGTERM: 1 version\(s\) deleted \(recorded in the history\), 3 candidate\(s\) not deleted\./)
  })
})
