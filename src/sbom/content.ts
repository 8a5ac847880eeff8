// Owns the SBOM of one content (one zip, one CodeSha256) of a layer artifact, from plain data: the
// artifact's document (src/sbom/plan.ts's model and renderer) carrying exactly that content's
// CodeSha256, its SHA-256, and the content-addressed key publish stores it under beside the zip. The
// same function renders it for publish and for `layers sbom --published` from a kept tree, so both
// give the same bytes for the same tree, content and layers version.
import {createHash} from 'node:crypto'
import type {ArtifactKey, LockedOwnLayer} from '../lock/types.js'
import {renderSbom, sbomArtifact, type SbomDocument, type SbomFormat} from './plan.js'

/** The media type of a CycloneDX JSON document (CycloneDX specification, "Media Types"). */
export const CYCLONEDX_MEDIA_TYPE = 'application/vnd.cyclonedx+json'

export interface ContentSbom extends SbomDocument {
  /** Hex SHA-256 of `text` (UTF-8): the object key's name. */
  sha256Hex: string
}

/** The document of `layer`'s artifact `artifactKey` as zipped into the content `codeSha256` (base64). */
export function contentSbom(layer: string, locked: Pick<LockedOwnLayer, 'kind' | 'artifacts'>, artifactKey: ArtifactKey, codeSha256: string, format: SbomFormat, toolVersion: string): ContentSbom {
  // The lock's publications are other contents' business: this document names this content only.
  const artifact = {...sbomArtifact(layer, {...locked, published: {}} as LockedOwnLayer, artifactKey, []), codeSha256: [codeSha256]}
  const document = renderSbom(artifact, format, toolVersion)
  return {...document, sha256Hex: createHash('sha256').update(document.text).digest('hex')}
}

/** Where publish stores a content's CycloneDX SBOM: `<prefix><layer>/<sha256 hex of the document>.cdx.json`, beside its zip. */
export function sbomObjectKey(prefix: string, layer: string, sbomSha256Hex: string): string {
  return `${prefix}${layer}/${sbomSha256Hex}.cdx.json`
}
