// Owns the publish's belt and braces: after a version is published (under the lease), the layer's
// versions carrying the same content (description hash, confirmed by CodeSha256) are listed; when
// there is more than one (a lease bypassed, an older `layers`, a holder that lost its lease), the
// oldest is kept and each newer one is deleted only when that is known to be safe: no function of the
// account and region uses it and it has no grants (so no other account can use it). Anything else is
// kept and reported. One extra call (ListLayerVersions) when there is no duplicate.
import type {LayerPublishApi, LayerVersionInfo} from '../aws/lambda-layers.js'
import {candidateVersions, type PublishUnit} from './plan.js'

export interface DuplicateReport {
  /** The version kept (the oldest with this content). */
  kept: number
  deleted: Array<{version: number; arn: string}>
  /** Newer duplicates left in place, and why. */
  left: Array<{version: number; arn: string; reason: string}>
}

/**
 * The version to use for `published`'s content: itself, or an older one with the same content. The
 * report is set when duplicates were found. `published` has no grants yet (they come after).
 */
export async function settleDuplicates(api: LayerPublishApi, unit: PublishUnit, published: LayerVersionInfo): Promise<{keep: LayerVersionInfo; report?: DuplicateReport}> {
  const candidates = candidateVersions(await api.listVersions(unit.layer), unit.content.sha256Hex)
  if (candidates.length <= 1) return {keep: published}
  const same: LayerVersionInfo[] = []
  for (const candidate of candidates) {
    const info = candidate.version === published.version ? published : await api.getVersion(unit.layer, candidate.version)
    if (info?.codeSha256 === unit.content.codeSha256) same.push(info)
  }
  if (same.length <= 1) return {keep: published}
  const [keep, ...newer] = same as [LayerVersionInfo, ...LayerVersionInfo[]]
  const report: DuplicateReport = {kept: keep.version, deleted: [], left: []}
  let inUse: Set<string> | undefined
  let unknown = ''
  try {
    inUse = await api.layerArnsInUse()
  } catch (error) {
    unknown = (error as Error).message
  }
  for (const version of newer) {
    const grants = version.version === published.version ? [] : await api.getGrants(unit.layer, version.version)
    if (!inUse) report.left.push({version: version.version, arn: version.arn, reason: `cannot tell whether a function uses it (ListFunctions failed: ${unknown})`})
    else if (inUse.has(version.arn)) report.left.push({version: version.version, arn: version.arn, reason: 'a function uses it'})
    else if (grants && grants.length > 0) report.left.push({version: version.version, arn: version.arn, reason: `it is shared (${grants.map((grant) => grant.sid).join(', ')}): another account may use it`})
    else {
      await api.deleteVersion(unit.layer, version.version)
      report.deleted.push({version: version.version, arn: version.arn})
    }
  }
  return {keep, report}
}
