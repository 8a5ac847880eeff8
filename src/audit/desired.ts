// Owns the desired Layers list of a managed function as the lock defines it: the function's manifest
// layer order mapped to the locked version ARN for its account, region and architecture (own layers:
// the artifact whose architectures include the function's; arn layers: the pinned ARN). Pure.
import type {Lockfile} from '../lock/types.js'
import {artifactArchitectures} from '../lock/types.js'
import type {Architecture, Manifest} from '../manifest/types.js'
import type {DesiredLayers} from './findings.js'

export function desiredFromLock(
  manifest: Pick<Manifest, 'functions' | 'layers'>,
  lock: Lockfile | undefined,
  functionKey: string,
  accountId: string,
  region: string,
  architecture: Architecture,
): DesiredLayers {
  const spec = manifest.functions[functionKey]
  if (!spec) return {error: `function ${functionKey} is not in the manifest`}
  const arns: string[] = []
  for (const name of spec.layers) {
    const locked = lock?.layers[name]
    if (!locked) return {error: `layer ${name} is not in lockfile.json (run \`layers lock\`)`}
    if (locked.kind === 'arn') {
      const arn = locked.arns[accountId]?.[region]
      if (!arn) return {error: `layer ${name} has no pinned ARN for ${accountId}/${region} (run \`layers lock\`)`}
      arns.push(arn)
      continue
    }
    const artifacts = locked.published?.[accountId]?.[region] ?? {}
    const match = Object.entries(artifacts)
      .filter(([key]) => artifactArchitectures(key).includes(architecture))
      .sort(([a], [b]) => a.length - b.length || (a < b ? -1 : 1))[0]
    if (!match) return {error: `layer ${name} is not published to ${accountId}/${region} for ${architecture} (run \`layers publish ${name}\`)`}
    arns.push(match[1].arn)
  }
  return {arns}
}
