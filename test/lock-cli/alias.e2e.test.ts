// `npm:` aliases in a layer's dependencies (`my-alias: "npm:left-pad@^1.3.0"`, as the README
// documents): validate accepts them, lock records the target package under the alias's folder, and
// the built zip holds left-pad's content at nodejs/node_modules/my-alias, as npm installs it.
// Non-registry specs (git, link:, github shorthand, tarball URLs) are refused by validate at their line;
// file: packages are local packages (test/lock-cli/workspaces.e2e.test.ts).
import {execFileSync} from 'node:child_process'
import {readFileSync} from 'node:fs'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {NpmRegistry} from '../support/npm-registry.js'
import {projectMaker} from './cli.js'

let registry: NpmRegistry

beforeAll(async () => {
  registry = await NpmRegistry.start()
  registry.publish('left-pad', {version: '1.2.0'}).publish('left-pad', {version: '1.3.0', files: {'index.js': 'module.exports = "left-pad 1.3.0"\n'}})
})

afterAll(async () => {
  await registry.stop()
})

const project = projectMaker(() => registry.url)

describe('npm: aliases', () => {
  it('validate, lock and build install the target package under the alias name', async () => {
    const p = await project(`  deps:\n    npm:\n      my-alias: "npm:left-pad@^1.3.0"\n`)
    const validated = await p.cli(['validate', '--json'])
    expect(validated.stderr).not.toMatch(/Error/)
    expect(validated.status).toBe(0)
    const locked = await p.cli(['lock', '--json'])
    expect(locked.stderr).toBe('')
    expect(locked.status).toBe(0)
    const lock = JSON.parse(readFileSync(path.join(p.dir, 'lockfile.json'), 'utf8'))
    expect(lock.layers.deps.artifacts['arm64+x86_64'].packages).toEqual({
      'node_modules/my-alias': {name: 'left-pad', version: '1.3.0', resolved: `${registry.url}left-pad/-/left-pad-1.3.0.tgz`, integrity: registry.integrity('left-pad', '1.3.0'), license: 'NOASSERTION'},
    })
    expect((await p.cli(['validate', '--json'])).status).toBe(0)
    const built = await p.cli(['build', '--json'])
    expect(built.stderr).toBe('')
    expect(built.status).toBe(0)
    const zip = built.json.artifacts[0].zipPath as string
    const manifest = JSON.parse(execFileSync('unzip', ['-p', zip, 'nodejs/node_modules/my-alias/package.json']).toString())
    expect(manifest).toMatchObject({name: 'left-pad', version: '1.3.0'})
    expect(execFileSync('unzip', ['-p', zip, 'nodejs/node_modules/my-alias/index.js']).toString()).toBe('module.exports = "left-pad 1.3.0"\n')
  })

  it.each([
    ['git+file:///tmp/repo.git', 'git'],
    ['github:someone/left-pad', 'git'],
    ['link:../outside', 'not a registry package'],
    ['https://example.com/left-pad.tgz', 'remote'],
    ['npm:git+ssh://git@github.com/a/b.git', 'not a registry package'],
  ])('validate refuses %s at its line (exit 2)', async (spec, what) => {
    const p = await project(`  deps:\n    npm:\n      left-pad: "${spec}"\n`)
    const validated = await p.cli(['validate'])
    expect(validated.status).toBe(2)
    expect(validated.stderr).toMatch(/layers\.yaml:10:17/)
    expect(validated.stderr).toContain('UNSUPPORTED_SPEC')
    expect(validated.stderr).toContain(what)
  })
})
