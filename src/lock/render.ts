// Owns the human output of `layers lock`: one table row per artifact of each layer considered, then
// what happened to lockfile.json; and the message of an interrupted lock.
import {toneOf} from '../cli/style.js'
import {renderTable} from '../cli/table.js'
import type {InterruptSignal} from '../errors/index.js'
import type {LockProjectResult} from './lock-project.js'

export function renderLockResult(result: LockProjectResult): string {
  const rows = result.layers.flatMap((layer) =>
    layer.artifacts.length === 0
      ? [[layer.layer, layer.kind, null, null, layer.status]]
      : layer.artifacts.map((artifact) => [layer.layer, layer.kind, artifact.artifactKey, layer.kind === 'npm' ? artifact.packages : null, layer.status]),
  )
  const lines = [rows.length > 0 ? renderTable([{header: 'Layer', wrap: 12}, 'Kind', {header: 'Artifact', wrap: 6}, {header: 'Packages', align: 'right'}, {header: 'Status', tone: toneOf}], rows) : 'The manifest declares no layers.']
  if (result.removed.length > 0) lines.push(`Removed from the lock (no longer in the manifest): ${result.removed.join(', ')}`)
  lines.push(result.written ? `Wrote ${result.lockfile}` : `${result.lockfile} is up to date`)
  return lines.join('\n')
}

export function renderLockInterrupted(signal: InterruptSignal, lockfile: string, resolved: readonly string[], notResolved: readonly string[]): string {
  const lines = [`lock interrupted by ${signal}: nothing written, ${lockfile} is as it was (${resolved.length} layer(s) resolved, ${notResolved.length} not).`]
  if (resolved.length > 0) lines.push(`  resolved, not written: ${resolved.join(', ')}`)
  if (notResolved.length > 0) lines.push(`  not resolved: ${notResolved.join(', ')}`)
  return lines.join('\n')
}
