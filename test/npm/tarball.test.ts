// Which fetch failures src/net/retry.ts (npm tarballs, Python downloads) tries again, and how long it waits, as npm's retry
// settings count it.
import {describe, expect, it} from 'vitest'
import {isTransientFetchError, retryDelay} from '../../src/net/retry.js'
import {integrityMismatchOf} from '../../src/npm/tarball.js'

describe('tarball fetch retries', () => {
  it('tries again after no answer or a "later" status, never after other bytes or a client error', () => {
    for (const code of ['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EAI_AGAIN', 'ERESPONSETIMEOUT']) expect(isTransientFetchError(Object.assign(new Error(code), {code})), code).toBe(true)
    expect(isTransientFetchError(Object.assign(new Error('network timeout'), {type: 'request-timeout'}))).toBe(true)
    for (const statusCode of [408, 420, 429, 500, 502, 503]) expect(isTransientFetchError({statusCode, code: `E${statusCode}`}), String(statusCode)).toBe(true)
    for (const statusCode of [401, 403, 404]) expect(isTransientFetchError({statusCode, code: `E${statusCode}`}), String(statusCode)).toBe(false)
    expect(isTransientFetchError(Object.assign(new Error('integrity checksum failed'), {code: 'EINTEGRITY'}))).toBe(false)
    expect(isTransientFetchError(Object.assign(new Error('bad gzip'), {code: 'Z_DATA_ERROR'}))).toBe(false)
    expect(isTransientFetchError(undefined)).toBe(false)
  })

  it('waits minTimeout × factor^attempt, at most maxTimeout (npm defaults: 10 s, then 60 s)', () => {
    const npmDefaults = {retries: 2, factor: 10, minTimeout: 10_000, maxTimeout: 60_000}
    expect([0, 1, 2].map((attempt) => retryDelay(npmDefaults, attempt))).toEqual([10_000, 60_000, 60_000])
    expect(retryDelay({retries: 2, factor: 2, minTimeout: 50, maxTimeout: 1000}, 1)).toBe(100)
  })

  it('reads what an integrity mismatch expected and found, and nothing from other errors', () => {
    const expected = {toString: () => 'sha512-AAAA'}
    expect(integrityMismatchOf({code: 'EINTEGRITY', expected, found: 'sha512-BBBB'})).toEqual({expected: 'sha512-AAAA', actual: 'sha512-BBBB'})
    expect(integrityMismatchOf({code: 'ECONNRESET'})).toBeUndefined()
  })
})
