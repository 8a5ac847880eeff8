// Owns the human output of `layers build`: one table row per artifact.
import {formatBytes, renderTable} from '../cli/table.js'
import type {BuiltArtifact} from './build.js'

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
