import {execFileSync} from 'node:child_process'
import {createServer, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'
import {existsSync} from 'node:fs'
import {mkdir, mkdtemp, readdir, readFile, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {buildLayers, type BuildOptions} from '../../src/build/build.js'
import {pacoteTarballSource, type TarballSource} from '../../src/build/npm.js'
import {collectEvents} from '../../src/events.js'
import type {LockedPackage} from '../../src/lock/types.js'
import {packageJson, writeFixturePackage, type FixturePackage} from './fixtures.js'
import {lockOf, manifestOf, npmLayer} from './project.js'

let dir: string
let server: Server
let baseUrl: string
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'layers-npm-build-'))
  // pacote fetches registry tarballs only (never file: specs): the fixtures' .tgz files are served over loopback http.
  server = createServer((request, response) => {
    readFile(path.join(dir, decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname))).then(
      (bytes) => response.writeHead(200, {'content-type': 'application/octet-stream'}).end(bytes),
      () => response.writeHead(404).end(),
    )
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
})
afterEach(async () => {
  server.closeAllConnections()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  await rm(dir, {recursive: true, force: true, maxRetries: 5})
})

/** Writes the fixture's .tgz and returns its lock entry with the http URL it is served at. */
async function servedPackage(tarballs: string, fixture: FixturePackage): Promise<LockedPackage> {
  const locked = await writeFixturePackage(tarballs, fixture)
  return {...locked, resolved: baseUrl + path.relative(dir, locked.resolved.slice('file:'.length)).split(path.sep).map(encodeURIComponent).join('/')}
}

/** A pacote source over the served tarballs that counts fetches. */
function countingSource(cache: string): TarballSource & {fetched: string[]} {
  const inner = pacoteTarballSource({cache})
  const fetched: string[] = []
  return {
    fetched,
    stream(pkg, handler) {
      fetched.push(pkg.name)
      return inner.stream(pkg, handler)
    },
  }
}

async function fixturePackages(tarballs: string): Promise<Record<string, LockedPackage>> {
  const fixtures: Array<[string, FixturePackage]> = [
    [
      'node_modules/a',
      {
        name: 'a',
        version: '1.0.0',
        files: {
          'package.json': packageJson('a', '1.0.0', {main: 'lib/index.js', bin: {acli: 'bin/cli.js'}, dependencies: {b: '^1.0.0'}}),
          'lib/index.js': "module.exports = {name: 'a', b: require('b').version, alias: require('./alias.js')}\n",
          'lib/value.js': "module.exports = 'value'\n",
          'lib/docs/kept.js': 'module.exports = 1\n',
          'lib/index.d.ts': 'export {}\n',
          'lib/index.js.map': '{}',
          'lib/notes.txt': 'drop me',
          'lib/keep.txt': 'keep me',
          'lib/extra.js': 'excluded by glob',
          'README.md': '# a',
          'LICENSE.md': 'MIT',
          'test/a.test.js': 'test',
          'docs/guide.md': 'guide',
          '.github/workflows/ci.yml': 'ci',
          'tsconfig.json': '{}',
          'bin/cli.js': '#!/usr/bin/env node\n',
        },
        links: {'lib/alias.js': 'value.js'},
        lock: {bin: {acli: 'bin/cli.js'}},
      },
    ],
    [
      'node_modules/a/node_modules/b',
      {name: 'b', version: '1.0.0', files: {'package.json': packageJson('b', '1.0.0'), 'index.js': "exports.version = '1.0.0'\n"}},
    ],
    [
      'node_modules/b',
      {
        name: 'b',
        version: '2.0.0',
        files: {
          'package.json': packageJson('b', '2.0.0', {type: 'module', exports: {'.': {types: './index.d.ts', import: './esm/index.js', require: './cjs/index.cjs'}}}),
          'esm/index.js': "export const version = '2.0.0'\n",
          'cjs/index.cjs': "exports.version = '2.0.0'\n",
          'index.d.ts': 'export declare const version: string\n',
        },
      },
    ],
    [
      'node_modules/c',
      {
        name: 'c',
        version: '1.0.0',
        files: {
          'package.json': packageJson('c', '1.0.0', {bundleDependencies: ['d']}),
          'index.js': "module.exports = require('d')\n",
          'node_modules/d/package.json': packageJson('d', '3.0.0', {main: 'docs/main.js'}),
          'node_modules/d/docs/main.js': "module.exports = 'd from docs'\n",
          'node_modules/d/README.md': 'readme',
        },
      },
    ],
    ['node_modules/c/node_modules/d', {name: 'd', version: '3.0.0', raw: Buffer.from('never fetched'), lock: {inBundle: true}}],
    ['node_modules/test', {name: 'test', version: '1.0.0', files: {'package.json': packageJson('test', '1.0.0'), 'index.js': "module.exports = 'test pkg'\n"}}],
    [
      'node_modules/scripted',
      {
        name: 'scripted',
        version: '1.0.0',
        files: {'package.json': packageJson('scripted', '1.0.0', {scripts: {install: 'node-gyp rebuild'}}), 'index.js': "module.exports = 'scripted'\n"},
        lock: {hasInstallScript: true},
      },
    ],
  ]
  const packages: Record<string, LockedPackage> = {}
  for (const [lockPath, fixture] of fixtures) packages[lockPath] = await servedPackage(path.join(tarballs, lockPath.replaceAll('/', '_')), fixture)
  return packages
}

async function project(root: string, packages: Record<string, LockedPackage>, layerOverrides = {}) {
  await mkdir(root, {recursive: true})
  const manifest = manifestOf(root, [npmLayer('deps', {exclude: ['**/*.txt', '!**/keep.txt', 'nodejs/node_modules/a/lib/extra.js'], ...layerOverrides})])
  const lock = lockOf({deps: {kind: 'npm', artifacts: {'arm64+x86_64': {architectures: ['arm64', 'x86_64'], packages}}}})
  return {manifest, lock}
}

function options(root: string, source: TarballSource, emit = collectEvents().emit): BuildOptions {
  return {stateDir: path.join(root, '.layers'), emit, tarballSource: source, staleLayers: () => []}
}

function zipNames(zip: string): string[] {
  return execFileSync('zipinfo', ['-1', zip]).toString().trim().split('\n')
}

describe('npm layer build', () => {
  it('lays out, prunes, keeps entry points, warns about install scripts, and loads on the Lambda NODE_PATH', async () => {
    const packages = await fixturePackages(path.join(dir, 'tarballs'))
    const root = path.join(dir, 'project')
    const {manifest, lock} = await project(root, packages)
    const events = collectEvents()
    const source = countingSource(path.join(dir, 'cache'))
    const [built, ...others] = await buildLayers(manifest, lock, options(root, source, events.emit))
    expect(others).toEqual([])
    expect(built).toMatchObject({layer: 'deps', artifactKey: 'arm64+x86_64', architectures: ['arm64', 'x86_64'], packages: 7, cached: false})
    expect(source.fetched.sort()).toEqual(['a', 'b', 'b', 'c', 'scripted', 'test'])
    expect(built!.zipPath).toBe(path.join(root, '.layers', 'build', 'deps', 'arm64+x86_64', `${built!.sha256Hex}.zip`))
    execFileSync('unzip', ['-tq', built!.zipPath])
    const names = zipNames(built!.zipPath)
    expect(names).toEqual([...names].sort())
    expect(names).toEqual([
      'nodejs/node_modules/a/LICENSE.md',
      'nodejs/node_modules/a/bin/cli.js',
      'nodejs/node_modules/a/lib/alias.js',
      'nodejs/node_modules/a/lib/docs/kept.js',
      'nodejs/node_modules/a/lib/index.js',
      'nodejs/node_modules/a/lib/keep.txt',
      'nodejs/node_modules/a/lib/value.js',
      'nodejs/node_modules/a/node_modules/b/index.js',
      'nodejs/node_modules/a/node_modules/b/package.json',
      'nodejs/node_modules/a/package.json',
      'nodejs/node_modules/b/cjs/index.cjs',
      'nodejs/node_modules/b/esm/index.js',
      'nodejs/node_modules/b/package.json',
      'nodejs/node_modules/c/index.js',
      'nodejs/node_modules/c/node_modules/d/docs/main.js',
      'nodejs/node_modules/c/node_modules/d/package.json',
      'nodejs/node_modules/c/package.json',
      'nodejs/node_modules/scripted/index.js',
      'nodejs/node_modules/scripted/package.json',
      'nodejs/node_modules/test/index.js',
      'nodejs/node_modules/test/package.json',
    ])
    expect(built!.files).toBe(names.length)
    const modes = execFileSync('zipinfo', ['-s', built!.zipPath]).toString()
    expect(modes).toMatch(/-rwxr-xr-x .* nodejs\/node_modules\/a\/bin\/cli\.js/)
    expect(modes).toMatch(/-rw-r--r-- .* nodejs\/node_modules\/a\/lib\/index\.js/)
    expect(events.warnings()).toEqual([expect.objectContaining({code: 'ERR_LAYERS_INSTALL_SCRIPT_NOT_RUN', message: expect.stringContaining('scripted@1.0.0')})])

    // Extract as Lambda does into /opt and load every top-level dependency, CJS and ESM.
    const opt = path.join(dir, 'opt')
    execFileSync('unzip', ['-q', built!.zipPath, '-d', opt])
    const nodePath = [path.join(opt, 'nodejs/node22/node_modules'), path.join(opt, 'nodejs/node_modules'), '/var/runtime/node_modules', '/var/runtime', '/var/task'].join(':')
    const task = path.join(dir, 'task')
    await mkdir(task)
    const script = `
      const top = ${JSON.stringify(['a', 'b', 'c', 'test', 'scripted'])}
      const out = {}
      for (const name of top) out[name] = require(name)
      Promise.all(top.map((name) => import(require.resolve(name)))).then((mods) => {
        out.imported = mods.map((mod) => typeof mod)
        out.esmB = mods[1].version
        process.stdout.write(JSON.stringify(out))
      })`
    const loaded = JSON.parse(execFileSync(process.execPath, ['-e', script], {cwd: task, env: {...process.env, NODE_PATH: nodePath}}).toString())
    expect(loaded).toEqual({
      a: {name: 'a', b: '1.0.0', alias: 'value'},
      b: {version: '2.0.0'},
      c: 'd from docs',
      test: 'test pkg',
      scripted: 'scripted',
      imported: ['object', 'object', 'object', 'object', 'object'],
      esmB: '2.0.0',
    })
  })

  it('hits the cache on an unchanged layer without fetching, and rebuilds when the prune config changes', async () => {
    const packages = await fixturePackages(path.join(dir, 'tarballs'))
    const root = path.join(dir, 'project')
    const {manifest, lock} = await project(root, packages)
    const first = await buildLayers(manifest, lock, options(root, countingSource(path.join(dir, 'cache'))))
    const source = countingSource(path.join(dir, 'cache'))
    const second = await buildLayers(manifest, lock, options(root, source))
    expect(source.fetched).toEqual([])
    expect(second).toEqual([{...first[0], cached: true}])
    const changed = await project(root, packages, {defaultExcludes: false})
    const third = await buildLayers(changed.manifest, changed.lock, options(root, source))
    expect(third[0]!.cached).toBe(false)
    expect(third[0]!.files).toBeGreaterThan(first[0]!.files)
    expect(zipNames(third[0]!.zipPath)).toContain('nodejs/node_modules/a/README.md')
    // A zip removed by hand is rebuilt, not trusted.
    await rm(first[0]!.zipPath)
    const fourth = await buildLayers(manifest, lock, options(root, source))
    expect(fourth[0]).toEqual({...first[0], cached: false})
  })

  it('builds byte-identical zips in two directories with different TZ, and whatever the memory budget', async () => {
    const tarballs = path.join(dir, 'tarballs')
    const packages = await fixturePackages(tarballs)
    const results = []
    const tz = process.env.TZ
    try {
      for (const [sub, zone] of [['one', 'Asia/Tokyo'], ['two/nested', 'America/St_Johns']] as const) {
        process.env.TZ = zone
        const root = path.join(dir, sub)
        const {manifest, lock} = await project(root, packages)
        results.push((await buildLayers(manifest, lock, options(root, countingSource(path.join(dir, `cache-${zone.replace('/', '_')}`)))))[0]!)
      }
    } finally {
      if (tz === undefined) delete process.env.TZ
      else process.env.TZ = tz
    }
    expect(results[0]!.codeSha256).toBe(results[1]!.codeSha256)
    expect((await readFile(results[0]!.zipPath)).equals(await readFile(results[1]!.zipPath))).toBe(true)
    // With no memory budget every file goes through the on-disk spool: same bytes, spool removed after.
    const root = path.join(dir, 'spooled')
    const {manifest, lock} = await project(root, packages)
    const [spooled] = await buildLayers(manifest, lock, {...options(root, countingSource(path.join(dir, 'cache-spool'))), memoryBudget: 0})
    expect(spooled!.codeSha256).toBe(results[0]!.codeSha256)
    expect(await leftovers(root)).toEqual(['deps', `deps/arm64+x86_64`, `deps/arm64+x86_64/${spooled!.sha256Hex}.zip`])
  })

  it('refuses hostile tarballs and leaves nothing in .layers/build', async () => {
    const tarballs = path.join(dir, 'tarballs')
    const cases: Array<[string, FixturePackage, RegExp]> = [
      ['dotdot', {name: 'evil', version: '1.0.0', entries: [{path: 'package/package.json', content: '{}'}, {path: 'package/../../etc/x', content: 'x'}]}, /path escaping the package/],
      ['absolute', {name: 'evil', version: '1.0.1', entries: [{path: '/etc/passwd', content: 'x'}]}, /absolute path/],
      ['symlink', {name: 'evil', version: '1.0.2', entries: [{path: 'package/link', type: 'SymbolicLink', linkpath: '../../../../etc/passwd'}]}, /link package\/link|link link/],
      ['hardlink', {name: 'evil', version: '1.0.3', entries: [{path: 'package/hard', type: 'Link', linkpath: '/etc/passwd'}]}, /escaping the package/],
    ]
    for (const [label, fixture, message] of cases) {
      const good = await servedPackage(path.join(tarballs, 'good'), {name: 'good', version: '1.0.0', files: {'package.json': packageJson('good', '1.0.0'), 'index.js': '1'}})
      const evil = await servedPackage(path.join(tarballs, label), fixture)
      const root = path.join(dir, label)
      const {manifest, lock} = await project(root, {'node_modules/evil': evil, 'node_modules/good': good})
      const error = await buildLayers(manifest, lock, options(root, countingSource(path.join(dir, 'cache')))).catch((caught: unknown) => caught)
      expect(error, label).toMatchObject({code: 'ERR_LAYERS_PACKAGE_UNSAFE', exitCode: 2, details: {layer: 'deps', package: 'evil'}})
      expect((error as Error).message, label).toMatch(/Layer deps: the tarball of evil@1\.0\./)
      expect((error as Error).message, label).toMatch(message)
      expect(await leftovers(root), label).toEqual([])
    }
  })

  it('never fetches what the lockfile may not ask for: no integrity, file: and git sources, unsafe paths and artifact keys', async () => {
    const tarballs = path.join(dir, 'tarballs')
    const good = await servedPackage(path.join(tarballs, 'good'), {name: 'good', version: '1.0.0', files: {'package.json': packageJson('good', '1.0.0')}})
    // A swapped tarball with the integrity emptied: pacote would verify nothing.
    const swapped = await servedPackage(path.join(tarballs, 'swapped'), {name: 'good', version: '1.0.0', files: {'package.json': packageJson('good', '1.0.0'), 'evil.js': 'evil'}})
    const cases: Array<[string, Record<string, LockedPackage>, RegExp]> = [
      ['no integrity', {'node_modules/good': {...swapped, integrity: ''}}, /good@1\.0\.0 in lockfile\.json has no integrity/],
      ['file', {'node_modules/good': {...good, resolved: `file:${path.join(tarballs, 'good')}`}}, /has resolved "file:.*not a registry tarball URL/],
      // A git source: pacote would run git ls-remote and git clone for it.
      ['git', {'node_modules/good': {...good, resolved: `git+ssh://git@127.0.0.1/x.git`}}, /has resolved "git\+ssh:.*not a registry tarball URL/],
      ['dotdot', {'node_modules/../../../escape': good}, /package path "node_modules\/\.\.\/\.\.\/\.\.\/escape" has "\.\."/],
    ]
    for (const [label, packages, message] of cases) {
      const root = path.join(dir, label.replace(/ /g, '-'))
      const {manifest, lock} = await project(root, packages)
      const source = countingSource(path.join(dir, 'cache'))
      const error = await buildLayers(manifest, lock, {...options(root, source)}).catch((caught: unknown) => caught)
      expect(error, label).toMatchObject({code: 'ERR_LAYERS_LOCKFILE_UNSAFE', exitCode: 2})
      expect((error as Error).message, label).toMatch(message)
      expect(await leftovers(root), label).toEqual([])
    }
    const root = path.join(dir, 'escape-key')
    const {manifest} = await project(root, {})
    const escaping = lockOf({deps: {kind: 'npm', artifacts: {'../../../../escape-zone': {architectures: ['x86_64'], packages: {'node_modules/good': good}}}}})
    await expect(buildLayers(manifest, escaping, options(root, countingSource(path.join(dir, 'cache'))))).rejects.toMatchObject({code: 'ERR_LAYERS_LOCKFILE_UNSAFE', message: expect.stringContaining('../../../../escape-zone')})
    expect(existsSync(path.join(dir, 'escape-zone'))).toBe(false)
    expect(await leftovers(root)).toEqual([])
  })

  it('refuses a tarball that is another package than the lock names (integrity swapped for another package\'s), fresh or from the cache', async () => {
    const tarballs = path.join(dir, 'tarballs')
    const good = await servedPackage(path.join(tarballs, 'good'), {name: 'good', version: '1.0.0', files: {'package.json': packageJson('good', '1.0.0')}})
    const evil = await servedPackage(path.join(tarballs, 'evil'), {name: 'evil', version: '6.6.6', files: {'package.json': packageJson('evil', '6.6.6'), 'evil.js': 'evil'}})
    const cache = path.join(dir, 'cache')
    // Warm the cache with evil's tarball, as any earlier build of a layer that uses it does.
    const warm = await project(path.join(dir, 'warm'), {'node_modules/evil': evil})
    await buildLayers(warm.manifest, warm.lock, options(path.join(dir, 'warm'), countingSource(cache)))
    const cases: Array<[string, LockedPackage]> = [
      ['integrity and resolved of evil', {...good, resolved: evil.resolved, integrity: evil.integrity}],
      ['integrity of evil only (served from the cache)', {...good, integrity: evil.integrity}],
    ]
    for (const [label, locked] of cases) {
      const root = path.join(dir, label.replace(/\W+/g, '-'))
      const {manifest, lock} = await project(root, {'node_modules/good': locked})
      const error = await buildLayers(manifest, lock, options(root, countingSource(cache))).catch((caught: unknown) => caught)
      expect(error, label).toMatchObject({code: 'ERR_LAYERS_PACKAGE_MISMATCH', exitCode: 2, details: {layer: 'deps', package: 'good', found: 'evil@6.6.6'}})
      expect((error as Error).message, label).toContain('locks good@1.0.0 at node_modules/good')
      expect(await leftovers(root), label).toEqual([])
    }
  })

  it('fails on a corrupt tarball or an integrity mismatch, naming layer and package, leaving nothing behind', async () => {
    const tarballs = path.join(dir, 'tarballs')
    const corrupt = await servedPackage(path.join(tarballs, 'corrupt'), {name: 'broken', version: '1.0.0', raw: Buffer.from('this is not a gzip file at all')})
    const root = path.join(dir, 'corrupt')
    const first = await project(root, {'node_modules/broken': corrupt})
    const error = await buildLayers(first.manifest, first.lock, options(root, countingSource(path.join(dir, 'cache')))).catch((caught: unknown) => caught)
    expect(error).toMatchObject({code: 'ERR_LAYERS_TARBALL_CORRUPT', exitCode: 1, details: {layer: 'deps', package: 'broken'}})
    expect((error as Error).message).toContain('broken@1.0.0 (node_modules/broken) of layer deps')
    expect(await leftovers(root)).toEqual([])

    const good = await servedPackage(path.join(tarballs, 'good'), {name: 'good', version: '1.0.0', files: {'package.json': packageJson('good', '1.0.0')}})
    const tampered = {...good, integrity: 'sha512-' + Buffer.alloc(64, 7).toString('base64')}
    const second = await project(path.join(dir, 'tampered'), {'node_modules/good': tampered})
    const mismatch = await buildLayers(second.manifest, second.lock, options(path.join(dir, 'tampered'), countingSource(path.join(dir, 'cache2')))).catch((caught: unknown) => caught)
    expect(mismatch).toMatchObject({code: 'ERR_LAYERS_INTEGRITY_MISMATCH', exitCode: 1, details: {layer: 'deps', package: 'good'}})
    expect(await leftovers(path.join(dir, 'tampered'))).toEqual([])
  })

  it('stores in-package symlinks as copies and drops dangling ones with a warning', async () => {
    const linked = await servedPackage(path.join(dir, 'tarballs'), {
      name: 'linked',
      version: '1.0.0',
      entries: [
        {path: 'package/package.json', content: packageJson('linked', '1.0.0')},
        {path: 'package/lib/real.js', content: "module.exports = 'real'\n", mode: 0o755},
        {path: 'package/index.js', type: 'SymbolicLink', linkpath: 'lib/real.js'},
        {path: 'package/alias', type: 'SymbolicLink', linkpath: 'lib'},
        {path: 'package/hard.js', type: 'Link', linkpath: 'package/lib/real.js'},
        {path: 'package/gone.js', type: 'SymbolicLink', linkpath: 'nowhere.js'},
      ],
    })
    const root = path.join(dir, 'project')
    const {manifest, lock} = await project(root, {'node_modules/linked': linked})
    const events = collectEvents()
    const [built] = await buildLayers(manifest, lock, options(root, countingSource(path.join(dir, 'cache')), events.emit))
    expect(zipNames(built!.zipPath)).toEqual([
      'nodejs/node_modules/linked/alias/real.js',
      'nodejs/node_modules/linked/hard.js',
      'nodejs/node_modules/linked/index.js',
      'nodejs/node_modules/linked/lib/real.js',
      'nodejs/node_modules/linked/package.json',
    ])
    expect(execFileSync('unzip', ['-p', built!.zipPath, 'nodejs/node_modules/linked/index.js']).toString()).toBe("module.exports = 'real'\n")
    expect(events.warnings()).toEqual([expect.objectContaining({code: 'ERR_LAYERS_LINK_DANGLING', message: expect.stringContaining('gone.js')})])
  })

  it('stops with "run layers lock" when the lock does not match the manifest', async () => {
    const root = path.join(dir, 'project')
    const {manifest, lock} = await project(root, {})
    await expect(buildLayers(manifest, lock, {...options(root, countingSource(dir)), staleLayers: (names) => names})).rejects.toMatchObject({
      code: 'ERR_LAYERS_LOCK_STALE',
      exitCode: 2,
      hint: expect.stringContaining('layers lock'),
    })
    await expect(buildLayers(manifest, {lockfileVersion: 1, layers: {}}, options(root, countingSource(dir)))).rejects.toMatchObject({code: 'ERR_LAYERS_LOCK_STALE'})
    await expect(buildLayers(manifest, lock, {...options(root, countingSource(dir)), layers: ['nope']})).rejects.toMatchObject({code: 'ERR_LAYERS_UNKNOWN_LAYER'})
    expect(existsSync(path.join(root, '.layers', 'build'))).toBe(false)
  })
})

async function leftovers(root: string): Promise<string[]> {
  const build = path.join(root, '.layers', 'build')
  if (!existsSync(build)) return []
  return (await readdir(build, {recursive: true})).map(String)
}
