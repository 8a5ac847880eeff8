// Owns the artifact trees in the state database (migration 6): for each artifact content layers built
// (by its base64 SHA-256, which is the CodeSha256 Lambda reports for the published version), the
// packages the lock held for it. The lock only holds the current tree of each layer; this keeps the
// trees of every earlier content, so the versions still published and run answer `layers find`.
import type {LockedArtifact} from '../lock/types.js'
import {storedJson, type StateDatabase} from './db.js'

export interface ArtifactTree {
  codeSha256: string
  layer: string
  artifactKey: string
  /** The packages (npm) or wheels (pip) as the lock held them; absent for directory and runtime layers. */
  packages?: LockedArtifact['packages']
  wheels?: LockedArtifact['wheels']
}

/** Records the tree of a built content; the first record of a content is kept (the same bytes hold the same tree). */
export function recordArtifactTree(db: StateDatabase, tree: ArtifactTree, recordedAt: Date = new Date()): void {
  if (tree.packages === undefined && tree.wheels === undefined) return
  const body = JSON.stringify({...(tree.packages ? {packages: tree.packages} : {}), ...(tree.wheels ? {wheels: tree.wheels} : {})})
  db.prepare(`INSERT OR IGNORE INTO artifact_trees (code_sha256, layer, artifact, tree, recorded_at) VALUES (?, ?, ?, ?, ?)`).run(
    tree.codeSha256,
    tree.layer,
    tree.artifactKey,
    body,
    recordedAt.toISOString(),
  )
}

/** Every recorded tree, oldest first; a row whose tree does not parse reads as not recorded (as a content built in another clone). */
export function artifactTrees(db: StateDatabase): ArtifactTree[] {
  const rows = db.prepare(`SELECT code_sha256, layer, artifact, tree FROM artifact_trees ORDER BY recorded_at, code_sha256`).all() as Array<{
    code_sha256: string
    layer: string
    artifact: string
    tree: string
  }>
  return rows.flatMap((row) => {
    const tree = storedJson(row.tree, isTreeBody)
    return tree ? [{codeSha256: row.code_sha256, layer: row.layer, artifactKey: row.artifact, ...tree}] : []
  })
}

function isTreeBody(value: unknown): value is Pick<ArtifactTree, 'packages' | 'wheels'> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  const {packages, wheels} = value as {packages?: unknown; wheels?: unknown}
  const isRecord = (field: unknown) => field === undefined || (typeof field === 'object' && field !== null && !Array.isArray(field))
  return isRecord(packages) && isRecord(wheels) && (packages !== undefined || wheels !== undefined)
}
