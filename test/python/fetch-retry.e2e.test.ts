// `layers build` and `layers lock` of a pip layer (the built CLI) when the local index
// (test/support/pypi-index.ts) answers a download with faults: a 503 and a cut connection are tried
// again with pip's retry count, each wait said on stderr, with exact request counts; past the retries
// (PIP_RETRIES) the error names the wheel, the index and the last failure; a 404 fails at once. The
// project page layers reads for the lock is tried again the same way (requests counted by layers'
// User-Agent: uv reads the page too); a project no index has is exit 2 naming the index.
import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {runCli} from '../support/cli.js'
import {pipTestEnv, startPyPIIndex, type PyPIIndex} from '../support/pypi-index.js'
import {hasUv} from '../support/uv.js'

const WHEEL = 'flaky-1.0-py3-none-any.whl'
let index: PyPIIndex
let dir: string
let env: NodeJS.ProcessEnv

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'layers-pip-retry-'))
  index = await startPyPIIndex()
  index.publish({name: 'flaky', version: '1.0', metadata: ['License-Expression: MIT'], wheels: [{tag: 'py3-none-any'}]})
  env = pipTestEnv(index.url, dir)
})

afterAll(async () => {
  await index?.close()
  if (dir) rmSync(dir, {recursive: true, force: true})
})

const requestsFor = (file: string): number => index.requests.filter((request) => request.endsWith(`/files/${file}`)).length
/** layers' own reads of a project page (uv's, with its own User-Agent, not counted). */
const pageReads = (project: string): number => index.requests.filter((request, at) => request === `GET /simple/${project}/` && index.userAgents[at]!.startsWith('layers')).length

/** Builds with nothing cached (no build cache, no wheel cache), so the wheel is downloaded. */
function build(args: string[], extraEnv: NodeJS.ProcessEnv = {}) {
  rmSync(path.join(dir, '.layers'), {recursive: true, force: true})
  rmSync(path.join(dir, '.cache', 'layers'), {recursive: true, force: true})
  return runCli(['build', ...args], {cwd: dir, env: {...env, ...extraEnv}})
}

describe.skipIf(!hasUv)('pip layer downloads when the index answers with faults', () => {
  it('build: a 503 then a cut connection are tried again (3 requests, 2 waits said); past PIP_RETRIES the error names wheel, index and failure; a 404 at once', async () => {
    writeFileSync(path.join(dir, 'layers.yaml'), 'version: 1\nsettings:\n  regions: [us-east-1]\nlayers:\n  deps:\n    pip: {flaky: "*"}\n    runtimes: [python3.12]\n    architectures: [x86_64]\n')
    const lock = await runCli(['lock', '--json'], {cwd: dir, env})
    expect(lock.code, lock.stderr).toBe(0)

    let before = requestsFor(WHEEL)
    index.failNext(WHEEL, [503, 'reset'])
    const recovered = await build([])
    expect(recovered.code, recovered.stderr).toBe(0)
    expect(requestsFor(WHEEL) - before).toBe(3)
    expect(recovered.stderr).toContain(`Waiting 0.5 s to fetch ${WHEEL} (layer deps) again: attempt 1 of 6 failed (E503).\n`)
    expect(recovered.stderr).toMatch(new RegExp(`Waiting 1\\.0 s to fetch ${WHEEL.replace(/\./g, '\\.')} \\(layer deps\\) again: attempt 2 of 6 failed \\((ECONNRESET|UND_ERR_SOCKET)\\)\\.\n`))
    expect(existsSync(path.join(dir, '.layers', 'build'))).toBe(true)

    before = requestsFor(WHEEL)
    index.failNext(WHEEL, [503, 503, 503])
    const failed = await build(['--json'], {PIP_RETRIES: '1'})
    expect(failed.code, failed.stderr).toBe(1)
    expect(requestsFor(WHEEL) - before).toBe(2)
    expect(failed.json.error.code).toBe('ERR_LAYERS_PYTHON_FETCH')
    expect(failed.json.error.message).toBe(`Layer deps (python3.12): cannot fetch ${WHEEL} from ${index.publicUrl.replace('/simple/', '/files/')}${WHEEL} (index ${index.publicUrl}): HTTP 503, after 2 attempts.`)
    expect(failed.json.error.details).toMatchObject({layer: 'deps', package: 'flaky', index: index.publicUrl, attempts: 2})
    index.failNext(WHEEL, [])

    before = requestsFor(WHEEL)
    index.failNext(WHEEL, [404])
    const missing = await build(['--json'])
    expect(missing.code, missing.stderr).toBe(1)
    expect(requestsFor(WHEEL) - before).toBe(1)
    expect(missing.json.error.message).toContain(`(index ${index.publicUrl}): HTTP 404.`)
  })

  it('lock: a 503 on the PEP 658 metadata read for the licence is tried again, the wait said; the licence is locked', async () => {
    rmSync(path.join(dir, 'lockfile.json'), {force: true})
    const metadata = `${WHEEL}.metadata`
    const before = requestsFor(metadata)
    index.failNext(metadata, [503], {userAgent: 'layers'})
    const lock = await runCli(['lock'], {cwd: dir, env})
    expect(lock.code, lock.stderr).toBe(0)
    expect(lock.stderr).toContain(`Waiting 0.5 s to fetch the core metadata of ${WHEEL} (layer deps, for its licence) again: attempt 1 of 6 failed (E503).\n`)
    // layers read it twice (the 503, then the file); uv, which resolves first, at most once more.
    expect(requestsFor(metadata) - before).toBeGreaterThanOrEqual(2)
    expect(requestsFor(metadata) - before).toBeLessThanOrEqual(3)
    expect(readFileSync(path.join(dir, 'lockfile.json'), 'utf8')).toContain('"license": "MIT"')
  })

  it('lock: the project page is tried again after a 503 and a cut connection (3 reads, 2 waits said); past PIP_RETRIES exit 1 naming the page; a 404 from the only index is exit 2 at once; a misspelt project is exit 2 naming the index', async () => {
    const page = `${index.publicUrl}flaky/`
    // Under --json the waits are not said: the first run is without it.
    const lock = (args: string[] = ['--json']) => {
      rmSync(path.join(dir, 'lockfile.json'), {force: true})
      return runCli(['lock', ...args], {cwd: dir, env: {...env, PIP_RETRIES: '2'}})
    }
    let before = pageReads('flaky')
    index.failNext('flaky/', [503, 'reset'], {userAgent: 'layers'})
    const recovered = await lock([])
    expect(recovered.code, recovered.stderr).toBe(0)
    expect(pageReads('flaky') - before).toBe(3)
    expect(recovered.stderr).toContain(`Waiting 0.5 s to fetch the page of flaky on ${index.publicUrl} again: attempt 1 of 3 failed (E503).\n`)
    expect(recovered.stderr).toMatch(/Waiting 1\.0 s to fetch the page of flaky on \S+ again: attempt 2 of 3 failed \((ECONNRESET|UND_ERR_SOCKET)\)\.\n/)
    expect(readFileSync(path.join(dir, 'lockfile.json'), 'utf8')).toContain('"flaky"')

    before = pageReads('flaky')
    index.failNext('flaky/', [503, 503, 503, 503], {userAgent: 'layers'})
    const failed = await lock()
    expect(failed.code, failed.stderr).toBe(1)
    expect(pageReads('flaky') - before).toBe(3)
    expect(failed.json.error).toMatchObject({code: 'ERR_LAYERS_PYTHON_INDEX_UNREACHABLE', message: `Cannot read ${page}: HTTP 503, after 3 attempts.`})
    expect(existsSync(path.join(dir, 'lockfile.json'))).toBe(false)
    index.failNext('flaky/', [])

    before = pageReads('flaky')
    index.failNext('flaky/', [404], {userAgent: 'layers'})
    const missing = await lock()
    expect(missing.code, missing.stderr).toBe(2)
    expect(pageReads('flaky') - before).toBe(1)
    expect(missing.json.error.code).toBe('ERR_LAYERS_PYTHON_NO_WHEEL')
    expect(missing.json.error.message).toContain(`no configured index lists flaky (${index.publicUrl})`)

    // A project no index has (a typo in layers.yaml): uv finds none, exit 2 naming the index.
    writeFileSync(path.join(dir, 'layers.yaml'), readFileSync(path.join(dir, 'layers.yaml'), 'utf8').replace('flaky:', 'flakyy:'))
    const typo = await lock()
    expect(typo.code, typo.stderr).toBe(2)
    expect(typo.json.error.code).toBe('ERR_LAYERS_PYTHON_NO_PROJECT')
    expect(typo.json.error.message).toMatch(new RegExp(`^No such project on ${index.publicUrl.replace(/\./g, '\\.')}: flakyy \\(layer deps `))
  })
})
