// Unit tests of the account binding (src/aws/identity.ts) over a fake client factory: one
// GetCallerIdentity per distinct credentials however many regions and clients ask, concurrently too;
// a mismatch refuses every client of that account (made while STS is asked, never handed out); where
// the credentials came from.
import {describe, expect, it} from 'vitest'
import type {AwsClientFactory} from '../../src/aws/clients.js'
import {credentialSource} from '../../src/aws/clients.js'
import {boundClients} from '../../src/aws/identity.js'
import type {Account} from '../../src/manifest/types.js'

const dev: Account = {name: 'dev', id: '111111111111', regions: ['eu-west-1', 'us-east-1']}
const prod: Account = {name: 'prod', id: '222222222222', profile: 'prod', regions: ['eu-west-1']}

function fakeFactory(reached: Record<string, string>) {
  const log: string[] = []
  const factory = {
    sts: async (account: Account, region: string) => ({
      send: async () => {
        log.push(`sts ${account.name} ${region}`)
        return {Account: reached[account.name]}
      },
    }),
    lambda: async (account: Account, region: string) => {
      log.push(`lambda ${account.name} ${region}`)
      return {region}
    },
    s3: async (account: Account, region: string) => {
      log.push(`s3 ${account.name} ${region}`)
      return {region}
    },
  } as unknown as Pick<AwsClientFactory, 'lambda' | 'sts' | 's3'>
  return {factory, log}
}

describe('boundClients', () => {
  it('asks STS once per account for all its regions and clients, also when they ask at once', async () => {
    const {factory, log} = fakeFactory({dev: dev.id, prod: prod.id})
    const clients = boundClients(factory)
    await Promise.all([clients.lambda(dev, 'eu-west-1'), clients.lambda(dev, 'us-east-1'), clients.s3!(dev, 'eu-west-1'), clients.lambda(prod, 'eu-west-1'), clients.lambda(dev, 'eu-west-1', {maxAttempts: 1})])
    expect(log.filter((entry) => entry.startsWith('sts')).sort()).toEqual(['sts dev eu-west-1', 'sts prod eu-west-1'])
    expect(log.filter((entry) => entry.startsWith('lambda'))).toHaveLength(4)
  })

  it('refuses every client of an account whose credentials reach another (never handed out), and names the source', async () => {
    const {factory, log} = fakeFactory({dev: '333333333333', prod: prod.id})
    const clients = boundClients(factory)
    const expected = {
      code: 'ERR_LAYERS_ACCOUNT_MISMATCH',
      details: {account: 'dev', expected: dev.id, actual: '333333333333', source: expect.any(String)},
    }
    await expect(clients.lambda(dev, 'eu-west-1')).rejects.toMatchObject(expected)
    await expect(clients.s3!(dev, 'us-east-1')).rejects.toMatchObject(expected)
    await expect(clients.lambda(prod, 'eu-west-1')).resolves.toBeDefined()
    // Clients are made while STS answers (making one calls nothing); one STS call per account.
    expect(log.filter((entry) => entry.startsWith('sts'))).toEqual(['sts dev eu-west-1', 'sts prod eu-west-1'])
  })
})

describe('credentialSource', () => {
  it('names the manifest profile, the role and what it is assumed with, AWS_PROFILE before environment keys, else the default chain', () => {
    expect(credentialSource({profile: 'prod'}, {AWS_PROFILE: 'x', AWS_ACCESS_KEY_ID: 'AKID'})).toBe('the manifest profile prod')
    expect(credentialSource({}, {AWS_PROFILE: 'other', AWS_ACCESS_KEY_ID: 'AKID'})).toBe('AWS_PROFILE=other')
    expect(credentialSource({}, {AWS_ACCESS_KEY_ID: 'AKID'})).toBe('environment variables AWS_ACCESS_KEY_ID')
    expect(credentialSource({}, {})).toBe('the default credential chain')
    expect(credentialSource({roleArn: 'arn:aws:iam::222222222222:role/deployer'}, {})).toBe('roleArn arn:aws:iam::222222222222:role/deployer assumed with the default credential chain')
    expect(credentialSource({roleArn: 'arn:aws:iam::222222222222:role/deployer', profile: 'ci'}, {})).toBe('roleArn arn:aws:iam::222222222222:role/deployer assumed with the manifest profile ci')
  })

  it('names --profile after the manifest profile and before AWS_PROFILE', () => {
    expect(credentialSource({}, {AWS_PROFILE: 'other', AWS_ACCESS_KEY_ID: 'AKID'}, 'prod')).toBe('--profile prod')
    expect(credentialSource({profile: 'ci'}, {}, 'prod')).toBe('the manifest profile ci')
    expect(credentialSource({roleArn: 'arn:aws:iam::222222222222:role/deployer'}, {AWS_PROFILE: 'other'}, 'prod')).toBe('roleArn arn:aws:iam::222222222222:role/deployer assumed with --profile prod')
  })
})
