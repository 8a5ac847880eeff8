// Contract: STS over the query protocol, account mapping by access key, SigV4 checks, and assume-role
// profiles written by writeAwsConfig working in a spawned process that only has the env.
import {AssumeRoleCommand, GetCallerIdentityCommand, STSClient} from '@aws-sdk/client-sts'
import {spawnSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startAwsServer, type AwsServer} from '../../aws-double/index.js'
import {ACCOUNT1, ACCOUNT2, clients, failure, REGION} from './helpers.js'

let server: AwsServer
let dir: string

beforeAll(async () => {
  server = await startAwsServer({
    roles: {
      [`arn:aws:iam::${ACCOUNT2}:role/guarded`]: {externalId: 'ext-123', trust: [ACCOUNT1]},
      [`arn:aws:iam::${ACCOUNT2}:role/deploy`]: {trust: [`arn:aws:iam::${ACCOUNT1}:root`]},
      [`arn:aws:iam::${ACCOUNT2}:role/own`]: {},
      [`arn:aws:iam::${ACCOUNT2}:role/chained`]: {trust: [`arn:aws:iam::${ACCOUNT2}:role/deploy`]},
      [`arn:aws:iam::${ACCOUNT1}:role/by-user`]: {trust: [`arn:aws:iam::${ACCOUNT2}:user/layers-test`]},
    },
  })
  dir = mkdtempSync(join(tmpdir(), 'aws-server-sts-'))
})
afterAll(async () => {
  await server.close()
  rmSync(dir, {recursive: true, force: true})
})

describe('STS', () => {
  it('GetCallerIdentity answers with the account of the access key', async () => {
    const one = await clients(server, ACCOUNT1).sts.send(new GetCallerIdentityCommand({}))
    const two = await clients(server, ACCOUNT2, 'eu-west-1').sts.send(new GetCallerIdentityCommand({}))
    expect(one.Account).toBe(ACCOUNT1)
    expect(one.Arn).toBe(`arn:aws:iam::${ACCOUNT1}:user/layers-test`)
    expect(two.Account).toBe(ACCOUNT2)
    expect(server.calls.at(-1)).toEqual({service: 'sts', operation: 'GetCallerIdentity', accountId: ACCOUNT2, region: 'eu-west-1', status: 200, at: expect.any(Number)})
  })

  it('AssumeRole returns session credentials that act as the role account', async () => {
    const assumed = await clients(server, ACCOUNT1).sts.send(new AssumeRoleCommand({RoleArn: `arn:aws:iam::${ACCOUNT2}:role/deploy`, RoleSessionName: 'ci-run'}))
    expect(assumed.AssumedRoleUser?.Arn).toBe(`arn:aws:sts::${ACCOUNT2}:assumed-role/deploy/ci-run`)
    expect(assumed.Credentials?.Expiration).toBeInstanceOf(Date)
    const c = assumed.Credentials!
    const sts = new STSClient({region: REGION, endpoint: server.endpoint, credentials: {accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken!}})
    const identity = await sts.send(new GetCallerIdentityCommand({}))
    expect(identity.Account).toBe(ACCOUNT2)
    expect(identity.Arn).toBe(`arn:aws:sts::${ACCOUNT2}:assumed-role/deploy/ci-run`)
    // Without the session token the key is not accepted.
    const bare = new STSClient({region: REGION, endpoint: server.endpoint, maxAttempts: 1, credentials: {accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!}})
    const error = await failure(bare.send(new GetCallerIdentityCommand({})))
    expect(error.name).toBe('InvalidClientTokenId')
  })

  it('AssumeRole follows the trust policy: the accounts, users and roles it names; by default only the role\'s own account', async () => {
    const denied = async (from: string, roleArn: string, callerArn = `arn:aws:iam::${from}:user/layers-test`) => {
      const error = await failure(clients(server, from).sts.send(new AssumeRoleCommand({RoleArn: roleArn, RoleSessionName: 'abc'})))
      expect(error.name).toBe('AccessDenied')
      expect(error.$metadata.httpStatusCode).toBe(403)
      expect(error.message).toBe(`User: ${callerArn} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`)
    }
    // A role no one declared does not exist, even in a known account.
    await denied(ACCOUNT1, `arn:aws:iam::${ACCOUNT2}:role/nosuch`)
    // No trust list: the role's own account only.
    await denied(ACCOUNT1, `arn:aws:iam::${ACCOUNT2}:role/own`)
    expect((await clients(server, ACCOUNT2).sts.send(new AssumeRoleCommand({RoleArn: `arn:aws:iam::${ACCOUNT2}:role/own`, RoleSessionName: 'abc'}))).AssumedRoleUser?.Arn).toBe(
      `arn:aws:sts::${ACCOUNT2}:assumed-role/own/abc`,
    )
    // Trusting account 1 does not trust account 2.
    await denied(ACCOUNT2, `arn:aws:iam::${ACCOUNT2}:role/deploy`)
    // A user principal; the user of the other account is not it.
    await denied(ACCOUNT1, `arn:aws:iam::${ACCOUNT1}:role/by-user`)
    expect((await clients(server, ACCOUNT2).sts.send(new AssumeRoleCommand({RoleArn: `arn:aws:iam::${ACCOUNT1}:role/by-user`, RoleSessionName: 'abc'}))).Credentials?.AccessKeyId).toMatch(/^ASIA/)
    // A role principal trusts that role's sessions (role chaining), not the account's users.
    await denied(ACCOUNT2, `arn:aws:iam::${ACCOUNT2}:role/chained`)
    const first = (await clients(server, ACCOUNT1).sts.send(new AssumeRoleCommand({RoleArn: `arn:aws:iam::${ACCOUNT2}:role/deploy`, RoleSessionName: 'hop'}))).Credentials!
    const session = new STSClient({region: REGION, endpoint: server.endpoint, maxAttempts: 1, credentials: {accessKeyId: first.AccessKeyId!, secretAccessKey: first.SecretAccessKey!, sessionToken: first.SessionToken!}})
    expect((await session.send(new AssumeRoleCommand({RoleArn: `arn:aws:iam::${ACCOUNT2}:role/chained`, RoleSessionName: 'two'}))).AssumedRoleUser?.Arn).toBe(`arn:aws:sts::${ACCOUNT2}:assumed-role/chained/two`)
  })

  it('AssumeRole refuses unknown accounts, a missing external id and invalid input', async () => {
    const sts = clients(server, ACCOUNT1).sts
    const unknown = await failure(sts.send(new AssumeRoleCommand({RoleArn: 'arn:aws:iam::333333333333:role/x', RoleSessionName: 'abc'})))
    expect(unknown.name).toBe('AccessDenied')
    expect(unknown.$metadata.httpStatusCode).toBe(403)
    expect(unknown.message).toContain(`User: arn:aws:iam::${ACCOUNT1}:user/layers-test is not authorized to perform: sts:AssumeRole`)
    const guarded = await failure(sts.send(new AssumeRoleCommand({RoleArn: `arn:aws:iam::${ACCOUNT2}:role/guarded`, RoleSessionName: 'abc'})))
    expect(guarded.name).toBe('AccessDenied')
    const ok = await sts.send(new AssumeRoleCommand({RoleArn: `arn:aws:iam::${ACCOUNT2}:role/guarded`, RoleSessionName: 'abc', ExternalId: 'ext-123'}))
    expect(ok.Credentials?.AccessKeyId).toMatch(/^ASIA/)
    const invalid = await failure(sts.send(new AssumeRoleCommand({RoleArn: `arn:aws:iam::${ACCOUNT2}:role/deploy`, RoleSessionName: 'has space'})))
    expect(invalid.name).toBe('ValidationError')
    expect(invalid.$metadata.httpStatusCode).toBe(400)
    const tooLong = await failure(sts.send(new AssumeRoleCommand({RoleArn: `arn:aws:iam::${ACCOUNT2}:role/deploy`, RoleSessionName: 'abc', DurationSeconds: 7200})))
    expect(tooLong.message).toContain('MaxSessionDuration')
  })

  it('rejects unknown keys and wrong secrets as AWS does', async () => {
    const unknown = new STSClient({region: REGION, endpoint: server.endpoint, maxAttempts: 1, credentials: {accessKeyId: 'AKIDUNKNOWN', secretAccessKey: 'x'}})
    const error = await failure(unknown.send(new GetCallerIdentityCommand({})))
    expect(error.name).toBe('InvalidClientTokenId')
    expect(error.$metadata.httpStatusCode).toBe(403)
    const wrongSecret = new STSClient({region: REGION, endpoint: server.endpoint, maxAttempts: 1, credentials: {accessKeyId: server.credentials(ACCOUNT1).accessKeyId, secretAccessKey: 'not-the-secret'}})
    expect((await failure(wrongSecret.send(new GetCallerIdentityCommand({})))).name).toBe('SignatureDoesNotMatch')
  })

  it('refuses requests signed with a skewed clock; the SDK takes the server time from the Date header', async () => {
    const sts = new STSClient({region: REGION, endpoint: server.endpoint, credentials: server.credentials(ACCOUNT1), systemClockOffset: -3_600_000, maxAttempts: 1})
    const skewed = await failure(sts.send(new GetCallerIdentityCommand({})))
    expect(skewed.name).toBe('SignatureDoesNotMatch')
    expect(skewed.message).toContain('Signature expired')
    expect(Math.abs(sts.config.systemClockOffset)).toBeLessThan(60_000)
    expect((await sts.send(new GetCallerIdentityCommand({}))).Account).toBe(ACCOUNT1)
  })

  it('writeAwsConfig profiles (static keys and assume-role) work in a process spawned synchronously', async () => {
    const env = server.writeAwsConfig(dir, {
      default: {accountId: ACCOUNT1, region: 'eu-west-1'},
      prod: {roleArn: `arn:aws:iam::${ACCOUNT2}:role/deploy`, sourceProfile: 'default', region: 'eu-central-1'},
    })
    expect(readFileSync(env.AWS_CONFIG_FILE, 'utf8')).toContain(`role_arn = arn:aws:iam::${ACCOUNT2}:role/deploy`)
    expect(readFileSync(env.AWS_SHARED_CREDENTIALS_FILE, 'utf8')).toContain(server.credentials(ACCOUNT1).accessKeyId)
    const script = [
      "import {STSClient, GetCallerIdentityCommand} from '@aws-sdk/client-sts'",
      "import {fromIni} from '@aws-sdk/credential-providers'",
      'const out = {}',
      "for (const profile of ['default', 'prod']) {",
      '  const client = new STSClient({profile, credentials: fromIni({profile})})',
      '  const identity = await client.send(new GetCallerIdentityCommand({}))',
      '  out[profile] = {account: identity.Account, region: await client.config.region()}',
      '}',
      'console.log(JSON.stringify(out))',
    ].join('\n')
    // Synchronously, as CLI tests do: the server answers from its worker thread meanwhile.
    const mark = server.calls.length
    const {stdout, stderr, status} = spawnSync(process.execPath, ['--no-warnings', '--input-type=module', '-e', script], {
      cwd: process.cwd(),
      env: {PATH: process.env.PATH, HOME: dir, ...env, AWS_ENDPOINT_URL: server.endpoint},
      encoding: 'utf8',
      timeout: 30_000,
    })
    expect(status, stderr).toBe(0)
    expect(server.calls.slice(mark).map((call) => `${call.operation}:${call.accountId}`)).toEqual([`GetCallerIdentity:${ACCOUNT1}`, `AssumeRole:${ACCOUNT1}`, `GetCallerIdentity:${ACCOUNT2}`])
    expect(JSON.parse(stdout)).toEqual({default: {account: ACCOUNT1, region: 'eu-west-1'}, prod: {account: ACCOUNT2, region: 'eu-central-1'}})
  })
})
