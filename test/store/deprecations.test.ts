// The package deprecation cache of the state database (src/store/deprecations.ts, migration 8): an
// answer (deprecated or not) survives reopening the database, is its registry's only, is replaced by
// a later read, and is no longer fresh once older than the cut-off the caller gives.
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {openStateDatabase} from '../../src/store/db.js'
import {DEPRECATION_MAX_AGE_MS, deprecationCache, deprecationKey} from '../../src/store/deprecations.js'

const dir = mkdtempSync(path.join(tmpdir(), 'layers-deprecations-'))
afterAll(() => rmSync(dir, {recursive: true, force: true}))

const NPM = 'https://registry.npmjs.org/'
const day = (iso: string): Date => new Date(iso)

describe('deprecationCache', () => {
  it('answers what was read within the age, per registry, the latest read winning', () => {
    const stateDir = path.join(dir, '.layers')
    let db = openStateDatabase(stateDir)
    deprecationCache(db).record([{registry: NPM, name: 'request', version: '2.88.2', message: 'request has been deprecated'}, {registry: NPM, name: 'ms', version: '2.1.3'}], day('2026-12-01T00:00:00Z'))
    db.close()
    db = openStateDatabase(stateDir)
    const since = new Date(day('2026-12-01T12:00:00Z').getTime() - DEPRECATION_MAX_AGE_MS)
    const fresh = deprecationCache(db).fresh(since)
    expect(fresh.get(deprecationKey(NPM, 'request', '2.88.2'))).toBe('request has been deprecated')
    expect(fresh.get(deprecationKey(NPM, 'ms', '2.1.3'))).toBeNull()
    expect(fresh.has(deprecationKey('https://npm.example.com/', 'ms', '2.1.3'))).toBe(false)
    // A day and more later the answers are stale; a new read replaces them.
    expect(deprecationCache(db).fresh(new Date(day('2026-12-02T00:00:01Z').getTime() - DEPRECATION_MAX_AGE_MS)).size).toBe(0)
    deprecationCache(db).record([{registry: NPM, name: 'ms', version: '2.1.3', message: 'use ms 3'}], day('2026-12-02T06:00:00Z'))
    expect(deprecationCache(db).fresh(day('2026-12-02T00:00:00Z'))).toEqual(new Map([[deprecationKey(NPM, 'ms', '2.1.3'), 'use ms 3']]))
    db.close()
  })
})
