// The lockfile checks of pip wheels (src/lock/check.ts, src/python/config.ts): a wheel is fetched only
// with a hex sha256, a wheel file name of the project it is keyed under, a Python runtime, no
// credentials in its URL and a configured index on whose host the file is; and the index
// configuration read from pip's and uv's environment and pip.conf, credentials kept out of `public`.
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import {checkLockfileContent} from '../../src/lock/check.js'
import type {Lockfile, LockedWheel} from '../../src/lock/types.js'
import {authorizationFor, loadPythonIndexes} from '../../src/python/config.js'

const temps: string[] = []
afterEach(() => {
  for (const dir of temps.splice(0)) rmSync(dir, {recursive: true, force: true})
})

const npmPolicy = {registries: ['https://registry.npmjs.org/'], replaceRegistryHost: 'npmjs'}
const pypi = {indexes: [{url: 'https://pypi.org/simple/', public: 'https://pypi.org/simple/'}]}
const good: LockedWheel = {name: 'requests', version: '2.32.3', filename: 'requests-2.32.3-py3-none-any.whl', url: 'https://files.pythonhosted.org/packages/f9/requests-2.32.3-py3-none-any.whl', sha256: 'a'.repeat(64), index: 'https://pypi.org/simple/'}

function lockWith(wheels: Record<string, Record<string, LockedWheel>>): Lockfile {
  return {lockfileVersion: 1, layers: {py: {kind: 'pip', inputs: 'sha256-x', artifacts: {x86_64: {architectures: ['x86_64'], wheels}}}}}
}

describe('locked wheels', () => {
  it('accepts a wheel of a configured index and refuses every other', () => {
    expect(checkLockfileContent(lockWith({'python3.12': {requests: good}}), npmPolicy, pypi)).toEqual([])
    const bad: Record<string, LockedWheel> = {
      requests: {...good, url: 'https://user:pw@files.pythonhosted.org/requests-2.32.3-py3-none-any.whl'},
      urllib3: {...good, name: 'urllib3', filename: 'urllib3-2.0-py3-none-any.whl', url: 'https://evil.example/urllib3-2.0-py3-none-any.whl'},
      idna: {...good, name: 'idna', filename: 'idna-3.7-py3-none-any.whl', index: 'https://evil.example/simple/'},
      certifi: {...good, name: 'certifi', filename: 'requests-2.32.3-py3-none-any.whl'},
      six: {...good, name: 'six', filename: 'six-1.16.0-py2.py3-none-any.whl', sha256: 'sha256-abc'},
      evil: {...good, name: 'evil', filename: '../evil-1.0-py3-none-any.whl'},
    }
    const problems = checkLockfileContent(lockWith({'python3.12': bad, 'python2.7': {requests: good}}), npmPolicy, pypi)
    expect(problems.map((problem) => [problem.path.join('.'), problem.message.replace(/^Layer py \(x86_64, python3\.12\): the wheel of /, '')])).toEqual([
      ['layers.py.artifacts.x86_64.wheels.python3.12.requests', 'requests has a url with credentials in it (credentials belong in pip.conf or uv.toml, never in the lockfile).'],
      ['layers.py.artifacts.x86_64.wheels.python3.12.urllib3', 'urllib3 has url https://evil.example/urllib3-2.0-py3-none-any.whl on evil.example, not on its index\'s host files.pythonhosted.org or pypi.org.'],
      ['layers.py.artifacts.x86_64.wheels.python3.12.idna', 'idna comes from index "https://evil.example/simple/", which is not a configured index (https://pypi.org/simple/).'],
      ['layers.py.artifacts.x86_64.wheels.python3.12.certifi', 'certifi is keyed "certifi" but its file requests-2.32.3-py3-none-any.whl is a distribution of requests.'],
      ['layers.py.artifacts.x86_64.wheels.python3.12.six', 'six has no sha256 (every wheel must carry its hex sha256, verified on fetch).'],
      ['layers.py.artifacts.x86_64.wheels.python3.12.evil', 'evil has file name "../evil-1.0-py3-none-any.whl", which is not a wheel or sdist file name.'],
      ['layers.py.artifacts.x86_64.wheels.python2.7', 'Layer py (x86_64): "python2.7" is not a Python runtime layers resolves for.'],
    ])
  })
})

describe('Python index configuration', () => {
  it('takes the default index and the extra ones from the environment and pip.conf, keeping credentials out of public', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'layers-pyconf-'))
    temps.push(dir)
    const conf = path.join(dir, 'pip.conf')
    writeFileSync(conf, '[global]\nindex-url = https://ignored.example/simple\nextra-index-url = https://extra.example/simple/\n')
    const env = {PIP_CONFIG_FILE: conf, UV_DEFAULT_INDEX: 'https://deploy:t%40ken@pypi.corp.example/simple', UV_NO_CONFIG: '1', XDG_CONFIG_HOME: dir}
    const config = loadPythonIndexes(dir, {env, home: dir})
    expect(config.indexes.map((index) => index.public)).toEqual(['https://pypi.corp.example/simple/', 'https://extra.example/simple/'])
    expect(config.indexes[0]!.url).toBe('https://deploy:t%40ken@pypi.corp.example/simple/')
    expect(authorizationFor('https://pypi.corp.example/files/x.whl', config)).toBe('Basic ' + Buffer.from('deploy:t@ken').toString('base64'))
    expect(authorizationFor('https://extra.example/files/x.whl', config)).toBeUndefined()
    expect(loadPythonIndexes(dir, {env: {XDG_CONFIG_HOME: dir, UV_NO_CONFIG: '1'}, home: dir}).indexes.map((index) => index.public)).toEqual(['https://pypi.org/simple/'])
  })

  it("reads pip's retries and timeout (environment first, then pip.conf), its defaults otherwise, and refuses other values naming where", () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'layers-pyconf-'))
    temps.push(dir)
    const conf = path.join(dir, 'pip.conf')
    writeFileSync(conf, '[global]\nretries = 3\ntimeout = 2.5\n')
    const base = {UV_NO_CONFIG: '1', XDG_CONFIG_HOME: dir}
    expect(loadPythonIndexes(dir, {env: base, home: dir}).network).toEqual({retries: 5, timeoutMs: 15_000})
    expect(loadPythonIndexes(dir, {env: {...base, PIP_CONFIG_FILE: conf}, home: dir}).network).toEqual({retries: 3, timeoutMs: 2500})
    expect(loadPythonIndexes(dir, {env: {...base, PIP_CONFIG_FILE: conf, PIP_RETRIES: '0', PIP_DEFAULT_TIMEOUT: '60'}, home: dir}).network).toEqual({retries: 0, timeoutMs: 60_000})
    expect(() => loadPythonIndexes(dir, {env: {...base, PIP_RETRIES: 'many'}, home: dir})).toThrow(expect.objectContaining({code: 'ERR_LAYERS_PYTHON_CONFIG', message: '$PIP_RETRIES is "many", not a whole number of retries from 0 to 20.'}))
    writeFileSync(conf, '[global]\ntimeout = 0\n')
    expect(() => loadPythonIndexes(dir, {env: {...base, PIP_CONFIG_FILE: conf}, home: dir})).toThrow(expect.objectContaining({code: 'ERR_LAYERS_PYTHON_CONFIG', message: `${conf} [global] timeout is "0", not a number of seconds above 0 and up to 600.`}))
  })
})
