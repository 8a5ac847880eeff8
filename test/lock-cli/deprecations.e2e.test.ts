// `layers lock` fills the deprecation cache of the state database from the packuments it reads: every
// version it resolved, deprecated or not, so a following `layers advisories` reads no packument and
// still reports the deprecated one; the lockfile never holds the message. A state database that does
// not open costs only the cache (a warning); in a project without one lock creates none.
import {existsSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {AdvisoriesReport} from '../../src/advisories/plan.js'
import {openStateDatabase} from '../../src/store/db.js'
import {NpmRegistry} from '../support/npm-registry.js'
import {projectMaker} from './cli.js'

let registry: NpmRegistry

beforeAll(async () => {
  registry = await NpmRegistry.start()
  registry.publish('ms', {version: '2.1.3'}).publish('old', {version: '1.0.0', deprecated: 'use new', dependencies: {ms: '^2.1.0'}})
})

afterAll(async () => {
  await registry.stop()
})

const project = projectMaker(() => registry.url)
const LAYERS = '  deps:\n    npm:\n      old: ^1.0.0\n'

describe('lock and the deprecation cache', () => {
  it('records what it resolved, so advisories reads no packument within the day', async () => {
    const p = await project(LAYERS)
    openStateDatabase(path.join(p.dir, '.layers')).close()
    const lock = await p.cli(['lock', '--json'])
    expect(lock.status, lock.stderr).toBe(0)
    expect(readFileSync(path.join(p.dir, 'lockfile.json'), 'utf8')).not.toContain('use new')
    const db = openStateDatabase(path.join(p.dir, '.layers'))
    const rows = db.prepare('SELECT registry, name, version, message FROM package_deprecations ORDER BY name').all()
    db.close()
    expect(rows).toEqual([
      {registry: registry.url, name: 'ms', version: '2.1.3', message: null},
      {registry: registry.url, name: 'old', version: '1.0.0', message: 'use new'},
    ])

    const before = registry.requests.length
    const advisories = await p.cli(['advisories', '--json'])
    expect(advisories.status, advisories.stderr).toBe(0)
    expect((advisories.json as AdvisoriesReport).deprecated.map((item) => `${item.name}@${item.version}: ${item.message}`)).toEqual(['old@1.0.0: use new'])
    expect(registry.requests.slice(before).map((request) => `${request.method} ${request.url}`)).toEqual(['POST /-/npm/v1/security/advisories/bulk'])
  })

  it('still locks when the state database does not open, and says the deprecations were not cached', async () => {
    const p = await project(LAYERS)
    await p.write('.layers/state.db', 'not a database')
    const lock = await p.cli(['lock'])
    expect(lock.status, lock.stderr).toBe(0)
    expect(lock.stderr).toContain('were not cached for `layers advisories`')
    expect(existsSync(path.join(p.dir, 'lockfile.json'))).toBe(true)
  })

  it('creates no state database in a project that has none', async () => {
    const p = await project(LAYERS)
    const lock = await p.cli(['lock', '--json'])
    expect(lock.status, lock.stderr).toBe(0)
    expect(existsSync(path.join(p.dir, '.layers'))).toBe(false)
  })
})
