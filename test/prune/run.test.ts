import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import {collectEvents} from '../../src/events.js'
import {openStateDatabase, type StateDatabase} from '../../src/store/db.js'
import {runPrune, type PruneEnv, type PruneRequest} from '../../src/prune/run.js'
import type {ScannedAlias, ScannedFunction} from '../../src/audit/types.js'
import type {LeaseStoreApi} from '../../src/aws/s3-leases.js'
import {teamLeases} from '../../src/publish/lease.js'
import {A, arn, lockWithDeps, pruneManifest, R} from './support.js'

// Service test of prune's decisions and bookkeeping over in-memory Lambda interfaces; the CLI runs
// against the AWS test server in test/audit/managed.e2e.test.ts ("layers prune (CLI)").
const manifest = pruneManifest({ext: {kind: 'arn', name: 'ext', arn: 'arn:aws:lambda:eu-west-1:999999999999:layer:ext:1'}})
const lock = lockWithDeps(4)

/** `aliases`: function name -> its aliases, each on one version whose layers are `versionLayers[version]`. */
function env(functions: ScannedFunction[], deleted: number[], options: {failList?: boolean; aliases?: Record<string, ScannedAlias[]>; versionLayers?: Record<string, number[]>; failAliases?: boolean} = {}): PruneEnv {
  const versions = [1, 2, 3, 4]
  return {
    readApiFor: async () => ({
      listFunctions: async () => {
        if (options.failList) throw Object.assign(new Error('denied'), {name: 'AccessDeniedException'})
        return {functions: structuredClone(functions)}
      },
      listAliases: async (name) => {
        if (options.failAliases) throw Object.assign(new Error('User: x is not authorized to perform: lambda:ListAliases'), {name: 'AccessDeniedException'})
        return {aliases: options.aliases?.[name] ?? []}
      },
      readFunctionVersion: async (_name, version) => ({version, architecture: 'x86_64', layers: (options.versionLayers?.[version] ?? []).map((v) => ({arn: arn(v), codeSize: 10}))}),
      readLayerVersion: async () => ({status: 'ok', codeSize: 10, codeSha256: 's', compatibleArchitectures: [], compatibleRuntimes: []}),
    }),
    pruneApiFor: async () => ({
      listLayerVersions: async (name) =>
        name === 'deps' ? versions.filter((v) => !deleted.includes(v)).map((v) => ({version: v, arn: arn(v), createdDate: '2025-01-01T00:00:00.000+0000'})) : [],
      layerVersionSize: async (layerArn) => 1000 * Number(layerArn.split(':').at(-1)),
      deleteLayerVersion: async (_name, version) => {
        deleted.push(version)
      },
    }),
  }
}

/** Conditional writes in memory, as S3 answers them (etag per write). */
function memoryLeaseStore(): {objects: Map<string, {body: string; etag: string}>; api: LeaseStoreApi} {
  const objects = new Map<string, {body: string; etag: string}>()
  let writes = 0
  const put = (key: string, body: string) => {
    const etag = `"${++writes}"`
    objects.set(key, {body, etag})
    return {ok: true as const, etag}
  }
  return {
    objects,
    api: {
      create: async (_bucket, key, body) => (objects.has(key) ? {ok: false, reason: 'taken'} : put(key, body)),
      replace: async (_bucket, key, body, etag) => (!objects.has(key) ? {ok: false, reason: 'missing'} : objects.get(key)!.etag !== etag ? {ok: false, reason: 'changed'} : put(key, body)),
      remove: async (_bucket, key, etag) => {
        const current = objects.get(key)
        if (!current) return {ok: false, reason: 'missing'}
        if (current.etag !== etag) return {ok: false, reason: 'changed'}
        objects.delete(key)
        return {ok: true, etag}
      },
      read: async (_bucket, key) => objects.get(key),
    },
  }
}

describe('runPrune', () => {
  const dirs: string[] = []
  let db: StateDatabase | undefined
  afterEach(() => {
    db?.close()
    db = undefined
    for (const dir of dirs.splice(0)) rmSync(dir, {recursive: true, force: true})
  })
  const request = (overrides: Partial<PruneRequest>): PruneRequest => {
    const dir = mkdtempSync(path.join(tmpdir(), 'layers-prune-'))
    dirs.push(dir)
    db ??= openStateDatabase(dir)
    return {manifest, lock, layers: [], keep: 0, yes: false, useLastAudit: false, maxAuditAgeMs: 900_000, flags: {}, concurrency: 4, db, runtimes: [], emit: () => {}, now: () => new Date('2025-06-01T00:00:00Z'), ...overrides}
  }
  const user: ScannedFunction = {name: 'f', architecture: 'x86_64', codeSize: 1, layers: [{arn: arn(2), codeSize: 1}]}

  it('dry run lists unlocked, unused versions and the storage they free; --yes deletes and records them', async () => {
    const deleted: number[] = []
    const events = collectEvents()
    const dry = await runPrune(request({emit: events.emit}), env([user], deleted))
    // Progress while listing each layer per target and reading each candidate's size.
    const progress = events.events.flatMap((event) => (event.type === 'progress' && event.phase === 'prune' ? [`${event.message.split(' ')[0]} ${event.current}/${event.total}`] : []))
    expect(progress.filter((line) => line.startsWith('listed')).at(-1)).toMatch(/^listed (\d+)\/\1$/)
    expect(progress.filter((line) => line.startsWith('sized'))).toEqual(['sized 1/2', 'sized 2/2'])
    expect(dry.dryRun).toBe(true)
    expect(dry.candidates.map((c) => c.version)).toEqual([1, 3])
    expect(dry.freedBytes).toBe(4000)
    expect(dry.kept.map((k) => `${k.version}:${k.reason}`)).toEqual(['2:in-use', '4:locked'])
    expect(deleted).toEqual([])
    const real = await runPrune(request({yes: true, keep: 3}), env([user], deleted))
    expect(real.deleted.map((c) => c.version)).toEqual([1])
    expect(deleted).toEqual([1])
    const rows = db!.prepare('SELECT version, code_size, audit_run_id FROM prunes').all()
    expect(rows).toEqual([{version: 1, code_size: 1000, audit_run_id: real.audit.runId}])
  })

  it('deletes under the team-state lease of the layer, account and region, and deletes nothing while another run holds it', async () => {
    const store = memoryLeaseStore()
    const leases = teamLeases(manifest, 'layers prune', () => {}, async () => store.api)!
    leases.config.waitMs = 100
    const key = '.layers-state/leases/deps/111111111111/eu-west-1.json'
    store.objects.set(key, {body: JSON.stringify({owner: 'other', host: 'ci', pid: 7, command: 'layers publish', acquiredAt: 'a', expiresAt: 'b'}), etag: '"held"'})
    const deleted: number[] = []
    const blocked = await runPrune(request({yes: true, leases}), env([user], deleted))
    expect(deleted).toEqual([])
    expect(blocked.failures.map((failure) => `${failure.arn}:${failure.error.code}`)).toEqual([`${arn(1)}:ERR_LAYERS_LEASE_TIMEOUT`, `${arn(3)}:ERR_LAYERS_LEASE_TIMEOUT`])
    store.objects.delete(key)
    const real = await runPrune(request({yes: true, leases}), env([user], deleted))
    expect(real.deleted.map((c) => c.version)).toEqual([1, 3])
    // Taken once for the group, released after.
    expect(store.objects.size).toBe(0)
  })

  it("keeps a version only an alias's published version uses, and lets it go once no alias does", async () => {
    const prod: ScannedAlias[] = [{name: 'prod', version: '7', additional: {version: '8', weight: 0.1}}]
    const used = await runPrune(request({}), env([user], [], {aliases: {f: prod}, versionLayers: {'7': [1], '8': [3]}}))
    expect(used.candidates).toEqual([])
    expect(used.kept.map((k) => `${k.version}:${k.reason}`)).toEqual(['1:in-use', '2:in-use', '3:in-use', '4:locked'])
    const moved = await runPrune(request({}), env([user], [], {aliases: {f: [{name: 'prod', version: '8'}]}, versionLayers: {'7': [1], '8': [3]}}))
    expect(moved.candidates.map((c) => c.version)).toEqual([1])
  })

  it("keeps everything the account could use when its functions' aliases could not be read, saying why", async () => {
    const result = await runPrune(request({}), env([user], [], {failAliases: true}))
    expect(result.candidates).toEqual([])
    const kept = result.kept.filter((k) => k.reason === 'audit-incomplete')
    expect(kept.map((k) => k.version)).toEqual([1, 3])
    expect(kept[0]!.detail).toBe(`the audit could not read account ${A} in ${R} (AccessDeniedException: aliases of f could not be read: User: x is not authorized to perform: lambda:ListAliases), whose functions may use it`)
  })

  it('keeps everything when the audit could not scan the region', async () => {
    const result = await runPrune(request({}), env([user], [], {failList: true}))
    expect(result.candidates).toEqual([])
    expect(result.kept.filter((k) => k.reason === 'audit-incomplete').map((k) => k.version)).toEqual([1, 2, 3])
  })

  it('refuses a stale saved audit and uses a fresh one', async () => {
    await expect(runPrune(request({useLastAudit: true}), env([user], []))).rejects.toMatchObject({code: 'ERR_LAYERS_PRUNE_NO_AUDIT', exitCode: 1})
    await runPrune(request({now: () => new Date('2025-06-01T00:00:00Z')}), env([user], []))
    await expect(runPrune(request({useLastAudit: true, now: () => new Date('2025-06-01T01:00:00Z')}), env([user], []))).rejects.toMatchObject({
      code: 'ERR_LAYERS_PRUNE_STALE_AUDIT',
    })
    const reused = await runPrune(request({useLastAudit: true, now: () => new Date('2025-06-01T00:10:00Z')}), env([], []))
    expect(reused.audit.reused).toBe(true)
    // The saved audit saw version 2 in use, even though the functions are gone now.
    expect(reused.candidates.map((c) => c.version)).toEqual([1, 3])
  })

  it('rejects arn layers and unknown names with exit 2', async () => {
    await expect(runPrune(request({layers: ['ext']}), env([], []))).rejects.toMatchObject({code: 'ERR_LAYERS_LAYER_KIND', exitCode: 2})
    await expect(runPrune(request({layers: ['dpes']}), env([], []))).rejects.toMatchObject({code: 'ERR_LAYERS_UNKNOWN_LAYER', exitCode: 2, message: expect.stringContaining('Did you mean')})
  })
})
