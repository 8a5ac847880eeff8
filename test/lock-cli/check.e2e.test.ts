// `layers lock --check` through the built CLI against a loopback registry, as CI runs it: it resolves
// as `layers lock` would, writes nothing at all (no lockfile.json, no lock directory, no state, not a
// byte of the project changes), exits 0 when lockfile.json is up to date and 1 with the differences
// per layer (human and --json) when it is missing or would change; invalid input is still exit 2.
import {readdirSync, readFileSync, statSync} from 'node:fs'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {NpmRegistry} from '../support/npm-registry.js'
import {makeProject, manifestWith, type Project} from './cli.js'

let registry: NpmRegistry
let project: Project

/** Every file and directory under the project with its size, mtime and content: what "writes nothing" is checked against. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const entry of readdirSync(dir, {recursive: true, withFileTypes: true})) {
    const file = path.join(entry.parentPath, entry.name)
    const stat = statSync(file)
    out[path.relative(dir, file)] = entry.isFile() ? `${stat.mtimeMs} ${readFileSync(file, 'base64')}` : `dir ${stat.mtimeMs}`
  }
  return out
}

const LAYERS = `  deps:\n    npm:\n      leaf: ^1.0.0\n      other: ^1.0.0\n  files:\n    dir: ./files\n`

beforeAll(async () => {
  registry = await NpmRegistry.start()
  registry.publish('leaf', {version: '1.0.0'}).publish('leaf', {version: '2.0.0'}).publish('other', {version: '1.0.0'}).publish('added', {version: '3.1.0'})
  project = await makeProject(registry.url, manifestWith(LAYERS))
  await project.write('files/hello.txt', 'hello')
})

afterAll(async () => {
  await project?.cleanup()
  await registry?.stop()
})

describe('layers lock --check', () => {
  it('without lockfile.json: exit 1, every layer added, nothing written', async () => {
    const before = snapshot(project.dir)
    const [json, human] = await Promise.all([project.cli(['lock', '--check', '--json']), project.cli(['lock', '--check'])])
    expect(json.status, json.stderr).toBe(1)
    expect(json.json).toMatchObject({written: false, upToDate: false, removed: []})
    expect(json.json.changes.map((change: {layer: string; change: string}) => `${change.layer} ${change.change}`)).toEqual(['deps added', 'files added'])
    expect(json.json.changes[0].differences).toContainEqual({
      field: 'package',
      artifact: 'arm64+x86_64',
      path: 'node_modules/leaf',
      after: {name: 'leaf', version: '1.0.0', integrity: registry.integrity('leaf', '1.0.0'), resolved: `${registry.url}leaf/-/leaf-1.0.0.tgz`},
    })
    expect(json.stderr).toContain('ERR_LAYERS_LOCK_OUTDATED')
    expect(human.status).toBe(1)
    expect(human.stdout).toContain('is out of date: `layers lock` would change 2 layer(s)')
    expect(human.stdout).toMatch(/deps: added[^\n]*\n(.*\n)*\s+arm64\+x86_64 node_modules\/leaf added leaf@1\.0\.0/)
    expect(human.stdout).toContain('Nothing was written.')
    expect(snapshot(project.dir)).toEqual(before)
  })

  it('after `layers lock`: exit 0 and not a byte changes; a new version outside the ranges changes nothing', async () => {
    expect((await project.cli(['lock', '--json'])).status).toBe(0)
    registry.publish('leaf', {version: '2.1.0'})
    const before = snapshot(project.dir)
    const [json, human] = await Promise.all([project.cli(['lock', '--check', '--json']), project.cli(['lock', '--check'])])
    expect(json.status, json.stderr).toBe(0)
    expect(json.json).toMatchObject({written: false, upToDate: true, changes: []})
    expect(json.stderr).toBe('')
    expect(human.status).toBe(0)
    expect(human.stdout).toContain('lockfile.json is up to date.')
    expect(snapshot(project.dir)).toEqual(before)
  })

  it('a changed manifest: exit 1 naming the layer, its inputs and each package version that would move, added and removed', async () => {
    const lockBefore = readFileSync(path.join(project.dir, 'lockfile.json'), 'utf8')
    await project.write('layers.yaml', manifestWith(`  deps:\n    npm:\n      leaf: ^2.0.0\n      added: ^3.0.0\n  more:\n    dir: ./files\n`))
    const before = snapshot(project.dir)
    const [json, human] = await Promise.all([project.cli(['lock', '--check', '--json']), project.cli(['lock', '--check'])])
    expect(json.status, json.stderr).toBe(1)
    expect(json.json.upToDate).toBe(false)
    expect(json.json.removed).toEqual(['files'])
    const deps = json.json.changes.find((change: {layer: string}) => change.layer === 'deps')
    expect(json.json.changes.map((change: {layer: string; change: string}) => `${change.layer} ${change.change}`)).toEqual(['deps changed', 'files removed', 'more added'])
    expect(deps.differences).toEqual([
      {field: 'inputs', before: expect.stringMatching(/.+/), after: expect.stringMatching(/.+/)},
      {field: 'package', artifact: 'arm64+x86_64', path: 'node_modules/added', after: expect.objectContaining({name: 'added', version: '3.1.0', integrity: registry.integrity('added', '3.1.0')})},
      {
        field: 'package',
        artifact: 'arm64+x86_64',
        path: 'node_modules/leaf',
        before: expect.objectContaining({version: '1.0.0', integrity: registry.integrity('leaf', '1.0.0')}),
        after: expect.objectContaining({version: '2.1.0', integrity: registry.integrity('leaf', '2.1.0')}),
      },
      {field: 'package', artifact: 'arm64+x86_64', path: 'node_modules/other', before: expect.objectContaining({name: 'other', version: '1.0.0'})},
    ])
    expect(human.stdout).toContain('deps: changed')
    expect(human.stdout).toContain('manifest entry changed (inputs ')
    expect(human.stdout).toContain('arm64+x86_64 node_modules/leaf leaf@1.0.0 → leaf@2.1.0')
    expect(human.stdout).toContain('arm64+x86_64 node_modules/other removed other@1.0.0')
    expect(human.stdout).toContain('files: removed (no longer in the manifest)')
    expect(human.stdout).toContain('more: added')
    expect(snapshot(project.dir)).toEqual(before)
    expect(readFileSync(path.join(project.dir, 'lockfile.json'), 'utf8')).toBe(lockBefore)
    await project.write('layers.yaml', manifestWith(LAYERS))
  })

  it('invalid input is still exit 2', async () => {
    const [unknown, conflicting] = await Promise.all([project.cli(['lock', '--check', 'nope', '--json']), project.cli(['lock', '--check', 'deps/leaf', '--json'])])
    expect(unknown.status).toBe(2)
    expect(unknown.json.error.code).toBe('ERR_LAYERS_UNKNOWN_LAYER')
    expect(conflicting.status).toBe(2)
    expect(conflicting.json.error.code).toBe('ERR_LAYERS_USAGE')
  })
})
