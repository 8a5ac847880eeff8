// Owns tabular output: every human table the CLI prints is made here with cli-table3, so they look alike.
import {createRequire} from 'node:module'
import type TableClass from 'cli-table3'

// Required when a table is drawn, not at start-up: --json output never draws one.
const require = createRequire(import.meta.url)

export type Cell = string | number | boolean | null | undefined

export function renderTable(head: string[], rows: Cell[][], options: {alignRight?: number[]} = {}): string {
  const Table = require('cli-table3') as typeof TableClass
  const table = new Table({
    head,
    style: {head: [], border: [], compact: true},
    colAligns: head.map((_, index) => (options.alignRight?.includes(index) ? 'right' : 'left')),
    chars: {
      top: '', 'top-mid': '', 'top-left': '', 'top-right': '',
      bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '',
      left: '', 'left-mid': '', mid: '', 'mid-mid': '', right: '', 'right-mid': '',
      middle: '  ',
    },
  })
  for (const row of rows) table.push(row.map((cell) => (cell === null || cell === undefined ? '-' : String(cell))))
  return table.toString().split('\n').map((line) => line.trimEnd()).join('\n')
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  const units = ['KiB', 'MiB', 'GiB']
  let value = bytes / 1024
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return `${value.toFixed(1)} ${units[unit]}`
}
