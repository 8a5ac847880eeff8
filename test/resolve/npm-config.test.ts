import {mkdir, mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {LayersError} from '../../src/errors/index.js'
import {describeNpmOptions, loadNpmOptions, loadRegistryPolicy} from '../../src/npm/config.js'

let dir: string
let project: string
let home: string
let globalPrefix: string

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'layers-npmrc-'))
  project = path.join(dir, 'project')
  home = path.join(dir, 'home')
  globalPrefix = path.join(dir, 'global', 'etc')
  await Promise.all([mkdir(project), mkdir(home), mkdir(globalPrefix, {recursive: true})])
})

afterEach(async () => {
  await rm(dir, {recursive: true, force: true})
})

const load = (env: NodeJS.ProcessEnv = {}) => loadNpmOptions(project, {env, home, globalPrefix})

describe('loadNpmOptions', () => {
  it('defaults to the public registry and ~/.npm/_cacache with npm retry settings', async () => {
    const options = await load()
    expect(options).toMatchObject({
      registry: 'https://registry.npmjs.org/',
      cache: path.join(home, '.npm', '_cacache'),
      retry: {retries: 2, factor: 10, minTimeout: 10_000, maxTimeout: 60_000},
      strictSSL: true,
    })
  })

  it('layers global < user < project < npm_config_* and expands ${VAR}', async () => {
    await writeFile(path.join(globalPrefix, 'npmrc'), 'registry=https://global.example/\nfetch-retries=7\n')
    await writeFile(path.join(home, '.npmrc'), 'registry=https://user.example/npm\n@corp:registry=https://corp.example/\n//corp.example/:_authToken=${CORP_TOKEN}\ncache=~/custom-cache\n')
    await writeFile(path.join(project, '.npmrc'), '@team:registry=https://team.example/r/\n//team.example/r/:_authToken=${TEAM_TOKEN?}\nfetch-retry-mintimeout=5\nlegacy-peer-deps=true\n; a comment\n')
    const options = await load({CORP_TOKEN: 'corp-secret', npm_config_fetch_retry_maxtimeout: '20', NPM_CONFIG_STRICT_SSL: 'false'})
    expect(options.registry).toBe('https://user.example/npm/')
    expect(options['@corp:registry']).toBe('https://corp.example/')
    expect(options['@team:registry']).toBe('https://team.example/r/')
    expect(options['//corp.example/:_authToken']).toBe('corp-secret')
    expect(options['//team.example/r/:_authToken']).toBe('')
    expect(options.cache).toBe(path.join(home, 'custom-cache', '_cacache'))
    expect(options.retry).toEqual({retries: 7, factor: 10, minTimeout: 5, maxTimeout: 20})
    expect(options.strictSSL).toBe(false)
    expect(options.legacyPeerDeps).toBe(true)
    const described = describeNpmOptions(options)
    expect(described).toEqual({
      registry: 'https://user.example/npm/',
      scopes: {'@corp': 'https://corp.example/', '@team': 'https://team.example/r/'},
      authenticated: ['//corp.example/', '//team.example/r/'],
      cache: path.join(home, 'custom-cache', '_cacache'),
    })
    expect(JSON.stringify(described)).not.toContain('corp-secret')
  })

  it('reads the user config named by npm_config_userconfig and the cache from npm_config_cache', async () => {
    const other = path.join(dir, 'other.npmrc')
    await writeFile(other, 'registry=http://127.0.0.1:4873\n')
    await writeFile(path.join(home, '.npmrc'), 'registry=https://ignored.example/\n')
    const options = await load({npm_config_userconfig: other, npm_config_cache: path.join(dir, 'c')})
    expect(options.registry).toBe('http://127.0.0.1:4873/')
    expect(options.cache).toBe(path.join(dir, 'c', '_cacache'))
  })

  it('refuses an unset ${VAR}, a non-numeric retry count and an unreadable cafile, naming file and setting', async () => {
    await writeFile(path.join(project, '.npmrc'), '//r.example/:_authToken=${MISSING_TOKEN}\n')
    const missing = await load().catch((error: unknown) => error)
    expect(missing).toBeInstanceOf(LayersError)
    expect((missing as LayersError).code).toBe('ERR_LAYERS_NPMRC_ENV')
    expect((missing as LayersError).exitCode).toBe(2)
    expect((missing as LayersError).message).toBe(`${path.join(project, '.npmrc')}: the value of //r.example/:_authToken uses \${MISSING_TOKEN}, which is not set in the environment.`)

    await writeFile(path.join(project, '.npmrc'), 'fetch-retries=many\n')
    const retries = await load().catch((error: unknown) => error)
    expect((retries as LayersError).code).toBe('ERR_LAYERS_NPMRC_INVALID')
    expect((retries as LayersError).message).toContain('fetch-retries')

    await writeFile(path.join(project, '.npmrc'), `cafile=${path.join(dir, 'nope.pem')}\n`)
    const cafile = await load().catch((error: unknown) => error)
    expect((cafile as LayersError).code).toBe('ERR_LAYERS_NPMRC_CAFILE')
  })

  it('refuses a registry that is not an http(s) URL, a boolean that is not true or false and a number that is not one, naming file, line, key and value', async () => {
    const npmrc = path.join(project, '.npmrc')
    const refused = async (text: string, env: NodeJS.ProcessEnv = {}): Promise<LayersError> => {
      await writeFile(npmrc, text)
      const error = await load(env).catch((caught: unknown) => caught)
      expect(error).toBeInstanceOf(LayersError)
      expect((error as LayersError).code).toBe('ERR_LAYERS_NPMRC_INVALID')
      expect((error as LayersError).exitCode).toBe(2)
      return error as LayersError
    }
    const ftp = await refused('; the team mirror\nregistry=ftp://deploy:s3cret@mirror.example/npm/\n')
    expect(ftp.message).toBe(`registry = "ftp://***@mirror.example/npm/" in ${npmrc} (line 2) is not an http:// or https:// URL.`)
    expect(ftp.location).toEqual({file: npmrc, line: 2, column: 1})
    expect(ftp.hint).toBe('Set registry to the registry\'s URL, e.g. registry=https://registry.npmjs.org/, or remove the line.')
    expect((await refused('fetch-retries=2\n"registry" = not a url\n')).message).toBe(`registry = "not a url" in ${npmrc} (line 2) is not an http:// or https:// URL.`)
    expect((await refused('registry=https://registry.npmjs.org/\n@corp:registry = ftp://corp.example/\n')).message).toBe(`@corp:registry = "ftp://corp.example/" in ${npmrc} (line 2) is not an http:// or https:// URL.`)
    const strict = await refused('strict-ssl=maybe\n')
    expect(strict.message).toBe(`strict-ssl = "maybe" in ${npmrc} (line 1) is not true or false.`)
    expect(strict.hint).toBe('Set strict-ssl=true or strict-ssl=false, or remove the line.')
    const timeout = await refused('fetch-timeout=abc\n')
    expect(timeout.message).toBe(`fetch-timeout = "abc" in ${npmrc} (line 1) is not a number.`)
    expect(timeout.hint).toBe('Set fetch-timeout to a non-negative number, e.g. fetch-timeout=300000 (the default), or remove the line.')
    // The last line of a key wins, as in ini; a value from the environment names its variable.
    expect((await refused('offline=false\noffline=yes\n')).location?.line).toBe(2)
    expect((await refused('', {NPM_CONFIG_PREFER_OFFLINE: 'sometimes'})).message).toBe('prefer-offline = "sometimes" from the environment variable NPM_CONFIG_PREFER_OFFLINE is not true or false.')
    // A user config: its own path and line.
    await writeFile(path.join(home, '.npmrc'), 'maxsockets=-1\n')
    expect((await refused('')).message).toBe(`maxsockets = "-1" in ${path.join(home, '.npmrc')} (line 1) is not a number.`)
    await writeFile(path.join(home, '.npmrc'), '')

    // The registries a lockfile is checked against are read the same way.
    await writeFile(npmrc, '@corp:registry=not a url\n')
    expect(() => loadRegistryPolicy(project, {env: {}, home, globalPrefix})).toThrowError(expect.objectContaining({code: 'ERR_LAYERS_NPMRC_INVALID', message: `@corp:registry = "not a url" in ${npmrc} (line 1) is not an http:// or https:// URL.`}))
  })

  it('accepts what npm documents: http(s) registries, true/false in any case or empty, numbers; ignores keys of [sections]', async () => {
    await writeFile(path.join(project, '.npmrc'), 'registry=http://127.0.0.1:4873\n@corp:registry=HTTPS://corp.example/r\nstrict-ssl=FALSE\noffline=\nprefer-online=True\nfetch-timeout=\nmaxsockets=4\n[section]\nregistry=not a url\nstrict-ssl=maybe\n')
    const options = await load()
    expect(options).toMatchObject({registry: 'http://127.0.0.1:4873/', '@corp:registry': 'HTTPS://corp.example/r/', strictSSL: false, preferOnline: true, timeout: 300_000, maxSockets: 4})
    expect(options.offline).toBeUndefined()
  })

  it('reads certificates from cafile and keeps proxies', async () => {
    const cert = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----'
    await writeFile(path.join(dir, 'ca.pem'), `${cert}\n${cert}\n`)
    await writeFile(path.join(project, '.npmrc'), `cafile=${path.join(dir, 'ca.pem')}\nhttps-proxy=http://proxy.example:3128\nnoproxy=localhost,127.0.0.1\n`)
    const options = await load()
    expect(options.ca).toEqual([cert, cert])
    expect(options.httpsProxy).toBe('http://proxy.example:3128')
    expect(options.noProxy).toBe('localhost,127.0.0.1')
  })

  it('takes proxy and https-proxy only as http(s) or SOCKS URLs (null, false or empty: none) and noproxy as a list', async () => {
    await writeFile(path.join(project, '.npmrc'), 'proxy=null\nhttps-proxy=https://deploy:s3cret@proxy.example:3128/\nnoproxy[]=localhost\nnoproxy[]=.corp.example\n')
    const options = await load()
    expect(options.proxy).toBeUndefined()
    expect(options.httpsProxy).toBe('https://deploy:s3cret@proxy.example:3128/')
    expect(options.noProxy).toBe('localhost,.corp.example')
    await writeFile(path.join(project, '.npmrc'), 'https-proxy=ftp://deploy:s3cret@proxy.example/\n')
    const error = await load().then(() => undefined, (thrown: unknown) => thrown as Error & {code: string})
    expect(error).toMatchObject({code: 'ERR_LAYERS_NPMRC_INVALID', message: `https-proxy = "ftp://***@proxy.example/" in ${path.join(project, '.npmrc')} (line 1) is not an http://, https:// or socks5:// (socks, socks4, socks4a, socks5h) URL.`})
    expect(error!.message).not.toContain('s3cret')
    await writeFile(path.join(project, '.npmrc'), 'https-proxy=socks5://proxy.example:1080\n')
    expect((await load()).httpsProxy).toBe('socks5://proxy.example:1080')
  })

  it('refuses a noproxy entry that cannot match a host, at its line', async () => {
    await writeFile(path.join(project, '.npmrc'), 'registry=https://registry.npmjs.org/\nnoproxy=localhost,http://corp.example\n')
    const error = await load().then(() => undefined, (thrown: unknown) => thrown as Error & {code: string})
    expect(error).toMatchObject({code: 'ERR_LAYERS_NPMRC_INVALID', message: `noproxy = "localhost,http://corp.example" in ${path.join(project, '.npmrc')} (line 2) is not a list of host names and domains ("http://corp.example" is a URL, not a host name (write the host alone, e.g. registry.corp.example)).`})
  })

  it('falls back to HTTPS_PROXY / HTTP_PROXY / NO_PROXY (either case) as npm does, each checked: a bad one is ERR_LAYERS_PROXY_ENV naming it', async () => {
    await writeFile(path.join(project, '.npmrc'), '')
    expect(await load({https_proxy: 'http://secure.example:3128', HTTP_PROXY: 'http://plain.example:8080', NO_PROXY: 'localhost,.corp.example'})).toMatchObject({proxy: 'http://plain.example:8080', httpsProxy: 'http://secure.example:3128', noProxy: 'localhost,.corp.example'})
    expect(await load({http_proxy: 'http://plain.example:8080'})).toMatchObject({proxy: 'http://plain.example:8080', httpsProxy: 'http://plain.example:8080'})
    await writeFile(path.join(project, '.npmrc'), 'https-proxy=http://npmrc.example:3128\nnoproxy=.npmrc.example\n')
    expect(await load({HTTPS_PROXY: 'http://env.example:3128', NO_PROXY: 'localhost'})).toMatchObject({httpsProxy: 'http://npmrc.example:3128', noProxy: '.npmrc.example'})
    const error = await load({HTTPS_PROXY: 'deploy:s3cret@proxy.example:3128'}).then(() => undefined, (thrown: unknown) => thrown as Error & {code: string})
    expect(error).toMatchObject({code: 'ERR_LAYERS_PROXY_ENV', message: 'The environment variable HTTPS_PROXY is "***@proxy.example:3128", not an http://, https:// or socks5:// (socks, socks4, socks4a, socks5h) URL.'})
    expect(error!.message).not.toContain('s3cret')
  })
})
