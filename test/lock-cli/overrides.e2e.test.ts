// npm `overrides` through the CLI: an npm layer's `overrides:` key in layers.yaml and a referenced
// package.json's `overrides` field are both honoured by lock (one ms where npm installs one); adding
// or changing them makes the lock stale; malformed ones are refused by validate with their location.
import {readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {NpmRegistry} from '../support/npm-registry.js'
import {projectMaker, type Project} from './cli.js'

let registry: NpmRegistry

beforeAll(async () => {
  registry = await NpmRegistry.start()
  registry
    .publish('ms', {version: '2.0.0'})
    .publish('ms', {version: '2.1.3'})
    .publish('debug', {version: '2.6.9', dependencies: {ms: '2.0.0'}})
    .publish('web', {version: '4.21.2', dependencies: {debug: '2.6.9', ms: '2.1.3'}})
})

afterAll(async () => {
  await registry.stop()
})

const project = projectMaker(() => registry.url)

function lockedPaths(p: Project): Record<string, string> {
  const lock = JSON.parse(readFileSync(path.join(p.dir, 'lockfile.json'), 'utf8'))
  const packages = lock.layers.deps.artifacts['arm64+x86_64'].packages as Record<string, {version: string}>
  return Object.fromEntries(Object.entries(packages).map(([key, pkg]) => [key, pkg.version]))
}

describe('npm overrides through the CLI', () => {
  it('the manifest key is honoured, and adding it makes the lock stale', async () => {
    const p = await project(`  deps:\n    npm:\n      web: 4.21.2\n`)
    expect((await p.cli(['lock', '--json'])).status).toBe(0)
    expect(lockedPaths(p)['node_modules/debug/node_modules/ms']).toBe('2.0.0')
    const manifest = path.join(p.dir, 'layers.yaml')
    writeFileSync(manifest, readFileSync(manifest, 'utf8').replace('      web: 4.21.2\n', '      web: 4.21.2\n    overrides:\n      ms: 2.1.3\n'))
    const stale = await p.cli(['validate', '--json'])
    expect(stale.json.lock).toMatchObject({state: 'stale', stale: ['deps']})
    const relocked = await p.cli(['lock', '--json'])
    expect(relocked.stderr).toBe('')
    expect(relocked.status).toBe(0)
    expect(lockedPaths(p)).toEqual({'node_modules/debug': '2.6.9', 'node_modules/ms': '2.1.3', 'node_modules/web': '4.21.2'})
    expect((await p.cli(['validate', '--json'])).json.lock.state).toBe('current')
  })

  it('a package.json\'s overrides field is honoured', async () => {
    const p = await project(`  deps:\n    npm: ./pkg/package.json\n`)
    await p.write('pkg/package.json', JSON.stringify({name: 'pkg', dependencies: {web: '4.21.2'}, overrides: {debug: {ms: '$ms'}}, devDependencies: {ms: '2.1.3'}}))
    const locked = await p.cli(['lock', '--json'])
    expect(locked.stderr).toBe('')
    expect(locked.status).toBe(0)
    expect(lockedPaths(p)).toEqual({'node_modules/debug': '2.6.9', 'node_modules/ms': '2.1.3', 'node_modules/web': '4.21.2'})
  })

  it.each([
    [`  deps:\n    npm:\n      web: 4.21.2\n      ms: ^2.0.0\n    overrides:\n      ms: 2.1.3\n`, 'layers.yaml:13:7', 'conflicts with the direct dependency ms@^2.0.0'],
    [`  deps:\n    npm:\n      web: 4.21.2\n    overrides:\n      "ms@latest": 2.1.3\n`, 'layers.yaml:12:7', '"ms@latest" is not a package name or name@range'],
    [`  deps:\n    dir: ./pkg\n    overrides:\n      ms: 2.1.3\n`, 'layers.yaml:10:5', 'overrides are npm\'s and apply to npm layers only'],
  ])('validate refuses bad overrides at their location (exit 2): %#', async (layers, at, message) => {
    const p = await project(layers)
    await p.write('pkg/index.js', '')
    const validated = await p.cli(['validate'])
    expect(validated.stderr).toContain(message)
    expect(validated.stderr).toContain(at)
    expect(validated.status).toBe(2)
  })
})
