// src/python/resolve.ts resolverEnv: uv and pip get the proxy variables as they are, each checked first
// (src/net/proxy.ts), whom they trust as it is, and the project's indexes in place of the caller's index settings.
import {describe, expect, it} from 'vitest'
import type {PythonIndexConfig} from '../../src/python/config.js'
import {resolverEnv} from '../../src/python/resolve.js'

const config: PythonIndexConfig = {indexes: [{url: 'https://pypi.example/simple/', public: 'https://pypi.example/simple/'}]}

describe('the environment of a resolver run', () => {
  it('passes the proxy variables through and replaces the index settings', () => {
    const env = resolverEnv({HTTPS_PROXY: 'http://proxy.example:3128', no_proxy: 'localhost,.corp.example', PIP_INDEX_URL: 'https://other.example/simple/'}, config)
    expect(env).toMatchObject({HTTPS_PROXY: 'http://proxy.example:3128', no_proxy: 'localhost,.corp.example', PIP_INDEX_URL: 'https://pypi.example/simple/', UV_DEFAULT_INDEX: 'https://pypi.example/simple/'})
  })

  it('keeps the cache and the certificate trust of uv and pip (a private index\'s CA), drops their other settings', () => {
    const env = resolverEnv({UV_CACHE_DIR: '/cache/uv', UV_NATIVE_TLS: 'true', UV_SYSTEM_CERTS: '1', PIP_CERT: '/etc/corp-ca.pem', SSL_CERT_FILE: '/etc/corp-ca.pem', UV_EXTRA_INDEX_URL: 'https://other.example/simple/', UV_PYTHON: '3.9', PIP_TRUSTED_HOST: 'other.example'}, config)
    expect(env).toMatchObject({UV_CACHE_DIR: '/cache/uv', UV_NATIVE_TLS: 'true', UV_SYSTEM_CERTS: '1', PIP_CERT: '/etc/corp-ca.pem', SSL_CERT_FILE: '/etc/corp-ca.pem'})
    expect(Object.keys(env).filter((name) => ['UV_EXTRA_INDEX_URL', 'UV_PYTHON', 'PIP_TRUSTED_HOST'].includes(name))).toEqual([])
  })

  it('gives uv and pip the configured retries and timeout (pip.conf or PIP_RETRIES / PIP_TIMEOUT, as layers\' own reads take them)', () => {
    const env = resolverEnv({PIP_RETRIES: '9', UV_HTTP_TIMEOUT: '300'}, {...config, network: {retries: 2, timeoutMs: 7500}})
    expect(env).toMatchObject({PIP_RETRIES: '2', PIP_TIMEOUT: '7.5', UV_HTTP_RETRIES: '2', UV_HTTP_TIMEOUT: '8'})
  })

  it('refuses a proxy variable that is not an http(s) or SOCKS URL, naming it (exit 2)', () => {
    expect(() => resolverEnv({http_proxy: 'ftp://deploy:s3cret@proxy.example/'}, config)).toThrowError(
      expect.objectContaining({code: 'ERR_LAYERS_PROXY_ENV', exitCode: 2, message: 'The environment variable http_proxy is "ftp://***@proxy.example/", not an http://, https:// or socks5:// (socks, socks4, socks4a, socks5h) URL.'}),
    )
  })

  it('checks ALL_PROXY too (uv and pip read it), a malformed one exit 2, a SOCKS one passed on', () => {
    expect(resolverEnv({ALL_PROXY: 'socks5h://proxy.example:1080'}, config)).toMatchObject({ALL_PROXY: 'socks5h://proxy.example:1080'})
    expect(() => resolverEnv({all_proxy: 'proxy.example:1080'}, config)).toThrowError(expect.objectContaining({code: 'ERR_LAYERS_PROXY_ENV', exitCode: 2, details: {variable: 'all_proxy'}}))
  })
})
