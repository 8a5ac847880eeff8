// The audit's REST reads (src/aws/lambda-rest.ts) with what a Lambda client a test made itself would
// bring (its endpoint, credentials, request handler and retry strategy): a budget of its own at the
// default rate (unless given) and the run's call watcher, as the client factory gives them.
import type {LambdaClient} from '@aws-sdk/client-lambda'
import type {RetryStrategyV2} from '@smithy/types'
import {lambdaEndpointOf, lambdaRestGet, type LambdaRestConnection, type LambdaRestGet} from '../../src/aws/lambda-rest.js'
import {RequestBudget} from '../../src/aws/request-budget.js'
import {callWatcher, resolveTimeouts} from '../../src/aws/time-bounds.js'

export async function lambdaGetOf(client: LambdaClient, accountId: string, region: string, options: {budget?: RequestBudget; accountLabel?: string} = {}): Promise<LambdaRestGet> {
  const connection: LambdaRestConnection = {
    endpoint: await lambdaEndpointOf(client.config),
    credentials: client.config.credentials,
    requestHandler: client.config.requestHandler as LambdaRestConnection['requestHandler'],
    retryStrategy: (await client.config.retryStrategy()) as RetryStrategyV2,
  }
  return lambdaRestGet(connection, {budget: options.budget ?? new RequestBudget(), accountId, region, watch: callWatcher(resolveTimeouts(), undefined), target: {service: 'lambda', account: options.accountLabel ?? accountId, region}})
}
