// The shared history (src/history/shared.ts) over an in-memory store: events are content-addressed
// (the same publication from two runs is one key, whenever it was recorded), merging imports only
// what the local database lacks, and an event whose ARN is not of its layer, account and region is
// never imported (a bucket writer cannot inject another account's version). Every event type (grant,
// attach, prune, audit) round-trips through one writer and one merge into \`layers history\`, and the
// parser refuses any event that is not exactly of its type, layer, account and region.
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import type {HistoryStoreApi} from '../../src/aws/s3-history.js'
import type {AuditReport} from '../../src/audit/types.js'
import {auditSummaryEvents, eventObject, historyPrefix, mergeSharedHistory, parseSharedEvent, writeSharedEvents, type SharedEvent} from '../../src/history/shared.js'
import {layerHistory, recordPrune, type PublicationRow} from '../../src/history/store.js'
import {openStateDatabase, type StateDatabase} from '../../src/store/db.js'

const A = '111111111111'
const R = 'eu-west-1'
const row = (version: number, at = '2026-01-01T00:00:00.000Z'): PublicationRow => ({layer: 'deps', artifact: 'x86_64', accountId: A, region: R, version, arn: `arn:aws:lambda:${R}:${A}:layer:deps:${version}`, codeSha256: 'c'.repeat(43) + '=', publishedAt: at})

const publicationEvent = (prefix: string, entry: PublicationRow): {key: string; body: string} => eventObject(prefix, {type: 'publication', ...entry, at: entry.publishedAt})
const arn = (version: number, account = A, region = R, layer = 'deps'): string => `arn:aws:lambda:${region}:${account}:layer:${layer}:${version}`
const base = {layer: 'deps', accountId: A, region: R, at: '2026-02-01T00:00:00.000Z'}
const events: SharedEvent[] = [
  {type: 'grant', ...base, version: 3, arn: arn(3), added: ['layers-account-222222222222'], removed: []},
  {type: 'attach', ...base, version: 3, arn: arn(3), function: 'acme-api'},
  {type: 'prune', ...base, version: 1, arn: arn(1), codeSize: 1234},
  {type: 'audit', ...base, runId: 7, host: 'ci-1', functions: 2, findings: 1, versions: [{version: 3, functions: 2}]},
]

function memoryStore(): {objects: Map<string, string>; reads: string[]; api: HistoryStoreApi} {
  const objects = new Map<string, string>()
  const reads: string[] = []
  return {
    objects,
    reads,
    api: {
      putOnce: async (_bucket, key, body) => (objects.has(key) ? 'exists' : (objects.set(key, body), 'written')),
      list: async (_bucket, prefix) => [...objects.keys()].filter((key) => key.startsWith(prefix)).sort(),
      read: async (_bucket, key) => {
        reads.push(key)
        return objects.get(key)
      },
    },
  }
}

describe('shared history', () => {
  const dirs: string[] = []
  let db: StateDatabase | undefined
  afterEach(() => {
    db?.close()
    db = undefined
    for (const dir of dirs.splice(0)) rmSync(dir, {recursive: true, force: true})
  })
  const database = (): StateDatabase => {
    const dir = mkdtempSync(path.join(tmpdir(), 'layers-history-'))
    dirs.push(dir)
    db = openStateDatabase(dir)
    return db
  }

  it('names an event by what it records, not when', () => {
    expect(publicationEvent('layers/', row(3)).key).toBe(publicationEvent('layers/', row(3, '2027-05-05T00:00:00.000Z')).key)
    expect(publicationEvent('layers/', row(3)).key).toMatch(new RegExp(`^${historyPrefix('layers/', 'deps', A, R)}publication-3-x86_64-[0-9a-f]{32}\\.json$`))
    expect(publicationEvent('layers/', row(3)).key).not.toBe(publicationEvent('layers/', row(4)).key)
  })

  it('imports what the local database lacks, reads each new event once, and ignores foreign ARNs', async () => {
    const store = memoryStore()
    for (const version of [1, 2]) {
      const {key, body} = publicationEvent('', row(version))
      store.objects.set(key, body)
    }
    const foreign = publicationEvent('', {...row(9), arn: `arn:aws:lambda:${R}:999999999999:layer:deps:9`})
    store.objects.set(foreign.key, foreign.body)
    const local = database()
    const target = {bucket: 'b', accountId: A, region: R, store: async () => store.api}
    expect(await mergeSharedHistory(local, 'deps', '', [target], () => {})).toBe(2)
    expect(layerHistory(local, 'deps').publications.map((entry) => entry.version).sort()).toEqual([1, 2])
    store.reads.length = 0
    expect(await mergeSharedHistory(local, 'deps', '', [target], () => {})).toBe(0)
    // Only the event that was not imported (the foreign one) is read again.
    expect(store.reads).toEqual([foreign.key])
  })

  it('a target whose history cannot be read is a warning; the others still import', async () => {
    const store = memoryStore()
    const {key, body} = publicationEvent('', row(1))
    store.objects.set(key, body)
    const warnings: string[] = []
    const broken = {bucket: 'b', accountId: A, region: 'us-east-1', store: async () => ({...store.api, list: () => Promise.reject(Object.assign(new Error('Access Denied'), {name: 'AccessDenied'}))})}
    const count = await mergeSharedHistory(database(), 'deps', '', [broken, {bucket: 'b', accountId: A, region: R, store: async () => store.api}], (event) => {
      if (event.type === 'warning') warnings.push(event.warning.code)
    })
    expect(count).toBe(1)
    expect(warnings).toEqual(['ERR_LAYERS_HISTORY_READ'])
  })

  it('every event type goes through one writer and one merge into the layer history', async () => {
    const store = memoryStore()
    const target = {bucket: 'b', accountId: A, region: R, store: async () => store.api}
    await writeSharedEvents(events, '', () => target, () => {}, 'hint')
    expect([...store.objects.keys()].map((key) => key.slice(historyPrefix('', 'deps', A, R).length).replace(/-[0-9a-f]{32}\.json$/, ''))).toEqual(['grant', 'attach', 'prune', 'audit'])
    const local = database()
    // This machine's own prune is in the cache already: merged, it is not a second row.
    recordPrune(local, {layer: 'deps', accountId: A, region: R, version: 1, arn: arn(1), codeSize: 1234, deletedAt: base.at})
    expect(await mergeSharedHistory(local, 'deps', '', [target], () => {})).toBe(4)
    const history = layerHistory(local, 'deps')
    expect(history.grants).toEqual([events[0]])
    expect(history.attaches).toEqual([events[1]])
    expect(history.prunes.map((entry) => entry.arn)).toEqual([arn(1)])
    expect(history.audits).toEqual([events[3]])
    expect(layerHistory(local, `arn:aws:lambda:${R}:${A}:layer:deps`).attaches).toEqual([events[1]])
    expect(layerHistory(local, `arn:aws:lambda:us-east-1:${A}:layer:deps`).attaches).toEqual([])
    store.reads.length = 0
    expect(await mergeSharedHistory(local, 'deps', '', [target], () => {})).toBe(0)
    expect(store.reads).toEqual([])
  })

  it('refuses an event that speaks of another layer, account or region, or is not exactly its type', () => {
    for (const event of events) expect(parseSharedEvent(JSON.stringify(event), 'deps', A, R)).toEqual(event)
    const attach = events[1]!
    const bad: unknown[] = [
      {...attach, accountId: '999999999999'},
      {...attach, region: 'us-east-1'},
      {...attach, layer: 'other'},
      {...attach, arn: arn(3, '999999999999')},
      {...attach, arn: arn(3, A, 'us-east-1')},
      {...attach, arn: arn(3, A, R, 'other')},
      {...attach, version: 4},
      {...attach, function: '../x'},
      {...attach, extra: 1},
      {...attach, type: 'publication'},
      {...attach, type: 'nope'},
      {...attach, at: 'yesterday'},
      {...events[2], codeSize: -1},
      {...events[0], added: [1]},
      {...events[3], versions: [{version: 3, functions: 2, arn: arn(3, '999999999999')}]},
      {...events[3], runId: '7'},
      [attach],
      null,
    ]
    for (const event of bad) expect(parseSharedEvent(JSON.stringify(event), 'deps', A, R)).toBeUndefined()
    expect(parseSharedEvent('{not json', 'deps', A, R)).toBeUndefined()
  })

  it('a failed write is a warning, never an error', async () => {
    const warnings: string[] = []
    const broken = {bucket: 'b', accountId: A, region: R, store: async () => ({...memoryStore().api, putOnce: () => Promise.reject(new Error('Access Denied'))})}
    await writeSharedEvents(events, '', () => broken, (event) => {
      if (event.type === 'warning') warnings.push(event.warning.code)
    }, 'hint')
    expect(warnings).toEqual(Array(4).fill('ERR_LAYERS_HISTORY_WRITE'))
  })

  it('an audit summary counts, per layer and scanned target, the functions on its versions there and the findings about them', () => {
    const report = {
      runId: 7,
      startedAt: base.at,
      targets: [{accountId: A, region: R, status: 'ok', functions: 3}, {accountId: A, region: 'us-east-1', status: 'failed', functions: 0}],
      usage: [
        {layerArn: arn(3).replace(/:3$/, ''), name: 'deps', version: 3, arn: arn(3), functions: 3, targets: [{accountId: A, region: R, functions: 2}, {accountId: '222222222222', region: R, functions: 1}]},
        {layerArn: 'x', name: 'deps', version: 5, arn: arn(5, '999999999999'), functions: 1, targets: [{accountId: A, region: R, functions: 1}]},
      ],
      findings: [{code: 'behind', severity: 'warning', accountId: A, region: R, function: 'acme-api', layer: arn(3), message: '', fix: ''}],
    } as unknown as AuditReport
    expect(auditSummaryEvents(report, ['deps', 'unused'], {LAYERS_HOSTNAME: 'ci-1'})).toEqual([events[3]])
    expect(auditSummaryEvents({...report, runId: undefined}, ['deps'])).toEqual([])
  })
})
