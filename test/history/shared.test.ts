// The shared history (src/history/shared.ts) over an in-memory store: events are content-addressed
// (the same publication from two runs is one key, whenever it was recorded), merging imports only
// what the local database lacks, and an event whose ARN is not of its layer, account and region is
// never imported (a bucket writer cannot inject another account's version).
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import type {HistoryStoreApi} from '../../src/aws/s3-history.js'
import {historyPrefix, mergeSharedHistory, publicationEvent} from '../../src/history/shared.js'
import {layerHistory, type PublicationRow} from '../../src/history/store.js'
import {openStateDatabase, type StateDatabase} from '../../src/store/db.js'

const A = '111111111111'
const R = 'eu-west-1'
const row = (version: number, at = '2026-01-01T00:00:00.000Z'): PublicationRow => ({layer: 'deps', artifact: 'x86_64', accountId: A, region: R, version, arn: `arn:aws:lambda:${R}:${A}:layer:deps:${version}`, codeSha256: 'c'.repeat(43) + '=', publishedAt: at})

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
})
