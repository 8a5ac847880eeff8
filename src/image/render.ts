// Owns the human output of `layers image`: the image's digest and base, its layers (base, each Lambda
// layer in /opt, the code in /var/task) with sizes, the OCI layout written, and each push with what it
// uploaded, skipped and mounted.
import {formatBytes} from '../cli/table.js'
import type {ImageResult} from './command.js'

export function renderImage(result: ImageResult): string {
  const lines = [`${result.function} (${result.functionName}, ${result.runtime}, ${result.architecture}): image ${result.digest}, ${formatBytes(result.sizeBytes)}`, `  base ${result.base.reference}${result.base.digest ? ` (${result.base.digest})` : ''}`]
  const baseLayers = result.layers.filter((part) => part.source === 'base')
  if (baseLayers.length > 0) lines.push(`  ${baseLayers.length} base layer${baseLayers.length === 1 ? '' : 's'}, ${formatBytes(baseLayers.reduce((sum, part) => sum + part.size, 0))}`)
  for (const part of result.layers.filter((entry) => entry.source !== 'base')) {
    lines.push(`  ${part.source === 'layer' ? `/opt      layer ${part.name}` : '/var/task code'}: ${part.files} files, ${formatBytes(part.size)} (${part.digest.slice(0, 19)})`)
  }
  lines.push(`  CMD ["${result.handler}"]`)
  if (result.output) lines.push(`OCI layout written to ${result.output}`)
  for (const push of result.pushes) {
    lines.push(`pushed ${push.imageUri} (account ${push.account} (${push.accountId}), ${push.region}${push.repositoryCreated ? ', repository created' : ''}): ${push.blobsPushed} blob(s) uploaded, ${push.blobsSkipped} already there, ${push.blobsMounted} mounted`)
  }
  if (result.pushes.length > 0) lines.push('Lambda runs it from a function whose package type is Image (see `layers image --help` for switching a Zip function).')
  return `${lines.join('\n')}\n`
}
