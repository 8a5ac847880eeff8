// The GET signer (src/aws/sigv4-get.ts) against the SDK's own SignatureV4: the same requests signed by
// both give the same headers byte for byte (paths with escaped labels, dot segments and trailing
// slashes, queries that need escaping and sorting, session tokens, any date), and a change of day or
// credentials derives a new signing key.
import {HttpRequest} from '@smithy/core/protocols'
import {Sha256} from '@smithy/core/checksum'
import {SignatureV4} from '@smithy/signature-v4'
import type {AwsCredentialIdentity} from '@smithy/types'
import {describe, expect, it} from 'vitest'
import {canonicalPath, canonicalQuery, GetRequestSigner} from '../../src/aws/sigv4-get.js'

const REGION = 'eu-west-1'
const KEYS: AwsCredentialIdentity = {accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY'}
const SESSION: AwsCredentialIdentity = {...KEYS, sessionToken: 'IQoJb3JpZ2luX2VjE//session+token=='}

function requestOf(path: string, query: Record<string, string>, headers: Record<string, string> = {}): HttpRequest {
  return new HttpRequest({method: 'GET', protocol: 'https:', hostname: 'lambda.eu-west-1.amazonaws.com', path, query, headers: {host: 'lambda.eu-west-1.amazonaws.com', 'user-agent': 'layers', ...headers}})
}

async function bothSign(credentials: AwsCredentialIdentity, path: string, query: Record<string, string>, signingDate: Date, headers?: Record<string, string>) {
  const sdk = new SignatureV4({credentials, region: REGION, service: 'lambda', sha256: Sha256})
  const ours = new GetRequestSigner(() => Promise.resolve(credentials), REGION, 'lambda')
  const expected = (await sdk.sign(requestOf(path, query, headers), {signingDate, signingRegion: REGION, signingService: 'lambda'})) as HttpRequest
  const actual = await ours.sign(requestOf(path, query, headers), {signingDate, signingRegion: REGION, signingService: 'lambda'})
  return {expected: expected.headers, actual: actual.headers}
}

const PATHS = [
  '/2015-03-31/functions',
  '/2015-03-31/functions/arn%3Aaws%3Alambda%3Aeu-west-1%3A111111111111%3Afunction%3Aorders/configuration',
  '/2015-03-31/functions/orders/aliases/',
  '/2018-10-31/layers/common/versions/3',
  '/a/./b/../c//d',
  '/spaces in%20name/ünïcode/(paren)*!\'',
  '/',
]
const QUERIES: Array<Record<string, string>> = [
  {},
  {MaxItems: '50'},
  {Qualifier: '$LATEST', Marker: 'abc/def+ghi==', FunctionVersion: 'ALL'},
  {b: '2', a: '1', A: '0', 'a b': 'x y', '~tilde': "it's", Z: '(*)'},
  {'X-Amz-Signature': 'dropped', MaxItems: '1'},
]
const DATES = [new Date('2026-12-04T20:59:59.999Z'), new Date('2000-01-01T00:00:00Z'), new Date('2026-02-28T23:59:59Z')]

describe('GET request signer', () => {
  it('signs as SignatureV4 signs, byte for byte', async () => {
    let compared = 0
    for (const credentials of [KEYS, SESSION])
      for (const path of PATHS)
        for (const query of QUERIES)
          for (const date of DATES) {
            const {expected, actual} = await bothSign(credentials, path, query, date)
            expect(actual, `${path} ${JSON.stringify(query)} ${date.toISOString()}`).toEqual(expected)
            compared++
          }
    expect(compared).toBe(2 * PATHS.length * QUERIES.length * DATES.length)
  })

  it('signs the headers it is given as SignatureV4 does (case, spacing, unsigned ones) and replaces an old signature', async () => {
    const headers = {'X-Custom': '  two   spaces\tand tab ', 'Cache-Control': 'no-cache', 'proxy-authorization': 'x', Authorization: 'stale', 'X-Amz-Date': '19990101T000000Z'}
    const {expected, actual} = await bothSign(SESSION, '/2015-03-31/functions', {MaxItems: '50'}, DATES[0]!, headers)
    expect(actual).toEqual(expected)
    expect(actual.authorization).toContain('SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token;x-custom,')
  })

  it('derives a new signing key for a new day or new credentials', async () => {
    let credentials = KEYS
    const ours = new GetRequestSigner(() => Promise.resolve(credentials), REGION, 'lambda')
    const sdkOf = (keys: AwsCredentialIdentity) => new SignatureV4({credentials: keys, region: REGION, service: 'lambda', sha256: Sha256})
    const days = [new Date('2026-12-04T23:59:59Z'), new Date('2026-12-05T00:00:00Z')]
    for (const signingDate of days) {
      const expected = (await sdkOf(credentials).sign(requestOf('/2015-03-31/functions', {}), {signingDate})) as HttpRequest
      expect((await ours.sign(requestOf('/2015-03-31/functions', {}), {signingDate})).headers.authorization).toBe(expected.headers.authorization)
    }
    credentials = {accessKeyId: 'AKIDROTATED', secretAccessKey: 'rotated-secret', sessionToken: 'new-token'}
    const expected = (await sdkOf(credentials).sign(requestOf('/2015-03-31/functions', {}), {signingDate: days[1]})) as HttpRequest
    expect((await ours.sign(requestOf('/2015-03-31/functions', {}), {signingDate: days[1]})).headers).toEqual(expected.headers)
  })

  it('reads a signing date given as epoch seconds or a date string as SignatureV4 does', async () => {
    for (const signingDate of [1764892799, '1764892799', '2026-12-04T23:59:59Z']) {
      const sdk = new SignatureV4({credentials: KEYS, region: REGION, service: 'lambda', sha256: Sha256})
      const expected = (await sdk.sign(requestOf('/2015-03-31/functions', {}), {signingDate})) as HttpRequest
      const actual = await new GetRequestSigner(() => Promise.resolve(KEYS), REGION, 'lambda').sign(requestOf('/2015-03-31/functions', {}), {signingDate})
      expect(actual.headers, String(signingDate)).toEqual(expected.headers)
    }
  })

  it('refuses what it cannot sign: a body, another method, credentials without a secret', async () => {
    const ours = new GetRequestSigner(() => Promise.resolve(KEYS), REGION, 'lambda')
    await expect(ours.sign(new HttpRequest({method: 'POST', hostname: 'h', path: '/', headers: {}}))).rejects.toThrow(/bodiless GETs only/)
    await expect(ours.sign(new HttpRequest({method: 'GET', hostname: 'h', path: '/', headers: {}, body: 'x'}))).rejects.toThrow(/bodiless GETs only/)
    const keyless = new GetRequestSigner(() => Promise.resolve({accessKeyId: 'AKID'} as AwsCredentialIdentity), REGION, 'lambda')
    await expect(keyless.sign(requestOf('/', {}))).rejects.toThrow(/credential/)
  })

  it('gives the canonical path and query of the SigV4 test suite', () => {
    expect(canonicalPath('/example/..//./space space/')).toBe('/space%20space/')
    expect(canonicalPath('')).toBe('')
    expect(canonicalQuery({'Param-3': 'Value3', Param1: 'value1', 'Param 2': 'value 2'})).toBe('Param%202=value%202&Param-3=Value3&Param1=value1')
  })
})
