// The audit's scan collected: every target's functions and what each account said of the layer versions
// they run, as the scan tests read them (src/audit/scan.ts streams them and keeps none).
import {streamTargets, type ReadApiForTarget, type ScanOptions} from '../../src/audit/scan.js'
import type {AuditTarget, LayerVersionsByAccount, ScannedFunction, TargetScan} from '../../src/audit/types.js'

export async function scanTargets(targets: AuditTarget[], apiFor: ReadApiForTarget, options: ScanOptions): Promise<{scans: TargetScan[]; layerVersions: LayerVersionsByAccount}> {
  const functions = new Map<string, ScannedFunction[]>()
  const scans: TargetScan[] = []
  const layerVersions: LayerVersionsByAccount = {}
  const key = (target: AuditTarget) => `${target.accountId}/${target.region}`
  await streamTargets(targets, apiFor, options, {
    function(target, fn, versions) {
      const ofTarget = functions.get(key(target))
      if (ofTarget) ofTarget.push(fn)
      else functions.set(key(target), [fn])
      Object.assign((layerVersions[target.accountId] ??= {}), versions)
    },
    target(end) {
      const {accountId, accountName, region} = end
      const target = {accountId, ...(accountName === undefined ? {} : {accountName}), region}
      // In name order: the scan hands them over as their reads finish.
      const read = (functions.get(key(end)) ?? []).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      // A failed target's functions (listed before its listing broke off) are left out, as the report leaves them out.
      scans.push(end.status === 'ok' ? {...target, status: 'ok', functions: read} : end.status === 'incomplete' ? {...target, status: 'incomplete', functions: read, error: end.error} : {...target, status: 'failed', error: end.error})
    },
  })
  const order = new Map(targets.map((target, index) => [key(target), index]))
  return {scans: scans.sort((a, b) => order.get(key(a))! - order.get(key(b))!), layerVersions}
}
