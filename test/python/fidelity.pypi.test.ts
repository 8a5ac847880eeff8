// Fidelity against the real PyPI (needs the network and uv; skipped without them; `*.pypi.test.ts`
// names the tests that reach PyPI): a pip layer of requests (pure) and pydantic (pydantic-core),
// cryptography (cffi), numpy and pillow (all native) for
// python3.12 on x86_64 and arm64 holds the distributions and versions `pip install --platform ...
// --only-binary=:all: --python-version 3.12 --implementation cp --target` picks, every native
// extension in the arm64 zip is an aarch64 ELF and in the x86_64 zip an x86-64 one, and the python3.11
// x86_64 layer imports every top-level module on this machine's CPython with the layer on sys.path.
import {execFileSync} from 'node:child_process'
import {mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {extractZip, readZipEntries} from '../../src/package/zip-read.js'
import {runCli} from '../support/cli.js'

const available = await (async () => {
  try {
    execFileSync('uv', ['--version'], {stdio: 'ignore'})
    const response = await fetch('https://pypi.org/simple/requests/', {method: 'HEAD', signal: AbortSignal.timeout(5000)})
    return response.ok
  } catch {
    return false
  }
})()

const root = mkdtempSync(path.join(tmpdir(), 'layers-pypi-'))
afterAll(() => rmSync(root, {recursive: true, force: true}))

/** The issue's set: pure (requests) and native (pydantic-core, cryptography, numpy, pillow) distributions. */
const SET = ['requests', 'pydantic', 'cryptography', 'numpy', 'pillow']
const ELF_MACHINE = {x86_64: 62, arm64: 183} as const
const hostPython = (() => {
  try {
    return execFileSync('python3', ['-c', 'import sys, platform; print(f"{sys.version_info[0]}.{sys.version_info[1]} {platform.machine()}")'], {encoding: 'utf8'}).trim()
  } catch {
    return ''
  }
})()

/**
 * name==version of every distribution `pip install --target` would install for the platform. pip 23.2
 * checks Requires-Python against the host's Python under --target despite --python-version (it picks
 * numpy 2.4 for 3.12 on a 3.11 host, where numpy 2.5 requires >=3.12), hence --ignore-requires-python.
 */
function pipChoice(machine: 'x86_64' | 'aarch64', version: string): string[] {
  const report = path.join(root, `pip-${machine}-${version}.json`)
  const platforms = [`manylinux_2_34_${machine}`, `manylinux_2_28_${machine}`, `manylinux2014_${machine}`].flatMap((platform) => ['--platform', platform])
  execFileSync('python3', ['-m', 'pip', 'install', '--dry-run', '--ignore-installed', '--quiet', '--report', report, '--target', path.join(root, `target-${machine}`), ...platforms, '--only-binary=:all:', '--python-version', version, '--implementation', 'cp', '--ignore-requires-python', ...SET], {
    env: {...process.env, PIP_DISABLE_PIP_VERSION_CHECK: '1'},
    stdio: 'ignore',
  })
  const installs = (JSON.parse(readFileSync(report, 'utf8')) as {install: Array<{metadata: {name: string; version: string}}>}).install
  return installs.map((item) => `${item.metadata.name.replace(/[-_.]+/g, '-').toLowerCase()}==${item.metadata.version}`).sort()
}

describe.skipIf(!available)('pip layers against PyPI', () => {
  it('installs what pip would for python3.12 on both architectures, with native code for each, and imports on this CPython', async () => {
    const dir = path.join(root, 'project')
    mkdirSync(dir)
    writeFileSync(
      path.join(dir, 'layers.yaml'),
      ['version: 1', 'settings:', '  regions: [us-east-1]', 'layers:', '  py:', `    pip: {${SET.map((name) => `${name}: "*"`).join(', ')}}`, '    runtimes: [python3.12]', '    architectures: [x86_64, arm64]', '  py311:', `    pip: {${SET.map((name) => `${name}: "*"`).join(', ')}}`, '    runtimes: [python3.11]', ''].join('\n'),
    )
    const env = {XDG_CACHE_HOME: path.join(root, 'cache'), UV_DEFAULT_INDEX: '', UV_INDEX_URL: '', PIP_INDEX_URL: '', UV_INDEX: '', UV_EXTRA_INDEX_URL: '', PIP_EXTRA_INDEX_URL: ''}
    const lock = await runCli(['lock', '--json'], {cwd: dir, env})
    expect(lock.code, lock.stderr).toBe(0)
    const build = await runCli(['build', '--json'], {cwd: dir, env})
    expect(build.code, build.stderr).toBe(0)
    const zips = new Map<string, string>(build.json.artifacts.map((artifact: {layer: string; artifactKey: string; zipPath: string}) => [`${artifact.layer}/${artifact.artifactKey}`, artifact.zipPath]))
    for (const [architecture, machine] of [['x86_64', 'x86_64'], ['arm64', 'aarch64']] as const) {
      const zip = zips.get(`py/${architecture}`)!
      const entries = await readZipEntries(zip, (entry) => entry.endsWith('.so') || /\.dist-info\/METADATA$/.test(entry))
      const installed = [...entries.keys()]
        .filter((entry) => entry.endsWith('/METADATA'))
        .map((entry) => {
          const text = entries.get(entry)!.toString('utf8')
          return `${/^Name: (.+)$/m.exec(text)![1]!.trim().replace(/[-_.]+/g, '-').toLowerCase()}==${/^Version: (.+)$/m.exec(text)![1]!.trim()}`
        })
        .sort()
      expect(installed).toEqual(pipChoice(machine, '3.12'))
      const natives = [...entries].filter(([entry]) => entry.endsWith('.so'))
      expect(natives.length).toBeGreaterThan(0)
      for (const [entry, bytes] of natives) expect([entry, bytes.readUInt16LE(18)]).toEqual([entry, ELF_MACHINE[architecture]])
    }
    if (hostPython === '3.11 x86_64') {
      const opt = path.join(root, 'opt')
      mkdirSync(opt)
      await extractZip(zips.get('py311/x86_64')!, opt)
      const site = path.join(opt, 'python')
      const script = [
        'import importlib, os, sys',
        'site = sys.argv[1]',
        'names = sorted({n[:-3] if n.endswith(".py") else n for n in os.listdir(site) if not n.endswith((".dist-info", ".data")) and (n.endswith(".py") or os.path.isfile(os.path.join(site, n, "__init__.py")))})',
        'for n in names: importlib.import_module(n)',
        'print(" ".join(names))',
      ].join('\n')
      const imported = execFileSync('python3', ['-I', '-c', `import sys; sys.path.insert(0, sys.argv[1]); exec(${JSON.stringify(script)})`, site], {encoding: 'utf8'}).trim().split(' ')
      expect(imported).toEqual(expect.arrayContaining(['PIL', 'cryptography', 'numpy', 'pydantic', 'pydantic_core', 'requests', 'urllib3']))
    }
  })
})
