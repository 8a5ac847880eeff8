// Owns `layers find`'s reads, all local and offline: lockfile.json, and from the state database the
// artifact trees, the publications, the layer versions audits read and the latest finished audit's
// functions; src/find/plan.ts answers from them (and `layers advisories` traces its findings with them).
import {existsSync} from 'node:fs'
import path from 'node:path'
import {UserInputError} from '../errors/index.js'
import {previousRun, runFunctions} from '../history/store.js'
import {readLockfile} from '../lock/io.js'
import {projectPaths, type ProjectPaths} from '../project/paths.js'
import {artifactTrees} from '../store/artifact-trees.js'
import {openStateDatabase} from '../store/db.js'
import {findPackage, type FindInputs, type FindQuery, type FindReport, type KnownPublication} from './plan.js'

export interface FindOptions {
  manifestPath: string
  query: FindQuery
}

/** The lock and what the state database knows; a project with no database is answered from the lock alone (and gets none). */
export async function loadFindInputs(paths: ProjectPaths): Promise<FindInputs> {
  const lock = await readLockfile(paths.lockfile)
  if (!lock) {
    throw new UserInputError('ERR_LAYERS_LOCK_MISSING', `${paths.lockfile} does not exist: there is nothing to search.`, {
      hint: 'Run `layers lock` (and `layers publish`, `layers audit`) first, or pass --manifest for another project.',
    })
  }
  if (!existsSync(path.join(paths.stateDir, 'state.db'))) return {lock, trees: [], publications: [], layerVersionHashes: new Map()}
  const db = openStateDatabase(paths.stateDir)
  try {
    const publications = db
      .prepare(`SELECT layer, artifact AS artifactKey, account_id AS accountId, region, version, arn, code_sha256 AS codeSha256 FROM publications ORDER BY id`)
      .all() as KnownPublication[]
    const hashes = db.prepare(`SELECT account_id AS accountId, arn, code_sha256 AS codeSha256 FROM layer_versions`).all() as Array<{accountId: string; arn: string; codeSha256: string}>
    const run = previousRun(db)
    return {
      lock,
      trees: artifactTrees(db),
      publications,
      layerVersionHashes: new Map(hashes.map((row) => [`${row.accountId} ${row.arn}`, row.codeSha256])),
      ...(run ? {audit: {runId: run.id, finishedAt: run.finishedAt, functions: runFunctions(db, run.id)}} : {}),
    }
  } finally {
    db.close()
  }
}

export async function findInProject(options: FindOptions): Promise<FindReport> {
  return findPackage(options.query, await loadFindInputs(projectPaths(options.manifestPath)))
}
