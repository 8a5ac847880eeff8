// The audit's REST reads (src/aws/lambda-rest.ts) over a Lambda client a test made itself: a budget of
// its own at the default rate and the run's call watcher, as the client factory gives them.
import type {LambdaClient} from '@aws-sdk/client-lambda'
import {lambdaRestGet, type LambdaRestGet} from '../../src/aws/lambda-rest.js'
import {RequestBudget} from '../../src/aws/request-budget.js'
import {callWatcher, resolveTimeouts} from '../../src/aws/time-bounds.js'

export function lambdaGetOf(client: LambdaClient, accountId: string, region: string): Promise<LambdaRestGet> {
  return lambdaRestGet(client, {budget: new RequestBudget(), accountId, region, watch: callWatcher(resolveTimeouts(), undefined), target: {service: 'lambda', account: accountId, region}})
}
