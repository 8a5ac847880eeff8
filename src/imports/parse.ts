// Owns finding the module specifiers a JavaScript file loads, with a real parser (acorn) rather than
// regular expressions: static `import` and `export ... from`, dynamic `import()` of a string literal
// (or a template literal without substitutions), and `require()` / `require.resolve()` of a literal,
// each with its 1-based line and column. Specifiers computed at run time cannot be checked and are
// counted. Pure: text in, data out.
import {parse, type Node} from 'acorn'
import {simple} from 'acorn-walk'

export type ModuleFormat = 'module' | 'commonjs'
export type ImportKind = 'import' | 'export' | 'dynamic' | 'require'

export interface FoundImport {
  specifier: string
  kind: ImportKind
  line: number
  column: number
}

export interface ParsedFile {
  imports: FoundImport[]
  /** `import()` / `require()` calls whose argument is not a literal. */
  dynamicUnchecked: number
}

export class ParseFailure extends Error {
  constructor(
    message: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(message)
  }
}

interface Located {
  loc?: {start: {line: number; column: number}} | null
}

type AnyNode = Node & Located & Record<string, unknown>

function literalString(node: AnyNode | undefined | null): string | undefined {
  if (!node) return undefined
  if (node.type === 'Literal' && typeof node.value === 'string') return node.value
  if (node.type === 'TemplateLiteral' && (node.expressions as unknown[]).length === 0) {
    return ((node.quasis as Array<{value: {cooked: string | null}}>)[0]?.value.cooked ?? undefined) || undefined
  }
  return undefined
}

function isRequireCallee(callee: AnyNode): boolean {
  if (callee.type === 'Identifier') return callee.name === 'require'
  if (callee.type === 'MemberExpression' && !callee.computed) {
    const object = callee.object as AnyNode
    const property = callee.property as AnyNode
    return object.type === 'Identifier' && object.name === 'require' && property.type === 'Identifier' && property.name === 'resolve'
  }
  return false
}

/** Parses `code` as `format` and lists what it imports. Throws ParseFailure on a syntax error. */
export function findImports(code: string, format: ModuleFormat): ParsedFile {
  let ast: Node
  try {
    ast = parse(code, {
      ecmaVersion: 'latest',
      sourceType: format === 'module' ? 'module' : 'script',
      locations: true,
      allowHashBang: true,
      // CommonJS module wrapper: a top-level `return` is legal.
      allowReturnOutsideFunction: format === 'commonjs',
      allowAwaitOutsideFunction: format === 'module',
    })
  } catch (error) {
    const loc = (error as {loc?: {line: number; column: number}}).loc
    throw new ParseFailure((error as Error).message.replace(/ \(\d+:\d+\)$/, ''), loc?.line ?? 1, (loc?.column ?? 0) + 1)
  }
  const imports: FoundImport[] = []
  let dynamicUnchecked = 0
  const add = (specifier: string, kind: ImportKind, node: AnyNode): void => {
    const start = node.loc?.start
    imports.push({specifier, kind, line: start?.line ?? 1, column: (start?.column ?? 0) + 1})
  }
  const fromSource = (kind: ImportKind) => (node: Node) => {
    const source = (node as AnyNode).source as AnyNode | null | undefined
    const value = literalString(source)
    if (value !== undefined && source) add(value, kind, source)
  }
  simple(ast, {
    ImportDeclaration: fromSource('import'),
    ExportNamedDeclaration: fromSource('export'),
    ExportAllDeclaration: fromSource('export'),
    ImportExpression(node) {
      const source = (node as unknown as AnyNode).source as AnyNode
      const value = literalString(source)
      if (value === undefined) dynamicUnchecked++
      else add(value, 'dynamic', source)
    },
    CallExpression(node) {
      const call = node as unknown as AnyNode
      if (!isRequireCallee(call.callee as AnyNode)) return
      const argument = (call.arguments as AnyNode[])[0]
      const value = literalString(argument)
      if (value === undefined) dynamicUnchecked++
      else add(value, 'require', argument!)
    },
  })
  imports.sort((a, b) => a.line - b.line || a.column - b.column)
  return {imports, dynamicUnchecked}
}
