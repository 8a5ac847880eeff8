// S3 as the SDK speaks it (REST-XML), path-style and virtual-host style: CreateBucket, HeadBucket,
// GetBucketLocation, DeleteBucket, PutObject, HeadObject, GetObject (with Range), DeleteObject,
// ListObjectsV2 and multipart uploads as @aws-sdk/lib-storage drives them. Bodies may arrive plain or
// aws-chunked with checksum trailers; checksums (headers or trailers), Content-MD5 and signed payload
// hashes are verified. Buckets live in one region and belong to one account. Conditional writes as S3
// documents them: PutObject and CompleteMultipartUpload with `If-None-Match: *` or `If-Match: ETAG`,
// DeleteObject with `If-Match` (412 PreconditionFailed, 404 NoSuchKey for If-Match on a missing key,
// 409 ConditionalRequestConflict when the key changed while the request, or the multipart upload,
// was in flight).
import {ApiError, header, md5, serverNow, sha256, tick, token, xmlEscape, type Reply, type RequestContext} from './common.js'
import {algorithmOfHeader, checksum, checksumBytes, CHECKSUM_ALGORITHMS, ChunkedEncodingError, decodeAwsChunked, type ChecksumAlgorithm} from './checksums.js'
import type {ObjectSource} from './lambda.js'
import type {Persistence} from './persist.js'

const NS = 'http://s3.amazonaws.com/doc/2006-03-01/'
const MIN_PART = 5 * 1024 * 1024

interface Bucket {
  name: string
  accountId: string
  region: string
  created: string
}

interface StoredChecksum {
  algorithm: ChecksumAlgorithm
  value: string
  type: 'FULL_OBJECT' | 'COMPOSITE'
}

interface S3Object {
  bucket: string
  key: string
  size: number
  etag: string
  lastModified: number
  contentType: string
  checksum?: StoredChecksum
  metadata: Record<string, string>
}

interface Part {
  etag: string
  body: Buffer
  checksum?: string
}

interface Upload {
  bucket: string
  key: string
  contentType: string
  algorithm?: ChecksumAlgorithm
  metadata: Record<string, string>
  parts: Map<number, Part>
  /** When CreateMultipartUpload arrived: a change of the key after it conflicts with a conditional completion. */
  created: number
}

/** Bucket and key of a request, path-style (/bucket/key) or virtual-host style (bucket.localhost). */
export function s3Target(url: URL, host: string): {bucket?: string; key?: string} {
  const hostname = host.replace(/:\d+$/, '')
  const rawPath = url.pathname
  const virtual = /^(.+)\.localhost$/.exec(hostname)
  if (virtual) {
    const key = rawPath.slice(1)
    return {bucket: virtual[1]!, ...(key ? {key: decodeURIComponent(key)} : {})}
  }
  const match = /^\/([^/]+)(?:\/(.*))?$/.exec(rawPath)
  if (!match) return {}
  return {bucket: decodeURIComponent(match[1]!), ...(match[2] !== undefined && match[2] !== '' ? {key: decodeURIComponent(match[2])} : {})}
}

export function s3Operation(method: string, url: URL, host: string, headers: RequestContext['headers']): string {
  const {bucket, key} = s3Target(url, host)
  const q = url.searchParams
  if (!bucket) return method === 'GET' ? 'ListBuckets' : `${method} /`
  if (key === undefined) {
    if (method === 'PUT') return 'CreateBucket'
    if (method === 'HEAD') return 'HeadBucket'
    if (method === 'DELETE') return 'DeleteBucket'
    if (method === 'GET' && q.has('location')) return 'GetBucketLocation'
    if (method === 'GET' && q.get('list-type') === '2') return 'ListObjectsV2'
    return `${method} bucket?${[...q.keys()].join('&')}`
  }
  if (method === 'PUT' && q.has('uploadId') && q.has('partNumber')) return 'UploadPart'
  if (method === 'PUT' && header(headers, 'x-amz-copy-source')) return 'CopyObject'
  if (method === 'PUT') return 'PutObject'
  if (method === 'HEAD') return 'HeadObject'
  if (method === 'GET' && q.has('uploadId')) return 'ListParts'
  if (method === 'GET') return 'GetObject'
  if (method === 'DELETE' && q.has('uploadId')) return 'AbortMultipartUpload'
  if (method === 'DELETE') return 'DeleteObject'
  if (method === 'POST' && q.has('uploads')) return 'CreateMultipartUpload'
  if (method === 'POST' && q.has('uploadId')) return 'CompleteMultipartUpload'
  return `${method} object?${[...q.keys()].join('&')}`
}

/** S3's error document (HEAD responses carry no body, as from S3). */
export function s3Error(error: ApiError, requestId: string, method: string): Reply {
  const extra = Object.entries(error.extra)
    .map(([name, value]) => `<${name}>${xmlEscape(value)}</${name}>`)
    .join('')
  return {
    status: error.status,
    headers: {'content-type': 'application/xml', 'x-amz-request-id': requestId, ...error.headers},
    body: method === 'HEAD' ? '' : `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${error.code}</Code><Message>${xmlEscape(error.message)}</Message>${extra}<RequestId>${requestId}</RequestId><HostId>${requestId}</HostId></Error>`,
  }
}

function xml(body: string, headers: Record<string, string> = {}): Reply {
  return {status: 200, headers: {'content-type': 'application/xml', ...headers}, body: `<?xml version="1.0" encoding="UTF-8"?>\n${body}`}
}

function httpDate(time: number): string {
  return new Date(time).toUTCString()
}

function isoDate(time: number): string {
  return new Date(time).toISOString()
}

export class S3 implements ObjectSource {
  private readonly buckets = new Map<string, Bucket>()
  private readonly objects = new Map<string, S3Object>()
  private readonly bodies = new Map<string, Buffer>()
  private readonly uploads = new Map<string, Upload>()
  /** Object id -> `tick()` of its last stored change (write or delete), for ConditionalRequestConflict. */
  private readonly changed = new Map<string, number>()

  constructor(private readonly persistence: Persistence) {
    for (const row of persistence.all<Bucket>('s3-bucket')) this.buckets.set(row.id, row.value)
    for (const row of persistence.all<S3Object>('s3-object')) {
      this.objects.set(row.id, row.value)
      this.bodies.set(row.id, row.blob ?? Buffer.alloc(0))
    }
  }

  // ---------------------------------------------------------------- Lambda's view

  readForLambda(accountId: string, region: string, bucketName: string, key: string, version?: string): Buffer {
    const fail = (code: string, message: string): ApiError => new ApiError(400, 'InvalidParameterValueException', `Error occurred while GetObject. S3 Error Code: ${code}. S3 Error Message: ${message}`)
    const bucket = this.buckets.get(bucketName)
    if (!bucket) throw fail('NoSuchBucket', 'The specified bucket does not exist')
    if (bucket.region !== region) throw fail('PermanentRedirect', `The bucket is in this region: ${bucket.region}. Please use this region to retry the request`)
    if (bucket.accountId !== accountId) throw fail('AccessDenied', 'Access Denied')
    const id = objectId(bucketName, key)
    const body = this.bodies.get(id)
    if (!body) throw fail('NoSuchKey', 'The specified key does not exist.')
    if (version !== undefined) throw fail('NoSuchVersion', 'The specified version does not exist.')
    return body
  }

  // ---------------------------------------------------------------- HTTP

  handle(ctx: RequestContext): Reply {
    const host = header(ctx.headers, 'host') ?? ''
    const {bucket: bucketName, key} = s3Target(ctx.url, host)
    if (ctx.operation === 'ListBuckets') return this.listBuckets(ctx)
    if (!bucketName) throw new ApiError(405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.')
    if (ctx.operation === 'CreateBucket') return this.createBucket(ctx, bucketName)
    const bucket = this.bucket(ctx, bucketName)
    switch (ctx.operation) {
      case 'HeadBucket':
        return {status: 200, headers: {'x-amz-bucket-region': bucket.region}}
      case 'GetBucketLocation':
        return xml(`<LocationConstraint xmlns="${NS}">${bucket.region === 'us-east-1' ? '' : bucket.region}</LocationConstraint>`)
      case 'DeleteBucket':
        return this.deleteBucket(bucket)
      case 'ListObjectsV2':
        return this.listObjectsV2(ctx, bucket)
      case 'PutObject':
        return this.putObject(ctx, bucket, key!)
      case 'HeadObject':
      case 'GetObject':
        return this.getObject(ctx, bucket, key!)
      case 'DeleteObject': {
        const id = objectId(bucket.name, key!)
        const ifMatch = header(ctx.headers, 'if-match')
        if (ifMatch !== undefined) this.precondition(id, key!, ctx.received, {ifMatch})
        this.objects.delete(id)
        this.bodies.delete(id)
        this.persistence.remove('s3-object', id)
        this.changed.set(id, tick())
        return {status: 204}
      }
      case 'CreateMultipartUpload':
        return this.createMultipartUpload(ctx, bucket, key!)
      case 'UploadPart':
        return this.uploadPart(ctx, bucket, key!)
      case 'CompleteMultipartUpload':
        return this.completeMultipartUpload(ctx, bucket, key!)
      case 'AbortMultipartUpload': {
        this.upload(ctx, bucket, key!)
        this.uploads.delete(ctx.url.searchParams.get('uploadId')!)
        return {status: 204}
      }
      default:
        throw new ApiError(501, 'NotImplemented', `A header or query you provided implies functionality that is not implemented (${ctx.operation}).`)
    }
  }

  private listBuckets(ctx: RequestContext): Reply {
    const owned = [...this.buckets.values()].filter((bucket) => bucket.accountId === ctx.accountId).sort((a, b) => (a.name < b.name ? -1 : 1))
    const items = owned.map((bucket) => `<Bucket><Name>${xmlEscape(bucket.name)}</Name><CreationDate>${bucket.created}</CreationDate><BucketRegion>${bucket.region}</BucketRegion></Bucket>`).join('')
    return xml(`<ListAllMyBucketsResult xmlns="${NS}"><Owner><ID>${ctx.accountId}</ID></Owner><Buckets>${items}</Buckets></ListAllMyBucketsResult>`)
  }

  /** The bucket a request addresses: it must exist, be the caller's and live in the signing region. */
  private bucket(ctx: RequestContext, name: string): Bucket {
    const bucket = this.buckets.get(name)
    if (!bucket) throw new ApiError(404, 'NoSuchBucket', 'The specified bucket does not exist', {BucketName: name})
    if (bucket.region !== ctx.region) {
      throw new ApiError(301, 'PermanentRedirect', 'The bucket you are attempting to access must be addressed using the specified endpoint. Please send all future requests to this endpoint.', {Endpoint: `${name}.s3.${bucket.region}.amazonaws.com`, Bucket: name}, {'x-amz-bucket-region': bucket.region})
    }
    if (bucket.accountId !== ctx.accountId) throw new ApiError(403, 'AccessDenied', 'Access Denied')
    return bucket
  }

  private createBucket(ctx: RequestContext, name: string): Reply {
    if (name.length < 3 || name.length > 63 || !/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(name) || name.includes('..') || /^\d+\.\d+\.\d+\.\d+$/.test(name)) {
      throw new ApiError(400, 'InvalidBucketName', 'The specified bucket is not valid.', {BucketName: name})
    }
    const text = ctx.body.toString('utf8')
    const constraint = /<LocationConstraint>([^<]*)<\/LocationConstraint>/.exec(text)?.[1]
    const region = constraint || 'us-east-1'
    if (region !== ctx.region) {
      throw new ApiError(400, 'IllegalLocationConstraintException', `The ${constraint ? constraint : 'unspecified'} location constraint is incompatible for the region specific endpoint this request was sent to.`)
    }
    const existing = this.buckets.get(name)
    if (existing) {
      if (existing.accountId === ctx.accountId) throw new ApiError(409, 'BucketAlreadyOwnedByYou', 'Your previous request to create the named bucket succeeded and you already own it.', {BucketName: name})
      throw new ApiError(409, 'BucketAlreadyExists', 'The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.', {BucketName: name})
    }
    const bucket = {name, accountId: ctx.accountId, region, created: isoDate(serverNow())}
    this.buckets.set(name, bucket)
    this.persistence.put('s3-bucket', name, bucket)
    return {status: 200, headers: {location: `/${name}`}}
  }

  private deleteBucket(bucket: Bucket): Reply {
    for (const object of this.objects.values()) {
      if (object.bucket === bucket.name) throw new ApiError(409, 'BucketNotEmpty', 'The bucket you tried to delete is not empty', {BucketName: bucket.name})
    }
    this.buckets.delete(bucket.name)
    this.persistence.remove('s3-bucket', bucket.name)
    return {status: 204}
  }

  /**
   * The payload of an upload request, decoded and verified: aws-chunked framing, the signed payload
   * hash, Content-MD5 and any x-amz-checksum-* header or trailer.
   */
  private payload(ctx: RequestContext): {data: Buffer; checksums: Partial<Record<ChecksumAlgorithm, string>>} {
    const contentSha = header(ctx.headers, 'x-amz-content-sha256') ?? 'UNSIGNED-PAYLOAD'
    const encoding = header(ctx.headers, 'content-encoding') ?? ''
    let data = ctx.body
    const supplied: Record<string, string> = {}
    if (contentSha.startsWith('STREAMING-') || encoding.split(',').map((value) => value.trim()).includes('aws-chunked')) {
      try {
        const decoded = decodeAwsChunked(ctx.body)
        data = decoded.data
        Object.assign(supplied, decoded.trailers)
      } catch (error) {
        if (error instanceof ChunkedEncodingError) throw new ApiError(400, 'IncompleteBody', `You did not provide the number of bytes specified by the Content-Length HTTP header: ${error.message}`)
        throw error
      }
      const declared = header(ctx.headers, 'x-amz-decoded-content-length')
      if (declared !== undefined && Number(declared) !== data.length) {
        throw new ApiError(400, 'IncompleteBody', `You did not provide the number of bytes specified by the x-amz-decoded-content-length header (${declared}, got ${data.length}).`)
      }
      const expected = (header(ctx.headers, 'x-amz-trailer') ?? '').toLowerCase()
      if (expected && supplied[expected] === undefined) throw new ApiError(400, 'MalformedTrailerError', `The request contained trailing data that was not well-formed or did not conform to our published schema: ${expected} missing.`)
    } else if (/^[0-9a-f]{64}$/.test(contentSha) && sha256(data).toString('hex') !== contentSha) {
      throw new ApiError(400, 'XAmzContentSHA256Mismatch', "The provided 'x-amz-content-sha256' header does not match what was computed.", {ClientComputedContentSHA256: contentSha, S3ComputedContentSHA256: sha256(data).toString('hex')})
    }
    const contentMd5 = header(ctx.headers, 'content-md5')
    if (contentMd5 !== undefined && md5(data).toString('base64') !== contentMd5) throw new ApiError(400, 'BadDigest', 'The Content-MD5 you specified did not match what we received.')
    for (const [name, value] of Object.entries(ctx.headers)) {
      if (typeof value === 'string' && algorithmOfHeader(name)) supplied[name] = value
    }
    const checksums: Partial<Record<ChecksumAlgorithm, string>> = {}
    for (const [name, value] of Object.entries(supplied)) {
      const algorithm = algorithmOfHeader(name)
      if (!algorithm) continue
      if (checksum(algorithm, data) !== value) throw new ApiError(400, 'BadDigest', `The ${algorithm} you specified did not match the calculated checksum.`)
      checksums[algorithm] = value
    }
    const declaredAlgorithm = header(ctx.headers, 'x-amz-sdk-checksum-algorithm')?.toUpperCase()
    if (declaredAlgorithm && !(CHECKSUM_ALGORITHMS as readonly string[]).includes(declaredAlgorithm)) {
      throw new ApiError(400, 'InvalidRequest', `Value for x-amz-sdk-checksum-algorithm header is invalid.`)
    }
    return {data, checksums}
  }

  private metadata(ctx: RequestContext): Record<string, string> {
    const out: Record<string, string> = {}
    for (const [name, value] of Object.entries(ctx.headers)) {
      if (name.startsWith('x-amz-meta-') && typeof value === 'string') out[name] = value
    }
    return out
  }

  private store(object: S3Object, body: Buffer): void {
    const id = objectId(object.bucket, object.key)
    this.objects.set(id, object)
    this.bodies.set(id, body)
    this.persistence.put('s3-object', id, object, body)
    this.changed.set(id, tick())
  }

  /** The conditional headers of a write (PutObject, CompleteMultipartUpload) or a conditional delete. */
  private conditions(ctx: RequestContext): {ifMatch?: string; ifNoneMatch?: string} {
    const ifMatch = header(ctx.headers, 'if-match')
    const ifNoneMatch = header(ctx.headers, 'if-none-match')
    return {...(ifMatch !== undefined ? {ifMatch} : {}), ...(ifNoneMatch !== undefined ? {ifNoneMatch} : {})}
  }

  /**
   * Checks a conditional write of object `id` whose request (or multipart upload) began at `since`:
   * a change of the key after that is a conflicting concurrent operation (409, S3 asks to retry);
   * `If-None-Match: *` fails on an existing key, `If-Match` on another ETag (412) or a missing key (404).
   */
  private precondition(id: string, key: string, since: number, conditions: {ifMatch?: string; ifNoneMatch?: string}): void {
    const {ifMatch, ifNoneMatch} = conditions
    if (ifMatch === undefined && ifNoneMatch === undefined) return
    if (ifNoneMatch !== undefined && ifNoneMatch.trim() !== '*') {
      throw new ApiError(501, 'NotImplemented', 'A header you provided implies functionality that is not implemented', {Header: 'If-None-Match'})
    }
    if ((this.changed.get(id) ?? 0) > since) {
      throw new ApiError(409, 'ConditionalRequestConflict', 'A conflicting conditional operation is currently in progress against this resource. Please try again.', {Key: key})
    }
    const object = this.objects.get(id)
    if (ifNoneMatch !== undefined && object) throw new ApiError(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', {Condition: 'If-None-Match'})
    if (ifMatch !== undefined) {
      if (!object) throw new ApiError(404, 'NoSuchKey', 'The specified key does not exist.', {Key: key})
      const unquote = (value: string): string => value.trim().replace(/^"(.*)"$/, '$1')
      if (ifMatch.trim() !== '*' && unquote(ifMatch) !== unquote(object.etag)) {
        throw new ApiError(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', {Condition: 'If-Match'})
      }
    }
  }

  private checksumHeaders(stored: StoredChecksum | undefined): Record<string, string> {
    if (!stored) return {}
    return {[`x-amz-checksum-${stored.algorithm.toLowerCase()}`]: stored.value, 'x-amz-checksum-type': stored.type}
  }

  private putObject(ctx: RequestContext, bucket: Bucket, key: string): Reply {
    if (Buffer.byteLength(key) > 1024) throw new ApiError(400, 'KeyTooLongError', 'Your key is too long')
    const {data, checksums} = this.payload(ctx)
    this.precondition(objectId(bucket.name, key), key, ctx.received, this.conditions(ctx))
    const first = Object.entries(checksums)[0] as [ChecksumAlgorithm, string] | undefined
    const object: S3Object = {
      bucket: bucket.name,
      key,
      size: data.length,
      etag: `"${md5(data).toString('hex')}"`,
      lastModified: serverNow(),
      contentType: header(ctx.headers, 'content-type') ?? 'binary/octet-stream',
      ...(first ? {checksum: {algorithm: first[0], value: first[1], type: 'FULL_OBJECT' as const}} : {}),
      metadata: this.metadata(ctx),
    }
    this.store(object, data)
    return {status: 200, headers: {etag: object.etag, ...this.checksumHeaders(object.checksum)}}
  }

  private getObject(ctx: RequestContext, bucket: Bucket, key: string): Reply {
    const id = objectId(bucket.name, key)
    const object = this.objects.get(id)
    const body = this.bodies.get(id)
    if (!object || !body) throw new ApiError(404, 'NoSuchKey', 'The specified key does not exist.', {Key: key})
    const ifNoneMatch = header(ctx.headers, 'if-none-match')
    if (ifNoneMatch !== undefined && ifNoneMatch === object.etag) return {status: 304, headers: {etag: object.etag}}
    const ifMatch = header(ctx.headers, 'if-match')
    if (ifMatch !== undefined && ifMatch !== object.etag) throw new ApiError(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', {Condition: 'If-Match'})
    const headers: Record<string, string> = {
      etag: object.etag,
      'last-modified': httpDate(object.lastModified),
      'content-type': object.contentType,
      'accept-ranges': 'bytes',
      ...object.metadata,
    }
    let status = 200
    let slice = body
    const range = header(ctx.headers, 'range')
    if (range !== undefined) {
      const match = /^bytes=(\d*)-(\d*)$/.exec(range)
      if (match && (match[1] !== '' || match[2] !== '')) {
        let start = match[1] === '' ? Math.max(0, body.length - Number(match[2])) : Number(match[1])
        let end = match[1] === '' ? body.length - 1 : match[2] === '' ? body.length - 1 : Math.min(Number(match[2]), body.length - 1)
        if (start >= body.length || start > end) {
          throw new ApiError(416, 'InvalidRange', 'The requested range is not satisfiable', {RangeRequested: range, ActualObjectSize: String(body.length)}, {'content-range': `bytes */${body.length}`})
        }
        start = Math.max(0, start)
        end = Math.max(start, end)
        slice = body.subarray(start, end + 1)
        status = 206
        headers['content-range'] = `bytes ${start}-${end}/${body.length}`
      }
    }
    // S3 returns the stored checksum only for whole-object reads with checksum mode enabled.
    if (status === 200 && header(ctx.headers, 'x-amz-checksum-mode') === 'ENABLED') Object.assign(headers, this.checksumHeaders(object.checksum))
    headers['content-length'] = String(slice.length)
    return {status, headers, body: ctx.method === 'HEAD' ? Buffer.alloc(0) : slice}
  }

  private listObjectsV2(ctx: RequestContext, bucket: Bucket): Reply {
    const q = ctx.url.searchParams
    const prefix = q.get('prefix') ?? ''
    const delimiter = q.get('delimiter') ?? ''
    const maxKeysRaw = q.get('max-keys')
    const maxKeys = maxKeysRaw === null ? 1000 : Number(maxKeysRaw)
    if (!Number.isInteger(maxKeys) || maxKeys < 0) throw new ApiError(400, 'InvalidArgument', 'Provided max-keys not an integer or within integer range', {ArgumentName: 'max-keys', ArgumentValue: String(maxKeysRaw)})
    const continuation = q.get('continuation-token')
    let after = q.get('start-after') ?? ''
    if (continuation !== null) {
      const decoded = Buffer.from(continuation, 'base64url').toString('utf8')
      if (!decoded.startsWith('after:')) throw new ApiError(400, 'InvalidArgument', 'The continuation token provided is incorrect', {ArgumentName: 'continuation-token'})
      after = decoded.slice('after:'.length)
    }
    const urlEncode = q.get('encoding-type') === 'url'
    const enc = (value: string): string => xmlEscape(urlEncode ? encodeURIComponent(value).replace(/%2F/g, '/') : value)
    const keys = [...this.objects.values()].filter((object) => object.bucket === bucket.name && object.key.startsWith(prefix)).map((object) => object.key).sort()
    const entries: Array<{key?: string; prefix?: string; last: string}> = []
    const seenPrefixes = new Set<string>()
    for (const key of keys) {
      if (key <= after) continue
      if (delimiter) {
        const cut = key.indexOf(delimiter, prefix.length)
        if (cut !== -1) {
          const common = key.slice(0, cut + delimiter.length)
          if (!seenPrefixes.has(common) && common > after) {
            seenPrefixes.add(common)
            entries.push({prefix: common, last: common + '\uffff'})
          }
          continue
        }
      }
      entries.push({key, last: key})
    }
    const page = entries.slice(0, maxKeys)
    const truncated = entries.length > page.length
    const contents = page
      .filter((entry) => entry.key !== undefined)
      .map((entry) => {
        const object = this.objects.get(objectId(bucket.name, entry.key!))!
        const checksumAlgorithm = object.checksum ? `<ChecksumAlgorithm>${object.checksum.algorithm}</ChecksumAlgorithm><ChecksumType>${object.checksum.type}</ChecksumType>` : ''
        return `<Contents><Key>${enc(object.key)}</Key><LastModified>${isoDate(object.lastModified)}</LastModified><ETag>${xmlEscape(object.etag)}</ETag>${checksumAlgorithm}<Size>${object.size}</Size><StorageClass>STANDARD</StorageClass></Contents>`
      })
      .join('')
    const prefixes = page
      .filter((entry) => entry.prefix !== undefined)
      .map((entry) => `<CommonPrefixes><Prefix>${enc(entry.prefix!)}</Prefix></CommonPrefixes>`)
      .join('')
    const next = truncated ? `<NextContinuationToken>${Buffer.from(`after:${page.at(-1)!.last}`).toString('base64url')}</NextContinuationToken>` : ''
    return xml(
      `<ListBucketResult xmlns="${NS}"><Name>${xmlEscape(bucket.name)}</Name><Prefix>${enc(prefix)}</Prefix>${delimiter ? `<Delimiter>${enc(delimiter)}</Delimiter>` : ''}<MaxKeys>${maxKeys}</MaxKeys>${urlEncode ? '<EncodingType>url</EncodingType>' : ''}<KeyCount>${page.length}</KeyCount><IsTruncated>${truncated}</IsTruncated>${continuation !== null ? `<ContinuationToken>${xmlEscape(continuation)}</ContinuationToken>` : ''}${next}${q.has('start-after') ? `<StartAfter>${enc(q.get('start-after')!)}</StartAfter>` : ''}${contents}${prefixes}</ListBucketResult>`,
    )
  }

  private createMultipartUpload(ctx: RequestContext, bucket: Bucket, key: string): Reply {
    const algorithm = header(ctx.headers, 'x-amz-checksum-algorithm')?.toUpperCase()
    if (algorithm !== undefined && !(CHECKSUM_ALGORITHMS as readonly string[]).includes(algorithm)) {
      throw new ApiError(400, 'InvalidRequest', 'Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]')
    }
    const uploadId = token(24)
    this.uploads.set(uploadId, {
      bucket: bucket.name,
      key,
      contentType: header(ctx.headers, 'content-type') ?? 'binary/octet-stream',
      ...(algorithm ? {algorithm: algorithm as ChecksumAlgorithm} : {}),
      metadata: this.metadata(ctx),
      parts: new Map(),
      created: ctx.received,
    })
    const headers: Record<string, string> = algorithm ? {'x-amz-checksum-algorithm': algorithm, 'x-amz-checksum-type': 'COMPOSITE'} : {}
    return xml(`<InitiateMultipartUploadResult xmlns="${NS}"><Bucket>${xmlEscape(bucket.name)}</Bucket><Key>${xmlEscape(key)}</Key><UploadId>${uploadId}</UploadId></InitiateMultipartUploadResult>`, headers)
  }

  private upload(ctx: RequestContext, bucket: Bucket, key: string): Upload {
    const uploadId = ctx.url.searchParams.get('uploadId') ?? ''
    const upload = this.uploads.get(uploadId)
    if (!upload || upload.bucket !== bucket.name || upload.key !== key) {
      throw new ApiError(404, 'NoSuchUpload', 'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.', {UploadId: uploadId})
    }
    return upload
  }

  private uploadPart(ctx: RequestContext, bucket: Bucket, key: string): Reply {
    const upload = this.upload(ctx, bucket, key)
    const number = Number(ctx.url.searchParams.get('partNumber'))
    if (!Number.isInteger(number) || number < 1 || number > 10000) {
      throw new ApiError(400, 'InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive', {ArgumentName: 'partNumber', ArgumentValue: String(ctx.url.searchParams.get('partNumber'))})
    }
    const {data, checksums} = this.payload(ctx)
    const part: Part = {etag: `"${md5(data).toString('hex')}"`, body: data}
    if (upload.algorithm) {
      part.checksum = checksums[upload.algorithm] ?? checksum(upload.algorithm, data)
    }
    upload.parts.set(number, part)
    return {status: 200, headers: {etag: part.etag, ...(upload.algorithm ? {[`x-amz-checksum-${upload.algorithm.toLowerCase()}`]: part.checksum!} : {})}}
  }

  private completeMultipartUpload(ctx: RequestContext, bucket: Bucket, key: string): Reply {
    const upload = this.upload(ctx, bucket, key)
    const text = ctx.body.toString('utf8')
    const listed = [...text.matchAll(/<Part>([\s\S]*?)<\/Part>/g)].map((match) => {
      const field = (name: string): string | undefined => new RegExp(`<${name}>([^<]*)</${name}>`).exec(match[1]!)?.[1]
      return {number: Number(field('PartNumber')), etag: (field('ETag') ?? '').replace(/&quot;/g, '"'), checksum: upload.algorithm ? field(`Checksum${upload.algorithm}`) : undefined}
    })
    if (listed.length === 0) throw new ApiError(400, 'MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema')
    const parts: Part[] = []
    listed.forEach((entry, index) => {
      if (index > 0 && entry.number <= listed[index - 1]!.number) throw new ApiError(400, 'InvalidPartOrder', 'The list of parts was not in ascending order. Parts must be ordered by part number.', {UploadId: ctx.url.searchParams.get('uploadId')!})
      const part = upload.parts.get(entry.number)
      const quoted = entry.etag.startsWith('"') ? entry.etag : `"${entry.etag}"`
      if (!part || part.etag !== quoted) {
        throw new ApiError(400, 'InvalidPart', 'One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part\'s entity tag.', {UploadId: ctx.url.searchParams.get('uploadId')!, PartNumber: String(entry.number), ETag: entry.etag})
      }
      if (entry.checksum !== undefined && entry.checksum !== part.checksum) {
        throw new ApiError(400, 'InvalidPart', `One or more of the specified parts could not be found. The checksum of part ${entry.number} does not match.`, {PartNumber: String(entry.number)})
      }
      parts.push(part)
    })
    parts.forEach((part, index) => {
      if (index < parts.length - 1 && part.body.length < MIN_PART) {
        throw new ApiError(400, 'EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed object size.', {ProposedSize: String(part.body.length), MinSizeAllowed: String(MIN_PART), PartNumber: String(listed[index]!.number)})
      }
    })
    this.precondition(objectId(bucket.name, key), key, upload.created, this.conditions(ctx))
    const data = Buffer.concat(parts.map((part) => part.body))
    const etag = `"${md5(Buffer.concat(parts.map((part) => Buffer.from(part.etag.slice(1, -1), 'hex')))).toString('hex')}-${parts.length}"`
    const stored: StoredChecksum | undefined = upload.algorithm
      ? {
          algorithm: upload.algorithm,
          value: `${checksumBytes(upload.algorithm, Buffer.concat(parts.map((part) => Buffer.from(part.checksum!, 'base64')))).toString('base64')}-${parts.length}`,
          type: 'COMPOSITE',
        }
      : undefined
    this.store({bucket: bucket.name, key, size: data.length, etag, lastModified: serverNow(), contentType: upload.contentType, ...(stored ? {checksum: stored} : {}), metadata: upload.metadata}, data)
    this.uploads.delete(ctx.url.searchParams.get('uploadId')!)
    const checksumXml = stored ? `<Checksum${stored.algorithm}>${stored.value}</Checksum${stored.algorithm}><ChecksumType>COMPOSITE</ChecksumType>` : ''
    return xml(`<CompleteMultipartUploadResult xmlns="${NS}"><Location>${xmlEscape(`${ctx.endpoint}/${bucket.name}/${key}`)}</Location><Bucket>${xmlEscape(bucket.name)}</Bucket><Key>${xmlEscape(key)}</Key><ETag>${xmlEscape(etag)}</ETag>${checksumXml}</CompleteMultipartUploadResult>`)
  }
}

function objectId(bucket: string, key: string): string {
  return `${bucket}/${key}`
}
