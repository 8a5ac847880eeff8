// Owns running `layers deploy` against AWS, per function and target: read the function, decide what
// differs (its CodeSha256 from the package's, its Layers from the locked list, with --publish/--alias
// whether a version holding both exists and where the alias points), and leave it untouched when
// nothing does (no write at all). Otherwise, in Lambda's order: the ownership check (a function
// infrastructure as code owns is refused unless `force`, as attach does), the layer refusals (attach's
// own plan, read-only, so a refused layer list fails before the code moves), the package uploaded
// content-addressed to the artifact bucket (skipped when the object is there), UpdateFunctionCode from
// S3 (or with the zip itself under --direct-upload) under the RevisionId, a bounded wait for LastUpdateStatus Successful, the locked layers in one
// UpdateFunctionConfiguration (runAttach for the one target), then PublishVersion under CodeSha256 and
// RevisionId preconditions and the alias moved (or shifted by weight) under its RevisionId, the version
// it pointed at before recorded in its description (src/deploy/plan.ts). A write whose answer was lost
// (the SDK's retry then meets its own moved RevisionId) or of unknown outcome is read back (`landed`):
// what Lambda holds decides whether it is done, so a rerun or a retry never updates or publishes twice.
// On an interrupt (options.signal) no further write is started; one already sent stands, and
// InterruptedError lists what each target got.
// A container image (DeployImage, --image-uri) goes the same way with UpdateFunctionCode ImageUri in
// place of the package and its upload, and no layers step (an Image function has none: they are in
// the image); CodeSha256 is then the image's manifest digest (hex), so the same comparisons, version
// lookups and read-backs hold. Each kind of code is refused on a function of the other package type.
import {readFile} from 'node:fs/promises'
import {outcomeCounts, runPerTarget} from '../attach/outcomes.js'
import type {AttachEnv, AttachOutcome} from '../attach/run.js'
import {runAttach, waitForUpdate} from '../attach/run.js'
import {isSameList, type FunctionState, type FunctionTarget, type LayerDiff} from '../attach/plan.js'
import {isUncertain, targetError, type TargetError} from '../aws/errors.js'
import type {Conflict, DeployApi} from '../aws/lambda-deploy.js'
import type {ArtifactStoreApi} from '../aws/s3-artifacts.js'
import {InterruptedError, OperationalError} from '../errors/index.js'
import type {EmitEvent} from '../events.js'
import {describeOwner, ownerOf, type Owner} from '../iac/ownership.js'
import {formatBytes} from '../cli/table.js'
import {planAliasMove, sameRoute, type AliasRoute} from './plan.js'
import {renderDeployInterrupted} from './render.js'

/** The package of one function (src/package) and where it goes in the artifact bucket. */
export interface DeployPackage {
  zipPath: string
  codeSha256: string
  zipBytes: number
}

/** A container image in ECR, named by its digest (src/deploy/plan.ts parseImageUri). */
export interface DeployImage {
  imageUri: string
  /** sha256:HEX, the manifest digest. */
  digest: string
  /** The digest's HEX: what Lambda reports as an Image function's CodeSha256. */
  codeSha256: string
}

export interface DeployTarget extends FunctionTarget {
  bucket: string
  key: string
}

export interface DeployEnv extends AttachEnv {
  deployApi(target: DeployTarget): Promise<DeployApi>
  store(target: DeployTarget): Promise<ArtifactStoreApi>
}

export interface DeployRunOptions {
  dryRun: boolean
  concurrency: number
  emit: EmitEvent
  /** The code of a manifest function: its package, or the container image to deploy. */
  packageOf(target: DeployTarget): DeployPackage | DeployImage
  /** The desired Layers list of a target, or why there is none (attach's). */
  desired(target: FunctionTarget): {arns: string[]} | {error: string}
  publish: boolean
  alias?: string
  /** Percent of the alias's traffic for the new version (below 100: a weighted shift). */
  traffic?: number
  createBucket: boolean
  /** --direct-upload: the zip goes in UpdateFunctionCode itself (ZipFile), no artifact bucket (the command checks the size). */
  directUpload?: boolean
  waitTimeoutMs?: number
  pollMs?: number
  signal?: AbortSignal
  ownershipTags?: readonly string[]
  force?: boolean
}

/** `interrupted`: an interrupt came after some of the target's writes (they stand). */
export type DeployStatus = 'unchanged' | 'deployed' | 'would-deploy' | 'refused' | 'conflict' | 'failed' | 'not-started' | 'interrupted'
export type StepStatus = 'unchanged' | 'updated' | 'would-update' | 'not-done'

export interface DeployOutcome {
  function: string
  functionName: string
  accountName: string
  accountId: string
  region: string
  status: DeployStatus
  /** Base64 SHA-256 of the package, or the image digest's hex (what CodeSha256 becomes). */
  codeSha256: string
  /** The container image deployed (--image-uri). */
  image?: {uri: string; digest: string}
  /** The function's CodeSha256 before. */
  previousCodeSha256?: string
  code: StepStatus
  /** The package in the artifact bucket (read or written only when the code changes). */
  s3?: {bucket: string; key: string; upload: 'exists' | 'uploaded' | 'would-upload'}
  layers: {status: StepStatus; before: string[]; after: string[]; diff?: LayerDiff}
  /** The published version the alias is to route to (with --publish or --alias). */
  version?: string
  /** True when PublishVersion was called (false: an existing version holds this code and these layers). */
  published?: boolean
  alias?: {name: string; status: 'unchanged' | 'created' | 'moved' | 'would-create' | 'would-move' | 'not-done'; before?: AliasRoute; after?: AliasRoute}
  owner?: Owner
  reasons?: string[]
  error?: TargetError
}

export interface DeployResult {
  dryRun: boolean
  functions: DeployOutcome[]
  summary: {targets: number; deployed: number; unchanged: number; refused: number; conflicts: number; failed: number; notStarted?: number}
}

/** The result of a deploy's outcomes, with its summary (`notStarted` counted when some targets were held back: an interrupt, or deploy --image stopped by another target). */
export function deployResult(dryRun: boolean, functions: DeployOutcome[], heldBack: boolean): DeployResult {
  const {count, counts} = outcomeCounts<DeployStatus>(functions, heldBack, ['not-started', 'interrupted'])
  return {dryRun, functions, summary: {targets: functions.length, deployed: count('deployed', 'would-deploy'), ...counts}}
}

export async function runDeploy(targets: DeployTarget[], env: DeployEnv, options: DeployRunOptions): Promise<DeployResult> {
  const functions = await runPerTarget(targets, {concurrency: options.concurrency, phase: 'deploy', emit: options.emit}, (target) => deployOne(target, env, options))
  const interrupted = options.signal?.aborted === true
  const result = deployResult(options.dryRun, functions, interrupted)
  if (!interrupted) return result
  const signal = InterruptedError.signalOf(options.signal!)
  throw new InterruptedError(signal, renderDeployInterrupted(signal, result), {details: {...result}})
}

/** Thrown inside deployOne to end a target with an outcome. */
class Stop extends Error {
  constructor(readonly patch: Partial<DeployOutcome>) {
    super('stop')
  }
}

async function deployOne(target: DeployTarget, env: DeployEnv, options: DeployRunOptions): Promise<DeployOutcome> {
  const pkg = options.packageOf(target)
  const image = 'imageUri' in pkg ? pkg : undefined
  const zip = 'imageUri' in pkg ? undefined : pkg
  const outcome: DeployOutcome = {
    function: target.function,
    functionName: target.functionName,
    accountName: target.accountName,
    accountId: target.accountId,
    region: target.region,
    status: 'unchanged',
    codeSha256: pkg.codeSha256,
    code: 'unchanged',
    layers: {status: 'unchanged', before: [], after: []},
    ...(image ? {image: {uri: image.imageUri, digest: image.digest}} : {}),
  }
  const where = `${target.functionName} in account ${target.accountId} (${target.accountName}), region ${target.region}`
  let wrote = false
  /** Before each write: an interrupt ends the target here (what was written stands). */
  const beforeWrite = () => {
    if (options.signal?.aborted) throw new Stop({status: wrote ? 'interrupted' : 'not-started'})
  }
  if (options.signal?.aborted) return {...outcome, status: 'not-started'}
  try {
    const api = await env.functionsApi(target)
    const current = await api.getFunction(target.functionName)
    if (!current) {
      throw new Stop({status: 'failed', error: {code: 'ERR_LAYERS_FUNCTION_NOT_FOUND', message: `Function ${where} does not exist.`, hint: 'layers deploy updates existing functions: create it first (console, CLI or IaC), or fix its `name` or `accounts` in the manifest.'}})
    }
    outcome.previousCodeSha256 = current.codeSha256 ?? ''
    outcome.layers.before = current.layers.map((layer) => layer.arn)
    outcome.layers.after = outcome.layers.before
    if ((current.packageType === 'Image') !== (image !== undefined)) throw new Stop({status: 'refused', error: packageTypeRefusal(target, where, image)})
    // An Image function's layers are in its image: its (empty) Layers list is left as it is.
    const desired = image ? {arns: outcome.layers.before} : options.desired(target)
    if ('error' in desired) throw new Stop({status: 'refused', reasons: [desired.error]})
    outcome.layers.after = desired.arns
    const codeChanged = current.codeSha256 !== pkg.codeSha256
    const layersChanged = !isSameList(outcome.layers.before, desired.arns)
    if (codeChanged) outcome.code = options.dryRun ? 'would-update' : 'not-done'
    if (layersChanged) outcome.layers.status = options.dryRun ? 'would-update' : 'not-done'
    const deploy = await env.deployApi(target)
    // A version holding this code and these layers already (nothing to publish), read only when $LATEST stays as it is.
    const routed = options.publish || options.alias !== undefined
    const existing = routed && !codeChanged && !layersChanged ? await deploy.findVersion(target.functionName, pkg.codeSha256, desired.arns) : undefined
    const alias = options.alias === undefined ? undefined : await deploy.getAlias(target.functionName, options.alias)
    if (options.alias !== undefined && alias) outcome.alias = {name: options.alias, status: 'unchanged', before: routeOf(alias)}
    if (existing) outcome.version = existing
    // The alias's move is known now when the version is; a new version's number is known once published.
    const aliasPlan = options.alias === undefined ? undefined : planAliasMove(options.alias, alias, existing ?? 'new', options.traffic)
    if (aliasPlan?.action === 'refuse') throw new Stop({status: 'refused', reasons: [aliasPlan.reason]})
    const needsVersion = routed && !existing
    if (!codeChanged && !layersChanged && !needsVersion && (aliasPlan === undefined || aliasPlan.action === 'noop')) return outcome
    await checkOwner(api, current, target, options, outcome)
    // The layer list's refusals (attach's plan: 5 layers, sizes, runtimes, architectures, readable versions) before anything moves.
    if (layersChanged) {
      const check = await attachStep(target, env, options, desired.arns, true)
      if (check.status !== 'would-update') throw new Stop(layerFailure(check))
      outcome.layers.diff = check.diff
    }
    if (options.dryRun) {
      if (codeChanged && !options.directUpload && zip) outcome.s3 = {bucket: target.bucket, key: target.key, upload: (await uploadState(env, target, zip, options)) ? 'exists' : 'would-upload'}
      if (needsVersion) outcome.published = true
      if (options.alias !== undefined) outcome.alias = {...(outcome.alias ?? {name: options.alias}), status: alias ? 'would-move' : 'would-create', ...(aliasPlan && aliasPlan.action !== 'noop' && existing ? {after: aliasPlan.route} : {})}
      return {...outcome, status: 'would-deploy'}
    }
    if (codeChanged) {
      const source = zip ? await zipSource(target, env, options, zip, outcome, beforeWrite) : {imageUri: image!.imageUri}
      beforeWrite()
      const update = await landed(
        () => imageRefusal(deploy.updateCode(target.functionName, source, current.revisionId), where, image),
        async () => {
          const now = await api.getFunction(target.functionName)
          return now?.codeSha256 === pkg.codeSha256 ? {status: 'ok' as const, state: now} : undefined
        },
      )
      if (update.status !== 'ok') throw new Stop(conflict(target, update.status, 'UpdateFunctionCode'))
      wrote = true
      outcome.code = 'updated'
      if (update.state.codeSha256 !== pkg.codeSha256) {
        const hint = image ? `Lambda resolved ${image.imageUri} to other content: check the image URI and run layers deploy again.` : `The object s3://${target.bucket}/${target.key} holds other bytes than the package: delete it and run layers deploy again.`
        throw new Stop({status: 'failed', error: {code: 'ERR_LAYERS_CODE_MISMATCH', message: `Lambda reports CodeSha256 ${update.state.codeSha256 ?? '(none)'} for ${where}, not the ${image ? "image's" : "package's"} ${pkg.codeSha256}.`, hint}})
      }
      const what = image ? `the image update (UpdateFunctionCode ImageUri ${image.digest})` : 'the code update (UpdateFunctionCode)'
      options.emit({type: 'progress', phase: 'deploy', message: `${target.functionName} ${target.accountName}/${target.region}: waiting for LastUpdateStatus Successful after ${what}`})
      await settle(api, target, update.state, options, what)
    }
    if (layersChanged) {
      beforeWrite()
      const attached = await attachStep(target, env, options, desired.arns, false)
      if (attached.status !== 'updated' && attached.status !== 'unchanged') throw new Stop(layerFailure(attached))
      wrote = wrote || attached.status === 'updated'
      outcome.layers = {status: attached.status, before: attached.before, after: attached.after, ...(attached.diff ? {diff: attached.diff} : {})}
      if (options.signal?.aborted) throw new Stop({status: 'interrupted'})
    }
    let version = existing
    if (needsVersion) {
      beforeWrite()
      const fresh = await api.getFunction(target.functionName)
      if (!fresh) throw new Stop({status: 'failed', error: {code: 'ERR_LAYERS_FUNCTION_NOT_FOUND', message: `Function ${where} was deleted while layers deploy was updating it.`}})
      // Another deploy changed the code or the layers after ours: publishing would snapshot theirs.
      if (fresh.codeSha256 !== pkg.codeSha256 || !isSameList(fresh.layers.map((layer) => layer.arn), desired.arns)) throw new Stop(conflict(target, 'changed', 'PublishVersion'))
      // The RevisionId read just now: a change after it fails the call (PreconditionFailedException). Of unknown
      // outcome, the newest version holding this code and these layers is the one it made (or an identical one).
      const published = await landed(
        () => deploy.publishVersion(target.functionName, pkg.codeSha256, fresh.revisionId),
        async () => {
          const found = await deploy.findVersion(target.functionName, pkg.codeSha256, desired.arns)
          return found === undefined ? undefined : {status: 'ok' as const, version: found}
        },
      )
      if (published.status !== 'ok') throw new Stop(conflict(target, published.status, 'PublishVersion'))
      wrote = true
      version = published.version
      outcome.version = version
      outcome.published = true
    } else if (existing) {
      outcome.published = false
    }
    if (options.alias !== undefined && version !== undefined) {
      const plan = planAliasMove(options.alias, alias, version, options.traffic)
      if (plan.action === 'refuse') throw new Stop({status: 'refused', reasons: [plan.reason]})
      if (plan.action !== 'noop') {
        beforeWrite()
        const route = plan.route
        const moved = await landed(
          () => deploy.putAlias(target.functionName, options.alias!, route, alias),
          async () => {
            const now = await deploy.getAlias(target.functionName, options.alias!)
            return now && sameRoute(now, route) ? {status: 'ok' as const, alias: now} : undefined
          },
        )
        if (moved.status !== 'ok') throw new Stop(conflict(target, moved.status, alias ? 'UpdateAlias' : 'CreateAlias'))
        wrote = true
        outcome.alias = {name: options.alias, status: alias ? 'moved' : 'created', ...(alias ? {before: routeOf(alias)} : {}), after: routeOf(moved.alias)}
      }
    }
    return {...outcome, status: 'deployed'}
  } catch (error) {
    if (error instanceof Stop) return {...outcome, ...error.patch}
    if (error instanceof InterruptedError) return {...outcome, status: wrote ? 'interrupted' : 'not-started'}
    return {...outcome, status: 'failed', error: targetError(error)}
  }
}

/** The zip's source for UpdateFunctionCode: the package itself (--direct-upload), or its object in the artifact bucket, uploaded when it is not there. */
async function zipSource(target: DeployTarget, env: DeployEnv, options: DeployRunOptions, pkg: DeployPackage, outcome: DeployOutcome, beforeWrite: () => void): Promise<{zip: Uint8Array} | {bucket: string; key: string}> {
  if (options.directUpload) return {zip: await readFile(pkg.zipPath)}
  const there = await uploadState(env, target, pkg, options)
  if (!there) {
    beforeWrite()
    const store = await env.store(target)
    const onProgress = (sent: number, total: number) => options.emit({type: 'progress', phase: 'upload', message: `${target.functionName} ${target.accountName}/${target.region}: ${formatBytes(sent)} of ${formatBytes(total)}`})
    const stored = await store.upload({bucket: target.bucket, key: target.key, file: pkg.zipPath, bytes: pkg.zipBytes, sha256Base64: pkg.codeSha256, onProgress, ...(options.signal ? {signal: options.signal} : {})})
    // Cancelled by an interrupt (S3 kept nothing): the target ends here, as before any write.
    if (!stored) beforeWrite()
  }
  outcome.s3 = {bucket: target.bucket, key: target.key, upload: there ? 'exists' : 'uploaded'}
  return {bucket: target.bucket, key: target.key}
}

/** Error code of a deploy refused for the function's package type (the command exits 2 when these are all that went wrong). */
export const PACKAGE_TYPE_REFUSED = 'ERR_LAYERS_PACKAGE_TYPE'

/** Why the code cannot go on this function: a zip on an Image function, or an image on a Zip function (Lambda never changes a function's package type). */
function packageTypeRefusal(target: DeployTarget, where: string, image: DeployImage | undefined): TargetError {
  if (!image) {
    return {
      code: PACKAGE_TYPE_REFUSED,
      message: `${where} is a container image function (PackageType Image); a .zip package cannot be put on it.`,
      hint: `Deploy an image to it: \`layers image ${target.function}\` builds and pushes one (the locked layers in /opt, the code in /var/task), then \`layers deploy ${target.function} --image-uri ${target.accountId}.dkr.ecr.${target.region}.amazonaws.com/REPOSITORY@sha256:DIGEST\`.`,
    }
  }
  return {
    code: PACKAGE_TYPE_REFUSED,
    message: `${where} is a .zip function (PackageType Zip); --image-uri deploys container images to Image functions, and Lambda cannot change a function's package type.`,
    hint:
      `Deploy its code as a zip with \`layers deploy ${target.function}\`, or recreate it as an Image function: ` +
      `\`aws lambda delete-function --function-name ${target.functionName} --region ${target.region}\`, then ` +
      `\`aws lambda create-function --function-name ${target.functionName} --region ${target.region} --package-type Image --code ImageUri=${image.imageUri} --role ROLE_ARN\` ` +
      `(its versions, aliases, triggers and permissions go with the old function: recreate them), or create a new Image function and move its triggers.`,
  }
}

/** Lambda's refusal of the image itself (not there, another region, not readable, not supported) as an error naming the image, the function and how to fix it. */
async function imageRefusal<T>(write: Promise<T>, where: string, image: DeployImage | undefined): Promise<T> {
  try {
    return await write
  } catch (error) {
    const name = (error as {name?: string}).name
    if (!image || (name !== 'InvalidParameterValueException' && name !== 'AccessDeniedException')) throw error
    throw new OperationalError('ERR_LAYERS_IMAGE_REFUSED', `Lambda refused image ${image.imageUri} for ${where}: ${(error as Error).message}`, {
      hint:
        name === 'AccessDeniedException'
          ? "Lambda reads an image of another account only when its ECR repository's policy allows lambda.amazonaws.com ecr:BatchGetImage and ecr:GetDownloadUrlForLayer; grant that, or push the image to this account's ECR."
          : 'Push the image to ECR in the function\'s account and region first (`layers image FUNCTION` builds and pushes it and prints its digest), and pass that digest.',
    })
  }
}

function routeOf(alias: AliasRoute): AliasRoute {
  return {functionVersion: alias.functionVersion, weights: alias.weights, description: alias.description}
}

/**
 * One write of a deploy, sent with the SDK's retries: when its answer is lost after Lambda applied it, the
 * retry meets the RevisionId the write moved (or the update it started, or the alias it made) and the
 * write comes back as a conflict; a write that ends of unknown outcome (5xx, no answer) may have landed
 * too. Either way `readBack` looks at what Lambda holds now: when that is what the write was to make, it
 * counts as done (ours, or another deploy's making the same change); else the conflict or the error stands.
 */
async function landed<T extends {status: 'ok'}>(write: () => Promise<T | Conflict>, readBack: () => Promise<T | undefined>): Promise<T | Conflict> {
  let result: T | Conflict
  try {
    result = await write()
  } catch (error) {
    if (!isUncertain(error)) throw error
    const seen = await readBack().catch(() => undefined)
    if (seen) return seen
    throw error
  }
  return result.status === 'ok' ? result : ((await readBack()) ?? result)
}

function conflict(target: DeployTarget, kind: Conflict['status'] | 'changed', call: string): Partial<DeployOutcome> {
  const why = kind === 'stale-revision' ? 'RevisionId moved' : kind === 'in-progress' ? 'another update in progress' : 'its code or layers are no longer the ones deployed'
  return {
    status: 'conflict',
    error: {
      code: 'ERR_LAYERS_DEPLOY_CONFLICT',
      message: `${target.functionName} in ${target.accountName}/${target.region} changed while layers deploy was updating it (${call}: ${why}).`,
      hint: 'Wait for the other deployment to finish and run `layers deploy` again (what is already in place is not written again).',
    },
  }
}

function layerFailure(attached: AttachOutcome): Partial<DeployOutcome> {
  if (attached.status === 'refused') return {status: 'refused', reasons: attached.reasons ?? [], ...(attached.owner ? {owner: attached.owner} : {})}
  if (attached.status === 'conflict') return {status: 'conflict', ...(attached.error ? {error: attached.error} : {})}
  if (attached.status === 'not-started') return {status: 'interrupted'}
  return {status: 'failed', ...(attached.error ? {error: attached.error} : {})}
}

/** The layers of one target through attach (its refusals, RevisionId retry and bounded wait). */
async function attachStep(target: DeployTarget, env: DeployEnv, options: DeployRunOptions, arns: string[], dryRun: boolean): Promise<AttachOutcome> {
  const result = await runAttach([target], env, {
    dryRun,
    concurrency: 1,
    emit: options.emit,
    desired: () => ({arns}),
    ...(options.waitTimeoutMs ? {waitTimeoutMs: options.waitTimeoutMs} : {}),
    ...(options.pollMs ? {pollMs: options.pollMs} : {}),
    ...(options.signal ? {signal: options.signal} : {}),
    ...(options.ownershipTags ? {ownershipTags: options.ownershipTags} : {}),
    // Ownership was decided by deploy already (refused, or --force).
    force: true,
  })
  return result.functions[0]!
}

/** Refuses (Stop) a function infrastructure as code owns unless --force; with --force warns. */
async function checkOwner(api: Awaited<ReturnType<DeployEnv['functionsApi']>>, current: FunctionState, target: DeployTarget, options: DeployRunOptions, outcome: DeployOutcome): Promise<void> {
  if (!current.arn) return
  let tags: Record<string, string> | undefined
  try {
    tags = await api.listTags(current.arn)
  } catch (error) {
    const failure = targetError(error)
    if (!options.force) throw new Stop({status: 'refused', reasons: [`could not read the tags of ${target.functionName} (${failure.code}: ${failure.message}) to tell whether infrastructure as code owns it; allow lambda:ListTags on it, or pass --force.`]})
  }
  const owner = tags ? ownerOf(tags, options.ownershipTags) : undefined
  if (!owner) return
  outcome.owner = owner
  const redeploy = owner.kind === 'cloudformation' ? `deploy its code with stack ${owner.stack}` : `deploy it with the tool its tag ${owner.tag} names`
  if (!options.force) throw new Stop({status: 'refused', reasons: [`${target.functionName} belongs to ${describeOwner(owner)}: code and layers put there by layers deploy are drift its next deploy reverts; ${redeploy} (or pass --force).`]})
  if (!options.dryRun) {
    options.emit({type: 'warning', warning: {severity: 'warning', code: 'ERR_LAYERS_DEPLOY_OWNED', message: `${target.functionName} in ${target.accountName}/${target.region} belongs to ${describeOwner(owner)}; deployed because of --force, its next deploy sets its code and layers back.`, hint: `${redeploy[0]!.toUpperCase()}${redeploy.slice(1)}.`}})
  }
}

/** Waits (bounded) for an update to finish; Stop with a failure when Lambda could not apply it. */
async function settle(api: Awaited<ReturnType<DeployEnv['functionsApi']>>, target: DeployTarget, state: FunctionState, options: DeployRunOptions, what: string): Promise<FunctionState> {
  const final = await waitForUpdate(api, target.functionName, state, options, {what, command: 'deploy'})
  if (options.signal?.aborted) throw new Stop({status: 'interrupted'})
  if (final.lastUpdateStatus === 'Failed') {
    throw new Stop({
      status: 'failed',
      error: {
        code: 'ERR_LAYERS_UPDATE_FAILED',
        message: `Lambda could not apply ${what} to ${target.functionName} in account ${target.accountId} (${target.accountName}), region ${target.region}: LastUpdateStatus Failed: ${final.lastUpdateStatusReason ?? 'no reason given'}`,
        hint: 'Lambda kept the previous code; fix the cause it names, then run `layers deploy` again.',
      },
    })
  }
  return final
}

/** True when the package is in the bucket already (same key, same size); checks the bucket first (once per run per bucket is enough, S3 answers fast). */
async function uploadState(env: DeployEnv, target: DeployTarget, pkg: DeployPackage, options: DeployRunOptions): Promise<boolean> {
  const store = await env.store(target)
  const state = await store.bucketState(target.bucket)
  if (state === 'forbidden') {
    throw new OperationalError('ERR_LAYERS_BUCKET_FORBIDDEN', `Bucket ${target.bucket} exists but account ${target.accountId} (${target.accountName}) cannot use it.`, {
      hint: 'S3 bucket names are global: choose another `settings.bucket` template (e.g. with {accountId} and {region}), or grant this account access.',
    })
  }
  if (state === 'missing') {
    if (!options.createBucket) {
      throw new OperationalError('ERR_LAYERS_BUCKET_MISSING', `Bucket ${target.bucket} (settings.bucket) does not exist in account ${target.accountId} (${target.accountName}), region ${target.region}.`, {
        hint: 'Run `layers deploy --create-bucket` to create it, or create it yourself in the function\'s region (Lambda reads the package only from there).',
      })
    }
    if (options.dryRun) return false
    await store.createBucket(target.bucket, target.region)
    return false
  }
  return (await store.objectSize(target.bucket, target.key)) === pkg.zipBytes
}
