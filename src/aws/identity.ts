// Owns the check that a target's credentials reach the target's account: publish asks STS before it
// writes; audit and prune read the account from the ARNs Lambda returns (no extra call), so a profile
// or role that reaches another account fails that target instead of reporting or deleting there.
import {OperationalError} from '../errors/index.js'

/** ERR_LAYERS_ACCOUNT_MISMATCH for the credentials of `account` (name or id) reaching `actual`. */
export function accountMismatch(account: string, expected: string, actual: string): OperationalError {
  return new OperationalError('ERR_LAYERS_ACCOUNT_MISMATCH', `The credentials for account ${account} belong to account ${actual}, not ${expected}.`, {
    hint: `Fix the account's id, profile or roleArn in the manifest (or AWS_PROFILE) so they reach ${expected}.`,
    details: {account, expected, actual},
  })
}

/** Throws accountMismatch when `arn` (returned by Lambda for the caller) is not in `expected`'s account. */
export function assertArnInAccount(arn: string, expected: string): void {
  const actual = arn.split(':')[4]
  if (actual !== undefined && /^\d{12}$/.test(actual) && actual !== expected) throw accountMismatch(expected, expected, actual)
}
