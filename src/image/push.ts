// Owns pushing a function image to a registry repository: every blob (layers, then the config) is
// checked first (HEAD) and skipped when the repository has it; a base layer that lives in another
// repository of the same registry is mounted from there; else its bytes are uploaded. The manifest
// goes last, by tag (when one is given) and by digest, so the image is never visible before its blobs.
// On an interrupt (the registry's signal cuts the blob request in flight) InterruptedError says how
// many blobs the repository got and that the manifest was not put.
import {InterruptedError} from '../errors/index.js'
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
  /** The run's interrupt (the registry client's own signal). */
  signal?: AbortSignal
}

/** What an interrupted push had done; the details of its InterruptedError. */
export interface PushProgress {
  registry: string
  repository: string
  blobs: number
  blobsPushed: number
  blobsSkipped: number
  blobsMounted: number
  manifestPut: false
}

export async function pushImage(image: FunctionImage, registry: Registry, repository: string, options: PushOptions = {}): Promise<PushedImage> {
  let blobsPushed = 0
  let blobsSkipped = 0
  let blobsMounted = 0
  const base = image.base.source
  const mountFrom = base.kind === 'registry' && base.host === registry.host && base.repository !== repository ? base.repository : undefined
  const baseDigests = new Set(image.base.layers.map((layer) => layer.digest))
  const digests = [...image.manifest.layers.map((layer) => layer.digest), image.configDigest]
  try {
    for (const digest of digests) {
      if (options.signal?.aborted) throw options.signal.reason
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
    if (options.signal?.aborted) throw options.signal.reason
  } catch (error) {
    if (!options.signal?.aborted) throw error
    const signal = InterruptedError.signalOf(options.signal)
    const progress: PushProgress = {registry: registry.host, repository, blobs: digests.length, blobsPushed, blobsSkipped, blobsMounted, manifestPut: false}
    throw new InterruptedError(signal, `${registry.host}/${repository}: ${describePushProgress(progress)}`, {details: {...progress}})
  }
  if (options.tag) await registry.putManifest(repository, options.tag, image.manifest.mediaType, image.manifestBytes)
  await registry.putManifest(repository, image.digest, image.manifest.mediaType, image.manifestBytes)
  return {imageUri: `${registry.host}/${repository}@${image.digest}`, digest: image.digest, blobsPushed, blobsSkipped, blobsMounted}
}

/** `2 of 5 blobs uploaded, 1 already there, 0 mounted; the manifest not put (the image is not there)`. */
export function describePushProgress(progress: PushProgress): string {
  return `${progress.blobsPushed} of ${progress.blobs} blobs uploaded, ${progress.blobsSkipped} already there, ${progress.blobsMounted} mounted; the manifest not put (the image is not there)`
}
