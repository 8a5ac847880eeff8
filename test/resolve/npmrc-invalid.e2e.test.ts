// A project .npmrc with a value of the wrong type, through the built CLI: `lock` exits 2 with
// ERR_LAYERS_NPMRC_INVALID at the .npmrc's file:line, naming the key and the value (a URL's credentials hidden), before anything
// is fetched (the registry is not reachable here: a fetch would fail differently) or written; so does
// a proxy environment variable that is not an http(s) URL (ERR_LAYERS_PROXY_ENV, naming the variable).
import {existsSync} from 'node:fs'
import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {runCli} from '../support/cli.js'

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'layers-npmrc-e2e-'))
  await writeFile(path.join(dir, 'layers.yaml'), 'version: 1\nsettings:\n  regions: [eu-west-1]\nlayers:\n  deps:\n    npm:\n      left-pad: ^1.3.0\n')
})
afterAll(async () => {
  if (dir) await rm(dir, {recursive: true, force: true})
})

/** Without the npm_config_* variables `npx` passes down, so the project's .npmrc decides. */
function env(): NodeJS.ProcessEnv {
  const unset = Object.fromEntries(Object.keys(process.env).filter((key) => /^npm_config_/i.test(key)).map((key) => [key, undefined]))
  return {...unset, HOME: dir, CI: 'true'}
}

describe('an invalid .npmrc value', () => {
  it.each([
    ['registry=ftp://mirror.example/npm/', 'registry = "ftp://mirror.example/npm/"', 'is not an http:// or https:// URL.'],
    ['strict-ssl=maybe', 'strict-ssl = "maybe"', 'is not true or false.'],
    ['fetch-timeout=abc', 'fetch-timeout = "abc"', 'is not a number.'],
    // Proxies: an http(s) or SOCKS URL; the credentials of what is shown are hidden.
    ['https-proxy=ftp://deploy:s3cret@proxy.example:21', 'https-proxy = "ftp://***@proxy.example:21"', 'is not an http://, https:// or socks5:// (socks, socks4, socks4a, socks5h) URL.'],
    ['proxy=deploy:s3cret@proxy.example:8080', 'proxy = "***@proxy.example:8080"', 'is not an http://, https:// or socks5:// (socks, socks4, socks4a, socks5h) URL.'],
    ['proxy=proxy.example:8080', 'proxy = "proxy.example:8080"', 'is not an http://, https:// or socks5:// (socks, socks4, socks4a, socks5h) URL.'],
  ])('%s: lock exits 2 at the .npmrc line, writing nothing', async (line, setting, problem) => {
    const npmrc = path.join(dir, '.npmrc')
    await writeFile(npmrc, `; the team's settings\n${line}\n`)
    const result = await runCli(['lock', '--json'], {cwd: dir, env: env()})
    expect(result.code, result.stderr).toBe(2)
    expect(result.json.error).toMatchObject({code: 'ERR_LAYERS_NPMRC_INVALID', message: `${setting} in ${npmrc} (line 2) ${problem}`, location: `${npmrc}:2:1`, hint: expect.stringMatching(/^Set /)})
    expect(existsSync(path.join(dir, 'lockfile.json'))).toBe(false)
    expect(result.stdout + result.stderr).not.toContain('s3cret')
  })
})

describe('an invalid proxy environment variable', () => {
  it('HTTPS_PROXY without a scheme: lock exits 2 naming the variable, its credentials hidden, writing nothing', async () => {
    await writeFile(path.join(dir, '.npmrc'), '')
    const result = await runCli(['lock', '--json'], {cwd: dir, env: {...env(), HTTPS_PROXY: 'deploy:s3cret@proxy.example:3128', https_proxy: undefined, HTTP_PROXY: undefined, http_proxy: undefined, NO_PROXY: undefined, no_proxy: undefined}})
    expect(result.code, result.stderr).toBe(2)
    expect(result.json.error).toMatchObject({code: 'ERR_LAYERS_PROXY_ENV', message: 'The environment variable HTTPS_PROXY is "***@proxy.example:3128", not an http://, https:// or socks5:// (socks, socks4, socks4a, socks5h) URL.', details: {variable: 'HTTPS_PROXY'}})
    expect(existsSync(path.join(dir, 'lockfile.json'))).toBe(false)
    expect(result.stdout + result.stderr).not.toContain('s3cret')
  })
})
