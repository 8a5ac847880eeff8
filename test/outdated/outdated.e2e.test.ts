// End to end through the built CLI (node bin/run.js; run `npx tsc` first): `layers lock` an npm layer
// against a loopback npm registry, the registry then gets newer versions, and `layers outdated`
// reports locked / wanted / latest per direct dependency as `npm outdated` does; a registry that
// keeps failing is reported (exit 1) without hiding the other rows. The arn-layer rows (newest
// version each target can read) are covered against the AWS test server in
// test/audit/managed.e2e.test.ts.
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {makeProject, manifestWith, type Project} from '../lock-cli/cli.js'
import {NpmRegistry} from '../support/npm-registry.js'

let registry: NpmRegistry
let project: Project

beforeAll(async () => {
  registry = await NpmRegistry.start()
  registry.publish('leaf', {version: '1.0.0'}).publish('steady', {version: '2.0.0'}).publish('tagged', {version: '3.0.0'})
  project = await makeProject(registry.url, manifestWith(`  deps:\n    npm:\n      aliased: "npm:leaf@^1.0.0"\n      leaf: ^1.0.0\n      steady: ~2.0.0\n      tagged: ^3.0.0\n`))
  const locked = await project.cli(['lock', '--json'])
  expect(locked.status, locked.stderr).toBe(0)
  // Published after the lock: a minor within range, a major beyond it, a version beyond ~2.0.0 only.
  registry.publish('leaf', {version: '1.2.0'}).publish('leaf', {version: '2.0.0'}).publish('steady', {version: '2.1.0'})
}, 120_000)

afterAll(async () => {
  await project?.cleanup()
  await registry?.stop()
})

type Row = {kind: string; layer: string; package: string; spec: string; locked: string[]; wanted?: string; latest?: string; outdated: boolean}

describe('layers outdated (CLI, npm layers)', () => {
  it('reports locked, wanted and latest per direct dependency', async () => {
    const run = await project.cli(['outdated', '--json'])
    expect(run.status, run.stderr).toBe(0)
    expect(run.json.errors).toEqual([])
    expect((run.json.rows as Row[]).map((r) => `${r.layer}/${r.package} ${r.spec} ${r.locked.join(',')} ${r.wanted} ${r.latest} ${r.outdated}`)).toEqual([
      // An npm: alias is looked up under the package it names (not a 404 for "aliased").
      'deps/aliased npm:leaf@^1.0.0 1.0.0 1.2.0 2.0.0 true',
      'deps/leaf ^1.0.0 1.0.0 1.2.0 2.0.0 true',
      'deps/steady ~2.0.0 2.0.0 2.0.0 2.1.0 true',
      'deps/tagged ^3.0.0 3.0.0 3.0.0 3.0.0 false',
    ])
  })

  it('the table lists only outdated rows unless --all', async () => {
    const table = await project.cli(['outdated'])
    expect(table.status, table.stderr).toBe(0)
    expect(table.stdout).toMatch(/^\s*deps\s+leaf\s+\^1\.0\.0\s+1\.0\.0\s+1\.2\.0\s+2\.0\.0\s*$/m)
    expect(table.stdout).not.toMatch(/tagged/)
    expect(table.stdout).toContain('3 outdated.')
    expect((await project.cli(['outdated', '--all'])).stdout).toMatch(/^\s*deps\s+tagged\s+\^3\.0\.0\s+3\.0\.0\s+3\.0\.0\s+3\.0\.0\s*$/m)
  })

  it('a registry that keeps failing is an error row and exit 1; an unknown layer is exit 2', async () => {
    registry.failNext(100, 503)
    const run = await project.cli(['outdated', '--json'])
    registry.failNext(0)
    expect(run.status).toBe(1)
    expect(run.stderr).toContain('ERR_LAYERS_OUTDATED_LOOKUP')
    expect((run.json.errors as Array<{package: string}>).map((e) => e.package).sort()).toEqual(['leaf', 'steady', 'tagged'])
    const unknown = await project.cli(['outdated', 'nope', '--json'])
    expect(unknown.status).toBe(2)
    expect(unknown.json.error.code).toBe('ERR_LAYERS_UNKNOWN_LAYER')
  })

  it('--fail-on exits 1 when a row is outdated at that level (npm outdated\'s exit 1), 0 below it, 2 for an unknown level', async () => {
    // A layer whose only update is a minor one (steady 2.0.0 -> latest 2.1.0).
    const minorOnly = await makeProject(registry.url, manifestWith(`  deps:\n    npm:\n      steady: ~2.0.0\n`))
    try {
      const [locked, major, minor, unknown] = await Promise.all([
        minorOnly.cli(['lock', '--json']),
        project.cli(['outdated', '--fail-on', 'major', '--json']),
        project.cli(['outdated', '--fail-on=minor']),
        project.cli(['outdated', '--fail-on', 'huge', '--json']),
      ])
      expect(locked.status, locked.stderr).toBe(0)
      expect(major.status).toBe(1)
      expect(major.stderr).toContain('Error [ERR_LAYERS_OUTDATED]: 2 outdated at --fail-on major: deps/aliased (major), deps/leaf (major).')
      expect((major.json.rows as Array<Row & {update?: string}>).map((r) => `${r.package} ${r.update ?? '-'}`)).toEqual(['aliased major', 'leaf major', 'steady minor', 'tagged -'])
      expect(minor.status).toBe(1)
      expect(minor.stderr).toContain('3 outdated at --fail-on minor: deps/aliased (major), deps/leaf (major), deps/steady (minor).')
      expect(minor.stdout).toContain('3 outdated.')
      expect(unknown.status).toBe(2)
      expect(unknown.json.error.code).toBe('ERR_LAYERS_FLAG_VALUE')

      // Below the level: exit 0 though the row is outdated; at it: exit 1 (the levels themselves: test/outdated/plan.test.ts).
      const [belowMajor, atPatch] = await Promise.all([minorOnly.cli(['outdated', '--fail-on', 'major', '--json']), minorOnly.cli(['outdated', '--fail-on', 'patch', '--json'])])
      expect(belowMajor.status, belowMajor.stderr).toBe(0)
      expect(belowMajor.json.rows).toEqual([expect.objectContaining({package: 'steady', outdated: true, update: 'minor'})])
      expect(belowMajor.stderr).toBe('')
      expect(atPatch.status).toBe(1)
    } finally {
      await minorOnly.cleanup()
    }
  }, 120_000)
})
