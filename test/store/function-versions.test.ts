// The function version cache of the state database (src/store/function-versions.ts, migration 7): an
// answer survives closing and reopening the database and is found again only under an alias revision
// it was stored under, in its own account, region and function; $LATEST is never stored; an
// account-region with nothing cached costs one query per run, not one per version.
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {openStateDatabase} from '../../src/store/db.js'
import {functionVersionCache} from '../../src/store/function-versions.js'

const dir = mkdtempSync(path.join(tmpdir(), 'layers-function-cache-'))
afterAll(() => rmSync(dir, {recursive: true, force: true}))

const A = '111111111111'
const FN = `arn:aws:lambda:eu-west-1:${A}:function:api`
const KEY = {accountId: A, region: 'eu-west-1', functionArn: FN, version: '42'}
const VERSION = {version: '42', runtime: 'nodejs24.x', architecture: 'arm64' as const, layers: [{arn: `arn:aws:lambda:eu-west-1:${A}:layer:deps:3`, codeSize: 4096}], codeSha256: 'c2hhMjU2'}

describe('functionVersionCache', () => {
  it('keeps a published version under the alias revisions that routed to it, across runs', () => {
    const stateDir = path.join(dir, '.layers')
    let db = openStateDatabase(stateDir)
    expect(functionVersionCache(db).get(KEY, ['r1'])).toBeUndefined()
    // A target's reads are written together.
    functionVersionCache(db).put([
      {key: KEY, aliasRevisions: ['r1', 'r2'], version: VERSION},
      {key: {...KEY, version: '7'}, aliasRevisions: ['r5'], version: {...VERSION, version: '7', runtime: 'nodejs22.x'}},
    ])
    db.close()
    db = openStateDatabase(stateDir)
    const cache = functionVersionCache(db)
    expect(cache.get(KEY, ['r2'])).toEqual(VERSION)
    expect(cache.get(KEY, ['r9', 'r1'])).toEqual(VERSION)
    expect(cache.get({...KEY, version: '7'}, ['r5'])).toEqual({...VERSION, version: '7', runtime: 'nodejs22.x'})
    // An alias revision not seen then (the alias moved, or the function was deleted and created again).
    expect(cache.get(KEY, ['r3'])).toBeUndefined()
    expect(cache.get(KEY, [])).toBeUndefined()
    expect(cache.get({...KEY, version: '43'}, ['r1'])).toBeUndefined()
    expect(cache.get({...KEY, region: 'us-east-1'}, ['r1'])).toBeUndefined()
    expect(cache.get({...KEY, accountId: '222222222222'}, ['r1'])).toBeUndefined()
    expect(cache.get({...KEY, functionArn: `${FN}2`}, ['r1'])).toBeUndefined()
    db.close()
  })

  it('asks the database once per account-region that has no cached version yet (a first audit), not once per version', () => {
    const db = openStateDatabase(path.join(dir, 'first-run'))
    let queries = 0
    const prepare = db.prepare.bind(db)
    db.prepare = ((source: string) => {
      const statement = prepare(source)
      if (!source.trimStart().startsWith('SELECT')) return statement
      const get = statement.get.bind(statement)
      return Object.assign(statement, {get: (...args: unknown[]) => (queries++, get(...args))})
    }) as typeof db.prepare
    const cache = functionVersionCache(db)
    for (let version = 1; version <= 50; version++) expect(cache.get({...KEY, version: String(version)}, ['r1', 'r2'])).toBeUndefined()
    expect(queries).toBe(1)
    // Read during the run and cached: the next run finds it (and asks per version there).
    cache.put([{key: KEY, aliasRevisions: ['r1'], version: VERSION}])
    queries = 0
    expect(functionVersionCache(db).get(KEY, ['r1'])).toEqual(VERSION)
    expect(queries).toBe(2)
    db.close()
  })

  it('never stores $LATEST, which changes', () => {
    const db = openStateDatabase(path.join(dir, 'latest'))
    const cache = functionVersionCache(db)
    cache.put([{key: {...KEY, version: '$LATEST'}, aliasRevisions: ['r1'], version: {...VERSION, version: '$LATEST'}}])
    expect(cache.get({...KEY, version: '$LATEST'}, ['r1'])).toBeUndefined()
    expect((db.prepare('SELECT COUNT(*) AS n FROM function_versions').get() as {n: number}).n).toBe(0)
    db.close()
  })
})
