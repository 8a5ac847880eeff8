// Owns refreshing the local history cache from the shared history before `layers history` reads it:
// for a manifest's own layer, the events of every manifest account and region (in the state bucket of
// each, with that account's credentials) that the local database lacks are imported. An ARN layer, a
// project without remote state and --no-remote-state read the local database only. Also owns the
// writer attach, prune and audit hand their events to (publish writes through its own clients).
import {awsClientFactory, type AwsClientFactory, type AwsConnection} from '../aws/clients.js'
import {boundClients} from '../aws/identity.js'
import {UserInputError} from '../errors/index.js'
import type {EmitEvent} from '../events.js'
import {loadManifest} from '../manifest/load.js'
import {entryNamed} from '../manifest/select.js'
import {isOwnLayer, type Account, type Manifest} from '../manifest/types.js'
import {projectPaths} from '../project/paths.js'
import {teamLeases} from '../publish/lease.js'
import {openStateDatabase} from '../store/db.js'
import type {S3Client} from '@aws-sdk/client-s3'
import {mergeSharedHistory, writeSharedEvents, type HistoryTarget, type SharedEvent} from './shared.js'

export async function syncSharedHistory(options: {manifestPath: string; layer: string; emit: EmitEvent; aws?: AwsConnection}, factory: AwsClientFactory = awsClientFactory({...options.aws, emit: options.emit})): Promise<number> {
  const paths = projectPaths(options.manifestPath)
  // Without a loadable manifest there is nothing to merge from: the local history is shown as before.
  const manifest = await loadManifest(paths.manifest).catch((error: unknown) => {
    if (error instanceof UserInputError) return undefined
    throw error
  })
  if (!manifest) return 0
  const spec = entryNamed(manifest.layers, options.layer)
  if (!spec || !isOwnLayer(spec)) return 0
  const clients = boundClients(factory)
  const team = teamLeases(manifest, 'layers history', options.emit, () => Promise.reject(new Error('history takes no lease')))
  if (!team) return 0
  const targets: HistoryTarget[] = Object.values(manifest.accounts).flatMap((account) =>
    account.regions.map((region) => ({
      bucket: team.target(options.layer, account, region).bucket,
      accountId: account.id,
      region,
      store: async () => (await import('../aws/s3-history.js')).historyStoreApi(await clients.s3(account, region)),
    })),
  )
  const db = openStateDatabase(paths.stateDir)
  try {
    return await mergeSharedHistory(db, options.layer, manifest.settings.prefix, targets, options.emit)
  } finally {
    db.close()
  }
}

/**
 * Writes events to the state bucket of their account and region with that account's bound S3 client
 * (`s3`), one PutObject (If-None-Match: *) each, best effort. Undefined without remote state
 * (settings.state.remote: false, or `remoteState` false for --no-remote-state). Events of a layer that
 * is not the manifest's own, or of an account or region the manifest does not target, are not written.
 */
export function sharedHistoryWriter(
  manifest: Manifest,
  s3: (account: Account, region: string) => Promise<Pick<S3Client, 'send'>>,
  emit: EmitEvent,
  remoteState = true,
): ((events: SharedEvent[]) => Promise<void>) | undefined {
  const team = remoteState ? teamLeases(manifest, 'layers', emit, () => Promise.reject(new Error('the history writer takes no lease'))) : undefined
  if (!team) return undefined
  const target = (event: SharedEvent): HistoryTarget | undefined => {
    const spec = entryNamed(manifest.layers, event.layer)
    const account = Object.values(manifest.accounts).find((entry) => entry.id === event.accountId)
    if (!spec || !isOwnLayer(spec) || !account || !account.regions.includes(event.region)) return undefined
    return {
      bucket: team.target(event.layer, account, event.region).bucket,
      accountId: account.id,
      region: event.region,
      store: async () => (await import('../aws/s3-history.js')).historyStoreApi(await s3(account, event.region)),
    }
  }
  return async (events) => {
    if (events.length > 0) await writeSharedEvents(events, manifest.settings.prefix, target, emit, 'The command itself succeeded; the shared history (layers history in other clones) lacks this event.')
  }
}
