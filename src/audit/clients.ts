// Owns the AWS clients of `layers audit`, `prune` and `outdated`: per manifest account, credentials
// by AWS conventions (a named profile, SSO profiles included; `roleArn` assumed with its external id
// from the profile's or the default credentials; else the default chain), the endpoint from the
// SDK's own AWS_ENDPOINT_URL handling, adaptive retries, and one keep-alive connection pool shared
// by every client (an audit talks to many accounts and regions at once).
import http from 'node:http'
import https from 'node:https'
import {AccountClient} from '@aws-sdk/client-account'
import {LambdaClient} from '@aws-sdk/client-lambda'
import {OrganizationsClient} from '@aws-sdk/client-organizations'
import {fromIni, fromNodeProviderChain, fromTemporaryCredentials} from '@aws-sdk/credential-providers'
import {NodeHttpHandler} from '@smithy/node-http-handler'
import type {AwsCredentialIdentityProvider} from '@smithy/types'
import type {Account} from '../manifest/types.js'
import type {AuditClientFactory} from './env.js'

/** Attempts per call: with 20% of calls throttled, 10 attempts leave about one failure in 10^7. */
export const AUDIT_MAX_ATTEMPTS = 10

export function auditClientFactory(options: {maxAttempts?: number} = {}): AuditClientFactory {
  const requestHandler = new NodeHttpHandler({
    httpAgent: new http.Agent({keepAlive: true, maxSockets: 256}),
    httpsAgent: new https.Agent({keepAlive: true, maxSockets: 256}),
  })
  const credentials = new Map<string, AwsCredentialIdentityProvider>()
  const credentialsFor = (account: Account | undefined, region: string): AwsCredentialIdentityProvider => {
    const key = account ? `${account.id}/${account.profile ?? ''}/${account.roleArn ?? ''}/${account.externalId ?? ''}` : ''
    let provider = credentials.get(key)
    if (!provider) {
      const base = account?.profile ? fromIni({profile: account.profile}) : fromNodeProviderChain()
      provider = account?.roleArn
        ? fromTemporaryCredentials({
            masterCredentials: base,
            params: {
              RoleArn: account.roleArn,
              RoleSessionName: account.sessionName ?? 'layers',
              ...(account.externalId ? {ExternalId: account.externalId} : {}),
            },
            clientConfig: {region, requestHandler},
          })
        : base
      credentials.set(key, provider)
    }
    return provider
  }
  const common = {retryMode: 'adaptive', maxAttempts: options.maxAttempts ?? AUDIT_MAX_ATTEMPTS, requestHandler} as const
  return {
    lambda: async (account, region) => new LambdaClient({...common, region, credentials: credentialsFor(account, region)}),
    organizations: async () => new OrganizationsClient({...common, region: 'us-east-1', credentials: credentialsFor(undefined, 'us-east-1')}),
    account: async (account) => new AccountClient({...common, region: 'us-east-1', credentials: credentialsFor(account, 'us-east-1')}),
  }
}
