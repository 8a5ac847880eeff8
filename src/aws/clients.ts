// Owns making AWS SDK clients for every command that talks to AWS (audit, prune, outdated, lock,
// publish, attach): per manifest account, credentials by AWS conventions (a named profile, SSO and
// assume-role profiles included; `roleArn` assumed through STS with its external id and session name
// from the profile's or the default credentials; else --profile, else the default chain), the endpoint
// (--endpoint-url for every service, as the AWS CLI's; else the SDK's own AWS_ENDPOINT_URL and
// AWS_ENDPOINT_URL_<SERVICE> handling), adaptive retries bounded in count and time, connect and read
// (inactivity) timeouts (src/aws/time-bounds.ts), a "waiting for ..." progress line for slow calls, and
// one keep-alive connection pool shared by every client, and the run's request budget on every Lambda
// client (src/aws/request-budget.ts: a token per attempt from its account and region's bucket). Clients
// are made once per account, region and retry setting; each SDK package is loaded on first use (a no-op
// publish never loads S3, an audit never loads STS, S3 or SSM).
import http from 'node:http'
import https from 'node:https'
import type {AccountClient} from '@aws-sdk/client-account'
import type {ECRClient} from '@aws-sdk/client-ecr'
import type {LambdaClient, ServiceInputTypes as LambdaInput, ServiceOutputTypes as LambdaOutput} from '@aws-sdk/client-lambda'
import type {OrganizationsClient} from '@aws-sdk/client-organizations'
import type {S3Client} from '@aws-sdk/client-s3'
import type {SSMClient} from '@aws-sdk/client-ssm'
import type {STSClient} from '@aws-sdk/client-sts'
import type {NodeHttpHandler} from '@smithy/node-http-handler'
import type {AwsCredentialIdentity, AwsCredentialIdentityProvider, Pluggable, RetryStrategyV2} from '@smithy/types'
import pLimit, {type LimitFunction} from 'p-limit'
import type {EmitEvent} from '../events.js'
import type {Account} from '../manifest/types.js'
import {BUDGET_FIRST_ATTEMPT, BUDGET_RETRIES, budgetMiddleware, runBudget, type RequestBudget} from './request-budget.js'
import {boundRetries, callWatcher, lazyRetryStrategy, resolveTimeouts, timeBoundedRetries, watchMiddleware, type AwsTimeouts, type CallTarget} from './time-bounds.js'
import {withWrongRegionErrors} from './s3-region.js'
import type {LambdaRestGet} from './lambda-rest.js'

/** Attempts per call: with 20% of calls throttled, 10 attempts leave about one failure in 10^7. */
export const AWS_MAX_ATTEMPTS = 10

export interface ClientOptions {
  /** Attempts per call (1: no SDK retries, for writes the caller retries itself). */
  maxAttempts?: number
}

export interface AwsClientFactory {
  /** The request budget the Lambda clients share (a command that loads the manifest later gives it settings.maxRps). */
  readonly budget: RequestBudget
  lambda(account: Account, region: string, options?: ClientOptions): Promise<LambdaClient>
  /** Lambda REST-JSON reads in that account and region, without an SDK client (src/aws/lambda-rest.ts). */
  lambdaGet(account: Account, region: string): Promise<LambdaRestGet>
  s3(account: Account, region: string): Promise<S3Client>
  /** A new client each time: the account check (src/aws/identity.ts) asks once per credentials and drops it, so a fleet does not keep one per account. */
  sts(account: Account, region: string): Promise<STSClient>
  /** SSM Parameter Store (used through src/aws/ssm-parameters.ts); `maxAttempts: 1` for writes that must not be repeated blindly. */
  ssm(account: Account, region: string, options?: ClientOptions): Promise<SSMClient>
  /** ECR (src/image/ecr.ts): authorization tokens and repositories for container images. */
  ecr(account: Account, region: string): Promise<ECRClient>
  /** The organization's management (or delegated administrator) account, with the default credentials. */
  organizations(): Promise<OrganizationsClient>
  account(account: Account): Promise<AccountClient>
  /**
   * Forgets the clients of that account and region (a fleet command is done with the target), so a run
   * over thousands of targets holds the clients of those in flight only; the next ask makes new ones.
   * Credentials, the account check and the request budget are per account and stay.
   */
  release(account: Account, region: string): void
  /** --profile of this run, for messages naming where credentials came from. */
  readonly profile?: string
  /** The region of this run's profile (--profile, else AWS_PROFILE, else default) in the shared config; undefined when it has none. */
  profileRegion(): Promise<string | undefined>
}

/** How this run reaches AWS: the global flags of every command that talks to it (src/cli/aws-flags.ts). */
export interface AwsConnection {
  /** Connect and read timeouts; default: LAYERS_CONNECT_TIMEOUT / LAYERS_READ_TIMEOUT, else 10 s and 30 s. */
  timeouts?: AwsTimeouts
  /**
   * --profile: the shared-config profile for accounts that name neither `profile` nor `roleArn`, and
   * the source credentials of `roleArn` (as AWS_PROFILE, which it overrides); default: the SDK's chain.
   */
  profile?: string
  /** --endpoint-url: every service's endpoint (over AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_<SERVICE> and the config file). */
  endpoint?: string
  /** --max-rps: Lambda control-plane requests per second per account and region (over settings.maxRps). */
  maxRps?: number
}

export interface AwsClientFactoryOptions extends AwsConnection {
  maxAttempts?: number
  /** Where a call still waiting after a few seconds is named (progress on a terminal). */
  emit?: EmitEvent
  /** The buckets Lambda calls take their tokens from; default the process's (runBudget). */
  budget?: RequestBudget
  /** settings.maxRps of the manifest the run works on (--max-rps wins). */
  manifestMaxRps?: number
}

export function awsClientFactory(options: AwsClientFactoryOptions = {}): AwsClientFactory {
  const timeouts = options.timeouts ?? resolveTimeouts()
  // Made with the first client, so a run that fails before any AWS call never loads the SDK.
  let pool: Promise<NodeHttpHandler> | undefined
  const requestHandler = (): Promise<NodeHttpHandler> =>
    (pool ??= import('@smithy/node-http-handler').then(
      ({NodeHttpHandler}) =>
        new NodeHttpHandler({
          httpAgent: new http.Agent({keepAlive: true, maxSockets: 256}),
          httpsAgent: new https.Agent({keepAlive: true, maxSockets: 256}),
          // socketTimeout is inactivity (nothing sent or received), so an upload that keeps sending is never
          // cut; requestTimeout (total time, and only a warning unless throwOnRequestTimeout) is not used.
          connectionTimeout: timeouts.connectTimeoutMs,
          socketTimeout: timeouts.readTimeoutMs,
        }),
    ))
  const watch = callWatcher(timeouts, options.emit)
  const budget = options.budget ?? runBudget
  budget.useFlag(options.maxRps)
  if (options.manifestMaxRps !== undefined) budget.useSetting(options.manifestMaxRps)
  // Given to the SDK as `endpoint`, which it prefers to every environment and config-file setting.
  const endpoint = options.endpoint ? {endpoint: options.endpoint} : {}
  const attempts = (maxAttempts?: number): number => maxAttempts ?? options.maxAttempts ?? AWS_MAX_ATTEMPTS
  /** Time bounds and the waiting line on a client this factory made. */
  const watched = <C extends {config: object; middlewareStack: {add(middleware: ReturnType<typeof watchMiddleware>, options: {step: 'build'; name: string}): void}}>(
    client: C,
    target: CallTarget,
    maxAttempts?: number,
  ): C => {
    boundRetries(client, attempts(maxAttempts))
    client.middlewareStack.add(watchMiddleware(watch, target), {step: 'build', name: 'layersCallWatch'})
    return client
  }
  const accountText = (account: Account | undefined): string => (account ? `${account.name} (${account.id})` : 'of the default credentials')
  const credentials = new Map<string, Promise<AwsCredentialIdentityProvider>>()
  const resolving = pLimit(CREDENTIAL_RESOLUTIONS)
  const credentialsFor = (account: Account | undefined, region: string): Promise<AwsCredentialIdentityProvider> => {
    const key = account ? credentialKey(account) : ''
    let provider = credentials.get(key)
    if (!provider) {
      provider = makeCredentials(account, region)
      credentials.set(key, provider)
    }
    return provider
  }
  const makeCredentials = async (account: Account | undefined, region: string): Promise<AwsCredentialIdentityProvider> => {
    const {fromIni, fromNodeProviderChain, fromTemporaryCredentials} = await import('@aws-sdk/credential-providers')
    // fromIni follows SSO (sso_session) and assume-role (role_arn + source_profile) profiles itself.
    // The STS calls behind credentials (assume-role profiles, roleArn) retry like every other call.
    // They share the pool (and so the timeouts) and are bounded in time like every other call.
    const stsConfig = {
      requestHandler: await requestHandler(),
      ...endpoint,
      retryStrategy: lazyRetryStrategy(async () => {
        const {STSClient} = await import('@aws-sdk/client-sts')
        const template = watched(new STSClient({...(await common()), region}), {service: 'sts', account: accountText(account), region})
        return (await template.config.retryStrategy()) as RetryStrategyV2
      }),
    }
    // Their calls are watched as well: a credentials call without an answer names STS and its endpoint
    // (the SDK applies the plugins again on each credentials refresh, hence override).
    const clientPlugins: Pluggable<object, object>[] = [{applyToStack: (stack) => stack.add(watchMiddleware(watch, {service: 'sts', account: accountText(account), region}), {step: 'build', name: 'layersCallWatch', override: true})}]
    // An explicit --profile is that profile alone (as the AWS CLI: not the environment's keys before it).
    const profile = account?.profile ?? options.profile
    const base = profile ? fromIni({profile, clientConfig: stsConfig, clientPlugins}) : fromNodeProviderChain({clientConfig: stsConfig, clientPlugins})
    return sharedCredentials(
      resolving,
      account?.roleArn
        ? fromTemporaryCredentials({
            masterCredentials: base,
            params: {
              RoleArn: account.roleArn,
              RoleSessionName: account.sessionName ?? 'layers',
              ...(account.externalId ? {ExternalId: account.externalId} : {}),
            },
            clientConfig: {...stsConfig, region},
            clientPlugins,
          })
        : base,
    )
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
  const common = async (maxAttempts?: number) => ({retryMode: 'adaptive', maxAttempts: attempts(maxAttempts), requestHandler: await requestHandler(), ...endpoint}) as const
  /** The settings of every client this factory makes: `common`, the region, and the account's credentials. */
  const config = async (account: Account | undefined, region: string, maxAttempts?: number) => ({...(await common(maxAttempts)), region, credentials: await credentialsFor(account, region)})
  // Per region, kept for the run: resolved by an SDK client of the region's (with no credentials: it
  // sends nothing), then dropped.
  const endpoints = new Map<string, Promise<URL>>()
  const lambdaEndpoint = (region: string): Promise<URL> => {
    let url = endpoints.get(region)
    if (!url) {
      url = Promise.all([import('@aws-sdk/client-lambda'), import('./lambda-rest.js'), common()]).then(([{LambdaClient}, {lambdaEndpointOf}, settings]) =>
        lambdaEndpointOf(new LambdaClient({...settings, region}).config),
      )
      endpoints.set(region, url)
    }
    return url
  }
  const factory: AwsClientFactory = {
    ...(options.profile ? {profile: options.profile} : {}),
    budget,
    lambda: (account, region, clientOptions = {}) =>
      cached(`lambda/${accountKey(account)}/${region}/${clientOptions.maxAttempts ?? ''}`, async () => {
        const {LambdaClient} = await import('@aws-sdk/client-lambda')
        // cacheMiddleware: each operation's middleware stack is resolved once per client, not on every
        // call (a seventh of an audit's CPU). Safe for Lambda: its commands add no middleware of their own
        // but the endpoint's (from the client's config only), this factory adds its middleware before the
        // first call, and the one per-command check (readLayerVersion's) reads the call's own input. The
        // cached handler shares one context between concurrent calls of an operation: what the SDK and
        // the call watcher write there is the same for every call of one client (endpoint, signing
        // region, user agent features, call description) but the identity, and any identity the
        // credentials provider gave is one of this account's.
        const client = watched(
          new LambdaClient({...(await config(account, region, clientOptions.maxAttempts)), cacheMiddleware: true}),
          {service: 'lambda', account: accountText(account), region},
          clientOptions.maxAttempts,
        )
        const {first, retries} = budgetMiddleware<LambdaInput, LambdaOutput>(budget, account.id, region)
        client.middlewareStack.add(first, BUDGET_FIRST_ATTEMPT)
        client.middlewareStack.addRelativeTo(retries, BUDGET_RETRIES)
        return client
      }),
    lambdaGet: (account, region) =>
      cached(`lambda-get/${accountKey(account)}/${region}/`, async () => {
        // No SDK client per account and region (at 25 KB each, most of what an audit of hundreds of
        // them held per target in flight): the account's credentials, the region's endpoint, the pool,
        // and a retry strategy of this account and region's own, as its client's would be.
        const [{lambdaRestGet}, {resolveRetryConfig}, endpoint, credentials, handler] = await Promise.all([
          import('./lambda-rest.js'),
          import('@smithy/core/retry'),
          lambdaEndpoint(region),
          credentialsFor(account, region),
          requestHandler(),
        ])
        const strategy = (await resolveRetryConfig({retryMode: 'adaptive', maxAttempts: attempts()}).retryStrategy()) as RetryStrategyV2
        return lambdaRestGet(
          {endpoint, credentials, requestHandler: handler, retryStrategy: timeBoundedRetries(strategy, attempts())},
          {budget, accountId: account.id, region, watch, target: {service: 'lambda', account: accountText(account), region}},
        )
      }),
    s3: (account, region) =>
      cached(`s3/${accountKey(account)}/${region}/`, async () => {
        const {S3Client} = await import('@aws-sdk/client-s3')
        return watched(withWrongRegionErrors(new S3Client(await config(account, region))), {service: 's3', account: accountText(account), region})
      }),
    sts: async (account, region) => {
      const {STSClient} = await import('@aws-sdk/client-sts')
      return watched(new STSClient(await config(account, region)), {service: 'sts', account: accountText(account), region})
    },
    release(account, region) {
      const ofTarget = `/${accountKey(account)}/${region}/`
      for (const key of clients.keys()) if (key.slice(key.indexOf('/')).startsWith(ofTarget)) clients.delete(key)
    },
    ssm: (account, region, clientOptions = {}) =>
      cached(`ssm/${accountKey(account)}/${region}/${clientOptions.maxAttempts ?? ''}`, async () => {
        const {SSMClient} = await import('@aws-sdk/client-ssm')
        return watched(new SSMClient(await config(account, region, clientOptions.maxAttempts)), {service: 'ssm', account: accountText(account), region}, clientOptions.maxAttempts)
      }),
    ecr: (account, region) =>
      cached(`ecr/${accountKey(account)}/${region}/`, async () => {
        const {ECRClient} = await import('@aws-sdk/client-ecr')
        return watched(new ECRClient(await config(account, region)), {service: 'ecr', account: accountText(account), region})
      }),
    organizations: () =>
      cached('organizations', async () => {
        const {OrganizationsClient} = await import('@aws-sdk/client-organizations')
        return watched(new OrganizationsClient(await config(undefined, 'us-east-1')), {service: 'organizations', account: accountText(undefined), region: 'us-east-1'})
      }),
    profileRegion: () =>
      cached('profile-region', async () => {
        // The SDK's own region chain (AWS_REGION, then the profile's `region`), as the AWS CLI reads it.
        const {STSClient} = await import('@aws-sdk/client-sts')
        const client = new STSClient(options.profile ? {profile: options.profile} : {})
        try {
          return await client.config.region()
        } catch {
          return undefined
        } finally {
          client.destroy()
        }
      }),
    account: (account) =>
      cached(`account/${accountKey(account)}`, async () => {
        const {AccountClient} = await import('@aws-sdk/client-account')
        return watched(new AccountClient(await config(account, 'us-east-1')), {service: 'account', account: accountText(account), region: 'us-east-1'})
      }),
  }
  return factory
}

/**
 * Credentials resolved at once, over every account of a run. Each resolution through a profile parses
 * the whole shared config and credentials files again (the SDK caches the files' text, not the
 * parse) and holds the parse while its STS or SSO calls are out: 100 resolutions at once on a
 * 100-profile config raised the peak RSS by 19 MB, 8 at a time by 9 MB, in less time (500 accounts on
 * a 500-profile config: 124 against 78 MB).
 */
const CREDENTIAL_RESOLUTIONS = 8

/**
 * One credentials fetch per account for all its clients (each SDK client would otherwise assume the
 * role itself): the result is shared until 5 minutes before it expires; a failed fetch is not kept. Fetches
 * wait their turn in `resolving`.
 */
function sharedCredentials(resolving: LimitFunction, provider: AwsCredentialIdentityProvider): AwsCredentialIdentityProvider {
  let pending: Promise<AwsCredentialIdentity> | undefined
  const fresh = (identity: AwsCredentialIdentity) => !identity.expiration || identity.expiration.getTime() - Date.now() > 5 * 60_000
  return async (properties) => {
    if (pending) {
      const identity = await pending.catch(() => undefined)
      if (identity && fresh(identity)) return identity
    }
    const next = resolving(() => provider(properties))
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
export function credentialSource(account: Pick<Account, 'profile' | 'roleArn'>, env: NodeJS.ProcessEnv = process.env, profileFlag?: string): string {
  const base = account.profile
    ? `the manifest profile ${account.profile}`
    : profileFlag
      ? `--profile ${profileFlag}`
      : env.AWS_PROFILE
        ? `AWS_PROFILE=${env.AWS_PROFILE}`
        : env.AWS_ACCESS_KEY_ID
          ? 'environment variables AWS_ACCESS_KEY_ID'
          : 'the default credential chain'
  return account.roleArn ? `roleArn ${account.roleArn} assumed with ${base}` : base
}
