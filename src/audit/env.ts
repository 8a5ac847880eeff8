// Owns wiring the audit, prune and outdated services to AWS: from a client factory (src/aws: per
// account and region, that account's credentials and adaptive retries) to the small read/write
// interfaces the services take. The audit reads through REST GETs (src/aws/lambda-rest.ts: no SDK
// client per target); prune and outdated through SDK clients. Both are made once per account and
// region, and forgotten once the audit is done with the target.
import type {AccountClient} from '@aws-sdk/client-account'
import type {LambdaClient} from '@aws-sdk/client-lambda'
import type {LambdaRestGet} from '../aws/lambda-rest.js'
import type {OrganizationsClient} from '@aws-sdk/client-organizations'
import {organizationsApi} from '../aws/organizations.js'
import {listEnabledRegions} from '../aws/regions.js'
import type {Account} from '../manifest/types.js'
import {layerProbeApi} from '../outdated/lambda.js'
import type {OutdatedEnv} from '../outdated/run.js'
import {pruneLambdaApi} from '../prune/lambda.js'
import type {PruneEnv} from '../prune/run.js'
import {lambdaReadApi, readFunctionTags} from './lambda-read.js'
import type {AuditEnv} from './run.js'

export interface AuditClientFactory {
  lambda(account: Account, region: string): Promise<Pick<LambdaClient, 'send'>>
  /** The audit's hot reads (ListFunctions, ListAliases, GetFunctionConfiguration) of that account and region. */
  lambdaGet(account: Account, region: string): Promise<LambdaRestGet>
  /** The organization's management (or delegated administrator) account, with the default credentials. */
  organizations(): Promise<Pick<OrganizationsClient, 'send'>>
  account(account: Account): Promise<Pick<AccountClient, 'send'>>
  /** The region of this run's profile in the shared config, the last fallback for accounts the flags name. */
  profileRegion?(): Promise<string | undefined>
  /** Forgets that account and region's clients (src/aws/clients.ts). */
  release?(account: Account, region: string): void
}

const lambdaKey = (account: Account, region: string): string => `${account.id}/${account.roleArn ?? ''}/${account.profile ?? ''}/${region}`

export function awsAuditEnv(clients: AuditClientFactory, desiredLayers?: AuditEnv['desiredLayers']): PruneEnv & Pick<OutdatedEnv, 'probeApiFor'> {
  const lambdas = new Map<string, Promise<Pick<LambdaClient, 'send'>>>()
  const lambda = (account: Account, region: string): Promise<Pick<LambdaClient, 'send'>> => {
    const key = lambdaKey(account, region)
    let client = lambdas.get(key)
    if (!client) {
      client = clients.lambda(account, region)
      lambdas.set(key, client)
    }
    return client
  }
  return {
    releaseTarget(target) {
      lambdas.delete(lambdaKey(target.account, target.region))
      clients.release?.(target.account, target.region)
    },
    readApiFor: async (target) => lambdaReadApi(await clients.lambdaGet(target.account, target.region)),
    functionTags: async (target, functionArn) => readFunctionTags(await clients.lambdaGet(target.account, target.region), functionArn),
    pruneApiFor: async (target) => pruneLambdaApi(await lambda(target.account, target.region)),
    probeApiFor: async (account, region) => layerProbeApi(await lambda(account, region), account.id, region),
    organizations: () => ({listActiveAccounts: async () => organizationsApi(await clients.organizations()).listActiveAccounts()}),
    regions: () => ({listEnabledRegions: async (account) => listEnabledRegions(await clients.account(account))}),
    ...(clients.profileRegion ? {profileRegion: () => clients.profileRegion!()} : {}),
    ...(desiredLayers ? {desiredLayers} : {}),
  }
}
