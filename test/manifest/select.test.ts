// The shared selection (src/manifest/select.ts), the bucket-per-region check, the S3 wrong-region
// mapping, LAYERS_LOCK_WAIT_MS, and how values are quoted in messages: pure functions, no I/O.
import {describe, expect, it} from 'vitest'
import {targetError} from '../../src/aws/errors.js'
import {wrongRegionError} from '../../src/aws/s3-region.js'
import {quoteValue, shortenMessage} from '../../src/errors/index.js'
import {millisecondsFromEnv} from '../../src/env.js'
import {lockWaitMs} from '../../src/lock/io.js'
import {readYaml} from '../../src/manifest/document.js'
import {bucketProblems} from '../../src/manifest/bucket.js'
import {checkRegionNames, layerByName, selectAccounts, selectFunctions, selectLayerNames, selectRegions} from '../../src/manifest/select.js'
import type {Manifest} from '../../src/manifest/types.js'

const manifest = {
  file: '/p/layers.yaml',
  accounts: {dev: {name: 'dev', id: '111111111111', regions: ['eu-west-1']}, prod: {name: 'prod', id: '222222222222', regions: ['eu-west-1', 'us-east-1']}},
  layers: {
    deps: {kind: 'npm', name: 'deps', dependencies: {}},
    ext: {kind: 'arn', name: 'ext', arn: 'arn:aws:lambda:eu-west-1:999999999999:layer:ext:1'},
    files: {kind: 'dir', name: 'files', dir: '/p/files'},
  },
  functions: {api: {key: 'api', name: 'svc-api'}, worker: {key: 'worker', name: 'worker'}},
} as unknown as Manifest

describe('selection', () => {
  it('selects layers by name in manifest order, by kind, and names the unknown one with did-you-mean', () => {
    expect(selectLayerNames(manifest, undefined)).toEqual(['deps', 'ext', 'files'])
    expect(selectLayerNames(manifest, ['files', 'deps'])).toEqual(['deps', 'files'])
    expect(selectLayerNames(manifest, [], {kinds: 'own'})).toEqual(['deps', 'files'])
    expect(selectLayerNames(manifest, [], {kinds: 'versioned'})).toEqual(['deps', 'ext'])
    expect(() => selectLayerNames(manifest, ['dpes'])).toThrow(expect.objectContaining({code: 'ERR_LAYERS_UNKNOWN_LAYER', exitCode: 2, message: 'No layer named "dpes" in /p/layers.yaml. Did you mean "deps"?', hint: 'Layers in the manifest: deps, ext, files.'}))
    expect(() => selectLayerNames(manifest, ['ext'], {kinds: 'own', purpose: 'prune'})).toThrow(expect.objectContaining({code: 'ERR_LAYERS_LAYER_KIND', exitCode: 2, message: expect.stringContaining('prune works on npm, dir or runtime layers only')}))
  })

  it('selects functions by key or deployed name, and accounts by name or id (ids only where allowed)', () => {
    expect(selectFunctions(manifest, ['svc-api', 'api']).map((fn) => fn.key)).toEqual(['api'])
    expect(() => selectFunctions(manifest, ['wroker'])).toThrow(expect.objectContaining({code: 'ERR_LAYERS_UNKNOWN_FUNCTION', message: expect.stringContaining('Did you mean "worker"?')}))
    expect(selectAccounts(manifest, ['222222222222']).map((account) => account.name)).toEqual(['prod'])
    expect(() => selectAccounts(manifest, ['333333333333'])).toThrow(expect.objectContaining({code: 'ERR_LAYERS_UNKNOWN_ACCOUNT'}))
    expect(selectAccounts(manifest, ['333333333333'], {ids: true, defaultRegions: ['eu-west-1']})).toEqual([{name: '333333333333', id: '333333333333', regions: ['eu-west-1']}])
    expect(() => selectAccounts(manifest, ['prd'], {ids: true})).toThrow(expect.objectContaining({code: 'ERR_LAYERS_UNKNOWN_ACCOUNT', message: expect.stringContaining('Did you mean "prod"?')}))
  })

  it('names a typed name every object inherits (toString, constructor) as unknown, not as an entry', () => {
    expect(() => selectLayerNames(manifest, ['toString'])).toThrowError(expect.objectContaining({code: 'ERR_LAYERS_UNKNOWN_LAYER', exitCode: 2}))
    expect(() => layerByName(manifest, 'hasOwnProperty')).toThrowError(expect.objectContaining({code: 'ERR_LAYERS_UNKNOWN_LAYER'}))
    expect(() => selectFunctions(manifest, ['constructor'])).toThrowError(expect.objectContaining({code: 'ERR_LAYERS_UNKNOWN_FUNCTION'}))
    expect(() => selectAccounts(manifest, ['valueOf'])).toThrowError(expect.objectContaining({code: 'ERR_LAYERS_UNKNOWN_ACCOUNT'}))
  })

  it('takes region names only, and for manifest targets only the selected accounts\' regions', () => {
    for (const region of ['us-east-1', 'us-gov-west-1', 'us-isob-east-1', 'cn-north-1', 'eusc-de-east-1', 'xx-newplace-9']) expect(() => checkRegionNames([region])).not.toThrow()
    for (const region of ['mars-1', 'mars', 'US-EAST-1', 'eu-west-1 ', '', 'eu-west-12']) expect(() => checkRegionNames([region]), region).toThrow(expect.objectContaining({code: 'ERR_LAYERS_UNKNOWN_REGION', exitCode: 2}))
    expect(() => checkRegionNames(['eu-west'])).toThrow(expect.objectContaining({message: expect.stringContaining('Did you mean "eu-west-1"?')}))
    expect(selectRegions(manifest, Object.values(manifest.accounts), undefined)).toBeUndefined()
    expect(selectRegions(manifest, Object.values(manifest.accounts), ['us-east-1', 'us-east-1'])).toEqual(['us-east-1'])
    expect(() => selectRegions(manifest, [manifest.accounts.dev!], ['us-east-1'])).toThrow(
      expect.objectContaining({code: 'ERR_LAYERS_REGION_NOT_IN_MANIFEST', exitCode: 2, message: expect.stringContaining('account dev'), hint: expect.stringContaining('Regions of that account: eu-west-1.')}),
    )
  })
})

describe('settings.bucket per region', () => {
  const problems = (text: string) => {
    const source = readYaml(text, '/p/layers.yaml')
    return bucketProblems(source.data as Record<string, unknown>, source)
  }
  it('refuses a template that gives two regions one bucket, at its line and column', () => {
    const text = 'version: 1\nsettings:\n  bucket: acme-layers-{accountId}\n  regions: [eu-west-1, us-east-1]\naccounts:\n  dev: {id: "111111111111"}\n'
    expect(problems(text)).toEqual([expect.objectContaining({code: 'ERR_LAYERS_MANIFEST_BUCKET_REGIONS', location: {file: '/p/layers.yaml', line: 3, column: 11}, message: expect.stringContaining('acme-layers-111111111111')})])
    // Per-account regions count too; one region per account, or {region} in the name, is fine.
    expect(problems('settings:\n  bucket: b-{accountId}\naccounts:\n  a: {id: "111111111111", regions: [eu-west-1, us-east-1]}\n')).toHaveLength(1)
    expect(problems('settings:\n  bucket: b-{accountId}\naccounts:\n  a: {id: "111111111111", regions: [eu-west-1]}\n  b: {id: "222222222222", regions: [us-east-1]}\n')).toEqual([])
    expect(problems('settings:\n  bucket: b-{accountId}-{region}\n  regions: [eu-west-1, us-east-1]\n')).toEqual([])
    expect(problems('settings:\n  regions: [eu-west-1, us-east-1]\n')).toEqual([])
  })
})

describe('S3 wrong-region answers', () => {
  it('names bucket, region asked and the bucket\'s region from the header, the Region element or the Endpoint', () => {
    const redirect = Object.assign(new Error('UnknownError'), {name: 'Unknown', $metadata: {httpStatusCode: 301}, $response: {headers: {'x-amz-bucket-region': 'us-east-1'}}})
    expect(wrongRegionError(redirect, 'acme', 'eu-west-1')).toMatchObject({code: 'ERR_LAYERS_BUCKET_WRONG_REGION', message: expect.stringContaining('Bucket acme is in region us-east-1, not eu-west-1'), details: {bucket: 'acme', region: 'eu-west-1', bucketRegion: 'us-east-1'}})
    const malformed = Object.assign(new Error("The authorization header is malformed; the region 'eu-west-1' is wrong; expecting 'ap-south-1'"), {name: 'AuthorizationHeaderMalformed', Region: 'ap-south-1', $metadata: {httpStatusCode: 400}})
    expect(wrongRegionError(malformed, 'acme', 'eu-west-1')?.message).toContain('is in region ap-south-1')
    const permanent = Object.assign(new Error('must be addressed using the specified endpoint'), {name: 'PermanentRedirect', Endpoint: 'acme.s3.sa-east-1.amazonaws.com', $metadata: {httpStatusCode: 301}})
    expect(wrongRegionError(permanent, 'acme', 'eu-west-1')?.message).toContain('is in region sa-east-1')
    const illegal = Object.assign(new Error('The eu-west-1 location constraint is incompatible'), {name: 'IllegalLocationConstraintException', $metadata: {httpStatusCode: 400}})
    expect(wrongRegionError(illegal, 'acme', 'eu-west-1')).toMatchObject({code: 'ERR_LAYERS_BUCKET_WRONG_REGION', message: expect.stringContaining('cannot be used from region eu-west-1'), hint: expect.stringContaining('{region}')})
    // Anywhere else a bare 301 is still named for what it is, with a hint, not "Unknown: UnknownError".
    expect(targetError(redirect)).toMatchObject({code: 'PermanentRedirect', hint: expect.stringContaining('{region}')})
    expect(wrongRegionError(Object.assign(new Error('Access Denied'), {name: 'AccessDenied', $metadata: {httpStatusCode: 403}}), 'acme', 'eu-west-1')).toBeUndefined()
  })
})

describe('input from the environment and echoed values', () => {
  it('LAYERS_LOCK_WAIT_MS is a bounded whole number of milliseconds', () => {
    expect(lockWaitMs(undefined)).toBe(3000)
    expect(lockWaitMs('')).toBe(3000)
    expect(lockWaitMs(' 250 ')).toBe(250)
    for (const value of ['banana', '-1', '1e3', 'Infinity', '1.5', '600001', '99999999999']) {
      expect(() => lockWaitMs(value), value).toThrow(expect.objectContaining({code: 'ERR_LAYERS_ENV', exitCode: 2, message: expect.stringContaining('LAYERS_LOCK_WAIT_MS')}))
    }
  })

  it('every millisecond variable is read the same way, its range and its name in the error', () => {
    const range = {fallback: 60_000, min: 100, max: 86_400_000, purpose: 'how long a lease lasts unless renewed', example: 30_000}
    expect(millisecondsFromEnv('LAYERS_LEASE_MS', undefined, range)).toBe(60_000)
    expect(millisecondsFromEnv('LAYERS_LEASE_MS', ' 1000 ', range)).toBe(1000)
    for (const value of ['99', '1e4', '0x3e8', '86400001']) {
      expect(() => millisecondsFromEnv('LAYERS_LEASE_MS', value, range), value).toThrow(
        expect.objectContaining({code: 'ERR_LAYERS_ENV', exitCode: 2, message: expect.stringContaining('LAYERS_LEASE_MS='), hint: expect.stringContaining('how long a lease lasts')}),
      )
    }
  })

  it('cuts quoted values and long messages to a readable length', () => {
    expect(quoteValue('abc')).toBe('"abc"')
    expect(quoteValue(12)).toBe('12')
    expect(quoteValue('x'.repeat(8_000_000))).toBe(`"${'x'.repeat(200)}"… (7999800 more characters)`)
    const message = `layers.a.description is "${'y'.repeat(5000)}", which is not valid.`
    expect(shortenMessage(message)).toBe(`layers.a.description is "${'y'.repeat(200)}"… (4800 more characters), which is not valid.`)
    expect(shortenMessage('z'.repeat(10_000))).toHaveLength(4000 + '… (6000 more characters)'.length)
    expect(shortenMessage('short "value"')).toBe('short "value"')
  })
})
