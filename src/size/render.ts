// Owns the human output of `layers size`: per layer artifact its biggest packages, per function its
// total against Lambda's limit with its biggest packages, the packages two layers both provide (and
// which copy wins), and the runtime's own packages with the `exclude` globs that leave them out.
import {formatBytes, renderTable} from '../cli/table.js'
import type {FunctionSizeReport, LayerSizeReport, SizeReport} from './plan.js'

function percent(share: number): string {
  return `${(share * 100).toFixed(1)}%`
}

function renderLayer(layer: LayerSizeReport): string {
  const title = `Layer ${layer.layer}${layer.artifactKey ? ` (${layer.artifactKey})` : ''}`
  if (!layer.built) return `${title}: not built for the current lock (run \`layers build ${layer.layer}\`).`
  const head = `${title}: ${formatBytes(layer.unzippedBytes!)} unzipped, ${formatBytes(layer.zipBytes!)} zipped, ${layer.packageCount} package(s)${layer.packages.length < layer.packageCount ? `; the ${layer.packages.length} biggest:` : ':'}`
  const table = renderTable(
    [{header: 'Package', wrap: 20}, {header: 'Version', drop: 2}, {header: 'Files', align: 'right', drop: 1}, {header: 'Unzipped', align: 'right'}, {header: 'Zipped', align: 'right'}],
    layer.packages.map((pkg) => [pkg.path, pkg.version ?? '', pkg.files, formatBytes(pkg.unzippedBytes), formatBytes(pkg.zipBytes)]),
  )
  return `${head}\n${table}`
}

function renderFunction(fn: FunctionSizeReport): string {
  const layers = fn.layers.map((layer) => `${layer.layer} ${layer.unzippedBytes === null ? '(size unknown)' : formatBytes(layer.unzippedBytes)}`).join(', ')
  const total = fn.totalUnzippedBytes === null ? 'total unknown (a layer is not built or is an ARN layer)' : `${formatBytes(fn.totalUnzippedBytes)} of ${fn.limitBytes} bytes, ${percent(fn.shareOfLimit!)} of the limit${fn.totalUnzippedBytes > fn.limitBytes ? ' (OVER)' : ''}`
  const lines = [`Function ${fn.function} (${fn.runtime}, ${fn.architecture}): code ${formatBytes(fn.codeUnzippedBytes)}${layers ? ` + ${layers}` : ''} = ${total}.`]
  if (fn.biggest.length > 0) {
    lines.push(renderTable([{header: 'Biggest package', wrap: 20}, {header: 'Layer', wrap: 8}, {header: 'Unzipped', align: 'right'}, {header: 'Of limit', align: 'right', drop: 1}], fn.biggest.map((pkg) => [pkg.path, pkg.layer, formatBytes(pkg.unzippedBytes), percent(pkg.unzippedBytes / fn.limitBytes)])))
  }
  for (const duplicate of fn.duplicates) {
    const copies = duplicate.copies.map((copy) => `${copy.layer}${copy.version ? ` ${copy.version}` : ''} (${copy.path === duplicate.path ? '' : `/opt/${copy.path}, `}${formatBytes(copy.unzippedBytes)})`).join(', ')
    lines.push(`  ${duplicate.differ ? 'Different copies' : 'Same copy twice'}: /opt/${duplicate.path} from ${copies}; ${duplicate.wins}'s wins.`)
  }
  for (const leave of fn.leaveOut) {
    const bytes = fn.runtimeProvided.filter((item) => item.layer === leave.layer).reduce((sum, item) => sum + item.package.unzippedBytes, 0)
    lines.push(`  ${fn.runtime} already provides ${formatBytes(bytes)} of layer ${leave.layer} (${fn.runtimeProvided.filter((item) => item.layer === leave.layer).map((item) => item.package.name).join(', ')}); to leave it out, add to layers.${leave.layer}: exclude: ${JSON.stringify(leave.exclude)}.`)
  }
  return lines.join('\n')
}

export function renderSize(report: SizeReport): string {
  const parts = [...report.layers.map(renderLayer), ...report.functions.map(renderFunction)]
  return parts.length > 0 ? parts.join('\n\n') : 'No own layers or functions to size.'
}
