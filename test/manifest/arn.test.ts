// Layer ARNs in the partitions other than aws: the manifest's check (src/manifest/arn.ts) and the
// audit's parser (src/audit/arn.ts) accept aws-cn and aws-us-gov and keep the partition in what they
// build; a region of another partition is refused by the manifest check.
import {describe, expect, it} from 'vitest'
import {layerArnOf, parseLayerVersionArn} from '../../src/audit/arn.js'
import {arnForRegion, checkLayerArn} from '../../src/manifest/arn.js'

describe('layer ARNs across partitions', () => {
  it('the manifest check accepts aws-cn and aws-us-gov ARNs in their own regions, and {region} keeps the partition', () => {
    expect(checkLayerArn('arn:aws-cn:lambda:cn-north-1:123456789012:layer:tools:3')).toEqual({ok: true, arn: {partition: 'aws-cn', region: 'cn-north-1', accountId: '123456789012', name: 'tools', version: 3}})
    expect(checkLayerArn('arn:aws-us-gov:lambda:us-gov-west-1:123456789012:layer:tools')).toEqual({ok: true, arn: {partition: 'aws-us-gov', region: 'us-gov-west-1', accountId: '123456789012', name: 'tools'}})
    expect(checkLayerArn('arn:aws-cn:lambda:eu-west-1:123456789012:layer:tools:3')).toEqual({ok: false, problem: 'has region eu-west-1, which is not in partition aws-cn'})
    expect(arnForRegion('arn:aws-cn:lambda:{region}:123456789012:layer:tools', 'cn-northwest-1')).toBe('arn:aws-cn:lambda:cn-northwest-1:123456789012:layer:tools')
  })

  it('the audit parser keeps the partition in the layer ARN it derives', () => {
    expect(parseLayerVersionArn('arn:aws-cn:lambda:cn-north-1:123456789012:layer:tools:3')).toMatchObject({partition: 'aws-cn', region: 'cn-north-1', layerArn: 'arn:aws-cn:lambda:cn-north-1:123456789012:layer:tools', version: 3})
    expect(layerArnOf('arn:aws-us-gov:lambda:us-gov-east-1:123456789012:layer:tools:9')).toBe('arn:aws-us-gov:lambda:us-gov-east-1:123456789012:layer:tools')
    expect(parseLayerVersionArn('arn:azure:lambda:cn-north-1:123456789012:layer:tools:3')).toBeUndefined()
  })
})
