// Owns the human output of `layers export`: each file written or left as it was, and how many
// layer, account, region and architecture entries they hold.
import type {ExportResult} from './command.js'

export function renderExport(result: ExportResult): string {
  const lines = result.files.map((file) => `${file.written ? 'wrote    ' : 'unchanged'} ${file.path}`)
  lines.push(`${result.entries} layer ARN${result.entries === 1 ? '' : 's'} (layer, account, region, architecture) exported for ${result.format}.`)
  return lines.join('\n')
}
