// Owns `layers publish` end to end for the command: loads the manifest and the lockfile (which must
// match), builds the selected own layers' artifacts (buildProject), plans, wires AWS (one client
// factory: per-account credentials, adaptive retries, shared pool), the lockfile recorder and the
// state database, and runs the plan.
import {awsClientFactory, type AwsClientFactory} from '../aws/clients.js'
import {boundClients} from '../aws/identity.js'
import {layerPublishApi} from '../aws/lambda-layers.js'
import type {AwsTimeouts} from '../aws/time-bounds.js'
import {buildProject} from '../build/run.js'
import {UserInputError} from '../errors/index.js'
import type {EmitEvent} from '../events.js'
import {lockStatus, staleLayerNames} from '../lock/fingerprint.js'
import {readLockfile} from '../lock/io.js'
import {loadManifest} from '../manifest/load.js'
import {isOwnLayer, type Account, type Manifest} from '../manifest/types.js'
import {projectPaths} from '../project/paths.js'
import {openStateDatabase} from '../store/db.js'
import {selectAccounts, selectLayerNames, selectRegions} from '../manifest/select.js'
import {planPublish, type PublishTarget} from './plan.js'
import {publicationRecorder} from './record.js'
import {runPublish, type PublishEnv, type PublishResult} from './run.js'

export interface PublishCommandOptions {
  manifestPath: string
  layers: string[]
  accounts?: string[]
  regions?: string[]
  dryRun: boolean
  createBucket: boolean
  concurrency: number
  emit: EmitEvent
  /** Fires on an interrupt (see PublishRunOptions.signal; the build stops too). */
  signal?: AbortSignal
  /** Connect and read timeouts of the AWS calls (default: environment, else built in). */
  timeouts?: AwsTimeouts
}

export async function publishCommand(options: PublishCommandOptions, clients: AwsClientFactory = awsClientFactory({timeouts: options.timeouts, emit: options.emit})): Promise<PublishResult> {
  const paths = projectPaths(options.manifestPath)
  const manifest = await loadManifest(paths.manifest)
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
  const own = names.filter((name) => isOwnLayer(manifest.layers[name]!))
  const artifacts = own.length > 0 ? await buildProject({manifestPath: paths.manifest, layers: own, emit: options.emit, ...(options.signal ? {signal: options.signal} : {})}) : []
  const plan = planPublish(manifest, lock, artifacts, {layers: names, accounts: options.accounts, regions: options.regions})
  const db = options.dryRun ? undefined : openStateDatabase(paths.stateDir)
  try {
    return await runPublish(plan, awsPublishEnv(manifest, clients), {
      dryRun: options.dryRun,
      createBucket: options.createBucket,
      concurrency: options.concurrency,
      recorder: publicationRecorder(paths.lockfile, db),
      emit: options.emit,
      ...(options.signal ? {signal: options.signal} : {}),
    })
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
  }
}
