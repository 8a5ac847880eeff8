// The question before grant removals, on publish's service: lockedGrantRemovals reads the grants of
// each unit's locked version (and nothing else) and lists those the manifest no longer names; the run
// then uses those reads (no second GetLayerVersionPolicy), removes only the confirmed grants, and
// leaves a removal nobody was asked about (on a version adopted during the run) with a warning.
import {describe, expect, it} from 'vitest'
import type {LayerGrant, LayerPublishApi, LayerVersionInfo} from '../../src/aws/lambda-layers.js'
import type {ArtifactStoreApi} from '../../src/aws/s3-artifacts.js'
import {collectEvents} from '../../src/events.js'
import {CONTENT_MARKER, type PublishPlan, type PublishUnit} from '../../src/publish/plan.js'
import {lockedGrantRemovals, removalKey, runPublish, type PublishEnv} from '../../src/publish/run.js'

const ACCOUNT = '111111111111'
const REGION = 'eu-west-1'
const SHA_HEX = 'cd'.repeat(32)
const CODE_SHA = Buffer.from(SHA_HEX, 'hex').toString('base64')
const arn = (layer: string, version: number) => `arn:aws:lambda:${REGION}:${ACCOUNT}:layer:${layer}:${version}`
const grant = (id: string): LayerGrant => ({sid: `layers-account-${id}`, principal: id})

function unit(layer: string, grants: LayerGrant[], locked?: number): PublishUnit {
  return {
    layer,
    artifactKey: 'x86_64',
    architectures: ['x86_64'],
    runtimes: [],
    target: {accountName: 'dev', accountId: ACCOUNT, region: REGION},
    content: {layer, artifactKey: 'x86_64', codeSha256: CODE_SHA, sha256Hex: SHA_HEX, zipBytes: 10, unzippedBytes: 10, zipPath: '/nonexistent.zip'},
    bucket: 'b',
    key: `${layer}/${SHA_HEX}.zip`,
    description: `${CONTENT_MARKER}${SHA_HEX}`,
    sbom: {key: `${layer}/${SHA_HEX}.cdx.json`, text: '{}\n', sha256Hex: SHA_HEX},
    grants,
    ...(locked === undefined ? {} : {locked: {arn: arn(layer, locked), version: locked, codeSha256: CODE_SHA}}),
  }
}

function fake(): {env: PublishEnv; calls: string[]} {
  const calls: string[] = []
  // `locked` v1 is shared with 222 and 333; `adopted` v5 (the same content, no lockfile record) with 444.
  const policies: Record<string, LayerGrant[]> = {[arn('locked', 1)]: [grant('222222222222'), grant('333333333333')], [arn('adopted', 5)]: [grant('444444444444')]}
  const version = (layer: string, number: number): LayerVersionInfo => ({arn: arn(layer, number), version: number, description: `${CONTENT_MARKER}${SHA_HEX}`, codeSha256: CODE_SHA})
  const api: LayerPublishApi = {
    listVersions: async (layer) => (calls.push(`list ${layer}`), layer === 'adopted' ? [version('adopted', 5)] : []),
    getVersion: async (layer, number) => (calls.push(`get ${layer}:${number}`), version(layer, number)),
    readByArn: async () => undefined,
    publish: async () => {
      throw new Error('nothing is published here')
    },
    getGrants: async (layer, number) => {
      calls.push(`policy ${layer}:${number}`)
      if (layer === 'denied') throw Object.assign(new Error('User is not authorized to perform: lambda:GetLayerVersionPolicy'), {name: 'AccessDeniedException'})
      return policies[arn(layer, number)]
    },
    addGrant: async (layer, number, added) => void calls.push(`add ${layer}:${number} ${added.sid}`),
    removeGrant: async (layer, number, sid) => void calls.push(`remove ${layer}:${number} ${sid}`),
    deleteVersion: async () => {},
    layerArnsInUse: async () => new Set<string>(),
  }
  const store: ArtifactStoreApi = {bucketState: async () => 'exists', createBucket: async () => {}, objectSize: async () => 10, upload: async () => true, putObject: async () => {}, readObject: async () => undefined}
  return {env: {layersApi: async () => api, store: async () => store}, calls}
}

describe('grant removals are asked about before a publish removes them', () => {
  it('lists the removals on locked versions, reuses those reads, removes only what was confirmed and warns about the rest', async () => {
    const plan: PublishPlan = {units: [unit('locked', [grant('222222222222')], 1), unit('adopted', [])], arnChecks: []}
    const {env, calls} = fake()
    const {removals, reads} = await lockedGrantRemovals(plan, env, 4)
    expect(removals).toEqual([{layer: 'locked', accountName: 'dev', accountId: ACCOUNT, region: REGION, version: 1, arn: arn('locked', 1), sids: ['layers-account-333333333333']}])
    expect(calls).toEqual(['policy locked:1'])

    calls.length = 0
    const events = collectEvents()
    const confirmedRemovals = new Set([removalKey(ACCOUNT, REGION, 'locked', 1, 'layers-account-333333333333')])
    const result = await runPublish(plan, env, {dryRun: false, createBucket: false, concurrency: 1, recorder: {record: async () => {}, flush: async () => {}}, emit: events.emit, grantReads: reads, confirmedRemovals})
    expect(result.units.map((outcome) => [outcome.layer, outcome.status, outcome.grantsRemoved])).toEqual([
      ['locked', 'unchanged', ['layers-account-333333333333']],
      ['adopted', 'adopted', []],
    ])
    expect(calls.filter((call) => call.startsWith('policy locked'))).toEqual([])
    expect(calls.filter((call) => call.startsWith('remove'))).toEqual(['remove locked:1 layers-account-333333333333'])
    expect(events.warnings()).toEqual([
      expect.objectContaining({code: 'ERR_LAYERS_GRANTS_LEFT', message: expect.stringContaining(`Version 5 of adopted in dev (${ACCOUNT})/${REGION}, taken over during this run, keeps grant(s) the manifest no longer names: layers-account-444444444444`)}),
    ])
  })

  it('a read that failed while asking fails its unit in the run, without being sent again (no second round of retries)', async () => {
    const plan: PublishPlan = {units: [unit('denied', [], 3)], arnChecks: []}
    const {env, calls} = fake()
    const {removals, reads} = await lockedGrantRemovals(plan, env, 4)
    expect(removals).toEqual([])
    const result = await runPublish(plan, env, {dryRun: false, createBucket: false, concurrency: 1, recorder: {record: async () => {}, flush: async () => {}}, emit: () => {}, grantReads: reads, confirmedRemovals: new Set()})
    expect(result.units[0]).toMatchObject({status: 'failed', error: {message: expect.stringContaining('GetLayerVersionPolicy')}})
    expect(calls).toEqual(['policy denied:3'])
  })
})
