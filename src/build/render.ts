// Owns the human output of `layers build`: one table row per artifact; and what an interrupted build
// did and did not build.
import {formatBytes, renderTable} from '../cli/table.js'
import type {InterruptSignal} from '../errors/index.js'
import type {BuiltArtifact, UnbuiltArtifact} from './build.js'

export function renderBuildTable(built: readonly BuiltArtifact[]): string {
  if (built.length === 0) return 'No own layers to build (the manifest declares only ARN layers).'
  return renderTable(
    ['Layer', 'Architectures', 'Packages', 'Files', 'Unzipped', 'Zip', 'CodeSha256', 'Cache'],
    built.map((artifact) => [
      artifact.layer,
      artifact.architectures.join(', '),
      artifact.packages,
      artifact.files,
      `${formatBytes(artifact.unzippedBytes)} (${artifact.unzippedBytes})`,
      formatBytes(artifact.zipBytes),
      artifact.codeSha256,
      artifact.cached ? 'hit' : 'built',
    ]),
    {alignRight: [2, 3, 4, 5]},
  )
}

/** The message of an interrupted build: each artifact built (or found in the cache) and each not built. */
export function renderBuildInterrupted(signal: InterruptSignal, built: readonly BuiltArtifact[], notBuilt: readonly UnbuiltArtifact[]): string {
  const lines = [`build interrupted by ${signal}: ${built.length} artifact(s) built, ${notBuilt.length} not built.`]
  for (const artifact of built) lines.push(`  built: ${artifact.layer} (${artifact.artifactKey}) ${artifact.codeSha256}${artifact.cached ? ' (cache)' : ''}`)
  for (const artifact of notBuilt) lines.push(`  not built: ${artifact.layer} (${artifact.artifactKey})`)
  return lines.join('\n')
}
