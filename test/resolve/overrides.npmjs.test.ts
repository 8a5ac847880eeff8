// Fidelity against the real npm registry (needs the network; skipped without it; `*.npmjs.test.ts`
// names the tests that reach registry.npmjs.org): express 4.21.2 with `"overrides": {"ms": "2.1.3"}`
// (the issue's case) and with a nested rule, locked by layers and by `npm install --package-lock-only
// --ignore-scripts` from the same package.json, give the same name@version set.
import {execFile} from 'node:child_process'
import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {promisify} from 'node:util'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {runCli} from '../support/cli.js'

const run = promisify(execFile)
const REGISTRY = 'https://registry.npmjs.org/'
const available = await fetch(`${REGISTRY}ms`, {method: 'HEAD', signal: AbortSignal.timeout(5000)}).then(
  (response) => response.ok,
  () => false,
)

let root: string
beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'layers-overrides-npmjs-'))
})
afterAll(async () => {
  if (root) await rm(root, {recursive: true, force: true, maxRetries: 5})
})

const cleanEnv = (): NodeJS.ProcessEnv => ({...Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_config_/i.test(key))), HOME: root})

/** name@version of every package in a lock's tree (folder name, as both tools key them). */
function nameVersions(packages: Record<string, {version?: string}>): string[] {
  return [...new Set(Object.entries(packages).filter(([key]) => key !== '').map(([key, pkg]) => `${key.slice(key.lastIndexOf('node_modules/') + 13)}@${pkg.version}`))].sort()
}

describe.skipIf(!available)('npm overrides against registry.npmjs.org', () => {
  it.each([
    ['a bare name', {ms: '2.1.3'}],
    ['a nested rule', {send: {ms: '2.1.2'}, debug: {ms: '$ms'}}],
  ])('%s: the layer holds what npm installs', async (_what, overrides) => {
    const dir = await mkdtemp(path.join(root, 'case-'))
    const pkg = {name: 'app', version: '1.0.0', dependencies: {express: '4.21.2'}, devDependencies: {ms: '2.1.3'}, overrides}
    await writeFile(path.join(dir, 'package.json'), JSON.stringify(pkg))
    await writeFile(path.join(dir, '.npmrc'), `registry=${REGISTRY}\ncache=${path.join(root, 'npm-cache')}\n`)
    await writeFile(path.join(dir, 'layers.yaml'), ['version: 1', 'settings:', '  regions: [us-east-1]', '  architectures: [x86_64]', '  runtimes: [nodejs22.x]', 'layers:', '  web:', '    npm: ./package.json', ''].join('\n'))
    await run('npm', ['install', '--package-lock-only', '--ignore-scripts', '--no-audit', '--no-fund'], {cwd: dir, env: cleanEnv(), timeout: 120_000})
    const npmLock = JSON.parse(await readFile(path.join(dir, 'package-lock.json'), 'utf8')) as {packages: Record<string, {version?: string; dev?: boolean}>}
    const npmProd = Object.fromEntries(Object.entries(npmLock.packages).filter(([, value]) => !value.dev))
    const locked = await runCli(['lock', '--json'], {cwd: dir, env: cleanEnv()})
    expect(locked.code, locked.stderr).toBe(0)
    const lock = JSON.parse(await readFile(path.join(dir, 'lockfile.json'), 'utf8'))
    const ours = Object.values(lock.layers.web.artifacts as Record<string, {packages: Record<string, {version: string}>}>)[0]!.packages
    expect(nameVersions(ours)).toEqual(nameVersions(npmProd))
    if ('ms' in overrides && overrides.ms === '2.1.3') expect(nameVersions(ours).filter((id) => id.startsWith('ms@'))).toEqual(['ms@2.1.3'])
  }, 180_000)
})
