// Owns parsing Yarn classic's yarn.lock (`# yarn lockfile v1`), a format of its own: lines indented by
// two spaces per level; a line is `key value` or `key1, key2:` opening a block; keys and values are
// bare words or double-quoted JSON strings; `#` starts a comment line. Read strictly and defensively,
// since a lockfile arrives in pull requests: tabs, odd indentation, a block deeper than the one opened,
// unterminated or invalid quoted strings, duplicate keys, merge-conflict markers and nesting deeper than
// the format has (a few levels) are errors naming the line and column; keys go into Maps (no prototype
// keys), and the file size and entry count are bounded.
import {UserInputError} from '../../errors/index.js'

export type YarnClassicValue = string | boolean | YarnClassicMap
export type YarnClassicMap = Map<string, YarnClassicValue>

/** The format has three levels (entry, field, dependency); a little room beyond for unknown fields. */
const MAX_DEPTH = 6
const MAX_BYTES = 256 * 1024 * 1024
const MAX_LINE = 64 * 1024

export const YARN_CLASSIC_HEADER = /^# yarn lockfile v1\s*$/m

function fail(file: string, line: number, column: number, problem: string): UserInputError {
  return new UserInputError('ERR_LAYERS_TEAM_LOCKFILE_INVALID', `${file}:${line}:${column}: ${problem}.`, {
    hint: 'Regenerate yarn.lock with `yarn install`, or set `lockfile: ignore` on the layer to resolve its ranges afresh.',
    location: {file, line, column},
    details: {lockfile: file},
  })
}

/** Parses yarn.lock v1 text into nested Maps. Throws UserInputError with file:line:column. */
export function parseYarnClassic(text: string, file: string): YarnClassicMap {
  if (text.length > MAX_BYTES) throw fail(file, 1, 1, `is larger than ${MAX_BYTES} bytes`)
  const root: YarnClassicMap = new Map()
  // stack[depth] is the map lines indented by `depth` levels go into; `open` says a block was just opened.
  const stack: YarnClassicMap[] = [root]
  let open = false
  const lines = text.split(/\r?\n/)
  for (let index = 0; index < lines.length; index++) {
    const number = index + 1
    const line = lines[index]!
    if (line.length > MAX_LINE) throw fail(file, number, 1, `has a line longer than ${MAX_LINE} characters`)
    const indent = /^ */.exec(line)![0].length
    const rest = line.slice(indent)
    if (rest === '' || rest.startsWith('#')) continue
    if (rest.startsWith('\t')) throw fail(file, number, indent + 1, 'is indented with a tab (yarn.lock indents with two spaces)')
    if (/^(<{7}|={7}|>{7})/.test(rest)) throw fail(file, number, 1, 'holds a merge-conflict marker')
    if (indent % 2 !== 0) throw fail(file, number, 1, `is indented by ${indent} spaces (yarn.lock indents by two spaces per level)`)
    const depth = indent / 2
    if (depth > stack.length - 1) throw fail(file, number, 1, open ? 'is indented deeper than the block it belongs to' : 'is indented, but no block was opened above it')
    stack.length = depth + 1
    const target = stack[depth]!
    const tokens = new Tokens(rest, file, number, indent)
    const keys = [tokens.word('a key')]
    tokens.spaces()
    while (tokens.peek() === ',') {
      tokens.take()
      tokens.spaces()
      keys.push(tokens.word('a key'))
      tokens.spaces()
    }
    const set = (value: YarnClassicValue): void => {
      for (const key of keys) {
        if (target.has(key)) throw fail(file, number, indent + 1, `repeats the key ${JSON.stringify(key)}`)
        target.set(key, value)
      }
    }
    if (tokens.peek() === ':') {
      tokens.take()
      tokens.end()
      if (depth + 1 > MAX_DEPTH) throw fail(file, number, indent + 1, `nests deeper than ${MAX_DEPTH} levels`)
      const block: YarnClassicMap = new Map()
      set(block)
      stack.push(block)
      open = true
      continue
    }
    if (keys.length > 1) throw fail(file, number, tokens.column(), 'lists several keys but opens no block (a `:` is missing)')
    const raw = tokens.value()
    tokens.end()
    set(raw)
    open = false
  }
  return root
}

class Tokens {
  private position = 0

  constructor(
    private readonly text: string,
    private readonly file: string,
    private readonly line: number,
    private readonly indent: number,
  ) {}

  column(): number {
    return this.indent + this.position + 1
  }

  peek(): string | undefined {
    return this.text[this.position]
  }

  take(): void {
    this.position++
  }

  spaces(): void {
    while (this.text[this.position] === ' ') this.position++
  }

  /** Nothing but spaces (or a comment) to the end of the line. */
  end(): void {
    this.spaces()
    if (this.position < this.text.length && this.text[this.position] !== '#') throw fail(this.file, this.line, this.column(), `has unexpected ${JSON.stringify(this.text.slice(this.position, this.position + 20))}`)
  }

  /** A quoted string or a bare word (no spaces, commas, colons or quotes). */
  word(what: string): string {
    if (this.peek() === '"') return this.quoted()
    const match = /^[^\s,:"#]+/.exec(this.text.slice(this.position))
    if (!match) throw fail(this.file, this.line, this.column(), `has no ${what} here`)
    this.position += match[0].length
    return match[0]
  }

  /** A value: a quoted string, true/false, or a bare word (which may hold colons, e.g. an unquoted URL). */
  value(): string | boolean {
    if (this.peek() === '"') return this.quoted()
    const match = /^[^\s,"#]+/.exec(this.text.slice(this.position))
    if (!match) throw fail(this.file, this.line, this.column(), 'has no value here')
    this.position += match[0].length
    if (match[0] === 'true') return true
    if (match[0] === 'false') return false
    return match[0]
  }

  private quoted(): string {
    const start = this.position
    let index = start + 1
    while (index < this.text.length && this.text[index] !== '"') index += this.text[index] === '\\' ? 2 : 1
    if (index >= this.text.length) throw fail(this.file, this.line, this.indent + start + 1, 'has a quoted string that does not end on its line')
    const literal = this.text.slice(start, index + 1)
    let value: unknown
    try {
      value = JSON.parse(literal)
    } catch {
      throw fail(this.file, this.line, this.indent + start + 1, `has an invalid quoted string ${literal.length > 40 ? `${literal.slice(0, 37)}...` : literal}`)
    }
    this.position = index + 1
    return value as string
  }
}
