// Owns the human output of `layers build`: one table row per artifact; and what an interrupted build
// did and did not build.
import {toneOf} from '../cli/style.js'
import {formatBytes, renderTable} from '../cli/table.js'
import type {InterruptSignal} from '../errors/index.js'
import type {BuiltArtifact, UnbuiltArtifact} from './build.js'

export function renderBuildTable(built: readonly BuiltArtifact[]): string {
  if (built.length === 0) return 'No own layers to build (the manifest declares only ARN layers).'
  // At 80 columns the hash wraps onto two lines and the architectures one per line; the exact byte
  // counts are in --json.
  return renderTable(
    [
      {header: 'Layer', wrap: 12},
      {header: 'Arch', wrap: 6},
      {header: 'Packages', align: 'right'},
      {header: 'Files', align: 'right', drop: 1},
      {header: 'Unzipped', align: 'right'},
      {header: 'Zip', align: 'right'},
      {header: 'CodeSha256', wrap: 22, anywhere: true},
      {header: 'Cache', tone: toneOf},
    ],
    built.map((artifact) => [
      artifact.layer,
      artifact.architectures.join(', '),
      artifact.packages,
      artifact.files,
      formatBytes(artifact.unzippedBytes),
      formatBytes(artifact.zipBytes),
      artifact.codeSha256,
      artifact.cached ? 'hit' : 'built',
    ]),
  )
}

/** The message of an interrupted build: each artifact built (or found in the cache) and each not built. */
export function renderBuildInterrupted(signal: InterruptSignal, built: readonly BuiltArtifact[], notBuilt: readonly UnbuiltArtifact[]): string {
  const lines = [`build interrupted by ${signal}: ${built.length} artifact(s) built, ${notBuilt.length} not built.`]
  for (const artifact of built) lines.push(`  built: ${artifact.layer} (${artifact.artifactKey}) ${artifact.codeSha256}${artifact.cached ? ' (cache)' : ''}`)
  for (const artifact of notBuilt) lines.push(`  not built: ${artifact.layer} (${artifact.artifactKey})`)
  return lines.join('\n')
}
