// Owns `layers publish` end to end for the command: loads the manifest and the lockfile (which must
// match), builds the selected own layers' artifacts (buildProject), plans, wires AWS (one client
// factory: per-account credentials, adaptive retries, shared pool), the lockfile recorder and the
// state database, and runs the plan.
import {awsClientFactory, type AwsClientFactory} from '../aws/clients.js'
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
import {planPublish, selectAccounts, selectLayerNames, type PublishTarget} from './plan.js'
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
  selectAccounts(manifest, options.accounts)
  const stale = staleLayerNames(await lockStatus(manifest, lock), names)
  if (stale.length > 0) {
    throw new UserInputError('ERR_LAYERS_LOCK_STALE', `lockfile.json does not match the manifest for layer${stale.length === 1 ? '' : 's'} ${stale.join(', ')}.`, {
      hint: `Run \`layers lock\` first; \`layers publish\` publishes what the lockfile pins.`,
      details: {layers: stale},
    })
  }
  const own = names.filter((name) => isOwnLayer(manifest.layers[name]!))
  const artifacts = own.length > 0 ? await buildProject({manifestPath: paths.manifest, layers: own, emit: options.emit}) : []
  const plan = planPublish(manifest, lock, artifacts, {layers: names, accounts: options.accounts, regions: options.regions})
  const db = options.dryRun ? undefined : openStateDatabase(paths.stateDir)
  try {
    return await runPublish(plan, awsPublishEnv(manifest, clients), {
      dryRun: options.dryRun,
      createBucket: options.createBucket,
      concurrency: options.concurrency,
      recorder: publicationRecorder(paths.lockfile, db),
      emit: options.emit,
    })
  } finally {
    db?.close()
  }
}

export function awsPublishEnv(manifest: Pick<Manifest, 'accounts'>, clients: AwsClientFactory): PublishEnv {
  const account = (target: PublishTarget): Account => manifest.accounts[target.accountName]!
  const callers = new Map<string, Promise<string>>()
  return {
    layersApi: async (target) => layerPublishApi(await clients.lambda(account(target), target.region), await clients.lambda(account(target), target.region, {maxAttempts: 1})),
    // S3 and STS (and their SDK packages) are loaded only when something is to be uploaded or published.
    store: async (target) => (await import('../aws/s3-artifacts.js')).artifactStoreApi(await clients.s3(account(target), target.region)),
    callerAccountId: (target) => {
      let caller = callers.get(target.accountName)
      if (!caller) {
        caller = clients.sts(account(target), target.region).then(async (sts) => {
          const {GetCallerIdentityCommand} = await import('@aws-sdk/client-sts')
          return (await sts.send(new GetCallerIdentityCommand({}))).Account ?? ''
        })
        callers.set(target.accountName, caller)
      }
      return caller
    },
  }
}
