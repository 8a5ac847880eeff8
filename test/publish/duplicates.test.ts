// Belt and braces after a publish (src/publish/duplicates.ts) over an in-memory layer API: one call
// when there is no duplicate; with duplicates the oldest is kept and a newer one is deleted only
// when no function of the target uses it and it has no grants; otherwise it is left with the reason.
import {describe, expect, it} from 'vitest'
import type {LayerGrant, LayerPublishApi, LayerVersionInfo} from '../../src/aws/lambda-layers.js'
import {settleDuplicates} from '../../src/publish/duplicates.js'
import {versionDescription, type PublishUnit} from '../../src/publish/plan.js'

const SHA_HEX = 'a'.repeat(64)
const OTHER_HEX = 'b'.repeat(64)
const CODE = 'A'.repeat(43) + '='
const arn = (version: number) => `arn:aws:lambda:eu-west-1:111111111111:layer:deps:${version}`

const unit = {layer: 'deps', content: {sha256Hex: SHA_HEX, codeSha256: CODE}} as unknown as PublishUnit

function fakeApi(versions: Array<{version: number; hex?: string; code?: string; grants?: LayerGrant[]}>, inUse: string[] | Error = []) {
  const calls: string[] = []
  const live = new Map(versions.map((entry) => [entry.version, entry]))
  const info = (entry: {version: number; hex?: string; code?: string}): LayerVersionInfo => ({arn: arn(entry.version), version: entry.version, description: versionDescription({}, entry.hex ?? SHA_HEX, SHA_HEX), codeSha256: entry.code ?? CODE})
  const api = {
    async listVersions() {
      calls.push('ListLayerVersions')
      return [...live.values()].map(info)
    },
    async getVersion(_layer: string, version: number) {
      calls.push(`GetLayerVersion ${version}`)
      const entry = live.get(version)
      return entry ? info(entry) : undefined
    },
    async getGrants(_layer: string, version: number) {
      calls.push(`GetLayerVersionPolicy ${version}`)
      return live.get(version)?.grants
    },
    async deleteVersion(_layer: string, version: number) {
      calls.push(`DeleteLayerVersion ${version}`)
      live.delete(version)
    },
    async layerArnsInUse() {
      calls.push('ListFunctions')
      if (inUse instanceof Error) throw inUse
      return new Set(inUse)
    },
  } as unknown as LayerPublishApi
  return {api, calls, live, info}
}

describe('settleDuplicates', () => {
  it('no duplicate: one ListLayerVersions, keeps the new version', async () => {
    const {api, calls, info} = fakeApi([{version: 1, hex: OTHER_HEX}, {version: 2}])
    const result = await settleDuplicates(api, unit, info({version: 2}))
    expect(result).toEqual({keep: info({version: 2})})
    expect(calls).toEqual(['ListLayerVersions'])
  })

  it('keeps the oldest and deletes the fresh duplicate nobody uses (not yet granted)', async () => {
    const {api, calls, live, info} = fakeApi([{version: 3}, {version: 5}])
    const result = await settleDuplicates(api, unit, info({version: 5}))
    expect(result.keep.version).toBe(3)
    expect(result.report).toEqual({kept: 3, deleted: [{version: 5, arn: arn(5)}], left: []})
    expect([...live.keys()]).toEqual([3])
    expect(calls).toContain('DeleteLayerVersion 5')
  })

  it('leaves a newer duplicate that a function uses, or that is shared, and says why; a description match with other bytes is no duplicate', async () => {
    const {api, live, info} = fakeApi([{version: 1}, {version: 2, code: 'B'.repeat(43) + '='}, {version: 3, grants: [{sid: 'layers-account-222222222222', principal: '222222222222'}]}, {version: 4}, {version: 5}], [arn(4)])
    const result = await settleDuplicates(api, unit, info({version: 5}))
    expect(result.keep.version).toBe(1)
    expect(result.report!.deleted).toEqual([{version: 5, arn: arn(5)}])
    expect(result.report!.left).toEqual([
      {version: 3, arn: arn(3), reason: expect.stringContaining('shared (layers-account-222222222222)')},
      {version: 4, arn: arn(4), reason: 'a function uses it'},
    ])
    expect([...live.keys()]).toEqual([1, 2, 3, 4])
  })

  it('deletes nothing when it cannot tell whether a function uses a duplicate', async () => {
    const {api, live, info} = fakeApi([{version: 1}, {version: 2}], new Error('AccessDeniedException: lambda:ListFunctions'))
    const result = await settleDuplicates(api, unit, info({version: 2}))
    expect(result.keep.version).toBe(1)
    expect(result.report).toMatchObject({deleted: [], left: [{version: 2, reason: expect.stringContaining('cannot tell')}]})
    expect([...live.keys()]).toEqual([1, 2])
  })
})
