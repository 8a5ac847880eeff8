// Owns finding the newest version of a layer that a target can read. ListLayerVersions lists only
// the caller's own layers, so for another account's layer (shared, or AWS-provided) versions above
// the pinned one are probed with GetLayerVersion (layer ARN and number), a batch at a time: deleted numbers leave gaps,
// so the search stops only after a whole batch finds nothing.
import {parseLayerVersionArn} from '../audit/arn.js'

export interface LayerProbeApi {
  /** True when the caller can read this layer version; false when it does not exist or is not shared. */
  canRead(arn: string): Promise<boolean>
  /** Versions of the caller's own layer, newest first; undefined when the layer is not the caller's. */
  listOwnVersions?(layerArn: string): Promise<number[] | undefined>
}

export const PROBE_BATCH = 5
/** Upper bound on probes per layer, so a run never walks for ever. */
export const PROBE_LIMIT = 200

export async function newestReadableVersion(api: LayerProbeApi, pinnedArn: string): Promise<{arn: string; version: number}> {
  const parts = parseLayerVersionArn(pinnedArn)
  if (!parts) throw new Error(`${pinnedArn} is not a layer version ARN`)
  const own = await api.listOwnVersions?.(parts.layerArn)
  if (own && own.length > 0) {
    const version = Math.max(...own)
    return {arn: `${parts.layerArn}:${version}`, version}
  }
  let newest = parts.version
  let next = parts.version + 1
  while (next - parts.version <= PROBE_LIMIT) {
    const batch = Array.from({length: PROBE_BATCH}, (_, index) => next + index)
    const found = await Promise.all(batch.map((version) => api.canRead(`${parts.layerArn}:${version}`)))
    const hits = batch.filter((_, index) => found[index])
    if (hits.length === 0) break
    newest = Math.max(...hits)
    next = batch.at(-1)! + 1
  }
  return {arn: `${parts.layerArn}:${newest}`, version: newest}
}
