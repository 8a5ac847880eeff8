// Owns binding every manifest account to its credentials: before a client of an account is handed out,
// STS GetCallerIdentity says which account those credentials reach (once per run and distinct
// credentials, shared by every region and client), and an account they do not reach is refused with
// ERR_LAYERS_ACCOUNT_MISMATCH naming where the credentials came from. Every command that acts on
// accounts (publish, attach, audit, prune, outdated) gets its clients through `boundClients`, so
// nothing is read or written in an account the credentials do not belong to.
import type {STSClient} from '@aws-sdk/client-sts'
import {OperationalError} from '../errors/index.js'
import type {Account} from '../manifest/types.js'
import {credentialKey, credentialSource, type AwsClientFactory} from './clients.js'

/** ERR_LAYERS_ACCOUNT_MISMATCH for the credentials of `account` (from `source`) reaching `actual` instead of `expected`. */
export function accountMismatch(account: string, expected: string, actual: string, source: string): OperationalError {
  return new OperationalError(
    'ERR_LAYERS_ACCOUNT_MISMATCH',
    `The credentials for account ${account} (${source}) belong to account ${actual}, not ${expected}: nothing was read or written with them.`,
    {
      hint: `Fix the account's id, profile or roleArn in the manifest (or --profile, AWS_PROFILE, the environment credentials) so they reach ${expected}.`,
      details: {account, expected, actual, source},
    },
  )
}

/** STS refused AssumeRole (the role does not exist, or its trust policy does not name the caller). */
function isAssumeRoleDenied(error: unknown): boolean {
  const {name, message} = error as {name?: string; message?: string}
  return (name === 'AccessDenied' || name === 'AccessDeniedException') && /sts:AssumeRole\b/.test(message ?? '')
}

function roleDenied(account: Account, base: string, error: unknown): OperationalError {
  return new OperationalError(
    'ERR_LAYERS_ROLE_DENIED',
    `Account ${account.name} (${account.id}): STS refused to let ${base} assume roleArn ${account.roleArn}: ${(error as Error).message}`,
    {
      hint: `Check that the role exists and that its trust policy names the caller (its account or ARN) and any externalId; or fix roleArn/profile in the manifest.`,
      details: {account: account.name, expected: account.id, roleArn: account.roleArn, source: base},
      cause: error,
    },
  )
}

export interface AccountGuard {
  /** Resolves when the credentials of `account` reach `account.id`; rejects with ERR_LAYERS_ACCOUNT_MISMATCH (or the STS error) otherwise. */
  verify(account: Account, region: string): Promise<void>
}

/** One GetCallerIdentity per distinct credentials and expected id for the guard's lifetime (a run). */
export function accountGuard(clients: Pick<AwsClientFactory, 'sts' | 'profile'>, env: NodeJS.ProcessEnv = process.env): AccountGuard {
  const checks = new Map<string, Promise<void>>()
  return {
    verify(account, region) {
      const key = `${account.id}\0${credentialKey(account)}`
      let check = checks.get(key)
      if (!check) {
        check = (async () => {
          const sts = await clients.sts(account, region)
          const {GetCallerIdentityCommand} = await import('@aws-sdk/client-sts')
          const actual = (await (sts as Pick<STSClient, 'send'>).send(new GetCallerIdentityCommand({})).catch((error: unknown) => {
            throw account.roleArn && isAssumeRoleDenied(error) ? roleDenied(account, credentialSource({...account, roleArn: undefined}, env, clients.profile), error) : error
          })).Account ?? ''
          if (actual !== account.id) throw accountMismatch(account.name, account.id, actual || '(none reported)', credentialSource(account, env, clients.profile))
        })()
        checks.set(key, check)
      }
      return check
    },
  }
}

/**
 * The factory's clients, each handed out only after `guard` has bound its account to its credentials.
 * Organizations calls use the default credentials of the management account, not a manifest account's.
 */
export function boundClients<F extends Pick<AwsClientFactory, 'lambda' | 'sts'> & Partial<AwsClientFactory>>(factory: F, guard: AccountGuard = accountGuard(factory)): F {
  return {
    ...factory,
    // Making a client calls nothing, so it is made (its SDK package loaded) while STS is asked; it is
    // handed out only once the answer is in.
    lambda: async (account: Account, region: string, options?: Parameters<AwsClientFactory['lambda']>[2]) =>
      (await Promise.all([factory.lambda(account, region, options), guard.verify(account, region)]))[0],
    ...(factory.lambdaGet
      ? {
          lambdaGet: async (account: Account, region: string) => (await Promise.all([factory.lambdaGet!(account, region), guard.verify(account, region)]))[0],
        }
      : {}),
    ...(factory.s3
      ? {
          s3: async (account: Account, region: string) => (await Promise.all([factory.s3!(account, region), guard.verify(account, region)]))[0],
        }
      : {}),
    ...(factory.ssm
      ? {
          ssm: async (account: Account, region: string, options?: Parameters<AwsClientFactory['ssm']>[2]) => (await Promise.all([factory.ssm!(account, region, options), guard.verify(account, region)]))[0],
        }
      : {}),
    ...(factory.ecr
      ? {
          ecr: async (account: Account, region: string) => (await Promise.all([factory.ecr!(account, region), guard.verify(account, region)]))[0],
        }
      : {}),
    ...(factory.account
      ? {
          account: async (account: Account) => {
            // STS of the account's own partition: its first region (the Account API itself is global).
            await guard.verify(account, account.regions[0] ?? 'us-east-1')
            return factory.account!(account)
          },
        }
      : {}),
  }
}
