// Owns reading a YAML document with its source positions: syntax errors as problems, and the
// file:line:column of any value or key by its path (e.g. ['functions', 'api', 'layers', 1]).
import {isMap, isScalar, isSeq, LineCounter, parseDocument, visit, type Alias, type Document, type Node, type Pair} from 'yaml'
import {QUOTED_VALUE_MAX, quoteValue, shorten, type Problem, type SourceLocation} from '../errors/index.js'

export type DocPath = ReadonlyArray<string | number>

export interface YamlSource {
  file: string
  /** The document as plain data (undefined when empty). */
  data: unknown
  problems: Problem[]
  /** Where the value (or with 'key', the key) at a path is; the nearest existing ancestor when the path is absent. */
  locate(path: DocPath, part?: 'value' | 'key'): SourceLocation
}

const SYNTAX_HINTS: Record<string, string> = {
  DUPLICATE_KEY: 'Each key may appear once in a mapping; merge or rename the duplicates.',
  BAD_INDENT: 'Check the indentation (spaces, not tabs) and that every [ and { is closed.',
  TAB_AS_INDENT: 'YAML indentation must use spaces, not tabs.',
}

/** The parser's own stack running out: a document nested thousands of levels deep. */
const TOO_DEEP = /call stack size/i

/** Aliases one document may expand (yaml's guard against alias bombs); a manifest needs few if any. */
export const MAX_ALIAS_COUNT = 100

function aliasProblem(doc: Document, error: Error, at: (offset: number) => SourceLocation): Problem {
  const aliases: Alias[] = []
  visit(doc, {Alias: (_key, node) => void aliases.push(node)})
  const unresolved = aliases.find((alias) => alias.resolve(doc) === undefined)
  if (unresolved) {
    return {
      severity: 'error',
      code: 'ERR_LAYERS_MANIFEST_ALIAS',
      message: `YAML alias *${shorten(unresolved.source, 80)} names no anchor (an alias must follow its &${shorten(unresolved.source, 80)} anchor).`,
      hint: `Define &${shorten(unresolved.source, 80)} before this alias, or write the value out.`,
      location: at(unresolved.range?.[0] ?? 0),
    }
  }
  // The first alias whose anchor itself holds aliases is where the expansion starts to multiply.
  const nested = aliases.find((alias) => {
    let found = false
    const target = alias.resolve(doc)
    if (target && (isMap(target) || isSeq(target))) visit(target, {Alias: () => ((found = true), visit.BREAK)})
    return found
  })
  const where = nested ?? aliases[0]
  const tooMany = /alias count/i.test(error.message)
  return {
    severity: 'error',
    code: tooMany ? 'ERR_LAYERS_MANIFEST_ALIAS_LIMIT' : 'ERR_LAYERS_MANIFEST_SYNTAX',
    message: tooMany
      ? `The YAML aliases expand to more than ${MAX_ALIAS_COUNT} copies (aliases of anchors that hold aliases); layers refuses such a document.`
      : `YAML error: ${shorten(error.message.split('\n')[0] ?? '', 200)}.`,
    hint: tooMany ? 'Write the values out, or use fewer aliases; a manifest needs no nested aliases.' : 'Fix the YAML at this position.',
    location: at(where?.range?.[0] ?? 0),
  }
}

export function readYaml(text: string, file: string): YamlSource {
  const lines = new LineCounter()
  const doc = parseDocument(text, {lineCounter: lines, prettyErrors: false, uniqueKeys: true, strict: true})
  const at = (offset: number): SourceLocation => {
    const {line, col} = lines.linePos(offset)
    return {file, line, column: col}
  }
  const problems: Problem[] = doc.errors.map((error) => ({
    severity: 'error',
    code: error.code === 'DUPLICATE_KEY' ? 'ERR_LAYERS_MANIFEST_DUPLICATE_KEY' : 'ERR_LAYERS_MANIFEST_SYNTAX',
    message:
      error.code === 'DUPLICATE_KEY'
        ? `Duplicate key ${quoteValue(keyAt(text, error.pos[0]), 80)}.`
        : TOO_DEEP.test(error.message)
          ? 'The YAML nests too deeply to read (lists or mappings inside each other thousands of levels down).'
          : `YAML syntax error: ${shorten(error.message.split('\n')[0] ?? '', QUOTED_VALUE_MAX)}.`,
    hint: TOO_DEEP.test(error.message) ? 'A manifest nests a few levels; remove the runaway nesting that starts here.' : (SYNTAX_HINTS[error.code] ?? 'Fix the YAML syntax at this position (quotes, colons, indentation).'),
    location: at(error.pos[0]),
  }))
  const locate = (path: DocPath, part: 'value' | 'key' = 'value'): SourceLocation => {
    const found = findNode(doc, path, part)
    return at(found ?? 0)
  }
  let data: unknown
  try {
    data = problems.length > 0 && doc.contents === null ? undefined : doc.toJS({maxAliasCount: MAX_ALIAS_COUNT})
  } catch (error) {
    // An alias to an anchor never set, or aliases expanding beyond the limit (a "billion laughs"
    // document): a problem at the alias, and no data to check further.
    problems.push(aliasProblem(doc, error as Error, at))
    data = undefined
  }
  return {file, data: data ?? undefined, problems, locate}
}

/** The source offset of the node at `path`, or of its nearest ancestor. */
function findNode(doc: Document, path: DocPath, part: 'value' | 'key'): number | undefined {
  let node: Node | null | undefined = doc.contents as Node | null
  let offset = node?.range?.[0]
  for (const [index, segment] of path.entries()) {
    const last = index === path.length - 1
    if (isMap(node)) {
      const pair: Pair<Node, Node> | undefined = (node.items as Pair<Node, Node>[]).find((item) => isScalar(item.key) && String(item.key.value) === String(segment))
      if (!pair) return offset
      const keyOffset = (pair.key as Node).range?.[0]
      if (last && part === 'key') return keyOffset ?? offset
      node = pair.value
      offset = node?.range?.[0] ?? keyOffset ?? offset
    } else if (isSeq(node) && typeof segment === 'number') {
      node = node.items[segment] as Node | undefined
      if (!node) return offset
      offset = node.range?.[0] ?? offset
    } else {
      return offset
    }
  }
  return offset
}

function keyAt(text: string, offset: number): string {
  const rest = text.slice(offset)
  return (/^[^:\n]*/.exec(rest)?.[0] ?? '').trim().replace(/^["']|["']$/g, '')
}
