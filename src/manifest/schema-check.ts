// Owns checking a manifest's structure against the published JSON Schema (schema/layers.schema.json,
// the same file editors use) with ajv, and turning ajv's errors into problems a person can act on:
// the key or value's file:line:column, what is wrong in words, and a did-you-mean where one helps.
import {readFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import path from 'node:path'
import type {Ajv as AjvClass, ErrorObject, ValidateFunction} from 'ajv'
import {quoteValue, shorten, type Problem} from '../errors/index.js'
import {toolRoot} from '../project/paths.js'
import type {DocPath, YamlSource} from './document.js'
import {didYouMean} from './suggest.js'

/** ajv options of the manifest validator (scripts/compile-schema.mjs precompiles with the same). */
export const AJV_OPTIONS = {allErrors: true, verbose: true, strict: true, strictRequired: false, allowUnionTypes: true} as const

let compiled: ValidateFunction | undefined

const require = createRequire(import.meta.url)

function validator(): ValidateFunction {
  compiled ??= precompiled() ?? compileSchema()
  return compiled
}

/** The validator the build precompiled (dist only), when it is there. */
function precompiled(): ValidateFunction | undefined {
  try {
    return require('./layers-schema.validate.cjs') as ValidateFunction
  } catch {
    return undefined
  }
}

/** Compiling needs all of ajv (about 100 ms to load and compile), so it is loaded only here. */
function compileSchema(): ValidateFunction {
  const schema = JSON.parse(readFileSync(path.join(toolRoot(), 'schema', 'layers.schema.json'), 'utf8')) as object
  const {Ajv} = require('ajv') as {Ajv: typeof AjvClass}
  return new Ajv(AJV_OPTIONS).compile(schema)
}

export function schemaProblems(source: YamlSource): Problem[] {
  const validate = validator()
  if (validate(source.data)) return []
  const problems: Problem[] = []
  const seen = new Set<string>()
  for (const error of validate.errors ?? []) {
    const problem = translate(error, source)
    if (!problem) continue
    const key = `${problem.location?.line}:${problem.location?.column}:${problem.message}`
    if (seen.has(key)) continue
    seen.add(key)
    problems.push(problem)
  }
  return problems
}

/** `/functions/api/layers/1` -> ['functions', 'api', 'layers', 1] */
function pathOf(instancePath: string, data: unknown): Array<string | number> {
  const segments: Array<string | number> = []
  let node = data
  for (const raw of instancePath.split('/').slice(1)) {
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~')
    const value: string | number = Array.isArray(node) ? Number(segment) : segment
    segments.push(value)
    node = node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[String(value)] : undefined
  }
  return segments
}

/** How a path reads in a message: functions.api.layers[1] */
export function dotted(path: DocPath): string {
  return path.reduce<string>((text, segment) => (typeof segment === 'number' ? `${text}[${segment}]` : text ? `${text}.${shorten(segment, 80)}` : shorten(segment, 80)), '') || 'the manifest'
}

const TYPE_WORDS: Record<string, string> = {
  object: 'a mapping (key: value lines)',
  array: 'a list',
  string: 'a string',
  boolean: 'true or false',
  number: 'a number',
  integer: 'a whole number',
  null: 'empty',
}

function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'nothing'
  if (Array.isArray(value)) return 'a list'
  if (typeof value === 'object') return 'a mapping'
  return `${typeof value} ${quoteValue(value)}`
}

/** Names other tools use for Lambda's architectures (spelling distance would suggest amd64 -> arm64). */
const ARCHITECTURE_ALIASES: Record<string, string> = {amd64: 'x86_64', x64: 'x86_64', 'x86-64': 'x86_64', aarch64: 'arm64'}

function translate(error: ErrorObject, source: YamlSource): Problem | undefined {
  const where = pathOf(error.instancePath, source.data)
  const {description, $comment: fix} = (error.parentSchema ?? {}) as {description?: string; $comment?: string}
  const problem = (code: string, message: string, hint: string, locationPath: DocPath = where, part: 'value' | 'key' = 'value'): Problem => ({
    severity: 'error',
    code: `ERR_LAYERS_MANIFEST_${code}`,
    message,
    hint,
    location: source.locate(locationPath, part),
  })
  switch (error.keyword) {
    case 'additionalProperties': {
      const key = (error.params as {additionalProperty: string}).additionalProperty
      const allowed = Object.keys((error.parentSchema as {properties?: Record<string, unknown>}).properties ?? {})
      return problem('UNKNOWN_KEY', `Unknown key ${quoteValue(key, 80)} in ${dotted(where)}.${didYouMean(key, allowed)}`, `Allowed keys here: ${allowed.join(', ')}.`, [...where, key], 'key')
    }
    case 'required': {
      const missing = (error.params as {missingProperty: string}).missingProperty
      // A layer's kind is checked (with a clearer message) by the semantic checks.
      if (error.schemaPath.includes('/oneOf/')) return undefined
      return problem('MISSING_KEY', `${dotted(where)} is missing the required key "${missing}".`, `Add "${missing}:" to ${dotted(where)}.`, where, 'key')
    }
    case 'type': {
      const expected = String((error.params as {type: string | string[]}).type).split(',').map((type) => TYPE_WORDS[type] ?? type).join(' or ')
      return problem('WRONG_TYPE', `${dotted(where)} must be ${expected}, not ${describeValue(error.data)}.`, description ? `Expected ${description}.` : `Write ${expected} here.`)
    }
    case 'enum': {
      const allowed = ((error.params as {allowedValues: unknown[]}).allowedValues ?? []).map(String)
      const value = String(error.data)
      const alias = ARCHITECTURE_ALIASES[value.toLowerCase()]
      const suggestion = alias && allowed.includes(alias) ? ` Did you mean "${alias}"?` : didYouMean(value, allowed)
      return problem('INVALID_VALUE', `${dotted(where)} is ${quoteValue(error.data)}; it must be one of ${allowed.join(', ')}.${suggestion}`, `Use one of: ${allowed.join(', ')}.`)
    }
    case 'const':
      return problem('INVALID_VALUE', `${dotted(where)} is ${quoteValue(error.data)}; it must be ${JSON.stringify((error.params as {allowedValue: unknown}).allowedValue)}.`, description ? `${description}.` : 'Use the documented value.')
    case 'pattern':
    case 'minLength':
    case 'maxLength':
      return problem('INVALID_VALUE', `${dotted(where)} is ${quoteValue(error.data)}, which is not ${description ?? 'valid'}.`, fix ?? `Write ${description ?? 'a valid value'}.`)
    case 'propertyNames': {
      const name = (error.params as {propertyName: string}).propertyName
      const nameSchema = (error.schema as {$ref?: string} | undefined)?.$ref?.split('/').pop()
      const what = nameSchema === 'layerName' ? 'a layer name' : nameSchema === 'functionName' ? 'a function name' : 'a name'
      return problem('INVALID_NAME', `${quoteValue(name, 80)} in ${dotted(where)} is not ${what} of letters, digits, '-' and '_'.`, 'Rename it using only letters, digits, hyphens and underscores.', [...where, name], 'key')
    }
    case 'minItems':
      return problem('INVALID_VALUE', `${dotted(where)} is an empty list.`, description ? `List at least one: ${description}.` : 'Add at least one item or remove the key.')
    case 'maxItems':
      return problem('INVALID_VALUE', `${dotted(where)} has ${(error.data as unknown[]).length} items; at most ${(error.params as {limit: number}).limit} are allowed.`, 'Remove the extra items.')
    case 'uniqueItems': {
      const {i, j} = error.params as {i: number; j: number}
      return problem('DUPLICATE', `${dotted(where)} lists ${quoteValue((error.data as unknown[])[j])} twice (items ${j + 1} and ${i + 1}).`, 'Remove the repeated item.', [...where, i])
    }
    case 'oneOf':
    case 'if':
      return undefined
    default:
      return problem('INVALID_VALUE', `${dotted(where)} ${error.message ?? 'is invalid'}.`, description ? `Expected ${description}.` : 'See schema/layers.schema.json.')
  }
}
