// Owns the human output of `layers package`: one row per function with its package, its layers and
// the total against Lambda's limit, and the fat package it replaces; and the message of an interrupted
// package run (the zips written and the functions not packaged).
import {formatBytes, renderTable} from '../cli/table.js'
import type {InterruptSignal} from '../errors/index.js'
import type {PackagedFunction} from './package.js'

function percent(part: number, whole: number): string {
  return `${((100 * part) / whole).toFixed(1)}%`
}

export function renderPackageTable(functions: readonly PackagedFunction[]): string {
  if (functions.length === 0) return 'No functions to package (the manifest declares none).'
  // At 80 columns Files, then Thin/fat, then Unzipped give way (exact byte counts are in --json).
  const table = renderTable(
    [
      {header: 'Function', wrap: 12},
      {header: 'Arch', wrap: 6},
      {header: 'Files', align: 'right', drop: 1},
      {header: 'Zip', align: 'right'},
      {header: 'Unzipped', align: 'right', drop: 3},
      {header: 'Layers', wrap: 8},
      {header: 'Total unzipped', align: 'right', wrap: 8},
      {header: 'Of limit', align: 'right', wrap: 5, tone: (text) => (text.endsWith('OVER') ? 'bad' : undefined)},
      {header: 'Fat zip', align: 'right', wrap: 7},
      {header: 'Thin/fat', align: 'right', drop: 2},
    ],
    functions.map((fn) => {
      const layerBytes = fn.layers.every((layer) => layer.unzippedBytes !== null) ? fn.layers.reduce((sum, layer) => sum + layer.unzippedBytes!, 0) : null
      return [
        fn.function,
        fn.architecture,
        fn.files,
        formatBytes(fn.zipBytes),
        formatBytes(fn.unzippedBytes),
        fn.layers.length === 0 ? 'none' : layerBytes === null ? `${fn.layers.length}, not built` : `${fn.layers.length}, ${formatBytes(layerBytes)}`,
        fn.totalUnzippedBytes === null ? null : formatBytes(fn.totalUnzippedBytes),
        fn.totalUnzippedBytes === null ? null : `${percent(fn.totalUnzippedBytes, fn.limitBytes)}${fn.withinLimit ? '' : ' OVER'}`,
        fn.fat === null ? null : formatBytes(fn.fat.zipBytes),
        fn.fat === null ? null : percent(fn.zipBytes, fn.fat.zipBytes),
      ]
    }),
  )
  const dir = functions[0]!.zipPath.slice(0, functions[0]!.zipPath.lastIndexOf('/'))
  return `${table}\nZips in ${dir}; limit ${functions[0]!.limitBytes} bytes unzipped per function with its layers.`
}

export function renderPackageInterrupted(signal: InterruptSignal, packaged: readonly PackagedFunction[], notPackaged: readonly string[]): string {
  const lines = [`package interrupted by ${signal}: ${packaged.length} function(s) packaged, ${notPackaged.length} not packaged.`]
  for (const fn of packaged) lines.push(`  packaged: ${fn.function} ${fn.zipPath} ${fn.codeSha256}`)
  for (const name of notPackaged) lines.push(`  not packaged: ${name}`)
  return lines.join('\n')
}
