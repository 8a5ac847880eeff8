// Owns reading a YAML document with its source positions: syntax errors as problems, and the
// file:line:column of any value or key by its path (e.g. ['functions', 'api', 'layers', 1]).
import {isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node, type Pair} from 'yaml'
import type {Problem, SourceLocation} from '../errors/index.js'

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
    message: error.code === 'DUPLICATE_KEY' ? `Duplicate key ${JSON.stringify(keyAt(text, error.pos[0]))}.` : `YAML syntax error: ${error.message.split('\n')[0]}.`,
    hint: SYNTAX_HINTS[error.code] ?? 'Fix the YAML syntax at this position (quotes, colons, indentation).',
    location: at(error.pos[0]),
  }))
  const locate = (path: DocPath, part: 'value' | 'key' = 'value'): SourceLocation => {
    const found = findNode(doc, path, part)
    return at(found ?? 0)
  }
  const data = problems.length > 0 && doc.contents === null ? undefined : doc.toJS({maxAliasCount: 100})
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
