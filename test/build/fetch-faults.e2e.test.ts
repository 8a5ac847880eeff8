// `layers build` (the built CLI) against the loopback npm registry when fetching a locked tarball goes
// wrong, with npm's default retry settings (10 s, then 60 s between attempts) unless a test says
// otherwise: other bytes than locked fail at once with ERR_LAYERS_INTEGRITY_MISMATCH (never waited on
// and tried again), whether the registry was tampered with or lockfile.json was edited; a cut
// connection and 5xx answers are tried again within the retry settings; SIGTERM while a tarball
// request hangs stops the build within two seconds, leaving no zip and no temp file.
import {existsSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'
import {cleanEnv, makeProject, manifestWith, type Project} from '../lock-cli/cli.js'
import {NpmRegistry} from '../support/npm-registry.js'
import {sigtermWhen} from '../support/sigterm.js'

/** npm's own retry settings, over the fast ones makeProject's .npmrc sets (environment wins). */
const NPM_DEFAULT_RETRIES = {npm_config_fetch_retries: '2', npm_config_fetch_retry_factor: '10', npm_config_fetch_retry_mintimeout: '10000', npm_config_fetch_retry_maxtimeout: '60000'}

let registry: NpmRegistry
const projects: Project[] = []

beforeAll(async () => {
  registry = await NpmRegistry.start()
})

afterAll(async () => {
  await registry.stop()
})

afterEach(async () => {
  registry.failNext(0).resetNext(0).stallTarballs(false)
  while (projects.length > 0) await projects.pop()!.cleanup()
})

/** A project whose layer `deps` holds `name@1.0.0` (published here), locked; the npm cache emptied after, so the build fetches the tarball. */
async function lockedProject(name: string): Promise<Project> {
  registry.publish(name, {version: '1.0.0'})
  const project = await makeProject(registry.url, manifestWith(`  deps:\n    npm:\n      ${name}: 1.0.0\n`))
  projects.push(project)
  const locked = await project.cli(['lock', '--json'])
  expect(locked.status, locked.stderr).toBe(0)
  forgetFetched(project)
  return project
}

/** Empties the npm cache and the build cache, so the next build fetches the tarballs again. */
function forgetFetched(project: Project): void {
  rmSync(path.join(path.dirname(project.dir), 'npm-cache'), {recursive: true, force: true})
  rmSync(path.join(project.dir, '.layers'), {recursive: true, force: true})
}

function tarballRequests(name: string): number {
  return registry.requests.filter((request) => request.url.startsWith(`/${name}/-/`)).length
}

/** Files under .layers/build: zips and temp files alike. */
function buildOutputs(project: Project): string[] {
  const buildDir = path.join(project.dir, '.layers', 'build')
  return existsSync(buildDir) ? readdirSync(buildDir, {recursive: true}).map(String).filter((file) => path.extname(file) !== '') : []
}

async function timedBuild(project: Project, env: NodeJS.ProcessEnv = NPM_DEFAULT_RETRIES) {
  const started = performance.now()
  const result = await project.cli(['build', '--json'], env)
  return {result, seconds: (performance.now() - started) / 1000}
}

describe('layers build when a tarball fetch goes wrong', () => {
  it('the registry serves other bytes than were locked: ERR_LAYERS_INTEGRITY_MISMATCH at once, naming package, layer, both integrities and the fix', async () => {
    const project = await lockedProject('tampered-leaf')
    const locked = registry.integrity('tampered-leaf', '1.0.0')
    registry.tamper('tampered-leaf', '1.0.0')
    const before = tarballRequests('tampered-leaf')
    const {result, seconds} = await timedBuild(project)
    expect(result.status, result.stderr).toBe(1)
    expect(seconds).toBeLessThan(10)
    const error = result.json.error
    expect(error.code).toBe('ERR_LAYERS_INTEGRITY_MISMATCH')
    expect(error.message).toContain('tampered-leaf@1.0.0 (node_modules/tampered-leaf) of layer deps')
    expect(error.message).toContain(`expected ${locked}, got sha512-`)
    expect(error.details).toMatchObject({layer: 'deps', package: 'tampered-leaf', version: '1.0.0', expected: locked, actual: expect.stringMatching(/^sha512-/)})
    expect(error.details.actual).not.toBe(locked)
    expect(error.hint).toContain('layers lock --update deps/tampered-leaf')
    // pacote's one immediate refetch (after dropping what it cached), never a wait-and-retry.
    expect(tarballRequests('tampered-leaf') - before).toBeLessThanOrEqual(2)
    expect(buildOutputs(project)).toEqual([])
  })

  it('lockfile.json was edited to another integrity: the same error, at once', async () => {
    const project = await lockedProject('edited-leaf')
    const file = path.join(project.dir, 'lockfile.json')
    const edited = 'sha512-' + Buffer.alloc(64, 7).toString('base64')
    writeFileSync(file, readFileSync(file, 'utf8').replace(registry.integrity('edited-leaf', '1.0.0'), edited))
    const {result, seconds} = await timedBuild(project)
    expect(result.status, result.stderr).toBe(1)
    expect(seconds).toBeLessThan(10)
    expect(result.json.error).toMatchObject({code: 'ERR_LAYERS_INTEGRITY_MISMATCH', details: {layer: 'deps', package: 'edited-leaf', expected: edited}})
    expect(buildOutputs(project)).toEqual([])
  })

  it('a cut connection and 5xx answers are tried again within the retry settings; past them the build fails naming the status', async () => {
    const fast = {npm_config_fetch_retries: '2', npm_config_fetch_retry_mintimeout: '50', npm_config_fetch_retry_maxtimeout: '200'}
    const project = await lockedProject('flaky-leaf')
    let before = tarballRequests('flaky-leaf')
    registry.resetNext(1)
    const reset = await timedBuild(project, fast)
    expect(reset.result.status, reset.result.stderr).toBe(0)
    expect(tarballRequests('flaky-leaf') - before).toBe(2)

    forgetFetched(project)
    before = tarballRequests('flaky-leaf')
    registry.failNext(2, 503)
    const recovered = await project.cli(['build'], fast)
    expect(recovered.status, recovered.stderr).toBe(0)
    expect(tarballRequests('flaky-leaf') - before).toBe(3)
    // Each wait says what it waits for.
    expect(recovered.stderr).toContain('Waiting 0.1 s to fetch the tarball of flaky-leaf@1.0.0 again: attempt 1 of 3 failed (E503).\nWaiting 0.2 s to fetch the tarball of flaky-leaf@1.0.0 again: attempt 2 of 3 failed (E503).\n')

    forgetFetched(project)
    before = tarballRequests('flaky-leaf')
    registry.failNext(10, 503)
    const failed = await timedBuild(project, fast)
    expect(failed.result.status, failed.result.stderr).toBe(1)
    expect(failed.result.json.error.code).toBe('ERR_LAYERS_TARBALL_FETCH')
    expect(failed.result.json.error.message).toContain('HTTP 503')
    expect(tarballRequests('flaky-leaf') - before).toBe(3)
    expect(buildOutputs(project)).toEqual([])
  })

  it('SIGTERM while the tarball request hangs: exit 143 within two seconds, no zip and no temp file left', async () => {
    const project = await lockedProject('hanging-leaf')
    registry.stallTarballs()
    const {code, seconds, stdout} = await sigtermWhen(['build', '--json'], project.dir, cleanEnv({HOME: project.home, LAYERS_DEBUG: '', ...NPM_DEFAULT_RETRIES}), () => registry.stalled > 0)
    expect(code).toBe(143)
    expect(seconds).toBeLessThan(2)
    expect(JSON.parse(stdout).error.code).toBe('ERR_LAYERS_INTERRUPTED')
    expect(buildOutputs(project)).toEqual([])
  })
})
