// Owns `layers history LAYER` end to end: merges the shared history into the local database first
// (sync.ts; unless remoteState is false), checks LAYER (a layer of the manifest, or a layer ARN
// without the version), opens the project's state database and reads the layer's history. A project
// with no database yet gets an empty history. Also reads the saved histories of several layers for
// the audit's HTML report.
import {existsSync} from 'node:fs'
import type {AwsConnection} from '../aws/clients.js'
import path from 'node:path'
import {quoteValue, UserInputError} from '../errors/index.js'
import type {EmitEvent} from '../events.js'
import {checkLayerArn} from '../manifest/arn.js'
import {loadManifest} from '../manifest/load.js'
import {layerByName} from '../manifest/select.js'
import {projectPaths} from '../project/paths.js'
import {openStateDatabase} from '../store/db.js'
import {layerHistory, type LayerHistory} from './store.js'
import {syncSharedHistory} from './sync.js'

export async function historyCommand(options: {manifestPath: string; layer: string; runs: number; remoteState: boolean; emit: EmitEvent; aws?: AwsConnection}): Promise<LayerHistory> {
  if (options.remoteState) await syncSharedHistory({manifestPath: options.manifestPath, layer: options.layer, emit: options.emit, ...(options.aws ? {aws: options.aws} : {})})
  const paths = projectPaths(options.manifestPath)
  if (options.layer.startsWith('arn:')) {
    const arn = checkLayerArn(options.layer)
    if (!arn.ok || arn.arn.version !== undefined || arn.arn.region.includes('{')) {
      throw new UserInputError('ERR_LAYERS_HISTORY_ARN', `${quoteValue(options.layer)} ${arn.ok ? 'is a layer version ARN or has {region}' : arn.problem}.`, {
        hint: 'Give a layer ARN without the version, e.g. arn:aws:lambda:eu-west-1:123456789012:layer:deps, or a layer name of the manifest.',
      })
    }
  }
  const empty: LayerHistory = {layer: options.layer, publications: [], usage: [], prunes: [], grants: [], attaches: [], audits: []}
  const known = existsSync(path.join(paths.stateDir, 'state.db'))
  let history = empty
  if (known) {
    const db = openStateDatabase(paths.stateDir)
    try {
      history = layerHistory(db, options.layer, options.runs)
    } finally {
      db.close()
    }
  }
  // A name the manifest no longer declares still shows what the database recorded for it; a name
  // neither knows is a typo.
  const recorded = history.publications.length + history.usage.length + history.prunes.length + history.grants.length + history.attaches.length + history.audits.length > 0
  if (!options.layer.startsWith('arn:') && !recorded) layerByName(await loadManifest(paths.manifest), options.layer)
  return history
}

/**
 * The saved histories of `layers` (manifest layer names) for the audit's HTML report (a layer's
 * versions over time); none when the project has no state database yet.
 */
export function savedLayerHistories(manifestPath: string, layers: readonly string[], runs: number): LayerHistory[] {
  const paths = projectPaths(manifestPath)
  if (layers.length === 0 || !existsSync(path.join(paths.stateDir, 'state.db'))) return []
  const db = openStateDatabase(paths.stateDir)
  try {
    return layers.map((layer) => layerHistory(db, layer, runs))
  } finally {
    db.close()
  }
}
