// The lock is a pure function of the manifest and the registry: any sequence of `lock`, `lock L`,
// `lock --update L`, `lock --update L/P` and `lock --update` over unchanged inputs writes the same
// bytes as the first lock, and keeps the layer's published records. Seeded random sequences run the lock in-process (the
// src/ function, with the project's npm configuration and the loopback registry); one sequence runs
// through the built CLI. The fixture covers the fields that used to differ between the code paths
// (a `bin` written `./dist/esm/bin/x` like uuid 11's, a string `bin`, engines, os/cpu as strings,
// optional and peer dependencies, a bundled package) and a `latest` tag below the highest version
// with two versions of one package in the tree.
import {mkdir, mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {readLockfile, writeLockfile} from '../../src/lock/io.js'
import {lockProject} from '../../src/lock/lock-project.js'
import type {Lockfile} from '../../src/lock/types.js'
import {seededRandom} from '../../aws-double/faults.js'
import {runCli} from '../support/cli.js'
import {NpmRegistry} from '../support/npm-registry.js'

const LAYERS = ['deps', 'native', 'config']
/** Packages `lock --update LAYER/PACKAGE` may name, per npm layer (direct and transitive). */
const PACKAGES: Record<string, string[]> = {deps: ['leaf', 'binpkg', 'peer-host', 'conflict-user'], native: ['with-native', '@scope/strbin', 'with-native-linux-x64']}
const ACCOUNT = '111111111111'
const REGION = 'eu-west-1'

let registry: NpmRegistry
let base: string

beforeAll(async () => {
  registry = await NpmRegistry.start()
  registry
    // `latest` (1.2.0) below the highest version (2.0.0): the layer's `*` takes 1.2.0, conflict-user nests 2.0.0.
    .publish('leaf', {version: '1.0.0'})
    .publish('leaf', {version: '2.0.0'})
    .publish('leaf', {version: '1.2.0'})
    .publish('dep-chain', {version: '1.0.0', dependencies: {leaf: '^1.0.0'}, engines: {node: '>=18'}})
    .publish('conflict-user', {version: '1.0.0', dependencies: {leaf: '^2.0.0'}})
    .publish('binpkg', {version: '11.0.0', bin: {binpkg: './dist/esm/bin/binpkg'}, files: {'dist/esm/bin/binpkg': '#!/usr/bin/env node\n'}})
    .publish('binpkg', {version: '11.1.0', bin: {binpkg: './dist/esm/bin/binpkg'}, files: {'dist/esm/bin/binpkg': '#!/usr/bin/env node\n'}})
    .publish('@scope/strbin', {version: '1.0.0', bin: './bin//cli.js', files: {'bin/cli.js': '#!/usr/bin/env node\n'}})
    .publish('peer-host', {version: '1.4.0'})
    .publish('peer-plugin', {version: '1.0.0', peerDependencies: {'peer-host': '^1.0.0'}, peerDependenciesMeta: {'peer-host': {optional: false}}})
    .publish('with-native', {version: '1.0.0', optionalDependencies: {'with-native-linux-x64': '1.0.0', 'with-native-linux-arm64': '1.0.0'}})
    .publish('with-native-linux-x64', {version: '1.0.0', os: 'linux' as unknown as string[], cpu: ['x64'], libc: ['glibc']})
    .publish('with-native-linux-arm64', {version: '1.0.0', os: ['linux'], cpu: 'arm64' as unknown as string[]})
    .publish('bundling', {
      version: '1.0.0',
      dependencies: {'bundled-inner': '^1.0.0'},
      bundleDependencies: ['bundled-inner'],
      bundled: {'node_modules/bundled-inner': {name: 'bundled-inner', version: '1.0.0', bin: {inner: './inner.js'}, files: {'inner.js': '\n'}}},
    })
  base = await mkdtemp(path.join(tmpdir(), 'layers-purity-'))
})

afterAll(async () => {
  await registry?.stop()
  if (base) await rm(base, {recursive: true, force: true, maxRetries: 5})
})

const MANIFEST = `version: 1
settings:
  bucket: test-{accountId}-{region}
  regions: [${REGION}]
  architectures: [x86_64, arm64]
  runtimes: [nodejs20.x]
accounts:
  dev:
    id: "${ACCOUNT}"
layers:
  deps:
    npm:
      leaf: "*"
      conflict-user: ^1.0.0
      dep-chain: ^1.0.0
      binpkg: ^11.0.0
      peer-plugin: ^1.0.0
  native:
    npm:
      with-native: ^1.0.0
      "@scope/strbin": ^1.0.0
      bundling: ^1.0.0
  config:
    dir: config
`

let projects = 0
async function makeProject(): Promise<{dir: string; home: string; lockfile: string}> {
  const dir = path.join(base, `p${projects++}`)
  const home = path.join(dir, '..', `${path.basename(dir)}-home`)
  await mkdir(path.join(dir, 'config', 'nodejs'), {recursive: true})
  await mkdir(home, {recursive: true})
  await writeFile(path.join(dir, 'config', 'nodejs', 'settings.json'), '{}\n')
  await writeFile(path.join(dir, 'layers.yaml'), MANIFEST)
  await writeFile(path.join(dir, '.npmrc'), `registry=${registry.url}\ncache=${path.join(base, 'npm-cache')}\nfetch-retries=0\n`)
  return {dir, home, lockfile: path.join(dir, 'lockfile.json')}
}

/** Unsets the npm_config_* variables `npx` passes down, so the project's .npmrc decides. */
function noNpmEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.keys(process.env).filter((key) => /^npm_config_/i.test(key)).map((key) => [key, undefined]))
}

interface Command {
  targets: string[]
  update: boolean
}

function describeCommand(command: Command): string {
  return ['lock', ...(command.update ? ['--update'] : []), ...command.targets].join(' ')
}

function sequence(seed: number): Command[] {
  const next = seededRandom(seed)
  const pick = <T,>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!
  return Array.from({length: 3 + Math.floor(next() * 4)}, () => {
    const kind = pick(['lock', 'lock L', 'lock --update L', 'lock --update', 'lock --update L/P'] as const)
    if (kind === 'lock --update L/P') {
      const layer = pick(Object.keys(PACKAGES))
      return {targets: [`${layer}/${pick(PACKAGES[layer]!)}`], update: true}
    }
    return {targets: kind.endsWith('L') ? [pick(LAYERS)] : [], update: kind.includes('--update')}
  })
}

/** A publication for every artifact of every own layer, as `layers publish` records them. */
function withPublications(lock: Lockfile): Lockfile {
  const layers: Lockfile['layers'] = {}
  let version = 0
  for (const [name, layer] of Object.entries(lock.layers)) {
    if (layer.kind === 'arn') {
      layers[name] = layer
      continue
    }
    const byKey = Object.fromEntries(
      Object.keys(layer.artifacts).map((key) => {
        version++
        return [key, {arn: `arn:aws:lambda:${REGION}:${ACCOUNT}:layer:${name}:${version}`, version, codeSha256: Buffer.alloc(32, version).toString('base64')}]
      }),
    )
    layers[name] = {...layer, published: {[ACCOUNT]: {[REGION]: byKey}}}
  }
  return {...lock, layers}
}

async function lockInProcess(project: {dir: string; home: string}, command: Command): Promise<void> {
  await lockProject({
    manifestPath: path.join(project.dir, 'layers.yaml'),
    targets: command.targets,
    update: command.update,
    emit: () => {},
    npmConfig: {env: {}, home: project.home, globalPrefix: path.join(project.home, 'no-global')},
  })
}

/** Locks, seeds publications, and returns the bytes every later lock must keep. */
async function seeded(project: {dir: string; home: string; lockfile: string}, lock: () => Promise<void>): Promise<string> {
  await lock()
  const first = await readLockfile(project.lockfile)
  expect(first).toBeDefined()
  await writeLockfile(project.lockfile, withPublications(first!))
  return readFile(project.lockfile, 'utf8')
}

describe('lock purity', () => {
  it('locks the fixture with every field in one normal form', async () => {
    const project = await makeProject()
    const expected = await seeded(project, () => lockInProcess(project, {targets: [], update: false}))
    const lock = JSON.parse(expected) as Lockfile
    const deps = lock.layers.deps
    const native = lock.layers.native
    if (deps?.kind !== 'npm' || native?.kind !== 'npm') throw new Error('npm layers expected')
    const packages = deps.artifacts['arm64+x86_64']!.packages!
    expect(packages['node_modules/binpkg']!.bin).toEqual({binpkg: 'dist/esm/bin/binpkg'})
    expect(packages['node_modules/leaf']!.version).toBe('1.2.0')
    expect(packages['node_modules/conflict-user/node_modules/leaf']!.version).toBe('2.0.0')
    expect(Object.keys(native.artifacts).sort()).toEqual(['arm64', 'x86_64'])
    const x64 = native.artifacts.x86_64!.packages!
    expect(x64['node_modules/@scope/strbin']!.bin).toEqual({strbin: 'bin/cli.js'})
    expect(x64['node_modules/with-native-linux-x64']).toMatchObject({optional: true, os: ['linux'], cpu: ['x64']})
    expect(native.artifacts.arm64!.packages!['node_modules/with-native-linux-arm64']).toMatchObject({optional: true, os: ['linux'], cpu: ['arm64']})
    expect(x64['node_modules/bundling/node_modules/bundled-inner']).toMatchObject({inBundle: true, bin: {inner: 'inner.js'}})
  })

  it('writes the same bytes and keeps published records over 30 random command sequences (in-process)', async () => {
    const project = await makeProject()
    const expected = await seeded(project, () => lockInProcess(project, {targets: [], update: false}))
    for (let seed = 1; seed <= 30; seed++) {
      const commands = sequence(seed)
      for (const [index, command] of commands.entries()) {
        await lockInProcess(project, command)
        const actual = await readFile(project.lockfile, 'utf8')
        // The seed and the commands so far name the failing case.
        expect(actual, `seed ${seed}: ${commands.slice(0, index + 1).map(describeCommand).join(', ')}`).toBe(expected)
      }
    }
  })

  it('writes the same bytes through the built CLI', async () => {
    const project = await makeProject()
    const cli = async (command: Command): Promise<void> => {
      const result = await runCli([...describeCommand(command).split(' '), '--json'], {cwd: project.dir, env: {...noNpmEnv(), HOME: project.home, CI: 'true'}})
      expect(result.code, result.stderr).toBe(0)
    }
    const expected = await seeded(project, () => cli({targets: [], update: false}))
    for (const command of [{targets: ['deps'], update: false}, {targets: ['deps'], update: true}, {targets: [], update: false}, {targets: ['native'], update: true}, {targets: [], update: true}]) {
      await cli(command)
      expect(await readFile(project.lockfile, 'utf8'), describeCommand(command)).toBe(expected)
    }
  })
})
