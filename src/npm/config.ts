// Owns turning the user's npm configuration into pacote / npm-registry-fetch options, the way npm
// itself reads it: builtin < global (`$PREFIX/etc/npmrc`) < user (`~/.npmrc` or $npm_config_userconfig)
// < project (`<root>/.npmrc`) < `npm_config_*` environment variables. `${VAR}` references are expanded.
// What is honoured: `registry`, `@scope:registry`, per-registry auth (`//host/path/:_authToken`,
// `:_auth`, `:username` + `:_password`, `:certfile` + `:keyfile`), the cache directory (pacote gets
// `<cache>/_cacache`, so a warm `~/.npm` is used), retries and timeouts, TLS and proxy settings,
// offline / prefer-offline / prefer-online, and legacy-peer-deps (for the resolver). Values of the types
// npm documents for those keys (registry, proxy, https-proxy: an http(s) URL; strict-ssl ...: a boolean; fetch-*: a number)
// and noproxy (host patterns) are checked, a bad one is ERR_LAYERS_NPMRC_INVALID naming its file and line
// (or variable), where npm would warn and fall back to its default; a bad HTTP(S)_PROXY / NO_PROXY
// variable is ERR_LAYERS_PROXY_ENV (src/net/proxy.ts). The options hold credentials: never log, lock or store them
// (describeNpmOptions gives a printable summary without them).
import {readFileSync} from 'node:fs'
import {homedir} from 'node:os'
import path from 'node:path'
import ini from 'ini'
import {UserInputError} from '../errors/index.js'
import {checkProxyEnv, isHttpUrl, isProxyUrl, noProxyProblem, PROXY_URL_KINDS, quotedWithoutCredentials} from '../net/proxy.js'
import type {RetrySettings} from '../net/retry.js'

/** Options handed to pacote: camelCase npm-registry-fetch options plus the raw per-registry keys. */
export interface NpmOptions {
  registry: string
  /** The cacache directory (`<npm cache>/_cacache`). */
  cache: string
  retry: RetrySettings
  timeout: number
  strictSSL: boolean
  maxSockets: number
  preferOnline?: boolean
  preferOffline?: boolean
  offline?: boolean
  ca?: string | string[]
  proxy?: string
  httpsProxy?: string
  noProxy?: string
  replaceRegistryHost?: string
  /** npm's legacy-peer-deps: the resolver neither installs nor checks peer dependencies. */
  legacyPeerDeps?: boolean
  /** `@scope:registry` and `//host/path/:_authToken`-style keys, as npm-registry-fetch reads them. */
  [rawKey: string]: unknown
}

export interface NpmConfigSources {
  env?: NodeJS.ProcessEnv
  home?: string
  /** Directory of the global npmrc (`$PREFIX/etc`); defaults to the one of the running node. */
  globalPrefix?: string
}

const DEFAULT_REGISTRY = 'https://registry.npmjs.org/'
const AUTH_SUFFIXES = [':_authToken', ':_auth', ':username', ':_password', ':certfile', ':keyfile', ':email', ':always-auth']

type ConfigValues = Record<string, string | string[]>

/** Where a value was set: a line of an npmrc (when it can be found), or an npm_config_* variable. */
type Origin = {file: string; line?: number} | {variable: string}

/** The merged configuration and where each key's winning value was set. */
interface Config {
  values: ConfigValues
  origin(key: string): Origin
}

/** Reads the npm configuration of a project (its `.npmrc`), of the user and of the environment. */
export async function loadNpmOptions(projectRoot: string, sources: NpmConfigSources = {}): Promise<NpmOptions> {
  const env = sources.env ?? process.env
  const home = sources.home ?? homedir()
  return toPacoteOptions(readConfig(projectRoot, sources, env, home), home, env)
}

/** global < user < project npmrc < npm_config_* variables; with `only`, just the keys it accepts. */
function readConfig(projectRoot: string, sources: NpmConfigSources, env: NodeJS.ProcessEnv, home: string, only?: (key: string) => boolean): Config {
  const fromEnv = envConfig(env)
  const globalFile = fromEnv.values.globalconfig ?? path.join(sources.globalPrefix ?? path.join(path.dirname(path.dirname(process.execPath)), 'etc'), 'npmrc')
  const userFile = fromEnv.values.userconfig ?? path.join(home, '.npmrc')
  const layers = [readNpmrc(String(globalFile), env, only), readNpmrc(String(userFile), env, only), readNpmrc(path.join(projectRoot, '.npmrc'), env, only), fromEnv]
  const values: ConfigValues = Object.assign({}, ...layers.map((layer) => layer.values))
  return {values, origin: (key) => layers.findLast((layer) => Object.hasOwn(layer.values, key))!.origin(key)}
}

/** The registries a lockfile's tarball URLs may point at (see src/lock/check.ts). */
export interface RegistryPolicy {
  /** The default registry and every `@scope:registry`, with a final slash. */
  registries: string[]
  /** npm's replace-registry-host (`npmjs` when unset): tarball URLs on that host are fetched from the default registry. */
  replaceRegistryHost: string
}

/**
 * The registries of the project's npm configuration, read like loadNpmOptions but only for the
 * registry keys: a `${VAR}` that is unset in another key (an auth token for a command that needs
 * none) does not stop reading a lockfile.
 */
export function loadRegistryPolicy(projectRoot: string, sources: NpmConfigSources = {}): RegistryPolicy {
  const wanted = (key: string): boolean => key === 'registry' || key === 'replace-registry-host' || SCOPE_REGISTRY.test(key)
  const config = readConfig(projectRoot, sources, sources.env ?? process.env, sources.home ?? homedir(), wanted)
  const {registry, scopes} = registriesOf(config)
  return {registries: [...new Set([registry, ...Object.values(scopes)])], replaceRegistryHost: String(config.values['replace-registry-host'] ?? 'npmjs')}
}

const SCOPE_REGISTRY = /^@[^:/]+:registry$/

/** `proxy` / `https-proxy` from npm's config: an http(s) or SOCKS URL, or unset (absent, empty, `null`, `false`, as npm reads them). */
function proxyOf(config: Config, key: 'proxy' | 'https-proxy'): string | undefined {
  const value = config.values[key]
  if (value === undefined) return undefined
  const text = String(value).trim()
  if (text === '' || text === 'null' || text === 'false') return undefined
  if (!isProxyUrl(text)) throw invalidValue(config, key, PROXY_URL_KINDS, `Set ${key} to the proxy's URL, e.g. ${key}=http://proxy.example:8080/ (credentials as http://user:password@proxy.example:8080/), or remove the line.`)
  return text
}

/** `noproxy` from npm's config (a comma-separated list or `noproxy[]=` lines): each entry a host pattern (src/net/proxy.ts). */
function noProxyOf(config: Config): string | string[] | undefined {
  const value = config.values.noproxy
  const found = value === undefined ? undefined : noProxyProblem(value)
  if (found) throw invalidValue(config, 'noproxy', `a list of host names and domains (${quotedWithoutCredentials(found.entry)} is ${found.problem})`, 'Write the hosts that bypass the proxy, comma-separated, e.g. noproxy=localhost,127.0.0.1,.corp.example, or remove the line.')
  return value
}

/** The default registry and each `@scope:registry` (key -> URL), each with a final slash; each must be an http(s) URL. */
function registriesOf(config: Config): {registry: string; scopes: Record<string, string>} {
  const url = (key: string): string => {
    const value = String(config.values[key])
    if (!isHttpUrl(value)) throw invalidValue(config, key, 'an http:// or https:// URL', `Set ${key} to the registry's URL, e.g. ${key}=https://registry.npmjs.org/, or remove the line.`)
    return withSlash(value)
  }
  const scopes: Record<string, string> = {}
  for (const key of Object.keys(config.values)) if (SCOPE_REGISTRY.test(key)) scopes[key] = url(key)
  return {registry: config.values.registry === undefined ? DEFAULT_REGISTRY : url('registry'), scopes}
}

/** ERR_LAYERS_NPMRC_INVALID for the value of `key`, at the line (or variable) that set it; credentials in a URL are not shown. */
function invalidValue(config: Config, key: string, expected: string, hint: string): UserInputError {
  const origin = config.origin(key)
  const shown = quotedWithoutCredentials(String(config.values[key]))
  const where = 'variable' in origin ? `from the environment variable ${origin.variable}` : `in ${origin.file}${origin.line === undefined ? '' : ` (line ${origin.line})`}`
  return new UserInputError('ERR_LAYERS_NPMRC_INVALID', `${key} = ${shown} ${where} is not ${expected}.`, {
    hint,
    ...('file' in origin && origin.line !== undefined ? {location: {file: origin.file, line: origin.line, column: 1}} : {}),
    details: {...origin, key},
  })
}

/** The registry (with a final slash) npm fetches `name` from: its scope's `@scope:registry`, else `registry`. */
export function registryOf(options: NpmOptions, name: string): string {
  const scoped = name.startsWith('@') ? options[`${name.split('/')[0]}:registry`] : undefined
  return withSlash(typeof scoped === 'string' ? scoped : options.registry)
}

/** A printable summary of the options: registries and which of them have credentials, never the credentials. */
export function describeNpmOptions(options: NpmOptions): {registry: string; scopes: Record<string, string>; authenticated: string[]; cache: string} {
  const scopes: Record<string, string> = {}
  const authenticated = new Set<string>()
  for (const [key, value] of Object.entries(options)) {
    if (/^@[^:]+:registry$/.test(key) && typeof value === 'string') scopes[key.slice(0, -':registry'.length)] = value
    const suffix = AUTH_SUFFIXES.find((candidate) => key.startsWith('//') && key.endsWith(candidate))
    if (suffix) authenticated.add(key.slice(0, -suffix.length))
  }
  return {registry: options.registry, scopes, authenticated: [...authenticated].sort(), cache: options.cache}
}

/** Reads one npmrc; with `only`, just the keys it accepts (the others are not even expanded). */
function readNpmrc(file: string, env: NodeJS.ProcessEnv, only?: (key: string) => boolean): {values: ConfigValues; origin(key: string): Origin} {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') return {values: {}, origin: () => ({file})}
    throw new UserInputError('ERR_LAYERS_NPMRC_UNREADABLE', `Cannot read ${file}: ${(error as Error).message}`, {
      hint: 'Fix the file permissions or remove the file.',
      details: {file},
    })
  }
  const parsed = ini.parse(text) as Record<string, unknown>
  const result: ConfigValues = {}
  const rawKeys = new Map<string, string>()
  for (const [rawKey, rawValue] of Object.entries(parsed)) {
    // ini sections ([name]) are not npm configuration; npm ignores them as well.
    if (rawValue !== null && typeof rawValue === 'object' && !Array.isArray(rawValue)) continue
    if (only && !only(rawKey)) continue
    const key = expandEnv(rawKey, env, file, rawKey)
    result[key] = Array.isArray(rawValue) ? rawValue.map((item) => expandEnv(String(item), env, file, key)) : expandEnv(String(rawValue), env, file, key)
    rawKeys.set(key, rawKey)
  }
  return {values: result, origin: (key) => ({file, ...lineOf(text, rawKeys.get(key) ?? key)})}
}

/**
 * The line that sets a top-level key (the last one: the last wins), found again in the text since ini
 * keeps no positions: `key = value`, `"key" = value` or `key[] = value`, before any [section].
 */
function lineOf(text: string, rawKey: string): {line?: number} {
  let found: number | undefined
  for (const [index, line] of text.split(/\r?\n/).entries()) {
    if (/^\s*\[[^\]]*\]\s*$/.test(line)) break
    const equals = line.indexOf('=')
    if (equals < 0 || /^\s*[;#]/.test(line)) continue
    const key = line.slice(0, equals).trim().replace(/^(["'])(.*)\1$/, '$2').replace(/\[\]$/, '')
    if (key === rawKey) found = index + 1
  }
  return found === undefined ? {} : {line: found}
}

/** npm's env expansion: `${VAR}` (error when unset) and `${VAR?}` (empty when unset); `\${` stays literal. */
function expandEnv(value: string, env: NodeJS.ProcessEnv, file: string, key: string): string {
  return value.replace(/(\\*)\$\{([^${}?]+)(\?)?\}/g, (match, slashes: string, name: string, optional?: string) => {
    if (slashes.length % 2 === 1) return match.slice(1)
    const found = env[name]
    if (found !== undefined) return slashes + found
    if (optional) return slashes
    throw new UserInputError('ERR_LAYERS_NPMRC_ENV', `${file}: the value of ${key} uses \${${name}}, which is not set in the environment.`, {
      hint: `Set ${name} (for example export ${name}=...), or write \${${name}?} in the .npmrc to allow it to be empty.`,
      details: {file, variable: name},
    })
  })
}

/** `npm_config_foo_bar` / `NPM_CONFIG_FOO_BAR` -> `foo-bar` (keys starting with `//` or `@` keep their form). */
function envConfig(env: NodeJS.ProcessEnv): {values: Record<string, string>; origin(key: string): Origin} {
  const result: Record<string, string> = {}
  const variables = new Map<string, string>()
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || !/^npm_config_/i.test(name)) continue
    const raw = name.slice('npm_config_'.length)
    const key = raw.startsWith('//') || raw.startsWith('@') ? raw : raw.toLowerCase().replace(/(?!^)_/g, '-')
    if (key === '') continue
    result[key] = value
    variables.set(key, name)
  }
  return {values: result, origin: (key) => ({variable: variables.get(key) ?? key})}
}

function numberOf(config: Config, key: string, fallback: number): number {
  const value = config.values[key]
  if (value === undefined || value === '') return fallback
  const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : Number.NaN
  if (!Number.isFinite(number) || number < 0) throw invalidValue(config, key, 'a number', `Set ${key} to a non-negative number, e.g. ${key}=${fallback} (the default), or remove the line.`)
  return number
}

/** A key npm documents as a Boolean: true or false (any case); empty is false, as npm reads it. */
function flagOf(config: Config, key: string): boolean | undefined {
  const value = config.values[key]
  if (value === undefined) return undefined
  const text = typeof value === 'string' ? value.trim().toLowerCase() : undefined
  if (text === 'true') return true
  if (text === 'false' || text === '') return false
  throw invalidValue(config, key, 'true or false', `Set ${key}=true or ${key}=false, or remove the line.`)
}

function withSlash(url: string): string {
  return url.endsWith('/') ? url : url + '/'
}

function expandHome(file: string, home: string): string {
  return file === '~' ? home : file.startsWith('~/') ? path.join(home, file.slice(2)) : file
}

function toPacoteOptions(npmConfig: Config, home: string, env: NodeJS.ProcessEnv): NpmOptions {
  const config = npmConfig.values
  const {registry, scopes} = registriesOf(npmConfig)
  const cacheDir = path.resolve(expandHome(String(config.cache ?? (env.LOCALAPPDATA && process.platform === 'win32' ? path.join(env.LOCALAPPDATA, 'npm-cache') : path.join(home, '.npm'))), home))
  const options: NpmOptions = {
    registry,
    cache: path.join(cacheDir, '_cacache'),
    retry: {
      retries: numberOf(npmConfig, 'fetch-retries', 2),
      factor: numberOf(npmConfig, 'fetch-retry-factor', 10),
      minTimeout: numberOf(npmConfig, 'fetch-retry-mintimeout', 10_000),
      maxTimeout: numberOf(npmConfig, 'fetch-retry-maxtimeout', 60_000),
    },
    timeout: numberOf(npmConfig, 'fetch-timeout', 5 * 60 * 1000),
    strictSSL: flagOf(npmConfig, 'strict-ssl') ?? true,
    maxSockets: numberOf(npmConfig, 'maxsockets', 16),
  }
  if (flagOf(npmConfig, 'prefer-online')) options.preferOnline = true
  if (flagOf(npmConfig, 'prefer-offline')) options.preferOffline = true
  if (flagOf(npmConfig, 'offline')) options.offline = true
  if (flagOf(npmConfig, 'legacy-peer-deps')) options.legacyPeerDeps = true
  const proxy = proxyOf(npmConfig, 'proxy') ?? (config.proxy === undefined ? (env.HTTP_PROXY ?? env.http_proxy) : undefined)
  const httpsProxy = proxyOf(npmConfig, 'https-proxy') ?? (config['https-proxy'] === undefined ? (env.HTTPS_PROXY ?? env.https_proxy ?? proxy) : undefined)
  // npm's agent falls back to these variables itself, and uv and pip read them too: each one set is checked.
  checkProxyEnv(env)
  const noProxy = noProxyOf(npmConfig) ?? env.NO_PROXY ?? env.no_proxy
  if (proxy && proxy !== 'null' && proxy !== 'false') options.proxy = String(proxy)
  if (httpsProxy && httpsProxy !== 'null' && httpsProxy !== 'false') options.httpsProxy = String(httpsProxy)
  if (noProxy) options.noProxy = Array.isArray(noProxy) ? noProxy.join(',') : String(noProxy)
  if (config['replace-registry-host'] !== undefined) options.replaceRegistryHost = String(config['replace-registry-host'])
  const ca = config.ca ?? (config.cafile ? readCaFile(expandHome(String(config.cafile), home)) : undefined)
  if (ca !== undefined && ca !== 'null') options.ca = ca
  Object.assign(options, scopes)
  for (const [key, value] of Object.entries(config)) {
    if (key.startsWith('//') && AUTH_SUFFIXES.some((suffix) => key.endsWith(suffix))) {
      options[key] = key.endsWith(':certfile') || key.endsWith(':keyfile') ? expandHome(String(value), home) : String(value)
    }
  }
  return options
}

function readCaFile(file: string): string[] {
  try {
    const text = readFileSync(file, 'utf8')
    return text.split(/(?=-----BEGIN CERTIFICATE-----)/).map((cert) => cert.trim()).filter((cert) => cert.startsWith('-----BEGIN CERTIFICATE-----'))
  } catch (error) {
    throw new UserInputError('ERR_LAYERS_NPMRC_CAFILE', `Cannot read the cafile ${file} named in .npmrc: ${(error as Error).message}`, {
      hint: 'Fix the cafile path in .npmrc, or remove the setting.',
      details: {file},
    })
  }
}
