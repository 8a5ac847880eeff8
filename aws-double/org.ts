// The two account-discovery calls `layers audit` makes: Organizations ListAccounts (JSON 1.1, from the
// organization's management account: every member, 20 a page) and Account ListRegions (REST-JSON:
// the default regions ENABLED_BY_DEFAULT, opt-in regions DISABLED unless enabled for the account).
import {ApiError, json11, type Reply, type RequestContext} from './common.js'

const DEFAULT_REGIONS = ['ap-northeast-1', 'ap-northeast-2', 'ap-northeast-3', 'ap-south-1', 'ap-southeast-1', 'ap-southeast-2', 'ca-central-1', 'eu-central-1', 'eu-north-1', 'eu-west-1', 'eu-west-2', 'eu-west-3', 'sa-east-1', 'us-east-1', 'us-east-2', 'us-west-1', 'us-west-2']
const OPT_IN_REGIONS = ['af-south-1', 'ap-east-1', 'ap-south-2', 'ap-southeast-3', 'ap-southeast-4', 'ca-west-1', 'eu-central-2', 'eu-south-1', 'eu-south-2', 'il-central-1', 'me-central-1', 'me-south-1']

export interface OrgOptions {
  /** accountId -> organization id; the first account named for an organization is its management account. */
  organizations: Record<string, string>
  accountNames: Record<string, string>
  /** accountId -> opt-in regions enabled for it. */
  optInRegions: Record<string, string[]>
}

function page<T>(items: T[], token: string | undefined, size: number): {items: T[]; next?: string} {
  const start = token === undefined ? 0 : Number(Buffer.from(token, 'base64url').toString('utf8'))
  if (!Number.isInteger(start) || start < 0 || start > items.length) throw new ApiError(400, 'InvalidInputException', 'You provided an invalid value for NextToken.')
  const slice = items.slice(start, start + size)
  return {items: slice, ...(start + size < items.length ? {next: Buffer.from(String(start + size)).toString('base64url')} : {})}
}

export function organizationsOperation(target: string | undefined): string {
  return /^AWSOrganizationsV20161128\.(\w+)$/.exec(target ?? '')?.[1] ?? 'UnknownOperation'
}

export function accountOperation(method: string, url: URL): string {
  return method === 'POST' && url.pathname === '/listRegions' ? 'ListRegions' : `${method} ${url.pathname}`
}

export function handleOrganizations(ctx: RequestContext, options: OrgOptions): Reply {
  if (ctx.operation !== 'ListAccounts') throw new ApiError(400, 'UnknownOperationException', `${ctx.operation} is not served by this test server`)
  const orgId = options.organizations[ctx.accountId]
  if (!orgId) throw new ApiError(400, 'AWSOrganizationsNotInUseException', 'Your account is not a member of an organization.')
  const members = Object.keys(options.organizations).filter((id) => options.organizations[id] === orgId)
  const management = members[0]!
  if (ctx.accountId !== management) throw new ApiError(400, 'AccessDeniedException', "You don't have permissions to access this resource.")
  const input = JSON.parse(ctx.body.toString('utf8') || '{}') as {NextToken?: string; MaxResults?: number}
  const size = input.MaxResults ?? 20
  if (!Number.isInteger(size) || size < 1 || size > 20) throw new ApiError(400, 'InvalidInputException', 'You provided a value that does not match the required pattern.')
  const result = page([...members].sort(), input.NextToken, size)
  return json11({
    Accounts: result.items.map((id) => ({
      Id: id,
      Arn: `arn:aws:organizations::${management}:account/${orgId}/${id}`,
      Email: `aws+${id}@example.com`,
      Name: options.accountNames[id] ?? `account-${id}`,
      Status: 'ACTIVE',
      State: 'ACTIVE',
      JoinedMethod: id === management ? 'CREATED' : 'INVITED',
      JoinedTimestamp: 1_700_000_000,
    })),
    ...(result.next ? {NextToken: result.next} : {}),
  })
}

export function handleAccount(ctx: RequestContext, options: OrgOptions): Reply {
  if (ctx.operation !== 'ListRegions') throw new ApiError(404, 'UnknownOperationException', `${ctx.operation} is not served by this test server`)
  const input = JSON.parse(ctx.body.toString('utf8') || '{}') as {NextToken?: string; MaxResults?: number; RegionOptStatusContains?: string[]}
  const size = input.MaxResults ?? 20
  if (!Number.isInteger(size) || size < 1 || size > 50) throw new ApiError(400, 'ValidationException', 'MaxResults must be between 1 and 50.')
  const enabled = new Set(options.optInRegions[ctx.accountId] ?? [])
  const all = [
    ...DEFAULT_REGIONS.map((name) => ({RegionName: name, RegionOptStatus: 'ENABLED_BY_DEFAULT'})),
    ...OPT_IN_REGIONS.map((name) => ({RegionName: name, RegionOptStatus: enabled.has(name) ? 'ENABLED' : 'DISABLED'})),
  ]
    .filter((region) => !input.RegionOptStatusContains || input.RegionOptStatusContains.includes(region.RegionOptStatus))
    .sort((a, b) => (a.RegionName < b.RegionName ? -1 : 1))
  const result = page(all, input.NextToken, size)
  return {status: 200, headers: {'content-type': 'application/json'}, body: JSON.stringify({Regions: result.items, ...(result.next ? {NextToken: result.next} : {})})}
}
