// src/net/proxy.ts: which no-proxy entries can match a host, and the check of the proxy environment
// variables (each one set, named in the error with the credentials of its value hidden).
import {describe, expect, it} from 'vitest'
import {checkProxyEnv, noProxyEntries, noProxyEntryProblem, PYTHON_PROXY_VARIABLES, quotedWithoutCredentials} from '../../src/net/proxy.js'

describe('no-proxy entries', () => {
  it('accepts host names, domains, *, IPv4 addresses and ranges, IPv6 addresses, with or without a port', () => {
    for (const entry of ['localhost', 'registry.corp.example', '.corp.example', '*.corp.example', 'corp.example.', '*', '127.0.0.1', '10.0.0.0/8', '::1', '[::1]', 'fd00::/8', 'proxy-host:8080', '[::1]:443', 'svc_name']) {
      expect(noProxyEntryProblem(entry), entry).toBeUndefined()
    }
  })

  it('refuses URLs, paths, spaces and other characters, saying why', () => {
    expect(noProxyEntryProblem('http://registry.corp.example')).toMatch(/^a URL, not a host name/)
    for (const entry of ['corp.example/npm', 'a b', 'user@host', 'a;b', '"host"', 'host:port']) {
      expect(noProxyEntryProblem(entry), entry).toMatch(/^not a host name/)
    }
  })

  it('splits a list on commas as npm\'s agent does, trimming and dropping empty entries', () => {
    expect(noProxyEntries(' localhost , .corp.example,,')).toEqual(['localhost', '.corp.example'])
    expect(noProxyEntries(['localhost', 'a,b'])).toEqual(['localhost', 'a', 'b'])
  })
})

describe('proxy environment variables', () => {
  it('passes http(s) URLs, empty values and host lists', () => {
    expect(() => checkProxyEnv({HTTPS_PROXY: 'https://user:pw@proxy.example:3128/', http_proxy: 'http://proxy.example:8080', HTTP_PROXY: '', NO_PROXY: 'localhost,.corp.example', no_proxy: ''})).not.toThrow()
  })

  it('refuses a proxy that is not an http(s) or SOCKS URL, naming the variable, its credentials hidden, and takes the SOCKS ones npm takes', () => {
    for (const value of ['socks5://proxy.example:1080', 'socks5h://proxy.example:1080', 'socks://proxy.example:1080', 'https://proxy.example/']) expect(() => checkProxyEnv({HTTPS_PROXY: value}), value).not.toThrow()
    for (const [name, value, shown] of [
      ['HTTPS_PROXY', 'proxy.example:3128', '"proxy.example:3128"'],
      ['https_proxy', 'ftp://deploy:s3cret@proxy.example/', '"ftp://***@proxy.example/"'],
      ['HTTP_PROXY', 'deploy:s3cret@proxy.example:8080', '"***@proxy.example:8080"'],
      ['http_proxy', 'not a url', '"not a url"'],
    ] as const) {
      let error: (Error & {code?: string; exitCode?: number; details?: unknown}) | undefined
      try {
        checkProxyEnv({[name]: value})
      } catch (thrown) {
        error = thrown as typeof error
      }
      expect(error, name).toMatchObject({code: 'ERR_LAYERS_PROXY_ENV', exitCode: 2, message: `The environment variable ${name} is ${shown}, not an http://, https:// or socks5:// (socks, socks4, socks4a, socks5h) URL.`, details: {variable: name}})
      expect(error!.message).not.toContain('s3cret')
    }
  })

  it('checks ALL_PROXY for the Python tools (uv and pip read it), not for npm (its agent ignores it)', () => {
    expect(() => checkProxyEnv({ALL_PROXY: 'proxy.example:3128'})).not.toThrow()
    expect(() => checkProxyEnv({ALL_PROXY: 'socks5://proxy.example:1080', all_proxy: ''}, PYTHON_PROXY_VARIABLES)).not.toThrow()
    expect(() => checkProxyEnv({all_proxy: 'ftp://deploy:s3cret@proxy.example/'}, PYTHON_PROXY_VARIABLES)).toThrowError(
      expect.objectContaining({code: 'ERR_LAYERS_PROXY_ENV', message: 'The environment variable all_proxy is "ftp://***@proxy.example/", not an http://, https:// or socks5:// (socks, socks4, socks4a, socks5h) URL.', details: {variable: 'all_proxy'}}),
    )
  })

  it('refuses a no-proxy list with an entry that cannot match a host, naming the variable and the entry', () => {
    expect(() => checkProxyEnv({no_proxy: 'localhost, https://deploy:s3cret@corp.example/'})).toThrowError(
      expect.objectContaining({code: 'ERR_LAYERS_PROXY_ENV', message: 'The environment variable no_proxy lists "https://***@corp.example/": a URL, not a host name (write the host alone, e.g. registry.corp.example).'}),
    )
  })

  it('hides the userinfo of a URL or of a value without a scheme', () => {
    expect(quotedWithoutCredentials('http://u:p@h/')).toBe('"http://***@h/"')
    expect(quotedWithoutCredentials('u:p@h')).toBe('"***@h"')
    expect(quotedWithoutCredentials('http://h/')).toBe('"http://h/"')
  })
})
