// Owns `layers deploy` and `layers rollback` end to end for their commands: loads the manifest and the
// lockfile (which must match for the layers the chosen functions use), picks the function targets,
// packages the functions (src/package: the import check, then the thin zips; before any AWS call),
// wires AWS (the shared client factory, every account bound to its credentials by STS before its first
// call, src/aws/identity.ts) and the build records (unzipped sizes), and runs the deploy or rollback.
// With an image URI (--image-uri) nothing is packaged and no lockfile is read: the one named function
// gets that ECR image (by digest), in the targets of the image's region. With --image the image is
// built, every target read (and the protected-account question asked) before it is pushed to ECR.
import {desiredFromLock} from '../audit/desired.js'
import {selectFunctionTargets} from '../attach/plan.js'
import {awsClientFactory, type AwsClientFactory, type AwsConnection} from '../aws/clients.js'
import {accountGuard, boundClients, type AccountGuard} from '../aws/identity.js'
import {deployApi} from '../aws/lambda-deploy.js'
import {functionsApi} from '../aws/lambda-functions.js'
import {artifactStoreApi} from '../aws/s3-artifacts.js'
import type {Confirm} from '../cli/confirm.js'
import {InterruptedError, UserInputError} from '../errors/index.js'
import type {EmitEvent} from '../events.js'
import {bucketName} from '../manifest/bucket.js'
import type {Account, Manifest} from '../manifest/types.js'
import {packageFunctions} from '../package/package.js'
import {loadFunctionProject} from '../package/project.js'
import {loadManifest} from '../manifest/load.js'
import {projectPaths} from '../project/paths.js'
import {openStateDatabase} from '../store/db.js'
import {DIRECT_UPLOAD_MAX_REQUEST, fitsDirectUpload, packageObjectKey, parseImageUri} from './plan.js'
import {runRollback, type RollbackResult} from './rollback.js'
import {deployConfirmation} from './render.js'
import {deployResult, runDeploy, type DeployEnv, type DeployImage, type DeployOutcome, type DeployPackage, type DeployResult, type DeployRunOptions, type DeployTarget, type StepStatus} from './run.js'

interface TargetOptions extends AwsConnection {
  manifestPath: string
  functions: string[]
  accounts?: string[]
  regions?: string[]
  dryRun: boolean
  concurrency: number
  emit: EmitEvent
  /** Fires on an interrupt (no further write starts; InterruptedError says what was done). */
  signal?: AbortSignal
  /** --force: also change functions infrastructure as code owns (src/iac/ownership.ts). */
  force?: boolean
}

export interface DeployCommandOptions extends TargetOptions {
  /** Deploy to accounts marked `protected: true` without asking. */
  yes?: boolean
  /** Without --yes: asked before functions in protected accounts are changed (as attach asks); absent: not asked. */
  confirm?: Confirm
  publish: boolean
  alias?: string
  /** --traffic: percent of the alias's traffic for the new version. */
  traffic?: number
  createBucket: boolean
  /** --direct-upload: UpdateFunctionCode with the zip itself (ZipFile) when it fits Lambda's request limit. */
  directUpload?: boolean
  /** --image-uri: deploy this ECR image (ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPO@sha256:DIGEST) to the one named Image function instead of its package. */
  imageUri?: string
  /** --image: build the one named function's image as `layers image --push` does, push it to ECR in each target's account and region, and deploy it there. */
  image?: DeployImageBuild
  waitTimeoutMs?: number
}

/** How --image builds and pushes the image (the flags `layers image` takes for them). */
export interface DeployImageBuild {
  base?: string
  repository?: string
  createRepository: boolean
}

export interface RollbackCommandOptions extends TargetOptions {
  alias: string
}

const ALIAS_NAME = /^(?!\d+$)[a-zA-Z0-9_-]{1,128}$/

function checkAlias(alias: string | undefined): void {
  if (alias !== undefined && !ALIAS_NAME.test(alias)) {
    throw new UserInputError('ERR_LAYERS_FLAG_VALUE', `--alias ${JSON.stringify(alias)} is not a Lambda alias name.`, {
      hint: 'An alias name is 1 to 128 letters, digits, hyphens and underscores, not all digits (e.g. live).',
      details: {flag: 'alias', value: alias},
    })
  }
}

async function project(options: TargetOptions) {
  const loaded = await loadFunctionProject(options.manifestPath, options.functions, 'deploy')
  const targets = selectFunctionTargets(loaded.manifest, {functions: options.functions, accounts: options.accounts, regions: options.regions})
  return {...loaded, targets}
}

export async function deployCommand(options: DeployCommandOptions, factory: AwsClientFactory = awsClientFactory(options)): Promise<DeployResult> {
  checkAlias(options.alias)
  if (options.traffic !== undefined && options.alias === undefined) {
    throw new UserInputError('ERR_LAYERS_FLAG_VALUE', '--traffic needs --alias: it is the share of the alias\'s traffic the new version gets.', {hint: 'Add --alias NAME (e.g. --alias live --traffic 10).', details: {flag: 'traffic'}})
  }
  if (options.imageUri !== undefined) return deployImageCommand({...options, imageUri: options.imageUri}, factory)
  if (options.image !== undefined) return deployBuiltImageCommand(options, options.image, factory)
  const clients = boundClients(factory)
  const {manifest, lock, paths, targets} = await project(options)
  factory.budget.useSetting(manifest.settings.maxRps)
  const deployed = [...new Set(targets.map((target) => target.function))].map((key) => manifest.functions[key]!)
  const db = openStateDatabase(paths.stateDir)
  try {
    // The import check and the zips first: nothing is read from or written to AWS for a package that fails.
    const packaged = deployed.length > 0 ? await packageFunctions(manifest, lock, deployed, {stateDir: paths.stateDir, emit: options.emit, db, ...(options.signal ? {signal: options.signal} : {})}) : {functions: []}
    if (options.directUpload) checkDirectUpload(packaged.functions)
    const packages = new Map(packaged.functions.map((fn) => [fn.function, {zipPath: fn.zipPath, codeSha256: fn.codeSha256, zipBytes: fn.zipBytes, sha256Hex: fn.sha256Hex}]))
    const deployTargets: DeployTarget[] = targets.map((target) => ({
      ...target,
      bucket: bucketName(manifest.settings.bucket, target),
      key: packageObjectKey(manifest.settings.prefix, target.function, packages.get(target.function)!.sha256Hex),
    }))
    const sizes = db.prepare('SELECT unzipped_bytes AS bytes FROM builds WHERE code_sha256 = @sha UNION ALL SELECT unzipped_bytes FROM function_packages WHERE code_sha256 = @sha LIMIT 1')
    const env = deployEnv(clients, manifest, (codeSha256) => (sizes.get({sha: codeSha256}) as {bytes: number} | undefined)?.bytes)
    const runOptions: DeployRunOptions = {
      ...runSettings(options, manifest),
      packageOf: (target): DeployPackage => packages.get(target.function)!,
      desired: (target) => desiredFromLock(manifest, lock, target.function, target.accountId, target.region, target.architecture),
      createBucket: options.createBucket,
      ...(options.directUpload ? {directUpload: true} : {}),
    }
    return await confirmAndDeploy(deployTargets, env, runOptions, options, manifest)
  } finally {
    db.close()
  }
}

/**
 * `layers deploy FUNCTION --image-uri URI`: the image (by digest, in ECR of the targets' region) on the
 * one named function, with the same account binding, ownership refusal, confirmation, versions and
 * alias as a zip deploy; no package, no lockfile, no artifact bucket, no layers (they are in the image).
 */
export async function deployImageCommand(options: DeployCommandOptions & {imageUri: string}, factory: AwsClientFactory = awsClientFactory(options)): Promise<DeployResult> {
  const ref = parseImageUri(options.imageUri)
  if ('error' in ref) {
    throw new UserInputError('ERR_LAYERS_FLAG_VALUE', `--image-uri ${options.imageUri} ${ref.error}`, {
      hint: 'Pass the digest of an image in ECR (`layers image FUNCTION` pushes one and prints it), e.g. --image-uri 111111111111.dkr.ecr.us-east-1.amazonaws.com/api@sha256:<64 hex digits>.',
      details: {flag: 'image-uri', value: options.imageUri},
    })
  }
  checkImageFlags(options, 'image-uri')
  const image: DeployImage = {imageUri: options.imageUri, digest: ref.digest, codeSha256: ref.digest.slice('sha256:'.length)}
  return deployImages(options, factory, () => image, ref.ecr?.region)
}

/**
 * `layers deploy FUNCTION --image`: the image is built as `layers image FUNCTION --push` builds it (each
 * account checked by STS once, for the push and the deploy), then every target is read before anything
 * goes to ECR (pushThenDeploy), then it is pushed to the targets that take it and each takes its own
 * region's copy by digest as --image-uri deploys it (a blob the repository holds is not sent again).
 * Pushing writes to ECR, so --dry-run is refused: `layers image --output` builds offline,
 * `deploy --image-uri --dry-run` previews.
 */
async function deployBuiltImageCommand(options: DeployCommandOptions, build: DeployImageBuild, factory: AwsClientFactory): Promise<DeployResult> {
  checkImageFlags(options, 'image')
  if (options.dryRun) {
    throw new UserInputError('ERR_LAYERS_FLAG_VALUE', '--image pushes the image to ECR before deploying it, and --dry-run writes nothing.', {
      hint: `Build it offline with \`layers image ${options.functions[0]} --output DIR\`, or preview the deploy of a pushed image with \`layers deploy ${options.functions[0]} --image-uri URI --dry-run\`.`,
      details: {flag: 'dry-run'},
    })
  }
  // The image builder (and ECR's SDK package) is loaded only for --image.
  const {prepareImage} = await import('../image/command.js')
  const guard = accountGuard(factory)
  const prepared = await prepareImage(
    {
      ...options,
      function: options.functions[0]!,
      push: true,
      createRepository: build.createRepository,
      ...(build.base !== undefined ? {base: build.base} : {}),
      ...(build.repository !== undefined ? {repository: build.repository} : {}),
    },
    factory,
    guard,
  ).catch((error: unknown) => {
    if (!(error instanceof InterruptedError)) throw error
    throw new InterruptedError(error.signal, `layers deploy interrupted by ${error.signal} while building the image of ${options.functions[0]}: nothing was pushed and no function was changed.`)
  })
  const {digest} = prepared.result
  const imageOf = (target: DeployTarget): DeployImage => ({imageUri: prepared.imageUri(target), digest, codeSha256: digest.slice('sha256:'.length)})
  const push = async (targets: DeployTarget[]): Promise<void> => {
    try {
      await prepared.push(targets)
    } catch (error) {
      if (!(error instanceof InterruptedError)) throw error
      throw new InterruptedError(error.signal, `layers deploy interrupted by ${error.signal} while pushing the image of ${prepared.result.function}: ${error.message}; no function was changed.`, {details: {...error.details}})
    }
  }
  return deployImages(options, factory, imageOf, undefined, guard, push)
}

/** --image and --image-uri put one image on one function, and upload nothing to the artifact bucket. */
function checkImageFlags(options: DeployCommandOptions, flag: 'image' | 'image-uri'): void {
  const flagError = (message: string, hint: string, on: string = flag) => new UserInputError('ERR_LAYERS_FLAG_VALUE', message, {hint, details: {flag: on}})
  if (options.directUpload || options.createBucket) {
    const other = options.directUpload ? 'direct-upload' : 'create-bucket'
    throw flagError(`--${flag} cannot be combined with --${other}: an image is not uploaded, Lambda reads it from ECR.`, `Drop --${other}.`, other)
  }
  if (options.functions.length !== 1) {
    throw flagError(`--${flag} deploys one image to one function; ${options.functions.length === 0 ? 'no function was' : `${options.functions.length} functions were`} named.`, `Name the function: layers deploy FUNCTION --${flag}${flag === 'image' ? '' : ' URI'}.`)
  }
}

/**
 * Deploys `imageOf(target)` to each target of the one named Image function (`ecrRegion`: the one region
 * an --image-uri can serve); `push` (--image) puts the image in the ECR of the targets that take it first.
 */
async function deployImages(
  options: DeployCommandOptions,
  factory: AwsClientFactory,
  imageOf: (target: DeployTarget) => DeployImage,
  ecrRegion?: string,
  guard: AccountGuard = accountGuard(factory),
  push?: (targets: DeployTarget[]) => Promise<void>,
): Promise<DeployResult> {
  const clients = boundClients(factory, guard)
  const manifest = await loadManifest(projectPaths(options.manifestPath).manifest)
  const targets = selectFunctionTargets(manifest, {functions: options.functions, accounts: options.accounts, regions: options.regions})
  factory.budget.useSetting(manifest.settings.maxRps)
  // Lambda reads an image only from ECR in the function's region: targets elsewhere cannot take it.
  const elsewhere = ecrRegion === undefined ? [] : targets.filter((target) => target.region !== ecrRegion)
  if (elsewhere.length > 0) {
    const list = elsewhere.map((target) => `${target.functionName} in account ${target.accountId} (${target.accountName}), region ${target.region}`).join('; ')
    throw new UserInputError('ERR_LAYERS_FLAG_VALUE', `--image-uri ${options.imageUri} is in ECR of region ${ecrRegion}, and Lambda takes an image only from the function's own region: ${list}.`, {
      hint: `Deploy region by region (--region ${ecrRegion}), with the image pushed to each region's ECR (or use --image, which pushes it to each).`,
      details: {flag: 'image-uri', value: options.imageUri},
    })
  }
  const deployTargets: DeployTarget[] = targets.map((target) => ({...target, bucket: '', key: ''}))
  const env = deployEnv(clients, manifest, () => undefined)
  const runOptions: DeployRunOptions = {...runSettings(options, manifest), packageOf: imageOf, desired: () => ({arns: []}), createBucket: false}
  return push ? pushThenDeploy(deployTargets, env, runOptions, options, manifest, push) : confirmAndDeploy(deployTargets, env, runOptions, options, manifest)
}

function deployEnv(clients: AwsClientFactory, manifest: Manifest, unzippedBytes: DeployEnv['unzippedBytes']): DeployEnv {
  const account = (name: string): Account => manifest.accounts[name]!
  return {
    functionsApi: async (target) => functionsApi(await clients.lambda(account(target.accountName), target.region)),
    deployApi: async (target) => deployApi(await clients.lambda(account(target.accountName), target.region)),
    store: async (target) => artifactStoreApi(await clients.s3(account(target.accountName), target.region)),
    unzippedBytes,
  }
}

/** The run options every deploy takes from the command's options and the manifest (the code's own are added by the caller). */
function runSettings(options: DeployCommandOptions, manifest: Manifest): Omit<DeployRunOptions, 'packageOf' | 'desired' | 'createBucket'> {
  return {
    dryRun: options.dryRun,
    concurrency: options.concurrency,
    emit: options.emit,
    publish: options.publish || options.alias !== undefined,
    ...(options.alias !== undefined ? {alias: options.alias} : {}),
    ...(options.traffic !== undefined ? {traffic: options.traffic} : {}),
    ...(options.waitTimeoutMs ? {waitTimeoutMs: options.waitTimeoutMs} : {}),
    ...(options.signal ? {signal: options.signal} : {}),
    ...(manifest.settings.ownershipTags ? {ownershipTags: manifest.settings.ownershipTags} : {}),
    ...(options.force ? {force: true} : {}),
  }
}

const isProtectedIn =
  (manifest: Manifest) =>
  (target: {accountName: string}): boolean =>
    manifest.accounts[target.accountName]?.protected === true

/** Accounts marked `protected: true`: read what would change first (as --dry-run), ask, then deploy (as attach does). */
async function confirmAndDeploy(targets: DeployTarget[], env: DeployEnv, runOptions: DeployRunOptions, options: DeployCommandOptions, manifest: Manifest): Promise<DeployResult> {
  const isProtected = isProtectedIn(manifest)
  if (!options.dryRun && !options.yes && options.confirm && targets.some(isProtected)) {
    const preview = await previewDeploy(targets, env, {...runOptions, dryRun: true})
    const changes = preview.functions.filter((outcome) => outcome.status === 'would-deploy')
    const guarded = changes.filter(isProtected)
    if (guarded.length > 0) {
      if (!(await options.confirm(deployConfirmation(guarded)))) return preview
    } else if (changes.length === 0) {
      return {...preview, dryRun: false}
    }
  }
  return runDeploy(targets, env, runOptions)
}

/**
 * --image: one image for every target of the function, or none. Nothing goes to ECR before the deploy
 * is known to go ahead everywhere: every target is read first (as --dry-run: the function, its package
 * type, its owner, the alias); when one is refused or fails there (a Zip function:
 * ERR_LAYERS_PACKAGE_TYPE, exit 2), nothing is pushed and no target is deployed (the others end
 * not-started), as for a bad flag: the fix and one rerun deploy them all, instead of some accounts and
 * regions running the new image and the rest the old. Changes in protected accounts are asked about
 * (refused without a terminal and --yes); then the image is pushed to every target and deployed there.
 */
async function pushThenDeploy(targets: DeployTarget[], env: DeployEnv, runOptions: DeployRunOptions, options: DeployCommandOptions, manifest: Manifest, push: (targets: DeployTarget[]) => Promise<void>): Promise<DeployResult> {
  const preview = await previewDeploy(targets, env, {...runOptions, dryRun: true})
  const takesImage = (outcome: DeployOutcome): boolean => outcome.status === 'would-deploy' || outcome.status === 'unchanged'
  if (!preview.functions.every(takesImage)) {
    return deployResult(
      false,
      preview.functions.map((outcome) => (takesImage(outcome) ? {...notDone(outcome), status: 'not-started'} : notDone(outcome))),
      true,
    )
  }
  const guarded = preview.functions.filter((outcome) => outcome.status === 'would-deploy' && isProtectedIn(manifest)(outcome))
  if (!options.yes && options.confirm && guarded.length > 0 && !(await options.confirm(deployConfirmation(guarded, 'nothing was pushed to ECR and nothing was deployed')))) return preview
  await push(targets)
  return runDeploy(targets, env, runOptions)
}

/** A target's read-only outcome as the deploy's: what it would have changed was not done. */
function notDone(outcome: DeployOutcome): DeployOutcome {
  const asNotDone = (status: StepStatus): StepStatus => (status === 'would-update' ? 'not-done' : status)
  return {...outcome, code: asNotDone(outcome.code), layers: {...outcome.layers, status: asNotDone(outcome.layers.status)}}
}

/** --direct-upload: every package must fit Lambda's request limit (before any AWS call); larger ones go through S3. */
function checkDirectUpload(packages: ReadonlyArray<{function: string; zipPath: string; zipBytes: number}>): void {
  const large = packages.filter((pkg) => !fitsDirectUpload(pkg.zipBytes))
  if (large.length === 0) return
  const list = large.map((pkg) => `${pkg.function} (${pkg.zipPath}, ${pkg.zipBytes} bytes)`).join(', ')
  throw new UserInputError('ERR_LAYERS_DIRECT_UPLOAD_TOO_LARGE', `--direct-upload: the package of ${list} is over Lambda's 50 MB direct-upload limit (an UpdateFunctionCode request under ${DIRECT_UPLOAD_MAX_REQUEST} bytes, the zip base64-encoded).`, {
    hint: 'Deploy without --direct-upload: the package then goes through the artifact bucket (settings.bucket), as Lambda requires above 50 MB.',
    details: {flag: 'direct-upload', functions: large.map((pkg) => pkg.function)},
  })
}

export async function rollbackCommand(options: RollbackCommandOptions, factory: AwsClientFactory = awsClientFactory(options)): Promise<RollbackResult> {
  checkAlias(options.alias)
  const clients = boundClients(factory)
  // No lock needed: a rollback moves an alias back to a version, whatever the lockfile says now.
  const manifest = await loadManifest(projectPaths(options.manifestPath).manifest)
  const targets = selectFunctionTargets(manifest, {functions: options.functions, accounts: options.accounts, regions: options.regions})
  factory.budget.useSetting(manifest.settings.maxRps)
  const account = (name: string): Account => manifest.accounts[name]!
  return runRollback(
    targets,
    {
      functionsApi: async (target) => functionsApi(await clients.lambda(account(target.accountName), target.region)),
      deployApi: async (target) => deployApi(await clients.lambda(account(target.accountName), target.region)),
    },
    {
      alias: options.alias,
      dryRun: options.dryRun,
      concurrency: options.concurrency,
      emit: options.emit,
      ...(options.signal ? {signal: options.signal} : {}),
      ...(manifest.settings.ownershipTags ? {ownershipTags: manifest.settings.ownershipTags} : {}),
      ...(options.force ? {force: true} : {}),
    },
  )
}

/** The deploy run read-only; an interrupt while it runs has changed nothing. */
async function previewDeploy(targets: DeployTarget[], env: DeployEnv, options: DeployRunOptions): Promise<DeployResult> {
  try {
    return await runDeploy(targets, env, options)
  } catch (error) {
    if (!(error instanceof InterruptedError)) throw error
    throw new InterruptedError(error.signal, `deploy interrupted by ${error.signal} while reading what it would change: nothing was written.`)
  }
}
