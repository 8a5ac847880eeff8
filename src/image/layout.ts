// Owns writing a function image as an OCI image layout directory (--output): `oci-layout`, `index.json`
// naming the one manifest (annotated with the function as its ref name), and every blob under
// blobs/sha256/. The directory is written beside its target under a temp name and renamed over it, so a
// failed or interrupted run leaves the previous layout (or none), never half of one.
import {mkdir, rename, rm, writeFile} from 'node:fs/promises'
import path from 'node:path'
import {tempPath, trackTemp} from '../fsutil/atomic.js'
import type {FunctionImage} from './assemble.js'
import {canonicalBytes, OCI_INDEX, OCI_MANIFEST} from './oci.js'

export async function writeOciLayout(dir: string, image: FunctionImage, refName: string): Promise<void> {
  const target = path.resolve(dir)
  await mkdir(path.dirname(target), {recursive: true})
  const temp = tempPath(path.dirname(target), path.basename(target))
  const untrack = trackTemp(temp)
  try {
    const blobs = path.join(temp, 'blobs', 'sha256')
    await mkdir(blobs, {recursive: true})
    const write = (digest: string, bytes: Buffer) => writeFile(path.join(blobs, digest.slice('sha256:'.length)), bytes)
    for (const layer of image.manifest.layers) await write(layer.digest, await image.blob(layer.digest))
    await write(image.configDigest, await image.blob(image.configDigest))
    await write(image.digest, image.manifestBytes)
    await writeFile(path.join(temp, 'oci-layout'), canonicalBytes({imageLayoutVersion: '1.0.0'}))
    const index = {schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{mediaType: OCI_MANIFEST, digest: image.digest, size: image.manifestBytes.length, annotations: {'org.opencontainers.image.ref.name': refName}}]}
    await writeFile(path.join(temp, 'index.json'), canonicalBytes(index))
    await rm(target, {recursive: true, force: true})
    await rename(temp, target)
  } catch (error) {
    await rm(temp, {recursive: true, force: true})
    throw error
  } finally {
    untrack()
  }
}
