// Owns finding what a Python source file imports, with a tokenizer-level scan rather than regular
// expressions over lines: comments, strings of every form (prefixes, triple quotes, f-strings with
// nested expressions), line continuations and bracketed multi-line statements are handled as
// CPython's tokenizer does, and indentation gives the blocks. Found:
// - `import a.b as c, d` and `from a.b import (x, y)`, `from . import x`, `from ..a import *` (with
//   their level of leading dots), on any line, in any block, after `;` or a compound header's `:`;
// - `importlib.import_module("x")` / `import_module("x")` / `__import__("x")` with a plain string
//   literal as `dynamic` (other arguments are counted as unchecked).
// Each import says whether it is optional: inside the body of a `try` whose `except` catches
// ImportError, ModuleNotFoundError, Exception or BaseException (or is bare). Imports in a branch that
// never runs on the target are left out: `if TYPE_CHECKING:` / `if typing.TYPE_CHECKING:` (and its
// else branch kept), and, given the target's Python version, `if sys.version_info >= (3, 11):`
// style comparisons with a (major, minor) tuple, their elif/else chain included. Also returned: the
// names the module binds at top level (for the handler check). Lexical errors (an unterminated
// string, unbalanced brackets) throw ParseFailure. Pure: text in, data out.
import {ParseFailure} from './parse.js'

export interface FoundPythonImport {
  /** Dotted module name without the leading dots ('' for `from . import x`). */
  module: string
  /** Leading dots of a relative import (0 for absolute). */
  level: number
  /** Names of a `from` import (`*` for a star import); absent for `import x`. */
  names?: string[]
  kind: 'import' | 'from' | 'dynamic'
  /** Inside try/except ImportError: Lambda runs the fallback when it is missing. */
  optional: boolean
  line: number
  column: number
}

export interface ParsedPythonFile {
  imports: FoundPythonImport[]
  /** import_module()/__import__() calls whose argument is not a string literal. */
  dynamicUnchecked: number
  /** Names bound at top level (def, class, assignment, import); `complete` is false after a star import or a globals() write. */
  topLevel: {names: string[]; complete: boolean}
}

interface Token {
  type: 'name' | 'op' | 'string' | 'number'
  value: string
  line: number
  column: number
  /** Strings: the literal's value when it is a plain string without escapes. */
  literal?: string
}

interface LogicalLine {
  indent: number
  tokens: Token[]
}

const NAME_START = /[\p{L}\p{Nl}_]/u
const NAME_PART = /[\p{L}\p{Nl}\p{Mn}\p{Mc}\p{Nd}\p{Pc}_]/u
const NUMBER = /^(?:0[xXoObB][\da-fA-F_]+|(?:\d[\d_]*(?:\.[\d_]*)?|\.\d[\d_]*)(?:[eE][+-]?\d[\d_]*)?[jJ]?)/
const STRING_PREFIX = /^(?:[rRbBuUfFtT]|[rR][bBfFtT]|[bBfFtT][rR])$/
const OPERATORS = ['**=', '//=', '>>=', '<<=', '...', '->', ':=', '**', '//', '<<', '>>', '<=', '>=', '==', '!=', '+=', '-=', '*=', '/=', '%=', '&=', '|=', '^=', '@=']
const OPEN = new Set(['(', '[', '{'])
const CLOSE: Record<string, string> = {')': '(', ']': '[', '}': '{'}

/** Splits source text into logical lines of tokens, as CPython's tokenizer does. */
class Lexer {
  private pos = 0
  private line = 1
  private lineStart = 0
  private readonly brackets: Array<{char: string; line: number; column: number}> = []
  readonly lines: LogicalLine[] = []
  private current: Token[] = []
  private indent = 0

  constructor(private readonly text: string) {}

  private column(at = this.pos): number {
    return at - this.lineStart + 1
  }

  private fail(message: string, line = this.line, column = this.column()): never {
    throw new ParseFailure(message, line, column)
  }

  private newline(): void {
    this.line++
    this.lineStart = this.pos
  }

  private endLogicalLine(): void {
    if (this.current.length > 0) this.lines.push({indent: this.indent, tokens: this.current})
    this.current = []
  }

  run(): LogicalLine[] {
    const {text} = this
    let atLineStart = true
    if (text.charCodeAt(0) === 0xfeff) this.pos = 1
    while (this.pos < text.length) {
      if (atLineStart && this.brackets.length === 0 && this.current.length === 0) {
        let width = 0
        while (this.pos < text.length && (text[this.pos] === ' ' || text[this.pos] === '\t' || text[this.pos] === '\f')) {
          width = text[this.pos] === '\t' ? width + 8 - (width % 8) : text[this.pos] === '\f' ? 0 : width + 1
          this.pos++
        }
        this.indent = width
      }
      atLineStart = false
      const char = text[this.pos]!
      if (char === '\n' || char === '\r') {
        this.pos += char === '\r' && text[this.pos + 1] === '\n' ? 2 : 1
        this.newline()
        if (this.brackets.length === 0) this.endLogicalLine()
        atLineStart = true
        continue
      }
      if (char === ' ' || char === '\t' || char === '\f') {
        this.pos++
        continue
      }
      if (char === '#') {
        while (this.pos < text.length && text[this.pos] !== '\n' && text[this.pos] !== '\r') this.pos++
        continue
      }
      if (char === '\\') {
        const next = text[this.pos + 1]
        if (next === '\n' || next === '\r') {
          this.pos += next === '\r' && text[this.pos + 2] === '\n' ? 3 : 2
          this.newline()
          continue
        }
        this.fail('unexpected character after line continuation character')
      }
      if (char === '"' || char === "'") {
        this.current.push(this.string(''))
        continue
      }
      if (NAME_START.test(char)) {
        this.current.push(this.nameOrPrefixedString())
        continue
      }
      const number = /[\d.]/.test(char) ? NUMBER.exec(text.slice(this.pos, this.pos + 200)) : null
      if (number && number[0] !== '.' && number[0] !== '') {
        this.current.push({type: 'number', value: number[0], line: this.line, column: this.column()})
        this.pos += number[0].length
        continue
      }
      const op = OPERATORS.find((candidate) => text.startsWith(candidate, this.pos)) ?? char
      const token: Token = {type: 'op', value: op, line: this.line, column: this.column()}
      if (OPEN.has(op)) this.brackets.push({char: op, line: this.line, column: this.column()})
      else if (CLOSE[op]) {
        const open = this.brackets.pop()
        if (!open || open.char !== CLOSE[op]) this.fail(open ? `closing parenthesis '${op}' does not match opening parenthesis '${open.char}' on line ${open.line}` : `unmatched '${op}'`)
      }
      this.current.push(token)
      this.pos += op.length
    }
    const open = this.brackets.at(-1)
    if (open) this.fail(`'${open.char}' was never closed`, open.line, open.column)
    this.endLogicalLine()
    return this.lines
  }

  /** Reads the name at the cursor, or the string literal it prefixes (`r'...'`, `f"..."`, `rb'...'`). */
  private nameOrPrefixedString(): Token {
    const {text} = this
    const start = this.pos
    while (this.pos < text.length && NAME_PART.test(text[this.pos]!)) this.pos++
    const word = text.slice(start, this.pos)
    const quote = text[this.pos]
    if ((quote === '"' || quote === "'") && STRING_PREFIX.test(word)) {
      this.pos = start
      return this.string(word)
    }
    return {type: 'name', value: word, line: this.line, column: this.column(start)}
  }

  /** A string literal starting at this.pos (after `prefix`), f-string expressions included. */
  private string(prefix: string): Token {
    const {text} = this
    const line = this.line
    const column = this.column()
    this.pos += prefix.length
    const quote = text[this.pos]!
    const triple = text.startsWith(quote.repeat(3), this.pos)
    const delimiter = triple ? quote.repeat(3) : quote
    this.pos += delimiter.length
    const formatted = /[fFtT]/.test(prefix)
    const contentStart = this.pos
    let escapes = false
    for (;;) {
      if (this.pos >= text.length) this.fail(triple ? 'unterminated triple-quoted string literal' : 'unterminated string literal', line, column)
      const char = text[this.pos]!
      if (text.startsWith(delimiter, this.pos)) break
      if (char === '\\') {
        escapes = true
        const next = text[this.pos + 1]
        this.pos += next === '\r' && text[this.pos + 2] === '\n' ? 3 : 2
        if (next === '\n' || next === '\r') this.newline()
        continue
      }
      if (char === '\n' || char === '\r') {
        if (!triple) this.fail('unterminated string literal', line, column)
        this.pos += char === '\r' && text[this.pos + 1] === '\n' ? 2 : 1
        this.newline()
        continue
      }
      if (formatted && char === '{') {
        if (text[this.pos + 1] === '{') {
          this.pos += 2
          continue
        }
        this.pos++
        this.replacementField()
        continue
      }
      this.pos++
    }
    const content = text.slice(contentStart, this.pos)
    this.pos += delimiter.length
    const plain = !formatted && !/[bB]/.test(prefix) && !escapes
    return {type: 'string', value: prefix + delimiter + content + delimiter, line, column, ...(plain ? {literal: content} : {})}
  }

  /** Skips an f-string replacement field `{expr!r:spec}` (after its `{`), nested strings and fields included. */
  private replacementField(): void {
    const {text} = this
    let depth = 0
    let inSpec = false
    while (this.pos < text.length) {
      const char = text[this.pos]!
      if (char === '\n' || char === '\r') {
        this.pos += char === '\r' && text[this.pos + 1] === '\n' ? 2 : 1
        this.newline()
        continue
      }
      if (inSpec) {
        if (char === '{') {
          this.pos++
          this.replacementField()
          continue
        }
        if (char === '}') {
          this.pos++
          return
        }
        this.pos++
        continue
      }
      if (char === '"' || char === "'") {
        this.string('')
        continue
      }
      if (NAME_START.test(char)) {
        this.nameOrPrefixedString()
        continue
      }
      if (char === '(' || char === '[' || char === '{') depth++
      else if (char === ')' || char === ']') depth--
      else if (char === '}') {
        if (depth === 0) {
          this.pos++
          return
        }
        depth--
      } else if (char === ':' && depth === 0 && text[this.pos + 1] !== '=') inSpec = true
      this.pos++
    }
  }
}

const COMPOUND = new Set(['if', 'elif', 'else', 'try', 'except', 'finally', 'with', 'for', 'while', 'def', 'class', 'async'])
const CATCHES_IMPORT_ERROR = new Set(['ImportError', 'ModuleNotFoundError', 'Exception', 'BaseException'])

interface TryRecord {
  catchesImportError: boolean
}

interface Block {
  indent: number
  /** The try whose body this is. */
  tryBody?: TryRecord
  /** A branch that never runs on the target (TYPE_CHECKING, a false version check). */
  skipped?: boolean
  /** A def or class body: names bound there are not the module's. */
  scope?: boolean
}

interface Pending {
  found: Omit<FoundPythonImport, 'optional'>
  tries: TryRecord[]
}

/** Index of the `:` ending a compound statement's header (at bracket depth 0), or -1. */
function headerEnd(tokens: readonly Token[], start: number): number {
  let depth = 0
  for (let index = start; index < tokens.length; index++) {
    const token = tokens[index]!
    if (token.type !== 'op') continue
    if (OPEN.has(token.value)) depth++
    else if (CLOSE[token.value]) depth--
    else if (token.value === ':' && depth === 0) return index
  }
  return -1
}

/** Splits a statement list at `;` (depth 0). */
function splitStatements(tokens: readonly Token[]): Token[][] {
  const statements: Token[][] = []
  let current: Token[] = []
  let depth = 0
  for (const token of tokens) {
    if (token.type === 'op' && OPEN.has(token.value)) depth++
    else if (token.type === 'op' && CLOSE[token.value]) depth--
    if (token.type === 'op' && token.value === ';' && depth === 0) {
      if (current.length > 0) statements.push(current)
      current = []
      continue
    }
    current.push(token)
  }
  if (current.length > 0) statements.push(current)
  return statements
}

function isOp(token: Token | undefined, value: string): boolean {
  return token?.type === 'op' && token.value === value
}

function isName(token: Token | undefined, value?: string): boolean {
  return token?.type === 'name' && (value === undefined || token.value === value)
}

/** A dotted name starting at `index`: its text and the index after it. */
function dottedName(tokens: readonly Token[], index: number): {name: string; next: number} | undefined {
  if (!isName(tokens[index])) return undefined
  let name = tokens[index]!.value
  let next = index + 1
  while (isOp(tokens[next], '.') && isName(tokens[next + 1])) {
    name += `.${tokens[next + 1]!.value}`
    next += 2
  }
  return {name, next}
}

function parseImportStatement(tokens: readonly Token[], add: (found: Omit<FoundPythonImport, 'optional'>) => void, bind: (name: string) => void, star: () => void): void {
  const first = tokens[0]!
  if (isName(first, 'import')) {
    let index = 1
    while (index < tokens.length) {
      const dotted = dottedName(tokens, index)
      if (!dotted) break
      add({module: dotted.name, level: 0, kind: 'import', line: tokens[index]!.line, column: tokens[index]!.column})
      index = dotted.next
      if (isName(tokens[index], 'as') && isName(tokens[index + 1])) {
        bind(tokens[index + 1]!.value)
        index += 2
      } else bind(dotted.name.split('.')[0]!)
      if (!isOp(tokens[index], ',')) break
      index++
    }
    return
  }
  // from <dots><name> import <names>
  let index = 1
  let level = 0
  const at = tokens[1]
  while (isOp(tokens[index], '.') || isOp(tokens[index], '...')) level += tokens[index++]!.value.length
  const dotted = isName(tokens[index], 'import') ? undefined : dottedName(tokens, index)
  if (dotted) index = dotted.next
  if (!isName(tokens[index], 'import') || !at) return
  index++
  const names: string[] = []
  for (; index < tokens.length; index++) {
    const token = tokens[index]!
    if (isOp(token, '*')) {
      names.push('*')
      star()
    } else if (isName(token) && token.value !== 'as') {
      names.push(token.value)
      if (isName(tokens[index + 1], 'as') && isName(tokens[index + 2])) {
        bind(tokens[index + 2]!.value)
        index += 2
      } else bind(token.value)
    }
  }
  add({module: dotted?.name ?? '', level, names, kind: 'from', line: at.line, column: at.column})
}

export interface PythonScanOptions {
  /** The target's Python version, for `sys.version_info` checks (unknown: both branches count). */
  version?: {major: number; minor: number}
}

const VERSION_CHECK = /^sys\.version_info(\[:2\]|\[0:2\])?(>=|>|<=|<|==|!=)\((\d+),(\d+),?\)$/

/** The value of an `if` condition on the target: true, false, or undefined when it cannot be known. */
export function conditionValue(condition: string, options: PythonScanOptions): boolean | undefined {
  if (condition === 'TYPE_CHECKING' || condition === 'typing.TYPE_CHECKING' || condition === 'False') return false
  if (condition === 'True') return true
  const match = VERSION_CHECK.exec(condition)
  if (!match || !options.version) return undefined
  const [, sliced, op, major, minor] = match as unknown as [string, string | undefined, string, string, string]
  const {version} = options
  // Tuple order: the first differing element decides; equal (major, minor) makes the full version_info the greater.
  const sign = version.major !== Number(major) ? Math.sign(version.major - Number(major)) : version.minor !== Number(minor) ? Math.sign(version.minor - Number(minor)) : sliced ? 0 : 1
  return {'>=': sign >= 0, '>': sign > 0, '<=': sign <= 0, '<': sign < 0, '==': sign === 0, '!=': sign !== 0}[op]
}

/** Parses `code` and lists what it imports (see the module comment). Throws ParseFailure on a lexical error. */
export function findPythonImports(code: string, options: PythonScanOptions = {}): ParsedPythonFile {
  const lines = new Lexer(code).run()
  const pending: Pending[] = []
  let dynamicUnchecked = 0
  const topNames = new Set<string>()
  let complete = true
  const stack: Block[] = []
  /** The last `try` header seen at each indentation, until a statement other than except/else/finally ends it. */
  const lastTry = new Map<number, TryRecord>()
  /** The if/elif chain at each indentation: whether a branch surely ran, until another statement ends it. */
  const ifChain = new Map<number, {taken: boolean}>()

  const handleSimple = (tokens: readonly Token[], blocks: readonly Block[], topLevel: boolean): void => {
    if (blocks.some((block) => block.skipped)) return
    const tries = blocks.flatMap((block) => (block.tryBody ? [block.tryBody] : []))
    const add = (found: Omit<FoundPythonImport, 'optional'>): void => void pending.push({found, tries})
    const bind = (name: string): void => void (topLevel && topNames.add(name))
    if (isName(tokens[0], 'import') || isName(tokens[0], 'from')) {
      parseImportStatement(tokens, add, bind, () => (complete = topLevel ? false : complete))
      return
    }
    scanDynamic(tokens, add, () => dynamicUnchecked++)
    if (!topLevel) return
    // Top-level bindings: `a = ...`, `a: T = ...`, `a, b = ...`; globals() writes make the list incomplete.
    if (tokens.some((token, index) => isName(token, 'globals') && isOp(tokens[index + 1], '('))) complete = false
    let depth = 0
    let target: string[] = []
    for (const token of tokens) {
      if (token.type === 'op' && OPEN.has(token.value)) depth++
      else if (token.type === 'op' && CLOSE[token.value]) depth--
      if (depth === 0 && (isOp(token, '=') || isOp(token, ':'))) {
        for (const name of target) topNames.add(name)
        if (isOp(token, ':')) break
        target = []
        continue
      }
      if (depth === 0 && isName(token) && (target.length === 0 || isOp(tokens[tokens.indexOf(token) - 1], ','))) target.push(token.value)
    }
  }

  for (const {indent, tokens} of lines) {
    while (stack.length > 0 && stack.at(-1)!.indent >= indent) stack.pop()
    const keyword = tokens[0]!.type === 'name' ? tokens[0]!.value : ''
    if (keyword !== 'except' && keyword !== 'else' && keyword !== 'finally') for (const at of [...lastTry.keys()]) if (at >= indent) lastTry.delete(at)
    if (keyword !== 'elif' && keyword !== 'else') for (const at of [...ifChain.keys()]) if (at >= indent) ifChain.delete(at)
    const blocks = [...stack]
    const topLevel = !stack.some((entry) => entry.scope)
    const soft = (keyword === 'match' || keyword === 'case') && isOp(tokens.at(-1), ':') && tokens.length > 1 && !isOp(tokens[1], '=') && !isOp(tokens[1], '.')
    if (!COMPOUND.has(keyword) && !soft) {
      for (const statement of splitStatements(tokens)) handleSimple(statement, blocks, topLevel)
      continue
    }
    const end = headerEnd(tokens, 0)
    if (end < 0) {
      // Not a header after all (e.g. `else` in an expression): treat it as a simple statement.
      for (const statement of splitStatements(tokens)) handleSimple(statement, blocks, topLevel)
      continue
    }
    const header = tokens.slice(0, end)
    const block: Block = {indent}
    if (keyword === 'try') {
      const record: TryRecord = {catchesImportError: false}
      lastTry.set(indent, record)
      block.tryBody = record
    } else if (keyword === 'except') {
      const record = lastTry.get(indent)
      const types = header.slice(1).filter((token, index, all) => isName(token) && token.value !== 'as' && !isName(all[index - 1], 'as') && !isOp(all[index + 1], '.'))
      if (record && (types.length === 0 || types.some((token) => CATCHES_IMPORT_ERROR.has(token.value)))) record.catchesImportError = true
    } else if (keyword === 'if' || keyword === 'elif') {
      const chain = keyword === 'elif' ? ifChain.get(indent) : undefined
      const value = conditionValue(header.slice(1).map((token) => token.value).join(''), options)
      if (chain?.taken || value === false) block.skipped = true
      ifChain.set(indent, {taken: (chain?.taken ?? false) || value === true})
    } else if (keyword === 'else' && ifChain.get(indent)?.taken) {
      block.skipped = true
    }
    // Headers can hold dynamic imports (`if importlib.import_module("x"):`).
    if (!blocks.some((entry) => entry.skipped)) {
      const tries = blocks.flatMap((entry) => (entry.tryBody ? [entry.tryBody] : []))
      scanDynamic(header, (found) => void pending.push({found, tries}), () => dynamicUnchecked++)
    }
    const defines = keyword === 'def' || keyword === 'class' || (keyword === 'async' && isName(tokens[1], 'def'))
    if (defines) {
      block.scope = true
      const name = tokens[keyword === 'async' ? 2 : 1]
      if (topLevel && isName(name)) topNames.add(name!.value)
    }
    const body = tokens.slice(end + 1)
    const inner = [...blocks, block]
    if (body.length > 0) for (const statement of splitStatements(body)) handleSimple(statement, inner, !inner.some((entry) => entry.scope))
    stack.push(block)
  }
  const imports = pending.map(({found, tries}) => ({...found, optional: tries.some((record) => record.catchesImportError)}))
  imports.sort((a, b) => a.line - b.line || a.column - b.column)
  return {imports, dynamicUnchecked, topLevel: {names: [...topNames].sort(), complete}}
}

/** `importlib.import_module("x")`, `import_module("x")` and `__import__("x")` in a statement. */
function scanDynamic(tokens: readonly Token[], add: (found: Omit<FoundPythonImport, 'optional'>) => void, unchecked: () => void): void {
  for (let index = 0; index < tokens.length; index++) {
    const token = tokens[index]!
    if (!isName(token) || !isOp(tokens[index + 1], '(')) continue
    const viaImportlib = token.value === 'import_module' && (!isOp(tokens[index - 1], '.') || isName(tokens[index - 2], 'importlib'))
    if (!viaImportlib && token.value !== '__import__') continue
    if (isOp(tokens[index - 1], '.') && token.value === '__import__') continue
    const argument = tokens[index + 2]
    const after = tokens[index + 3]
    if (argument?.type === 'string' && argument.literal !== undefined && (isOp(after, ')') || isOp(after, ',')) && !argument.literal.startsWith('.') && argument.literal !== '') {
      add({module: argument.literal, level: 0, kind: 'dynamic', line: argument.line, column: argument.column})
    } else unchecked()
  }
}
