// Owns `layers promote LAYER --from A --to B`: per account and region of the layer (its publish
// targets, narrowed by --account/--region), channel B is pointed at the versions channel A holds there
// (every artifact), recorded in lockfile.json, without publishing anything; then, with settings.ssm,
// channel B's SSM parameters there are written (only B's: the other channels are not touched). A
// target where A holds nothing is refused before anything changes. With team state (settings.state,
// --no-remote-state) each account and region's move and writes run under the layer's team-state lease,
// as publish's do (src/ssm/publish.ts moveAndSync).
import type {AwsClientFactory, AwsConnection} from '../aws/clients.js'
import {awsClientFactory} from '../aws/clients.js'
import {accountGuard, boundClients} from '../aws/identity.js'
import {InterruptedError, UserInputError} from '../errors/index.js'
import type {EmitEvent} from '../events.js'
import {readLockfile} from '../lock/io.js'
import {loadManifest} from '../manifest/load.js'
import {layerByName, selectAccounts, selectRegions} from '../manifest/select.js'
import {isOwnLayer} from '../manifest/types.js'
import {projectPaths} from '../project/paths.js'
import {teamLeases} from '../publish/lease.js'
import {layerTargets} from '../publish/plan.js'
import {assertChannel, moveAndSync, ssmApis} from './publish.js'
import type {ChannelMove} from './plan.js'
import type {SsmSyncResult} from './sync.js'

export interface PromoteCommandOptions extends AwsConnection {
  manifestPath: string
  layer: string
  from: string
  to: string
  accounts?: string[]
  regions?: string[]
  dryRun: boolean
  concurrency: number
  /** false: --no-remote-state (no leases), whatever settings.state.remote says. */
  remoteState?: boolean
  emit: EmitEvent
  signal?: AbortSignal
}

export interface PromoteMove {
  accountName: string
  accountId: string
  region: string
  artifact: string
  arn: string
  version: number
  /** The version channel `to` held there before (absent: none). */
  previousVersion?: number
  status: 'moved' | 'unchanged' | 'would-move'
}

export interface PromoteResult {
  layer: string
  from: string
  to: string
  dryRun: boolean
  moves: PromoteMove[]
  parameters?: SsmSyncResult
}

export async function promoteCommand(options: PromoteCommandOptions, clients: AwsClientFactory = awsClientFactory(options)): Promise<PromoteResult> {
  const paths = projectPaths(options.manifestPath)
  const manifest = await loadManifest(paths.manifest)
  const layer = layerByName(manifest, options.layer)
  if (!isOwnLayer(layer) || !layer.channels) {
    const location = manifest.locate(['layers', options.layer])
    throw new UserInputError('ERR_LAYERS_NO_CHANNELS', `Layer ${options.layer} declares no channels${isOwnLayer(layer) ? '' : ' (it is an arn layer, published by someone else)'}.`, {
      hint: isOwnLayer(layer) ? `Add channels to layers.${options.layer} (e.g. channels: [prod, beta]), publish with --channel, then promote.` : 'Promote one of your own layers.',
      ...(location ? {location} : {}),
    })
  }
  assertChannel(manifest, [options.layer], options.from)
  assertChannel(manifest, [options.layer], options.to)
  if (options.from === options.to) throw new UserInputError('ERR_LAYERS_PROMOTE_SAME_CHANNEL', `--from and --to are both ${options.from}.`, {hint: 'Name two different channels of the layer.'})
  const accounts = selectAccounts(manifest, options.accounts)
  const regions = selectRegions(manifest, accounts, options.regions)
  const lock = await readLockfile(paths.lockfile)
  const locked = lock?.layers[options.layer]
  if (!lock || !locked || locked.kind === 'arn') {
    throw new UserInputError('ERR_LAYERS_LOCK_MISSING', `${paths.lockfile} has no entry for layer ${options.layer}.`, {hint: `Run \`layers lock\` and \`layers publish ${options.layer} --channel ${options.from}\` first.`})
  }
  const targets = [...layerTargets(manifest, options.layer, accounts, regions).values()].map((entry) => entry.target)
  const from = locked.channels?.[options.from] ?? {}
  const to = locked.channels?.[options.to] ?? {}
  const missing = targets.filter((target) => Object.keys(from[target.accountId]?.[target.region] ?? {}).length === 0)
  if (missing.length > 0) {
    throw new UserInputError('ERR_LAYERS_CHANNEL_EMPTY', `Channel ${options.from} of layer ${options.layer} holds no version in ${missing.map((target) => `${target.accountName} (${target.accountId})/${target.region}`).join(', ')}: nothing was promoted.`, {
      hint: `Run \`layers publish ${options.layer} --channel ${options.from}\` first, or narrow the promotion with --account/--region.`,
      details: {layer: options.layer, channel: options.from, targets: missing.map((target) => ({account: target.accountId, region: target.region}))},
    })
  }
  const moves: ChannelMove[] = []
  const report: PromoteMove[] = []
  for (const target of targets) {
    for (const [artifact, publication] of Object.entries(from[target.accountId]![target.region]!).sort(([a], [b]) => (a < b ? -1 : 1))) {
      const before = to[target.accountId]?.[target.region]?.[artifact]
      const same = before?.arn === publication.arn
      if (!same) moves.push({layer: options.layer, channel: options.to, artifactKey: artifact, ...target, publication})
      report.push({...target, artifact, arn: publication.arn, version: publication.version, ...(before ? {previousVersion: before.version} : {}), status: same ? 'unchanged' : options.dryRun ? 'would-move' : 'moved'})
    }
  }
  const guard = accountGuard(clients)
  // With parameters to write, every target's credentials must reach its account before the lockfile
  // records the move: a promotion refused there must leave the lock as it was.
  if (manifest.settings.ssm && !options.dryRun && moves.length > 0) {
    const byId = new Map(accounts.map((account) => [account.id, account]))
    await Promise.all(targets.map((target) => guard.verify(byId.get(target.accountId)!, target.region)))
  }
  const bound = boundClients(clients, guard)
  const leases =
    options.remoteState === false || options.dryRun
      ? undefined
      : teamLeases(manifest, 'layers promote', options.emit, async (account, region) => (await import('../aws/s3-leases.js')).leaseStoreApi(await bound.s3(account, region)))
  const {parameters} = await moveAndSync({
    manifest,
    lockfile: paths.lockfile,
    lock,
    moves,
    targets: targets.map((target) => ({layer: options.layer, target})),
    channels: [options.to],
    prune: false,
    dryRun: options.dryRun,
    concurrency: options.concurrency,
    ...(options.signal ? {signal: options.signal} : {}),
    ...(leases ? {leases} : {}),
    api: ssmApis(manifest, bound),
  })
  const result: PromoteResult = {layer: options.layer, from: options.from, to: options.to, dryRun: options.dryRun, moves: report, ...(parameters ? {parameters} : {})}
  if (options.signal?.aborted && parameters?.summary.notStarted) {
    const by = InterruptedError.signalOf(options.signal)
    throw new InterruptedError(by, `promote interrupted by ${by}: lockfile.json records channel ${options.to}; ${parameters.summary.written} SSM parameter(s) written, ${parameters.summary.notStarted} not started (run promote again to write them).`, {details: {...result}})
  }
  return result
}
