import {describe, expect, it} from 'vitest'
import {fitsDirectUpload, packageObjectKey, parseImageUri, planAliasMove, planRollback, previousVersionDescription, recordedPreviousVersion, type AliasState} from '../../src/deploy/plan.js'

const alias = (functionVersion: string, weights: Record<string, number> = {}, description = ''): AliasState => ({name: 'live', functionVersion, weights, description, revisionId: 'r1'})

describe('deploy plan', () => {
  it('keys a package by function and content under the prefix', () => {
    expect(packageObjectKey('layers/', 'api', 'ab12')).toBe('layers/functions/api/ab12.zip')
  })

  it('records the previous version in a description it can read back (and nothing else counts)', () => {
    expect(recordedPreviousVersion(previousVersionDescription('7'))).toBe('7')
    expect(previousVersionDescription('7').length).toBeLessThanOrEqual(256)
    expect(recordedPreviousVersion('prod traffic')).toBeUndefined()
  })

  it('creates a missing alias on the version, and refuses a weighted shift without one', () => {
    expect(planAliasMove('live', undefined, '1')).toEqual({action: 'create', route: {functionVersion: '1', weights: {}, description: ''}})
    expect(planAliasMove('live', undefined, '1', 10)).toMatchObject({action: 'refuse', reason: expect.stringContaining('alias live does not exist yet')})
  })

  it('moves all traffic, or shifts a share leaving the alias on its version, recording where it was', () => {
    expect(planAliasMove('live', alias('1'), '2')).toEqual({action: 'update', route: {functionVersion: '2', weights: {}, description: previousVersionDescription('1')}})
    expect(planAliasMove('live', alias('1'), '2', 10)).toEqual({action: 'update', route: {functionVersion: '1', weights: {'2': 0.1}, description: previousVersionDescription('1')}})
    expect(planAliasMove('live', alias('1'), '2', 100)).toMatchObject({route: {functionVersion: '2', weights: {}}})
    // After a shift, the full move records the version it kept the rest on.
    expect(planAliasMove('live', alias('1', {'2': 0.1}), '2')).toEqual({action: 'update', route: {functionVersion: '2', weights: {}, description: previousVersionDescription('1')}})
  })

  it('is a no-op when the alias routes as asked already', () => {
    expect(planAliasMove('live', alias('2', {}, 'x'), '2')).toEqual({action: 'noop'})
    expect(planAliasMove('live', alias('1', {'2': 0.1}), '2', 10)).toEqual({action: 'noop'})
    expect(planAliasMove('live', alias('2'), '2', 10)).toEqual({action: 'noop'})
  })

  it('rolls back to the recorded version with all traffic, so a second rollback goes forward again', () => {
    expect(planRollback('live', alias('2', {}, previousVersionDescription('1')))).toEqual({action: 'update', route: {functionVersion: '1', weights: {}, description: previousVersionDescription('2')}})
    // A weighted shift undone: the routing is cleared, the record kept.
    expect(planRollback('live', alias('1', {'2': 0.1}, previousVersionDescription('1')))).toEqual({action: 'update', route: {functionVersion: '1', weights: {}, description: previousVersionDescription('1')}})
    expect(planRollback('live', alias('1', {}, previousVersionDescription('1')))).toEqual({action: 'noop'})
    expect(planRollback('live', alias('3'))).toMatchObject({action: 'refuse', reason: expect.stringContaining('records no previous version')})
  })
})

describe('fitsDirectUpload', () => {
  it('takes a zip whose base64 request stays under Lambda\'s 69,905,067 bytes, not a 50 MiB one', () => {
    expect(fitsDirectUpload(1024)).toBe(true)
    expect(fitsDirectUpload(52_428_800 - 1024)).toBe(true)
    expect(fitsDirectUpload(52_428_800)).toBe(false)
    expect(fitsDirectUpload(60 * 1024 * 1024)).toBe(false)
  })

  it('takes an image URI by digest, with the account and region of an ECR host, and refuses tags and other shapes', () => {
    const digest = `sha256:${'ab'.repeat(32)}`
    expect(parseImageUri(`111111111111.dkr.ecr.eu-west-1.amazonaws.com/team/api@${digest}`)).toEqual({host: '111111111111.dkr.ecr.eu-west-1.amazonaws.com', repository: 'team/api', digest, ecr: {accountId: '111111111111', region: 'eu-west-1'}})
    expect(parseImageUri(`127.0.0.1:5000/api@${digest}`)).toEqual({host: '127.0.0.1:5000', repository: 'api', digest})
    expect(parseImageUri('111111111111.dkr.ecr.eu-west-1.amazonaws.com/api:latest')).toEqual({error: expect.stringContaining('by tag latest, not by digest')})
    expect(parseImageUri('111111111111.dkr.ecr.eu-west-1.amazonaws.com/api')).toEqual({error: expect.stringContaining('by no tag or digest')})
    for (const bad of ['api', `Api@${digest}`, `host/api@sha256:abc`, '']) expect(parseImageUri(bad)).toEqual({error: expect.stringContaining('is not a container image URI')})
  })
})
