// Owns assembling a function's container image from its parts, without Docker: the base image's layers
// unchanged, then one layer per Lambda layer of the function, in the function's order, each the built
// layer zip laid out under /opt (tar layers stack as Lambda extracts layers: a later one replaces the
// same path), then the function's code (the thin zip of `layers package`) under /var/task. The config
// is the base's with Cmd = [handler] (Entrypoint, Env, WorkingDir kept), the base's `created` (else
// the epoch) and one history entry per added layer; config and manifest are canonical JSON, so the
// same inputs give the same manifest digest anywhere (src/image/tar.ts says how the layers are fixed).
import path from 'node:path'
import {UserInputError} from '../errors/index.js'
import type {FunctionSpec} from '../manifest/types.js'
import {listZip, readZipEntries} from '../package/zip-read.js'
import type {BaseImage} from './base.js'
import {canonicalBytes, DOCKER_LAYER_GZIP, OCI_CONFIG, OCI_LAYER_GZIP, OCI_MANIFEST, sha256Digest, type Descriptor, type ImageConfig, type ImageManifest} from './oci.js'
import {layerBlob, type TarFile} from './tar.js'

export const EPOCH = '1970-01-01T00:00:00Z'

export interface ImagePart {
  /** `base`, `layer` (a Lambda layer under /opt) or `code` (/var/task). */
  source: 'base' | 'layer' | 'code'
  /** The manifest layer name (source `layer`). */
  name?: string
  digest: string
  size: number
  /** sha256 of the uncompressed tar (own layers). */
  diffId?: string
  /** Files in the layer (own layers). */
  files?: number
}

export interface FunctionImage {
  manifest: ImageManifest
  manifestBytes: Buffer
  /** The manifest's digest: the image's identity (repository@digest). */
  digest: string
  config: ImageConfig
  configDigest: string
  parts: ImagePart[]
  base: BaseImage
  /** The bytes of a blob of this image: config, own layers (in memory), base layers (read from the base). */
  blob(digest: string): Promise<Buffer>
}

export interface ImageInputs {
  fn: Pick<FunctionSpec, 'key' | 'handler' | 'architecture'>
  /** The function's layers in Lambda's order, each its zip (built, or an ARN layer's as Lambda gives it); `origin` names it in errors (default the zip's path). */
  layers: ReadonlyArray<{name: string; zipPath: string; origin?: string}>
  /** The function's code zip. */
  codeZipPath: string
  base: BaseImage
}

const SYMLINK = 0o120000

/**
 * A zip's files placed under `prefix` (e.g. opt/), modes from the zip; a symbolic link (a vendor's
 * layer may hold them, Lambda extracts them as links) stays one when it points inside the zip's tree,
 * and is an error naming `origin` when it points outside (absolute, or up past the root).
 */
async function zipAsTar(zipPath: string, prefix: string, origin: string): Promise<TarFile[]> {
  const listing = await listZip(zipPath)
  const contents = await readZipEntries(zipPath, () => true)
  return listing.map((entry) => {
    const data = contents.get(entry.path) ?? Buffer.alloc(0)
    if ((entry.mode & 0o170000) !== SYMLINK) return {path: `${prefix}${entry.path}`, mode: entry.mode, data}
    const target = data.toString('utf8')
    const resolved = path.posix.normalize(path.posix.join(path.posix.dirname(entry.path), target))
    if (target === '' || target.includes('\0') || path.posix.isAbsolute(target) || resolved === '..' || resolved.startsWith('../')) {
      throw new UserInputError('ERR_LAYERS_IMAGE_PATH', `${origin}: ${JSON.stringify(entry.path)} is a symbolic link to ${JSON.stringify(target)}, outside the layer.`, {
        hint: 'Use a layer whose links stay inside it (Lambda lays each layer out in /opt).',
        details: {entry: entry.path, target},
      })
    }
    return {path: `${prefix}${entry.path}`, mode: entry.mode, data: Buffer.alloc(0), linkTarget: target}
  })
}

export async function assembleFunctionImage(inputs: ImageInputs): Promise<FunctionImage> {
  const {base, fn} = inputs
  const own = new Map<string, Buffer>()
  const parts: ImagePart[] = base.layers.map((layer) => ({source: 'base', digest: layer.digest, size: layer.size}))
  const added: Array<{part: ImagePart; diffId: string; createdBy: string}> = []
  const add = async (source: 'layer' | 'code', zipPath: string, prefix: string, createdBy: string, name?: string, origin = zipPath) => {
    const files = await zipAsTar(zipPath, prefix, origin)
    const blob = await layerBlob(files, origin)
    own.set(blob.digest, blob.bytes)
    const part: ImagePart = {source, ...(name === undefined ? {} : {name}), digest: blob.digest, size: blob.bytes.length, diffId: blob.diffId, files: files.length}
    parts.push(part)
    added.push({part, diffId: blob.diffId, createdBy})
  }
  for (const layer of inputs.layers) await add('layer', layer.zipPath, 'opt/', `layers image: layer ${layer.name} in /opt`, layer.name, layer.origin)
  await add('code', inputs.codeZipPath, 'var/task/', `layers image: function ${fn.key} in /var/task`)

  const created = base.config.created ?? EPOCH
  const config: ImageConfig = {
    ...base.config,
    created,
    config: {...(base.config.config ?? {}), Cmd: [fn.handler]},
    rootfs: {type: 'layers', diff_ids: [...base.config.rootfs.diff_ids, ...added.map((entry) => entry.diffId)]},
    history: [...(base.config.history ?? []), ...added.map((entry) => ({created, created_by: entry.createdBy}))],
  }
  const configBytes = canonicalBytes(config)
  const configDigest = sha256Digest(configBytes)
  own.set(configDigest, configBytes)
  // Docker's gzip layer type names the same bytes as OCI's; one manifest type throughout.
  const layerDescriptor = (layer: Descriptor): Descriptor => ({mediaType: layer.mediaType === DOCKER_LAYER_GZIP ? OCI_LAYER_GZIP : layer.mediaType, digest: layer.digest, size: layer.size})
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: {mediaType: OCI_CONFIG, digest: configDigest, size: configBytes.length},
    layers: [...base.layers.map(layerDescriptor), ...added.map((entry) => ({mediaType: OCI_LAYER_GZIP, digest: entry.part.digest, size: entry.part.size}))],
  }
  const manifestBytes = canonicalBytes(manifest)
  return {
    manifest,
    manifestBytes,
    digest: sha256Digest(manifestBytes),
    config,
    configDigest,
    parts,
    base,
    blob: async (digest) => own.get(digest) ?? (await base.blob(digest)),
  }
}
