// Owns the layers.yaml the audit benchmarks (run.mjs, scale.mjs) point the product at: the fleet's
// accounts in the given regions, no layers and no functions declared.

/** The layers.yaml text for `accounts` ({id, profile} from the fleet child) across `regions`. */
export function fleetManifest(accounts, regions) {
  return `version: 1
settings:
  bucket: "bench-{accountId}-{region}"
  regions: [${regions.join(', ')}]
  architectures: [x86_64, arm64]
  runtimes: [nodejs22.x]
accounts:
${accounts.map((account, index) => `  acc${index}:\n    id: "${account.id}"\n    profile: ${account.profile}\n`).join('')}layers: {}
functions: {}
`
}
