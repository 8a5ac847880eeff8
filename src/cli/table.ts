// Owns tabular output: every human table the CLI prints is made here with cli-table3, so they look
// alike and fit the terminal. Each table says per column how it gives way when the table is wider than
// the terminal: a column with `wrap` wraps (at spaces, then after , / : + ; -, else anywhere) down to its
// narrowest width, a column with `drop` is left out (lowest first) when wrapping is not enough, and a
// line under the table names the columns left out. Cells are plain text; colour (`tone`) is added after
// the layout, so widths never count escape codes.
import {createRequire} from 'node:module'
import {stripVTControlCharacters} from 'node:util'
import type TableClass from 'cli-table3'
import {paint, stdoutStyle, type Tone} from './style.js'

// Required when a table is drawn, not at start-up: --json output never draws one.
const require = createRequire(import.meta.url)

export type Cell = string | number | boolean | null | undefined

export interface Column {
  header: string
  align?: 'left' | 'right'
  /** The narrowest width the column may wrap to; without it the column keeps its width. */
  wrap?: number
  /** Wrap at the width wherever it falls (hashes, ids), not at word breaks. */
  anywhere?: boolean
  /** Left out when the table cannot fit otherwise: 1 first, then 2, ... */
  drop?: number
  /** The tone of a cell, by its text (each wrapped line is painted). */
  tone?: (text: string) => Tone | undefined
}

export interface TableOptions {
  /** Width to fit (default: the terminal's, COLUMNS, or 80). */
  columns?: number
  /** Colour on (default: as stdout allows). */
  color?: boolean
}

/** Spaces between two columns. */
export const GAP = 2

/** Display width of a line (escape codes do not count). */
export function textWidth(text: string): number {
  return stripVTControlCharacters(text).length
}

/** Widest line of a cell. */
function cellWidth(text: string): number {
  return Math.max(0, ...text.split('\n').map(textWidth))
}

const BREAK_AFTER = new Set([',', '/', ':', '+', ';', '-'])

/**
 * `text` broken into lines of at most `width`: at the last space when that keeps at least half the
 * line, else after the last , / : + ; -, else at a space, else (or with `anywhere`) at the width.
 */
export function wrapText(text: string, width: number, anywhere = false): string[] {
  const out: string[] = []
  for (const source of text.split('\n')) {
    let line = source
    while (line.length > width) {
      let cut = width
      let skip = 0
      if (!anywhere) {
        const space = line.lastIndexOf(' ', width)
        let after = -1
        for (let index = width - 1; index > 0; index--) {
          if (BREAK_AFTER.has(line[index]!)) {
            after = index + 1
            break
          }
        }
        if (space > 0 && (space >= width / 2 || after < 0)) {
          cut = space
          skip = 1
        } else if (after > 0) {
          cut = after
        }
      }
      out.push(line.slice(0, cut).trimEnd())
      line = line.slice(cut + skip).trimStart()
    }
    out.push(line)
  }
  return out
}

/**
 * The width of each column (null: left out) so the table fits `width`: natural widths when they fit;
 * else wrapping columns give way, widest first, down to their narrowest; when even that is too wide,
 * columns with `drop` go (1 first) before the rest shrink. Never narrower than the narrowest widths:
 * a table that cannot fit then overflows rather than lose text.
 */
export function fitColumns(natural: readonly number[], specs: ReadonlyArray<Pick<Column, 'wrap' | 'drop'>>, width: number, gap = GAP): Array<number | null> {
  const narrowest = natural.map((size, index) => Math.min(size, specs[index]?.wrap ?? size))
  const kept = natural.map(() => true)
  const total = (sizes: readonly number[]) => {
    const shown = sizes.filter((_, index) => kept[index])
    return shown.reduce((sum, size) => sum + size, 0) + gap * Math.max(0, shown.length - 1)
  }
  const droppable = specs
    .map((spec, index) => ({index, order: spec.drop}))
    .filter((entry): entry is {index: number; order: number} => entry.order !== undefined)
    .sort((a, b) => a.order - b.order || b.index - a.index)
  for (const entry of droppable) {
    if (total(narrowest) <= width) break
    kept[entry.index] = false
  }
  const widths = [...natural]
  let excess = total(widths) - width
  while (excess > 0) {
    let widest = -1
    for (const [index, size] of widths.entries()) {
      if (kept[index] && size > narrowest[index]! && (widest < 0 || size > widths[widest]!)) widest = index
    }
    if (widest < 0) break
    widths[widest]!--
    excess--
  }
  return widths.map((size, index) => (kept[index] ? size : null))
}

export function renderTable(columns: ReadonlyArray<string | Column>, rows: readonly Cell[][], options: TableOptions = {}): string {
  const specs: Column[] = columns.map((column) => (typeof column === 'string' ? {header: column} : column))
  const style = options.columns === undefined || options.color === undefined ? stdoutStyle() : undefined
  const width = options.columns ?? style!.columns
  const color = options.color ?? style!.color
  const texts = rows.map((row) => specs.map((_, index) => {
    const cell = row[index]
    return cell === null || cell === undefined || cell === '' ? '-' : String(cell)
  }))
  const natural = specs.map((spec, index) => Math.max(cellWidth(spec.header), ...texts.map((row) => cellWidth(row[index]!))))
  // A header wraps between its words, never inside one.
  const narrowest = specs.map((spec) => (spec.wrap === undefined ? {drop: spec.drop} : {drop: spec.drop, wrap: Math.max(spec.wrap, ...spec.header.split(' ').map((word) => word.length))}))
  const widths = fitColumns(natural, narrowest, width)
  const shown = specs.map((_, index) => index).filter((index) => widths[index] !== null)
  const lay = (text: string, index: number, tone?: (text: string) => Tone | undefined) => {
    const lines = wrapText(text, widths[index]!, specs[index]!.anywhere)
    const painted = tone?.(text)
    return lines.map((line) => paint(painted, line, color)).join('\n')
  }

  const Table = require('cli-table3') as typeof TableClass
  const table = new Table({
    head: shown.map((index) => lay(specs[index]!.header, index, () => 'strong')),
    style: {head: [], border: [], compact: true, 'padding-left': 0, 'padding-right': 0},
    colAligns: shown.map((index) => specs[index]!.align ?? 'left'),
    chars: {
      top: '', 'top-mid': '', 'top-left': '', 'top-right': '',
      bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '',
      left: '', 'left-mid': '', mid: '', 'mid-mid': '', right: '', 'right-mid': '',
      middle: ' '.repeat(GAP),
    },
  })
  for (const row of texts) table.push(shown.map((index) => lay(row[index]!, index, specs[index]!.tone)))
  const lines = table.toString().split('\n').map((line) => line.trimEnd())
  const dropped = specs.filter((_, index) => widths[index] === null).map((spec) => spec.header)
  if (dropped.length > 0) lines.push(...wrapText(`(not shown at ${width} columns: ${dropped.join(', ')}; widen the terminal or use --json)`, width).map((line) => paint('dim', line, color)))
  return lines.join('\n')
}

/** Text wrapped to the output width, each line after the first indented by `indent` spaces. */
export function wrapParagraph(text: string, options: {indent?: number; columns?: number} = {}): string {
  const indent = options.indent ?? 0
  const width = Math.max(20, (options.columns ?? stdoutStyle().columns) - indent)
  return wrapText(text, width).map((line, index) => (index === 0 ? line : ' '.repeat(indent) + line)).join('\n')
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
