// Owns the audit's judgement: from plain data (what each target's functions use, in $LATEST and in the
// published versions their aliases point at, what the manifest and lock say, what Lambda said about
// each layer version, the runtime deprecation table) to the findings (per function, and per alias as
// `alias prod -> 42 runs common:3, behind`), the layer x version usage matrix and the report. Pure: no
// AWS, no files, no clock.
// A managed function infrastructure as code owns (`owners`, from its tags) that drifts is `drift-iac`:
// its fix is a redeploy of the stack that owns it, not `layers attach`. A managed container image
// function is `image` (info), not drift: its layers are in the image.
import {describeOwner, redeployHint, type Owner} from '../iac/ownership.js'
import {parseLayerVersionArn} from './arn.js'
import {compareText, lockedVersionFor, type LayerCatalog, type ManagedFunction} from './catalog.js'
import {
  AUDIT_SCHEMA_VERSION,
  type AuditTarget,
  type AuditReport,
  type Finding,
  type FunctionReport,
  type AliasReport,
  type LayerUsage,
  type LayerVersionInfo,
  type LayerVersionsByAccount,
  type ScannedFunction,
  type ScannedVersion,
  type Severity,
  type TargetReport,
  type TargetScan,
} from './types.js'

/** Lambda's limits the `limits` finding checks against. */
export const MAX_LAYERS = 5
export const MAX_UNZIPPED_BYTES = 262_144_000
export const SIZE_WARNING_RATIO = 0.8
/**
 * ListFunctions reports zipped sizes only. Where the unzipped size is not known exactly (a layer
 * built here, found in the build cache by its CodeSha256), it is estimated as zipped x this ratio:
 * deflate typically shrinks JavaScript and JSON 3 to 5 times and native binaries about 2 times, so
 * 3 flags packages that are likely near the limit without flagging every large one.
 */
export const ESTIMATED_UNZIP_RATIO = 3
/** A runtime whose deprecation is this close is reported as soon deprecated. */
export const RUNTIME_WARNING_DAYS = 180

/** One runtime's deprecation date (YYYY-MM-DD), from the dated table in src/manifest/runtimes.ts. */
export interface RuntimeDeprecation {
  runtime: string
  deprecated?: string
}

/** The desired Layers list of a managed function, as `layers attach` would set it, or why it has none. */
export type DesiredLayers = {arns: string[]} | {error: string}

export interface FindingsInput {
  scans: TargetScan[]
  catalog: LayerCatalog
  /** Keyed by desiredKey(accountId, region, functionName). */
  desired: Record<string, DesiredLayers>
  /** By account id, then layer version ARN; a version absent here was not looked up. */
  layerVersions: LayerVersionsByAccount
  /** Exact unzipped bytes of layer zips built here, by base64 CodeSha256. */
  unzippedBytes: Record<string, number>
  runtimes: RuntimeDeprecation[]
  /** ISO timestamp the runtime dates are compared with. */
  now: string
  /** Keyed by desiredKey: who else owns a managed function (read for those behind or drifting only). */
  owners?: Record<string, Owner>
}

export function desiredKey(accountId: string, region: string, functionName: string): string {
  return `${accountId}/${region}/${functionName}`
}

/** What judging one function needs besides the function itself. */
export interface FunctionFacts {
  /** What its account said of each layer version it runs ($LATEST and alias versions); absent: not looked up. */
  layerVersions: Record<string, LayerVersionInfo>
  /** What `layers attach` would set on it (managed functions). */
  desired?: DesiredLayers
  /** Who else owns it (read for managed functions behind or drifting only). */
  owner?: Owner
}

/** Judges functions one at a time against one manifest and lock, runtime table, build sizes and clock. */
export interface FunctionJudge {
  /** The manifest's entry of the function, when the manifest declares it for that account and region. */
  managed(target: AuditTarget, name: string): ManagedFunction | undefined
  /** The findings of one function ($LATEST and every alias version), unsorted. */
  findings(target: AuditTarget, fn: ScannedFunction, facts: FunctionFacts): Finding[]
  /** The function as the report lists it. */
  report(target: AuditTarget, fn: ScannedFunction): FunctionReport
}

export function functionJudge(input: Pick<FindingsInput, 'catalog' | 'unzippedBytes' | 'runtimes' | 'now'>): FunctionJudge {
  const managed = new Map<string, ManagedFunction>()
  for (const entry of input.catalog.managed) managed.set(desiredKey(entry.accountId, entry.region, entry.name), entry)
  const runtimes = new Map(input.runtimes.map((entry) => [entry.runtime, entry]))
  // The fix names a newer runtime of the same family: computed once per runtime, not per function.
  const hints = new Map<string, string>()
  const hintFor = (runtime: string): string => {
    let hint = hints.get(runtime)
    if (hint === undefined) hints.set(runtime, (hint = newerRuntimeHint(runtime, runtimes)))
    return hint
  }
  const specOf = (target: AuditTarget, name: string) => managed.get(desiredKey(target.accountId, target.region, name))
  return {
    managed: specOf,
    findings(target, fn, facts) {
      const context: JudgeContext = {catalog: input.catalog, unzippedBytes: input.unzippedBytes, ...facts}
      const at = {accountId: target.accountId, region: target.region, function: fn.name}
      const spec = specOf(target, fn.name)
      const findings = [...layerFindings(context, fn, at, spec), ...limitFindings(context, fn, at)]
      const runtime = runtimeFinding(fn, at, runtimes, input.now, hintFor)
      if (runtime) findings.push(runtime)
      for (const route of aliasRoutes(fn)) {
        // An alias on $LATEST runs what the findings above are about already.
        if (!route.published) continue
        const aliasAt: At = {...at, alias: route.alias, route: `alias ${route.alias} -> ${route.version}${route.weight < 1 ? ` (${Math.round(route.weight * 100)}%)` : ''}`}
        findings.push(...versionLayerFindings(context, route.published, aliasAt, spec).findings)
        const aliasRuntime = runtimeFinding(route.published, aliasAt, runtimes, input.now, hintFor)
        if (aliasRuntime) findings.push(aliasRuntime)
      }
      return findings
    },
    report(target, fn) {
      return {
        accountId: target.accountId,
        region: target.region,
        name: fn.name,
        ...(fn.runtime === undefined ? {} : {runtime: fn.runtime}),
        ...(fn.packageType ? {packageType: fn.packageType} : {}),
        architecture: fn.architecture,
        codeSize: fn.codeSize,
        layers: fn.layers.map((ref) => ref.arn),
        managed: specOf(target, fn.name) !== undefined,
        ...(fn.aliases && fn.aliases.length > 0 ? {aliases: aliasReports(fn)} : {}),
      }
    },
  }
}

/** What the finding helpers read: the catalog and build sizes of the run, the facts of the function. */
type JudgeContext = Pick<FindingsInput, 'catalog' | 'unzippedBytes'> & FunctionFacts

/** The facts of one function of `input`. */
function factsOf(input: FindingsInput, scan: AuditTarget, fn: ScannedFunction): FunctionFacts {
  const key = desiredKey(scan.accountId, scan.region, fn.name)
  const desired = input.desired[key]
  const owner = input.owners?.[key]
  return {layerVersions: input.layerVersions[scan.accountId] ?? {}, ...(desired ? {desired} : {}), ...(owner ? {owner} : {})}
}

/** Every finding for every function of every scanned target, sorted. */
export function computeFindings(input: FindingsInput): Finding[] {
  const judge = functionJudge(input)
  const findings: Finding[] = []
  for (const scan of input.scans) {
    if (scan.status === 'failed') continue
    for (const fn of scan.functions) findings.push(...judge.findings(scan, fn, factsOf(input, scan, fn)))
  }
  return sortFindings(findings)
}

/** Whether who owns a managed function matters to its findings: its layers are behind the lock, or drift from what attach would set. */
export function asksOwner(findings: readonly Finding[], desired: DesiredLayers | undefined): boolean {
  return findings.some((finding) => finding.code === 'behind' || (finding.code === 'drift' && desired !== undefined && 'arns' in desired))
}

/** Where a finding is: the function, and for a published version an alias routes to, the alias and how (`alias prod -> 42 (90%)`). */
type At = {accountId: string; region: string; function: string; alias?: string; route?: string}

/** The finding's location fields (the route is said in the message only). */
function where(at: At): Pick<Finding, 'accountId' | 'region' | 'function' | 'alias'> {
  return {accountId: at.accountId, region: at.region, function: at.function, ...(at.alias === undefined ? {} : {alias: at.alias})}
}

export interface AliasRoute {
  alias: string
  version: string
  /** Share of the alias's traffic (1 for an alias on one version). */
  weight: number
  /** The published version's configuration; absent for `$LATEST` or a version that was not read. */
  published?: ScannedVersion
}

/** Every (alias, version) pair a function's aliases route to, with the version read for it. */
export function aliasRoutes(fn: ScannedFunction): AliasRoute[] {
  const byVersion = new Map((fn.versions ?? []).map((version) => [version.version, version]))
  const route = (alias: string, version: string, weight: number): AliasRoute => {
    const published = version === '$LATEST' ? undefined : byVersion.get(version)
    return {alias, version, weight, ...(published ? {published} : {})}
  }
  return (fn.aliases ?? []).flatMap((alias) =>
    alias.additional ? [route(alias.name, alias.version, 1 - alias.additional.weight), route(alias.name, alias.additional.version, alias.additional.weight)] : [route(alias.name, alias.version, 1)],
  )
}

function attachCommand(spec: ManagedFunction): string {
  return `layers attach ${spec.key} --account ${spec.accountName} --region ${spec.region}`
}

/** `common:3` (the manifest's name) or the ARN, as an alias finding names a layer version. */
function shortName(arn: string, name: string | undefined): string {
  const parts = parseLayerVersionArn(arn)
  return name !== undefined && parts ? `${name}:${parts.version}` : arn
}

/** The fix of a finding about the version an alias routes to: a new function version, and the alias moved to it. */
function aliasFix(spec: ManagedFunction | undefined, what: string): string {
  return spec
    ? `Run \`${attachCommand(spec)}\`, publish a new version of the function and point the alias at it.`
    : `Publish a new version of the function ${what} and point the alias at it.`
}

/** Findings about the layers of one published version an alias routes to (at.route says which). */
function aliasLayerFinding(code: Finding['code'], severity: Finding['severity'], at: At, arn: string, name: string | undefined, state: string, detail: string, fix: string): Finding {
  return {code, severity, ...where(at), layer: arn, message: `${at.route} runs ${shortName(arn, name)}, ${state}: ${detail}`, fix}
}

/** The managed functions whose layers are behind the lock or drift from it: whose owner the audit asks about. */
export function ownershipCandidates(input: FindingsInput): string[] {
  const judge = functionJudge(input)
  const keys: string[] = []
  for (const scan of input.scans) {
    if (scan.status === 'failed') continue
    for (const fn of scan.functions) {
      if (!judge.managed(scan, fn.name)) continue
      const {owner: _owner, ...facts} = factsOf(input, scan, fn)
      if (asksOwner(judge.findings(scan, fn, facts), facts.desired)) keys.push(desiredKey(scan.accountId, scan.region, fn.name))
    }
  }
  return [...new Set(keys)].sort(compareText)
}

function layerFindings(context: JudgeContext, fn: ScannedFunction, at: At, spec: ManagedFunction | undefined): Finding[] {
  const owner = context.owner
  const {findings, caughtUp} = versionLayerFindings(context, fn, at, spec)
  // A container image takes no layers: the lock's are in the image, so an empty list is not drift.
  if (spec && fn.packageType === 'Image') {
    findings.push({
      code: 'image', severity: 'info', ...at,
      message: 'is a container image function (PackageType Image): its layers are in its image, not on the function',
      fix: `Build and push the image with the locked layers (\`layers image ${spec.key}\`), then \`layers deploy ${spec.key} --account ${spec.accountName} --region ${spec.region} --image-uri REPOSITORY@sha256:DIGEST\`.`,
    })
  } else if (spec) {
    const desired = context.desired
    const actual = fn.layers.map((ref) => ref.arn)
    if (desired && 'error' in desired) {
      findings.push({
        code: 'drift', severity: 'error', ...at,
        message: `is declared in layers.yaml, but its desired layers cannot be computed: ${desired.error}`,
        fix: `Fix the cause, then run \`${attachCommand(spec)}\`.`,
      })
    } else if (desired && !sameList(caughtUp, desired.arns) && owner) {
      findings.push({
        code: 'drift-iac', severity: 'error', ...at, ...(owner.kind === 'cloudformation' ? {stack: owner.stack} : {}),
        message: `belongs to ${describeOwner(owner)}, and its layers differ from the lock: ${describeListChange(actual, desired.arns)}`,
        fix: `${capitalised(redeployHint(owner))}; \`layers attach\` refuses the function (--force overrides, and the next deploy reverts it).`,
      })
    } else if (desired && !sameList(caughtUp, desired.arns)) {
      findings.push({
        code: 'drift', severity: 'error', ...at,
        message: `layers differ from what \`layers attach\` would set: ${describeListChange(actual, desired.arns)}`,
        fix: `Run \`${attachCommand(spec)}\`.`,
      })
    }
  }
  return findings
}

/**
 * The findings about each layer of $LATEST (at.route absent) or of a published version an alias routes
 * to (at.route set: messages start with the route, fixes publish a new version; no `unmanaged` notes,
 * which $LATEST's findings give), and the layer list with every `behind` layer moved to its locked version.
 */
function versionLayerFindings(context: JudgeContext, fn: Pick<ScannedFunction, 'layers' | 'architecture' | 'runtime'>, at: At, spec: ManagedFunction | undefined): {findings: Finding[]; caughtUp: string[]} {
  const owner = at.route === undefined ? context.owner : undefined
  const findings: Finding[] = []
  /** The function's list with every `behind` layer moved to its locked version. */
  const caughtUp: string[] = []
  for (const ref of fn.layers) {
    caughtUp.push(ref.arn)
    const parts = parseLayerVersionArn(ref.arn)
    const name = parts ? context.catalog.known[parts.layerArn] : undefined
    const info = context.layerVersions[ref.arn]
    if (at.route !== undefined) {
      findings.push(...aliasVersionFindings(context, fn, at, spec, ref.arn, name, info))
      continue
    }
    if (info?.status === 'missing') {
      findings.push({
        code: 'missing', severity: 'error', ...at, layer: ref.arn,
        message: `uses ${ref.arn}, which no longer exists: the function runs, but its configuration can no longer be updated with it`,
        fix: spec ? `Run \`${attachCommand(spec)}\` to move it to the locked version.` : 'Update the function to an existing version of the layer, or remove the layer.',
      })
    }
    if (info?.status === 'unreadable') {
      // Lambda answers AccessDenied, not NotFound, for a deleted version of another account's layer;
      // any other failure (throttled past retries) leaves the version unverified, which is said too.
      const denied = info.error.code === 'AccessDeniedException'
      findings.push({
        code: 'missing', severity: 'warning', ...at, layer: ref.arn,
        message: denied
          ? `uses ${ref.arn}, which account ${at.accountId} cannot read (${info.error.code}): it was deleted, or is no longer shared with this account`
          : `uses ${ref.arn}, which could not be checked (${info.error.code}: ${info.error.message})`,
        fix: spec
          ? `Check that the version exists and is shared with ${at.accountId} (\`layers publish\` re-applies the manifest's grants), or run \`${attachCommand(spec)}\`.`
          : 'Ask the layer owner whether the version still exists and is shared with this account, or move the function to a version it can read.',
      })
    }
    if (!parts || name === undefined) {
      findings.push({
        code: 'unmanaged', severity: 'info', ...at, layer: ref.arn,
        message: `uses ${ref.arn}, a layer neither layers.yaml nor lockfile.json knows`,
        fix: 'Declare it in layers.yaml as an `arn` layer to track it, or remove it from the function.',
      })
    } else {
      const locked = lockedVersionFor(context.catalog, name, at.accountId, at.region, fn.architecture)
      const lockedParts = locked ? parseLayerVersionArn(locked.arn) : undefined
      if (lockedParts && lockedParts.layerArn === parts.layerArn && lockedParts.version > parts.version) {
        caughtUp[caughtUp.length - 1] = locked!.arn
        findings.push({
          code: 'behind', severity: 'warning', ...at, layer: ref.arn,
          message: `uses version ${parts.version} of layer ${name}; the lock has version ${lockedParts.version} for ${at.accountId}/${at.region}`,
          fix: spec && owner ? `${capitalised(redeployHint(owner))}.` : spec ? `Run \`${attachCommand(spec)}\`.` : `Move the function to ${locked!.arn}.`,
        })
      }
    }
    if (info?.status === 'ok' && info.compatibleArchitectures.length > 0 && !info.compatibleArchitectures.includes(fn.architecture)) {
      findings.push({
        code: 'arch', severity: 'error', ...at, layer: ref.arn,
        message: `runs on ${fn.architecture}, but ${ref.arn} declares only ${info.compatibleArchitectures.join(', ')}`,
        fix: name
          ? `Add ${fn.architecture} to the architectures of layer ${name} in layers.yaml, then run \`layers publish ${name}\` and \`layers attach\`.`
          : `Use a version of the layer built for ${fn.architecture}, or change the function's architecture.`,
      })
    }
    // As `layers attach` refuses it (src/attach/plan.ts): a layer with no CompatibleRuntimes fits every runtime.
    if (info?.status === 'ok' && fn.runtime && info.compatibleRuntimes.length > 0 && !info.compatibleRuntimes.includes(fn.runtime)) {
      findings.push({
        code: 'layer-runtime', severity: 'error', ...at, layer: ref.arn,
        message: `runs on ${fn.runtime}, but ${ref.arn} declares only ${info.compatibleRuntimes.join(', ')}`,
        fix: name
          ? `Add ${fn.runtime} to the runtimes of layer ${name} in layers.yaml (or fix the function's runtime), then run \`layers publish ${name}\` and \`layers attach\`.`
          : `Use a version of the layer built for ${fn.runtime}, or change the function's runtime.`,
      })
    }
  }
  return {findings, caughtUp}
}

/** The findings about one layer of a published version an alias routes to. */
function aliasVersionFindings(
  context: JudgeContext,
  fn: Pick<ScannedFunction, 'architecture' | 'runtime'>,
  at: At,
  spec: ManagedFunction | undefined,
  arn: string,
  name: string | undefined,
  info: LayerVersionInfo | undefined,
): Finding[] {
  const findings: Finding[] = []
  if (info?.status === 'missing') {
    findings.push(aliasLayerFinding('missing', 'error', at, arn, name, 'missing', 'the layer version no longer exists; the version keeps running it, but no new version can be published with it', aliasFix(spec, 'with an existing version of the layer')))
  }
  if (info?.status === 'unreadable') {
    const denied = info.error.code === 'AccessDeniedException'
    findings.push(
      aliasLayerFinding('missing', 'warning', at, arn, name, 'unreadable',
        denied ? `account ${at.accountId} cannot read it (${info.error.code}): it was deleted, or is no longer shared with this account` : `it could not be checked (${info.error.code}: ${info.error.message})`,
        aliasFix(spec, 'with a version of the layer this account can read')),
    )
  }
  const parts = parseLayerVersionArn(arn)
  if (parts && name !== undefined) {
    const locked = lockedVersionFor(context.catalog, name, at.accountId, at.region, fn.architecture)
    const lockedParts = locked ? parseLayerVersionArn(locked.arn) : undefined
    if (lockedParts && lockedParts.layerArn === parts.layerArn && lockedParts.version > parts.version) {
      findings.push(aliasLayerFinding('behind', 'warning', at, arn, name, 'behind', `the lock has version ${lockedParts.version} for ${at.accountId}/${at.region}`, aliasFix(spec, `with ${locked!.arn}`)))
    }
  }
  if (info?.status === 'ok' && info.compatibleArchitectures.length > 0 && !info.compatibleArchitectures.includes(fn.architecture)) {
    findings.push(aliasLayerFinding('arch', 'error', at, arn, name, 'built for another architecture', `the version runs on ${fn.architecture}, the layer declares only ${info.compatibleArchitectures.join(', ')}`, aliasFix(spec, `with a version of the layer built for ${fn.architecture}`)))
  }
  if (info?.status === 'ok' && fn.runtime && info.compatibleRuntimes.length > 0 && !info.compatibleRuntimes.includes(fn.runtime)) {
    findings.push(aliasLayerFinding('layer-runtime', 'error', at, arn, name, 'built for other runtimes', `the version runs on ${fn.runtime}, the layer declares only ${info.compatibleRuntimes.join(', ')}`, aliasFix(spec, `with a version of the layer built for ${fn.runtime}`)))
  }
  return findings
}

function capitalised(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1)
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((value, index) => value === b[index])
}

/** A one-line description of how `actual` differs from `desired`: added, removed, version moved, order. */
export function describeListChange(actual: readonly string[], desired: readonly string[]): string {
  const byLayer = (arns: readonly string[]): Map<string, string> => new Map(arns.map((arn) => [parseLayerVersionArn(arn)?.layerArn ?? arn, arn]))
  const have = byLayer(actual)
  const want = byLayer(desired)
  const parts: string[] = []
  for (const [layer, arn] of want) {
    const current = have.get(layer)
    if (current === undefined) parts.push(`add ${arn}`)
    else if (current !== arn) parts.push(`move ${layer} from ${parseLayerVersionArn(current)?.version ?? current} to ${parseLayerVersionArn(arn)?.version ?? arn}`)
  }
  for (const [layer, arn] of have) if (!want.has(layer)) parts.push(`remove ${arn}`)
  if (parts.length === 0) parts.push('order differs')
  return parts.join('; ')
}

/** Unzipped size estimate of the function's code plus its layers, and whether any part is estimated. */
export function estimateUnzippedBytes(
  fn: ScannedFunction,
  layerVersions: Record<string, LayerVersionInfo>,
  unzippedBytes: FindingsInput['unzippedBytes'],
): {bytes: number; estimated: boolean} {
  let bytes = fn.codeSize * ESTIMATED_UNZIP_RATIO
  let estimated = fn.codeSize > 0
  for (const ref of fn.layers) {
    const info = layerVersions[ref.arn]
    const exact = info?.status === 'ok' ? unzippedBytes[info.codeSha256] : undefined
    if (exact === undefined) {
      bytes += ref.codeSize * ESTIMATED_UNZIP_RATIO
      estimated = true
    } else {
      bytes += exact
    }
  }
  return {bytes: Math.round(bytes), estimated}
}

function limitFindings(context: JudgeContext, fn: ScannedFunction, at: At): Finding[] {
  const findings: Finding[] = []
  if (fn.layers.length >= MAX_LAYERS) {
    findings.push({
      code: 'limits', severity: fn.layers.length > MAX_LAYERS ? 'error' : 'warning', ...at,
      message: `uses ${fn.layers.length} layers; Lambda allows at most ${MAX_LAYERS}, so no layer can be added`,
      fix: 'Merge layers (for example two npm layers into one), or move a dependency into the function package.',
    })
  }
  const size = estimateUnzippedBytes(fn, context.layerVersions, context.unzippedBytes)
  const threshold = MAX_UNZIPPED_BYTES * SIZE_WARNING_RATIO
  if (size.bytes > threshold) {
    const percent = Math.round((size.bytes / MAX_UNZIPPED_BYTES) * 100)
    findings.push({
      code: 'limits', severity: size.bytes > MAX_UNZIPPED_BYTES ? 'error' : 'warning', ...at,
      message:
        `code plus layers ${size.estimated ? 'is estimated at' : 'is'} ${size.bytes} bytes unzipped, ${percent}% of the ${MAX_UNZIPPED_BYTES}-byte limit` +
        (size.estimated ? ` (zipped sizes x ${ESTIMATED_UNZIP_RATIO} where the unzipped size is unknown)` : ''),
      fix: 'Trim the largest layer (exclude globs in layers.yaml) or move dependencies out of the function package.',
    })
  }
  return findings
}

const DAY_MS = 86_400_000

function runtimeFinding(fn: Pick<ScannedFunction, 'runtime'>, at: At, runtimes: Map<string, RuntimeDeprecation>, now: string, hintFor: (runtime: string) => string): Finding | undefined {
  if (!fn.runtime) return undefined
  const date = runtimes.get(fn.runtime)?.deprecated
  if (!date) return undefined
  const daysLeft = Math.ceil((Date.parse(`${date}T00:00:00Z`) - Date.parse(now)) / DAY_MS)
  if (daysLeft > RUNTIME_WARNING_DAYS) return undefined
  const deprecated = daysLeft <= 0
  const state = deprecated ? `deprecated since ${date}` : `deprecated on ${date} (in ${daysLeft} days)`
  return {
    code: 'runtime', severity: deprecated ? 'error' : 'warning', ...where(at),
    message: at.route === undefined ? `runs on ${fn.runtime}, ${state}` : `${at.route} runs ${fn.runtime}, ${state}`,
    fix:
      `Move the function (and the runtimes of its layers in layers.yaml) to a supported runtime${hintFor(fn.runtime)}` +
      (at.route === undefined ? '.' : ', publish a new version and point the alias at it.'),
  }
}

/** ` such as nodejs22.x`: the same family's newest runtime without a deprecation date. */
function newerRuntimeHint(runtime: string, runtimes: Map<string, RuntimeDeprecation>): string {
  const family = runtime.replace(/[\d.]+.*$/, '')
  const supported = [...runtimes.values()]
    .filter((entry) => !entry.deprecated && entry.runtime.replace(/[\d.]+.*$/, '') === family)
    .map((entry) => entry.runtime)
    .sort((a, b) => compareVersionish(b, a))
  return supported[0] ? ` such as ${supported[0]}` : ''
}

function compareVersionish(a: string, b: string): number {
  const numbers = (text: string): number[] => (text.match(/\d+/g) ?? []).map(Number)
  const [x, y] = [numbers(a), numbers(b)]
  for (let index = 0; index < Math.max(x.length, y.length); index++) {
    const diff = (x[index] ?? 0) - (y[index] ?? 0)
    if (diff !== 0) return diff
  }
  return compareText(a, b)
}

const SEVERITY_ORDER: Record<Severity, number> = {error: 0, warning: 1, info: 2}

export function sortFindings(findings: Finding[]): Finding[] {
  return [...findings].sort(
    (a, b) =>
      SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] ||
      compareText(a.accountId, b.accountId) ||
      compareText(a.region, b.region) ||
      compareText(a.function, b.function) ||
      compareText(a.code, b.code) ||
      compareText(a.layer ?? '', b.layer ?? '') ||
      compareText(a.message, b.message),
  )
}

/** Every layer version ARN a function runs: in $LATEST and in each published version an alias routes to. */
export function usedLayerArns(fn: ScannedFunction): string[] {
  const arns = new Set(fn.layers.map((ref) => ref.arn))
  for (const route of aliasRoutes(fn)) for (const ref of route.published?.layers ?? []) arns.add(ref.arn)
  return [...arns]
}

/** Counts, per layer version, the functions that run it, per target: the usage matrix, function by function. */
export interface UsageCounter {
  /** A function of `target` (counted once per layer version it runs, in $LATEST or a version an alias routes to). */
  add(target: AuditTarget, fn: ScannedFunction): void
  /** The rows so far, sorted; each row's targets sorted. */
  rows(): LayerUsage[]
}

export function usageCounter(known: Record<string, string>): UsageCounter {
  const rows = new Map<string, LayerUsage & {perTarget: Map<string, {accountId: string; region: string; functions: number}>}>()
  return {
    add(target, fn) {
      const key = `${target.accountId}/${target.region}`
      for (const arn of usedLayerArns(fn)) {
        let row = rows.get(arn)
        if (!row) {
          const parts = parseLayerVersionArn(arn)
          const layerArn = parts?.layerArn ?? arn
          const name = known[layerArn]
          row = {layerArn, ...(name === undefined ? {} : {name}), version: parts?.version ?? 0, arn, functions: 0, targets: [], perTarget: new Map()}
          rows.set(arn, row)
        }
        row.functions++
        const counted = row.perTarget.get(key) ?? {accountId: target.accountId, region: target.region, functions: 0}
        counted.functions++
        row.perTarget.set(key, counted)
      }
    },
    rows: () =>
      [...rows.values()]
        .map(({perTarget, ...row}) => ({
          ...row,
          targets: [...perTarget.values()].sort((a, b) => compareText(a.accountId, b.accountId) || compareText(a.region, b.region)),
        }))
        .sort(compareUsage),
  }
}

/**
 * The layer x version usage matrix: per layer version, how many functions use it (in $LATEST or in a
 * version an alias routes to; a function counts once per layer version), per target.
 */
export function usageMatrix(scans: TargetScan[], known: Record<string, string>): LayerUsage[] {
  const counter = usageCounter(known)
  for (const scan of scans) if (scan.status !== 'failed') for (const fn of scan.functions) counter.add(scan, fn)
  return counter.rows()
}

function compareUsage(a: LayerUsage, b: LayerUsage): number {
  return compareText(a.name ?? '\uffff' + a.layerArn, b.name ?? '\uffff' + b.layerArn) || compareText(a.layerArn, b.layerArn) || a.version - b.version
}

/** The aliases of a function as the report shows them: the versions each routes to, with their layers. */
function aliasReports(fn: ScannedFunction): AliasReport[] {
  const reports = new Map<string, AliasReport>()
  for (const route of aliasRoutes(fn)) {
    const layers = route.version === '$LATEST' ? fn.layers : (route.published?.layers ?? [])
    const report = reports.get(route.alias) ?? {name: route.alias, routes: []}
    report.routes.push({version: route.version, weight: route.weight, layers: layers.map((ref) => ref.arn)})
    reports.set(route.alias, report)
  }
  return [...reports.values()].sort((a, b) => compareText(a.name, b.name))
}

export interface ReportInput extends FindingsInput {
  startedAt: string
  finishedAt: string
}

/**
 * What one target contributes to a report: its row, its functions, its findings and its layer usage,
 * each sorted. An audit streams these as targets finish (`layers audit --format jsonl` writes them
 * out and keeps none); assembleReport folds them into the whole report.
 */
export interface TargetPart {
  target: TargetReport
  functions: FunctionReport[]
  findings: Finding[]
  usage: LayerUsage[]
}

/** The part of one scanned target; `input.layerVersions` needs only that target's account. */
export function targetPart(scan: TargetScan, input: FindingsInput): TargetPart {
  const judge = functionJudge(input)
  const scans = [scan]
  const target: TargetReport = {
    accountId: scan.accountId,
    ...(scan.accountName === undefined ? {} : {accountName: scan.accountName}),
    region: scan.region,
    status: scan.status,
    functions: scan.status === 'failed' ? 0 : scan.functions.length,
    ...(scan.status === 'ok' ? {} : {error: scan.error}),
  }
  // An incomplete target lists its functions (only some of their aliases could not be read).
  const functions = scan.status !== 'failed' ? scan.functions.map((fn) => judge.report(scan, fn)).sort((a, b) => compareText(a.name, b.name)) : []
  return {target, functions, findings: computeFindings({...input, scans}), usage: usageMatrix(scans, input.catalog.known)}
}

/** Counts of a report's summary, added up part by part. */
export function addToSummary(summary: AuditReport['summary'], part: TargetPart): void {
  summary.targets++
  if (part.target.status === 'failed') summary.failedTargets++
  summary.functions += part.functions.length
  for (const finding of part.findings) summary.findings[finding.severity]++
}

export function emptySummary(): AuditReport['summary'] {
  return {targets: 0, failedTargets: 0, functions: 0, findings: {error: 0, warning: 0, info: 0}}
}

/** The report's order of targets: by account id, then region. */
export function compareTargets(a: {accountId: string; region: string}, b: {accountId: string; region: string}): number {
  return compareText(a.accountId, b.accountId) || compareText(a.region, b.region)
}

/** One usage row per layer version ARN over all targets, from each target's rows (at most one per ARN) in the report's order of targets. */
export function mergeUsage(ofTargets: Iterable<readonly LayerUsage[]>): LayerUsage[] {
  const usage = new Map<string, LayerUsage>()
  for (const rows of ofTargets) {
    for (const row of rows) {
      const merged = usage.get(row.arn)
      if (merged) {
        merged.functions += row.functions
        merged.targets.push(...row.targets)
      } else {
        usage.set(row.arn, {...row, targets: [...row.targets]})
      }
    }
  }
  return [...usage.values()].sort(compareUsage)
}

/** The whole report from the parts of every target (in any order): the same sorted arrays buildReport gives. */
export function assembleReport(parts: readonly TargetPart[], times: {startedAt: string; finishedAt: string}): AuditReport {
  const sorted = [...parts].sort((a, b) => compareTargets(a.target, b.target))
  const summary = emptySummary()
  for (const part of sorted) addToSummary(summary, part)
  return {
    schemaVersion: AUDIT_SCHEMA_VERSION,
    startedAt: times.startedAt,
    finishedAt: times.finishedAt,
    summary,
    targets: sorted.map((part) => part.target),
    findings: sortFindings(sorted.flatMap((part) => part.findings)),
    usage: mergeUsage(sorted.map((part) => part.usage)),
    functions: sorted.flatMap((part) => part.functions),
  }
}

/** The whole report of one audit run (without run id and diff, which the history adds). */
export function buildReport(input: ReportInput): AuditReport {
  return assembleReport(
    input.scans.map((scan) => targetPart(scan, input)),
    input,
  )
}

/**
 * Identity of a finding across runs: the same problem on the same function and layer. Numbers in the
 * message (sizes, days left, versions) are left out, so a finding whose figures moved is unchanged.
 */
export function findingKey(finding: Finding): string {
  return [finding.code, finding.accountId, finding.region, finding.function, finding.layer ?? '', finding.message.replace(/\d+/g, '#')].join('\u0000')
}

/** What appeared and what disappeared between two runs' findings. */
export function diffFindings(previous: Finding[], current: Finding[]): {added: Finding[]; resolved: Finding[]; unchanged: number} {
  const before = new Set(previous.map(findingKey))
  const after = new Set(current.map(findingKey))
  return {
    added: sortFindings(current.filter((finding) => !before.has(findingKey(finding)))),
    resolved: sortFindings(previous.filter((finding) => !after.has(findingKey(finding)))),
    unchanged: current.filter((finding) => before.has(findingKey(finding))).length,
  }
}

/** How many findings (by their counts per severity) are at or above the --fail-on threshold. */
export function countAtThreshold(counts: Record<Severity, number>, failOn: 'error' | 'warning' | undefined): number {
  if (!failOn) return 0
  return counts.error + (failOn === 'warning' ? counts.warning : 0)
}
