// Owns the channel and SSM side of `layers publish` and `layers promote`: which channels a publish
// moves (--channel, else every channel of each layer that declares channels) to the versions its units
// ended on, recording them in lockfile.json (`channels`), and then making SSM Parameter Store hold
// every channel's version ARN for the targets worked on (settings.ssm; src/ssm/sync.ts), with stale
// parameters always reported there and removed under --prune-parameters. `promote` copies one channel to another per account and
// region from the lockfile, and writes that channel's parameters only.
import type {SsmParameterApi} from '../aws/ssm-parameters.js'
import type {AwsClientFactory} from '../aws/clients.js'
import {UserInputError} from '../errors/index.js'
import {updateLockfile} from '../lock/io.js'
import type {Lockfile} from '../lock/types.js'
import {isOwnLayer, layerChannels, type Manifest, type OwnLayer} from '../manifest/types.js'
import {Lease, type TeamLeases} from '../publish/lease.js'
import {applyChannelMoves, changingMoves, desiredParameters, namedParameters, type ChannelMove, type SsmTarget} from './plan.js'
import {syncParameters, type SsmSyncResult} from './sync.js'

/** Refuses a --channel that one of the selected own layers does not declare (located at its `channels`). */
export function assertChannel(manifest: Manifest, layers: readonly string[], channel: string | undefined): void {
  if (channel === undefined) return
  for (const name of layers) {
    const layer = manifest.layers[name]
    if (!layer || !isOwnLayer(layer) || layerChannels(layer).includes(channel)) continue
    const location = manifest.locate(layer.channels ? ['layers', name, 'channels'] : ['layers', name])
    throw new UserInputError('ERR_LAYERS_UNKNOWN_CHANNEL', `Layer ${name} has no channel ${channel} (its channels: ${layerChannels(layer).join(', ')}).`, {
      hint: layer.channels ? `Add ${channel} to layers.${name}.channels, or name the layers that have it.` : `Declare channels for layers.${name} (e.g. channels: [prod, ${channel}]), or name the layers that have it.`,
      ...(location ? {location} : {}),
      details: {layer: name, channel, channels: layerChannels(layer)},
    })
  }
}

export interface UnitEnd {
  layer: string
  artifact: string
  accountName: string
  accountId: string
  region: string
  arn?: string
  version?: number
  codeSha256: string
  status: string
}

/** The channel moves of a publish: each unit that ended on a version moves its layer's channels (`channel`, else all declared). */
export function publishMoves(manifest: Manifest, units: readonly UnitEnd[], channel: string | undefined): ChannelMove[] {
  const moves: ChannelMove[] = []
  for (const unit of units) {
    const layer = manifest.layers[unit.layer]
    if (!layer || !isOwnLayer(layer) || !layer.channels || unit.arn === undefined || unit.version === undefined) continue
    if (!['published', 'adopted', 'unchanged'].includes(unit.status)) continue
    for (const name of channel === undefined ? layer.channels : [channel]) {
      moves.push({layer: unit.layer, channel: name, artifactKey: unit.artifact, accountName: unit.accountName, accountId: unit.accountId, region: unit.region, publication: {arn: unit.arn, version: unit.version, codeSha256: unit.codeSha256}})
    }
  }
  return moves
}

export interface ParameterRunOptions {
  manifest: Manifest
  lockfile: string
  /** The lockfile as it is (a dry run's moves are applied to a copy). */
  lock: Lockfile
  moves: readonly ChannelMove[]
  /** Own layers and the targets they were worked on. */
  targets: ReadonlyArray<{layer: string; target: SsmTarget}>
  /** Only these channels' parameters (promote); default all of each layer's. */
  channels?: readonly string[]
  prune: boolean
  dryRun: boolean
  concurrency: number
  signal?: AbortSignal
  /** Team state; undefined with --no-remote-state (never used by a dry run). */
  leases?: TeamLeases
  api(target: SsmTarget): Promise<SsmParameterApi>
}

/**
 * Records the moves that change the lockfile (not on a dry run) and syncs the parameters, each layer,
 * account and region under its lease; undefined parameters when the manifest has no settings.ssm.
 */
export async function moveAndSync(options: ParameterRunOptions): Promise<{lock: Lockfile; parameters?: SsmSyncResult}> {
  const leases = new Map<string, Lease>()
  const hold = async (layer: string, target: SsmTarget): Promise<void> => {
    if (!options.leases || options.dryRun) return
    const key = `${layer}\u0000${target.accountId}\u0000${target.region}`
    let lease = leases.get(key)
    if (!lease) {
      lease = new Lease(options.leases.config, options.leases.target(layer, options.manifest.accounts[target.accountName]!, target.region))
      leases.set(key, lease)
    }
    await lease.hold()
  }
  try {
    return await sync(options, hold)
  } finally {
    await Promise.all([...leases.values()].map((lease) => lease.release()))
  }
}

async function sync(options: ParameterRunOptions, hold: (layer: string, target: SsmTarget) => Promise<void>): Promise<{lock: Lockfile; parameters?: SsmSyncResult}> {
  let lock = options.lock
  const moves = changingMoves(lock, options.moves)
  if (moves.length > 0) {
    if (options.dryRun) lock = applyChannelMoves(structuredClone(lock), moves)
    else {
      // Every lease first: a move refused there leaves lockfile.json as it was.
      await Promise.all(moves.map((move) => hold(move.layer, move)))
      lock = await updateLockfile(options.lockfile, (current) => applyChannelMoves(current, moves))
    }
  }
  const ssm = options.manifest.settings.ssm
  if (!ssm) return {lock}
  const byLayer = new Map<string, SsmTarget[]>()
  const listed = new Map<string, SsmTarget>()
  for (const {layer, target} of options.targets) {
    const list = byLayer.get(layer) ?? []
    if (!list.some((entry) => entry.accountId === target.accountId && entry.region === target.region)) list.push(target)
    byLayer.set(layer, list)
    listed.set(`${target.accountId}\u0000${target.region}`, target)
  }
  const layers = [...byLayer].map(([name, targets]) => ({layer: options.manifest.layers[name] as OwnLayer, targets}))
  const own = Object.values(options.manifest.layers).filter(isOwnLayer)
  const parameters = await syncParameters(desiredParameters(ssm.parameterName, lock, layers, options.channels), options.api, {
    template: ssm.parameterName,
    named: namedParameters(ssm.parameterName, own),
    targets: [...listed.values()],
    prune: options.prune,
    dryRun: options.dryRun,
    concurrency: options.concurrency,
    ...(options.signal ? {signal: options.signal} : {}),
    beforeWrite: (parameter) => hold(parameter.layer, parameter),
    now: () => new Date().toISOString(),
  })
  return {lock, parameters}
}

/** SSM clients bound to their account (src/aws/identity.ts), one per account and region. */
export function ssmApis(manifest: Pick<Manifest, 'accounts'>, clients: Pick<AwsClientFactory, 'ssm'>): (target: SsmTarget) => Promise<SsmParameterApi> {
  return async (target) => {
    const account = manifest.accounts[target.accountName]!
    const [{ssmParameterApi}, reads, writes] = await Promise.all([import('../aws/ssm-parameters.js'), clients.ssm(account, target.region), clients.ssm(account, target.region, {maxAttempts: 1})])
    return ssmParameterApi(reads, writes)
  }
}
