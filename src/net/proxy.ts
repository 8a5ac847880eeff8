// Owns the checks of proxy settings shared by the npm configuration (src/npm/config.ts) and the Python
// tools layers runs (uv, pip, src/python/resolve.ts): a proxy must be an http(s) or SOCKS URL, a no-proxy entry a
// host pattern, and a value shown in a message has the credentials of its URL hidden. The proxy
// environment variables (HTTP_PROXY, HTTPS_PROXY, NO_PROXY, each also lowercase) are read by npm's
// agent and by uv and pip alike, ALL_PROXY by uv and pip only (npm ignores it), so each one set that
// the tool reads is checked, naming the variable.
import {UserInputError} from '../errors/index.js'

/** The proxy variables npm's agent, uv and pip read (npm and pip take either case). */
export const PROXY_VARIABLES = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy'] as const
export const NO_PROXY_VARIABLES = ['NO_PROXY', 'no_proxy'] as const
/** The proxy variables uv and pip read: those, and ALL_PROXY, the proxy of a scheme without its own variable. */
export const PYTHON_PROXY_VARIABLES = [...PROXY_VARIABLES, 'ALL_PROXY', 'all_proxy'] as const

/** The schemes of a proxy URL npm's agent takes: http(s), and the SOCKS ones of socks-proxy-agent (uv reads socks5 too). */
const PROXY_PROTOCOLS = new Set(['http:', 'https:', 'socks:', 'socks4:', 'socks4a:', 'socks5:', 'socks5h:'])
/** How a message names the proxy URLs accepted. */
export const PROXY_URL_KINDS = 'an http://, https:// or socks5:// (socks, socks4, socks4a, socks5h) URL'

function protocolOf(value: string): string | undefined {
  try {
    return new URL(value).protocol
  } catch {
    return undefined
  }
}

export function isHttpUrl(value: string): boolean {
  const protocol = protocolOf(value)
  return protocol === 'http:' || protocol === 'https:'
}

/** A URL npm's agent can use as a proxy. */
export function isProxyUrl(value: string): boolean {
  return PROXY_PROTOCOLS.has(protocolOf(value) ?? '')
}

/** `value` quoted for a message, the userinfo of a URL (`//user:pass@`) or of a value without a scheme (`user:pass@host`) shown as `***`. */
export function quotedWithoutCredentials(value: string): string {
  return JSON.stringify(value).replace(/(^"|\/\/)[^/@\s"]*@/, '$1***@')
}

/** A host name or domain (`.corp.example`, `*.corp.example`), `*`, an IPv4 address or range, an IPv6 address; optionally a port. */
const HOST_PATTERN = /^(?:\*|(?:\*\.|\.)?[a-z0-9_-]+(?:\.[a-z0-9_-]+)*\.?|\d{1,3}(?:\.\d{1,3}){3}\/\d{1,2}|\[?[0-9a-f]*:[0-9a-f:.]*\]?(?:\/\d{1,3})?)(?::\d{1,5})?$/i

/** Why one entry of a no-proxy list cannot match a host (a URL, a path, spaces, other characters); undefined when it can. */
export function noProxyEntryProblem(entry: string): string | undefined {
  if (entry.includes('://')) return 'a URL, not a host name (write the host alone, e.g. registry.corp.example)'
  if (!HOST_PATTERN.test(entry)) return 'not a host name, domain (.corp.example), IP address or range'
  return undefined
}

/** The entries of a no-proxy list: comma-separated (as npm's agent splits it), trimmed, empty ones dropped. */
export function noProxyEntries(value: string | readonly string[]): string[] {
  return (typeof value === 'string' ? [value] : value).flatMap((item) => item.split(',')).map((entry) => entry.trim()).filter(Boolean)
}

/** The first entry of a no-proxy list with a problem, and the problem. */
export function noProxyProblem(value: string | readonly string[]): {entry: string; problem: string} | undefined {
  for (const entry of noProxyEntries(value)) {
    const problem = noProxyEntryProblem(entry)
    if (problem) return {entry, problem}
  }
  return undefined
}

/**
 * Checks every proxy variable of `proxyVariables` set (non-empty) in `env`, and the no-proxy lists: a proxy an http(s) or
 * SOCKS URL, a no-proxy list host patterns. Throws ERR_LAYERS_PROXY_ENV (exit 2) naming the variable and its value without credentials.
 */
export function checkProxyEnv(env: NodeJS.ProcessEnv, proxyVariables: readonly string[] = PROXY_VARIABLES): void {
  for (const name of proxyVariables) {
    const value = env[name]?.trim()
    if (!value || isProxyUrl(value)) continue
    throw new UserInputError('ERR_LAYERS_PROXY_ENV', `The environment variable ${name} is ${quotedWithoutCredentials(value)}, not ${PROXY_URL_KINDS}.`, {
      hint: `Set ${name} to the proxy's URL, e.g. http://proxy.example:8080/ (credentials as http://user:password@proxy.example:8080/), or unset it.`,
      details: {variable: name},
    })
  }
  for (const name of NO_PROXY_VARIABLES) {
    const value = env[name]
    const found = value === undefined ? undefined : noProxyProblem(value)
    if (!found) continue
    throw new UserInputError('ERR_LAYERS_PROXY_ENV', `The environment variable ${name} lists ${quotedWithoutCredentials(found.entry)}: ${found.problem}.`, {
      hint: `Set ${name} to a comma-separated list of host names and domains, e.g. localhost,127.0.0.1,.corp.example, or unset it.`,
      details: {variable: name, entry: found.entry},
    })
  }
}
