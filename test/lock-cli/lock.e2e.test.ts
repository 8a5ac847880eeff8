import {execFileSync} from 'node:child_process'
import {copyFileSync, existsSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import {mkdir} from 'node:fs/promises'
import path from 'node:path'
import {Ajv} from 'ajv'
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'
import {NpmRegistry} from '../support/npm-registry.js'
import {makeProject, manifestWith, type Project} from './cli.js'

const TOKEN = 'npm_s3cr3tT0kenForTheLoopbackRegistry0001'
const schema = JSON.parse(readFileSync(path.resolve(import.meta.dirname, '../../schema/lock.schema.json'), 'utf8'))
const validate = new Ajv({allErrors: true}).compile(schema)

let registry: NpmRegistry
const projects: Project[] = []

beforeAll(async () => {
  registry = await NpmRegistry.start()
  registry
    .publish('leaf', {version: '1.0.0'})
    .publish('leaf', {version: '1.2.0'})
    .publish('leaf', {version: '2.0.0'})
    .publish('dep-chain', {version: '1.0.0', dependencies: {leaf: '^1.0.0'}, files: {'index.js': "module.exports = {leaf: require('leaf').version}\n"}})
    .publish('cjs-lib', {version: '1.0.0', dependencies: {'dep-chain': '^1.0.0'}, main: 'lib/main.js', files: {'lib/main.js': "module.exports = {cjs: true, chain: require('dep-chain')}\n"}})
    .publish('esm-lib', {
      version: '1.0.0',
      type: 'module',
      exports: {'.': {import: './index.js', require: './index.cjs'}},
      files: {'index.js': "export const kind = 'esm'\n", 'index.cjs': "exports.kind = 'cjs'\n"},
    })
    .publish('conflict-user', {version: '1.0.0', dependencies: {leaf: '^2.0.0'}, files: {'index.js': "module.exports = {leaf: require('leaf').version}\n"}})
    .publish('peer-host', {version: '1.4.0'})
    .publish('peer-host', {version: '2.0.0'})
    .publish('peer-plugin', {version: '1.0.0', peerDependencies: {'peer-host': '^1.0.0'}, files: {'index.js': "module.exports = {host: require('peer-host').version}\n"}})
    .publish('with-native', {
      version: '1.0.0',
      optionalDependencies: {'with-native-linux-x64': '1.0.0', 'with-native-linux-arm64': '1.0.0', 'with-native-darwin-x64': '1.0.0', 'with-native-linux-x64-musl': '1.0.0'},
      files: {
        'index.js': "let found = []\nfor (const n of ['with-native-linux-x64', 'with-native-linux-arm64', 'with-native-darwin-x64', 'with-native-linux-x64-musl']) { try { found.push(require(n).name) } catch {} }\nmodule.exports = {native: found}\n",
      },
    })
    .publish('with-native-linux-x64', {version: '1.0.0', os: ['linux'], cpu: ['x64'], libc: ['glibc']})
    .publish('with-native-linux-x64-musl', {version: '1.0.0', os: ['linux'], cpu: ['x64'], libc: ['musl']})
    .publish('with-native-linux-arm64', {version: '1.0.0', os: ['linux'], cpu: ['arm64'], libc: ['glibc']})
    .publish('with-native-darwin-x64', {version: '1.0.0', os: ['darwin'], cpu: ['x64']})
    .publish('bundling', {
      version: '1.0.0',
      dependencies: {'bundled-inner': '^1.0.0'},
      bundleDependencies: ['bundled-inner'],
      bundled: {'node_modules/bundled-inner': {name: 'bundled-inner', version: '1.0.0', files: {'index.js': "module.exports = 'inner from the bundle'\n"}}},
      files: {'index.js': "module.exports = {inner: require('bundled-inner')}\n"},
    })
    .publish('cli-tool', {version: '1.0.0', bin: {'cli-tool': 'bin/cli.js'}, files: {'bin/cli.js': '#!/usr/bin/env node\nconsole.log("tool")\n', 'index.js': 'module.exports = "tool"\n'}})
    .publish('needs-build', {version: '1.0.0', scripts: {install: 'node-gyp rebuild'}})
    .publish('@private/secret', {version: '1.0.0'})
    .publish('corrupt', {version: '1.0.0', corrupt: true})
    .publish('traversal', {version: '1.0.0', entries: [{path: 'package/package.json', content: '{"name":"traversal","version":"1.0.0"}'}, {path: 'package/../../escape.js', content: 'evil'}]})
    .publish('up-a', {version: '1.0.0', dependencies: {'up-b': '^1.0.0'}})
    .publish('up-b', {version: '1.0.0'})
    .requireToken('@private', TOKEN)
})

afterAll(async () => {
  await registry.stop()
})

afterEach(async () => {
  registry.failNext(0)
  while (projects.length > 0) await projects.pop()!.cleanup()
})

const PRIVATE_NPMRC = (url: string): string => `@private:registry=${url}\n//${new URL(url).host}/:_authToken=\${PRIVATE_TOKEN}\n`

async function project(layers: string, npmrc = '', registryUrl = registry.url): Promise<Project> {
  const created = await makeProject(registryUrl, manifestWith(layers), npmrc)
  projects.push(created)
  return created
}

const ALL_DEPS = `  deps:
    npm:
      cjs-lib: ^1.0.0
      esm-lib: ^1.0.0
      conflict-user: ^1.0.0
      peer-plugin: ^1.0.0
      with-native: ^1.0.0
      bundling: ^1.0.0
      cli-tool: ^1.0.0
      needs-build: ^1.0.0
      "@private/secret": ^1.0.0
`
const TOP_LEVEL = ['cjs-lib', 'esm-lib', 'conflict-user', 'peer-plugin', 'with-native', 'bundling', 'cli-tool', 'needs-build', '@private/secret']

function lockOf(p: Project): any { // eslint-disable-line @typescript-eslint/no-explicit-any
  return JSON.parse(readFileSync(path.join(p.dir, 'lockfile.json'), 'utf8'))
}

describe('layers lock', () => {
  it('locks per target platform, builds, and the layer loads on the Lambda NODE_PATH', async () => {
    const p = await project(ALL_DEPS, PRIVATE_NPMRC(registry.url))
    const env = {PRIVATE_TOKEN: TOKEN}
    const locked = await p.cli(['lock', '--json'], env)
    expect(locked.stderr).toBe('')
    expect(locked.status).toBe(0)
    expect(validate(locked.json), JSON.stringify(validate.errors)).toBe(true)
    expect(locked.json.written).toBe(true)
    expect(locked.json.layers).toEqual([
      {layer: 'deps', kind: 'npm', status: 'locked', artifacts: [
        {artifactKey: 'arm64', architectures: ['arm64'], packages: 15},
        {artifactKey: 'x86_64', architectures: ['x86_64'], packages: 15},
      ]},
    ])
    expect(locked.json.warnings).toEqual([expect.objectContaining({code: 'ERR_LAYERS_INSTALL_SCRIPT_NOT_RUN', message: expect.stringContaining('needs-build@1.0.0')})])

    const text = readFileSync(path.join(p.dir, 'lockfile.json'), 'utf8')
    expect(text).not.toContain(TOKEN)
    const x64 = lockOf(p).layers.deps.artifacts.x86_64.packages
    expect(Object.fromEntries(Object.entries(x64).map(([key, pkg]) => [key, (pkg as {version: string}).version]))).toEqual({
      'node_modules/@private/secret': '1.0.0',
      'node_modules/bundling': '1.0.0',
      'node_modules/bundling/node_modules/bundled-inner': '1.0.0',
      'node_modules/cjs-lib': '1.0.0',
      'node_modules/cli-tool': '1.0.0',
      'node_modules/conflict-user': '1.0.0',
      'node_modules/dep-chain': '1.0.0',
      'node_modules/dep-chain/node_modules/leaf': '1.2.0',
      'node_modules/esm-lib': '1.0.0',
      'node_modules/leaf': '2.0.0',
      'node_modules/needs-build': '1.0.0',
      'node_modules/peer-host': '1.4.0',
      'node_modules/peer-plugin': '1.0.0',
      'node_modules/with-native': '1.0.0',
      'node_modules/with-native-linux-x64': '1.0.0',
    })
    expect(x64['node_modules/leaf']).toEqual({name: 'leaf', version: '2.0.0', resolved: `${registry.url}leaf/-/leaf-2.0.0.tgz`, integrity: registry.integrity('leaf', '2.0.0'), license: 'NOASSERTION'})
    expect(x64['node_modules/with-native-linux-x64']).toMatchObject({optional: true, os: ['linux'], cpu: ['x64'], libc: ['glibc']})
    expect(x64['node_modules/bundling/node_modules/bundled-inner']).toMatchObject({inBundle: true, integrity: registry.integrity('bundling', '1.0.0')})
    expect(x64['node_modules/cli-tool'].bin).toEqual({'cli-tool': 'bin/cli.js'})
    expect(x64['node_modules/needs-build'].hasInstallScript).toBe(true)
    expect(Object.keys(lockOf(p).layers.deps.artifacts.arm64.packages)).toContain('node_modules/with-native-linux-arm64')

    const human = await p.cli(['lock'], env)
    expect(human.status).toBe(0)
    expect(human.stdout).toMatch(/deps\s+npm\s+arm64\s+15\s+unchanged/)
    expect(human.stdout).toContain('lockfile.json is up to date')

    const built = await p.cli(['build', '--json'], env)
    expect(built.status).toBe(0)
    const artifact = built.json.artifacts.find((candidate: {artifactKey: string}) => candidate.artifactKey === 'x86_64')
    const opt = path.join(p.dir, '..', 'opt')
    execFileSync('unzip', ['-q', artifact.zipPath, '-d', opt])
    const nodePath = [path.join(opt, 'nodejs/node20/node_modules'), path.join(opt, 'nodejs/node_modules'), '/var/runtime/node_modules', '/var/runtime', '/var/task'].join(':')
    const task = path.join(p.dir, '..', 'task')
    await mkdir(task)
    const required = JSON.parse(
      execFileSync(process.execPath, ['-e', `const out = {}; for (const name of ${JSON.stringify(TOP_LEVEL)}) out[name] = require(name); process.stdout.write(JSON.stringify(out))`], {
        cwd: task,
        env: {PATH: process.env.PATH, NODE_PATH: nodePath},
      }).toString(),
    )
    expect(required).toEqual({
      'cjs-lib': {cjs: true, chain: {leaf: '1.2.0'}},
      'esm-lib': {kind: 'cjs'},
      'conflict-user': {leaf: '2.0.0'},
      'peer-plugin': {host: '1.4.0'},
      'with-native': {native: ['with-native-linux-x64']},
      bundling: {inner: 'inner from the bundle'},
      'cli-tool': 'tool',
      'needs-build': {name: 'needs-build', version: '1.0.0'},
      '@private/secret': {name: '@private/secret', version: '1.0.0'},
    })
    // ES module imports resolve from a module under /opt/nodejs through node_modules, with `exports` conditions.
    const check = path.join(opt, 'nodejs', 'check.mjs')
    writeFileSync(check, `const out = {}\nfor (const name of ${JSON.stringify(TOP_LEVEL)}) { const mod = await import(name); out[name] = mod.kind ?? mod.default?.kind ?? typeof mod.default }\nprocess.stdout.write(JSON.stringify(out))\n`)
    const imported = JSON.parse(execFileSync(process.execPath, [check], {cwd: task, env: {PATH: process.env.PATH}}).toString())
    expect(imported['esm-lib']).toBe('esm')
    expect(Object.keys(imported).sort()).toEqual([...TOP_LEVEL].sort())
  })

  it('builds byte-identical zips from the same lock in two directories at two different times', async () => {
    const p = await project(`  deps:\n    npm:\n      cjs-lib: ^1.0.0\n      esm-lib: ^1.0.0\n      cli-tool: ^1.0.0\n`)
    expect((await p.cli(['lock', '--json'])).status).toBe(0)
    const first = await p.cli(['build', '--json'], {TZ: 'UTC'})
    expect(first.status).toBe(0)
    const other = await project(`  deps:\n    npm:\n      cjs-lib: ^1.0.0\n      esm-lib: ^1.0.0\n      cli-tool: ^1.0.0\n`)
    copyFileSync(path.join(p.dir, 'lockfile.json'), path.join(other.dir, 'lockfile.json'))
    // Another clock: every Date the second build could read is 7 years and a bit later, in another zone.
    const shift = path.join(other.dir, '..', 'shift-date.mjs')
    writeFileSync(
      shift,
      `const Real = Date; const offset = 7 * 365 * 86400000 + 12345678;
       globalThis.Date = class extends Real { constructor(...args) { if (args.length === 0) super(Real.now() + offset); else super(...args) } static now() { return Real.now() + offset } }\n`,
    )
    const second = await other.cli(['build', '--json'], {TZ: 'Pacific/Kiritimati', NODE_OPTIONS: `--import=${shift}`})
    expect(second.status).toBe(0)
    const [a, b] = [first.json.artifacts[0], second.json.artifacts[0]]
    expect(a.zipPath).not.toBe(b.zipPath)
    expect(b.codeSha256).toBe(a.codeSha256)
    expect(readFileSync(b.zipPath).equals(readFileSync(a.zipPath))).toBe(true)
  })

  it('keeps locked versions, and --update moves a package or a layer to the newest match', async () => {
    const p = await project(`  deps:\n    npm:\n      up-a: ^1.0.0\n`)
    expect((await p.cli(['lock', '--json'])).status).toBe(0)
    // The inter-process lock is released (a lock directory left behind turned stale and broke later runs).
    expect(existsSync(path.join(p.dir, 'lockfile.json.lock'))).toBe(false)
    registry.publish('up-a', {version: '1.1.0', dependencies: {'up-b': '^1.0.0'}}).publish('up-b', {version: '1.1.0'})
    const versions = (): Record<string, string> =>
      Object.fromEntries(Object.entries(lockOf(p).layers.deps.artifacts['arm64+x86_64'].packages).map(([key, pkg]) => [key, (pkg as {version: string}).version]))
    const again = await p.cli(['lock', 'deps', '--json'])
    expect(again.json).toMatchObject({written: false, layers: [{layer: 'deps', status: 'locked'}]})
    expect(versions()).toEqual({'node_modules/up-a': '1.0.0', 'node_modules/up-b': '1.0.0'})

    const misuse = await p.cli(['lock', 'deps/up-b', '--json'])
    expect(misuse.status).toBe(2)
    expect(misuse.json.error.code).toBe('ERR_LAYERS_USAGE')
    const unknown = await p.cli(['lock', '--update', 'deps/nope', '--json'])
    expect(unknown.status).toBe(2)
    expect(unknown.json.error.code).toBe('ERR_LAYERS_UNKNOWN_PACKAGE')

    expect((await p.cli(['lock', '--update', 'deps/up-b', '--json'])).json.written).toBe(true)
    expect(versions()).toEqual({'node_modules/up-a': '1.0.0', 'node_modules/up-b': '1.1.0'})
    expect((await p.cli(['lock', '--update', '--json'])).status).toBe(0)
    expect(versions()).toEqual({'node_modules/up-a': '1.1.0', 'node_modules/up-b': '1.1.0'})
  })

  it('locks only layers whose manifest entry changed, records dir layers, drops removed layers', async () => {
    const p = await project(`  deps:\n    npm:\n      leaf: ^1.0.0\n  other:\n    npm:\n      leaf: ^2.0.0\n  files:\n    dir: ./files\n    architectures: [arm64]\n`)
    await p.write('files/hello.txt', 'hello')
    const first = await p.cli(['lock', '--json'])
    expect(first.status).toBe(0)
    expect(first.json.layers.map((layer: {layer: string; status: string}) => `${layer.layer}:${layer.status}`)).toEqual(['deps:locked', 'other:locked', 'files:locked'])
    expect(lockOf(p).layers.files).toMatchObject({kind: 'dir', artifacts: {arm64: {architectures: ['arm64']}}})
    await p.write('layers.yaml', manifestWith(`  deps:\n    npm:\n      leaf: ~1.0.0\n  files:\n    dir: ./files\n    architectures: [arm64]\n`))
    const second = await p.cli(['lock', '--json'])
    expect(second.json.layers.map((layer: {layer: string; status: string}) => `${layer.layer}:${layer.status}`)).toEqual(['deps:locked', 'files:unchanged'])
    expect(second.json.removed).toEqual(['other'])
    expect(Object.keys(lockOf(p).layers).sort()).toEqual(['deps', 'files'])
    expect(lockOf(p).layers.deps.artifacts['arm64+x86_64'].packages['node_modules/leaf'].version).toBe('1.0.0')
    const build = await p.cli(['build', '--json'])
    expect(build.status).toBe(0)
    const unknownLayer = await p.cli(['lock', 'nosuch', '--json'])
    expect(unknownLayer.status).toBe(2)
    expect(unknownLayer.json.error.code).toBe('ERR_LAYERS_UNKNOWN_LAYER')
  })
})

describe('layers lock and build failures', () => {
  async function failing(layers: string, args = ['lock', '--json'], env: NodeJS.ProcessEnv = {}, npmrc = '', url = registry.url) {
    const p = await project(layers, npmrc, url)
    return {p, result: await p.cli(args, env)}
  }

  it('names layer and package for an unknown package and a range nothing satisfies, and writes no lockfile', async () => {
    const {p, result} = await failing(`  deps:\n    npm:\n      leaf: ^1.0.0\n      no-such-package: ^1.0.0\n`)
    expect(result.status).toBe(2)
    expect(result.json.error.code).toBe('ERR_LAYERS_PACKAGE_NOT_FOUND')
    expect(result.json.error.message).toContain('Layer deps: no-such-package is not in the registry')
    expect(existsSync(path.join(p.dir, 'lockfile.json'))).toBe(false)
    const range = await failing(`  deps:\n    npm:\n      leaf: ^3.0.0\n`)
    expect(range.result.status).toBe(2)
    expect(range.result.json.error.code).toBe('ERR_LAYERS_NO_MATCHING_VERSION')
    expect(range.result.json.error.message).toMatch(/^Layer deps: No version of leaf satisfies \^3\.0\.0/)
    const human = await range.p.cli(['lock'])
    expect(human.stderr).toContain('ERR_LAYERS_NO_MATCHING_VERSION')
    expect(human.stderr).not.toMatch(/\n\s+at /)
  })

  it('retries a failing registry, recovers, and gives up with exit 1 when it stays down or is unreachable', async () => {
    registry.failNext(2, 503)
    const recovered = await failing(`  deps:\n    npm:\n      leaf: ^1.0.0\n`)
    expect(recovered.result.status).toBe(0)

    const before = registry.requests.length
    registry.failNext(1000, 503)
    const down = await failing(`  deps:\n    npm:\n      dep-chain: ^1.0.0\n`)
    expect(down.result.status).toBe(1)
    expect(down.result.json.error.code).toBe('ERR_LAYERS_REGISTRY_UNREACHABLE')
    expect(down.result.json.error.message).toContain('Layer deps: cannot fetch dep-chain')
    expect(registry.requests.slice(before).filter((request) => request.url === '/dep-chain')).toHaveLength(3)
    registry.failNext(0)

    const unreachable = await failing(`  deps:\n    npm:\n      leaf: ^1.0.0\n`, ['lock', '--json'], {}, '', await NpmRegistry.unreachableUrl())
    expect(unreachable.result.status).toBe(1)
    expect(unreachable.result.json.error.code).toBe('ERR_LAYERS_REGISTRY_UNREACHABLE')
    expect(unreachable.result.json.error.hint).toMatch(/network/)
  })

  it('refuses a corrupt tarball at lock (its package.json is read for the licence) and stops a build on one escaping its package, naming layer and package', async () => {
    const corrupt = await project(`  deps:\n    npm:\n      leaf: ^1.0.0\n      corrupt: ^1.0.0\n`)
    // With npm's default retry settings (10 s, then 60 s): other bytes than announced are not waited on.
    const started = performance.now()
    const locked = await corrupt.cli(['lock', '--json'], {npm_config_fetch_retry_mintimeout: '10000', npm_config_fetch_retry_maxtimeout: '60000'})
    expect((performance.now() - started) / 1000).toBeLessThan(10)
    expect(locked.status).toBe(1)
    expect(locked.json.error.code).toBe('ERR_LAYERS_INTEGRITY_MISMATCH')
    expect(locked.json.error.message).toMatch(/corrupt@1\.0\.0 \(node_modules\/corrupt\) of layer deps from http:\S+ does not match the integrity it is being locked with: expected sha512-\S+, got sha512-/)
    expect(existsSync(path.join(corrupt.dir, 'lockfile.json'))).toBe(false)

    const p = await project(`  deps:\n    npm:\n      leaf: ^1.0.0\n      traversal: ^1.0.0\n`)
    expect((await p.cli(['lock', '--json'])).status).toBe(0)
    const build = await p.cli(['build', '--json'])
    expect(build.status).toBe(2)
    expect(build.json.error.code).toBe('ERR_LAYERS_PACKAGE_UNSAFE')
    expect(build.json.error.message).toContain('traversal@1.0.0')
    expect(build.json.error.message).toMatch(/layer deps|Layer deps/)
    const buildDir = path.join(p.dir, '.layers', 'build')
    const zips = existsSync(buildDir) ? readdirSync(buildDir, {recursive: true}).filter((file) => String(file).endsWith('.zip')) : []
    expect(zips).toEqual([])
  })

  it('stops on a peer conflict with a direct dependency unless .npmrc sets legacy-peer-deps', async () => {
    const layers = `  deps:\n    npm:\n      peer-host: ^2.0.0\n      peer-plugin: ^1.0.0\n`
    const strict = await failing(layers)
    expect(strict.result.status).toBe(2)
    expect(strict.result.json.error.code).toBe('ERR_LAYERS_PEER_CONFLICT')
    expect(strict.result.json.error.message).toBe('Layer deps: peer-plugin@1.0.0 needs peer peer-host@^1.0.0, but the layer depends on peer-host@2.0.0 (node_modules/peer-host).')
    const legacy = await failing(layers, ['lock', '--json'], {}, 'legacy-peer-deps=true\n')
    expect(legacy.result.status).toBe(0)
    expect(legacy.result.json.warnings).toEqual([])
  })

  it('uses the scoped registry token from the environment and never prints or locks it', async () => {
    const layers = `  deps:\n    npm:\n      "@private/secret": ^1.0.0\n`
    const unset = await failing(layers, ['lock', '--json'], {}, PRIVATE_NPMRC(registry.url))
    expect(unset.result.status).toBe(2)
    expect(unset.result.json.error.code).toBe('ERR_LAYERS_NPMRC_ENV')
    expect(unset.result.json.error.message).toContain('PRIVATE_TOKEN')
    const wrong = await failing(layers, ['lock', '--json'], {PRIVATE_TOKEN: 'npm_wrongwrongwrongwrongwrongwrongwrong1'}, PRIVATE_NPMRC(registry.url))
    expect(wrong.result.status).toBe(1)
    expect(wrong.result.json.error.code).toBe('ERR_LAYERS_REGISTRY_AUTH')
    expect(wrong.result.stdout + wrong.result.stderr).not.toContain('wrongwrong')
    const right = await failing(layers, ['lock', '--json'], {PRIVATE_TOKEN: TOKEN}, PRIVATE_NPMRC(registry.url))
    expect(right.result.status).toBe(0)
    const sent = registry.requests.filter((request) => request.url.startsWith('/@private'))
    expect(sent.some((request) => request.authorization === `Bearer ${TOKEN}`)).toBe(true)
    expect(right.result.stdout + right.result.stderr + readFileSync(path.join(right.p.dir, 'lockfile.json'), 'utf8')).not.toContain(TOKEN)
  })
})

