// Lambda function tags as the API reference describes them: ListTags (GET /2017-03-31/tags/ARN),
// TagResource (POST, body {Tags}) and UntagResource (DELETE, ?tagKeys=K repeated), and the Tags of
// CreateFunction. The resource is a whole function ARN (a name, a version or an alias is refused),
// of the caller's account and the request's region. Tag rules (AWS tagging restrictions): keys 1 to
// 128 characters, values 0 to 256, at most 50 user tags per function; keys starting `aws:` (any case)
// are AWS's own: a user can neither set nor remove them and they do not count toward the 50. Those
// system tags come from CloudFormation, which this server does not serve: the `stacks` option names
// the functions CloudFormation created (function `name` or `accountId/region/name` -> stack name), and
// CreateFunction of such a function adds the tags CloudFormation adds (stack-name, stack-id, logical-id).
import {partitionOf} from './auth.js'
import {ApiError, type RequestContext} from './common.js'

export const MAX_USER_TAGS = 50
const MAX_KEY = 128
const MAX_VALUE = 256
const TAGGABLE_ARN = /^arn:(aws[a-zA-Z-]*)?:lambda:([a-z]{2}(?:-gov)?-[a-z]+-\d{1}):(\d{12}):function:([a-zA-Z0-9-_]+)(?::(\$LATEST|[a-zA-Z0-9-_]+))?$/

export const TAG_ROUTES = [
  {method: 'GET', pattern: /^\/2017-03-31\/tags\/([^/]+)$/, operation: 'ListTags'},
  {method: 'POST', pattern: /^\/2017-03-31\/tags\/([^/]+)$/, operation: 'TagResource'},
  {method: 'DELETE', pattern: /^\/2017-03-31\/tags\/([^/]+)$/, operation: 'UntagResource'},
]

/** The function a tagging call's Resource names, after Lambda's checks (pattern, qualifier, account, region). */
export function taggedFunctionRef(ctx: RequestContext, resource: string): {accountId: string; region: string; name: string} {
  const match = resource.length <= 256 ? TAGGABLE_ARN.exec(resource) : null
  if (!match) {
    throw new ApiError(400, 'ValidationException', `1 validation error detected: Value '${resource}' at 'resource' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*):lambda:[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:\\d{12}:(function:[a-zA-Z0-9-_]+(:(\\$LATEST|[a-zA-Z0-9-_]+))?|code-signing-config:csc-[a-z0-9]{17}|event-source-mapping:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})`)
  }
  const [, , region, accountId, name, qualifier] = match as unknown as [string, string | undefined, string, string, string, string | undefined]
  if (qualifier !== undefined) throw new ApiError(400, 'InvalidParameterValueException', 'Tags are not supported on function versions or aliases.')
  if (accountId !== ctx.accountId) {
    throw new ApiError(403, 'AccessDeniedException', `User: ${ctx.callerArn} is not authorized to perform: lambda:${ctx.operation} on resource: ${resource}`)
  }
  if (region !== ctx.region || !resource.startsWith(`arn:${partitionOf(region)}:`)) throw new ApiError(404, 'ResourceNotFoundException', `Function not found: ${resource}`)
  return {accountId, region, name}
}

function isSystemKey(key: string): boolean {
  return key.toLowerCase().startsWith('aws:')
}

/** The Tags member of TagResource or CreateFunction, checked; throws as Lambda does. */
export function checkTags(raw: unknown, existing: Readonly<Record<string, string>> = {}): Record<string, string> {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new ApiError(400, 'ValidationException', "1 validation error detected: Value at 'tags' failed to satisfy constraint: Member must be a map")
  const tags = raw as Record<string, unknown>
  for (const [key, value] of Object.entries(tags)) {
    if (key.length < 1 || key.length > MAX_KEY) throw new ApiError(400, 'InvalidParameterValueException', `Tag key ${JSON.stringify(key)} must be 1 to ${MAX_KEY} characters long.`)
    if (typeof value !== 'string' || value.length > MAX_VALUE) throw new ApiError(400, 'InvalidParameterValueException', `The value of tag ${JSON.stringify(key)} must be a string of at most ${MAX_VALUE} characters.`)
    if (isSystemKey(key)) throw new ApiError(400, 'InvalidParameterValueException', `Tag key ${JSON.stringify(key)} starts with "aws:", which is reserved for AWS use.`)
  }
  const merged = {...existing, ...(tags as Record<string, string>)}
  const count = Object.keys(merged).filter((key) => !isSystemKey(key)).length
  if (count > MAX_USER_TAGS) throw new ApiError(400, 'InvalidParameterValueException', `A function can have at most ${MAX_USER_TAGS} tags; this request would give it ${count}.`)
  return merged
}

/** The tags left after UntagResource's `tagKeys` (repeated query parameter); system keys cannot be removed. */
export function untag(ctx: RequestContext, existing: Readonly<Record<string, string>>): Record<string, string> {
  const keys = ctx.url.searchParams.getAll('tagKeys')
  if (keys.length === 0) throw new ApiError(400, 'ValidationException', "1 validation error detected: Value null at 'tagKeys' failed to satisfy constraint: Member must not be null")
  const system = keys.find(isSystemKey)
  if (system !== undefined) throw new ApiError(400, 'InvalidParameterValueException', `Tag key ${JSON.stringify(system)} starts with "aws:", which is reserved for AWS use.`)
  return Object.fromEntries(Object.entries(existing).filter(([key]) => !keys.includes(key)))
}

/** The tags CloudFormation adds to a function it creates in stack `stack` (the `stacks` option). */
export function stackTags(fn: {accountId: string; region: string; name: string}, stacks: Readonly<Record<string, string>> | undefined): Record<string, string> {
  // Keyed by name: a function named `toString` must not find Object.prototype's.
  const key = [`${fn.accountId}/${fn.region}/${fn.name}`, fn.name].find((candidate) => stacks !== undefined && Object.hasOwn(stacks, candidate))
  if (key === undefined) return {}
  const stack = stacks![key]!
  return {
    'aws:cloudformation:stack-name': stack,
    'aws:cloudformation:stack-id': `arn:${partitionOf(fn.region)}:cloudformation:${fn.region}:${fn.accountId}:stack/${stack}/00000000-0000-4000-8000-000000000000`,
    'aws:cloudformation:logical-id': fn.name.replace(/[^A-Za-z0-9]/g, ''),
  }
}
