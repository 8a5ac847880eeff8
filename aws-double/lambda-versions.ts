// Published function versions and aliases, as the Lambda API reference describes them: PublishVersion
// (CodeSha256 and RevisionId preconditions; nothing changed since the last published version: that
// version is returned, no new one), ListVersionsByFunction ($LATEST then the versions, Marker/MaxItems),
// the Qualifier of GetFunction/GetFunctionConfiguration (a version number, $LATEST or an alias name,
// also as the `name:qualifier` form of FunctionName), CreateAlias/UpdateAlias (RoutingConfig: one
// additional version, weight 0..1), GetAlias, ListAliases (FunctionVersion filter, Marker/MaxItems),
// DeleteAlias, and DeleteFunction with a Qualifier (a version no alias routes to). A published version
// is an immutable snapshot of $LATEST (code, runtime, layers and the rest of the configuration); it
// keeps its own copy of the code, so later updates of $LATEST do not touch it. lambda.ts owns the
// functions themselves and hands this module the calls it needs (FunctionHooks).
import {partitionOf} from './auth.js'
import {ApiError, revisionId, token, type RequestContext} from './common.js'
import type {Persistence} from './persist.js'

/** The part of lambda.ts's function record a version snapshots (the record itself, cloned). */
export interface SnapshotSource {
  accountId: string
  region: string
  name: string
  description: string
  codeSha256: string
  contentId: string
  revisionId: string
  state: string
  lastUpdateStatus: string
}

export interface FunctionHooks<F extends SnapshotSource> {
  /** The function (settled) that `raw` names, throwing as Lambda does when there is none. */
  find(ctx: RequestContext, raw: string): F
  /** The qualifier written into FunctionName (`name:1`, or a qualified ARN), if any. */
  qualifierOf(ctx: RequestContext, raw: string): string | undefined
  /** The FunctionConfiguration document of a function record (or of a version snapshot). */
  configuration(fn: F): Record<string, unknown>
  /** The code bytes of a content id, and storing bytes under a new one. */
  blob(id: string): Buffer | undefined
  storeBlob(id: string, bytes: Buffer): void
  deleteBlob(id: string): void
}

interface PublishedVersion<F> {
  version: number
  snapshot: F
  /** $LATEST's description when it was published (the snapshot carries PublishVersion's Description). */
  sourceDescription: string
}

interface Alias {
  name: string
  functionVersion: string
  description: string
  /** Version number -> weight of the additional version (at most one). */
  weights?: Record<string, number>
  revisionId: string
}

interface FunctionVersionsRecord<F> {
  /** Highest version number ever published: numbers are never reused. */
  latest: number
  versions: Array<PublishedVersion<F>>
  aliases: Alias[]
}

export const VERSION_ROUTES = [
  {method: 'POST', pattern: /^\/2015-03-31\/functions\/([^/]+)\/versions$/, operation: 'PublishVersion'},
  {method: 'GET', pattern: /^\/2015-03-31\/functions\/([^/]+)\/versions$/, operation: 'ListVersionsByFunction'},
  {method: 'POST', pattern: /^\/2015-03-31\/functions\/([^/]+)\/aliases$/, operation: 'CreateAlias'},
  {method: 'GET', pattern: /^\/2015-03-31\/functions\/([^/]+)\/aliases$/, operation: 'ListAliases'},
  {method: 'GET', pattern: /^\/2015-03-31\/functions\/([^/]+)\/aliases\/([^/]+)$/, operation: 'GetAlias'},
  {method: 'PUT', pattern: /^\/2015-03-31\/functions\/([^/]+)\/aliases\/([^/]+)$/, operation: 'UpdateAlias'},
  {method: 'DELETE', pattern: /^\/2015-03-31\/functions\/([^/]+)\/aliases\/([^/]+)$/, operation: 'DeleteAlias'},
]

const OPERATIONS = new Set(VERSION_ROUTES.map((route) => route.operation))
const ALIAS_NAME = /^(?!^[0-9]+$)([a-zA-Z0-9-_]+)$/
const VERSION = /^(\$LATEST|[0-9]+)$/
/** Fields not compared by PublishVersion: state, not code or configuration (the description is compared apart). */
const VOLATILE = new Set(['revisionId', 'lastModified', 'state', 'lastUpdateStatus', 'lastUpdateStatusReason', 'busyUntil', 'contentId', 'failing', 'description', 'tags'])

function validation(problem: string): ApiError {
  return new ApiError(400, 'ValidationException', `1 validation error detected: ${problem}`)
}

function invalid(message: string): ApiError {
  return new ApiError(400, 'InvalidParameterValueException', message)
}

function notFound(message: string): ApiError {
  return new ApiError(404, 'ResourceNotFoundException', message)
}

function conflict(message: string): ApiError {
  return new ApiError(409, 'ResourceConflictException', message)
}

function functionArn(fn: SnapshotSource, qualifier?: string): string {
  return `arn:${partitionOf(fn.region)}:lambda:${fn.region}:${fn.accountId}:function:${fn.name}${qualifier === undefined ? '' : `:${qualifier}`}`
}

function key(fn: SnapshotSource): string {
  return `${fn.accountId}/${fn.region}/${fn.name}`
}

function encodeMarker(index: number): string {
  return Buffer.from(JSON.stringify({index})).toString('base64url')
}

function decodeMarker(marker: string | null): number {
  if (marker === null || marker === '') return 0
  try {
    const parsed = JSON.parse(Buffer.from(marker, 'base64url').toString('utf8')) as {index?: unknown}
    if (Number.isSafeInteger(parsed.index) && (parsed.index as number) >= 0) return parsed.index as number
  } catch {
    // fall through
  }
  throw invalid(`Invalid marker: ${marker}`)
}

/** One page of `items`: MaxItems 1..10000, at most 50 a page. */
function page<T>(ctx: RequestContext, items: T[]): {items: T[]; nextMarker?: string} {
  const raw = ctx.url.searchParams.get('MaxItems')
  if (raw !== null && !(Number.isInteger(Number(raw)) && Number(raw) >= 1 && Number(raw) <= 10000)) {
    throw validation(`Value '${raw}' at 'maxItems' failed to satisfy constraint: Member must have value ${Number(raw) < 1 ? 'greater than or equal to 1' : 'less than or equal to 10000'}`)
  }
  const limit = Math.min(raw === null ? 50 : Number(raw), 50)
  const start = decodeMarker(ctx.url.searchParams.get('Marker'))
  const slice = items.slice(start, start + limit)
  return {items: slice, ...(start + limit < items.length ? {nextMarker: encodeMarker(start + limit)} : {})}
}

export class FunctionVersions<F extends SnapshotSource> {
  private readonly records = new Map<string, FunctionVersionsRecord<F>>()

  constructor(
    private readonly persistence: Persistence,
    private readonly hooks: FunctionHooks<F>,
  ) {
    for (const row of persistence.all<FunctionVersionsRecord<F>>('lambda-function-versions')) {
      this.records.set(row.id, row.value)
      for (const entry of row.value.versions) {
        const blob = persistence.all<null>(`lambda-function-version-code/${row.id}/${entry.version}`)[0]?.blob
        if (blob) hooks.storeBlob(entry.snapshot.contentId, blob)
      }
    }
  }

  /** Whether this module answers `operation`. */
  static owns(operation: string): boolean {
    return OPERATIONS.has(operation)
  }

  handle(ctx: RequestContext, operation: string, labels: string[], body: Record<string, unknown>): {status: number; body?: unknown} {
    switch (operation) {
      case 'PublishVersion':
        return {status: 201, body: this.publish(ctx, labels[0]!, body)}
      case 'ListVersionsByFunction':
        return {status: 200, body: this.listVersions(ctx, labels[0]!)}
      case 'CreateAlias':
        return {status: 201, body: this.createAlias(ctx, labels[0]!, body)}
      case 'ListAliases':
        return {status: 200, body: this.listAliases(ctx, labels[0]!)}
      case 'GetAlias': {
        const fn = this.hooks.find(ctx, labels[0]!)
        return {status: 200, body: this.aliasOut(fn, this.alias(fn, labels[1]!))}
      }
      case 'UpdateAlias':
        return {status: 200, body: this.updateAlias(ctx, labels[0]!, labels[1]!, body)}
      case 'DeleteAlias':
        this.deleteAlias(ctx, labels[0]!, labels[1]!)
        return {status: 204}
      default:
        throw new ApiError(404, 'UnknownOperationException', `Unknown operation ${operation}`)
    }
  }

  /**
   * What GetFunction/GetFunctionConfiguration answer for `raw` and the Qualifier parameter: the record
   * whose configuration and code are shown (the function itself for $LATEST or no qualifier), its
   * configuration document, and the function (for its tags).
   */
  resolve(ctx: RequestContext, raw: string): {record: F; configuration: Record<string, unknown>; fn: F} {
    const fn = this.hooks.find(ctx, raw)
    const qualifier = this.qualifier(ctx, raw)
    if (qualifier === undefined) return {record: fn, configuration: this.hooks.configuration(fn), fn}
    if (qualifier === '$LATEST') return {record: fn, configuration: {...this.hooks.configuration(fn), FunctionArn: functionArn(fn, '$LATEST')}, fn}
    const alias = /^[0-9]+$/.test(qualifier) ? undefined : this.record(fn)?.aliases.find((entry) => entry.name === qualifier)
    const version = alias ? alias.functionVersion : qualifier
    if (version === '$LATEST') return {record: fn, configuration: {...this.hooks.configuration(fn), FunctionArn: functionArn(fn, qualifier)}, fn}
    const published = this.record(fn)?.versions.find((entry) => String(entry.version) === version)
    if (!published) throw notFound(`Function not found: ${functionArn(fn, qualifier)}`)
    return {record: published.snapshot, configuration: {...this.versionOut(fn, published), FunctionArn: functionArn(fn, qualifier)}, fn}
  }

  /**
   * DeleteFunction with a qualifier (Qualifier parameter or `name:qualifier`): deletes that version and
   * returns true; without one returns false (the caller deletes the function, then calls `forget`).
   */
  deleteQualified(ctx: RequestContext, raw: string): boolean {
    const qualifier = this.qualifier(ctx, raw)
    if (qualifier === undefined) return false
    const fn = this.hooks.find(ctx, raw)
    if (qualifier === '$LATEST') throw invalid('$LATEST version cannot be deleted without deleting the function.')
    if (!/^[0-9]+$/.test(qualifier)) throw invalid('Deletion of aliases is not supported.')
    const record = this.record(fn)
    const published = record?.versions.find((entry) => String(entry.version) === qualifier)
    if (!record || !published) throw notFound(`Function not found: ${functionArn(fn, qualifier)}`)
    const users = record.aliases.filter((alias) => alias.functionVersion === qualifier || alias.weights?.[qualifier] !== undefined).map((alias) => alias.name)
    if (users.length > 0) throw conflict(`Unable to delete version because the following aliases reference it: [${users.join(', ')}]`)
    record.versions = record.versions.filter((entry) => entry !== published)
    this.hooks.deleteBlob(published.snapshot.contentId)
    this.persistence.remove(`lambda-function-version-code/${key(fn)}/${published.version}`, 'zip')
    this.save(fn)
    return true
  }

  /** The function was deleted: its versions and aliases go with it. */
  forget(fn: SnapshotSource): void {
    const record = this.records.get(key(fn))
    if (!record) return
    for (const entry of record.versions) {
      this.hooks.deleteBlob(entry.snapshot.contentId)
      this.persistence.remove(`lambda-function-version-code/${key(fn)}/${entry.version}`, 'zip')
    }
    this.records.delete(key(fn))
    this.persistence.remove('lambda-function-versions', key(fn))
  }

  private qualifier(ctx: RequestContext, raw: string): string | undefined {
    const fromName = this.hooks.qualifierOf(ctx, raw)
    const param = ctx.url.searchParams.get('Qualifier') ?? undefined
    if (param !== undefined && !/^(|[a-zA-Z0-9$_-]+)$/.test(param)) {
      throw validation(`Value '${param}' at 'qualifier' failed to satisfy constraint: Member must satisfy regular expression pattern: (|[a-zA-Z0-9$_-]+)`)
    }
    if (fromName !== undefined && param !== undefined && param !== fromName) throw invalid('The derived qualifier from the function name does not match the specified qualifier.')
    return param === '' ? fromName : (param ?? fromName)
  }

  private record(fn: SnapshotSource): FunctionVersionsRecord<F> | undefined {
    return this.records.get(key(fn))
  }

  private save(fn: SnapshotSource): void {
    const record = this.records.get(key(fn))
    if (record) this.persistence.put('lambda-function-versions', key(fn), record)
  }

  private versionOut(fn: F, published: PublishedVersion<F>): Record<string, unknown> {
    return {...this.hooks.configuration(published.snapshot), FunctionArn: functionArn(fn, String(published.version)), Version: String(published.version)}
  }

  private publish(ctx: RequestContext, raw: string, body: Record<string, unknown>): Record<string, unknown> {
    const fn = this.hooks.find(ctx, raw)
    if (body.Description !== undefined && (typeof body.Description !== 'string' || body.Description.length > 256)) {
      throw validation(`Value '${String(body.Description)}' at 'description' failed to satisfy constraint: Member must have length less than or equal to 256`)
    }
    if (fn.state === 'Pending') throw conflict('The operation cannot be performed at this time. The function is currently in the following state: Pending')
    if (fn.lastUpdateStatus === 'InProgress') throw conflict(`The operation cannot be performed at this time. An update is in progress for resource: ${functionArn(fn)}`)
    if (body.RevisionId !== undefined && body.RevisionId !== fn.revisionId) {
      throw new ApiError(412, 'PreconditionFailedException', 'The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id')
    }
    if (body.CodeSha256 !== undefined && body.CodeSha256 !== '' && body.CodeSha256 !== fn.codeSha256) {
      throw invalid(`CodeSHA256 (${String(body.CodeSha256)}) is different from current CodeSHA256 in $LATEST (${fn.codeSha256}). Please try again with the CodeSHA256 in $LATEST.`)
    }
    const record = this.records.get(key(fn)) ?? {latest: 0, versions: [], aliases: []}
    const last = record.versions.at(-1)
    // Lambda publishes no version when code and configuration are those of the last published one.
    if (last && last.sourceDescription === fn.description && sameConfiguration(last.snapshot, fn)) return this.versionOut(fn, last)
    const bytes = this.hooks.blob(fn.contentId)
    const snapshot = structuredClone(fn)
    snapshot.contentId = token()
    snapshot.revisionId = revisionId()
    snapshot.state = 'Active'
    snapshot.lastUpdateStatus = 'Successful'
    if (typeof body.Description === 'string') snapshot.description = body.Description
    record.latest += 1
    const published: PublishedVersion<F> = {version: record.latest, snapshot, sourceDescription: fn.description}
    record.versions.push(published)
    this.records.set(key(fn), record)
    if (bytes) {
      this.hooks.storeBlob(snapshot.contentId, bytes)
      this.persistence.put(`lambda-function-version-code/${key(fn)}/${published.version}`, 'zip', null, bytes)
    }
    this.save(fn)
    return this.versionOut(fn, published)
  }

  private listVersions(ctx: RequestContext, raw: string): Record<string, unknown> {
    const fn = this.hooks.find(ctx, raw)
    const all = [{...this.hooks.configuration(fn), FunctionArn: functionArn(fn, '$LATEST')}, ...(this.record(fn)?.versions ?? []).map((entry) => this.versionOut(fn, entry))]
    const result = page(ctx, all)
    return {Versions: result.items, ...(result.nextMarker ? {NextMarker: result.nextMarker} : {})}
  }

  private alias(fn: F, name: string): Alias {
    const alias = this.record(fn)?.aliases.find((entry) => entry.name === name)
    if (!alias) throw notFound(`Cannot find alias arn: ${functionArn(fn, name)}`)
    return alias
  }

  private aliasOut(fn: F, alias: Alias): Record<string, unknown> {
    return {
      AliasArn: functionArn(fn, alias.name),
      Name: alias.name,
      FunctionVersion: alias.functionVersion,
      Description: alias.description,
      ...(alias.weights ? {RoutingConfig: {AdditionalVersionWeights: alias.weights}} : {}),
      RevisionId: alias.revisionId,
    }
  }

  /** Checks that `version` exists ($LATEST or a published number) for an alias. */
  private checkVersion(fn: F, version: unknown): string {
    if (typeof version !== 'string' || version.length > 1024 || !VERSION.test(version)) {
      throw validation(`Value '${String(version)}' at 'functionVersion' failed to satisfy constraint: Member must satisfy regular expression pattern: (\\$LATEST|[0-9]+)`)
    }
    if (version !== '$LATEST' && !this.record(fn)?.versions.some((entry) => String(entry.version) === version)) {
      throw notFound(`Function not found: ${functionArn(fn, version)}`)
    }
    return version
  }

  /** RoutingConfig.AdditionalVersionWeights: one published version other than the alias's, weight 0..1. */
  private checkRouting(fn: F, version: string, routing: unknown): Record<string, number> | undefined {
    if (routing === undefined || routing === null) return undefined
    const weights = (routing as {AdditionalVersionWeights?: unknown}).AdditionalVersionWeights
    if (weights === undefined || weights === null) return undefined
    if (typeof weights !== 'object' || Array.isArray(weights)) throw validation(`Value at 'routingConfig.additionalVersionWeights' failed to satisfy constraint: Member must be a map`)
    const entries = Object.entries(weights as Record<string, unknown>)
    if (entries.length === 0) return undefined
    if (entries.length > 1) throw invalid('Number of items in AdditionalVersionWeights cannot be greater than 1')
    const [extra, weight] = entries[0]!
    if (typeof weight !== 'number' || !(weight >= 0 && weight <= 1)) {
      throw validation(`Value '{${extra}=${String(weight)}}' at 'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map value must satisfy constraint: [Member must have value less than or equal to 1.0, Member must have value greater than or equal to 0.0, Member must not be null]`)
    }
    if (!/^[0-9]+$/.test(extra) || extra.length > 1024) {
      throw validation(`Value '{${extra}=${weight}}' at 'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map keys must satisfy constraint: [Member must have length less than or equal to 1024, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: [0-9]+, Member must not be null]`)
    }
    if (extra === version) throw invalid(`Invalid function version ${version}. Function version ${version} is already included in routing configuration.`)
    if (version === '$LATEST') throw invalid('$LATEST is not supported for an alias pointing to more than 1 version')
    this.checkVersion(fn, extra)
    return {[extra]: weight}
  }

  private checkDescription(description: unknown): string | undefined {
    if (description === undefined) return undefined
    if (typeof description !== 'string' || description.length > 256) {
      throw validation(`Value '${String(description)}' at 'description' failed to satisfy constraint: Member must have length less than or equal to 256`)
    }
    return description
  }

  private createAlias(ctx: RequestContext, raw: string, body: Record<string, unknown>): Record<string, unknown> {
    const name = body.Name
    if (typeof name !== 'string') throw validation("Value null at 'name' failed to satisfy constraint: Member must not be null")
    if (name.length > 128 || !ALIAS_NAME.test(name)) {
      throw validation(`Value '${name}' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)`)
    }
    if (body.FunctionVersion === undefined) throw validation("Value null at 'functionVersion' failed to satisfy constraint: Member must not be null")
    const description = this.checkDescription(body.Description)
    const fn = this.hooks.find(ctx, raw)
    const version = this.checkVersion(fn, body.FunctionVersion)
    const record = this.records.get(key(fn)) ?? {latest: 0, versions: [], aliases: []}
    if (record.aliases.some((entry) => entry.name === name)) throw conflict(`Alias already exists: ${functionArn(fn, name)}`)
    const weights = this.checkRouting(fn, version, body.RoutingConfig)
    const alias: Alias = {name, functionVersion: version, description: description ?? '', ...(weights ? {weights} : {}), revisionId: revisionId()}
    record.aliases.push(alias)
    this.records.set(key(fn), record)
    this.save(fn)
    return this.aliasOut(fn, alias)
  }

  private updateAlias(ctx: RequestContext, raw: string, name: string, body: Record<string, unknown>): Record<string, unknown> {
    const fn = this.hooks.find(ctx, raw)
    const alias = this.alias(fn, name)
    if (body.RevisionId !== undefined && body.RevisionId !== alias.revisionId) {
      throw new ApiError(412, 'PreconditionFailedException', 'The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id')
    }
    const description = this.checkDescription(body.Description)
    const version = body.FunctionVersion === undefined ? alias.functionVersion : this.checkVersion(fn, body.FunctionVersion)
    // Without RoutingConfig the alias keeps its weights, which must still fit the (new) version.
    const weights = body.RoutingConfig === undefined ? (alias.weights ? this.checkRouting(fn, version, {AdditionalVersionWeights: alias.weights}) : undefined) : this.checkRouting(fn, version, body.RoutingConfig)
    alias.functionVersion = version
    if (description !== undefined) alias.description = description
    if (weights) alias.weights = weights
    else delete alias.weights
    alias.revisionId = revisionId()
    this.save(fn)
    return this.aliasOut(fn, alias)
  }

  private listAliases(ctx: RequestContext, raw: string): Record<string, unknown> {
    const fn = this.hooks.find(ctx, raw)
    const filter = ctx.url.searchParams.get('FunctionVersion') ?? undefined
    if (filter !== undefined && !VERSION.test(filter)) {
      throw validation(`Value '${filter}' at 'functionVersion' failed to satisfy constraint: Member must satisfy regular expression pattern: (\\$LATEST|[0-9]+)`)
    }
    const all = [...(this.record(fn)?.aliases ?? [])]
      .filter((alias) => filter === undefined || alias.functionVersion === filter)
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .map((alias) => this.aliasOut(fn, alias))
    const result = page(ctx, all)
    return {Aliases: result.items, ...(result.nextMarker ? {NextMarker: result.nextMarker} : {})}
  }

  private deleteAlias(ctx: RequestContext, raw: string, name: string): void {
    const fn = this.hooks.find(ctx, raw)
    const record = this.record(fn)
    this.alias(fn, name)
    record!.aliases = record!.aliases.filter((entry) => entry.name !== name)
    this.save(fn)
  }
}

/** Whether two records hold the same code and configuration (what PublishVersion compares). */
function sameConfiguration(a: object, b: object): boolean {
  const strip = (record: object): string =>
    JSON.stringify(
      Object.entries(record)
        .filter(([field]) => !VOLATILE.has(field))
        .sort(([x], [y]) => (x < y ? -1 : 1)),
    )
  return strip(a) === strip(b)
}
