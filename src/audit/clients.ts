// Owns the AWS clients of `layers audit`, `prune` and `outdated`: the shared client factory of
// src/aws/clients.ts (per-account credentials by AWS conventions, adaptive retries, one keep-alive pool),
// each account bound to its credentials before its first call (src/aws/identity.ts).
import {AWS_MAX_ATTEMPTS, awsClientFactory, type AwsClientFactory, type AwsClientFactoryOptions} from '../aws/clients.js'
import {boundClients} from '../aws/identity.js'

/** Attempts per call: with 20% of calls throttled, 10 attempts leave about one failure in 10^7. */
export const AUDIT_MAX_ATTEMPTS = AWS_MAX_ATTEMPTS

/** `s3` serves prune's team-state leases only, `ssm` outdated's publisher feeds (each client loads on first use). */
export function auditClientFactory(options: AwsClientFactoryOptions = {}): Pick<AwsClientFactory, 'lambda' | 'lambdaGet' | 'organizations' | 'account' | 's3' | 'ssm' | 'release'> {
  return boundClients(awsClientFactory(options))
}
