// npm `overrides` in the resolver: each case against the local registry, and the same package.json
// locked by npm itself (`npm install --package-lock-only --ignore-scripts`) must give the same
// name@version set as the layer (the fidelity check the issue asks for; folder layouts may differ
// where npm replaces a placed package, which layers never does).
import {execFile} from 'node:child_process'
import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {promisify} from 'node:util'
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'
import {LayersError} from '../../src/errors/index.js'
import {resolveNpmLayer} from '../../src/resolve/layer.js'
import {OverrideRule, readOverrides} from '../../src/resolve/overrides.js'
import {NpmRegistry} from '../support/npm-registry.js'
import {layer, tempProject, versions, type TempProject} from './helpers.js'

const run = promisify(execFile)
let registry: NpmRegistry
let project: TempProject | undefined

beforeAll(async () => {
  registry = await NpmRegistry.start()
  registry
    // express 4.21.2's shape: debug@2.6.9 pins ms 2.0.0, send brings ms 2.1.3.
    .publish('ms', {version: '2.0.0'})
    .publish('ms', {version: '2.1.2'})
    .publish('ms', {version: '2.1.3'})
    .publish('debug', {version: '2.6.9', dependencies: {ms: '2.0.0'}})
    .publish('send', {version: '0.19.0', dependencies: {debug: '2.6.9', ms: '2.1.3'}})
    .publish('web', {version: '4.21.2', dependencies: {debug: '2.6.9', send: '0.19.0'}})
    .publish('other', {version: '1.0.0', dependencies: {ms: '^2.1.0'}})
    .publish('fork-of-ms', {version: '3.0.0'})
})

afterAll(async () => {
  await registry.stop()
})

afterEach(async () => {
  await project?.cleanup()
  project = undefined
})

/** The layer's x86_64 tree as lock path -> version. */
async function resolve(dependencies: Record<string, string>, overrides: unknown, references: Record<string, string> = dependencies): Promise<Record<string, string>> {
  project = await tempProject(registry.url)
  const npm = layer('web', dependencies, {architectures: ['x86_64'], overrides: {rules: overrides, references, where: 'layers.yaml'}})
  const resolved = await resolveNpmLayer(npm, {source: project.source})
  return versions(Object.values(resolved.artifacts)[0]!.packages!)
}

/** The folder-name@version set of a tree (lock path -> version). */
function installed(tree: Record<string, string>): string[] {
  return [...new Set(Object.entries(tree).map(([key, version]) => `${key.slice(key.lastIndexOf('node_modules/') + 'node_modules/'.length)}@${version}`))].sort()
}

/** What npm itself locks for the same package.json: lock path -> version. */
async function npmLocks(pkg: Record<string, unknown>): Promise<Record<string, string>> {
  const dir = await mkdtemp(path.join(tmpdir(), 'layers-overrides-npm-'))
  try {
    await writeFile(path.join(dir, 'package.json'), JSON.stringify({name: 'app', version: '1.0.0', ...pkg}))
    await writeFile(path.join(dir, '.npmrc'), `registry=${registry.url}\ncache=${path.join(dir, 'cache')}\naudit=false\nfund=false\n`)
    const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_config_/i.test(key)))
    await run('npm', ['install', '--package-lock-only', '--ignore-scripts', '--no-audit', '--no-fund'], {cwd: dir, env: {...env, HOME: dir}, timeout: 60_000})
    const lock = JSON.parse(await readFile(path.join(dir, 'package-lock.json'), 'utf8')) as {packages: Record<string, {version?: string}>}
    return Object.fromEntries(Object.entries(lock.packages).filter(([key]) => key !== '').map(([key, value]) => [key, value.version!]).sort(([a], [b]) => (a! < b! ? -1 : 1)))
  } finally {
    await rm(dir, {recursive: true, force: true, maxRetries: 5})
  }
}

describe('npm overrides', () => {
  it('without overrides, both ms versions are installed (the case the issue reports)', async () => {
    const tree = await resolve({web: '4.21.2'}, undefined)
    expect(tree).toEqual({'node_modules/debug': '2.6.9', 'node_modules/ms': '2.0.0', 'node_modules/send': '0.19.0', 'node_modules/send/node_modules/ms': '2.1.3', 'node_modules/web': '4.21.2'})
  })

  it('a bare name replaces every ms, as npm install does', async () => {
    const tree = await resolve({web: '4.21.2'}, {ms: '2.1.3'})
    expect(tree).toEqual({'node_modules/debug': '2.6.9', 'node_modules/ms': '2.1.3', 'node_modules/send': '0.19.0', 'node_modules/web': '4.21.2'})
    expect(installed(tree)).toEqual(installed(await npmLocks({dependencies: {web: '4.21.2'}, overrides: {ms: '2.1.3'}})))
  })

  it('a nested rule applies only below the package it names', async () => {
    const overrides = {send: {ms: '2.1.2'}}
    const tree = await resolve({web: '4.21.2', other: '1.0.0'}, overrides)
    expect(tree['node_modules/send/node_modules/ms']).toBe('2.1.2')
    expect(installed(tree)).toEqual(installed(await npmLocks({dependencies: {web: '4.21.2', other: '1.0.0'}, overrides})))
  })

  it('a name@range key matches only edges whose range meets it', async () => {
    const overrides = {'ms@2.0.0': '2.1.2'}
    const tree = await resolve({web: '4.21.2', other: '1.0.0'}, overrides)
    expect(Object.values(tree).filter((version) => version.startsWith('2.0'))).toEqual([])
    expect(installed(tree)).toEqual(installed(await npmLocks({dependencies: {web: '4.21.2', other: '1.0.0'}, overrides})))
  })

  it('a $name value takes the root package\'s own spec, and may override the direct dependency itself', async () => {
    const overrides = {ms: '$ms'}
    const tree = await resolve({web: '4.21.2', ms: '2.1.2'}, overrides)
    expect(new Set(Object.entries(tree).filter(([key]) => key.endsWith('/ms')).map(([, version]) => version))).toEqual(new Set(['2.1.2']))
    expect(installed(tree)).toEqual(installed(await npmLocks({dependencies: {web: '4.21.2', ms: '2.1.2'}, overrides})))
  })

  it('an npm: alias value replaces the package with another one', async () => {
    const overrides = {web: {debug: {ms: 'npm:fork-of-ms@3.0.0'}}}
    const tree = await resolve({web: '4.21.2'}, overrides)
    expect(installed(tree)).toEqual(installed(await npmLocks({dependencies: {web: '4.21.2'}, overrides})))
    expect(Object.values(tree)).toContain('3.0.0')
  })

  it('an override of a direct dependency with another spec is refused, as npm refuses it (EOVERRIDE)', async () => {
    const error = await resolve({web: '4.21.2', ms: '^2.0.0'}, {ms: '2.1.3'}).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(LayersError)
    expect((error as LayersError).code).toBe('ERR_LAYERS_INVALID_OVERRIDES')
    expect((error as LayersError).message).toContain('conflicts with the direct dependency ms@^2.0.0')
    expect((error as LayersError).hint).toContain('"$ms"')
  })
})

describe('readOverrides', () => {
  const origin = {layer: 'web', where: 'package.json'}
  it.each([
    [['ms'], 'is a list, not a spec or an object of rules'],
    [{'ms@latest': '2.1.3'}, '"ms@latest" is not a package name or name@range'],
    [{ms: '$nothing'}, 'refers to $nothing, but the package has no dependency nothing'],
    [{'.': '1.0.0'}, '"." is only allowed inside a package\'s rules'],
    [{web: {debug: 7}}, 'the rule web > debug is 7'],
  ])('refuses %j', (input, message) => {
    expect(() => readOverrides(input, {}, {}, origin)).toThrow(message)
  })

  it('rules inherit the enclosing sets, nearest first (npm\'s ruleset order)', () => {
    const root = new OverrideRule({ms: '2.1.3', web: {'.': '4.21.2', ms: '2.1.2'}})
    const web = root.edgeRule('web', '^4.0.0')
    expect(web.describe()).toBe('web')
    expect(web.edgeRule('ms', '2.0.0').specFor('ms', {})).toBe('2.1.2')
    expect(root.edgeRule('ms', '2.0.0').specFor('ms', {})).toBe('2.1.3')
    expect(root.edgeRule('debug', '2.6.9')).toBe(root)
  })
})
