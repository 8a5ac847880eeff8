// Fidelity against the real npm registry (needs the network and npm; skipped without them;
// `*.npmjs.test.ts` names the tests that reach registry.npmjs.org): a package.json whose
// package-lock.json pins versions older than the ranges' newest (sharp with its per-platform
// packages, lodash, debug) gives a layer whose name@version set is what `npm ci --omit=dev
// --ignore-scripts` installs from that lock, for x86_64 (this linux-x64 host) and for arm64
// (`--cpu=arm64`).
import {execFile, execFileSync} from 'node:child_process'
import {cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {arch, platform, tmpdir} from 'node:os'
import path from 'node:path'
import {promisify} from 'node:util'
import {afterAll, describe, expect, it} from 'vitest'
import {lockProject} from '../../src/lock/lock-project.js'
import type {Lockfile} from '../../src/lock/types.js'

const available = await (async () => {
  if (platform() !== 'linux' || arch() !== 'x64') return false
  try {
    execFileSync('npm', ['--version'], {stdio: 'ignore'})
    const response = await fetch('https://registry.npmjs.org/lodash', {method: 'HEAD', signal: AbortSignal.timeout(5000)})
    return response.ok
  } catch {
    return false
  }
})()

const root = mkdtempSync(path.join(tmpdir(), 'layers-npmjs-'))
afterAll(() => rmSync(root, {recursive: true, force: true}))

const run = promisify(execFile)

const PINNED = {sharp: '0.33.2', lodash: '4.17.20', debug: '4.3.1'}
const RANGES = {sharp: '^0.33.0', lodash: '^4.17.0', debug: '^4.3.0'}
const env = {...process.env, npm_config_cache: path.join(root, 'npm-cache'), npm_config_loglevel: 'error', npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false'}

/** name@version of every package under node_modules (nested and scoped ones too). */
function installed(dir: string): string[] {
  const found: string[] = []
  const walk = (modules: string): void => {
    if (!existsSync(modules)) return
    for (const entry of readdirSync(modules)) {
      if (entry.startsWith('.')) continue
      const folders = entry.startsWith('@') ? readdirSync(path.join(modules, entry)).map((name) => path.join(entry, name)) : [entry]
      for (const folder of folders) {
        const json = JSON.parse(readFileSync(path.join(modules, folder, 'package.json'), 'utf8')) as {name: string; version: string}
        found.push(`${json.name}@${json.version}`)
        walk(path.join(modules, folder, 'node_modules'))
      }
    }
  }
  walk(path.join(dir, 'node_modules'))
  return [...new Set(found)].sort()
}

describe.skipIf(!available)('layers from a package-lock.json against registry.npmjs.org', () => {
  it('holds what npm ci --omit=dev --ignore-scripts installs from the lock, on x86_64 and arm64', async () => {
    const project = path.join(root, 'project')
    mkdirSync(project)
    // The lock pins exact old versions; the package.json then asks for ranges whose newest is newer.
    writeFileSync(path.join(project, 'package.json'), JSON.stringify({name: 'fidelity', version: '1.0.0', dependencies: PINNED, devDependencies: {'is-number': '7.0.0'}}))
    await run('npm', ['install', '--package-lock-only', '--ignore-scripts'], {cwd: project, env})
    const lock = JSON.parse(readFileSync(path.join(project, 'package-lock.json'), 'utf8')) as {packages: Record<string, {dependencies?: Record<string, string>}>}
    lock.packages['']!.dependencies = RANGES
    writeFileSync(path.join(project, 'package-lock.json'), JSON.stringify(lock, null, 2))
    writeFileSync(path.join(project, 'package.json'), JSON.stringify({name: 'fidelity', version: '1.0.0', dependencies: RANGES, devDependencies: {'is-number': '7.0.0'}}))

    const npmSets: Record<string, string[]> = {}
    for (const [architecture, flags] of [['x86_64', []], ['arm64', ['--cpu=arm64', '--os=linux', '--libc=glibc']]] as const) {
      const copy = path.join(root, `npm-${architecture}`)
      mkdirSync(copy)
      for (const file of ['package.json', 'package-lock.json']) cpSync(path.join(project, file), path.join(copy, file))
      await run('npm', ['ci', '--omit=dev', '--ignore-scripts', ...flags], {cwd: copy, env})
      npmSets[architecture] = installed(copy)
    }
    expect(npmSets.x86_64).toContain('@img/sharp-linux-x64@0.33.2')
    expect(npmSets.arm64).toContain('@img/sharp-linux-arm64@0.33.2')

    writeFileSync(path.join(project, '.npmrc'), `cache=${path.join(root, 'npm-cache')}\n`)
    writeFileSync(
      path.join(project, 'layers.yaml'),
      ['version: 1', 'settings:', '  regions: [us-east-1]', '  architectures: [x86_64, arm64]', '  runtimes: [nodejs22.x]', 'layers:', '  deps:', '    npm: ./package.json', ''].join('\n'),
    )
    await lockProject({manifestPath: path.join(project, 'layers.yaml'), emit: () => {}, npmConfig: {env: {}, home: path.join(root, 'home'), globalPrefix: path.join(root, 'no-global')}})
    const locked = (JSON.parse(readFileSync(path.join(project, 'lockfile.json'), 'utf8')) as Lockfile).layers.deps
    if (locked?.kind !== 'npm') throw new Error('npm layer expected')
    const layerSet = (architecture: string): string[] =>
      [...new Set(Object.values(Object.values(locked.artifacts).find((artifact) => artifact.architectures.includes(architecture as 'x86_64'))!.packages!).map((pkg) => `${pkg.name}@${pkg.version}`))].sort()
    expect(layerSet('x86_64')).toEqual(npmSets.x86_64)
    expect(layerSet('arm64')).toEqual(npmSets.arm64)
    expect(layerSet('x86_64')).toContain('lodash@4.17.20')
  }, 300_000)
})
