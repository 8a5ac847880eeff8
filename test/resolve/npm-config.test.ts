import {mkdir, mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {LayersError} from '../../src/errors/index.js'
import {describeNpmOptions, loadNpmOptions} from '../../src/npm/config.js'

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

  it('reads certificates from cafile and keeps proxies', async () => {
    const cert = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----'
    await writeFile(path.join(dir, 'ca.pem'), `${cert}\n${cert}\n`)
    await writeFile(path.join(project, '.npmrc'), `cafile=${path.join(dir, 'ca.pem')}\nhttps-proxy=http://proxy.example:3128\nnoproxy=localhost,127.0.0.1\n`)
    const options = await load()
    expect(options.ca).toEqual([cert, cert])
    expect(options.httpsProxy).toBe('http://proxy.example:3128')
    expect(options.noProxy).toBe('localhost,127.0.0.1')
  })
})
