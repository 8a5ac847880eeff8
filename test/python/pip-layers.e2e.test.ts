// pip layers end to end against a local PEP 691/503 index (test/support/pypi-index.ts) with uv as the
// resolver: wheels chosen per runtime and architecture (CPython ABI, glibc of the runtime's OS,
// machine), markers evaluated for the target, yanked files skipped, a deterministic and idempotent
// lock, byte-identical zips from two clones, the python/ layout, and the refusals: a package with no
// wheel, a wheel with a `..` entry or a link, bytes that do not match the locked sha256, a wheel from
// an index that is not configured; credentials of an index never written.
import {execFileSync} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {Ajv} from 'ajv'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {runCli} from '../support/cli.js'
import {hasUv} from '../support/uv.js'
import {startPyPIIndex, type PyPIIndex, pipTestEnv} from '../support/pypi-index.js'

const schema = (name: string): object => JSON.parse(readFileSync(path.resolve(import.meta.dirname, `../../schema/${name}.schema.json`), 'utf8'))
const ajv = new Ajv({allErrors: true})
const validLock = ajv.compile(schema('lock'))
const validBuild = ajv.compile(schema('build'))

let index: PyPIIndex
let privateIndex: PyPIIndex
let root: string


beforeAll(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'layers-pip-'))
  index = await startPyPIIndex()
  const native = (tag: string): {tag: string} => ({tag})
  index.publish({name: 'nat', version: '1.0', wheels: [native('cp312-cp312-manylinux_2_35_x86_64'), native('cp312-cp312-manylinux_2_28_x86_64'), native('cp38-abi3-manylinux_2_17_x86_64'), native('cp312-cp312-manylinux_2_17_aarch64')]})
  index.publish({name: 'app', version: '1.0', requires: ['armonly ; platform_machine == "aarch64"', 'oldpy ; python_version < "3.12"', 'nat'], wheels: [{tag: 'py3-none-any'}]})
  index.publish({name: 'armonly', version: '1.0', wheels: [{tag: 'py3-none-any'}]})
  index.publish({name: 'oldpy', version: '1.0', wheels: [{tag: 'py3-none-any'}]})
  index.publish({name: 'yank', version: '1.0', wheels: [{tag: 'py3-none-any'}]})
  index.publish({name: 'yank', version: '1.1', wheels: [{tag: 'py3-none-any', yanked: true}]})
  index.publish({
    name: 'pure',
    version: '2.0',
    wheels: [
      {
        tag: 'py3-none-any',
        files: [
          {path: 'pure/__init__.py', data: 'X = 1\n'},
          {path: 'pure/__pycache__/__init__.cpython-312.pyc', data: Buffer.from([0x0d, 0x0a, 0, 0])},
          {path: 'pure/stale.pyc', data: 'compiled'},
          {path: 'pure-2.0.data/purelib/pure_extra.py', data: 'Y = 2\n'},
          {path: 'pure-2.0.data/scripts/pure-tool', data: '#!python\nprint(1)\n', mode: 0o100755},
          {path: 'pure-2.0.data/headers/pure.h', data: '/* header */\n'},
        ],
      },
    ],
  })
  index.publish({name: 'srconly', version: '1.0', wheels: [{tag: 'cp312-cp312-win_amd64'}]})
  index.publish({name: 'evil', version: '1.0', wheels: [{tag: 'py3-none-any', files: [{path: 'evil/__init__.py', data: ''}, {path: '../../escape.py', data: 'print("escaped")\n'}]}]})
  index.publish({name: 'linky', version: '1.0', wheels: [{tag: 'py3-none-any', files: [{path: 'linky/__init__.py', data: ''}, {path: 'linky/passwd', data: '/etc/passwd', mode: 0o120777}]}]})
  index.publish({name: 'tam', version: '1.0', wheels: [{tag: 'py3-none-any'}]})
  privateIndex = await startPyPIIndex({auth: {username: 'deploy', password: 's3cr3t-token'}})
  privateIndex.publish({name: 'internal', version: '0.3', wheels: [{tag: 'py3-none-any'}]})
})

afterAll(async () => {
  await index?.close()
  await privateIndex?.close()
  if (root) rmSync(root, {recursive: true, force: true})
})

/** A project directory with its own caches and config home, so nothing is shared between projects. */
function project(name: string, layers: string): {dir: string; env: NodeJS.ProcessEnv} {
  const dir = path.join(root, name)
  mkdirSync(dir, {recursive: true})
  writeFileSync(path.join(dir, 'layers.yaml'), `version: 1\nsettings:\n  regions: [us-east-1]\nlayers:\n${layers}`)
  const env: NodeJS.ProcessEnv = pipTestEnv(index.url, dir, path.join(root, '.uv-cache'))
  return {dir, env}
}

const MAIN_LAYERS = [
  '  deps:',
  '    pip: {app: "*", yank: "*"}',
  '    runtimes: [python3.12]',
  '    architectures: [x86_64, arm64]',
  '  old:',
  '    pip: {app: ">=1.0"}',
  '    runtimes: [python3.11]',
  '    architectures: [x86_64]',
  '  multi:',
  '    pip: {pure: "~=2.0"}',
  '    runtimes: [python3.11, python3.12]',
  '    architectures: [x86_64, arm64]',
  '',
].join('\n')

function unzipList(zip: string): string[] {
  return execFileSync('unzip', ['-Z1', zip], {encoding: 'utf8'}).trim().split('\n').sort()
}

describe.skipIf(!hasUv)('pip layers with uv and a local index', () => {
  it('locks each runtime and architecture with its own wheels, deterministically, and builds the same bytes in two clones', async () => {
    const a = project('clone-a', MAIN_LAYERS)
    const b = project('clone-b', MAIN_LAYERS)
    const [lockA, lockB] = await Promise.all([runCli(['lock', '--json'], {cwd: a.dir, env: a.env}), runCli(['lock', '--json'], {cwd: b.dir, env: b.env})])
    expect(lockA.code, lockA.stderr).toBe(0)
    expect(lockB.code, lockB.stderr).toBe(0)
    expect(validLock(lockA.json), JSON.stringify(validLock.errors)).toBe(true)
    expect(lockA.json.layers.find((layer: {layer: string}) => layer.layer === 'deps')).toMatchObject({kind: 'pip', artifacts: [{artifactKey: 'arm64', packages: 4}, {artifactKey: 'x86_64', packages: 3}]})
    const text = readFileSync(path.join(a.dir, 'lockfile.json'), 'utf8')
    expect(readFileSync(path.join(b.dir, 'lockfile.json'), 'utf8')).toBe(text)
    const lock = JSON.parse(text)
    const files = (layer: string, key: string, runtime: string): Record<string, string> =>
      Object.fromEntries(Object.entries(lock.layers[layer].artifacts[key].wheels[runtime] as Record<string, {filename: string}>).map(([name, wheel]) => [name, wheel.filename]))
    expect(files('deps', 'x86_64', 'python3.12')).toEqual({'app': 'app-1.0-py3-none-any.whl', 'nat': 'nat-1.0-cp312-cp312-manylinux_2_28_x86_64.whl', 'yank': 'yank-1.0-py3-none-any.whl'})
    expect(files('deps', 'arm64', 'python3.12')).toEqual({'app': 'app-1.0-py3-none-any.whl', 'armonly': 'armonly-1.0-py3-none-any.whl', 'nat': 'nat-1.0-cp312-cp312-manylinux_2_17_aarch64.whl', 'yank': 'yank-1.0-py3-none-any.whl'})
    // python3.11 runs on Amazon Linux 2 (glibc 2.26): the manylinux_2_28 cp312 wheel is out, the abi3 one fits.
    expect(files('old', 'x86_64', 'python3.11')).toEqual({'app': 'app-1.0-py3-none-any.whl', 'nat': 'nat-1.0-cp38-abi3-manylinux_2_17_x86_64.whl', 'oldpy': 'oldpy-1.0-py3-none-any.whl'})
    expect(Object.keys(lock.layers.multi.artifacts)).toEqual(['arm64+x86_64'])
    expect(Object.keys(lock.layers.multi.artifacts['arm64+x86_64'].wheels)).toEqual(['python3.11', 'python3.12'])
    const wheel = lock.layers.deps.artifacts.x86_64.wheels['python3.12'].nat
    expect(wheel).toMatchObject({name: 'nat', version: '1.0', index: index.publicUrl, url: `${index.publicUrl.replace('/simple/', '')}/files/nat-1.0-cp312-cp312-manylinux_2_28_x86_64.whl`, sha256: expect.stringMatching(/^[0-9a-f]{64}$/)})

    const again = await runCli(['lock', '--json'], {cwd: a.dir, env: a.env})
    expect(again.code, again.stderr).toBe(0)
    expect(again.json).toMatchObject({written: false})
    expect(readFileSync(path.join(a.dir, 'lockfile.json'), 'utf8')).toBe(text)

    const [buildA, buildB] = await Promise.all([runCli(['build', '--json'], {cwd: a.dir, env: a.env}), runCli(['build', '--json'], {cwd: b.dir, env: b.env})])
    expect(buildA.code, buildA.stderr).toBe(0)
    expect(buildB.code, buildB.stderr).toBe(0)
    expect(validBuild(buildA.json), JSON.stringify(validBuild.errors)).toBe(true)
    const sums = (result: typeof buildA): string[] => result.json.artifacts.map((artifact: {layer: string; artifactKey: string; sha256Hex: string}) => `${artifact.layer}/${artifact.artifactKey}/${artifact.sha256Hex}`)
    expect(sums(buildB)).toEqual(sums(buildA))
    const zipOf = (layer: string, key: string): string => buildA.json.artifacts.find((artifact: {layer: string; artifactKey: string}) => artifact.layer === layer && artifact.artifactKey === key).zipPath
    const x86 = zipOf('deps', 'x86_64')
    expect(unzipList(x86)).toContain('python/nat/__init__.py')
    expect(execFileSync('unzip', ['-p', x86, 'python/nat/__init__.py'], {encoding: 'utf8'})).toContain('cp312-cp312-manylinux_2_28_x86_64')
    expect(unzipList(zipOf('deps', 'arm64'))).toContain('python/armonly/__init__.py')
    const multi = unzipList(zipOf('multi', 'arm64+x86_64'))
    for (const version of ['python3.11', 'python3.12']) {
      const site = `python/lib/${version}/site-packages`
      expect(multi).toEqual(expect.arrayContaining([`${site}/pure/__init__.py`, `${site}/pure_extra.py`, `${site}/bin/pure-tool`, `${site}/pure-2.0.dist-info/METADATA`]))
    }
    expect(multi.filter((entry) => entry.endsWith('.pyc') || entry.includes('__pycache__') || entry.includes('.data/') || entry.endsWith('.h'))).toEqual([])
    expect(execFileSync('zipinfo', [zipOf('multi', 'arm64+x86_64'), 'python/lib/python3.12/site-packages/bin/pure-tool'], {encoding: 'utf8'})).toMatch(/^-rwxr-xr-x/)

    const cached = await runCli(['build', '--json'], {cwd: a.dir, env: a.env})
    expect(cached.code, cached.stderr).toBe(0)
    expect(cached.json.artifacts.every((artifact: {cached: boolean}) => artifact.cached)).toBe(true)
  })

  it('refuses a package without a wheel for the target, unsafe wheels, bytes that do not match the lock and an unconfigured index', async () => {
    const srconly = project('srconly', '  src:\n    pip: {srconly: "*"}\n    runtimes: [python3.12]\n')
    const evil = project('evil', '  evil:\n    pip: {evil: "*"}\n    runtimes: [python3.12]\n')
    const linky = project('linky', '  linky:\n    pip: {linky: "*"}\n    runtimes: [python3.12]\n')
    const tam = project('tam', '  tam:\n    pip: {tam: "*"}\n    runtimes: [python3.12]\n')
    const foreign = project('foreign', '  tam:\n    pip: {tam: "*"}\n    runtimes: [python3.12]\n')
    const locks = await Promise.all([srconly, evil, linky, tam, foreign].map((p) => runCli(['lock', '--json'], {cwd: p.dir, env: p.env})))
    expect(locks[0]!.code).toBe(2)
    expect(locks[0]!.json.error).toMatchObject({code: 'ERR_LAYERS_PYTHON_NO_WHEEL'})
    expect(locks[0]!.json.error.message).toMatch(/layer src \(python3\.12 x86_64/)
    expect(locks[0]!.json.error.message).toContain('srconly')
    for (const result of locks.slice(1)) expect(result.code, result.stderr).toBe(0)

    // The lock of `foreign` names a wheel on an index that is not configured.
    const foreignLock = path.join(foreign.dir, 'lockfile.json')
    writeFileSync(foreignLock, readFileSync(foreignLock, 'utf8').replaceAll(index.publicUrl, 'https://pypi.evil.example/simple/').replace(/"url": "http:\/\/127\.0\.0\.1:\d+\//, '"url": "https://pypi.evil.example/'))
    index.tamper('tam-1.0-py3-none-any.whl')
    const builds = await Promise.all(
      [evil, linky, tam, foreign].map(async (p) => {
        const started = performance.now()
        const result = await runCli(['build', '--json'], {cwd: p.dir, env: p.env})
        return {...result, seconds: (performance.now() - started) / 1000}
      }),
    )
    expect(builds[0]!.code).toBe(2)
    expect(builds[0]!.json.error).toMatchObject({code: 'ERR_LAYERS_PYTHON_WHEEL_UNSAFE'})
    expect(builds[0]!.json.error.message).toContain('evil-1.0-py3-none-any.whl')
    expect(readdirSync(root)).not.toContain('escape.py')
    expect(builds[1]!.code).toBe(2)
    expect(builds[1]!.json.error).toMatchObject({code: 'ERR_LAYERS_PYTHON_WHEEL_UNSAFE'})
    expect(builds[1]!.json.error.message).toContain('symbolic link')
    expect(builds[2]!.code).toBe(1)
    // Other bytes than locked are never waited on and tried again.
    expect(builds[2]!.seconds).toBeLessThan(10)
    expect(builds[2]!.json.error).toMatchObject({code: 'ERR_LAYERS_INTEGRITY_MISMATCH', details: {layer: 'tam', package: 'tam', version: '1.0', expected: expect.stringMatching(/^[0-9a-f]{64}$/), actual: expect.stringMatching(/^[0-9a-f]{64}$/)}})
    expect(builds[2]!.json.error.message).toContain('tam-1.0-py3-none-any.whl (tam 1.0)')
    expect(builds[2]!.json.error.hint).toContain('layers lock --update tam/tam')
    const tamCache = path.join(tam.dir, '.cache')
    expect(existsSync(tamCache) ? readdirSync(tamCache, {recursive: true}).filter((entry) => String(entry).endsWith('.whl')) : []).toEqual([])
    expect(builds[3]!.code).toBe(2)
    expect(builds[3]!.json.error).toMatchObject({code: 'ERR_LAYERS_LOCKFILE_UNSAFE'})
    expect(JSON.stringify(builds[3]!.json.error)).toContain('not a configured index')
  })

  it('falls back to pip (--platform, --python-version, --only-binary) when uv is not there: the same wheels for x86_64, and a warning that markers are the host\'s', async () => {
    const p = project('pip-fallback', '  deps:\n    pip: {app: "*", yank: "*"}\n    runtimes: [python3.12]\n')
    const lock = await runCli(['lock', '--json'], {cwd: p.dir, env: {...p.env, LAYERS_UV: path.join(p.dir, 'no-uv')}})
    expect(lock.code, lock.stderr).toBe(0)
    const wheels = JSON.parse(readFileSync(path.join(p.dir, 'lockfile.json'), 'utf8')).layers.deps.artifacts.x86_64.wheels['python3.12']
    // The distributions without markers get the wheels uv picks (oldpy's python_version marker is the host's to pip).
    expect(Object.fromEntries(Object.entries(wheels as Record<string, {filename: string}>).map(([name, wheel]) => [name, wheel.filename]))).toMatchObject({'app': 'app-1.0-py3-none-any.whl', 'nat': 'nat-1.0-cp312-cp312-manylinux_2_28_x86_64.whl', 'yank': 'yank-1.0-py3-none-any.whl'})
    expect(lock.json.warnings).toEqual([expect.objectContaining({code: 'ERR_LAYERS_PYTHON_PIP_FALLBACK'})])
  })

  it('reads a private index with credentials from the configuration and never writes them', async () => {
    const p = project('private', '  internal:\n    pip: {internal: "==0.3"}\n    runtimes: [python3.13]\n    architectures: [arm64]\n')
    const env = {...p.env, UV_DEFAULT_INDEX: '', PIP_INDEX_URL: privateIndex.url}
    const lock = await runCli(['lock', '--json'], {cwd: p.dir, env})
    expect(lock.code, lock.stderr).toBe(0)
    const text = readFileSync(path.join(p.dir, 'lockfile.json'), 'utf8')
    expect(text).toContain(privateIndex.publicUrl)
    expect(text).not.toContain('s3cr3t')
    expect(text).not.toContain('deploy@')
    const build = await runCli(['build', '--json'], {cwd: p.dir, env})
    expect(build.code, build.stderr).toBe(0)
    expect(unzipList(build.json.artifacts[0].zipPath)).toContain('python/internal/__init__.py')
    expect(readdirSync(p.dir, {recursive: true}).map((entry) => String(entry)).filter((entry) => {
      try {
        return readFileSync(path.join(p.dir, entry), 'utf8').includes('s3cr3t')
      } catch {
        return false
      }
    })).toEqual([])
  })
})
