// Owns the requirements of a `pip:` layer: PEP 508 requirement specifiers (name, extras, PEP 440
// version specifiers, environment markers) checked without the network, and reading them from the
// three places a manifest may name: a map in layers.yaml (name -> specifier), a requirements.txt
// (requirement lines only; index options belong in pip's or uv's configuration) or the
// `project.dependencies` of a pyproject.toml (see toml.ts). Direct URL
// requirements (`name @ https://...`) are refused: a layer resolves from the configured indexes only.
import {existsSync, readFileSync} from 'node:fs'
import {parseVersion, specifierMatches} from './pep440.js'
import {normalizeName} from './targets.js'
import {readToml} from './toml.js'

/** One requirement as written, with where it came from (a 1-based line of a requirements file). */
export interface RequirementLine {
  requirement: string
  line?: number
}

export interface RequirementProblem {
  message: string
  line?: number
}

export interface ParsedRequirement {
  /** Normalized project name. */
  name: string
  extras: string[]
  /** Version specifiers joined by commas ('' for any version). */
  specifier: string
  marker?: string
}

const NAME = /^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?/
const VERSION = /^v?(?:\d+!)?\d+(?:\.\d+)*(?:[-_.]?(?:a|b|c|rc|alpha|beta|pre|preview)[-_.]?\d*)?(?:-\d+|[-_.]?(?:post|rev|r)[-_.]?\d*)?(?:[-_.]?dev[-_.]?\d*)?(?:\+[a-z0-9]+(?:[-_.][a-z0-9]+)*)?$/i
const OPERATORS = ['===', '~=', '==', '!=', '<=', '>=', '<', '>'] as const
const MARKER_VARIABLES = new Set([
  'python_version', 'python_full_version', 'os_name', 'sys_platform', 'platform_release', 'platform_system', 'platform_version',
  'platform_machine', 'platform_python_implementation', 'implementation_name', 'implementation_version', 'extra',
  'os.name', 'sys.platform', 'platform.version', 'platform.machine', 'platform.python_implementation', 'python_implementation',
])

/** Why one version specifier clause (e.g. `>=2.1`, `==1.*`) is not PEP 440; undefined when it is. */
function clauseProblem(clause: string): string | undefined {
  const operator = OPERATORS.find((op) => clause.startsWith(op))
  if (!operator) return `"${clause}" has no comparison operator (one of ${OPERATORS.join(' ')})`
  const version = clause.slice(operator.length).trim()
  if (operator === '===') return version === '' || /\s/.test(version) ? `"${clause}" has no version` : undefined
  const wildcard = version.endsWith('.*')
  const bare = wildcard ? version.slice(0, -2) : version
  if (!VERSION.test(bare)) return `"${version}" in "${clause}" is not a PEP 440 version`
  if (wildcard && operator !== '==' && operator !== '!=') return `"${clause}": a .* wildcard works with == and != only`
  if (wildcard && bare.includes('+')) return `"${clause}": a wildcard version cannot have a local part`
  if (bare.includes('+') && operator !== '==' && operator !== '!=') return `"${clause}": a local version (+...) works with == and != only`
  if (operator === '~=' && !/^v?(?:\d+!)?\d+\.\d+/.test(bare)) return `"${clause}": ~= needs at least two release segments (e.g. ~=2.1)`
  return undefined
}

/** A parsed marker: a comparison of two values (a variable or a quoted string), or `and`/`or` of two markers. */
export type MarkerNode =
  | {op: 'and' | 'or'; left: MarkerNode; right: MarkerNode}
  | {op: 'compare'; left: MarkerValue; comparison: string; right: MarkerValue}

type MarkerValue = {variable: string} | {literal: string}

/** Parses a PEP 508 marker expression; a string says why it is not one. */
export function parseMarker(marker: string): MarkerNode | string {
  const tokens: string[] = []
  const pattern = /\s*(\(|\)|'[^']*'|"[^"]*"|===|==|!=|<=|>=|~=|<|>|not\s+in\b|in\b|and\b|or\b|[A-Za-z_][A-Za-z0-9_.]*)/y
  let index = 0
  while (index < marker.length) {
    if (/^\s*$/.test(marker.slice(index))) break
    pattern.lastIndex = index
    const match = pattern.exec(marker)
    if (!match) return `unexpected text at "${marker.slice(index).trim().slice(0, 30)}"`
    tokens.push(match[1]!.replace(/\s+/g, ' '))
    index = pattern.lastIndex
  }
  let at = 0
  const comparisons = new Set(['===', '==', '!=', '<=', '>=', '~=', '<', '>', 'in', 'not in'])
  const value = (): MarkerValue | string => {
    const token = tokens[at]
    if (token === undefined) return 'a value is missing at the end'
    if (/^['"]/.test(token)) {
      at++
      return {literal: token.slice(1, -1)}
    }
    if (MARKER_VARIABLES.has(token)) {
      at++
      return {variable: token}
    }
    return `"${token}" is not a marker variable or a quoted string`
  }
  const atom = (): MarkerNode | string => {
    if (tokens[at] === '(') {
      at++
      const inner = orExpression()
      if (typeof inner === 'string') return inner
      if (tokens[at] !== ')') return 'a parenthesis is not closed'
      at++
      return inner
    }
    const left = value()
    if (typeof left === 'string') return left
    const op = tokens[at]
    if (op === undefined || !comparisons.has(op)) return `expected a comparison after "${tokens[at - 1]}"`
    at++
    const right = value()
    return typeof right === 'string' ? right : {op: 'compare', left, comparison: op, right}
  }
  const chain = (op: 'and' | 'or', operand: () => MarkerNode | string): MarkerNode | string => {
    let node = operand()
    while (typeof node !== 'string' && tokens[at] === op) {
      at++
      const right = operand()
      node = typeof right === 'string' ? right : {op, left: node, right}
    }
    return node
  }
  const andExpression = (): MarkerNode | string => chain('and', atom)
  const orExpression = (): MarkerNode | string => chain('or', andExpression)
  if (tokens.length === 0) return 'the marker is empty'
  const node = orExpression()
  if (typeof node === 'string') return node
  return at < tokens.length ? `unexpected "${tokens[at]}"` : node
}

/** Why a marker expression is not PEP 508; undefined when it is. */
export function markerProblem(marker: string): string | undefined {
  const node = parseMarker(marker)
  return typeof node === 'string' ? node : undefined
}

/** Marker variables of one interpreter (PEP 508 names; the legacy dotted names map to them). */
export type MarkerEnvironment = Record<string, string>

const LEGACY_VARIABLES: Record<string, string> = {'os.name': 'os_name', 'sys.platform': 'sys_platform', 'platform.version': 'platform_version', 'platform.machine': 'platform_machine', 'platform.python_implementation': 'platform_python_implementation', 'python_implementation': 'platform_python_implementation'}

/**
 * Whether a marker holds in `environment` (PEP 508): a comparison uses PEP 440 rules when the right
 * side is a version (or version pattern) and the left one a version, else string comparison as in
 * Python; `in` / `not in` test substrings. An unparsable marker holds (validation reports it).
 */
export function evaluateMarker(marker: string, environment: MarkerEnvironment): boolean {
  const node = parseMarker(marker)
  return typeof node === 'string' ? true : evaluate(node, environment)
}

function evaluate(node: MarkerNode, environment: MarkerEnvironment): boolean {
  if (node.op !== 'compare') return node.op === 'and' ? evaluate(node.left, environment) && evaluate(node.right, environment) : evaluate(node.left, environment) || evaluate(node.right, environment)
  const resolve = (value: MarkerValue): string => ('literal' in value ? value.literal : (environment[LEGACY_VARIABLES[value.variable] ?? value.variable] ?? ''))
  const left = resolve(node.left)
  const right = resolve(node.right)
  const {comparison} = node
  if (comparison === 'in') return right.includes(left)
  if (comparison === 'not in') return !right.includes(left)
  if (comparison !== '===' && parseVersion(left) && parseVersion(right.replace(/\.\*$/, ''))) return specifierMatches(`${comparison}${right}`, left, true)
  switch (comparison) {
    case '==':
    case '===':
      return left === right
    case '!=':
      return left !== right
    case '<':
      return left < right
    case '<=':
      return left <= right
    case '>':
      return left > right
    case '>=':
      return left >= right
    default:
      return false
  }
}

/** Parses a PEP 508 requirement; a string says why it is not one (or is one layers refuses). */
export function parseRequirement(text: string): ParsedRequirement | string {
  const trimmed = text.trim()
  const name = NAME.exec(trimmed)?.[0]
  if (!name) return `"${trimmed}" does not start with a project name`
  let rest = trimmed.slice(name.length).trimStart()
  const extras: string[] = []
  if (rest.startsWith('[')) {
    const end = rest.indexOf(']')
    if (end === -1) return `"${trimmed}": the extras' bracket is not closed`
    for (const extra of rest.slice(1, end).split(',').map((item) => item.trim())) {
      if (extra === '') continue
      if (NAME.exec(extra)?.[0] !== extra) return `"${trimmed}": "${extra}" is not a valid extra name`
      extras.push(normalizeName(extra))
    }
    rest = rest.slice(end + 1).trimStart()
  }
  if (rest.startsWith('@')) return `"${trimmed}" is a direct URL requirement, which layers does not lock (it resolves from the configured indexes only)`
  const semicolon = rest.indexOf(';')
  let specifierText = (semicolon === -1 ? rest : rest.slice(0, semicolon)).trim()
  const marker = semicolon === -1 ? undefined : rest.slice(semicolon + 1).trim()
  if (specifierText.startsWith('(') && specifierText.endsWith(')')) specifierText = specifierText.slice(1, -1).trim()
  const clauses = specifierText === '' ? [] : specifierText.split(',').map((clause) => clause.trim())
  for (const clause of clauses) {
    const problem = clauseProblem(clause)
    if (problem) return problem
  }
  if (marker !== undefined) {
    const problem = markerProblem(marker)
    if (problem) return `"${trimmed}": the marker "${marker}" is not valid (${problem})`
  }
  return {name: normalizeName(name), extras, specifier: clauses.join(','), ...(marker === undefined ? {} : {marker})}
}

/** The requirement of one `pip:` map entry (`name[extras]: "specifier ; marker"`; `*` or '' for any version). */
export function mapRequirement(key: string, value: string): string {
  const trimmed = value.trim()
  const semicolon = trimmed.indexOf(';')
  const specifier = (semicolon === -1 ? trimmed : trimmed.slice(0, semicolon)).trim()
  const marker = semicolon === -1 ? '' : ` ; ${trimmed.slice(semicolon + 1).trim()}`
  return `${key.trim()}${specifier === '*' ? '' : specifier}${marker}`
}

/** The requirement lines of a requirements.txt: continuations joined, comments and --hash options dropped. */
export function readRequirementsText(text: string): {lines: RequirementLine[]; problems: RequirementProblem[]} {
  const lines: RequirementLine[] = []
  const problems: RequirementProblem[] = []
  const physical = text.split(/\r?\n/)
  for (let index = 0; index < physical.length; index++) {
    const start = index + 1
    let line = physical[index]!
    while (line.endsWith('\\') && index + 1 < physical.length) line = line.slice(0, -1) + ' ' + physical[++index]!
    line = line.replace(/(^|\s)#.*$/, '').replace(/\s--hash[=\s]\S+/g, '').trim()
    if (line === '') continue
    if (line.startsWith('-')) {
      problems.push({line: start, message: `"${line.split(/\s/)[0]}" is a pip option, which a layer's requirements file cannot carry`})
      continue
    }
    lines.push({requirement: line, line: start})
  }
  return {lines, problems}
}

/** `project.dependencies` of a pyproject.toml. */
export function readPyprojectDependencies(file: string): {lines: RequirementLine[]; problems: RequirementProblem[]} {
  const read = readToml(file)
  if ('error' in read) return {lines: [], problems: [{message: `cannot be read: ${read.error}`}]}
  const project = read.data.project as {dependencies?: unknown} | undefined
  const dependencies = project?.dependencies
  if (dependencies === undefined) return {lines: [], problems: [{message: 'has no project.dependencies'}]}
  if (!Array.isArray(dependencies) || dependencies.some((item) => typeof item !== 'string')) return {lines: [], problems: [{message: 'has a project.dependencies that is not a list of strings'}]}
  return {lines: (dependencies as string[]).map((requirement) => ({requirement})), problems: []}
}

/** The requirements a `pip:` path names: a pyproject.toml by its name, anything else as a requirements file. */
export function readRequirementsFile(file: string): {lines: RequirementLine[]; problems: RequirementProblem[]} {
  if (!existsSync(file)) return {lines: [], problems: [{message: 'does not exist'}]}
  if (file.endsWith('pyproject.toml')) return readPyprojectDependencies(file)
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    return {lines: [], problems: [{message: (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : `cannot be read (${(error as Error).message})`}]}
  }
  return readRequirementsText(text)
}
