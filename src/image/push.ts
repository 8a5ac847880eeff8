// Owns pushing a function image to a registry repository: every blob (layers, then the config) is
// checked first (HEAD) and skipped when the repository has it; a base layer that lives in another
// repository of the same registry is mounted from there; else its bytes are uploaded. The manifest
// goes last, by tag (when one is given) and by digest, so the image is never visible before its blobs.
import type {EmitEvent} from '../events.js'
import type {FunctionImage} from './assemble.js'
import type {Registry} from './registry.js'

export interface PushedImage {
  /** REGISTRY/REPOSITORY@sha256:... */
  imageUri: string
  digest: string
  /** Blobs whose bytes were uploaded. */
  blobsPushed: number
  /** Blobs the repository already had. */
  blobsSkipped: number
  /** Blobs mounted from the base image's repository in the same registry. */
  blobsMounted: number
}

export interface PushOptions {
  /** Also put the manifest under this tag. */
  tag?: string
  emit?: EmitEvent
}

export async function pushImage(image: FunctionImage, registry: Registry, repository: string, options: PushOptions = {}): Promise<PushedImage> {
  let blobsPushed = 0
  let blobsSkipped = 0
  let blobsMounted = 0
  const base = image.base.source
  const mountFrom = base.kind === 'registry' && base.host === registry.host && base.repository !== repository ? base.repository : undefined
  const baseDigests = new Set(image.base.layers.map((layer) => layer.digest))
  for (const digest of [...image.manifest.layers.map((layer) => layer.digest), image.configDigest]) {
    if (await registry.hasBlob(repository, digest)) {
      blobsSkipped++
      continue
    }
    if (mountFrom && baseDigests.has(digest) && (await registry.mountBlob(repository, digest, mountFrom))) {
      blobsMounted++
      continue
    }
    const bytes = await image.blob(digest)
    options.emit?.({type: 'progress', phase: 'image', message: `uploading blob ${digest.slice(0, 19)} (${bytes.length} bytes) to ${registry.host}/${repository}`})
    await registry.uploadBlob(repository, digest, bytes)
    blobsPushed++
  }
  if (options.tag) await registry.putManifest(repository, options.tag, image.manifest.mediaType, image.manifestBytes)
  await registry.putManifest(repository, image.digest, image.manifest.mediaType, image.manifestBytes)
  return {imageUri: `${registry.host}/${repository}@${image.digest}`, digest: image.digest, blobsPushed, blobsSkipped, blobsMounted}
}
