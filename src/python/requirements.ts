// Owns the requirements of a `pip:` layer: PEP 508 requirement specifiers (name, extras, PEP 440
// version specifiers, environment markers) checked without the network, and reading them from the
// three places a manifest may name: a map in layers.yaml (name -> specifier), a requirements.txt
// (requirement lines only; index options belong in pip's or uv's configuration) or the
// `project.dependencies` of a pyproject.toml (see toml.ts). Direct URL
// requirements (`name @ https://...`) are refused: a layer resolves from the configured indexes only.
import {existsSync, readFileSync} from 'node:fs'
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

/** Why a marker expression is not PEP 508; undefined when it is. */
export function markerProblem(marker: string): string | undefined {
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
  const value = (): string | undefined => {
    const token = tokens[at]
    if (token === undefined) return 'a value is missing at the end'
    if (/^['"]/.test(token)) {
      at++
      return undefined
    }
    if (MARKER_VARIABLES.has(token)) {
      at++
      return undefined
    }
    return `"${token}" is not a marker variable or a quoted string`
  }
  const atom = (): string | undefined => {
    if (tokens[at] === '(') {
      at++
      const inner = orExpression()
      if (inner) return inner
      if (tokens[at] !== ')') return 'a parenthesis is not closed'
      at++
      return undefined
    }
    const left = value()
    if (left) return left
    const op = tokens[at]
    if (op === undefined || !comparisons.has(op)) return `expected a comparison after "${tokens[at - 1]}"`
    at++
    return value()
  }
  const andExpression = (): string | undefined => {
    let problem = atom()
    while (!problem && tokens[at] === 'and') {
      at++
      problem = atom()
    }
    return problem
  }
  const orExpression = (): string | undefined => {
    let problem = andExpression()
    while (!problem && tokens[at] === 'or') {
      at++
      problem = andExpression()
    }
    return problem
  }
  if (tokens.length === 0) return 'the marker is empty'
  const problem = orExpression()
  if (problem) return problem
  return at < tokens.length ? `unexpected "${tokens[at]}"` : undefined
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
