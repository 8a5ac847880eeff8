// Owns the OCI image format as `layers image` writes and reads it: media types, descriptors, canonical
// JSON (sorted keys, no whitespace: the same object always gives the same bytes, hence the same digest),
// sha256 digests, and the choice of a platform's manifest in an image index. Docker v2 schema 2
// manifests and manifest lists are read as well (Lambda's base images are served as OCI; other
// registries may answer Docker types); what is written is OCI only (Lambda and ECR accept both).
import {createHash} from 'node:crypto'
import {canonicalJson} from '../build/cache.js'
import type {Architecture} from '../manifest/types.js'

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json'
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json'
export const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json'
export const OCI_LAYER_GZIP = 'application/vnd.oci.image.layer.v1.tar+gzip'
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json'
export const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json'
export const DOCKER_CONFIG = 'application/vnd.docker.container.image.v1+json'
export const DOCKER_LAYER_GZIP = 'application/vnd.docker.image.rootfs.diff.tar.gzip'

/** What a manifest request accepts: images and indexes, OCI and Docker. */
export const MANIFEST_ACCEPT = [OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_LIST].join(', ')

export interface Descriptor {
  mediaType: string
  digest: string
  size: number
  platform?: {architecture: string; os: string; variant?: string}
  annotations?: Record<string, string>
}

export interface ImageManifest {
  schemaVersion: 2
  mediaType: string
  config: Descriptor
  layers: Descriptor[]
  annotations?: Record<string, string>
}

export interface ImageIndex {
  schemaVersion: 2
  mediaType?: string
  manifests: Descriptor[]
}

export interface HistoryEntry {
  created?: string
  created_by?: string
  comment?: string
  empty_layer?: boolean
}

export interface ImageConfig {
  architecture: string
  os: string
  variant?: string
  created?: string
  config?: {Entrypoint?: string[] | null; Cmd?: string[] | null; Env?: string[] | null; WorkingDir?: string; [key: string]: unknown}
  rootfs: {type: 'layers'; diff_ids: string[]}
  history?: HistoryEntry[]
  [key: string]: unknown
}

export function sha256Digest(bytes: Buffer | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`
}

/** Canonical JSON bytes of a config, manifest or index (see the module comment). */
export function canonicalBytes(value: unknown): Buffer {
  return Buffer.from(canonicalJson(value), 'utf8')
}

export function isIndex(mediaType: string): boolean {
  return mediaType === OCI_INDEX || mediaType === DOCKER_LIST
}

export function isImageManifest(mediaType: string): boolean {
  return mediaType === OCI_MANIFEST || mediaType === DOCKER_MANIFEST
}

/** The OCI/Go name of a Lambda architecture. */
export function ociArchitecture(architecture: Architecture): 'amd64' | 'arm64' {
  return architecture === 'x86_64' ? 'amd64' : 'arm64'
}

/** The linux/<arch> entry of an index (for arm64 the v8 variant or none), or undefined. */
export function platformManifest(index: ImageIndex, architecture: Architecture): Descriptor | undefined {
  const arch = ociArchitecture(architecture)
  return index.manifests.find((entry) => entry.platform?.os === 'linux' && entry.platform.architecture === arch && (arch === 'amd64' || entry.platform.variant === undefined || entry.platform.variant === 'v8'))
}

export const DIGEST_PATTERN = /^sha256:[0-9a-f]{64}$/
