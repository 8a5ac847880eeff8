// Owns which accounts and regions an audit (or prune) covers: the manifest's accounts, narrowed or
// extended by --account/--region, every enabled region (--all-regions), or every active account of
// an AWS Organization reached through a role (--org --role-name). Account and region listing sit
// behind small interfaces; a listing that fails becomes a failed target, never a silent gap.
import {LayersError, OperationalError, UserInputError} from '../errors/index.js'
import {targetError} from '../aws/errors.js'
import {partitionOf} from '../manifest/regions.js'
import {checkRegionNames, flagTargetRegions, selectAccounts, selectRegions} from '../manifest/select.js'
import type {Account, Manifest} from '../manifest/types.js'
import type {OrganizationsApi} from '../aws/organizations.js'
import type {AuditTarget, TargetFailure} from './types.js'

export interface TargetFlags {
  /** Manifest account names or 12-digit account ids. */
  accounts?: string[]
  regions?: string[]
  allRegions?: boolean
  org?: boolean
  roleName?: string
}

/** A target with the account whose credentials reach it (a manifest account, or one made for an id). */
export interface ResolvedTarget extends AuditTarget {
  account: Account
}

export type {OrganizationsApi}

export interface RegionsApi {
  /** Regions enabled for the account (ENABLED and ENABLED_BY_DEFAULT), with its credentials. */
  listEnabledRegions(account: Account): Promise<string[]>
}

export interface TargetDeps {
  organizations?: () => OrganizationsApi
  regions?: () => RegionsApi
  /** The region of this run's profile in the shared config: the last fallback, as the AWS CLI's. */
  profileRegion?: () => Promise<string | undefined>
  failure: (error: unknown) => TargetFailure
}

export interface TargetPlan {
  targets: ResolvedTarget[]
  /** Accounts whose regions could not be listed (--all-regions), reported as failed targets with region `*`. */
  failed: Array<AuditTarget & {error: TargetFailure}>
}

const ROLE_NAME = /^[\w+=,.@/-]{1,64}$/

/** The accounts to cover, before regions are expanded. Pure apart from the organization listing. */
export async function resolveTargets(manifest: Pick<Manifest, 'accounts' | 'settings' | 'file'> | undefined, flags: TargetFlags, deps: TargetDeps): Promise<TargetPlan> {
  const accounts = await chooseAccounts(manifest, flags, deps)
  const targets: ResolvedTarget[] = []
  const failed: TargetPlan['failed'] = []
  const regionsApi = flags.allRegions ? deps.regions?.() : undefined
  await Promise.all(
    accounts.map(async (account) => {
      let regions = flags.regions && flags.regions.length > 0 ? flags.regions : account.regions
      if (flags.allRegions) {
        try {
          regions = await regionsApi!.listEnabledRegions(account)
        } catch (error) {
          failed.push({accountId: account.id, accountName: account.name, region: '*', error: deps.failure(error)})
          return
        }
      }
      for (const region of [...new Set(regions)].sort()) targets.push({accountId: account.id, accountName: account.name, region, account})
    }),
  )
  if (targets.length === 0 && failed.length === 0) {
    throw new UserInputError('ERR_LAYERS_AUDIT_NO_TARGETS', 'There is nothing to audit: no account has a region.', {
      hint: 'Give regions with --region (or AWS_REGION), use --all-regions, or list regions for the accounts in layers.yaml.',
    })
  }
  targets.sort((a, b) => (a.accountId + a.region < b.accountId + b.region ? -1 : 1))
  failed.sort((a, b) => (a.accountId < b.accountId ? -1 : 1))
  return {targets, failed}
}

async function chooseAccounts(manifest: Pick<Manifest, 'accounts' | 'settings' | 'file'> | undefined, flags: TargetFlags, deps: TargetDeps): Promise<Account[]> {
  checkRegionNames(flags.regions)
  const defaultRegions = await regionsForFlagAccounts(manifest, flags, deps)
  if (flags.org) {
    if (!flags.roleName || !ROLE_NAME.test(flags.roleName)) {
      throw new UserInputError(flags.roleName ? 'ERR_LAYERS_FLAG_VALUE' : 'ERR_LAYERS_USAGE', flags.roleName ? `--role-name ${JSON.stringify(flags.roleName)} is not an IAM role name.` : '--org needs --role-name.', {
        hint: 'Name the role every member account has for auditing, e.g. --org --role-name OrganizationAccountAccessRole.',
      })
    }
    const members = await deps.organizations!().listActiveAccounts().catch((error: unknown) => {
      throw organizationsFailure(error)
    })
    const wanted = flags.accounts && flags.accounts.length > 0 ? new Set(flags.accounts) : undefined
    // The member roles live in the partition of the regions audited.
    const partition = partitionOf(defaultRegions[0] ?? 'us-east-1') ?? 'aws'
    return members
      .filter((member) => !wanted || wanted.has(member.id) || wanted.has(member.name))
      .map((member) => ({
        name: member.name,
        id: member.id,
        roleArn: `arn:${partition}:iam::${member.id}:role/${flags.roleName}`,
        sessionName: 'layers-audit',
        regions: defaultRegions,
      }))
  }
  if (flags.roleName) {
    throw new UserInputError('ERR_LAYERS_USAGE', '--role-name is only used with --org.', {hint: 'Add --org to audit every account of the organization through that role.'})
  }
  if (!flags.accounts || flags.accounts.length === 0) {
    if (Object.keys(manifest?.accounts ?? {}).length === 0) {
      throw new UserInputError('ERR_LAYERS_AUDIT_NO_TARGETS', 'There is nothing to audit: the manifest declares no accounts.', {
        hint: 'Declare accounts in layers.yaml, or name them with --account ACCOUNT_ID --region REGION, or use --org --role-name NAME.',
      })
    }
  }
  const chosen = selectAccounts(manifest, flags.accounts, {ids: true, defaultRegions})
  if (!flags.allRegions && manifest) selectRegions(manifest, chosen, flags.regions)
  return chosen
}

/**
 * The regions of accounts the flags name (by id, or found by --org): --region, settings.regions,
 * AWS_REGION, AWS_DEFAULT_REGION, then the profile's `region` in the shared config file. The profile is
 * read only when an account is named by id or --org is given and nothing before it names a region.
 */
async function regionsForFlagAccounts(manifest: Pick<Manifest, 'accounts' | 'settings'> | undefined, flags: TargetFlags, deps: TargetDeps): Promise<string[]> {
  const regions = flagTargetRegions(flags.regions, manifest?.settings.regions)
  const namesAnId = (flags.accounts ?? []).some((name) => /^\d{12}$/.test(name) && !Object.values(manifest?.accounts ?? {}).some((account) => account.id === name || account.name === name))
  if (regions.length > 0 || !deps.profileRegion || !(flags.org || namesAnId)) return regions
  const region = (await deps.profileRegion())?.trim()
  if (!region) return []
  checkRegionNames([region], "the profile's region (shared config file)")
  return [region]
}

/** A failed ListAccounts as the user-facing error it is: no organization, not allowed, or the AWS error named. */
function organizationsFailure(error: unknown): LayersError {
  if (error instanceof LayersError) return error
  const {code, message} = targetError(error)
  if (code === 'AWSOrganizationsNotInUseException') {
    return new UserInputError('ERR_LAYERS_ORG_NOT_IN_USE', `--org: the account of these credentials is not in an AWS Organization (${message}).`, {
      hint: 'Run --org with credentials of the organization\'s management account (or a delegated administrator), or audit accounts by name or id with --account.',
      cause: error,
    })
  }
  if (code === 'AccessDeniedException' || code === 'AccessDenied') {
    return new OperationalError('ERR_LAYERS_ORG_ACCESS_DENIED', `--org: these credentials may not list the organization's accounts (${code}: ${message}).`, {
      hint: 'organizations:ListAccounts works only from the management account or a delegated administrator account; use credentials of one of them, or name the accounts with --account.',
      cause: error,
    })
  }
  return new OperationalError('ERR_LAYERS_ORG_LIST_FAILED', `--org: listing the organization's accounts failed (${code}: ${message}).`, {
    hint: targetError(error).hint ?? 'Check the credentials and the network, then run again.',
    cause: error,
  })
}
