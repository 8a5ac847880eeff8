// Owns making AWS SDK clients for every command that talks to AWS (audit, prune, outdated, lock,
// publish, attach): per manifest account, credentials by AWS conventions (a named profile, SSO and
// assume-role profiles included; `roleArn` assumed through STS with its external id and session name
// from the profile's or the default credentials; else the default chain), the endpoint from the
// SDK's own AWS_ENDPOINT_URL handling, adaptive retries, and one keep-alive connection pool shared by
// every client. Clients are made once per account, region and retry setting; each SDK package is
// loaded on first use (a no-op publish never loads S3, an audit never loads STS or S3).
import http from 'node:http'
import https from 'node:https'
import type {AccountClient} from '@aws-sdk/client-account'
import type {LambdaClient} from '@aws-sdk/client-lambda'
import type {OrganizationsClient} from '@aws-sdk/client-organizations'
import type {S3Client} from '@aws-sdk/client-s3'
import type {STSClient} from '@aws-sdk/client-sts'
import {fromIni, fromNodeProviderChain, fromTemporaryCredentials} from '@aws-sdk/credential-providers'
import {NodeHttpHandler} from '@smithy/node-http-handler'
import type {AwsCredentialIdentity, AwsCredentialIdentityProvider} from '@smithy/types'
import type {Account} from '../manifest/types.js'

/** Attempts per call: with 20% of calls throttled, 10 attempts leave about one failure in 10^7. */
export const AWS_MAX_ATTEMPTS = 10

export interface ClientOptions {
  /** Attempts per call (1: no SDK retries, for writes the caller retries itself). */
  maxAttempts?: number
}

export interface AwsClientFactory {
  lambda(account: Account, region: string, options?: ClientOptions): Promise<LambdaClient>
  s3(account: Account, region: string): Promise<S3Client>
  sts(account: Account, region: string): Promise<STSClient>
  /** The organization's management (or delegated administrator) account, with the default credentials. */
  organizations(): Promise<OrganizationsClient>
  account(account: Account): Promise<AccountClient>
}

export function awsClientFactory(options: {maxAttempts?: number} = {}): AwsClientFactory {
  const requestHandler = new NodeHttpHandler({
    httpAgent: new http.Agent({keepAlive: true, maxSockets: 256}),
    httpsAgent: new https.Agent({keepAlive: true, maxSockets: 256}),
  })
  const credentials = new Map<string, AwsCredentialIdentityProvider>()
  const credentialsFor = (account: Account | undefined, region: string): AwsCredentialIdentityProvider => {
    const key = account ? credentialKey(account) : ''
    let provider = credentials.get(key)
    if (!provider) {
      // fromIni follows SSO (sso_session) and assume-role (role_arn + source_profile) profiles itself.
      // The STS calls behind credentials (assume-role profiles, roleArn) retry like every other call.
      const stsConfig = {requestHandler, retryMode: 'adaptive', maxAttempts: options.maxAttempts ?? AWS_MAX_ATTEMPTS}
      const base = account?.profile ? fromIni({profile: account.profile, clientConfig: stsConfig}) : fromNodeProviderChain({clientConfig: stsConfig})
      provider = account?.roleArn
        ? fromTemporaryCredentials({
            masterCredentials: base,
            params: {
              RoleArn: account.roleArn,
              RoleSessionName: account.sessionName ?? 'layers',
              ...(account.externalId ? {ExternalId: account.externalId} : {}),
            },
            clientConfig: {...stsConfig, region},
          })
        : base
      provider = sharedCredentials(provider)
      credentials.set(key, provider)
    }
    return provider
  }
  const clients = new Map<string, Promise<unknown>>()
  const cached = <T>(key: string, make: () => Promise<T>): Promise<T> => {
    let client = clients.get(key) as Promise<T> | undefined
    if (!client) {
      client = make()
      clients.set(key, client)
    }
    return client
  }
  const accountKey = (account: Account): string => `${account.id}/${account.profile ?? ''}/${account.roleArn ?? ''}/${account.externalId ?? ''}`
  const common = (maxAttempts?: number) => ({retryMode: 'adaptive', maxAttempts: maxAttempts ?? options.maxAttempts ?? AWS_MAX_ATTEMPTS, requestHandler}) as const
  return {
    lambda: (account, region, clientOptions = {}) =>
      cached(`lambda/${accountKey(account)}/${region}/${clientOptions.maxAttempts ?? ''}`, async () => {
        const {LambdaClient} = await import('@aws-sdk/client-lambda')
        return new LambdaClient({...common(clientOptions.maxAttempts), region, credentials: credentialsFor(account, region)})
      }),
    s3: (account, region) =>
      cached(`s3/${accountKey(account)}/${region}`, async () => {
        const {S3Client} = await import('@aws-sdk/client-s3')
        return new S3Client({...common(), region, credentials: credentialsFor(account, region)})
      }),
    sts: (account, region) =>
      cached(`sts/${accountKey(account)}/${region}`, async () => {
        const {STSClient} = await import('@aws-sdk/client-sts')
        return new STSClient({...common(), region, credentials: credentialsFor(account, region)})
      }),
    organizations: () =>
      cached('organizations', async () => {
        const {OrganizationsClient} = await import('@aws-sdk/client-organizations')
        return new OrganizationsClient({...common(), region: 'us-east-1', credentials: credentialsFor(undefined, 'us-east-1')})
      }),
    account: (account) =>
      cached(`account/${accountKey(account)}`, async () => {
        const {AccountClient} = await import('@aws-sdk/client-account')
        return new AccountClient({...common(), region: 'us-east-1', credentials: credentialsFor(account, 'us-east-1')})
      }),
  }
}

/**
 * One credentials fetch per account for all its clients (each SDK client would otherwise assume the
 * role itself): the result is shared until 5 minutes before it expires; a failed fetch is not kept.
 */
function sharedCredentials(provider: AwsCredentialIdentityProvider): AwsCredentialIdentityProvider {
  let pending: Promise<AwsCredentialIdentity> | undefined
  const fresh = (identity: AwsCredentialIdentity) => !identity.expiration || identity.expiration.getTime() - Date.now() > 5 * 60_000
  return async (properties) => {
    if (pending) {
      const identity = await pending.catch(() => undefined)
      if (identity && fresh(identity)) return identity
    }
    const next = provider(properties)
    pending = next
    next.catch(() => {
      if (pending === next) pending = undefined
    })
    return next
  }
}

/** Identifies the credentials of an account: accounts with the same key share one provider. */
export function credentialKey(account: Account): string {
  return `${account.id}/${account.profile ?? ''}/${account.roleArn ?? ''}/${account.externalId ?? ''}/${account.sessionName ?? ''}`
}

/**
 * Where the credentials of `account` come from, in the order credentialsFor (and the SDK's default
 * chain: AWS_PROFILE before the environment keys) looks: for error messages.
 */
export function credentialSource(account: Pick<Account, 'profile' | 'roleArn'>, env: NodeJS.ProcessEnv = process.env): string {
  const base = account.profile
    ? `the manifest profile ${account.profile}`
    : env.AWS_PROFILE
      ? `AWS_PROFILE=${env.AWS_PROFILE}`
      : env.AWS_ACCESS_KEY_ID
        ? 'environment variables AWS_ACCESS_KEY_ID'
        : 'the default credential chain'
  return account.roleArn ? `roleArn ${account.roleArn} assumed with ${base}` : base
}
