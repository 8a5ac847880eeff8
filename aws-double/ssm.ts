// SSM Parameter Store over JSON 1.1 (`X-Amz-Target: AmazonSSM.<Operation>`, SigV4 service `ssm`), as the
// AWS API reference describes it: PutParameter (Overwrite, Tags; both at once is a ValidationException),
// GetParameter, GetParameters (at most 10 names, missing ones in InvalidParameters), GetParametersByPath
// (Recursive, MaxResults at most 10, NextToken), DeleteParameter(s), parameter versions (1, 2, ... one
// per change), AddTagsToResource / ListTagsForResource / RemoveTagsFromResource (ResourceType
// Parameter). Parameters are per account and region; the public parameters under `/aws/service/` (seeded
// with the server's `publicParameters`) are readable from every account and region and writable by none.
// Limits: names at most 2048 characters, at most 15 levels, letters, digits and `_.-/` only, a path
// starting with `/`, never prefixed `aws` or `ssm` on a write; standard String values at most 4096
// characters; at most 50 tags. Not served: SecureString encryption, labels, `name:version` selectors,
// the Advanced tier and policies.
import {partitionOf} from './auth.js'
import {ApiError, json11, serverNow, type Reply, type RequestContext} from './common.js'
import type {Persistence} from './persist.js'

export const SSM_TARGET_PREFIX = 'AmazonSSM.'

interface ParameterRecord {
  name: string
  type: 'String' | 'StringList' | 'SecureString'
  value: string
  version: number
  /** ms since the epoch */
  modified: number
  description?: string
  tags: Record<string, string>
}

/** Public parameters answer as if owned by AWS's own account. */
const PUBLIC_PREFIX = '/aws/service/'

const MAX_NAME = 2048
const MAX_VALUE = 4096
const MAX_LEVELS = 15
const MAX_TAGS = 50

function validation(message: string): ApiError {
  return new ApiError(400, 'ValidationException', message)
}

function notFound(name: string): ApiError {
  return new ApiError(400, 'ParameterNotFound', `Parameter ${name} not found.`)
}

const NAME_RULES =
  'Parameter name: can\'t be prefixed with "aws" or "ssm" (case-insensitive). If formed as a path, it can consist of sub-paths divided by slash symbol; each sub-path can be formed as a mix of letters, numbers and the following 3 symbols .-_'

/** Checks a name as AWS checks it (a length, the levels, the characters, the reserved prefixes). */
function checkName(name: unknown, member = 'name', write = false): string {
  if (typeof name !== 'string' || name.length === 0) throw validation(`1 validation error detected: Value null at '${member}' failed to satisfy constraint: Member must not be null`)
  if (name.length > MAX_NAME) throw validation(`1 validation error detected: Value '${name}' at '${member}' failed to satisfy constraint: Member must have length less than or equal to ${MAX_NAME}`)
  if (name.includes('/') && !name.startsWith('/')) throw validation('Parameter name must be a fully qualified name.')
  if (!/^[A-Za-z0-9_.\-/]+$/.test(name) || name.includes('//') || (name.length > 1 && name.endsWith('/'))) throw new ApiError(400, 'ParameterPatternMismatchException', NAME_RULES)
  if (name.split('/').filter(Boolean).length > MAX_LEVELS) throw new ApiError(400, 'HierarchyLevelLimitExceededException', `A hierarchy can have a maximum of ${MAX_LEVELS} levels.`)
  if (write && /^\/?(aws|ssm)/i.test(name)) throw new ApiError(400, 'ParameterPatternMismatchException', NAME_RULES)
  return name
}

function checkTags(tags: unknown): Record<string, string> {
  if (!Array.isArray(tags)) throw validation("1 validation error detected: Value null at 'tags' failed to satisfy constraint: Member must not be null")
  const out: Record<string, string> = {}
  for (const tag of tags as Array<{Key?: unknown; Value?: unknown}>) {
    if (typeof tag.Key !== 'string' || tag.Key.length < 1 || tag.Key.length > 128) throw validation("1 validation error detected: Value at 'tags.key' failed to satisfy constraint: Member must have length between 1 and 128")
    if (typeof tag.Value !== 'string' || tag.Value.length > 256) throw validation("1 validation error detected: Value at 'tags.value' failed to satisfy constraint: Member must have length less than or equal to 256")
    if (/^aws:/i.test(tag.Key)) throw validation('Tag keys cannot start with the "aws:" prefix.')
    out[tag.Key] = tag.Value
  }
  return out
}

/** GetParametersByPath / DescribeParameters page tokens: the name after which the next page starts. */
function encodeToken(after: string): string {
  return Buffer.from(JSON.stringify({after}), 'utf8').toString('base64url')
}

function decodeToken(token: unknown): string | undefined {
  if (token === undefined || token === null) return undefined
  try {
    const after = (JSON.parse(Buffer.from(String(token), 'base64url').toString('utf8')) as {after?: unknown}).after
    if (typeof after === 'string') return after
  } catch {
    // fall through
  }
  throw validation('The specified token is not valid.')
}

export class Ssm {
  /** accountId/region -> name -> parameter */
  private readonly stores = new Map<string, Map<string, ParameterRecord>>()
  /** region-independent public parameters (`{region}` in a value filled in per region) */
  private readonly publicParameters: Record<string, string>

  constructor(
    private readonly persistence: Persistence,
    publicParameters: Record<string, string> = {},
  ) {
    for (const name of Object.keys(publicParameters)) {
      if (!name.startsWith(PUBLIC_PREFIX)) throw new Error(`aws-server: public parameter ${name} must start with ${PUBLIC_PREFIX}`)
      checkName(name)
    }
    this.publicParameters = publicParameters
    for (const row of persistence.all<ParameterRecord & {scope: string}>('ssm-parameter')) {
      const {scope, ...record} = row.value
      this.store(scope).set(record.name, record)
    }
  }

  private store(scope: string): Map<string, ParameterRecord> {
    let store = this.stores.get(scope)
    if (!store) {
      store = new Map()
      this.stores.set(scope, store)
    }
    return store
  }

  private save(scope: string, record: ParameterRecord): void {
    this.persistence.put('ssm-parameter', `${scope}/${record.name}`, {...record, scope})
  }

  /** A parameter the caller can read: its own, or a public one. */
  private read(ctx: RequestContext, name: string): ParameterRecord | undefined {
    if (name.startsWith(PUBLIC_PREFIX)) {
      const value = this.publicParameters[name]
      return value === undefined ? undefined : {name, type: 'String', value: value.replace(/\{region\}/g, ctx.region), version: 1, modified: 1_700_000_000_000, tags: {}}
    }
    return this.store(`${ctx.accountId}/${ctx.region}`).get(name)
  }

  private arn(ctx: RequestContext, name: string): string {
    const account = name.startsWith(PUBLIC_PREFIX) ? '' : ctx.accountId
    return `arn:${partitionOf(ctx.region)}:ssm:${ctx.region}:${account}:parameter${name.startsWith('/') ? '' : '/'}${name}`
  }

  private view(ctx: RequestContext, record: ParameterRecord): Record<string, unknown> {
    return {Name: record.name, Type: record.type, Value: record.value, Version: record.version, LastModifiedDate: record.modified / 1000, ARN: this.arn(ctx, record.name), DataType: 'text'}
  }

  handle(ctx: RequestContext): Reply {
    let input: Record<string, unknown>
    try {
      input = JSON.parse(ctx.body.toString('utf8') || '{}') as Record<string, unknown>
    } catch {
      throw new ApiError(400, 'SerializationException', 'Start of structure or map found where not expected.')
    }
    const scope = `${ctx.accountId}/${ctx.region}`
    switch (ctx.operation) {
      case 'PutParameter':
        return json11(this.put(ctx, scope, input))
      case 'GetParameter': {
        const name = checkName(input.Name)
        const record = this.read(ctx, name)
        if (!record) throw notFound(name)
        return json11({Parameter: this.view(ctx, record)})
      }
      case 'GetParameters': {
        const names = this.names(input.Names)
        const found: Record<string, unknown>[] = []
        const invalid: string[] = []
        for (const name of names) {
          const record = this.read(ctx, checkName(name, 'names'))
          if (record) found.push(this.view(ctx, record))
          else invalid.push(name)
        }
        return json11({Parameters: found, InvalidParameters: invalid})
      }
      case 'GetParametersByPath':
        return json11(this.byPath(ctx, scope, input))
      case 'DeleteParameter': {
        const name = checkName(input.Name)
        if (!this.deleteOne(scope, name)) throw notFound(name)
        return json11({})
      }
      case 'DeleteParameters': {
        const names = this.names(input.Names)
        const deleted: string[] = []
        const invalid: string[] = []
        for (const name of names) (this.deleteOne(scope, checkName(name, 'names')) ? deleted : invalid).push(name)
        return json11({DeletedParameters: deleted, InvalidParameters: invalid})
      }
      case 'AddTagsToResource':
      case 'RemoveTagsFromResource':
      case 'ListTagsForResource':
        return json11(this.tags(ctx, scope, input))
      default:
        throw new ApiError(400, 'InvalidAction', `${ctx.operation} is not served by this test server`)
    }
  }

  private names(names: unknown): string[] {
    if (!Array.isArray(names)) throw validation("1 validation error detected: Value null at 'names' failed to satisfy constraint: Member must not be null")
    if (names.length < 1 || names.length > 10) {
      throw validation(`1 validation error detected: Value '[${names.join(', ')}]' at 'names' failed to satisfy constraint: Member must have length less than or equal to 10`)
    }
    return names as string[]
  }

  private put(ctx: RequestContext, scope: string, input: Record<string, unknown>): Record<string, unknown> {
    const name = checkName(input.Name, 'name', true)
    if (typeof input.Value !== 'string') throw validation("1 validation error detected: Value null at 'value' failed to satisfy constraint: Member must not be null")
    const type = input.Type ?? 'String'
    if (type !== 'String' && type !== 'StringList' && type !== 'SecureString') {
      throw validation(`1 validation error detected: Value '${String(type)}' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [SecureString, StringList, String]`)
    }
    if (input.Tier !== undefined && input.Tier !== 'Standard') throw validation('This test server serves the Standard tier only.')
    if (input.Value.length > MAX_VALUE) {
      throw validation('Standard tier parameters support a maximum parameter value of 4096 characters. To create a larger parameter value, upgrade the parameter to use the advanced-parameter tier. For more information, see https://docs.aws.amazon.com/systems-manager/latest/userguide/advanced-parameters.html')
    }
    if (input.Overwrite === true && input.Tags !== undefined) {
      throw validation('Invalid request: tags and overwrite can\'t be used together. To create a parameter with tags, please remove overwrite flag. To update tags for an existing parameter, please use AddTagsToResource or RemoveTagsFromResource.')
    }
    const tags = input.Tags === undefined ? {} : checkTags(input.Tags)
    if (Object.keys(tags).length > MAX_TAGS) throw new ApiError(400, 'TooManyTagsError', 'The Tags parameter contains more than 50 tags.')
    const store = this.store(scope)
    const existing = store.get(name)
    if (existing && input.Overwrite !== true) throw new ApiError(400, 'ParameterAlreadyExists', 'The parameter already exists. To overwrite this value, set the overwrite option in the request to true.')
    const record: ParameterRecord = {
      name,
      type,
      value: input.Value,
      version: (existing?.version ?? 0) + 1,
      modified: serverNow(),
      ...(typeof input.Description === 'string' ? {description: input.Description} : existing?.description !== undefined ? {description: existing.description} : {}),
      tags: existing ? existing.tags : tags,
    }
    store.set(name, record)
    this.save(scope, record)
    return {Version: record.version, Tier: 'Standard'}
  }

  private deleteOne(scope: string, name: string): boolean {
    if (name.startsWith(PUBLIC_PREFIX)) return false
    const store = this.store(scope)
    if (!store.delete(name)) return false
    this.persistence.remove('ssm-parameter', `${scope}/${name}`)
    return true
  }

  private byPath(ctx: RequestContext, scope: string, input: Record<string, unknown>): Record<string, unknown> {
    const path = input.Path
    if (typeof path !== 'string' || path.length === 0) throw validation("1 validation error detected: Value null at 'path' failed to satisfy constraint: Member must not be null")
    if (path.length > MAX_NAME) throw validation(`1 validation error detected: Value '${path}' at 'path' failed to satisfy constraint: Member must have length less than or equal to ${MAX_NAME}`)
    if (!path.startsWith('/')) throw validation('The parameter doesn\'t meet the parameter name requirements. The parameter name must begin with a forward slash "/". ')
    const size = input.MaxResults ?? 10
    if (!Number.isInteger(size) || (size as number) < 1 || (size as number) > 10) {
      throw validation(`1 validation error detected: Value '${String(size)}' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 10`)
    }
    const base = path.endsWith('/') ? path : `${path}/`
    const recursive = input.Recursive === true
    const candidates: ParameterRecord[] = []
    const consider = (record: ParameterRecord | undefined) => {
      if (!record || !record.name.startsWith(base)) return
      if (!recursive && record.name.slice(base.length).includes('/')) return
      candidates.push(record)
    }
    if (base.startsWith(PUBLIC_PREFIX) || PUBLIC_PREFIX.startsWith(base)) for (const name of Object.keys(this.publicParameters)) consider(this.read(ctx, name))
    for (const record of this.store(scope).values()) consider(record)
    candidates.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    const after = decodeToken(input.NextToken)
    const start = after === undefined ? 0 : candidates.findIndex((record) => record.name > after)
    const rest = start === -1 ? [] : candidates.slice(start)
    const page = rest.slice(0, size as number)
    return {Parameters: page.map((record) => this.view(ctx, record)), ...(rest.length > page.length ? {NextToken: encodeToken(page[page.length - 1]!.name)} : {})}
  }

  private tags(ctx: RequestContext, scope: string, input: Record<string, unknown>): Record<string, unknown> {
    if (input.ResourceType !== 'Parameter') {
      throw new ApiError(400, 'InvalidResourceType', 'The resource type is not valid. For example, if you are attempting to tag an EC2 instance, the instance must be a registered managed node.')
    }
    const id = input.ResourceId
    if (typeof id !== 'string') throw validation("1 validation error detected: Value null at 'resourceId' failed to satisfy constraint: Member must not be null")
    const record = id.startsWith(PUBLIC_PREFIX) ? undefined : this.store(scope).get(id)
    if (!record) throw new ApiError(400, 'InvalidResourceId', 'The resource ID is not valid. Verify that you entered the correct ID and try again.')
    if (ctx.operation === 'ListTagsForResource') {
      return {TagList: Object.entries(record.tags).sort(([a], [b]) => (a < b ? -1 : 1)).map(([Key, Value]) => ({Key, Value}))}
    }
    if (ctx.operation === 'RemoveTagsFromResource') {
      if (!Array.isArray(input.TagKeys)) throw validation("1 validation error detected: Value null at 'tagKeys' failed to satisfy constraint: Member must not be null")
      for (const key of input.TagKeys as string[]) delete record.tags[key]
    } else {
      const tags = {...record.tags, ...checkTags(input.Tags)}
      if (Object.keys(tags).length > MAX_TAGS) throw new ApiError(400, 'TooManyTagsError', 'The Tags parameter contains more than 50 tags.')
      record.tags = tags
    }
    this.save(scope, record)
    return {}
  }
}
