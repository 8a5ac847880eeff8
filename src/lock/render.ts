// Owns the human output of `layers lock`: one table row per artifact of each layer considered, then
// what happened to lockfile.json; what `layers lock --check` found; and the message of an interrupted lock.
import path from 'node:path'
import {toneOf} from '../cli/style.js'
import {renderTable} from '../cli/table.js'
import type {InterruptSignal} from '../errors/index.js'
import type {LockDifference, LockedPackageRef, LockedWheelRef, LockLayerChange} from './diff.js'
import type {LockProjectResult} from './lock-project.js'

export function renderLockResult(result: LockProjectResult): string {
  const rows = result.layers.flatMap((layer) =>
    layer.artifacts.length === 0
      ? [[layer.layer, layer.kind, null, null, layer.status]]
      : layer.artifacts.map((artifact) => [layer.layer, layer.kind, artifact.artifactKey, layer.kind === 'npm' || layer.kind === 'pip' ? artifact.packages : null, layer.status]),
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

/** At most this many differences are listed per layer in the human output (--json has them all). */
const DIFFERENCES_SHOWN = 20

/** `layers lock --check`: up to date, or per layer what `layers lock` would change. */
export function renderLockCheck(result: LockProjectResult): string {
  const name = path.basename(result.lockfile)
  if (result.upToDate) return `${result.lockfile} is up to date.`
  const lines: string[] = []
  if (result.changes.length === 0) {
    lines.push(`${result.lockfile} does not exist: \`layers lock\` would create it.`)
  } else {
    lines.push(`${result.lockfile} is out of date: \`layers lock\` would change ${result.changes.length} layer(s):`)
    lines.push(...renderLockChanges(result.changes, name))
  }
  lines.push('Nothing was written.')
  return lines.join('\n')
}

/** One line per layer change, then its differences indented under it. */
export function renderLockChanges(changes: readonly LockLayerChange[], lockfileName = 'lockfile.json'): string[] {
  const lines: string[] = []
  for (const change of changes) {
    const summary = change.change === 'added' ? `added (not in ${lockfileName} yet)` : change.change === 'removed' ? 'removed (no longer in the manifest)' : 'changed'
    lines.push(`  ${change.layer}: ${summary}`)
    if (change.change === 'removed') continue
    for (const difference of change.differences.slice(0, DIFFERENCES_SHOWN)) lines.push(`    ${describeDifference(difference)}`)
    const more = change.differences.length - DIFFERENCES_SHOWN
    if (more > 0) lines.push(`    … and ${more} more (see --json)`)
  }
  return lines
}

function describeDifference(difference: LockDifference): string {
  switch (difference.field) {
    case 'kind':
      return `kind ${difference.before} → ${difference.after}`
    case 'inputs':
      return `manifest entry changed (inputs ${short(difference.before)} → ${short(difference.after)})`
    case 'template':
      return `template ${difference.before} → ${difference.after}`
    case 'artifact':
      return `artifact ${difference.artifact} ${difference.before && difference.after ? `architectures ${difference.before.join('+')} → ${difference.after.join('+')}` : difference.after ? 'added' : 'removed'}`
    case 'package':
    case 'binary': {
      const what = difference.field === 'package' ? `${difference.artifact} ${difference.path}` : `${difference.artifact} binary`
      return `${what} ${packageChange(difference.before, difference.after)}`
    }
    case 'wheel':
      return `${difference.artifact} ${difference.runtime} ${wheelChange(difference.name, difference.before, difference.after)}`
    case 'arn':
      return `${difference.accountId}/${difference.region} ${change(difference.before, difference.after)}`
    case 'published':
      return `published ${difference.artifact} in ${difference.accountId}/${difference.region} ${change(difference.before, difference.after)}`
  }
}

function packageChange(before: LockedPackageRef | undefined, after: LockedPackageRef | undefined): string {
  if (!before) return `added ${after!.name}@${after!.version}`
  if (!after) return `removed ${before.name}@${before.version}`
  if (before.name !== after.name || before.version !== after.version) return `${before.name}@${before.version} → ${after.name}@${after.version}`
  if (before.integrity !== after.integrity) return `${after.name}@${after.version} integrity ${short(before.integrity)} → ${short(after.integrity)}`
  if (before.resolved !== after.resolved) return `${after.name}@${after.version} tarball ${before.resolved} → ${after.resolved}`
  return `${after.name}@${after.version} metadata changed (dependencies, engines, bin ...)`
}

function wheelChange(name: string, before: LockedWheelRef | undefined, after: LockedWheelRef | undefined): string {
  if (!before) return `added ${name}==${after!.version} (${after!.filename}, sha256 ${short(after!.sha256)})`
  if (!after) return `removed ${name}==${before.version} (${before.filename})`
  if (before.version !== after.version) return `${name} ${before.version} → ${after.version} (${before.filename} → ${after.filename}, sha256 ${short(after.sha256)})`
  if (before.filename !== after.filename) return `${name}==${after.version} file ${before.filename} → ${after.filename} (sha256 ${short(before.sha256)} → ${short(after.sha256)})`
  if (before.sha256 !== after.sha256) return `${name}==${after.version} ${after.filename} sha256 ${short(before.sha256)} → ${short(after.sha256)}`
  return `${name}==${after.version} ${after.filename} url or index changed`
}

function change(before: string | undefined, after: string | undefined): string {
  if (before === undefined) return `added ${after}`
  if (after === undefined) return `removed ${before}`
  return `${before} → ${after}`
}

/** A fingerprint or integrity cut to a readable prefix. */
function short(value: string): string {
  return value.length > 24 ? `${value.slice(0, 24)}…` : value
}
