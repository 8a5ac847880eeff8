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
  /**
   * Names the module exports: ES `export` forms, or CommonJS `exports.x =`, `module.exports.x =`,
   * `module.exports = {x}` and `Object.defineProperty(exports, 'x', ...)`. `complete` is false when
   * something else could add names (`export *`, `module.exports = f`, computed keys, spreads).
   */
  exports: {names: string[]; complete: boolean}
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

function nameOf(node: AnyNode | undefined | null): string | undefined {
  if (!node) return undefined
  if (node.type === 'Identifier') return node.name as string
  if (node.type === 'Literal' && typeof node.value === 'string') return node.value
  return undefined
}

/** Identifiers a declaration pattern binds (`const {a, b: [c]} = ...` binds a and c). */
function boundNames(pattern: AnyNode | null | undefined, into: string[]): void {
  if (!pattern) return
  if (pattern.type === 'Identifier') into.push(pattern.name as string)
  else if (pattern.type === 'ObjectPattern') for (const property of pattern.properties as AnyNode[]) boundNames((property.type === 'RestElement' ? property.argument : property.value) as AnyNode, into)
  else if (pattern.type === 'ArrayPattern') for (const element of pattern.elements as Array<AnyNode | null>) boundNames(element, into)
  else if (pattern.type === 'RestElement') boundNames(pattern.argument as AnyNode, into)
  else if (pattern.type === 'AssignmentPattern') boundNames(pattern.left as AnyNode, into)
}

function moduleExports(ast: Node): ParsedFile['exports'] {
  const names: string[] = []
  let complete = true
  for (const statement of (ast as unknown as {body: AnyNode[]}).body) {
    if (statement.type === 'ExportDefaultDeclaration') names.push('default')
    else if (statement.type === 'ExportAllDeclaration') {
      const exported = nameOf(statement.exported as AnyNode | null)
      if (exported === undefined) complete = false
      else names.push(exported)
    } else if (statement.type === 'ExportNamedDeclaration') {
      const declaration = statement.declaration as AnyNode | null
      if (declaration?.type === 'VariableDeclaration') for (const item of declaration.declarations as AnyNode[]) boundNames(item.id as AnyNode, names)
      else if (declaration) boundNames(declaration.id as AnyNode, names)
      for (const specifier of statement.specifiers as AnyNode[]) {
        const exported = nameOf(specifier.exported as AnyNode)
        if (exported !== undefined) names.push(exported)
      }
    }
  }
  return {names: [...new Set(names)].sort(), complete}
}

function isIdentifier(node: AnyNode | undefined, name: string): boolean {
  return node?.type === 'Identifier' && node.name === name
}

function isModuleExports(node: AnyNode | undefined): boolean {
  return node?.type === 'MemberExpression' && !node.computed && isIdentifier(node.object as AnyNode, 'module') && isIdentifier(node.property as AnyNode, 'exports')
}

function commonjsExports(ast: Node): ParsedFile['exports'] {
  const names: string[] = []
  let complete = true
  simple(ast, {
    AssignmentExpression(node) {
      const left = (node as unknown as AnyNode).left as AnyNode
      const right = (node as unknown as AnyNode).right as AnyNode
      if (left.type === 'MemberExpression' && (isIdentifier(left.object as AnyNode, 'exports') || isModuleExports(left.object as AnyNode))) {
        const name = left.computed ? literalString(left.property as AnyNode) : nameOf(left.property as AnyNode)
        if (name === undefined) complete = false
        else names.push(name)
      } else if (isModuleExports(left)) {
        if (right.type !== 'ObjectExpression') complete = false
        else {
          for (const property of right.properties as AnyNode[]) {
            const name = property.type === 'Property' && !property.computed ? nameOf(property.key as AnyNode) : undefined
            if (name === undefined) complete = false
            else names.push(name)
          }
        }
      }
    },
    CallExpression(node) {
      const call = node as unknown as AnyNode
      const callee = call.callee as AnyNode
      const [target, key] = call.arguments as AnyNode[]
      const onExports = isIdentifier(target, 'exports') || isModuleExports(target)
      if (!onExports || callee.type !== 'MemberExpression' || !isIdentifier(callee.object as AnyNode, 'Object')) return
      const method = nameOf(callee.property as AnyNode)
      const name = literalString(key)
      if (method === 'defineProperty' && name !== undefined) names.push(name)
      else complete = false
    },
  })
  return {names: [...new Set(names)].sort(), complete}
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
  return {imports, dynamicUnchecked, exports: format === 'module' ? moduleExports(ast) : commonjsExports(ast)}
}
