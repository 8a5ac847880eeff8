// Lambda's control plane as the REST-JSON API reference describes it: layer versions (publish from a
// zip or an S3 object, get, get by ARN, list with Marker/MaxItems and runtime/architecture filters,
// delete, resource policies for sharing) and functions (create, get, get configuration, update
// configuration and code with RevisionId preconditions and LastUpdateStatus InProgress -> Successful,
// list 50 a page, delete; published versions and aliases in lambda-versions.ts; container image
// functions, PackageType Image, with their ImageUri checked in lambda-images.ts). Errors carry the status, X-Amzn-ErrorType and body AWS sends, so the SDK
// raises the same exception classes. Runtimes past AWS's block dates are refused for creating and
// updating functions; an update can be made to fail (LastUpdateStatus Failed, the previous
// configuration kept) with the `failUpdates` option.
import {Architecture, Runtime} from '@aws-sdk/client-lambda'
import {partitionOf} from './auth.js'
import {ApiError, awsDate, revisionId, serverNow, sha256, token, type Reply, type RequestContext} from './common.js'
import {FunctionVersions, VERSION_ROUTES} from './lambda-versions.js'
import {checkImageConfig, resolveImage, type FunctionImage, type ImageSource} from './lambda-images.js'
import {checkTags, stackTags, TAG_ROUTES, taggedFunctionRef, untag} from './lambda-tags.js'
import type {Persistence} from './persist.js'
import {LambdaQuotas, type QuotaSetting} from './quotas.js'
import {unzippedSize} from './zip.js'

export const MAX_UNZIPPED = 262_144_000
/** Requests must be smaller than this: 50 MiB (52,428,800 bytes) of ZipFile in base64 (a larger zip comes from S3). */
const MAX_INLINE_REQUEST = 69_905_067
const RUNTIMES = new Set<string>(Object.values(Runtime))
const ARCHITECTURES = new Set<string>(Object.values(Architecture))
const LAYER_NAME = /^(arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\d{12}:layer:[a-zA-Z0-9-_]+|[a-zA-Z0-9-_]+)$/
const LAYER_VERSION_ARN = /^arn:[a-zA-Z0-9-]+:lambda:([a-zA-Z0-9-]+):(\d{12}):layer:([a-zA-Z0-9-_]+):([0-9]+)$/
const FUNCTION_NAME = /^(?:arn:(?:aws[a-zA-Z-]*)?:lambda:([a-z]{2}(?:-gov)?-[a-z]+-\d{1}):)?(?:(\d{12}):)?(?:function:)?([a-zA-Z0-9-_]+)(?::(\$LATEST|[a-zA-Z0-9-_]+))?$/
const ROLE = /^arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role\/?[a-zA-Z_0-9+=,.@\-_/]+$/

/**
 * AWS's block dates (YYYY-MM-DD, UTC) for deprecated runtimes: from then on CreateFunction (`create`)
 * and any update of a function on the runtime (`update`) are refused. From the Lambda runtimes page's
 * "Deprecated runtimes" table as checked in October 2026 (AWS moved several dates since 2024); the
 * runtimes retired before that table are blocked for both since their deprecation.
 */
export const RUNTIME_BLOCK_DATES: Readonly<Record<string, {create: string; update: string}>> = {
  nodejs: {create: '2016-10-31', update: '2016-10-31'},
  'nodejs4.3': {create: '2020-03-05', update: '2020-03-05'},
  'nodejs4.3-edge': {create: '2020-03-05', update: '2020-03-05'},
  'nodejs6.10': {create: '2019-08-12', update: '2019-08-12'},
  'nodejs8.10': {create: '2020-01-06', update: '2020-02-03'},
  'nodejs10.x': {create: '2021-07-30', update: '2021-08-30'},
  'nodejs12.x': {create: '2023-03-31', update: '2023-04-30'},
  'nodejs14.x': {create: '2024-01-09', update: '2027-08-31'},
  'nodejs16.x': {create: '2027-07-29', update: '2027-08-31'},
  'nodejs18.x': {create: '2027-07-29', update: '2027-08-31'},
  'nodejs20.x': {create: '2027-07-29', update: '2027-08-31'},
  'nodejs22.x': {create: '2027-06-01', update: '2027-07-01'},
  'python2.7': {create: '2021-07-15', update: '2022-05-30'},
  'python3.6': {create: '2022-07-18', update: '2022-08-29'},
  'python3.7': {create: '2024-01-09', update: '2027-08-31'},
  'python3.8': {create: '2027-07-29', update: '2027-08-31'},
  'python3.9': {create: '2027-07-29', update: '2027-08-31'},
  'python3.10': {create: '2027-07-29', update: '2027-08-31'},
  'python3.11': {create: '2027-07-29', update: '2027-08-31'},
  java8: {create: '2024-02-08', update: '2027-08-31'},
  'java8.al2': {create: '2027-07-29', update: '2027-08-31'},
  java11: {create: '2027-07-29', update: '2027-08-31'},
  java17: {create: '2027-07-29', update: '2027-08-31'},
  'dotnetcore1.0': {create: '2019-07-30', update: '2019-07-30'},
  'dotnetcore2.0': {create: '2019-05-30', update: '2019-05-30'},
  'dotnetcore2.1': {create: '2022-01-05', update: '2022-01-05'},
  'dotnetcore3.1': {create: '2023-04-03', update: '2023-05-03'},
  dotnet6: {create: '2027-07-29', update: '2027-08-31'},
  dotnet8: {create: '2027-07-29', update: '2027-08-31'},
  'ruby2.5': {create: '2021-07-30', update: '2021-08-30'},
  'ruby2.7': {create: '2023-12-07', update: '2024-01-09'},
  'ruby3.2': {create: '2027-07-29', update: '2027-08-31'},
  'ruby3.3': {create: '2027-07-29', update: '2027-08-31'},
  'go1.x': {create: '2024-02-08', update: '2027-08-31'},
  provided: {create: '2024-02-08', update: '2027-08-31'},
  'provided.al2': {create: '2027-07-29', update: '2027-08-31'},
}

export interface LambdaOptions {
  updateDelayMs: number
  organizations: Record<string, string>
  /** Function (`name` or `accountId/region/name`) -> LastUpdateStatusReason: its next update ends Failed. */
  failUpdates?: Record<string, string>
  /** The day (YYYY-MM-DD) runtime block dates are compared with; default today (UTC). */
  today?: string
  /** Function (`name` or `accountId/region/name`) -> the CloudFormation stack that created it (lambda-tags.ts). */
  stacks?: Record<string, string>
  /** The API request quotas in force (faults.quotas); none: not enforced. */
  quotas?: () => QuotaSetting | undefined
  /** Where ImageUri images are looked up (the ECR double, lambda-images.ts); none: no image exists. */
  images?: ImageSource
}

/** Where PublishLayerVersion/CreateFunction read S3 content from (the S3 side of this server). */
export interface ObjectSource {
  /** The object's bytes as Lambda, calling as `accountId` in `region`, would get them; throws ApiError. */
  readForLambda(accountId: string, region: string, bucket: string, key: string, version?: string): Buffer
}

/** Bytes served at code/content Location URLs. */
export interface BlobStore {
  get(id: string): Buffer | undefined
  set(id: string, bytes: Buffer): void
  delete(id: string): void
}

interface Statement {
  sid: string
  principal: string
  organizationId?: string
  action: string
}

interface LayerVersion {
  accountId: string
  region: string
  name: string
  version: number
  description?: string
  licenseInfo?: string
  runtimes?: string[]
  architectures?: string[]
  createdDate: string
  codeSha256: string
  codeSize: number
  unzippedSize: number
  contentId: string
  deleted: boolean
  policy?: {revisionId: string; statements: Statement[]}
}

interface LayerRecord {
  accountId: string
  region: string
  name: string
  /** Highest version number ever published: numbers are never reused. */
  latest: number
  versions: LayerVersion[]
}

interface FunctionRecord {
  accountId: string
  region: string
  name: string
  runtime?: string
  role: string
  handler?: string
  description: string
  timeout: number
  memorySize: number
  environment?: Record<string, string>
  architectures: string[]
  layers: string[]
  tags?: Record<string, string>
  /** Absent in records saved before image functions: Zip. */
  packageType?: 'Zip' | 'Image'
  /** The container image of an Image function. */
  image?: FunctionImage
  codeSha256: string
  codeSize: number
  unzippedSize: number
  contentId: string
  revisionId: string
  lastModified: string
  state: 'Pending' | 'Active'
  lastUpdateStatus: 'InProgress' | 'Successful' | 'Failed'
  lastUpdateStatusReason?: string
  /** Set while an update that is to fail is in progress: the configuration to go back to. */
  failing?: {reason: string; previous: Pick<FunctionRecord, ConfigField>}
  /** Epoch ms when the pending create or in-progress update completes. */
  busyUntil: number
}

const CONFIG_FIELDS = ['layers', 'runtime', 'role', 'handler', 'description', 'timeout', 'memorySize', 'environment', 'image'] as const
type ConfigField = (typeof CONFIG_FIELDS)[number]

interface Route {
  method: string
  pattern: RegExp
  operation: string
}

const ROUTES: Route[] = [
  {method: 'POST', pattern: /^\/2018-10-31\/layers\/([^/]+)\/versions$/, operation: 'PublishLayerVersion'},
  {method: 'GET', pattern: /^\/2018-10-31\/layers\/([^/]+)\/versions\/([^/]+)$/, operation: 'GetLayerVersion'},
  {method: 'DELETE', pattern: /^\/2018-10-31\/layers\/([^/]+)\/versions\/([^/]+)$/, operation: 'DeleteLayerVersion'},
  {method: 'GET', pattern: /^\/2018-10-31\/layers\/([^/]+)\/versions$/, operation: 'ListLayerVersions'},
  {method: 'POST', pattern: /^\/2018-10-31\/layers\/([^/]+)\/versions\/([^/]+)\/policy$/, operation: 'AddLayerVersionPermission'},
  {method: 'GET', pattern: /^\/2018-10-31\/layers\/([^/]+)\/versions\/([^/]+)\/policy$/, operation: 'GetLayerVersionPolicy'},
  {method: 'DELETE', pattern: /^\/2018-10-31\/layers\/([^/]+)\/versions\/([^/]+)\/policy\/([^/]+)$/, operation: 'RemoveLayerVersionPermission'},
  {method: 'GET', pattern: /^\/2018-10-31\/layers$/, operation: 'ListLayers'},
  {method: 'POST', pattern: /^\/2015-03-31\/functions$/, operation: 'CreateFunction'},
  {method: 'GET', pattern: /^\/2015-03-31\/functions$/, operation: 'ListFunctions'},
  {method: 'GET', pattern: /^\/2015-03-31\/functions\/([^/]+)$/, operation: 'GetFunction'},
  {method: 'DELETE', pattern: /^\/2015-03-31\/functions\/([^/]+)$/, operation: 'DeleteFunction'},
  {method: 'GET', pattern: /^\/2015-03-31\/functions\/([^/]+)\/configuration$/, operation: 'GetFunctionConfiguration'},
  {method: 'PUT', pattern: /^\/2015-03-31\/functions\/([^/]+)\/configuration$/, operation: 'UpdateFunctionConfiguration'},
  {method: 'PUT', pattern: /^\/2015-03-31\/functions\/([^/]+)\/code$/, operation: 'UpdateFunctionCode'},
  ...VERSION_ROUTES,
  ...TAG_ROUTES,
]

/** The operation a request names, and its path labels (URL-decoded). */
export function lambdaRoute(method: string, url: URL): {operation: string; labels: string[]} {
  const path = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, '') : url.pathname
  for (const route of ROUTES) {
    const match = route.pattern.exec(path)
    if (!match || route.method !== method) continue
    const operation = route.operation === 'ListLayers' && url.searchParams.get('find') === 'LayerVersion' ? 'GetLayerVersionByArn' : route.operation
    return {operation, labels: match.slice(1).map((label) => decodeURIComponent(label))}
  }
  return {operation: `${method} ${path}`, labels: []}
}

function validation(problems: string[]): ApiError {
  return new ApiError(400, 'ValidationException', `${problems.length} validation error${problems.length > 1 ? 's' : ''} detected: ${problems.join('; ')}`)
}

function invalid(message: string): ApiError {
  return new ApiError(400, 'InvalidParameterValueException', message)
}

function notFound(message: string): ApiError {
  return new ApiError(404, 'ResourceNotFoundException', message)
}

function json(status: number, body?: unknown): Reply {
  return {status, headers: {'content-type': 'application/json'}, body: body === undefined ? '' : JSON.stringify(body)}
}

/** Lambda's error document: X-Amzn-ErrorType names the exception, the body carries Type and message. */
export function lambdaError(error: ApiError, requestId: string): Reply {
  const type = error.status >= 500 ? 'Service' : 'User'
  return {
    status: error.status,
    headers: {'content-type': 'application/json', 'x-amzn-errortype': error.code, 'x-amzn-requestid': requestId, ...error.headers},
    body: JSON.stringify({Type: type, message: error.message, Message: error.message, ...error.extra}),
  }
}

function encodeMarker(value: string): string {
  return Buffer.from(JSON.stringify({after: value})).toString('base64url')
}

function decodeMarker(marker: string | null): string | undefined {
  if (marker === null || marker === '') return undefined
  try {
    const parsed = JSON.parse(Buffer.from(marker, 'base64url').toString('utf8')) as {after?: unknown}
    if (typeof parsed.after === 'string') return parsed.after
  } catch {
    // fall through
  }
  throw invalid(`Invalid marker: ${marker}`)
}

function maxItems(url: URL, max: number): number {
  const raw = url.searchParams.get('MaxItems')
  if (raw === null) return max
  const value = Number(raw)
  if (!Number.isInteger(value) || value < 1) throw validation([`Value '${raw}' at 'maxItems' failed to satisfy constraint: Member must have value greater than or equal to 1`])
  if (value > max && max === 50) throw validation([`Value '${raw}' at 'maxItems' failed to satisfy constraint: Member must have value less than or equal to 50`])
  return Math.min(value, 50)
}

export class Lambda {
  private readonly layers = new Map<string, LayerRecord>()
  private readonly functions = new Map<string, FunctionRecord>()
  /** failUpdates entries already used (each fails one update). */
  private readonly failed = new Set<string>()
  /** Published versions and aliases (lambda-versions.ts). */
  private readonly versions: FunctionVersions<FunctionRecord>
  private readonly quotas = new LambdaQuotas()

  constructor(
    private readonly persistence: Persistence,
    private readonly blobs: BlobStore,
    private readonly objects: ObjectSource,
    private readonly options: LambdaOptions,
  ) {
    for (const row of persistence.all<LayerRecord>('lambda-layer')) {
      this.layers.set(row.id, row.value)
      for (const version of row.value.versions) {
        const blob = persistence.all<null>(`lambda-layer-content/${row.id}/${version.version}`)[0]?.blob
        if (blob) blobs.set(version.contentId, blob)
      }
    }
    for (const row of persistence.all<FunctionRecord>('lambda-function')) {
      this.functions.set(row.id, row.value)
      if (row.blob) blobs.set(row.value.contentId, row.blob)
    }
    this.versions = new FunctionVersions<FunctionRecord>(persistence, {
      find: (ctx, raw) => this.findFunction(ctx, raw),
      qualifierOf: (ctx, raw) => this.parseFunctionName(ctx, raw).qualifier,
      configuration: (fn) => this.configurationOut(fn),
      blob: (id) => blobs.get(id),
      storeBlob: (id, bytes) => blobs.set(id, bytes),
      deleteBlob: (id) => blobs.delete(id),
    })
  }

  async handle(ctx: RequestContext): Promise<Reply> {
    this.quotas.configure(this.options.quotas?.())
    this.quotas.admit(ctx.accountId, ctx.region, ctx.operation)
    return this.apply(ctx)
  }

  /** Answers a call without taking from its quota (index.ts's direct calls: seeding, not a client). */
  async apply(ctx: RequestContext): Promise<Reply> {
    const {operation, labels} = lambdaRoute(ctx.method, ctx.url)
    const body = this.parseBody(ctx)
    switch (operation) {
      case 'PublishLayerVersion':
        return json(201, await this.publishLayerVersion(ctx, labels[0]!, body))
      case 'GetLayerVersion':
        return json(200, this.layerVersionOut(this.readableVersion(ctx, labels[0]!, labels[1]!), ctx))
      case 'GetLayerVersionByArn':
        return json(200, this.layerVersionOut(this.readableVersionByArn(ctx), ctx))
      case 'ListLayerVersions':
        return json(200, this.listLayerVersions(ctx, labels[0]!))
      case 'ListLayers':
        return json(200, this.listLayers(ctx))
      case 'DeleteLayerVersion':
        this.deleteLayerVersion(ctx, labels[0]!, labels[1]!)
        return json(204)
      case 'AddLayerVersionPermission':
        return json(201, this.addLayerVersionPermission(ctx, labels[0]!, labels[1]!, body))
      case 'GetLayerVersionPolicy':
        return json(200, this.getLayerVersionPolicy(ctx, labels[0]!, labels[1]!))
      case 'RemoveLayerVersionPermission':
        this.removeLayerVersionPermission(ctx, labels[0]!, labels[1]!, labels[2]!)
        return json(204)
      case 'CreateFunction':
        return json(201, await this.createFunction(ctx, body))
      case 'GetFunction': {
        const {record, configuration, fn} = this.versions.resolve(ctx, labels[0]!)
        return json(200, {
          Configuration: configuration,
          Code: record.image
            ? {RepositoryType: 'ECR', ImageUri: record.image.uri, ResolvedImageUri: record.image.resolved}
            : {RepositoryType: 'S3', Location: `${ctx.endpoint}/__aws-test-server/content/${record.contentId}`},
          ...(fn.tags ? {Tags: fn.tags} : {}),
        })
      }
      case 'GetFunctionConfiguration':
        return json(200, this.versions.resolve(ctx, labels[0]!).configuration)
      case 'UpdateFunctionConfiguration':
        return json(200, this.updateFunctionConfiguration(ctx, labels[0]!, body))
      case 'UpdateFunctionCode':
        return json(200, await this.updateFunctionCode(ctx, labels[0]!, body))
      case 'ListFunctions':
        return json(200, this.listFunctions(ctx))
      case 'DeleteFunction': {
        if (this.versions.deleteQualified(ctx, labels[0]!)) return json(204)
        const fn = this.findFunction(ctx, labels[0]!)
        this.versions.forget(fn)
        const key = functionKey(fn.accountId, fn.region, fn.name)
        this.functions.delete(key)
        this.persistence.remove('lambda-function', key)
        this.blobs.delete(fn.contentId)
        return json(204)
      }
      case 'ListTags':
        return json(200, {Tags: this.taggedFunction(ctx, labels[0]!).tags ?? {}})
      case 'TagResource':
      case 'UntagResource': {
        const fn = this.taggedFunction(ctx, labels[0]!)
        fn.tags = operation === 'TagResource' ? checkTags(body.Tags, fn.tags) : untag(ctx, fn.tags ?? {})
        this.saveFunction(fn)
        return json(204)
      }
      default: {
        if (!FunctionVersions.owns(operation)) throw new ApiError(404, 'UnknownOperationException', `Unknown operation ${operation}`)
        const reply = this.versions.handle(ctx, operation, labels, body)
        return json(reply.status, reply.body)
      }
    }
  }

  private parseBody(ctx: RequestContext): Record<string, unknown> {
    // Lambda's front end answers RequestEntityTooLargeException (HTTP 413), not the modelled RequestTooLargeException.
    if (ctx.body.length >= MAX_INLINE_REQUEST) {
      throw new ApiError(413, 'RequestEntityTooLargeException', `Request must be smaller than ${MAX_INLINE_REQUEST} bytes for the ${ctx.operation} operation`)
    }
    if (ctx.body.length === 0) return {}
    try {
      const parsed: unknown = JSON.parse(ctx.body.toString('utf8'))
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>
    } catch {
      // fall through
    }
    throw new ApiError(400, 'InvalidRequestContentException', 'Could not parse request body into json: Could not parse payload into json')
  }

  private denied(ctx: RequestContext, action: string, resource: string, because = ''): ApiError {
    return new ApiError(403, 'AccessDeniedException', `User: ${ctx.callerArn} is not authorized to perform: lambda:${action} on resource: ${resource}${because}`)
  }

  // ---------------------------------------------------------------- layers

  /** Resolves a LayerName (name or layer ARN) to its owner and region. */
  private layerRef(ctx: RequestContext, layerName: string): {accountId: string; region: string; name: string; arn: string} {
    if (layerName.length > 140 || !LAYER_NAME.test(layerName)) {
      throw validation([`Value '${layerName}' at 'layerName' failed to satisfy constraint: Member must satisfy regular expression pattern: (arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\\d{12}:layer:[a-zA-Z0-9-_]+)|[a-zA-Z0-9-_]+`])
    }
    const arn = /^arn:([a-zA-Z0-9-]+):lambda:([a-zA-Z0-9-]+):(\d{12}):layer:([a-zA-Z0-9-_]+)$/.exec(layerName)
    // An ARN whose partition is not its region's names nothing.
    if (arn && arn[1] !== partitionOf(arn[2]!)) throw notFound('The resource you requested does not exist.')
    const accountId = arn ? arn[3]! : ctx.accountId
    const region = arn ? arn[2]! : ctx.region
    const name = arn ? arn[4]! : layerName
    return {accountId, region, name, arn: `arn:${partitionOf(region)}:lambda:${region}:${accountId}:layer:${name}`}
  }

  private versionNumber(raw: string): number {
    const version = Number(raw)
    if (!/^\d+$/.test(raw) || !Number.isSafeInteger(version)) throw validation([`Value '${raw}' at 'versionNumber' failed to satisfy constraint: Member must be a number`])
    return version
  }

  private findVersion(accountId: string, region: string, name: string, version: number): LayerVersion | undefined {
    return this.layers.get(functionKey(accountId, region, name))?.versions.find((entry) => entry.version === version)
  }

  /** Whether `accountId` may use the layer version: its owner, or granted by the version's policy. */
  private canRead(version: LayerVersion, accountId: string): boolean {
    if (version.accountId === accountId) return true
    return (version.policy?.statements ?? []).some((statement) => {
      if (statement.principal === '*') return statement.organizationId === undefined || this.options.organizations[accountId] === statement.organizationId
      return statement.principal === accountId || statement.principal === `arn:${partitionOf(version.region)}:iam::${accountId}:root`
    })
  }

  /** A live version the caller may read (GetLayerVersion). */
  private readableVersion(ctx: RequestContext, layerName: string, rawVersion: string): LayerVersion {
    const ref = this.layerRef(ctx, layerName)
    const number = this.versionNumber(rawVersion)
    const version = ref.region === ctx.region ? this.findVersion(ref.accountId, ref.region, ref.name, number) : undefined
    const arn = `${ref.arn}:${number}`
    if (ref.accountId !== ctx.accountId && (!version || version.deleted || !this.canRead(version, ctx.accountId))) {
      throw this.denied(ctx, 'GetLayerVersion', arn, ' because no resource-based policy allows the lambda:GetLayerVersion action')
    }
    if (!version || version.deleted) throw notFound('The resource you requested does not exist.')
    return version
  }

  private readableVersionByArn(ctx: RequestContext): LayerVersion {
    const arn = ctx.url.searchParams.get('Arn') ?? ''
    const match = LAYER_VERSION_ARN.exec(arn)
    if (!match || arn.length > 140) {
      throw validation([`Value '${arn}' at 'arn' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\\d{12}:layer:[a-zA-Z0-9-_]+:[0-9]+`])
    }
    return this.readableVersion(ctx, arn.slice(0, arn.lastIndexOf(':')), match[4]!)
  }

  /** A version of the caller's own layer, for the write operations. */
  private ownVersion(ctx: RequestContext, layerName: string, rawVersion: string, action: string): LayerVersion {
    const ref = this.layerRef(ctx, layerName)
    const number = this.versionNumber(rawVersion)
    if (ref.accountId !== ctx.accountId) throw this.denied(ctx, action, `${ref.arn}:${number}`)
    const version = ref.region === ctx.region ? this.findVersion(ref.accountId, ref.region, ref.name, number) : undefined
    if (!version || version.deleted) throw notFound(`Layer version ${ref.arn}:${number} does not exist.`)
    return version
  }

  private layerVersionOut(version: LayerVersion, ctx: RequestContext): Record<string, unknown> {
    const layerArn = `arn:${partitionOf(version.region)}:lambda:${version.region}:${version.accountId}:layer:${version.name}`
    return {
      Content: {Location: `${ctx.endpoint}/__aws-test-server/content/${version.contentId}`, CodeSha256: version.codeSha256, CodeSize: version.codeSize},
      LayerArn: layerArn,
      LayerVersionArn: `${layerArn}:${version.version}`,
      ...(version.description !== undefined ? {Description: version.description} : {}),
      CreatedDate: version.createdDate,
      Version: version.version,
      ...(version.runtimes ? {CompatibleRuntimes: version.runtimes} : {}),
      ...(version.licenseInfo !== undefined ? {LicenseInfo: version.licenseInfo} : {}),
      ...(version.architectures ? {CompatibleArchitectures: version.architectures} : {}),
    }
  }

  private listItem(version: LayerVersion): Record<string, unknown> {
    return {
      LayerVersionArn: `arn:${partitionOf(version.region)}:lambda:${version.region}:${version.accountId}:layer:${version.name}:${version.version}`,
      Version: version.version,
      ...(version.description !== undefined ? {Description: version.description} : {}),
      CreatedDate: version.createdDate,
      ...(version.runtimes ? {CompatibleRuntimes: version.runtimes} : {}),
      ...(version.licenseInfo !== undefined ? {LicenseInfo: version.licenseInfo} : {}),
      ...(version.architectures ? {CompatibleArchitectures: version.architectures} : {}),
    }
  }

  private validateLayerMeta(body: Record<string, unknown>): {runtimes?: string[]; architectures?: string[]; description?: string; licenseInfo?: string} {
    const problems: string[] = []
    const runtimes = body.CompatibleRuntimes as string[] | undefined
    const architectures = body.CompatibleArchitectures as string[] | undefined
    const description = body.Description as string | undefined
    const licenseInfo = body.LicenseInfo as string | undefined
    if (runtimes !== undefined) {
      if (!Array.isArray(runtimes)) problems.push(`Value at 'compatibleRuntimes' failed to satisfy constraint: Member must be a list`)
      else {
        if (runtimes.length > 15) problems.push(`Value '[${runtimes.join(', ')}]' at 'compatibleRuntimes' failed to satisfy constraint: Member must have length less than or equal to 15`)
        runtimes.forEach((runtime, index) => {
          if (!RUNTIMES.has(runtime)) problems.push(`Value '${runtime}' at 'compatibleRuntimes.${index + 1}.member' failed to satisfy constraint: Member must satisfy enum value set: [${[...RUNTIMES].join(', ')}]`)
        })
      }
    }
    if (architectures !== undefined) {
      if (!Array.isArray(architectures)) problems.push(`Value at 'compatibleArchitectures' failed to satisfy constraint: Member must be a list`)
      else {
        if (architectures.length > 2) problems.push(`Value '[${architectures.join(', ')}]' at 'compatibleArchitectures' failed to satisfy constraint: Member must have length less than or equal to 2`)
        architectures.forEach((architecture, index) => {
          if (!ARCHITECTURES.has(architecture)) problems.push(`Value '${architecture}' at 'compatibleArchitectures.${index + 1}.member' failed to satisfy constraint: Member must satisfy enum value set: [x86_64, arm64]`)
        })
      }
    }
    if (description !== undefined && (typeof description !== 'string' || description.length > 256)) {
      problems.push(`Value '${String(description)}' at 'description' failed to satisfy constraint: Member must have length less than or equal to 256`)
    }
    if (licenseInfo !== undefined && (typeof licenseInfo !== 'string' || licenseInfo.length > 512)) {
      problems.push(`Value '${String(licenseInfo)}' at 'licenseInfo' failed to satisfy constraint: Member must have length less than or equal to 512`)
    }
    if (problems.length > 0) throw validation(problems)
    return {
      ...(runtimes && runtimes.length > 0 ? {runtimes} : {}),
      ...(architectures && architectures.length > 0 ? {architectures} : {}),
      ...(description !== undefined ? {description} : {}),
      ...(licenseInfo !== undefined ? {licenseInfo} : {}),
    }
  }

  /** The zip bytes of a Content/Code member: inline ZipFile (base64) or an S3 object. */
  private codeBytes(ctx: RequestContext, content: Record<string, unknown> | undefined, member: string): Buffer {
    if (!content || typeof content !== 'object') throw validation([`Value null at '${member}' failed to satisfy constraint: Member must not be null`])
    if (typeof content.ZipFile === 'string') {
      if (content.S3Bucket !== undefined || content.S3Key !== undefined) throw invalid('Please do not provide other FunctionCode properties when providing a ZipFile.')
      return Buffer.from(content.ZipFile, 'base64')
    }
    if (typeof content.S3Bucket === 'string' && typeof content.S3Key === 'string') {
      return this.objects.readForLambda(ctx.accountId, ctx.region, content.S3Bucket, content.S3Key, typeof content.S3ObjectVersion === 'string' ? content.S3ObjectVersion : undefined)
    }
    throw invalid('Please provide a source for the code: either a ZipFile or an S3Bucket and S3Key.')
  }

  private async publishLayerVersion(ctx: RequestContext, layerName: string, body: Record<string, unknown>): Promise<Record<string, unknown>> {
    const ref = this.layerRef(ctx, layerName)
    if (ref.accountId !== ctx.accountId || ref.region !== ctx.region) throw this.denied(ctx, 'PublishLayerVersion', ref.arn)
    const meta = this.validateLayerMeta(body)
    const zip = this.codeBytes(ctx, body.Content as Record<string, unknown> | undefined, 'content')
    const size = await unzippedSize(zip)
    if (size === undefined) throw invalid('Uploaded file must be a non-empty zip')
    if (size >= MAX_UNZIPPED) throw invalid(`Unzipped size must be smaller than ${MAX_UNZIPPED} bytes`)
    const key = functionKey(ref.accountId, ref.region, ref.name)
    const record = this.layers.get(key) ?? {accountId: ref.accountId, region: ref.region, name: ref.name, latest: 0, versions: []}
    record.latest += 1
    const version: LayerVersion = {
      accountId: ref.accountId,
      region: ref.region,
      name: ref.name,
      version: record.latest,
      ...meta,
      createdDate: awsDate(serverNow()),
      codeSha256: sha256(zip).toString('base64'),
      codeSize: zip.length,
      unzippedSize: size,
      contentId: token(),
      deleted: false,
    }
    record.versions.push(version)
    this.layers.set(key, record)
    this.blobs.set(version.contentId, zip)
    this.persistence.put(`lambda-layer-content/${key}/${version.version}`, 'zip', null, zip)
    this.saveLayer(key)
    return this.layerVersionOut(version, ctx)
  }

  private saveLayer(key: string): void {
    const record = this.layers.get(key)
    if (record) this.persistence.put('lambda-layer', key, record)
  }

  private filters(ctx: RequestContext): {runtime?: string; architecture?: string} {
    const runtime = ctx.url.searchParams.get('CompatibleRuntime') ?? undefined
    const architecture = ctx.url.searchParams.get('CompatibleArchitecture') ?? undefined
    const problems: string[] = []
    if (runtime !== undefined && !RUNTIMES.has(runtime)) problems.push(`Value '${runtime}' at 'compatibleRuntime' failed to satisfy constraint: Member must satisfy enum value set: [${[...RUNTIMES].join(', ')}]`)
    if (architecture !== undefined && !ARCHITECTURES.has(architecture)) problems.push(`Value '${architecture}' at 'compatibleArchitecture' failed to satisfy constraint: Member must satisfy enum value set: [x86_64, arm64]`)
    if (problems.length > 0) throw validation(problems)
    return {...(runtime ? {runtime} : {}), ...(architecture ? {architecture} : {})}
  }

  private matches(version: LayerVersion, filter: {runtime?: string; architecture?: string}): boolean {
    if (version.deleted) return false
    if (filter.runtime && !(version.runtimes ?? []).includes(filter.runtime)) return false
    if (filter.architecture && !(version.architectures ?? []).includes(filter.architecture)) return false
    return true
  }

  private listLayerVersions(ctx: RequestContext, layerName: string): Record<string, unknown> {
    const ref = this.layerRef(ctx, layerName)
    const filter = this.filters(ctx)
    const limit = maxItems(ctx.url, 50)
    const after = decodeMarker(ctx.url.searchParams.get('Marker'))
    if (ref.accountId !== ctx.accountId) throw this.denied(ctx, 'ListLayerVersions', ref.arn)
    const record = ref.region === ctx.region ? this.layers.get(functionKey(ref.accountId, ref.region, ref.name)) : undefined
    const all = (record?.versions ?? []).filter((version) => this.matches(version, filter)).sort((a, b) => b.version - a.version)
    const start = after === undefined ? 0 : all.findIndex((version) => version.version < Number(after))
    const page = start === -1 ? [] : all.slice(start, start + limit)
    const more = start !== -1 && start + limit < all.length
    return {LayerVersions: page.map((version) => this.listItem(version)), ...(more ? {NextMarker: encodeMarker(String(page.at(-1)!.version))} : {})}
  }

  private listLayers(ctx: RequestContext): Record<string, unknown> {
    const filter = this.filters(ctx)
    const limit = maxItems(ctx.url, 50)
    const after = decodeMarker(ctx.url.searchParams.get('Marker'))
    const all: Array<{name: string; latest: LayerVersion}> = []
    for (const record of this.layers.values()) {
      if (record.accountId !== ctx.accountId || record.region !== ctx.region) continue
      const latest = record.versions.filter((version) => this.matches(version, filter)).sort((a, b) => b.version - a.version)[0]
      if (latest) all.push({name: record.name, latest})
    }
    all.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    const start = after === undefined ? 0 : all.findIndex((entry) => entry.name > after)
    const page = start === -1 ? [] : all.slice(start, start + limit)
    const more = start !== -1 && start + limit < all.length
    return {
      Layers: page.map((entry) => ({
        LayerName: entry.name,
        LayerArn: `arn:${partitionOf(ctx.region)}:lambda:${ctx.region}:${ctx.accountId}:layer:${entry.name}`,
        LatestMatchingVersion: this.listItem(entry.latest),
      })),
      ...(more ? {NextMarker: encodeMarker(page.at(-1)!.name)} : {}),
    }
  }

  private deleteLayerVersion(ctx: RequestContext, layerName: string, rawVersion: string): void {
    const ref = this.layerRef(ctx, layerName)
    const number = this.versionNumber(rawVersion)
    if (ref.accountId !== ctx.accountId) throw this.denied(ctx, 'DeleteLayerVersion', `${ref.arn}:${number}`)
    // AWS answers 204 whether or not the version exists.
    const version = ref.region === ctx.region ? this.findVersion(ref.accountId, ref.region, ref.name, number) : undefined
    if (!version || version.deleted) return
    version.deleted = true
    delete version.policy
    this.saveLayer(functionKey(ref.accountId, ref.region, ref.name))
  }

  private checkPolicyRevision(ctx: RequestContext, version: LayerVersion): void {
    const expected = ctx.url.searchParams.get('RevisionId')
    if (expected !== null && expected !== version.policy?.revisionId) {
      throw new ApiError(412, 'PreconditionFailedException', 'The RevisionId provided does not match the latest RevisionId for the Lambda function or alias. Call the GetFunction or the GetAlias API operation to retrieve the latest RevisionId for your resource.')
    }
  }

  private statementJson(version: LayerVersion, statement: Statement): Record<string, unknown> {
    const principal = statement.principal === '*' ? '*' : {AWS: /^\d{12}$/.test(statement.principal) ? `arn:${partitionOf(version.region)}:iam::${statement.principal}:root` : statement.principal}
    return {
      Sid: statement.sid,
      Effect: 'Allow',
      Principal: principal,
      Action: statement.action,
      Resource: `arn:${partitionOf(version.region)}:lambda:${version.region}:${version.accountId}:layer:${version.name}:${version.version}`,
      ...(statement.organizationId ? {Condition: {StringEquals: {'aws:PrincipalOrgID': statement.organizationId}}} : {}),
    }
  }

  private addLayerVersionPermission(ctx: RequestContext, layerName: string, rawVersion: string, body: Record<string, unknown>): Record<string, unknown> {
    const problems: string[] = []
    const sid = body.StatementId
    const action = body.Action
    const principal = body.Principal
    const organizationId = body.OrganizationId
    if (typeof sid !== 'string') problems.push("Value null at 'statementId' failed to satisfy constraint: Member must not be null")
    else if (!/^[a-zA-Z0-9-_]{1,100}$/.test(sid)) problems.push(`Value '${sid}' at 'statementId' failed to satisfy constraint: Member must satisfy regular expression pattern: ([a-zA-Z0-9-_]+)`)
    if (typeof action !== 'string') problems.push("Value null at 'action' failed to satisfy constraint: Member must not be null")
    else if (action !== 'lambda:GetLayerVersion') problems.push(`Value '${action}' at 'action' failed to satisfy constraint: Member must satisfy regular expression pattern: lambda:GetLayerVersion`)
    if (typeof principal !== 'string') problems.push("Value null at 'principal' failed to satisfy constraint: Member must not be null")
    else if (!/^(\d{12}|\*|arn:(aws[a-zA-Z-]*):iam::\d{12}:root)$/.test(principal)) problems.push(`Value '${principal}' at 'principal' failed to satisfy constraint: Member must satisfy regular expression pattern: \\d{12}|\\*|arn:(aws[a-zA-Z-]*):iam::\\d{12}:root`)
    if (organizationId !== undefined && (typeof organizationId !== 'string' || !/^o-[a-z0-9]{10,32}$/.test(organizationId))) {
      problems.push(`Value '${String(organizationId)}' at 'organizationId' failed to satisfy constraint: Member must satisfy regular expression pattern: o-[a-z0-9]{10,32}`)
    }
    if (problems.length > 0) throw validation(problems)
    if (organizationId !== undefined && principal !== '*') throw invalid('OrganizationId can only be specified when Principal is "*".')
    const version = this.ownVersion(ctx, layerName, rawVersion, 'AddLayerVersionPermission')
    this.checkPolicyRevision(ctx, version)
    const statements = version.policy?.statements ?? []
    if (statements.some((entry) => entry.sid === sid)) {
      throw new ApiError(409, 'ResourceConflictException', `The statement id (${sid as string}) provided already exists. Please provide a new statement id, or remove the existing statement.`)
    }
    const statement: Statement = {sid: sid as string, principal: principal as string, action: action as string, ...(organizationId ? {organizationId: organizationId as string} : {})}
    version.policy = {revisionId: revisionId(), statements: [...statements, statement]}
    this.saveLayer(functionKey(version.accountId, version.region, version.name))
    return {Statement: JSON.stringify(this.statementJson(version, statement)), RevisionId: version.policy.revisionId}
  }

  private getLayerVersionPolicy(ctx: RequestContext, layerName: string, rawVersion: string): Record<string, unknown> {
    const version = this.ownVersion(ctx, layerName, rawVersion, 'GetLayerVersionPolicy')
    if (!version.policy || version.policy.statements.length === 0) throw notFound('No policy is associated with the given resource.')
    const policy = {Version: '2012-10-17', Id: 'default', Statement: version.policy.statements.map((statement) => this.statementJson(version, statement))}
    return {Policy: JSON.stringify(policy), RevisionId: version.policy.revisionId}
  }

  private removeLayerVersionPermission(ctx: RequestContext, layerName: string, rawVersion: string, sid: string): void {
    const version = this.ownVersion(ctx, layerName, rawVersion, 'RemoveLayerVersionPermission')
    this.checkPolicyRevision(ctx, version)
    const statements = version.policy?.statements ?? []
    if (!statements.some((entry) => entry.sid === sid)) throw notFound(`Statement ${sid} is not found in resource policy.`)
    version.policy = {revisionId: revisionId(), statements: statements.filter((entry) => entry.sid !== sid)}
    this.saveLayer(functionKey(version.accountId, version.region, version.name))
  }

  // ---------------------------------------------------------------- functions

  /** Brings a function whose pending create or update has run its course to Active/Successful. */
  private settle(fn: FunctionRecord): FunctionRecord {
    if ((fn.state === 'Pending' || fn.lastUpdateStatus === 'InProgress') && serverNow() >= fn.busyUntil) {
      fn.state = 'Active'
      fn.lastUpdateStatus = 'Successful'
      delete fn.lastUpdateStatusReason
      if (fn.failing) {
        // Lambda aborts a failed update: the function keeps its previous configuration.
        const previous = fn.failing.previous
        for (const field of CONFIG_FIELDS) if (!(field in previous)) delete (fn as Partial<FunctionRecord>)[field]
        Object.assign(fn, previous)
        fn.lastUpdateStatus = 'Failed'
        fn.lastUpdateStatusReason = fn.failing.reason
        delete fn.failing
      }
      fn.revisionId = revisionId()
      this.saveFunction(fn)
    }
    return fn
  }

  private saveFunction(fn: FunctionRecord, code?: Buffer): void {
    this.persistence.put('lambda-function', functionKey(fn.accountId, fn.region, fn.name), fn, code)
  }

  private functionArn(fn: {region: string; accountId: string; name: string}): string {
    return `arn:${partitionOf(fn.region)}:lambda:${fn.region}:${fn.accountId}:function:${fn.name}`
  }

  private parseFunctionName(ctx: RequestContext, raw: string): {accountId: string; region: string; name: string; qualifier?: string} {
    const match = raw.length <= 170 ? FUNCTION_NAME.exec(raw) : null
    if (!match) {
      throw validation([`Value '${raw}' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?`])
    }
    return {region: match[1] ?? ctx.region, accountId: match[2] ?? ctx.accountId, name: match[3]!, ...(match[4] === undefined ? {} : {qualifier: match[4]})}
  }

  /** The function a tagging call names by its ARN (lambda-tags.ts). */
  private taggedFunction(ctx: RequestContext, resource: string): FunctionRecord {
    const ref = taggedFunctionRef(ctx, resource)
    const fn = this.functions.get(functionKey(ref.accountId, ref.region, ref.name))
    if (!fn) throw notFound(`Function not found: ${resource}`)
    return fn
  }

  private findFunction(ctx: RequestContext, raw: string): FunctionRecord {
    const ref = this.parseFunctionName(ctx, raw)
    if (ref.accountId !== ctx.accountId) {
      throw this.denied(ctx, ctx.operation, this.functionArn(ref), ` because no resource-based policy allows the lambda:${ctx.operation} action`)
    }
    const fn = ref.region === ctx.region ? this.functions.get(functionKey(ref.accountId, ref.region, ref.name)) : undefined
    if (!fn) throw notFound(`Function not found: ${this.functionArn(ref)}`)
    return this.settle(fn)
  }

  private configurationOut(fn: FunctionRecord): Record<string, unknown> {
    return {
      FunctionName: fn.name,
      FunctionArn: this.functionArn(fn),
      ...(fn.runtime ? {Runtime: fn.runtime} : {}),
      Role: fn.role,
      ...(fn.handler ? {Handler: fn.handler} : {}),
      CodeSize: fn.codeSize,
      Description: fn.description,
      Timeout: fn.timeout,
      MemorySize: fn.memorySize,
      LastModified: fn.lastModified,
      CodeSha256: fn.codeSha256,
      Version: '$LATEST',
      ...(fn.environment ? {Environment: {Variables: fn.environment}} : {}),
      TracingConfig: {Mode: 'PassThrough'},
      RevisionId: fn.revisionId,
      ...(fn.layers.length > 0 ? {Layers: fn.layers.map((arn) => ({Arn: arn, CodeSize: this.layerByArn(arn)?.codeSize ?? 0}))} : {}),
      State: fn.state,
      ...(fn.state === 'Pending' ? {StateReason: 'The function is being created.', StateReasonCode: 'Creating'} : {}),
      LastUpdateStatus: fn.lastUpdateStatus,
      ...(fn.lastUpdateStatus === 'InProgress' ? {LastUpdateStatusReason: 'The function is being updated.', LastUpdateStatusReasonCode: 'InProgress'} : {}),
      ...(fn.lastUpdateStatus === 'Failed' ? {LastUpdateStatusReason: fn.lastUpdateStatusReason ?? '', LastUpdateStatusReasonCode: 'InvalidConfiguration'} : {}),
      PackageType: fn.packageType ?? 'Zip',
      ...(fn.image?.config ? {ImageConfigResponse: {ImageConfig: fn.image.config}} : {}),
      Architectures: fn.architectures,
      EphemeralStorage: {Size: 512},
      SnapStart: {ApplyOn: 'None', OptimizationStatus: 'Off'},
      LoggingConfig: {LogFormat: 'Text', LogGroup: `/aws/lambda/${fn.name}`},
    }
  }

  private layerByArn(arn: string): LayerVersion | undefined {
    const match = LAYER_VERSION_ARN.exec(arn)
    if (!match || !arn.startsWith(`arn:${partitionOf(match[1]!)}:`)) return undefined
    return this.findVersion(match[2]!, match[1]!, match[3]!, Number(match[4]))
  }

  /** Validates a function's Layers list the way Lambda does; returns the layer versions. */
  private checkLayers(ctx: RequestContext, layers: unknown): string[] {
    if (!Array.isArray(layers)) throw validation([`Value at 'layers' failed to satisfy constraint: Member must be a list`])
    const bad = layers.some((arn: unknown) => typeof arn !== 'string' || arn.length < 1 || arn.length > 140 || !LAYER_VERSION_ARN.test(arn))
    if (bad) {
      throw validation([
        `Value '[${layers.map(String).join(', ')}]' at 'layers' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to 140, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: (arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\\d{12}:layer:[a-zA-Z0-9-_]+:[0-9]+)|(arn:[a-zA-Z0-9-]+:lambda:::awslayer:[a-zA-Z0-9-_]+)]`,
      ])
    }
    const arns = layers as string[]
    if (arns.length > 5) throw invalid('Cannot reference more than 5 layers.')
    const seen = new Map<string, string>()
    for (const arn of arns) {
      const [, region, accountId, name] = LAYER_VERSION_ARN.exec(arn)! as unknown as [string, string, string, string, string]
      if (region !== ctx.region) throw invalid(`Layers are not in the same region as the function. Layers are expected to be in region ${ctx.region}.`)
      const version = this.layerByArn(arn)
      if (accountId !== ctx.accountId && (!version || version.deleted || !this.canRead(version, ctx.accountId))) {
        throw this.denied(ctx, 'GetLayerVersion', arn, ' because no resource-based policy allows the lambda:GetLayerVersion action')
      }
      if (!version || version.deleted) throw invalid(`Layer version ${arn} does not exist.`)
      const layer = `${accountId}:${name}`
      const other = seen.get(layer)
      if (other !== undefined) throw invalid(`Two different versions of the same layer are not allowed to be referenced in the same function. ${other} and ${arn} are versions of the same layer.`)
      seen.set(layer, arn)
    }
    return arns
  }

  private checkTotalSize(codeUnzipped: number, layers: string[]): void {
    // Versions the function already uses still count, even if deleted since.
    const total = codeUnzipped + layers.reduce((sum, arn) => sum + (this.layerByArn(arn)?.unzippedSize ?? 0), 0)
    if (total > MAX_UNZIPPED) {
      throw invalid(`Function code combined with layers exceeds the maximum allowed size of ${MAX_UNZIPPED} bytes. The actual size is ${total} bytes.`)
    }
  }

  private checkConfig(body: Record<string, unknown>): void {
    const problems: string[] = []
    if (body.Runtime !== undefined && !RUNTIMES.has(String(body.Runtime))) problems.push(`Value '${String(body.Runtime)}' at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: [${[...RUNTIMES].join(', ')}]`)
    if (body.Role !== undefined && (typeof body.Role !== 'string' || !ROLE.test(body.Role))) problems.push(`Value '${String(body.Role)}' at 'role' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+`)
    if (body.Timeout !== undefined && !(Number.isInteger(body.Timeout) && (body.Timeout as number) >= 1)) problems.push(`Value '${String(body.Timeout)}' at 'timeout' failed to satisfy constraint: Member must have value greater than or equal to 1`)
    if (body.MemorySize !== undefined && !(Number.isInteger(body.MemorySize) && (body.MemorySize as number) >= 128 && (body.MemorySize as number) <= 10240)) problems.push(`Value '${String(body.MemorySize)}' at 'memorySize' failed to satisfy constraint: Member must have value greater than or equal to 128`)
    if (body.Description !== undefined && (typeof body.Description !== 'string' || body.Description.length > 256)) problems.push(`Value '${String(body.Description)}' at 'description' failed to satisfy constraint: Member must have length less than or equal to 256`)
    if (body.Architectures !== undefined) {
      const list = body.Architectures as unknown[]
      if (!Array.isArray(list) || list.length !== 1 || !ARCHITECTURES.has(String(list[0]))) problems.push(`Value '[${Array.isArray(list) ? list.join(', ') : String(list)}]' at 'architectures' failed to satisfy constraint: Member must have length less than or equal to 1`)
    }
    if (problems.length > 0) throw validation(problems)
    if (body.Timeout !== undefined && (body.Timeout as number) > 900) throw invalid(`Timeout must be less than or equal to 900 seconds.`)
  }

  private async createFunction(ctx: RequestContext, body: Record<string, unknown>): Promise<Record<string, unknown>> {
    const name = body.FunctionName
    if (typeof name !== 'string') throw validation(["Value null at 'functionName' failed to satisfy constraint: Member must not be null"])
    if (typeof body.Role !== 'string') throw validation(["Value null at 'role' failed to satisfy constraint: Member must not be null"])
    this.checkConfig(body)
    const ref = this.parseFunctionName(ctx, name)
    if (ref.accountId !== ctx.accountId || ref.region !== ctx.region) throw this.denied(ctx, 'CreateFunction', this.functionArn(ref))
    const key = functionKey(ref.accountId, ref.region, ref.name)
    if (this.functions.has(key)) throw new ApiError(409, 'ResourceConflictException', `Function already exist: ${ref.name}`)
    if (body.PackageType !== undefined && body.PackageType !== 'Zip' && body.PackageType !== 'Image') {
      throw validation([`Value '${String(body.PackageType)}' at 'packageType' failed to satisfy constraint: Member must satisfy enum value set: [Image, Zip]`])
    }
    const code = body.PackageType === 'Image' ? await this.createImageCode(ctx, body) : await this.createZipCode(ctx, body)
    // The code was read asynchronously: another create of the name may have landed meanwhile.
    if (this.functions.has(key)) throw new ApiError(409, 'ResourceConflictException', `Function already exist: ${ref.name}`)
    const layers = body.Layers === undefined ? [] : this.checkLayers(ctx, body.Layers)
    this.checkTotalSize(code.size, layers)
    const tags = {...(body.Tags === undefined ? {} : checkTags(body.Tags)), ...stackTags(ref, this.options.stacks)}
    const now = serverNow()
    const fn: FunctionRecord = {
      accountId: ref.accountId,
      region: ref.region,
      name: ref.name,
      ...(typeof body.Runtime === 'string' ? {runtime: body.Runtime} : {}),
      role: body.Role,
      ...(typeof body.Handler === 'string' ? {handler: body.Handler} : {}),
      description: typeof body.Description === 'string' ? body.Description : '',
      timeout: typeof body.Timeout === 'number' ? body.Timeout : 3,
      memorySize: typeof body.MemorySize === 'number' ? body.MemorySize : 128,
      ...(body.Environment && typeof body.Environment === 'object' ? {environment: ((body.Environment as {Variables?: Record<string, string>}).Variables ?? {})} : {}),
      architectures: Array.isArray(body.Architectures) ? (body.Architectures as string[]) : ['x86_64'],
      layers,
      ...(Object.keys(tags).length > 0 ? {tags} : {}),
      ...('image' in code ? {packageType: 'Image' as const, image: code.image, codeSha256: code.codeSha256, codeSize: 0} : {codeSha256: sha256(code.zip).toString('base64'), codeSize: code.zip.length}),
      unzippedSize: code.size,
      contentId: token(),
      revisionId: revisionId(),
      lastModified: awsDate(now),
      state: 'Pending',
      lastUpdateStatus: 'Successful',
      busyUntil: now + this.options.updateDelayMs,
    }
    this.functions.set(key, fn)
    if ('zip' in code) this.blobs.set(fn.contentId, code.zip)
    this.saveFunction(fn, 'zip' in code ? code.zip : undefined)
    return this.configurationOut(fn)
  }

  /** CreateFunction's zip (PackageType Zip, the default): runtime and handler required, no image fields. */
  private async createZipCode(ctx: RequestContext, body: Record<string, unknown>): Promise<{zip: Buffer; size: number}> {
    if (typeof body.Runtime !== 'string') throw invalid('Runtime is required for functions with a Zip package type.')
    this.checkRuntimeBlock(body.Runtime, 'create')
    if (typeof body.Handler !== 'string' && !String(body.Runtime).startsWith('provided')) throw invalid('Handler is required for functions with a Zip package type.')
    const code = body.Code as Record<string, unknown> | undefined
    if (code && typeof code === 'object' && code.ImageUri !== undefined) throw invalid("Please don't provide ImageUri when the intended function PackageType is Zip.")
    if (body.ImageConfig !== undefined) throw invalid("Please don't provide ImageConfig when the intended function PackageType is Zip.")
    const zip = this.codeBytes(ctx, code, 'code')
    return {zip, size: await this.checkedUnzippedSize(zip)}
  }

  /** CreateFunction's container image (PackageType Image): an ImageUri Lambda can read; no runtime, handler or layers (the image has them). */
  private async createImageCode(ctx: RequestContext, body: Record<string, unknown>): Promise<{image: FunctionImage; codeSha256: string; size: number}> {
    if (body.Runtime !== undefined || body.Handler !== undefined || (Array.isArray(body.Layers) && body.Layers.length > 0)) {
      throw invalid("Please don't provide Handler or Runtime or Layer when the intended function PackageType is Image.")
    }
    const code = body.Code as Record<string, unknown> | undefined
    if (!code || typeof code !== 'object') throw validation(["Value null at 'code' failed to satisfy constraint: Member must not be null"])
    if (code.ZipFile !== undefined || code.S3Bucket !== undefined || code.S3Key !== undefined) throw invalid("Please don't provide ZipFile or S3Bucket or S3Key when the intended function PackageType is Image.")
    if (code.ImageUri === undefined) throw invalid('Please provide ImageUri when the intended function PackageType is Image.')
    const config = body.ImageConfig === undefined ? undefined : checkImageConfig(body.ImageConfig)
    const image = await resolveImage(this.options.images, ctx, code.ImageUri)
    return {image: {uri: image.uri, resolved: image.resolved, ...(config ? {config} : {})}, codeSha256: image.digest.slice('sha256:'.length), size: 0}
  }

  /** The unzipped size of function code, refused as Lambda refuses a zip it cannot open or one too large. */
  private async checkedUnzippedSize(zip: Buffer): Promise<number> {
    const size = await unzippedSize(zip)
    if (size === undefined) throw invalid('Could not unzip uploaded file. Please check your file, then try to upload again.')
    if (size >= MAX_UNZIPPED) throw invalid(`Unzipped size must be smaller than ${MAX_UNZIPPED} bytes`)
    return size
  }

  /** InvalidParameterValueException for a runtime past its block date for creating (or updating) functions. */
  private checkRuntimeBlock(runtime: string | undefined, kind: 'create' | 'update'): void {
    const blocked = runtime === undefined ? undefined : RUNTIME_BLOCK_DATES[runtime]?.[kind]
    const today = this.options.today ?? new Date(serverNow()).toISOString().slice(0, 10)
    if (blocked !== undefined && today >= blocked) {
      throw invalid(`The runtime parameter of ${runtime} is no longer supported for creating or updating AWS Lambda functions. We recommend you use a supported runtime while creating or updating functions.`)
    }
  }

  /** Refuses a change while the function is being created or updated, or when RevisionId is stale. */
  private beginUpdate(fn: FunctionRecord, body: Record<string, unknown>): void {
    if (fn.state === 'Pending') {
      throw new ApiError(409, 'ResourceConflictException', 'The operation cannot be performed at this time. The function is currently in the following state: Pending')
    }
    if (fn.lastUpdateStatus === 'InProgress') {
      throw new ApiError(409, 'ResourceConflictException', `The operation cannot be performed at this time. An update is in progress for resource: ${this.functionArn(fn)}`)
    }
    if (body.RevisionId !== undefined && body.RevisionId !== fn.revisionId) {
      throw new ApiError(412, 'PreconditionFailedException', 'The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id')
    }
  }

  /** The configuration an update that is to fail (options.failUpdates, once per function) goes back to. */
  private failureFor(fn: FunctionRecord): FunctionRecord['failing'] {
    const fail = this.options.failUpdates ?? {}
    const key = [functionKey(fn.accountId, fn.region, fn.name), fn.name].find((candidate) => Object.hasOwn(fail, candidate) && !this.failed.has(`${candidate}\0${functionKey(fn.accountId, fn.region, fn.name)}`))
    if (key === undefined) return undefined
    this.failed.add(`${key}\0${functionKey(fn.accountId, fn.region, fn.name)}`)
    const previous = structuredClone(Object.fromEntries(CONFIG_FIELDS.filter((field) => fn[field] !== undefined).map((field) => [field, fn[field]]))) as Pick<FunctionRecord, ConfigField>
    return {reason: fail[key]!, previous}
  }

  private markUpdated(fn: FunctionRecord, failing?: FunctionRecord['failing']): void {
    const now = serverNow()
    if (failing) fn.failing = failing
    fn.lastUpdateStatus = 'InProgress'
    fn.busyUntil = now + this.options.updateDelayMs
    fn.revisionId = revisionId()
    fn.lastModified = awsDate(now)
  }

  private updateFunctionConfiguration(ctx: RequestContext, raw: string, body: Record<string, unknown>): Record<string, unknown> {
    const fn = this.findFunction(ctx, raw)
    this.checkConfig(body)
    this.beginUpdate(fn, body)
    this.checkRuntimeBlock(fn.runtime, 'update')
    if (typeof body.Runtime === 'string') this.checkRuntimeBlock(body.Runtime, 'update')
    const config = this.checkConfigForPackage(fn, body)
    const layers = body.Layers === undefined ? fn.layers : this.checkLayers(ctx, body.Layers)
    this.checkTotalSize(fn.unzippedSize, layers)
    const failing = this.failureFor(fn)
    fn.layers = layers
    if (config) fn.image = {...fn.image!, config}
    if (typeof body.Runtime === 'string') fn.runtime = body.Runtime
    if (typeof body.Role === 'string') fn.role = body.Role
    if (typeof body.Handler === 'string') fn.handler = body.Handler
    if (typeof body.Description === 'string') fn.description = body.Description
    if (typeof body.Timeout === 'number') fn.timeout = body.Timeout
    if (typeof body.MemorySize === 'number') fn.memorySize = body.MemorySize
    if (body.Environment && typeof body.Environment === 'object') fn.environment = (body.Environment as {Variables?: Record<string, string>}).Variables ?? {}
    this.markUpdated(fn, failing)
    this.saveFunction(fn)
    return this.configurationOut(fn)
  }

  /**
   * What UpdateFunctionConfiguration may change for the function's package type: an Image function
   * takes no layers, runtime or handler (the image has them) and may change its ImageConfig; a Zip
   * function has no ImageConfig. Returns the new ImageConfig, if one is given.
   */
  private checkConfigForPackage(fn: FunctionRecord, body: Record<string, unknown>): FunctionImage['config'] | undefined {
    if (fn.packageType !== 'Image') {
      if (body.ImageConfig !== undefined) throw invalid("Please don't provide ImageConfig when updating a function with packageType Zip.")
      return undefined
    }
    if (Array.isArray(body.Layers) && body.Layers.length > 0) throw invalid('Lambda layers are not supported for functions created with container images.')
    if (body.Runtime !== undefined || body.Handler !== undefined) throw invalid("Please don't provide Handler or Runtime or Layer when the intended function PackageType is Image.")
    return body.ImageConfig === undefined ? undefined : checkImageConfig(body.ImageConfig)
  }

  private async updateFunctionCode(ctx: RequestContext, raw: string, body: Record<string, unknown>): Promise<Record<string, unknown>> {
    const fn = this.findFunction(ctx, raw)
    this.checkConfig({...(body.Architectures !== undefined ? {Architectures: body.Architectures} : {})})
    this.beginUpdate(fn, body)
    if (fn.packageType === 'Image') return this.updateImageCode(ctx, fn, body)
    if (body.ImageUri !== undefined) throw invalid("Please don't provide ImageUri when updating a function with packageType Zip.")
    this.checkRuntimeBlock(fn.runtime, 'update')
    const zip = this.codeBytes(ctx, body, 'code')
    const size = await this.checkedUnzippedSize(zip)
    this.checkTotalSize(size, fn.layers)
    // The zip was read asynchronously: another update may have begun meanwhile.
    this.beginUpdate(fn, body)
    this.blobs.delete(fn.contentId)
    fn.contentId = token()
    fn.codeSha256 = sha256(zip).toString('base64')
    fn.codeSize = zip.length
    fn.unzippedSize = size
    if (Array.isArray(body.Architectures)) fn.architectures = body.Architectures as string[]
    this.blobs.set(fn.contentId, zip)
    this.markUpdated(fn)
    this.saveFunction(fn, zip)
    return this.configurationOut(fn)
  }

  /** UpdateFunctionCode of an Image function: a new ImageUri (resolved to its digest now), never a zip. */
  private async updateImageCode(ctx: RequestContext, fn: FunctionRecord, body: Record<string, unknown>): Promise<Record<string, unknown>> {
    if (body.ImageUri === undefined) throw invalid('Please provide ImageUri when updating a function with packageType Image.')
    const image = await resolveImage(this.options.images, ctx, body.ImageUri)
    // The image was looked up asynchronously: another update may have begun meanwhile.
    this.beginUpdate(fn, body)
    fn.image = {...fn.image, uri: image.uri, resolved: image.resolved}
    fn.codeSha256 = image.digest.slice('sha256:'.length)
    if (Array.isArray(body.Architectures)) fn.architectures = body.Architectures as string[]
    this.markUpdated(fn)
    this.saveFunction(fn)
    return this.configurationOut(fn)
  }

  private listFunctions(ctx: RequestContext): Record<string, unknown> {
    const raw = ctx.url.searchParams.get('MaxItems')
    if (raw !== null && !(Number.isInteger(Number(raw)) && Number(raw) >= 1 && Number(raw) <= 10000)) {
      throw validation([`Value '${raw}' at 'maxItems' failed to satisfy constraint: Member must have value ${Number(raw) < 1 ? 'greater than or equal to 1' : 'less than or equal to 10000'}`])
    }
    const limit = Math.min(raw === null ? 50 : Number(raw), 50)
    const after = decodeMarker(ctx.url.searchParams.get('Marker'))
    const all = [...this.functions.values()].filter((fn) => fn.accountId === ctx.accountId && fn.region === ctx.region).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    const start = after === undefined ? 0 : all.findIndex((fn) => fn.name > after)
    const page = start === -1 ? [] : all.slice(start, start + limit)
    const more = start !== -1 && start + limit < all.length
    return {Functions: page.map((fn) => this.configurationOut(this.settle(fn))), ...(more ? {NextMarker: encodeMarker(page.at(-1)!.name)} : {})}
  }
}

function functionKey(accountId: string, region: string, name: string): string {
  return `${accountId}/${region}/${name}`
}

