// Owns a function's container image as other commands use it (`layers image`, `deploy --image`):
// buildFunctionImage finds the function's locked, built layer zips (as src/package does), the zips of
// its ARN layers as read from Lambda (src/image/arn-layers.ts) and its thin code zip, reads the base image and assembles the image (src/image/assemble.ts); pushFunctionImage
// pushes it to an ECR repository of one account and region (the account verified through the bound
// clients before any ECR call, the registry credentials from GetAuthorizationToken).
import type {ECRClient} from '@aws-sdk/client-ecr'
import type {AwsTimeouts} from '../aws/time-bounds.js'
import {UserInputError} from '../errors/index.js'
import type {EmitEvent} from '../events.js'
import type {Lockfile} from '../lock/types.js'
import type {Account, FunctionSpec, Manifest} from '../manifest/types.js'
import {functionLayers, type BuiltArtifactFinder} from '../package/artifacts.js'
import type {ArnLayerZip} from './arn-layers.js'
import {assembleFunctionImage, type FunctionImage} from './assemble.js'
import {defaultBaseReference, loadBaseImage} from './base.js'
import {ecrRegistry, ensureRepository, type EcrRegistry} from './ecr.js'
import {pushImage, type PushedImage} from './push.js'
import {Registry, type RegistryOptions} from './registry.js'

export interface BuildFunctionImageInput {
  manifest: Manifest
  lock: Lockfile
  fn: FunctionSpec
  /** The function's thin zip (src/package). */
  codeZipPath: string
  findBuilt: BuiltArtifactFinder
  /** The zip of each ARN layer of the function, by manifest layer name (src/image/arn-layers.ts). */
  arnLayerZips?: ReadonlyMap<string, ArnLayerZip>
  /** --base: a registry reference, oci:DIR or scratch; default AWS's Lambda base image for the runtime. */
  base?: string
  /** Registries whose credentials are known (ECR logins of this run): a base image there is read with them. */
  registries?: readonly EcrRegistry[]
  timeouts: AwsTimeouts
  signal?: AbortSignal
  emit?: EmitEvent
}

export function registryClient(host: string, registries: readonly EcrRegistry[], options: Pick<RegistryOptions, 'timeouts' | 'signal' | 'emit'>): Registry {
  const known = registries.find((registry) => registry.host === host)
  return new Registry({host, ...options, ...(known ? {scheme: known.scheme, credentials: known.credentials} : {})})
}

export function baseReferenceOf(fn: FunctionSpec, base: string | undefined): string {
  const reference = base ?? defaultBaseReference(fn.runtime)
  if (!reference) {
    throw new UserInputError('ERR_LAYERS_IMAGE_BASE_UNKNOWN', `Function ${fn.key} runs on ${fn.runtime}, for which AWS publishes no Lambda base image.`, {
      hint: 'Name a base image with --base REFERENCE (e.g. public.ecr.aws/lambda/provided:al2023, oci:DIR or scratch).',
      details: {function: fn.key, runtime: fn.runtime},
    })
  }
  return reference
}

export async function buildFunctionImage(input: BuildFunctionImageInput): Promise<FunctionImage> {
  const {fn} = input
  const layers: Array<{name: string; zipPath: string; origin?: string}> = []
  for (const layer of functionLayers(input.manifest, input.lock, fn)) {
    if (layer.spec.kind === 'arn') {
      const read = input.arnLayerZips?.get(layer.name)
      if (read === undefined) throw new Error(`ARN layer ${layer.name} of function ${fn.key} was not read before assembling its image`)
      layers.push({name: layer.name, zipPath: read.zipPath, origin: `layer ${layer.name} (${read.arn})`})
      continue
    }
    const built = await input.findBuilt(layer)
    if (!built) {
      throw new UserInputError('ERR_LAYERS_LAYER_NOT_BUILT', `Layer ${layer.name} of function ${fn.key} is not built for the current lock (${layer.artifactKey}).`, {
        hint: `Run \`layers build ${layer.name}\` first.`,
        details: {function: fn.key, layer: layer.name},
      })
    }
    layers.push({name: layer.name, zipPath: built.zipPath})
  }
  const reference = baseReferenceOf(fn, input.base)
  const base = await loadBaseImage(reference, fn.architecture, (host) => registryClient(host, input.registries ?? [], {timeouts: input.timeouts, ...(input.signal ? {signal: input.signal} : {}), ...(input.emit ? {emit: input.emit} : {})}))
  return assembleFunctionImage({fn, layers, codeZipPath: input.codeZipPath, base})
}

export interface PushFunctionImageTarget {
  account: Account
  region: string
  repository: string
  /** Also tag the image (the manifest is always put by its digest). */
  tag?: string
  /** Create the repository when it does not exist (else refused, exit 2). */
  createRepository?: boolean
}

export interface PushFunctionImageEnv {
  /** An ECR client for the account and region, handed out once the account is verified (src/aws/identity.ts boundClients). */
  ecr(account: Account, region: string): Promise<Pick<ECRClient, 'send'>>
  timeouts: AwsTimeouts
  signal?: AbortSignal
  emit?: EmitEvent
}

export interface PushedFunctionImage extends PushedImage {
  account: string
  accountId: string
  region: string
  repository: string
  repositoryCreated: boolean
}

/** The ECR registry (host and credentials) of an account and region. */
export async function ecrLogin(env: PushFunctionImageEnv, account: Account, region: string): Promise<EcrRegistry> {
  return ecrRegistry(await env.ecr(account, region), {account: account.name, accountId: account.id, region})
}

export async function pushFunctionImage(image: FunctionImage, target: PushFunctionImageTarget, env: PushFunctionImageEnv, login?: EcrRegistry): Promise<PushedFunctionImage> {
  const where = {account: target.account.name, accountId: target.account.id, region: target.region}
  const client = await env.ecr(target.account, target.region)
  const registry = login ?? (await ecrRegistry(client, where))
  const created = (await ensureRepository(client, target.repository, target.createRepository === true, where)) === 'created'
  const pushed = await pushImage(image, registryClient(registry.host, [registry], {timeouts: env.timeouts, ...(env.signal ? {signal: env.signal} : {}), ...(env.emit ? {emit: env.emit} : {})}), target.repository, {...(target.tag ? {tag: target.tag} : {}), ...(env.emit ? {emit: env.emit} : {}), ...(env.signal ? {signal: env.signal} : {})})
  return {...pushed, ...where, repository: target.repository, repositoryCreated: created}
}
