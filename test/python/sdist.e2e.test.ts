// pip layers with a project that publishes no wheel, only an sdist, against a local index
// (test/support/pypi-index.ts) that also serves the sdists' tiny PEP 517 build backend as a wheel:
// the lock pins the sdist (file name, URL, sha256), the build fetches it verified and builds it into a
// pure-Python wheel with its backend (from the configured index), the same zip bytes from two clones
// with their own caches, the built wheel cached by the sdist's sha256 (a warm build does not build
// again), `lock --check` naming the distribution that would be added; an sdist that builds native
// code is refused naming the package and the target.
import {execFileSync} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {Ajv} from 'ajv'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {runCli} from '../support/cli.js'
import {hasUv} from '../support/uv.js'
import {startPyPIIndex, TINY_BACKEND, type PyPIIndex, pipTestEnv} from '../support/pypi-index.js'

const validLock = new Ajv({allErrors: true}).compile(JSON.parse(readFileSync(path.resolve(import.meta.dirname, '../../schema/lock.schema.json'), 'utf8')))

let index: PyPIIndex
let root: string

beforeAll(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'layers-sdist-'))
  index = await startPyPIIndex()
  index.publish(TINY_BACKEND)
  index.publish({name: 'wheely', version: '1.0', wheels: [{tag: 'py3-none-any'}]})
  index.publish({name: 'newdep', version: '1.0', wheels: [{tag: 'py3-none-any'}]})
  index.publish({name: 'pure-src', version: '1.2', requires: ['wheely'], wheels: [], sdist: {files: [{path: 'pure_src/__init__.py', data: 'ANSWER = 42\n'}, {path: 'pure_src/data.txt', data: 'data\n'}]}})
  index.publish({name: 'native-src', version: '0.9', wheels: [], sdist: {native: true, files: [{path: 'native_src/__init__.py', data: ''}]}})
})

afterAll(async () => {
  await index?.close()
  if (root) rmSync(root, {recursive: true, force: true})
})

/** A project directory with its own caches (wheel cache, built wheels) and a log of the backend's builds. */
function project(name: string, layers: string): {dir: string; env: NodeJS.ProcessEnv; builds: () => string[]} {
  const dir = path.join(root, name)
  mkdirSync(dir, {recursive: true})
  writeFileSync(path.join(dir, 'layers.yaml'), `version: 1\nsettings:\n  regions: [us-east-1]\nlayers:\n${layers}`)
  const log = path.join(dir, 'backend.log')
  const env: NodeJS.ProcessEnv = {...pipTestEnv(index.url, dir, path.join(root, '.uv-cache')), TINY_BACKEND_LOG: log}
  return {dir, env, builds: () => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter((line) => line === 'build_wheel') : [])}
}

const PURE = '  deps:\n    pip: {pure-src: "*"}\n    runtimes: [python3.12]\n    architectures: [x86_64, arm64]\n'

// The first test runs the CLI 7 times, which start about 25 uv and Python processes (4 resolutions a
// lock, an isolated build environment per clone): 28 s on 2 busy cores, over 60 s (vitest's default
// limit) with the suite's other workers on them. The second runs 2 CLIs (15 s busy). Each CLI run has
// its own 120 s limit (runCli), so a hung one still fails the test on its own.
const CLONES_MS = 240_000
const NATIVE_MS = 120_000

describe.skipIf(!hasUv)('pip layers from sdists', () => {
  it('locks the sdist of a project without wheels, builds it into the same zip bytes in two clones, and does not build it again when warm', async () => {
    const a = project('clone-a', PURE)
    const b = project('clone-b', PURE)
    const [lockA, lockB] = await Promise.all([runCli(['lock', '--json'], {cwd: a.dir, env: a.env}), runCli(['lock', '--json'], {cwd: b.dir, env: b.env})])
    expect(lockA.code, lockA.stderr).toBe(0)
    expect(lockB.code, lockB.stderr).toBe(0)
    const text = readFileSync(path.join(a.dir, 'lockfile.json'), 'utf8')
    expect(readFileSync(path.join(b.dir, 'lockfile.json'), 'utf8')).toBe(text)
    const lock = JSON.parse(text)
    // Pure Python: one artifact for both architectures. The index serves no metadata of the sdist: its licence is NOASSERTION.
    expect(Object.keys(lock.layers.deps.artifacts)).toEqual(['arm64+x86_64'])
    const wheels = lock.layers.deps.artifacts['arm64+x86_64'].wheels['python3.12']
    expect(wheels['pure-src']).toEqual({name: 'pure-src', version: '1.2', filename: 'pure_src-1.2.tar.gz', url: `${index.publicUrl.replace('/simple/', '')}/files/pure_src-1.2.tar.gz`, sha256: expect.stringMatching(/^[0-9a-f]{64}$/), index: index.publicUrl, license: 'NOASSERTION'})
    expect(wheels.wheely.filename).toBe('wheely-1.0-py3-none-any.whl')

    const [buildA, buildB] = await Promise.all([runCli(['build', '--json'], {cwd: a.dir, env: a.env}), runCli(['build', '--json'], {cwd: b.dir, env: b.env})])
    expect(buildA.code, buildA.stderr).toBe(0)
    expect(buildB.code, buildB.stderr).toBe(0)
    expect(buildB.json.artifacts[0].sha256Hex).toBe(buildA.json.artifacts[0].sha256Hex)
    const zip = buildA.json.artifacts[0].zipPath
    expect(execFileSync('unzip', ['-Z1', zip], {encoding: 'utf8'}).trim().split('\n').sort()).toEqual([
      'python/pure_src-1.2.dist-info/METADATA',
      'python/pure_src-1.2.dist-info/RECORD',
      'python/pure_src-1.2.dist-info/WHEEL',
      'python/pure_src/__init__.py',
      'python/pure_src/data.txt',
      'python/wheely-1.0.dist-info/METADATA',
      'python/wheely-1.0.dist-info/RECORD',
      'python/wheely-1.0.dist-info/WHEEL',
      'python/wheely/__init__.py',
    ])
    expect(execFileSync('unzip', ['-p', zip, 'python/pure_src/__init__.py'], {encoding: 'utf8'})).toBe('ANSWER = 42\n')
    // The backend ran once per clone (SOURCE_DATE_EPOCH fixed: the same wheel bytes in both caches).
    expect(a.builds()).toHaveLength(1)
    expect(b.builds()).toHaveLength(1)
    const built = (dir: string): string[] => readdirSync(path.join(dir, '.cache', 'layers', 'wheels', 'built'), {recursive: true}).map(String).filter((entry) => entry.endsWith('.whl'))
    expect(built(a.dir)).toEqual([expect.stringMatching(new RegExp(`^[0-9a-f]{2}/${wheels['pure-src'].sha256}/pure_src-1\\.2-py3-none-any\\.whl$`))])
    expect(readFileSync(path.join(a.dir, '.cache', 'layers', 'wheels', 'built', built(a.dir)[0]!))).toEqual(readFileSync(path.join(b.dir, '.cache', 'layers', 'wheels', 'built', built(b.dir)[0]!)))

    // Without the zip cache the layer is built again, from the cached wheel: the backend does not run.
    rmSync(path.join(a.dir, '.layers'), {recursive: true, force: true})
    const warm = await runCli(['build', '--json'], {cwd: a.dir, env: a.env})
    expect(warm.code, warm.stderr).toBe(0)
    expect(warm.json.artifacts[0]).toMatchObject({cached: false, sha256Hex: buildA.json.artifacts[0].sha256Hex})
    expect(a.builds()).toHaveLength(1)

    // `lock --check` names each distribution that would change, per runtime and artifact.
    writeFileSync(path.join(b.dir, 'layers.yaml'), `version: 1\nsettings:\n  regions: [us-east-1]\nlayers:\n${PURE.replace('{pure-src: "*"}', '{pure-src: "*", newdep: "*"}')}`)
    const [check, human] = await Promise.all([runCli(['lock', '--check', '--json'], {cwd: b.dir, env: b.env}), runCli(['lock', '--check'], {cwd: b.dir, env: b.env})])
    expect(check.code, check.stderr).toBe(1)
    expect(validLock(check.json), JSON.stringify(validLock.errors)).toBe(true)
    expect(check.json.changes[0].differences).toEqual([
      {field: 'inputs', before: expect.any(String), after: expect.any(String)},
      {field: 'wheel', artifact: 'arm64+x86_64', runtime: 'python3.12', name: 'newdep', after: {name: 'newdep', version: '1.0', filename: 'newdep-1.0-py3-none-any.whl', sha256: expect.stringMatching(/^[0-9a-f]{64}$/)}},
    ])
    expect(human.stdout).toContain('arm64+x86_64 python3.12 added newdep==1.0 (newdep-1.0-py3-none-any.whl, sha256 ')
  }, CLONES_MS)

  it('refuses an sdist that builds native code, naming the package, the runtime and the architecture', async () => {
    const p = project('native', '  fast:\n    pip: {native-src: "*"}\n    runtimes: [python3.12]\n    architectures: [x86_64]\n')
    const lock = await runCli(['lock', '--json'], {cwd: p.dir, env: p.env})
    expect(lock.code, lock.stderr).toBe(0)
    const build = await runCli(['build', '--json'], {cwd: p.dir, env: p.env})
    expect(build.code, build.stderr).toBe(2)
    expect(build.json.error).toMatchObject({code: 'ERR_LAYERS_PYTHON_SDIST_NATIVE', details: {layer: 'fast', package: 'native-src', runtimes: ['python3.12'], architectures: ['x86_64']}})
    expect(build.json.error.message).toMatch(/^Layer fast \(python3\.12, x86_64\): native-src 0\.9 has no wheel .*native_src-0\.9\.tar\.gz is not pure Python: the wheel it builds is tagged cp\d+-cp\d+-linux_x86_64/)
    expect(build.json.error.hint).toContain('python3.12 x86_64')
    expect(build.json.artifacts).toBeUndefined()
  }, NATIVE_MS)
})
