// Owns the ARN layers (AWS's, a vendor's, another account's) of a function's image, read as Lambda
// reads them: in each target account and region the version ARN the lock pins there, GetLayerVersion
// through the bound clients (the account verified first) for CodeSha256 and Content.Location, the zip
// downloaded from Location with the connect and read timeouts and its SHA-256 checked against
// CodeSha256. Zips are kept content-addressed in the state dir (cache/arn-layers/<sha256 hex>.zip,
// written atomically, checked again when taken), so a second build downloads nothing. The image is
// built once for all its targets: a target whose pinned version holds other content (another
// CodeSha256) than the first target's is refused, as one image cannot carry both.
import {createHash} from 'node:crypto'
import {readFile} from 'node:fs/promises'
import path from 'node:path'
import type {LambdaClient} from '@aws-sdk/client-lambda'
import {readLayerVersion, type ReadLayerVersion} from '../aws/lambda-layers.js'
import type {AwsTimeouts} from '../aws/time-bounds.js'
import {LayersError, OperationalError, UserInputError} from '../errors/index.js'
import type {EmitEvent} from '../events.js'
import {writeFileAtomically} from '../fsutil/atomic.js'
import type {Lockfile} from '../lock/types.js'
import type {Account, FunctionSpec, Manifest} from '../manifest/types.js'
import {functionLayers} from '../package/artifacts.js'
import {httpExchange} from './http.js'

export interface ArnLayerTarget {
  account: Account
  region: string
}

export interface ArnLayerEnv {
  /** A Lambda client for the account and region, handed out once the account is verified (src/aws/identity.ts boundClients). */
  lambda(account: Account, region: string): Promise<Pick<LambdaClient, 'send'>>
  timeouts: AwsTimeouts
  /** The content-addressed zip cache (STATE_DIR/cache/arn-layers). */
  cacheDir: string
  emit?: EmitEvent
  /** An interrupt: no new read or download starts (the one in flight finishes). */
  signal?: AbortSignal
}

/** An ARN layer's zip as Lambda gives it: the cached file and the version ARN it was read as. */
export interface ArnLayerZip {
  zipPath: string
  arn: string
}

/** The state dir's cache of ARN layer zips. */
export function arnLayerCacheDir(stateDir: string): string {
  return path.join(stateDir, 'cache', 'arn-layers')
}

/** Whether the function uses an ARN layer (its image then needs Lambda reads). */
export function usesArnLayers(manifest: Manifest, fn: FunctionSpec): boolean {
  return fn.layers.some((name) => manifest.layers[name]?.kind === 'arn')
}

/**
 * The zip of every ARN layer of `fn` (by manifest layer name), read in `targets`
 * (the first one's content is the image's; every other must hold the same).
 */
export async function arnLayerZips(manifest: Manifest, lock: Lockfile, fn: FunctionSpec, targets: readonly ArnLayerTarget[], env: ArnLayerEnv): Promise<Map<string, ArnLayerZip>> {
  const zips = new Map<string, ArnLayerZip>()
  for (const layer of functionLayers(manifest, lock, fn)) {
    if (layer.spec.kind !== 'arn') continue
    const locked = lock.layers[layer.name]
    if (locked?.kind !== 'arn') {
      throw new UserInputError('ERR_LAYERS_LOCK_STALE', `Layer ${layer.name} (used by function ${fn.key}) is not in lockfile.json.`, {hint: 'Run `layers lock` first.', details: {function: fn.key, layer: layer.name}})
    }
    let first: {arn: string; version: ReadLayerVersion; where: string} | undefined
    for (const target of targets) {
      const where = `account ${target.account.name} (${target.account.id}), region ${target.region}`
      const arn = locked.arns[target.account.id]?.[target.region]
      if (!arn) {
        throw new UserInputError('ERR_LAYERS_LOCK_STALE', `Layer ${layer.name} (used by function ${fn.key}) has no pinned ARN for ${where} in lockfile.json.`, {
          hint: 'Run `layers lock` first.',
          details: {function: fn.key, layer: layer.name, account: target.account.id, region: target.region},
        })
      }
      if (env.signal?.aborted) throw env.signal.reason
      const version = await readVersion(env, target, arn, layer.name, where)
      if (!first) {
        first = {arn, version, where}
        continue
      }
      if (version.codeSha256 !== first.version.codeSha256) {
        throw new UserInputError('ERR_LAYERS_IMAGE_ARN_LAYER_DIFFERS', `Layer ${layer.name} of function ${fn.key} is ${arn} in ${where}, whose content (CodeSha256 ${version.codeSha256}) differs from ${first.arn} in ${first.where} (CodeSha256 ${first.version.codeSha256}): one image cannot hold both.`, {
          hint: `Build and push the image region by region (--region ${target.region}, then the others), or pin versions with the same content in layers.yaml and run \`layers lock\`.`,
          details: {function: fn.key, layer: layer.name, arn, account: target.account.id, region: target.region},
        })
      }
    }
    if (first) zips.set(layer.name, {zipPath: await cachedZip(env, first.arn, first.version, layer.name), arn: first.arn})
  }
  return zips
}

async function readVersion(env: ArnLayerEnv, target: ArnLayerTarget, arn: string, layer: string, where: string): Promise<ReadLayerVersion> {
  try {
    return await readLayerVersion(await env.lambda(target.account, target.region), arn)
  } catch (error) {
    if (error instanceof LayersError) throw error
    const name = (error as {name?: string}).name ?? ''
    if (name === 'ResourceNotFoundException' || name === 'AccessDeniedException') {
      throw new UserInputError('ERR_LAYERS_ARN_UNREADABLE', `${arn} (layer ${layer}) does not exist or is not shared with ${where}.`, {
        cause: error,
        hint: 'Ask the layer owner to share the version with this account, or pin another version in layers.yaml and run `layers lock`.',
        details: {layer, arn, account: target.account.id, region: target.region},
      })
    }
    throw new OperationalError('ERR_LAYERS_IMAGE_ARN_READ', `Could not read ${arn} (layer ${layer}) from ${where}: ${(error as Error).message}`, {
      cause: error,
      hint: `An ARN layer is read from Lambda as Lambda reads it: configure AWS access for account ${target.account.name} (its profile or role in layers.yaml, or AWS_PROFILE), then run again.`,
      details: {layer, arn, account: target.account.id, region: target.region},
    })
  }
}

function sha256Hex(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex')
}

/** The version's zip in the cache, downloaded from its Location when the cache lacks it (or holds other bytes). */
async function cachedZip(env: ArnLayerEnv, arn: string, version: ReadLayerVersion, layer: string): Promise<string> {
  const expected = Buffer.from(version.codeSha256, 'base64').toString('hex')
  if (expected.length !== 64) {
    throw new OperationalError('ERR_LAYERS_AWS_MALFORMED_ANSWER', `GetLayerVersion for ${arn} (layer ${layer}) answered CodeSha256 ${JSON.stringify(version.codeSha256)}, which is no base64 SHA-256.`, {
      hint: 'Check the endpoint (AWS_ENDPOINT_URL) or any proxy between you and AWS.',
      details: {layer, arn},
    })
  }
  const file = path.join(env.cacheDir, `${expected}.zip`)
  const cached = await readFile(file).catch(() => undefined)
  if (cached && sha256Hex(cached) === expected) return file
  if (env.signal?.aborted) throw env.signal.reason
  if (!version.location) {
    throw new OperationalError('ERR_LAYERS_AWS_MALFORMED_ANSWER', `GetLayerVersion for ${arn} (layer ${layer}) answered no Content.Location to download the layer from.`, {
      hint: 'Check the endpoint (AWS_ENDPOINT_URL) or any proxy between you and AWS.',
      details: {layer, arn},
    })
  }
  // The presigned URL is a credential while it is valid: messages name its host only.
  const url = new URL(version.location)
  env.emit?.({type: 'progress', phase: 'image', message: `downloading layer ${layer} (${arn}, ${version.codeSize} bytes) from ${url.host}`})
  const failed = (detail: string, cause?: unknown) =>
    new OperationalError('ERR_LAYERS_IMAGE_ARN_DOWNLOAD', `Downloading ${arn} (layer ${layer}) from ${url.host} failed: ${detail}.`, {
      hint: 'Run again (the download link GetLayerVersion gives is valid for minutes); check the network to the layer content.',
      details: {layer, arn, host: url.host, transient: true},
      ...(cause === undefined ? {} : {cause}),
    })
  let answer
  try {
    answer = await httpExchange('GET', url, {}, undefined, env.timeouts)
  } catch (error) {
    throw failed((error as Error).message, error)
  }
  if (answer.status !== 200) throw failed(`HTTP ${answer.status}`)
  const actual = sha256Hex(answer.body)
  if (actual !== expected) {
    throw new OperationalError('ERR_LAYERS_IMAGE_ARN_INTEGRITY', `The zip downloaded for ${arn} (layer ${layer}) has SHA-256 ${actual}, not the ${expected} (CodeSha256 ${version.codeSha256}) Lambda gives for it: it was not used.`, {
      hint: 'Run again; if it persists, something between you and the layer content changes it (a proxy), or the endpoint is not AWS.',
      details: {layer, arn, expected, actual},
    })
  }
  await writeFileAtomically(file, answer.body)
  return file
}
