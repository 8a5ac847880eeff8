// Owns deciding, from a function's tags, whether infrastructure as code owns it: CloudFormation (and
// SAM and CDK, which deploy through it) tags every function of a stack `aws:cloudformation:stack-name`;
// other tools are recognised by the manifest's `settings.ownershipTags` (`KEY=VALUE`, or `KEY` for any
// value, e.g. `ManagedBy=terraform`). Such a function is changed by redeploying its stack or
// configuration, not by `layers attach`: an UpdateFunctionConfiguration there is drift the next deploy
// reverts. Pure: plain data in and out.

export const STACK_NAME_TAG = 'aws:cloudformation:stack-name'

/** Who owns a function: a CloudFormation stack, or the tool an ownership tag names. */
export type Owner = {kind: 'cloudformation'; stack: string} | {kind: 'tag'; tag: string}

/** The owner the tags name (the CloudFormation stack first), or undefined for a function nobody else owns. */
export function ownerOf(tags: Readonly<Record<string, string>>, ownershipTags: readonly string[] = []): Owner | undefined {
  // Only the function's own tags: an ownership tag `constructor` must not match what every object inherits.
  const tagged = (key: string): string | undefined => (Object.hasOwn(tags, key) ? tags[key] : undefined)
  const stack = tagged(STACK_NAME_TAG)
  if (stack !== undefined) return {kind: 'cloudformation', stack}
  for (const tag of ownershipTags) {
    const split = tag.indexOf('=')
    const [key, value] = split === -1 ? [tag, undefined] : [tag.slice(0, split), tag.slice(split + 1)]
    const found = tagged(key)
    if (found !== undefined && (value === undefined || found === value)) return {kind: 'tag', tag: value === undefined ? key : `${key}=${found}`}
  }
  return undefined
}

/** `CloudFormation stack orders-prod` or `tag ManagedBy=terraform`, for messages. */
export function describeOwner(owner: Owner): string {
  return owner.kind === 'cloudformation' ? `CloudFormation stack ${owner.stack}` : `tag ${owner.tag}`
}

/** How the layers of an owned function are changed: redeploy what owns it, reading the ARNs where IaC reads them. */
export function redeployHint(owner: Owner): string {
  const redeploy = owner.kind === 'cloudformation' ? `redeploy stack ${owner.stack}` : `redeploy it with the tool its tag ${owner.tag} names`
  return `${redeploy}, its template reading the locked layer ARNs from the SSM parameters or from \`layers export\``
}
