// Owns `layers image FUNCTION` end to end for its command: loads the project (the lock must match the
// function's layers), packages the function (src/package: the import check, then the thin zip), logs in
// to the ECR registry of every push target first (each account verified by STS before its first ECR
// call; a base image in one of those registries is read with its credentials), reads the function's
// ARN layers from Lambda in the push targets (without --push: in the function's first account and
// region; src/image/arn-layers.ts, the image needs the same content in all), assembles the image
// once (src/image/function-image.ts), writes it as an OCI layout (--output) and pushes it (--push) to
// the repository in each of the function's accounts and regions (narrowed by --account/--region).
// prepareImage does all but the push, so deploy --image can read the functions (and ask) before it
// pushes. On an interrupt a blob request in flight is cut, nothing new starts, and InterruptedError says
// whether the layout was written and which targets have the image (a push's manifest goes last, so a
// target either has the whole image or does not show it; rerun, it uploads only the blobs missing).
import path from 'node:path'
import {selectFunctionTargets, type FunctionTarget} from '../attach/plan.js'
import {awsClientFactory, type AwsClientFactory, type AwsConnection} from '../aws/clients.js'
import {accountGuard, boundClients, type AccountGuard} from '../aws/identity.js'
import {resolveTimeouts} from '../aws/time-bounds.js'
import {InterruptedError, UserInputError} from '../errors/index.js'
import type {EmitEvent} from '../events.js'
import type {Lockfile} from '../lock/types.js'
import type {FunctionSpec, Manifest} from '../manifest/types.js'
import {builtArtifactFinder} from '../package/artifacts.js'
import {packageFunctions} from '../package/package.js'
import {loadFunctionProject} from '../package/project.js'
import {openStateDatabase} from '../store/db.js'
import type {FunctionImage, ImagePart} from './assemble.js'
import {arnLayerCacheDir, arnLayerZips as readArnLayerZips, usesArnLayers, type ArnLayerEnv, type ArnLayerZip} from './arn-layers.js'
import type {EcrRegistry} from './ecr.js'
import {buildFunctionImage, ecrLogin, pushFunctionImage, type PushedFunctionImage, type PushFunctionImageEnv} from './function-image.js'
import {writeOciLayout} from './layout.js'
import {describePushProgress, type PushProgress} from './push.js'

export interface ImageCommandOptions extends AwsConnection {
  manifestPath: string
  function: string
  base?: string
  /** --output: write the image as an OCI image layout into this directory. */
  output?: string
  push: boolean
  repository?: string
  tag?: string
  createRepository: boolean
  accounts?: string[]
  regions?: string[]
  emit: EmitEvent
  signal?: AbortSignal
}

export interface ImageResult {
  function: string
  functionName: string
  runtime: string
  architecture: string
  handler: string
  base: {reference: string; digest: string | null}
  /** The image manifest's digest. */
  digest: string
  mediaType: string
  configDigest: string
  /** Bytes of every layer, the config and the manifest. */
  sizeBytes: number
  layers: ImagePart[]
  /** The OCI layout written (absolute), or null. */
  output: string | null
  pushes: PushedFunctionImage[]
}

const REPOSITORY_NAME = /^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/

/** --repository, else the function's `image.repository` (checked by the manifest schema), else its name in lower case. */
function repositoryOf(fn: FunctionSpec, flag: string | undefined): string {
  const name = flag ?? fn.image?.repository ?? fn.name.toLowerCase()
  if (name.length < 2 || name.length > 256 || !REPOSITORY_NAME.test(name)) {
    throw new UserInputError('ERR_LAYERS_FLAG_VALUE', `${flag === undefined ? `The repository name derived from function ${fn.key} (${fn.name})` : `--repository ${JSON.stringify(flag)}`}, ${JSON.stringify(name)}, is not an ECR repository name.`, {
      hint: 'Give --repository NAME: 2 to 256 lowercase letters, digits and ._-/ separators (e.g. acme/api).',
      details: {flag: 'repository', value: name},
    })
  }
  return name
}

/** The ARN layers' zips, read in the push targets, else (an offline --output build) in the function's first account and region. */
async function readArnLayers(manifest: Manifest, lock: Lockfile, fn: FunctionSpec, pushTargets: readonly FunctionTarget[], env: ArnLayerEnv): Promise<Map<string, ArnLayerZip>> {
  const targets = pushTargets.length > 0 ? pushTargets : selectFunctionTargets(manifest, {functions: [fn.key]}).slice(0, 1)
  if (targets.length === 0) {
    throw new UserInputError('ERR_LAYERS_NO_TARGETS', `Function ${fn.key} uses ARN layers, which are read from Lambda in one of the function's accounts and regions, and it has none.`, {
      hint: `Give the function accounts (functions.${fn.key}.accounts), or remove its ARN layers.`,
      details: {function: fn.key},
    })
  }
  return readArnLayerZips(manifest, lock, fn, targets.map((target) => ({account: manifest.accounts[target.accountName]!, region: target.region})), env)
}

/** A function's image, built (and written with --output), ready to push: the result of `layers image` but its pushes. */
export interface PreparedImage {
  result: Omit<ImageResult, 'pushes'>
  /** The push targets (none without --push). */
  targets: FunctionTarget[]
  /** Where a push to `target` puts the image: REGISTRY/REPOSITORY@sha256:... (known before the push: the login's registry, the digest). */
  imageUri(target: FunctionTarget): string
  /**
   * Pushes the image to `targets` in turn. On an interrupt: InterruptedError whose message says which
   * targets have the image and which not (with the blobs the one in flight got), details {pushed, notPushed, inFlight}.
   */
  push(targets: readonly FunctionTarget[]): Promise<PushedFunctionImage[]>
}

const where = (target: FunctionTarget): string => `${target.accountName} (${target.accountId}) ${target.region}`

/**
 * Packages the function, logs in to the ECR registry of each push target (its account checked by STS
 * first), reads its ARN layers, assembles the image and writes --output; pushes nothing.
 * `guard`: the accounts' STS checks, shared with a caller that goes on to use the same accounts (deploy --image).
 */
export async function prepareImage(options: ImageCommandOptions, factory: AwsClientFactory = awsClientFactory(options), guard: AccountGuard = accountGuard(factory)): Promise<PreparedImage> {
  if (options.tag !== undefined && !/^[\w][\w.-]{0,127}$/.test(options.tag)) {
    throw new UserInputError('ERR_LAYERS_FLAG_VALUE', `--tag ${JSON.stringify(options.tag)} is not an image tag.`, {hint: 'A tag is 1 to 128 letters, digits, _ . and -, not starting with . or -.', details: {flag: 'tag', value: options.tag}})
  }
  if (!options.push && (options.repository !== undefined || options.tag !== undefined || options.createRepository)) {
    throw new UserInputError('ERR_LAYERS_FLAG_VALUE', '--repository, --tag and --create-repository say where --push puts the image; --push is not given.', {hint: 'Add --push, or leave those flags out.', details: {flag: 'push'}})
  }
  const {manifest, lock, paths, functions} = await loadFunctionProject(options.manifestPath, [options.function], 'image')
  const fn = functions[0]!
  const repository = options.push ? repositoryOf(fn, options.repository) : undefined
  const base = options.base ?? fn.image?.base
  const targets = options.push ? selectFunctionTargets(manifest, {functions: [fn.key], accounts: options.accounts, regions: options.regions}) : []
  if (options.push && targets.length === 0) {
    throw new UserInputError('ERR_LAYERS_NO_TARGETS', `Function ${fn.key} has no account and region to push to (with the --account/--region given).`, {hint: `Give the function accounts (functions.${fn.key}.accounts), or change --account/--region.`, details: {function: fn.key}})
  }
  const timeouts = options.timeouts ?? resolveTimeouts()
  const clients = boundClients(factory, guard)
  const env: PushFunctionImageEnv = {ecr: (account, region) => clients.ecr(account, region), timeouts, emit: options.emit, ...(options.signal ? {signal: options.signal} : {})}
  const db = openStateDatabase(paths.stateDir)
  const logins = new Map<string, EcrRegistry>()
  const loginOf = (target: FunctionTarget) => logins.get(`${target.accountId}/${target.region}`)!
  let image: FunctionImage
  let output: string | null = null
  try {
    const packaged = await packageFunctions(manifest, lock, [fn], {stateDir: paths.stateDir, emit: options.emit, db, ...(options.signal ? {signal: options.signal} : {})})
    for (const target of targets) {
      options.emit({type: 'progress', phase: 'image', message: `ECR login: account ${target.accountName} (${target.accountId}), ${target.region}`})
      logins.set(`${target.accountId}/${target.region}`, await ecrLogin(env, manifest.accounts[target.accountName]!, target.region))
    }
    const arnLayerZips = usesArnLayers(manifest, fn) ? await readArnLayers(manifest, lock, fn, targets, {lambda: (account, region) => clients.lambda(account, region), timeouts, cacheDir: arnLayerCacheDir(paths.stateDir), emit: options.emit, ...(options.signal ? {signal: options.signal} : {})}) : undefined
    options.emit({type: 'progress', phase: 'image', message: `assembling the image of ${fn.key}`})
    image = await buildFunctionImage({
      manifest,
      lock,
      fn,
      codeZipPath: packaged.functions[0]!.zipPath,
      findBuilt: builtArtifactFinder(manifest, db, paths.stateDir),
      ...(arnLayerZips ? {arnLayerZips} : {}),
      ...(base !== undefined ? {base} : {}),
      registries: [...logins.values()],
      timeouts,
      emit: options.emit,
      ...(options.signal ? {signal: options.signal} : {}),
    })
    if (options.output !== undefined) {
      options.emit({type: 'progress', phase: 'image', message: `writing the OCI layout ${options.output}`})
      output = path.resolve(options.output)
      await writeOciLayout(output, image, fn.key)
    }
  } catch (error) {
    if (!options.signal?.aborted) throw error
    const signal = InterruptedError.signalOf(options.signal)
    const notPushed = targets.map(where)
    throw new InterruptedError(signal, `layers image interrupted by ${signal} while building the image of ${fn.key}: ${output ? `the OCI layout ${output} was written` : 'no OCI layout was written'}; nothing was pushed.`, {details: {output, pushed: [], notPushed}})
  } finally {
    db.close()
  }
  const built = image
  return {
    result: {
      function: fn.key,
      functionName: fn.name,
      runtime: fn.runtime,
      architecture: fn.architecture,
      handler: fn.handler,
      base: {reference: built.base.reference, digest: built.base.manifestDigest ?? null},
      digest: built.digest,
      mediaType: built.manifest.mediaType,
      configDigest: built.configDigest,
      sizeBytes: built.parts.reduce((sum, part) => sum + part.size, 0) + built.manifest.config.size + built.manifestBytes.length,
      layers: built.parts,
      output,
    },
    targets,
    imageUri: (target) => `${loginOf(target).host}/${repository!}@${built.digest}`,
    async push(pushTargets) {
      const pushes: PushedFunctionImage[] = []
      try {
        for (const target of pushTargets) {
          if (options.signal?.aborted) throw options.signal.reason
          options.emit({type: 'progress', phase: 'image', message: `pushing to ${repository} in account ${target.accountName} (${target.accountId}), ${target.region}`})
          const to = {account: manifest.accounts[target.accountName]!, region: target.region, repository: repository!, createRepository: options.createRepository, ...(options.tag !== undefined ? {tag: options.tag} : {})}
          pushes.push(await pushFunctionImage(built, to, env, loginOf(target)))
        }
        return pushes
      } catch (error) {
        if (!options.signal?.aborted) throw error
        const pushed = pushTargets.slice(0, pushes.length).map(where)
        const notPushed = pushTargets.slice(pushes.length).map(where)
        const inFlight = error instanceof InterruptedError && typeof error.details.repository === 'string' ? (error.details as unknown as PushProgress) : undefined
        const message = `pushed to ${pushed.length > 0 ? pushed.join(', ') : 'no target'}; not pushed to ${notPushed.join(', ')}${inFlight ? ` (${notPushed[0]}: ${describePushProgress(inFlight)})` : ''}`
        throw new InterruptedError(InterruptedError.signalOf(options.signal), message, {details: {pushed, notPushed, ...(inFlight ? {inFlight} : {})}})
      }
    },
  }
}

/** `layers image`: the image prepared, then pushed to each target (--push). */
export async function imageCommand(options: ImageCommandOptions, factory: AwsClientFactory = awsClientFactory(options), guard: AccountGuard = accountGuard(factory)): Promise<ImageResult> {
  const prepared = await prepareImage(options, factory, guard)
  try {
    return {...prepared.result, pushes: await prepared.push(prepared.targets)}
  } catch (error) {
    if (!(error instanceof InterruptedError)) throw error
    const {output} = prepared.result
    throw new InterruptedError(error.signal, `layers image interrupted by ${error.signal}: ${output ? `the OCI layout ${output} was written` : 'no OCI layout was written'}; ${error.message}.`, {details: {output, ...error.details}})
  }
}
