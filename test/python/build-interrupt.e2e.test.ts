// `layers build` of a pip layer (the built CLI) interrupted while the index does not answer a wheel
// download (test/support/pypi-index.ts holds the request), or while it waits to try a download again
// after 503s: SIGTERM stops it within two seconds, exit 143, leaving no zip, no temp file and nothing in
// the wheel cache.
import {existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {runCli} from '../support/cli.js'
import {pipTestEnv, startPyPIIndex, type PyPIIndex} from '../support/pypi-index.js'
import {sigtermWhen} from '../support/sigterm.js'
import {hasUv} from '../support/uv.js'

let index: PyPIIndex
let dir: string

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'layers-pip-interrupt-'))
  index = await startPyPIIndex()
  index.publish({name: 'slow', version: '1.0', wheels: [{tag: 'py3-none-any'}]})
  index.publish({name: 'waity', version: '1.0', wheels: [{tag: 'py3-none-any'}]})
})

afterAll(async () => {
  await index?.close()
  if (dir) rmSync(dir, {recursive: true, force: true})
})

/** Every file under `root` (relative paths), none when it does not exist. */
function filesUnder(root: string): string[] {
  return existsSync(root) ? readdirSync(root, {recursive: true}).map(String).filter((file) => statSync(path.join(root, file)).isFile()) : []
}

/** Runs `layers build --json` in `dir`, sends SIGTERM once `ready()` holds, and checks it stopped within two seconds leaving nothing behind. */
async function interruptedBuild(env: NodeJS.ProcessEnv, ready: () => boolean): Promise<void> {
  const {code, seconds, stdout} = await sigtermWhen(['build', '--json'], dir, {...process.env, LAYERS_DEBUG: '', ...env}, ready)
  expect(code).toBe(143)
  expect(seconds).toBeLessThan(2)
  expect(JSON.parse(stdout).error.code).toBe('ERR_LAYERS_INTERRUPTED')
  expect(filesUnder(path.join(dir, '.layers', 'build'))).toEqual([])
  expect(filesUnder(path.join(dir, '.cache', 'layers', 'wheels'))).toEqual([])
}

describe.skipIf(!hasUv)('layers build of a pip layer interrupted', () => {
  it('SIGTERM while a wheel download hangs: exit 143 within two seconds, no zip, no temp file, nothing cached', async () => {
    writeFileSync(path.join(dir, 'layers.yaml'), 'version: 1\nsettings:\n  regions: [us-east-1]\nlayers:\n  deps:\n    pip: {slow: "*"}\n    runtimes: [python3.12]\n    architectures: [x86_64]\n')
    const env = pipTestEnv(index.url, dir)
    const lock = await runCli(['lock', '--json'], {cwd: dir, env})
    expect(lock.code, lock.stderr).toBe(0)
    index.stall('slow-1.0-py3-none-any.whl')
    await interruptedBuild(env, () => index.stalled > 0)
  })

  it('SIGTERM while it waits to fetch a wheel again (after three 503s, a 2 s wait): the same, within two seconds', async () => {
    writeFileSync(path.join(dir, 'layers.yaml'), 'version: 1\nsettings:\n  regions: [us-east-1]\nlayers:\n  deps:\n    pip: {waity: "*"}\n    runtimes: [python3.12]\n    architectures: [x86_64]\n')
    const env = pipTestEnv(index.url, dir)
    const lock = await runCli(['lock', '--json'], {cwd: dir, env})
    expect(lock.code, lock.stderr).toBe(0)
    const wheel = 'waity-1.0-py3-none-any.whl'
    index.failNext(wheel, [503, 503, 503, 503, 503, 503])
    const requests = (): number => index.requests.filter((request) => request.endsWith(`/files/${wheel}`)).length
    await interruptedBuild(env, () => requests() >= 3)
    expect(requests()).toBe(3)
  })
})
