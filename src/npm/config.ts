// Owns turning the user's npm configuration into pacote / npm-registry-fetch options, the way npm
// itself reads it: builtin < global (`$PREFIX/etc/npmrc`) < user (`~/.npmrc` or $npm_config_userconfig)
// < project (`<root>/.npmrc`) < `npm_config_*` environment variables. `${VAR}` references are expanded.
// What is honoured: `registry`, `@scope:registry`, per-registry auth (`//host/path/:_authToken`,
// `:_auth`, `:username` + `:_password`, `:certfile` + `:keyfile`), the cache directory (pacote gets
// `<cache>/_cacache`, so a warm `~/.npm` is used), retries and timeouts, TLS and proxy settings,
// offline / prefer-offline / prefer-online, and legacy-peer-deps (for the resolver). The options hold credentials: never log, lock or store them
// (describeNpmOptions gives a printable summary without them).
import {readFileSync} from 'node:fs'
import {homedir} from 'node:os'
import path from 'node:path'
import ini from 'ini'
import {UserInputError} from '../errors/index.js'

/** Options handed to pacote: camelCase npm-registry-fetch options plus the raw per-registry keys. */
export interface NpmOptions {
  registry: string
  /** The cacache directory (`<npm cache>/_cacache`). */
  cache: string
  retry: {retries: number; factor: number; minTimeout: number; maxTimeout: number}
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

/** Reads the npm configuration of a project (its `.npmrc`), of the user and of the environment. */
export async function loadNpmOptions(projectRoot: string, sources: NpmConfigSources = {}): Promise<NpmOptions> {
  const env = sources.env ?? process.env
  const home = sources.home ?? homedir()
  const fromEnv = envConfig(env)
  const globalFile = fromEnv.globalconfig ?? path.join(sources.globalPrefix ?? path.join(path.dirname(path.dirname(process.execPath)), 'etc'), 'npmrc')
  const userFile = fromEnv.userconfig ?? path.join(home, '.npmrc')
  const layers = [readNpmrc(globalFile, env), readNpmrc(userFile, env), readNpmrc(path.join(projectRoot, '.npmrc'), env), fromEnv]
  const config: Record<string, string | string[]> = Object.assign({}, ...layers)
  return toPacoteOptions(config, home, env)
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
  const env = sources.env ?? process.env
  const home = sources.home ?? homedir()
  const fromEnv = envConfig(env)
  const globalFile = fromEnv.globalconfig ?? path.join(sources.globalPrefix ?? path.join(path.dirname(path.dirname(process.execPath)), 'etc'), 'npmrc')
  const userFile = fromEnv.userconfig ?? path.join(home, '.npmrc')
  const wanted = (key: string): boolean => key === 'registry' || key === 'replace-registry-host' || /^@[^:/]+:registry$/.test(key)
  const layers = [readNpmrc(globalFile, env, wanted), readNpmrc(userFile, env, wanted), readNpmrc(path.join(projectRoot, '.npmrc'), env, wanted), fromEnv]
  const config: Record<string, string | string[]> = Object.assign({}, ...layers)
  const registries = [withSlash(String(config.registry ?? DEFAULT_REGISTRY))]
  for (const [key, value] of Object.entries(config)) if (/^@[^:/]+:registry$/.test(key)) registries.push(withSlash(String(value)))
  return {registries: [...new Set(registries)], replaceRegistryHost: String(config['replace-registry-host'] ?? 'npmjs')}
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
function readNpmrc(file: string, env: NodeJS.ProcessEnv, only?: (key: string) => boolean): Record<string, string | string[]> {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') return {}
    throw new UserInputError('ERR_LAYERS_NPMRC_UNREADABLE', `Cannot read ${file}: ${(error as Error).message}`, {
      hint: 'Fix the file permissions or remove the file.',
      details: {file},
    })
  }
  const parsed = ini.parse(text) as Record<string, unknown>
  const result: Record<string, string | string[]> = {}
  for (const [rawKey, rawValue] of Object.entries(parsed)) {
    // ini sections ([name]) are not npm configuration; npm ignores them as well.
    if (rawValue !== null && typeof rawValue === 'object' && !Array.isArray(rawValue)) continue
    if (only && !only(rawKey)) continue
    const key = expandEnv(rawKey, env, file, rawKey)
    result[key] = Array.isArray(rawValue) ? rawValue.map((item) => expandEnv(String(item), env, file, key)) : expandEnv(String(rawValue), env, file, key)
  }
  return result
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
function envConfig(env: NodeJS.ProcessEnv): Record<string, string> {
  const result: Record<string, string> = {}
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || !/^npm_config_/i.test(name)) continue
    const raw = name.slice('npm_config_'.length)
    const key = raw.startsWith('//') || raw.startsWith('@') ? raw : raw.toLowerCase().replace(/(?!^)_/g, '-')
    if (key === '') continue
    result[key] = value
  }
  return result
}

function numberOf(config: Record<string, string | string[]>, key: string, fallback: number, file = 'npm configuration'): number {
  const value = config[key]
  if (value === undefined || value === '') return fallback
  const number = Number(value)
  if (!Number.isFinite(number) || number < 0) {
    throw new UserInputError('ERR_LAYERS_NPMRC_INVALID', `${key} = ${JSON.stringify(value)} in the ${file} is not a number.`, {
      hint: `Set ${key} to a non-negative number in .npmrc, or remove it.`,
    })
  }
  return number
}

function flagOf(config: Record<string, string | string[]>, key: string): boolean | undefined {
  const value = config[key]
  if (value === undefined) return undefined
  const text = String(value).toLowerCase()
  return !(text === 'false' || text === '' || text === '0')
}

function withSlash(url: string): string {
  return url.endsWith('/') ? url : url + '/'
}

function expandHome(file: string, home: string): string {
  return file === '~' ? home : file.startsWith('~/') ? path.join(home, file.slice(2)) : file
}

function toPacoteOptions(config: Record<string, string | string[]>, home: string, env: NodeJS.ProcessEnv): NpmOptions {
  const cacheDir = path.resolve(expandHome(String(config.cache ?? (env.LOCALAPPDATA && process.platform === 'win32' ? path.join(env.LOCALAPPDATA, 'npm-cache') : path.join(home, '.npm'))), home))
  const options: NpmOptions = {
    registry: withSlash(String(config.registry ?? DEFAULT_REGISTRY)),
    cache: path.join(cacheDir, '_cacache'),
    retry: {
      retries: numberOf(config, 'fetch-retries', 2),
      factor: numberOf(config, 'fetch-retry-factor', 10),
      minTimeout: numberOf(config, 'fetch-retry-mintimeout', 10_000),
      maxTimeout: numberOf(config, 'fetch-retry-maxtimeout', 60_000),
    },
    timeout: numberOf(config, 'fetch-timeout', 5 * 60 * 1000),
    strictSSL: flagOf(config, 'strict-ssl') ?? true,
    maxSockets: numberOf(config, 'maxsockets', 16),
  }
  if (flagOf(config, 'prefer-online')) options.preferOnline = true
  if (flagOf(config, 'prefer-offline')) options.preferOffline = true
  if (flagOf(config, 'offline')) options.offline = true
  if (flagOf(config, 'legacy-peer-deps')) options.legacyPeerDeps = true
  const proxy = config.proxy ?? env.HTTP_PROXY ?? env.http_proxy
  const httpsProxy = config['https-proxy'] ?? env.HTTPS_PROXY ?? env.https_proxy ?? proxy
  const noProxy = config.noproxy ?? env.NO_PROXY ?? env.no_proxy
  if (proxy && proxy !== 'null' && proxy !== 'false') options.proxy = String(proxy)
  if (httpsProxy && httpsProxy !== 'null' && httpsProxy !== 'false') options.httpsProxy = String(httpsProxy)
  if (noProxy) options.noProxy = Array.isArray(noProxy) ? noProxy.join(',') : String(noProxy)
  if (config['replace-registry-host'] !== undefined) options.replaceRegistryHost = String(config['replace-registry-host'])
  const ca = config.ca ?? (config.cafile ? readCaFile(expandHome(String(config.cafile), home)) : undefined)
  if (ca !== undefined && ca !== 'null') options.ca = ca
  for (const [key, value] of Object.entries(config)) {
    if (/^@[^:/]+:registry$/.test(key)) options[key] = withSlash(String(value))
    else if (key.startsWith('//') && AUTH_SUFFIXES.some((suffix) => key.endsWith(suffix))) {
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
