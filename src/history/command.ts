// Owns `layers history LAYER` end to end: opens the project's state database and reads the layer's
// history. The database is only read; a project with none yet gets an empty history.
import {existsSync} from 'node:fs'
import path from 'node:path'
import {projectPaths} from '../project/paths.js'
import {openStateDatabase} from '../store/db.js'
import {layerHistory, type LayerHistory} from './store.js'

export function historyCommand(options: {manifestPath: string; layer: string; runs: number}): LayerHistory {
  const {stateDir} = projectPaths(options.manifestPath)
  if (!existsSync(path.join(stateDir, 'state.db'))) return {layer: options.layer, publications: [], usage: [], prunes: []}
  const db = openStateDatabase(stateDir)
  try {
    return layerHistory(db, options.layer, options.runs)
  } finally {
    db.close()
  }
}
