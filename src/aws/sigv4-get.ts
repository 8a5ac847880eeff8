// Owns the SigV4 signature of a bodiless GET (the audit's Lambda reads, src/aws/lambda-rest.ts): the
// headers @smithy/signature-v4's SignatureV4 adds to one (x-amz-date, x-amz-security-token,
// x-amz-content-sha256 of the empty payload, authorization), byte for byte (test/aws/sigv4-get.test.ts
// signs the same requests with both). Written here because SignatureV4 clones the request, sorts and
// re-joins its headers and re-derives the signing key each call once a run has more than 50
// account-regions (its process-wide key cache holds 50): the signature was a fifth of what an audit
// call allocated, and bench/audit/sdk-overhead.mjs prints the CPU per call of both. This one hashes the
// canonical request once and signs it with one HMAC, its signing key kept per day and credentials.
import {createHash, createHmac} from 'node:crypto'
import {escapeUri} from '@smithy/core/protocols'
import type {AwsCredentialIdentity, AwsCredentialIdentityProvider, DateInput, HttpRequest, RequestSigner, RequestSigningArguments} from '@smithy/types'

const ALGORITHM = 'AWS4-HMAC-SHA256'
/** SHA-256 of the empty payload. */
const EMPTY_PAYLOAD_HASH = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'

/** The canonical URI of a non-S3 service: `.` and `..` segments resolved, empty ones dropped, each escaped again. */
export function canonicalPath(path: string): string {
  const segments: string[] = []
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue
    if (segment === '..') segments.pop()
    else segments.push(escapeUri(segment))
  }
  const trailing = segments.length > 0 && path.endsWith('/') ? '/' : ''
  return `${path.startsWith('/') ? '/' : ''}${segments.join('/')}${trailing}`
}

/** The canonical query string: each name and value escaped, sorted by escaped name (an X-Amz-Signature left out). */
export function canonicalQuery(query: Readonly<Record<string, string>>): string {
  const pairs: Array<[string, string]> = []
  for (const name of Object.keys(query)) {
    if (name.toLowerCase() === 'x-amz-signature') continue
    pairs.push([escapeUri(name), escapeUri(query[name]!)])
  }
  pairs.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  return pairs.map(([name, value]) => `${name}=${value}`).join('&')
}

/** A signer of bodiless GETs for one account's credentials, in place of the SDK's SignatureV4. */
export class GetRequestSigner implements RequestSigner {
  private key?: {scope: string; credentials: AwsCredentialIdentity; key: Buffer}

  constructor(
    private readonly credentials: AwsCredentialIdentityProvider,
    private readonly region: string,
    private readonly service: string,
  ) {}

  /** Signs `request` in place (it is made for the one attempt) and gives it back, as SignatureV4.sign gives its copy. */
  async sign(request: HttpRequest, options: RequestSigningArguments = {}): Promise<HttpRequest> {
    if (request.method !== 'GET' || request.body !== undefined) throw new Error(`GetRequestSigner signs bodiless GETs only, not ${request.method} ${request.path}`)
    const credentials = await this.credentials()
    if (typeof credentials?.accessKeyId !== 'string' || typeof credentials.secretAccessKey !== 'string') throw new Error('Resolved credential object is not valid')
    const longDate = dateOf(options.signingDate).toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '')
    const scope = `${longDate.slice(0, 8)}/${options.signingRegion ?? this.region}/${options.signingService ?? this.service}/aws4_request`
    const headers = request.headers
    for (const name of Object.keys(headers)) {
      const lower = name.toLowerCase()
      if (lower === 'authorization' || lower === 'x-amz-date' || lower === 'date') delete headers[name]
    }
    headers['x-amz-date'] = longDate
    if (credentials.sessionToken) headers['x-amz-security-token'] = credentials.sessionToken
    headers['x-amz-content-sha256'] = EMPTY_PAYLOAD_HASH
    const signed = signedHeaders(headers)
    const names = signed.map(([name]) => name).join(';')
    const canonicalRequest = `GET\n${canonicalPath(request.path)}\n${canonicalQuery(request.query as Record<string, string>)}\n${signed.map(([name, value]) => `${name}:${value}\n`).join('')}\n${names}\n${EMPTY_PAYLOAD_HASH}`
    const stringToSign = `${ALGORITHM}\n${longDate}\n${scope}\n${createHash('sha256').update(canonicalRequest).digest('hex')}`
    const signature = createHmac('sha256', this.signingKey(credentials, scope)).update(stringToSign).digest('hex')
    headers.authorization = `${ALGORITHM} Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${names}, Signature=${signature}`
    return request
  }

  /** The key of a day, region and service for these credentials: four HMACs, once until either changes. */
  private signingKey(credentials: AwsCredentialIdentity, scope: string): Buffer {
    const kept = this.key
    if (kept && kept.scope === scope && (kept.credentials === credentials || sameSecret(kept.credentials, credentials))) return kept.key
    let key: Buffer | string = `AWS4${credentials.secretAccessKey}`
    for (const part of scope.split('/')) key = createHmac('sha256', key).update(part).digest()
    this.key = {scope, credentials, key: key as Buffer}
    return key as Buffer
  }
}

/** A signing date as SignatureV4 reads one: a number, or a string of one, is seconds since the epoch. */
function dateOf(input: DateInput | undefined): Date {
  if (input === undefined) return new Date()
  if (typeof input === 'number') return new Date(input * 1000)
  if (typeof input === 'string') return Number(input) ? new Date(Number(input) * 1000) : new Date(input)
  return input
}

function sameSecret(a: AwsCredentialIdentity, b: AwsCredentialIdentity): boolean {
  return a.accessKeyId === b.accessKeyId && a.secretAccessKey === b.secretAccessKey && a.sessionToken === b.sessionToken
}

/** The signed headers, lower-cased and sorted, with their values trimmed as SigV4 wants; hop-by-hop and agent headers are not signed. */
function signedHeaders(headers: Readonly<Record<string, string | undefined>>): Array<[string, string]> {
  const signed: Array<[string, string]> = []
  for (const name of Object.keys(headers)) {
    const value = headers[name]
    if (value == undefined) continue
    const lower = name.toLowerCase()
    if (UNSIGNED_HEADERS.has(lower) || lower.startsWith('proxy-') || lower.startsWith('sec-')) continue
    signed.push([lower, value.replace(/[\r\n]/g, ' ').replace(/[ \t]+/g, ' ').replace(/^ | $/g, '')])
  }
  return signed.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
}

/** Headers SigV4 signers leave unsigned (a proxy or the agent may change them on the way). */
const UNSIGNED_HEADERS = new Set(['authorization', 'cache-control', 'connection', 'expect', 'from', 'keep-alive', 'max-forwards', 'pragma', 'referer', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'user-agent', 'x-amzn-trace-id'])
