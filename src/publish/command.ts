// Owns `layers publish` end to end for the command: loads the manifest and the lockfile (which must
// match), builds the selected own layers' artifacts (buildProject), plans, wires AWS (one client
// factory: per-account credentials, adaptive retries, shared pool), the lockfile recorder and the
// state database, the team-state leases (settings.state, --no-remote-state, LAYERS_LEASE_MS), and
// runs the plan. Grants the manifest no longer names are removed only when confirmed: without --yes,
// the grants of the locked versions are read first (the run's own first read, not repeated) and
// `confirm` is asked about those that would go before anything is written; a "no" ends in the
// --dry-run result. A removal on a version adopted during the run was not asked about: it is left,
// with a warning (the next publish asks). Then the channels move (--channel, else all) and, with
// settings.ssm, the SSM parameters are made to match (src/ssm/publish.ts).
import {awsClientFactory, type AwsClientFactory, type AwsConnection} from '../aws/clients.js'
import {boundClients} from '../aws/identity.js'
import {layerPublishApi} from '../aws/lambda-layers.js'
import {buildProject} from '../build/run.js'
import type {Confirm} from '../cli/confirm.js'
import {InterruptedError, UserInputError, type Problem} from '../errors/index.js'
import type {EmitEvent} from '../events.js'
import {lockStatus, staleLayerNames} from '../lock/fingerprint.js'
import {readLockfile} from '../lock/io.js'
import {loadManifest} from '../manifest/load.js'
import {isOwnLayer, type Account, type Manifest} from '../manifest/types.js'
import {projectPaths} from '../project/paths.js'
import {openStateDatabase} from '../store/db.js'
import {selectAccounts, selectLayerNames, selectRegions} from '../manifest/select.js'
import {sharingRecorder, writeSharedEvents, type GrantEvent, type HistoryTarget} from '../history/shared.js'
import {assertChannel, moveAndSync, publishMoves, ssmApis} from '../ssm/publish.js'
import {teamLeases, type TeamLeases} from './lease.js'
import {planPublish, type PublishPlan, type PublishTarget, type PublishUnit} from './plan.js'
import {publicationRecorder, type PublicationRecord} from './record.js'
import {publishConfirmation} from './render.js'
import {lockedGrantRemovals, removalKey, runPublish, type PublishEnv, type PublishResult, type PublishRunOptions} from './run.js'

/** The AWS connection (timeouts, --profile, --endpoint-url; default: environment, else built in). */
export interface PublishCommandOptions extends AwsConnection {
  manifestPath: string
  layers: string[]
  accounts?: string[]
  regions?: string[]
  dryRun: boolean
  /** Remove grants the manifest no longer names without asking. */
  yes?: boolean
  /** Without --yes: asked before grants are removed (see the header); absent: they are removed. */
  confirm?: Confirm
  createBucket: boolean
  concurrency: number
  /** false: --no-remote-state (no leases), whatever settings.state.remote says. */
  remoteState?: boolean
  emit: EmitEvent
  /** Fires on an interrupt (see PublishRunOptions.signal; the build stops too). */
  signal?: AbortSignal
  /** --channel: move only this channel (default: every channel of each layer). */
  channel?: string
  /** --prune-parameters: delete the SSM parameters of the template's shape the manifest no longer names. */
  pruneParameters?: boolean
  /** The version of layers, named as the tool in each SBOM uploaded. */
  toolVersion: string
}

export async function publishCommand(options: PublishCommandOptions, clients: AwsClientFactory = awsClientFactory(options)): Promise<PublishResult> {
  const paths = projectPaths(options.manifestPath)
  const manifest = await loadManifest(paths.manifest)
  clients.budget.useSetting(manifest.settings.maxRps)
  const lock = await readLockfile(paths.lockfile)
  if (!lock) {
    throw new UserInputError('ERR_LAYERS_LOCK_MISSING', `${paths.lockfile} does not exist.`, {hint: 'Run `layers lock` first; `layers publish` publishes what the lockfile pins.'})
  }
  const names = selectLayerNames(manifest, options.layers)
  selectRegions(manifest, selectAccounts(manifest, options.accounts), options.regions)
  const stale = staleLayerNames(await lockStatus(manifest, lock), names)
  if (stale.length > 0) {
    throw new UserInputError('ERR_LAYERS_LOCK_STALE', `lockfile.json does not match the manifest for layer${stale.length === 1 ? '' : 's'} ${stale.join(', ')}.`, {
      hint: `Run \`layers lock\` first; \`layers publish\` publishes what the lockfile pins.`,
      details: {layers: stale},
    })
  }
  assertChannel(manifest, names, options.channel)
  const own = names.filter((name) => isOwnLayer(manifest.layers[name]!))
  const artifacts = own.length > 0 ? await buildProject({manifestPath: paths.manifest, layers: own, emit: options.emit, ...(options.signal ? {signal: options.signal} : {})}) : []
  const plan = planPublish(manifest, lock, artifacts, {layers: names, accounts: options.accounts, regions: options.regions}, options.toolVersion)
  const env = awsPublishEnv(manifest, clients)
  const warnings: Problem[] = []
  const emit: EmitEvent = (event) => {
    if (event.type === 'warning') warnings.push(event.warning)
    options.emit(event)
  }
  const team = options.remoteState === false ? undefined : teamLeases(manifest, 'layers publish', emit, (account, region) => env.leaseStore!({accountName: account.name, accountId: account.id, region}))
  const leases = team && {config: team.config, target: (unit: PublishUnit) => team.target(unit.layer, manifest.accounts[unit.target.accountName]!, unit.target.region)}
  const db = options.dryRun ? undefined : openStateDatabase(paths.stateDir)
  const done = (result: PublishResult): PublishResult => (warnings.length > 0 ? {...result, warnings} : result)
  try {
    const runOptions: PublishRunOptions = {
      dryRun: options.dryRun,
      createBucket: options.createBucket,
      concurrency: options.concurrency,
      recorder: team && !options.dryRun ? sharingRecorder(publicationRecorder(paths.lockfile, db), manifest.settings.prefix, (record) => historyTarget(manifest, team, env, record), emit) : publicationRecorder(paths.lockfile, db),
      emit,
      ...(leases ? {leases} : {}),
      ...(options.signal ? {signal: options.signal} : {}),
    }
    if (!options.dryRun && !options.yes && options.confirm) {
      // Nothing is written before the answer; the run then uses the grants read for the question.
      const {removals, reads} = await askedGrants(plan, env, options.concurrency, options.signal)
      if (removals.length > 0 && !(await options.confirm(publishConfirmation(removals)))) {
        return done(await runPublish(plan, env, {...runOptions, dryRun: true, recorder: publicationRecorder(paths.lockfile, undefined), grantReads: reads}))
      }
      runOptions.grantReads = reads
      runOptions.confirmedRemovals = new Set(removals.flatMap((entry) => entry.sids.map((sid) => removalKey(entry.accountId, entry.region, entry.layer, entry.version, sid))))
    }
    const result = await runPublish(plan, env, runOptions)
    // Grant changes go to the shared history too (none in a no-op publish: no call).
    if (team && !options.dryRun) await writeSharedEvents(grantEvents(result), manifest.settings.prefix, (event) => historyTarget(manifest, team, env, event), emit, 'The grants are set; the shared history (layers history in other clones) lacks this change.')
    const {parameters} = await moveAndSync({
      manifest,
      lockfile: paths.lockfile,
      lock: (await readLockfile(paths.lockfile)) ?? lock,
      moves: publishMoves(manifest, result.units, options.channel),
      targets: result.units.map((unit) => ({layer: unit.layer, target: {accountName: unit.accountName, accountId: unit.accountId, region: unit.region}})),
      prune: options.pruneParameters === true,
      dryRun: options.dryRun,
      concurrency: options.concurrency,
      ...(options.signal ? {signal: options.signal} : {}),
      api: env.ssm!,
    })
    const full = parameters ? {...result, parameters} : result
    if (options.signal?.aborted && parameters?.summary.notStarted) {
      const by = InterruptedError.signalOf(options.signal)
      throw new InterruptedError(by, `publish interrupted by ${by} while writing SSM parameters: ${parameters.summary.written} written, ${parameters.summary.notStarted} not started (every layer version is published and recorded).`, {details: {...full}})
    }
    return done(full)
  } finally {
    db?.close()
  }
}

/** Every client is bound to its account first (src/aws/identity.ts): one GetCallerIdentity per account and run. */
export function awsPublishEnv(manifest: Pick<Manifest, 'accounts'>, factory: AwsClientFactory): PublishEnv {
  const account = (target: PublishTarget): Account => manifest.accounts[target.accountName]!
  const clients = boundClients(factory)
  return {
    layersApi: async (target) => layerPublishApi(await clients.lambda(account(target), target.region), await clients.lambda(account(target), target.region, {maxAttempts: 1})),
    // S3 (and its SDK package) is loaded only when something is to be uploaded or published.
    store: async (target) => (await import('../aws/s3-artifacts.js')).artifactStoreApi(await clients.s3(account(target), target.region)),
    leaseStore: async (target) => (await import('../aws/s3-leases.js')).leaseStoreApi(await clients.s3(account(target), target.region)),
    historyStore: async (target) => (await import('../aws/s3-history.js')).historyStoreApi(await clients.s3(account(target), target.region)),
    ssm: ssmApis(manifest, clients),
  }
}

/** The grant removals to ask about (lockedGrantRemovals); an interrupt while reading them has written nothing. */
async function askedGrants(plan: PublishPlan, env: PublishEnv, concurrency: number, signal: AbortSignal | undefined): Promise<Awaited<ReturnType<typeof lockedGrantRemovals>>> {
  const asked = await lockedGrantRemovals(plan, env, concurrency)
  if (signal?.aborted) {
    const by = InterruptedError.signalOf(signal)
    throw new InterruptedError(by, `publish interrupted by ${by} while reading the grants it would change: nothing was uploaded, published or shared.`)
  }
  return asked
}

/** The grant changes of the units that did not fail, as shared-history events. */
function grantEvents(result: PublishResult): GrantEvent[] {
  const at = new Date().toISOString()
  return result.units
    .filter((unit) => (unit.status === 'published' || unit.status === 'adopted' || unit.status === 'unchanged') && unit.arn !== undefined && unit.version !== undefined && unit.grantsAdded.length + unit.grantsRemoved.length > 0)
    .map((unit) => ({type: 'grant', layer: unit.layer, accountId: unit.accountId, region: unit.region, at, version: unit.version!, arn: unit.arn!, added: unit.grantsAdded, removed: unit.grantsRemoved}))
}

/** Where a record's shared-history event goes: the state bucket of its account and region. */
function historyTarget(manifest: Pick<Manifest, 'accounts'>, team: TeamLeases, env: PublishEnv, record: Pick<PublicationRecord, 'layer' | 'accountId' | 'region'>): HistoryTarget {
  const account = Object.values(manifest.accounts).find((entry) => entry.id === record.accountId)!
  const target = {accountName: account.name, accountId: account.id, region: record.region}
  return {bucket: team.target(record.layer, account, record.region).bucket, accountId: account.id, region: record.region, store: () => env.historyStore!(target)}
}

