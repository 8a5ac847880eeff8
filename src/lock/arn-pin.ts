// Owns locking `arn` layers: for every account and region that uses the layer (the targets of its
// functions; every manifest account when no function does), `{region}` is expanded, a versioned ARN
// is checked to be readable there, and a versionless ARN is resolved to the newest version that
// account can read (its own layer: ListLayerVersions; another account's: GetLayerVersion probes,
// since listing shows only the caller's own layers). The result is the lock's `arns` map.
import {LayersError, OperationalError, UserInputError} from '../errors/index.js'
import type {AwsClientFactory} from '../aws/clients.js'
import {arnForRegion} from '../manifest/arn.js'
import type {Account, ArnLayer, Manifest} from '../manifest/types.js'
import {newestReadableVersion, PROBE_BATCH, PROBE_LIMIT, type LayerProbeApi} from '../outdated/newest-version.js'
import {layerTargets} from '../publish/plan.js'

export interface ArnPinTarget {
  account: Account
  region: string
}

export interface ArnPinEnv {
  probeApi(target: ArnPinTarget): Promise<LayerProbeApi>
}

/** accountId -> region -> pinned layer version ARN, as LockedArnLayer.arns holds it. */
export type PinnedArns = Record<string, Record<string, string>>

/** The accounts and regions whose functions use the layer (every account and region when none does). */
export function arnPinTargets(manifest: Pick<Manifest, 'functions' | 'accounts'>, layerName: string): ArnPinTarget[] {
  const accounts = Object.values(manifest.accounts)
  const byId = new Map(accounts.map((account) => [account.id, account]))
  return [...layerTargets(manifest, layerName, accounts, undefined).values()]
    .map(({target}) => ({account: byId.get(target.accountId)!, region: target.region}))
    .sort((a, b) => (a.account.id + a.region < b.account.id + b.region ? -1 : 1))
}

const VERSIONED = /:(\d+)$/

/** Pins the layer for every target; throws naming the layer, account and region that fail. */
export async function pinArnLayer(layer: ArnLayer, targets: ArnPinTarget[], env: ArnPinEnv): Promise<PinnedArns> {
  const pinned: PinnedArns = {}
  await Promise.all(
    targets.map(async (target) => {
      const arn = arnForRegion(layer.arn, target.region)
      const where = `account ${target.account.id} (${target.account.name}), region ${target.region}`
      let resolved: string
      try {
        // Inside the try: the client's credentials (and the account check) fail here when they fail.
        const api = await env.probeApi(target)
        resolved = VERSIONED.test(arn) ? ((await api.canRead(arn)) ? arn : '') : await newestVersion(api, arn)
      } catch (error) {
        // Ours already say what and where (the account check: credentials of another account).
        if (error instanceof LayersError) throw error
        throw new OperationalError('ERR_LAYERS_ARN_PIN_FAILED', `Could not read ${arn} (layer ${layer.name}) from ${where}: ${(error as Error).message}`, {
          cause: error,
          hint: 'Check the credentials and network for that account, then run `layers lock` again.',
          details: {layer: layer.name, account: target.account.id, region: target.region},
        })
      }
      if (!resolved) {
        throw new UserInputError('ERR_LAYERS_ARN_UNREADABLE', `${arn} (layer ${layer.name}) does not exist or is not shared with ${where}.`, {
          hint: VERSIONED.test(arn)
            ? 'Check the version in layers.yaml (a deleted version can no longer be added), or ask the layer owner to share it with this account.'
            : 'Check the layer ARN in layers.yaml, or ask the layer owner to share it with this account.',
          details: {layer: layer.name, account: target.account.id, region: target.region, arn},
        })
      }
      ;(pinned[target.account.id] ??= {})[target.region] = resolved
    }),
  )
  return pinned
}

/** The newest readable version of a versionless layer ARN; '' when none is readable. */
async function newestVersion(api: LayerProbeApi, layerArn: string): Promise<string> {
  const own = await api.listOwnVersions?.(layerArn)
  if (own) return own.length > 0 ? `${layerArn}:${Math.max(...own)}` : ''
  // Another account's layer: find a readable version (early ones may be deleted), then walk up from it.
  for (let start = 1; start <= PROBE_LIMIT; start += PROBE_BATCH) {
    const batch = Array.from({length: PROBE_BATCH}, (_, index) => start + index)
    const readable = await Promise.all(batch.map((version) => api.canRead(`${layerArn}:${version}`)))
    const hits = batch.filter((_, index) => readable[index])
    if (hits.length > 0) return (await newestReadableVersion(api, `${layerArn}:${Math.max(...hits)}`)).arn
  }
  return ''
}

/** Probes over the shared client factory, with each target account's credentials. */
export function awsArnPinEnv(clients: Pick<AwsClientFactory, 'lambda'>): ArnPinEnv {
  return {
    probeApi: async (target) => {
      const {layerProbeApi} = await import('../outdated/lambda.js')
      return layerProbeApi(await clients.lambda(target.account, target.region), target.account.id, target.region)
    },
  }
}
