// Owns which Python package indexes a project uses, read from pip's and uv's configuration the way
// those tools read it: the environment (UV_DEFAULT_INDEX / UV_INDEX_URL, UV_INDEX / UV_EXTRA_INDEX_URL,
// PIP_INDEX_URL, PIP_EXTRA_INDEX_URL), uv.toml (the project's, then ~/.config/uv/uv.toml: index-url,
// extra-index-url, [[index]] url/default) and pip.conf (PIP_CONFIG_FILE, ~/.config/pip/pip.conf,
// ~/.pip/pip.conf, /etc/pip.conf; [global] or [install] index-url / extra-index-url). The default index
// is the first one set in that order (else https://pypi.org/simple/); extra indexes are all of them.
// pip's `retries` and `timeout` (PIP_RETRIES, PIP_TIMEOUT / PIP_DEFAULT_TIMEOUT, else pip.conf) bound
// layers' own downloads from the indexes (download.ts) as they bound pip's.
// An index URL may carry credentials (https://user:token@host/simple/): they stay here, in memory,
// and are handed to uv/pip through the environment and to the wheel fetch as a header; the lockfile
// and every message carry the URL without them. A locked file must come from a configured index.
import {readFileSync} from 'node:fs'
import {homedir} from 'node:os'
import path from 'node:path'
import ini from 'ini'
import {UserInputError} from '../errors/index.js'
import {readToml} from './toml.js'

export const PYPI_INDEX = 'https://pypi.org/simple/'

export interface PythonIndex {
  /** The URL as configured (may carry credentials), with a trailing slash. */
  url: string
  /** The URL without credentials: what the lockfile records. */
  public: string
}

export interface PythonIndexConfig {
  /** The default index first, then the extra ones. */
  indexes: PythonIndex[]
  /** pip's `retries` and `timeout` as configured (loadPythonIndexes always sets it); absent: pip's defaults. */
  network?: PythonNetworkSettings
}

/** How downloads from an index are tried again (src/python/download.ts). */
export interface PythonNetworkSettings {
  /** Attempts after the first (pip's `--retries`). */
  retries: number
  /** An attempt with nothing received for this long fails (pip's `--timeout`, a socket timeout). */
  timeoutMs: number
}

export interface PythonConfigSources {
  env?: NodeJS.ProcessEnv
  home?: string
}

/** `text` with the userinfo of every URL in it replaced, for messages. */
export function withoutCredentials(text: string): string {
  return text.replace(/(\b[a-z][a-z0-9+.-]*:\/\/)[^/@\s]+@/gi, '$1')
}

function index(url: string, from: string): PythonIndex {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new UserInputError('ERR_LAYERS_PYTHON_INDEX', `The index URL ${JSON.stringify(withoutCredentials(url))} from ${from} is not a URL.`, {hint: 'Write an absolute URL such as https://pypi.example.com/simple/.'})
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new UserInputError('ERR_LAYERS_PYTHON_INDEX', `The index URL ${withoutCredentials(url)} from ${from} is not http(s).`, {hint: 'layers reads PEP 503/691 simple indexes over https (http only for a local index).'})
  }
  if (!parsed.pathname.endsWith('/')) parsed.pathname += '/'
  const full = parsed.toString()
  parsed.username = ''
  parsed.password = ''
  return {url: full, public: parsed.toString()}
}

const words = (value: unknown): string[] => (typeof value === 'string' ? value.split(/\s+/).filter(Boolean) : Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [])

interface Found {
  defaults: Array<[string, string]>
  extras: Array<[string, string]>
  /** pip's `retries` and `timeout` as [value, where], the first found of each winning. */
  retries: Array<[string, string]>
  timeout: Array<[string, string]>
}

function fromUvToml(file: string, env: NodeJS.ProcessEnv, found: Found): void {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch {
    return
  }
  if (!/index/.test(text)) return
  const read = readToml(file, env)
  if ('error' in read) throw new UserInputError('ERR_LAYERS_PYTHON_CONFIG', `${file} cannot be read: ${read.error}.`, {hint: 'Fix the uv configuration file.'})
  for (const url of words(read.data['index-url'])) found.defaults.push([url, file])
  for (const url of words(read.data['extra-index-url'])) found.extras.push([url, file])
  for (const entry of Array.isArray(read.data.index) ? (read.data.index as Array<Record<string, unknown>>) : []) {
    if (typeof entry.url === 'string') (entry.default === true ? found.defaults : found.extras).push([entry.url, `${file} [[index]]`])
  }
}

function fromPipConf(file: string, found: Found): void {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch {
    return
  }
  const parsed = ini.parse(text) as Record<string, Record<string, unknown>>
  for (const section of ['install', 'global']) {
    for (const url of words(parsed[section]?.['index-url'])) found.defaults.push([url, `${file} [${section}]`])
    for (const url of words(parsed[section]?.['extra-index-url'])) found.extras.push([url, `${file} [${section}]`])
    for (const key of ['retries', 'timeout'] as const) {
      const value = parsed[section]?.[key]
      if (value !== undefined) found[key].push([String(value), `${file} [${section}] ${key}`])
    }
  }
}

/** The project's indexes (`root`: the manifest's directory, where a project uv.toml is read). */
export function loadPythonIndexes(root: string, sources: PythonConfigSources = {}): PythonIndexConfig {
  const env = sources.env ?? process.env
  const home = sources.home ?? homedir()
  const found: Found = {defaults: [], extras: [], retries: [], timeout: []}
  for (const [key, names] of [['retries', ['PIP_RETRIES']], ['timeout', ['PIP_TIMEOUT', 'PIP_DEFAULT_TIMEOUT']]] as const) {
    for (const name of names) if (env[name]?.trim()) found[key].push([env[name], `$${name}`])
  }
  const fromEnv = (name: string, list: Array<[string, string]>): void => {
    for (const url of words(env[name])) list.push([url, `$${name}`])
  }
  fromEnv('UV_DEFAULT_INDEX', found.defaults)
  fromEnv('UV_INDEX_URL', found.defaults)
  fromEnv('UV_INDEX', found.extras)
  fromEnv('UV_EXTRA_INDEX_URL', found.extras)
  fromEnv('PIP_INDEX_URL', found.defaults)
  fromEnv('PIP_EXTRA_INDEX_URL', found.extras)
  if (env.UV_NO_CONFIG === undefined) {
    fromUvToml(path.join(root, 'uv.toml'), env, found)
    fromUvToml(path.join(env.XDG_CONFIG_HOME ?? path.join(home, '.config'), 'uv', 'uv.toml'), env, found)
  }
  if (env.PIP_CONFIG_FILE !== undefined) fromPipConf(env.PIP_CONFIG_FILE, found)
  fromPipConf(path.join(env.XDG_CONFIG_HOME ?? path.join(home, '.config'), 'pip', 'pip.conf'), found)
  fromPipConf(path.join(home, '.pip', 'pip.conf'), found)
  fromPipConf('/etc/pip.conf', found)
  const [primary] = found.defaults
  const indexes = [primary ? index(primary[0], primary[1]) : {url: PYPI_INDEX, public: PYPI_INDEX}]
  for (const [url, from] of found.extras) {
    const extra = index(url, from)
    if (!indexes.some((known) => known.public === extra.public)) indexes.push(extra)
  }
  return {indexes, network: networkSettings(found)}
}

/** pip's defaults (`--retries 5`, `--timeout 15`). */
export const PIP_NETWORK_DEFAULTS: PythonNetworkSettings = {retries: 5, timeoutMs: 15_000}

/** pip's `retries` (a whole number up to 20) and `timeout` (seconds, above 0, up to 600), its defaults for those not set; exit 2 naming where a value is wrong. */
function networkSettings(found: Found): PythonNetworkSettings {
  const [retries] = found.retries
  const [timeout] = found.timeout
  const check = (entry: [string, string] | undefined, valid: (value: number) => boolean, what: string, fallback: number): number => {
    if (!entry) return fallback
    const value = /^\s*\d+(\.\d+)?\s*$/.test(entry[0]) ? Number(entry[0]) : Number.NaN
    if (valid(value)) return value
    throw new UserInputError('ERR_LAYERS_PYTHON_CONFIG', `${entry[1]} is ${JSON.stringify(entry[0].slice(0, 40))}, not ${what}.`, {hint: `Set it to ${what}, or remove it (pip's default applies).`})
  }
  return {
    retries: check(retries, (value) => Number.isInteger(value) && value <= 20, 'a whole number of retries from 0 to 20', PIP_NETWORK_DEFAULTS.retries),
    timeoutMs: check(timeout, (value) => value > 0 && value <= 600, 'a number of seconds above 0 and up to 600', PIP_NETWORK_DEFAULTS.timeoutMs / 1000) * 1000,
  }
}

/**
 * Why a locked wheel may not be fetched under `config`; undefined when it may. The index must be a
 * configured one, the URL http(s) without credentials, over https unless the index itself is http,
 * and on the index's host (files.pythonhosted.org for PyPI).
 */
export function wheelSourceProblem(wheel: {url: unknown; index: unknown}, config: PythonIndexConfig): string | undefined {
  if (typeof wheel.index !== 'string' || typeof wheel.url !== 'string') return 'has no url or index'
  const configured = config.indexes.find((entry) => entry.public === wheel.index)
  if (!configured) return `comes from index ${JSON.stringify(withoutCredentials(wheel.index))}, which is not a configured index (${config.indexes.map((entry) => entry.public).join(', ')})`
  let url: URL
  try {
    url = new URL(wheel.url)
  } catch {
    return `has url ${JSON.stringify(withoutCredentials(wheel.url).slice(0, 120))}, which is not a URL`
  }
  if (url.username || url.password) return 'has a url with credentials in it (credentials belong in pip.conf or uv.toml, never in the lockfile)'
  const home = new URL(configured.public)
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && home.protocol === 'http:')) return `has url ${wheel.url}, which is not https`
  const hosts = home.host === 'pypi.org' ? ['files.pythonhosted.org', 'pypi.org'] : [home.host]
  if (!hosts.includes(url.host)) return `has url ${wheel.url} on ${url.host}, not on its index's host ${hosts.join(' or ')}`
  return undefined
}

/** The Authorization header for a request to `url` when a configured index on that origin carries credentials. */
export function authorizationFor(url: string, config: PythonIndexConfig): string | undefined {
  const target = new URL(url)
  for (const entry of config.indexes) {
    const configured = new URL(entry.url)
    if (configured.origin !== target.origin || (configured.username === '' && configured.password === '')) continue
    return 'Basic ' + Buffer.from(`${decodeURIComponent(configured.username)}:${decodeURIComponent(configured.password)}`).toString('base64')
  }
  return undefined
}
