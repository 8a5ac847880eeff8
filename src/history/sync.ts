// Owns refreshing the local history cache from the shared history before `layers history` reads it:
// for a manifest's own layer, the events of every manifest account and region (in the state bucket of
// each, with that account's credentials) that the local database lacks are imported. An ARN layer, a
// project without remote state and --no-remote-state read the local database only.
import {awsClientFactory, type AwsClientFactory} from '../aws/clients.js'
import {boundClients} from '../aws/identity.js'
import {UserInputError} from '../errors/index.js'
import type {EmitEvent} from '../events.js'
import {loadManifest} from '../manifest/load.js'
import {isOwnLayer} from '../manifest/types.js'
import {projectPaths} from '../project/paths.js'
import {teamLeases} from '../publish/lease.js'
import {openStateDatabase} from '../store/db.js'
import {mergeSharedHistory, type HistoryTarget} from './shared.js'

export async function syncSharedHistory(options: {manifestPath: string; layer: string; emit: EmitEvent}, factory: AwsClientFactory = awsClientFactory()): Promise<number> {
  const paths = projectPaths(options.manifestPath)
  // Without a loadable manifest there is nothing to merge from: the local history is shown as before.
  const manifest = await loadManifest(paths.manifest).catch((error: unknown) => {
    if (error instanceof UserInputError) return undefined
    throw error
  })
  if (!manifest) return 0
  const spec = manifest.layers[options.layer]
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
