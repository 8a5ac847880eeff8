// Who is calling: access keys map to accounts (static keys given to the server, session keys issued by
// sts:AssumeRole), and every request's SigV4 Authorization header is parsed and its signature checked
// the way AWS checks it (canonical request, string to sign, derived key), so a wrong secret, a missing
// session token or a tampered payload fail as they would against AWS.
import {createHmac} from 'node:crypto'
import type {IncomingHttpHeaders} from 'node:http'
import {ApiError, header, serverNow, sha256, token, type ServiceName} from './common.js'

interface KeyEntry {
  accountId: string
  secretAccessKey: string
  sessionToken?: string
  /** The principal ARN GetCallerIdentity reports. */
  arn: string
  userId: string
}

export interface Caller {
  accessKeyId: string
  accountId: string
  arn: string
  userId: string
  region: string
  service: string
}

export interface SessionCredentials {
  accessKeyId: string
  secretAccessKey: string
  sessionToken: string
}

/** The partition of a region (cn-* in aws-cn, us-gov-* in aws-us-gov): ARNs of that region use it. */
export function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn'
  if (region.startsWith('us-gov-')) return 'aws-us-gov'
  return 'aws'
}

/** Static keys (one or more per account) and the session keys AssumeRole hands out. */
export class Accounts {
  private readonly keys = new Map<string, KeyEntry>()
  private sessions = 0

  constructor(accessKeys: Record<string, string>) {
    for (const [accessKeyId, accountId] of Object.entries(accessKeys)) {
      if (!/^\d{12}$/.test(accountId)) throw new Error(`aws-server: account id for ${accessKeyId} must be 12 digits, got ${accountId}`)
      this.keys.set(accessKeyId, {accountId, secretAccessKey: staticSecret(accessKeyId), arn: `arn:aws:iam::${accountId}:user/layers-test`, userId: `AIDA${accessKeyId.slice(-12).toUpperCase()}`})
    }
  }

  has(accountId: string): boolean {
    for (const entry of this.keys.values()) if (entry.accountId === accountId && !entry.sessionToken) return true
    return false
  }

  /** The static credentials of an account (the first key given for it). */
  credentials(accountId: string): {accessKeyId: string; secretAccessKey: string} {
    for (const [accessKeyId, entry] of this.keys) {
      if (entry.accountId === accountId && !entry.sessionToken) return {accessKeyId, secretAccessKey: entry.secretAccessKey}
    }
    throw new Error(`aws-server: no access key for account ${accountId}; known accounts: ${[...new Set([...this.keys.values()].map((e) => e.accountId))].join(', ')}`)
  }

  /** Temporary credentials acting as `arn` in `accountId` (sts:AssumeRole). */
  issueSession(accountId: string, arn: string, userId: string): SessionCredentials {
    this.sessions += 1
    const accessKeyId = `ASIA${String(this.sessions).padStart(8, '0')}${token(4).toUpperCase()}`
    const credentials = {accessKeyId, secretAccessKey: token(20), sessionToken: `session-${token(24)}`}
    this.keys.set(accessKeyId, {accountId, secretAccessKey: credentials.secretAccessKey, sessionToken: credentials.sessionToken, arn, userId})
    return credentials
  }

  /**
   * Authenticates a request: parses the SigV4 Authorization header, looks up the key, checks the
   * session token and the signature. Throws ApiError with the code the service uses.
   */
  authenticate(request: {method: string; rawUrl: string; headers: IncomingHttpHeaders; body: Buffer}, expected?: ServiceName): Caller {
    const authorization = header(request.headers, 'authorization') ?? ''
    const match = /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request,\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]{64})$/.exec(authorization)
    const service = (match?.[4] ?? expected ?? 'lambda') as ServiceName
    if (!match) {
      throw authError(service, 'missing', authorization ? 'Authorization header requires SigV4 (AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...).' : 'Missing Authentication Token')
    }
    const [, accessKeyId, date, region, , signedHeaders, signature] = match as unknown as [string, string, string, string, string, string, string]
    const entry = this.keys.get(accessKeyId)
    if (!entry) throw authError(service, 'key', accessKeyId)
    const sessionToken = header(request.headers, 'x-amz-security-token')
    if (entry.sessionToken !== sessionToken) throw authError(service, 'key', accessKeyId)
    const amzDate = header(request.headers, 'x-amz-date') ?? ''
    if (!amzDate.startsWith(date)) throw authError(service, 'signature', 'Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP')
    const signedAt = Date.parse(amzDate.replace(/^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/, '$1-$2-$3T$4:$5:$6Z'))
    if (Number.isNaN(signedAt)) throw authError(service, 'signature', `Invalid X-Amz-Date: ${amzDate}`)
    const now = serverNow()
    if (Math.abs(now - signedAt) > skewLimitMs(service)) throw skewError(service, amzDate, signedAt, now)
    const payloadHash = header(request.headers, 'x-amz-content-sha256') ?? sha256(request.body).toString('hex')
    const canonical = canonicalRequest(request.method, request.rawUrl, request.headers, signedHeaders.split(';'), payloadHash, service !== 's3')
    const scope = `${date}/${region}/${service}/aws4_request`
    const stringToSign = `AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${sha256(canonical).toString('hex')}`
    let key: Buffer = hmac(`AWS4${entry.secretAccessKey}`, date)
    for (const part of [region, service, 'aws4_request']) key = hmac(key, part)
    if (hmac(key, stringToSign).toString('hex') !== signature) throw authError(service, 'signature', '')
    // A static key's user is reported in the partition of the region it is used in.
    const arn = entry.sessionToken ? entry.arn : entry.arn.replace(/^arn:aws:/, `arn:${partitionOf(region)}:`)
    return {accessKeyId, accountId: entry.accountId, arn, userId: entry.userId, region, service}
  }
}

/**
 * How far from its clock AWS accepts a request's X-Amz-Date: 5 minutes for Lambda, SSM, Organizations
 * and Account, 15 for S3 (RequestTimeTooSkewed), STS and ECR.
 */
function skewLimitMs(service: ServiceName): number {
  return (service === 's3' || service === 'sts' || service === 'ecr' ? 15 : 5) * 60_000
}

/** AWS's refusal of a request signed too far from its clock, in the past ("Signature expired") or the future ("not yet current"). */
function skewError(service: ServiceName, amzDate: string, signedAt: number, now: number): ApiError {
  const limit = skewLimitMs(service)
  if (service === 's3') return new ApiError(403, 'RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.', {RequestTime: amzDate, ServerTime: new Date(now).toISOString(), MaxAllowedSkewMilliseconds: String(limit)})
  const stamp = (time: number) => new Date(time).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '')
  const minutes = limit / 60_000
  const message =
    signedAt < now
      ? `Signature expired: ${amzDate} is now earlier than ${stamp(now - limit)} (${stamp(now)} - ${minutes} min.)`
      : `Signature not yet current: ${amzDate} is still later than ${stamp(now + limit)} (${stamp(now)} + ${minutes} min.)`
  if (service === 'sts') return new ApiError(403, 'SignatureDoesNotMatch', message)
  return new ApiError(refusalStatus(service), 'InvalidSignatureException', message)
}

function staticSecret(accessKeyId: string): string {
  return `secret/${accessKeyId}/layers-test-server`
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest()
}

function escapeUri(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
}

/** The SigV4 canonical request, built from the request as it arrived on the wire. */
function canonicalRequest(method: string, rawUrl: string, headers: IncomingHttpHeaders, signed: string[], payloadHash: string, escapePath: boolean): string {
  const queryStart = rawUrl.indexOf('?')
  const rawPath = queryStart === -1 ? rawUrl : rawUrl.slice(0, queryStart)
  const rawQuery = queryStart === -1 ? '' : rawUrl.slice(queryStart + 1)
  let path = rawPath
  if (escapePath) {
    const segments: string[] = []
    for (const segment of rawPath.split('/')) {
      if (segment === '' || segment === '.') continue
      if (segment === '..') segments.pop()
      else segments.push(segment)
    }
    const normalized = `${rawPath.startsWith('/') ? '/' : ''}${segments.join('/')}${segments.length > 0 && rawPath.endsWith('/') ? '/' : ''}`
    path = escapeUri(normalized).replace(/%2F/g, '/')
  }
  const pairs: string[] = []
  for (const part of rawQuery.split('&')) {
    if (!part) continue
    const eq = part.indexOf('=')
    const key = decodeURIComponent(eq === -1 ? part : part.slice(0, eq))
    const value = eq === -1 ? '' : decodeURIComponent(part.slice(eq + 1))
    if (key.toLowerCase() === 'x-amz-signature') continue
    pairs.push(`${escapeUri(key)}=${escapeUri(value)}`)
  }
  pairs.sort((a, b) => {
    const ka = a.slice(0, a.indexOf('='))
    const kb = b.slice(0, b.indexOf('='))
    return ka === kb ? (a < b ? -1 : a > b ? 1 : 0) : ka < kb ? -1 : 1
  })
  const canonicalHeaders = signed.map((name) => {
    const raw = headers[name]
    const value = Array.isArray(raw) ? raw.join(',') : (raw ?? '')
    return `${name}:${value.replace(/[\r\n]/g, ' ').replace(/[ \t]+/g, ' ').replace(/^ | $/g, '')}`
  })
  return `${method}\n${path}\n${pairs.join('&')}\n${canonicalHeaders.join('\n')}\n\n${signed.join(';')}\n${payloadHash}`
}

/** The error each service sends for a missing header, an unknown key or a bad signature. */
function authError(service: ServiceName, kind: 'missing' | 'key' | 'signature', detail: string): ApiError {
  const signatureMessage = 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.'
  if (service === 's3') {
    if (kind === 'missing') return new ApiError(403, 'AccessDenied', detail)
    if (kind === 'key') return new ApiError(403, 'InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.', {AWSAccessKeyId: detail})
    return new ApiError(403, 'SignatureDoesNotMatch', detail || signatureMessage)
  }
  if (service === 'sts') {
    if (kind === 'missing') return new ApiError(403, 'MissingAuthenticationToken', detail)
    if (kind === 'key') return new ApiError(403, 'InvalidClientTokenId', 'The security token included in the request is invalid.')
    return new ApiError(403, 'SignatureDoesNotMatch', detail || signatureMessage)
  }
  const status = refusalStatus(service)
  if (kind === 'missing') return new ApiError(status, 'MissingAuthenticationTokenException', detail)
  if (kind === 'key') return new ApiError(status, 'UnrecognizedClientException', 'The security token included in the request is invalid.')
  return new ApiError(status, 'InvalidSignatureException', detail || signatureMessage)
}

/** The status of an authentication refusal: 400 from the JSON 1.1 services (SSM, ECR, Organizations), 403 from the REST-JSON ones (Lambda, Account). */
function refusalStatus(service: ServiceName): 400 | 403 {
  return service === 'ssm' || service === 'ecr' || service === 'organizations' ? 400 : 403
}
