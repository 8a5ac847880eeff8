import {describe, expect, it} from 'vitest'
import {pinArnLayer, type ArnPinEnv} from '../../src/lock/arn-pin.js'
import type {Account} from '../../src/manifest/types.js'
import type {LayerProbeApi} from '../../src/outdated/newest-version.js'

const dev: Account = {name: 'dev', id: '111111111111', regions: ['eu-west-1', 'us-east-1']}
const prod: Account = {name: 'prod', id: '222222222222', regions: ['eu-west-1']}

/** Readable versions per account and region, as a layer owner's sharing would make them. */
function world(readable: Record<string, number[]>, own?: Record<string, number[]>): ArnPinEnv & {probes: string[]} {
  const probes: string[] = []
  return {
    probes,
    probeApi: async (target) => {
      const api: LayerProbeApi = {
        canRead: async (arn) => {
          probes.push(arn)
          const [layerArn, version] = [arn.slice(0, arn.lastIndexOf(':')), Number(arn.slice(arn.lastIndexOf(':') + 1))]
          return (readable[`${target.account.id} ${layerArn}`] ?? []).includes(version)
        },
        listOwnVersions: async (layerArn) => (layerArn.split(':')[4] === target.account.id ? (own?.[layerArn] ?? []) : undefined),
      }
      return api
    },
  }
}

const ext = (region: string) => `arn:aws:lambda:${region}:580247275435:layer:Ext`

describe('pinArnLayer', () => {
  it('expands {region} and pins the newest version each account can read, across gaps shorter than a probe batch', async () => {
    const env = world({
      [`111111111111 ${ext('eu-west-1')}`]: [2, 3, 6, 9, 12],
      [`111111111111 ${ext('us-east-1')}`]: [1, 4],
      [`222222222222 ${ext('eu-west-1')}`]: [2, 3],
    })
    const pinned = await pinArnLayer(
      {kind: 'arn', name: 'ext', arn: 'arn:aws:lambda:{region}:580247275435:layer:Ext'},
      [{account: dev, region: 'eu-west-1'}, {account: dev, region: 'us-east-1'}, {account: prod, region: 'eu-west-1'}],
      env,
    )
    expect(pinned).toEqual({
      '111111111111': {'eu-west-1': `${ext('eu-west-1')}:12`, 'us-east-1': `${ext('us-east-1')}:4`},
      '222222222222': {'eu-west-1': `${ext('eu-west-1')}:3`},
    })
  })

  it('uses ListLayerVersions for the account\'s own layer', async () => {
    const own = 'arn:aws:lambda:eu-west-1:111111111111:layer:mine'
    const env = world({}, {[own]: [1, 5, 3]})
    expect(await pinArnLayer({kind: 'arn', name: 'mine', arn: own}, [{account: dev, region: 'eu-west-1'}], env)).toEqual({'111111111111': {'eu-west-1': `${own}:5`}})
    expect(env.probes).toEqual([])
  })

  it('keeps a versioned ARN after checking it is readable, and names the target when it is not', async () => {
    const env = world({[`111111111111 ${ext('eu-west-1')}`]: [7]})
    const layer = {kind: 'arn' as const, name: 'ext', arn: 'arn:aws:lambda:{region}:580247275435:layer:Ext:7'}
    expect(await pinArnLayer(layer, [{account: dev, region: 'eu-west-1'}], env)).toEqual({'111111111111': {'eu-west-1': `${ext('eu-west-1')}:7`}})
    await expect(pinArnLayer(layer, [{account: prod, region: 'eu-west-1'}], env)).rejects.toMatchObject({
      code: 'ERR_LAYERS_ARN_UNREADABLE',
      exitCode: 2,
      message: expect.stringContaining('account 222222222222 (prod), region eu-west-1'),
    })
  })

  it('names the layer and target when the account has no usable credentials, instead of an internal error', async () => {
    const env: ArnPinEnv = {probeApi: async () => Promise.reject(Object.assign(new Error('Could not load credentials from any providers'), {name: 'CredentialsProviderError'}))}
    await expect(pinArnLayer({kind: 'arn', name: 'ext', arn: 'arn:aws:lambda:{region}:580247275435:layer:Ext'}, [{account: dev, region: 'eu-west-1'}], env)).rejects.toMatchObject({
      code: 'ERR_LAYERS_ARN_PIN_FAILED',
      exitCode: 1,
      message: expect.stringContaining('(layer ext) from account 111111111111 (dev), region eu-west-1: Could not load credentials'),
    })
  })
})
