// Workspaces and local packages in an npm layer, through the built CLI against the loopback registry:
// a root package.json with workspaces ["packages/*"] and two workspace packages in one layer (one
// depending on a registry package and, by range, on the other workspace, as npm links it). lock
// records each with `resolved: file:<path>` and the sha512 of what npm pack packs, twice byte for
// byte; build puts exactly the packed files in the zip (`files`, .npmignore, never node_modules);
// an edited packed file makes validate report the layer stale and build refuse until `layers lock`;
// a file: dependency outside the repository is refused with exit 2 naming the path. A function of the
// repository importing one of them (its node_modules links the workspace, as npm does) packages with
// its import check passing and no node_modules in its zip; one importing a workspace package no layer
// carries fails naming the import, the package and how to add it. pnpm-workspace.yaml lists the
// workspaces of a pnpm repository, `workspace:` aliases and a file: tarball lock and build.
import {execFileSync} from 'node:child_process'
import {mkdirSync, readFileSync, symlinkSync, writeFileSync} from 'node:fs'
import {createHash} from 'node:crypto'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {NpmRegistry} from '../support/npm-registry.js'
import {projectMaker, type Project} from './cli.js'

let registry: NpmRegistry

beforeAll(async () => {
  registry = await NpmRegistry.start()
  registry.publish('left-pad', {version: '1.3.0'})
})

afterAll(async () => {
  await registry.stop()
})

const project = projectMaker(() => registry.url)

async function workspaceLayout(p: Project): Promise<void> {
  await p.write('package.json', JSON.stringify({name: 'mono', private: true, workspaces: ['packages/*']}))
  await p.write('.gitignore', 'node_modules\n')
  await p.write('packages/a/package.json', JSON.stringify({name: '@acme/a', version: '1.0.0', main: 'lib/index.js', files: ['lib'], dependencies: {'left-pad': '^1.0.0', '@acme/b': '^1.0.0'}}))
  await p.write('packages/a/lib/index.js', 'module.exports = require("@acme/b")\n')
  await p.write('packages/a/src/index.ts', 'export {}\n')
  await p.write('packages/a/README.md', '# a\n')
  await p.write('packages/a/node_modules/junk/index.js', 'junk\n')
  await p.write('packages/b/package.json', JSON.stringify({name: '@acme/b', version: '1.2.0'}))
  await p.write('packages/b/.npmignore', '*.log\ntest/\n')
  await p.write('packages/b/index.js', 'module.exports = "b"\n')
  await p.write('packages/b/debug.log', 'noise\n')
  await p.write('packages/b/test/b.test.js', 'test\n')
  await p.write('packages/b/node_modules/x/index.js', 'x\n')
}

const FUNCTIONS = `functions:
  api:
    source: functions/api
    handler: index.handler
    runtime: nodejs20.x
    layers: [shared]
  orphan:
    source: functions/orphan
    handler: index.handler
    runtime: nodejs20.x
    layers: [shared]
`

async function functionLayout(p: Project): Promise<void> {
  await p.write('functions/api/package.json', JSON.stringify({name: 'api', private: true, dependencies: {'@acme/a': 'workspace:*'}}))
  await p.write('functions/api/index.js', 'const a = require("@acme/a")\nexports.handler = async () => a\n')
  // npm links workspaces into node_modules; the link leads out of the function's source.
  mkdirSync(path.join(p.dir, 'functions/api/node_modules/@acme'), {recursive: true})
  symlinkSync('../../../../packages/a', path.join(p.dir, 'functions/api/node_modules/@acme/a'))
  await p.write('packages/c/package.json', JSON.stringify({name: '@acme/c', version: '0.1.0'}))
  await p.write('packages/c/index.js', 'module.exports = "c"\n')
  await p.write('functions/orphan/index.js', '// uses c\nconst c = require("@acme/c")\nexports.handler = async () => c\n')
}

function zipList(zip: string): string[] {
  return execFileSync('unzip', ['-Z1', zip]).toString().trim().split('\n').sort()
}

describe('workspace packages in a layer', () => {
  it('are locked by the hash of what npm pack packs, built from their files, and refused once edited until locked again', async () => {
    const p = await project(`  shared:\n    defaultExcludes: false\n    npm:\n      "@acme/a": "workspace:*"\n      "@acme/b": "workspace:^1.0.0"\n${FUNCTIONS}`)
    await workspaceLayout(p)
    await functionLayout(p)
    const locked = await p.cli(['lock', '--json'])
    expect(locked.stderr).toBe('')
    expect(locked.status).toBe(0)
    const lockText = readFileSync(path.join(p.dir, 'lockfile.json'), 'utf8')
    const packages = JSON.parse(lockText).layers.shared.artifacts['arm64+x86_64'].packages
    expect(Object.keys(packages).sort()).toEqual(['node_modules/@acme/a', 'node_modules/@acme/b', 'node_modules/left-pad'])
    expect(packages['node_modules/@acme/a']).toMatchObject({name: '@acme/a', version: '1.0.0', resolved: 'file:packages/a', dependencies: {'left-pad': '^1.0.0', '@acme/b': '^1.0.0'}})
    expect(packages['node_modules/@acme/b']).toMatchObject({name: '@acme/b', version: '1.2.0', resolved: 'file:packages/b'})
    expect(packages['node_modules/@acme/a'].integrity).toMatch(/^sha512-[A-Za-z0-9+/]{86}==$/)

    // Locking again from scratch gives the same bytes.
    writeFileSync(path.join(p.dir, 'lockfile.json'), '{"lockfileVersion": 1, "layers": {}}\n')
    expect((await p.cli(['lock'])).status).toBe(0)
    expect(readFileSync(path.join(p.dir, 'lockfile.json'), 'utf8')).toBe(lockText)

    const built = await p.cli(['build', '--json'])
    expect(built.stderr).toBe('')
    expect(built.status).toBe(0)
    const zip = built.json.artifacts[0].zipPath as string
    expect(zipList(zip)).toEqual([
      'nodejs/node_modules/@acme/a/README.md',
      'nodejs/node_modules/@acme/a/lib/index.js',
      'nodejs/node_modules/@acme/a/package.json',
      'nodejs/node_modules/@acme/b/index.js',
      'nodejs/node_modules/@acme/b/package.json',
      'nodejs/node_modules/left-pad/index.js',
      'nodejs/node_modules/left-pad/package.json',
    ])
    expect(execFileSync('unzip', ['-p', zip, 'nodejs/node_modules/@acme/a/lib/index.js']).toString()).toBe('module.exports = require("@acme/b")\n')

    const packaged = await p.cli(['package', 'api', '--json'])
    expect(packaged.status, packaged.stderr).toBe(0)
    expect(packaged.json.imports.functions[0]).toMatchObject({function: 'api', imports: 1, problems: []})
    expect(zipList(packaged.json.functions[0].zipPath)).toEqual(['index.js', 'package.json'])
    const orphan = await p.cli(['package', 'orphan', '--json'])
    expect(orphan.status).toBe(2)
    expect(orphan.json.error.code).toBe('ERR_LAYERS_IMPORT_CHECK_FAILED')
    const problem = orphan.json.error.problems.find((found: {code: string}) => found.code === 'ERR_LAYERS_IMPORT_UNRESOLVED')
    expect(problem).toMatchObject({location: 'functions/orphan/index.js:2:19', message: expect.stringContaining("'@acme/c' is not a builtin, a file of function orphan, or a package of its layers (shared) (it is the workspace package @acme/c, packages/c, which none of them carries)")})
    expect(problem.hint).toContain('No layer in the manifest carries the workspace package @acme/c (packages/c): add "@acme/c": "workspace:*" to the npm dependencies of a layer of function orphan')
    // Importing the layer's other workspace package instead, the function is fine again (validate checks imports too).
    await p.write('functions/orphan/index.js', 'exports.handler = async () => require("@acme/b")\n')

    // A file outside what is packed changes nothing; a packed file makes the lock stale.
    await p.write('packages/a/src/index.ts', 'export const changed = 1\n')
    expect((await p.cli(['validate', '--json'])).json.lock.state).toBe('current')
    await p.write('packages/b/index.js', 'module.exports = "b, edited"\n')
    const validated = await p.cli(['validate', '--json'])
    expect(validated.json.lock).toMatchObject({state: 'stale', stale: ['shared'], localChanged: ['shared']})
    const refused = await p.cli(['build'])
    expect(refused.status).toBe(2)
    expect(refused.stderr).toContain('ERR_LAYERS_LOCAL_PACKAGE_CHANGED')
    expect(refused.stderr).toContain('@acme/b (file:packages/b')
    expect(refused.stderr).toContain('layers lock')
    expect((await p.cli(['lock'])).status).toBe(0)
    const rebuilt = await p.cli(['build', '--json'])
    expect(rebuilt.status, rebuilt.stderr).toBe(0)
    expect(execFileSync('unzip', ['-p', rebuilt.json.artifacts[0].zipPath, 'nodejs/node_modules/@acme/b/index.js']).toString()).toBe('module.exports = "b, edited"\n')
  })

  it('refuses a file: dependency outside the repository, and a symlink out of it, with exit 2 naming the path', async () => {
    const p = await project(`  shared:\n    npm: ./package.json\n`)
    await p.write('package.json', JSON.stringify({name: 'app', version: '1.0.0', dependencies: {outside: 'file:../outside'}}))
    const refused = await p.cli(['lock'])
    expect(refused.status).toBe(2)
    expect(refused.stderr).toContain('ERR_LAYERS_LOCAL_PACKAGE_OUTSIDE')
    expect(refused.stderr).toContain(path.join(path.dirname(p.dir), 'outside'))

    mkdirSync(path.join(path.dirname(p.dir), 'elsewhere'))
    writeFileSync(path.join(path.dirname(p.dir), 'elsewhere', 'package.json'), '{"name": "elsewhere", "version": "1.0.0"}')
    symlinkSync(path.join(path.dirname(p.dir), 'elsewhere'), path.join(p.dir, 'linked'))
    await p.write('package.json', JSON.stringify({name: 'app', version: '1.0.0', dependencies: {elsewhere: 'file:./linked'}}))
    const linked = await p.cli(['lock'])
    expect(linked.status).toBe(2)
    expect(linked.stderr).toContain('through a symlink')
    expect(linked.stderr).toContain(path.join(path.dirname(p.dir), 'elsewhere'))
  })

  it('reads pnpm-workspace.yaml, workspace: aliases, and a file: tarball locked by its sha512', async () => {
    const p = await project(`  shared:\n    defaultExcludes: false\n    npm: ./apps/api/package.json\n`)
    await p.write('pnpm-workspace.yaml', "packages:\n  - 'libs/*'\n")
    await p.write('package.json', JSON.stringify({name: 'mono', private: true}))
    await p.write('libs/util/package.json', JSON.stringify({name: '@acme/util', version: '2.0.0-rc.1'}))
    await p.write('libs/util/index.js', 'module.exports = "util"\n')
    await p.write('vendor/t/package/package.json', JSON.stringify({name: 'tarred', version: '1.0.0'}))
    await p.write('vendor/t/package/index.js', 'module.exports = "t"\n')
    execFileSync('tar', ['-czf', '../tarred-1.0.0.tgz', 'package'], {cwd: path.join(p.dir, 'vendor/t')})
    const deps = {'@acme/util': 'workspace:*', 'acme-util': 'workspace:@acme/util@^', tarred: 'file:../../vendor/tarred-1.0.0.tgz'}
    await p.write('apps/api/package.json', JSON.stringify({name: 'api', version: '1.0.0', dependencies: deps}))
    const locked = await p.cli(['lock'])
    expect(locked.status, locked.stderr).toBe(0)
    const packages = JSON.parse(readFileSync(path.join(p.dir, 'lockfile.json'), 'utf8')).layers.shared.artifacts['arm64+x86_64'].packages
    expect(packages['node_modules/@acme/util']).toMatchObject({version: '2.0.0-rc.1', resolved: 'file:libs/util'})
    expect(packages['node_modules/acme-util']).toMatchObject({name: '@acme/util', resolved: 'file:libs/util'})
    const tarball = readFileSync(path.join(p.dir, 'vendor/tarred-1.0.0.tgz'))
    expect(packages['node_modules/tarred']).toMatchObject({version: '1.0.0', resolved: 'file:vendor/tarred-1.0.0.tgz', integrity: `sha512-${createHash('sha512').update(tarball).digest('base64')}`})
    const built = await p.cli(['build', '--json'])
    expect(built.status, built.stderr).toBe(0)
    expect(zipList(built.json.artifacts[0].zipPath)).toEqual(expect.arrayContaining(['nodejs/node_modules/tarred/index.js', 'nodejs/node_modules/acme-util/index.js', 'nodejs/node_modules/@acme/util/index.js']))

    // A new tarball at the same path makes the layer stale.
    await p.write('vendor/t/package/index.js', 'module.exports = "t, rebuilt"\n')
    execFileSync('tar', ['-czf', '../tarred-1.0.0.tgz', 'package'], {cwd: path.join(p.dir, 'vendor/t')})
    expect((await p.cli(['validate', '--json'])).json.lock).toMatchObject({state: 'stale', localChanged: ['shared']})

  })
})
