// Owns the base image of a function image: which one (by default AWS's Lambda base image for the
// function's runtime, public.ecr.aws/lambda/<runtime>:<version>; else --base), and reading it: from a
// registry (an index resolved to linux/<arch>, digests verified by src/image/registry.ts), from an OCI
// image layout directory (`oci:DIR`, digests verified here), or `scratch` (no layers, an empty config).
// Only the manifest and the config are read up front; layer blobs are read when they must be written
// (--output) or pushed where the target registry lacks them.
import {readFile} from 'node:fs/promises'
import path from 'node:path'
import {UserInputError} from '../errors/index.js'
import type {Architecture} from '../manifest/types.js'
import {isImageManifest, isIndex, ociArchitecture, platformManifest, sha256Digest, type Descriptor, type ImageConfig, type ImageIndex, type ImageManifest} from './oci.js'
import type {Registry} from './registry.js'

export type BaseSource = {kind: 'registry'; host: string; repository: string; reference: string} | {kind: 'layout'; dir: string} | {kind: 'scratch'}

export interface BaseImage {
  /** The reference as given (or defaulted). */
  reference: string
  source: BaseSource
  /** Digest of the platform manifest used (absent for scratch). */
  manifestDigest?: string
  config: ImageConfig
  layers: Descriptor[]
  /** The bytes of one of `layers` (verified). */
  blob(digest: string): Promise<Buffer>
}

/** AWS's Lambda base image of a managed runtime (the repositories of gallery.ecr.aws/lambda). */
export function defaultBaseReference(runtime: string): string | undefined {
  const patterns: Array<[RegExp, (match: RegExpExecArray) => string]> = [
    [/^nodejs(\d+)\.x$/, (m) => `nodejs:${m[1]}`],
    [/^python(3\.\d+)$/, (m) => `python:${m[1]}`],
    [/^provided\.(al2023|al2)$/, (m) => `provided:${m[1]}`],
    [/^java(\d+)$/, (m) => `java:${m[1]}`],
    [/^ruby(\d+\.\d+)$/, (m) => `ruby:${m[1]}`],
    [/^dotnet(\d+)$/, (m) => `dotnet:${m[1]}`],
  ]
  for (const [pattern, name] of patterns) {
    const match = pattern.exec(runtime)
    if (match) return `public.ecr.aws/lambda/${name(match)}`
  }
  return undefined
}

/** `host/repository[:tag][@sha256:...]`; a first part without `.` or `:` (and not localhost) is Docker Hub's. */
export function parseImageReference(text: string): {host: string; repository: string; reference: string} {
  const match = /^(?:([^/]+)\/)?([a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*)(?::([\w][\w.-]{0,127}))?(?:@(sha256:[0-9a-f]{64}))?$/.exec(text)
  if (!match) {
    throw new UserInputError('ERR_LAYERS_IMAGE_REFERENCE', `${JSON.stringify(text)} is not an image reference.`, {
      hint: 'Give HOST/REPOSITORY:TAG or HOST/REPOSITORY@sha256:DIGEST (e.g. public.ecr.aws/lambda/nodejs:22), oci:DIR for an OCI image layout, or scratch.',
      details: {reference: text},
    })
  }
  let host = match[1]
  let repository = match[2]!
  if (host !== undefined && !host.includes('.') && !host.includes(':') && host !== 'localhost') {
    repository = `${host}/${repository}`
    host = undefined
  }
  if (host === undefined) {
    host = 'registry-1.docker.io'
    if (!repository.includes('/')) repository = `library/${repository}`
  }
  return {host, repository, reference: match[4] ?? match[3] ?? 'latest'}
}

function json<T>(bytes: Buffer, what: string, origin: string): T {
  try {
    return JSON.parse(bytes.toString('utf8')) as T
  } catch {
    throw new UserInputError('ERR_LAYERS_IMAGE_INVALID', `${origin}: the ${what} is not JSON.`, {hint: 'Give a valid OCI image as the base.'})
  }
}

function checkPlatform(config: ImageConfig, architecture: Architecture, origin: string): void {
  if (config.os !== 'linux' || config.architecture !== ociArchitecture(architecture)) {
    throw new UserInputError('ERR_LAYERS_IMAGE_PLATFORM', `${origin} is ${config.os}/${config.architecture}, but the function runs on linux/${ociArchitecture(architecture)} (${architecture}).`, {
      hint: `Give a base image for linux/${ociArchitecture(architecture)} (or an index that has one).`,
      details: {base: origin, architecture},
    })
  }
}

/** Picks the image manifest for the architecture: the manifest itself, or the index's linux/<arch> entry. */
async function resolvePlatform(read: (digest: string) => Promise<{mediaType: string; bytes: Buffer; digest: string}>, top: {mediaType: string; bytes: Buffer; digest: string}, architecture: Architecture, origin: string): Promise<{manifest: ImageManifest; digest: string}> {
  let current = top
  if (isIndex(current.mediaType)) {
    const entry = platformManifest(json<ImageIndex>(current.bytes, 'image index', origin), architecture)
    if (!entry) {
      throw new UserInputError('ERR_LAYERS_IMAGE_PLATFORM', `${origin} has no linux/${ociArchitecture(architecture)} image.`, {hint: `Give a base image for linux/${ociArchitecture(architecture)}.`, details: {base: origin, architecture}})
    }
    current = await read(entry.digest)
  }
  if (!isImageManifest(current.mediaType)) {
    throw new UserInputError('ERR_LAYERS_IMAGE_INVALID', `${origin}: manifest type ${current.mediaType || '(none)'} is not an OCI or Docker v2 image manifest.`, {hint: 'Give an OCI (or Docker schema 2) image as the base.'})
  }
  return {manifest: json<ImageManifest>(current.bytes, 'manifest', origin), digest: current.digest}
}

export const SCRATCH = 'scratch'

/** Reads the base image for `architecture`; `registryFor(host)` gives the client of a registry (with the credentials known for it). */
export async function loadBaseImage(reference: string, architecture: Architecture, registryFor: (host: string) => Registry): Promise<BaseImage> {
  if (reference === SCRATCH) {
    return {reference, source: {kind: 'scratch'}, config: {architecture: ociArchitecture(architecture), os: 'linux', rootfs: {type: 'layers', diff_ids: []}}, layers: [], blob: () => Promise.reject(new Error('scratch has no blobs'))}
  }
  if (reference.startsWith('oci:')) return loadLayoutImage(reference, architecture)
  const parsed = parseImageReference(reference)
  const registry = registryFor(parsed.host)
  const origin = `${parsed.host}/${parsed.repository}${parsed.reference.startsWith('sha256:') ? '@' : ':'}${parsed.reference}`
  const top = await registry.manifest(parsed.repository, parsed.reference)
  const {manifest, digest} = await resolvePlatform((d) => registry.manifest(parsed.repository, d), top, architecture, origin)
  const config = json<ImageConfig>(await registry.blob(parsed.repository, manifest.config.digest), 'config', origin)
  checkPlatform(config, architecture, origin)
  return {reference, source: {kind: 'registry', ...parsed}, manifestDigest: digest, config, layers: manifest.layers, blob: (d) => registry.blob(parsed.repository, d)}
}

async function loadLayoutImage(reference: string, architecture: Architecture): Promise<BaseImage> {
  const dir = path.resolve(reference.slice('oci:'.length))
  const origin = `OCI layout ${dir}`
  const readBlob = async (digest: string): Promise<Buffer> => {
    if (!/^sha256:[0-9a-f]{64}$/.test(digest)) throw new UserInputError('ERR_LAYERS_IMAGE_INVALID', `${origin}: ${JSON.stringify(digest)} is not a sha256 digest.`, {hint: 'Give a valid OCI image layout as the base.'})
    const file = path.join(dir, 'blobs', 'sha256', digest.slice('sha256:'.length))
    const bytes = await readFile(file).catch((error: NodeJS.ErrnoException) => {
      throw new UserInputError('ERR_LAYERS_IMAGE_INVALID', `${origin}: blob ${digest} cannot be read (${error.code ?? error.message}).`, {hint: 'Give a complete OCI image layout (every blob under blobs/sha256/).'})
    })
    if (sha256Digest(bytes) !== digest) throw new UserInputError('ERR_LAYERS_IMAGE_INVALID', `${origin}: ${file} does not hash to ${digest}.`, {hint: 'The layout is damaged: write it again.'})
    return bytes
  }
  const indexBytes = await readFile(path.join(dir, 'index.json')).catch((error: NodeJS.ErrnoException) => {
    throw new UserInputError('ERR_LAYERS_IMAGE_INVALID', `${origin}: index.json cannot be read (${error.code ?? error.message}).`, {hint: 'oci:DIR names a directory in the OCI image layout format (oci-layout, index.json, blobs/).'})
  })
  const index = json<ImageIndex>(indexBytes, 'index.json', origin)
  const read = async (digest: string) => {
    const entry = index.manifests.find((candidate) => candidate.digest === digest)
    const bytes = await readBlob(digest)
    return {mediaType: entry?.mediaType ?? json<{mediaType?: string}>(bytes, 'manifest', origin).mediaType ?? '', bytes, digest}
  }
  const top = platformManifest(index, architecture) ?? (index.manifests.length === 1 ? index.manifests[0] : undefined)
  if (!top) throw new UserInputError('ERR_LAYERS_IMAGE_PLATFORM', `${origin}: index.json has no single image and none for linux/${ociArchitecture(architecture)}.`, {hint: 'Give a layout holding one image, or one per platform.'})
  const {manifest, digest} = await resolvePlatform(read, await read(top.digest), architecture, origin)
  const config = json<ImageConfig>(await readBlob(manifest.config.digest), 'config', origin)
  checkPlatform(config, architecture, origin)
  return {reference, source: {kind: 'layout', dir}, manifestDigest: digest, config, layers: manifest.layers, blob: readBlob}
}
