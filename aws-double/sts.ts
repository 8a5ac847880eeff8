// STS over the query protocol (form-encoded Action=..., XML answers): GetCallerIdentity and AssumeRole.
// AssumeRole hands out session credentials that act as the role's account, so assume-role profiles and
// roleArn targets reach the other account end to end. Roles exist only as the server's `roles` say, each
// with a trust policy (its own account unless told otherwise, an optional external id): an unknown role
// or a caller the trust policy does not name is AccessDenied, worded as AWS words it.
import {partitionOf, type Accounts} from './auth.js'
import {ApiError, serverNow, xmlEscape, type Reply, type RequestContext} from './common.js'

const NS = 'https://sts.amazonaws.com/doc/2011-06-15/'

export interface RoleRule {
  /** sts:ExternalId the role's trust policy requires. */
  externalId?: string
  /**
   * Principals the trust policy names: a 12-digit account id or `arn:aws:iam::ID:root` (every principal
   * of that account), an IAM user ARN, or an IAM role ARN (its sessions). Default: the role's own account.
   */
  trust?: string[]
}

export class Sts {
  constructor(
    private readonly accounts: Accounts,
    /** The roles that exist (role ARN -> trust policy); AssumeRole of any other is AccessDenied. */
    private readonly roles: Record<string, RoleRule> = {},
  ) {}

  static operation(body: Buffer): string {
    return new URLSearchParams(body.toString('utf8')).get('Action') ?? 'UnknownOperation'
  }

  handle(ctx: RequestContext, caller: {arn: string; userId: string}): Reply {
    const form = new URLSearchParams(ctx.body.toString('utf8'))
    const requestId = `<ResponseMetadata><RequestId>${ctx.operation}-${serverNow()}</RequestId></ResponseMetadata>`
    switch (ctx.operation) {
      case 'GetCallerIdentity':
        return xml(`<GetCallerIdentityResponse xmlns="${NS}"><GetCallerIdentityResult><Arn>${xmlEscape(caller.arn)}</Arn><UserId>${xmlEscape(caller.userId)}</UserId><Account>${ctx.accountId}</Account></GetCallerIdentityResult>${requestId}</GetCallerIdentityResponse>`)
      case 'AssumeRole':
        return xml(this.assumeRole(form, {arn: caller.arn, accountId: ctx.accountId, region: ctx.region}, requestId))
      default:
        throw new ApiError(400, 'InvalidAction', `Could not find operation ${ctx.operation} for version 2011-06-15`)
    }
  }

  private assumeRole(form: URLSearchParams, caller: {arn: string; accountId: string; region: string}, requestId: string): string {
    const callerArn = caller.arn
    const roleArn = form.get('RoleArn')
    const sessionName = form.get('RoleSessionName')
    const problems: string[] = []
    if (roleArn === null) problems.push("Value null at 'roleArn' failed to satisfy constraint: Member must not be null")
    else if (roleArn.length < 20 || roleArn.length > 2048) problems.push(`Value '${roleArn}' at 'roleArn' failed to satisfy constraint: Member must have length greater than or equal to 20`)
    if (sessionName === null) problems.push("Value null at 'roleSessionName' failed to satisfy constraint: Member must not be null")
    else if (!/^[\w+=,.@-]{2,64}$/.test(sessionName)) problems.push(`Value '${sessionName}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*`)
    const duration = Number(form.get('DurationSeconds') ?? 3600)
    if (!(duration >= 900 && duration <= 43200)) problems.push(`Value '${duration}' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900`)
    if (problems.length > 0) throw new ApiError(400, 'ValidationError', `${problems.length} validation error${problems.length > 1 ? 's' : ''} detected: ${problems.join('; ')}`)
    if (duration > 3600) throw new ApiError(400, 'ValidationError', 'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.')
    const partition = partitionOf(caller.region)
    // A role of another partition does not exist for this partition's STS.
    const role = new RegExp(`^arn:${partition}:iam::(\\d{12}):role\\/(?:[\\w+=,.@-]+\\/)*([\\w+=,.@-]+)$`).exec(roleArn!)
    const denied = new ApiError(403, 'AccessDenied', `User: ${callerArn} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`)
    const rule = this.roles[roleArn!]
    if (!role || !rule || !this.accounts.has(role[1]!)) throw denied
    if (!(rule.trust ?? [role[1]!]).some((principal) => trusts(principal, caller))) throw denied
    if (rule.externalId !== undefined && rule.externalId !== form.get('ExternalId')) throw denied
    const [, accountId, roleName] = role as unknown as [string, string, string]
    const roleId = `AROA${accountId}${roleName.length.toString(16).padStart(4, '0').toUpperCase()}`
    const arn = `arn:${partition}:sts::${accountId}:assumed-role/${roleName}/${sessionName}`
    const credentials = this.accounts.issueSession(accountId, arn, `${roleId}:${sessionName}`)
    const expiration = new Date(serverNow() + duration * 1000).toISOString()
    return `<AssumeRoleResponse xmlns="${NS}"><AssumeRoleResult><AssumedRoleUser><Arn>${xmlEscape(arn)}</Arn><AssumedRoleId>${roleId}:${xmlEscape(sessionName!)}</AssumedRoleId></AssumedRoleUser><Credentials><AccessKeyId>${credentials.accessKeyId}</AccessKeyId><SecretAccessKey>${credentials.secretAccessKey}</SecretAccessKey><SessionToken>${credentials.sessionToken}</SessionToken><Expiration>${expiration}</Expiration></Credentials></AssumeRoleResult>${requestId}</AssumeRoleResponse>`
  }
}

/** Whether a trust policy principal covers the caller (an IAM role principal covers its sessions). */
function trusts(principal: string, caller: {arn: string; accountId: string}): boolean {
  const root = /^(?:arn:aws[a-z-]*:iam::)?(\d{12})(?::root)?$/.exec(principal)
  if (root) return root[1] === caller.accountId
  if (principal === caller.arn) return true
  const role = /^arn:(aws[a-z-]*):iam::(\d{12}):role\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]+)$/.exec(principal)
  const session = /^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role\/([\w+=,.@-]+)\/[\w+=,.@-]+$/.exec(caller.arn)
  return Boolean(role && session && role[1] === session[1] && role[2] === session[2] && role[3] === session[3])
}

function xml(body: string): Reply {
  return {status: 200, headers: {'content-type': 'text/xml'}, body}
}

/** STS's error document. */
export function stsError(error: ApiError, requestId: string): Reply {
  const type = error.status >= 500 ? 'Receiver' : 'Sender'
  return {
    status: error.status,
    headers: {'content-type': 'text/xml', ...error.headers},
    body: `<ErrorResponse xmlns="${NS}"><Error><Type>${type}</Type><Code>${error.code}</Code><Message>${xmlEscape(error.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
  }
}
