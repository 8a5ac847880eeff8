// The layer version cache of the state database (src/store/layer-versions.ts, migration 5): an answer
// survives closing and reopening the database, is the reading account's only, and a version layers
// pruned (a row in prunes, here or merged from the shared history) is never answered from the cache.
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {recordPrune} from '../../src/history/store.js'
import {openStateDatabase} from '../../src/store/db.js'
import {layerVersionCache} from '../../src/store/layer-versions.js'

const dir = mkdtempSync(path.join(tmpdir(), 'layers-layer-cache-'))
afterAll(() => rmSync(dir, {recursive: true, force: true}))

const A = '111111111111'
const B = '222222222222'
const ARN = 'arn:aws:lambda:eu-west-1:111111111111:layer:deps:3'
const VERSION = {codeSha256: 'c2hhMjU2', codeSize: 4096, compatibleRuntimes: ['nodejs22.x', 'nodejs24.x'], compatibleArchitectures: ['arm64' as const]}

describe('layerVersionCache', () => {
  it('keeps what Lambda said to an account about a version across runs, and forgets a version layers pruned', () => {
    const stateDir = path.join(dir, '.layers')
    let db = openStateDatabase(stateDir)
    expect(layerVersionCache(db).get(A, ARN)).toBeUndefined()
    layerVersionCache(db).put(A, ARN, VERSION)
    db.close()
    db = openStateDatabase(stateDir)
    expect(layerVersionCache(db).get(A, ARN)).toEqual(VERSION)
    expect(layerVersionCache(db).get(A, `${ARN.slice(0, -1)}4`)).toBeUndefined()
    // Another account may not be allowed to read it: its own answer is needed.
    expect(layerVersionCache(db).get(B, ARN)).toBeUndefined()
    recordPrune(db, {layer: 'deps', accountId: '111111111111', region: 'eu-west-1', version: 3, arn: ARN, codeSize: 4096, deletedAt: '2026-01-01T00:00:00.000Z'})
    expect(layerVersionCache(db).get(A, ARN)).toBeUndefined()
    db.close()
  })
})
