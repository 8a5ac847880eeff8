// Unit tests of the client factory's cache (src/aws/clients.ts): one client per account, region and
// service for as long as the run needs it, forgotten when a fleet command is done with the target, and
// no STS client kept (the account check asks once per credentials). Making a client calls nothing.
// Credentials of many accounts are resolved a few at a time (against a local STS that holds its answers).
import {createServer} from 'node:http'
import type {AddressInfo} from 'node:net'
import {describe, expect, it, vi} from 'vitest'
import {awsClientFactory} from '../../src/aws/clients.js'
import type {Account} from '../../src/manifest/types.js'

const dev: Account = {name: 'dev', id: '111111111111', regions: ['eu-west-1', 'us-east-1']}
const ops: Account = {name: 'ops', id: '222222222222', roleArn: 'arn:aws:iam::222222222222:role/path/eu-west-1/audit', regions: ['eu-west-1']}

describe('awsClientFactory', () => {
  it("keeps one client per account, region and service, and forgets a target's clients only when released", async () => {
    const factory = awsClientFactory({endpoint: 'http://127.0.0.1:1'})
    const lambda = await factory.lambda(dev, 'eu-west-1')
    const get = await factory.lambdaGet(dev, 'eu-west-1')
    const other = await factory.lambda(dev, 'us-east-1')
    const role = await factory.lambda(ops, 'eu-west-1')
    expect(await factory.lambda(dev, 'eu-west-1')).toBe(lambda)
    expect(await factory.lambdaGet(dev, 'eu-west-1')).toBe(get)

    factory.release(dev, 'eu-west-1')
    const again = await factory.lambda(dev, 'eu-west-1')
    expect(again).not.toBe(lambda)
    expect(await factory.lambdaGet(dev, 'eu-west-1')).not.toBe(get)
    // Other regions and accounts (a role whose path names the region too) keep theirs.
    expect(await factory.lambda(dev, 'us-east-1')).toBe(other)
    expect(await factory.lambda(ops, 'eu-west-1')).toBe(role)
    expect(await factory.lambda(dev, 'eu-west-1')).toBe(again)
  })

  it('keeps no STS client: each account check gets its own and drops it', async () => {
    const factory = awsClientFactory({endpoint: 'http://127.0.0.1:1'})
    expect(await factory.sts(dev, 'eu-west-1')).not.toBe(await factory.sts(dev, 'eu-west-1'))
  })
})

describe('credentials of many accounts', () => {
  it('are resolved 8 at a time (each resolution parses the shared config files again and holds the parse)', async () => {
    let inFlight = 0
    let most = 0
    let asked = 0
    const sts = createServer((request, response) => {
      asked++
      most = Math.max(most, ++inFlight)
      request.resume()
      setTimeout(() => {
        inFlight--
        response.writeHead(403, {'content-type': 'text/xml'}).end('<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>not this time</Message></Error><RequestId>r</RequestId></ErrorResponse>')
      }, 100)
    })
    await new Promise<void>((resolve) => sts.listen(0, '127.0.0.1', resolve))
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDEXAMPLE')
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'secret')
    vi.stubEnv('AWS_PROFILE', undefined)
    try {
      const factory = awsClientFactory({endpoint: `http://127.0.0.1:${(sts.address() as AddressInfo).port}`})
      const accounts = Array.from({length: 20}, (_, at): Account => ({name: `a${at}`, id: String(300000000000 + at), roleArn: `arn:aws:iam::${300000000000 + at}:role/audit`, regions: ['eu-west-1']}))
      const outcomes = await Promise.allSettled(accounts.map(async (account) => (await factory.lambda(account, 'eu-west-1')).config.credentials()))
      expect(outcomes.every((outcome) => outcome.status === 'rejected')).toBe(true)
      expect(asked).toBe(20)
      expect(most).toBe(8)
    } finally {
      vi.unstubAllEnvs()
      await new Promise<void>((resolve) => sts.close(() => resolve()))
    }
  })
})
