// Owns npm's `overrides` (package.json, npm 8.3+) as the resolver applies them: a tree of rules
// keyed `name` or `name@range`, whose value (`"1.0.0"`, or an object with `"."` for its own value and
// child rules that apply only below the packages it matches) replaces the spec of matching
// dependency edges; `$name` values refer to the root package's own dependency specs. The matching
// follows npm's Arborist (OverrideSet, Edge): a rule applies to an edge when its name matches and its
// key range intersects the edge's own spec; below a package the rules that matched it apply, then
// the rules of every enclosing set. A direct dependency of the root may only be overridden with its
// own spec or a `$` reference (npm's EOVERRIDE).
import npa from 'npm-package-arg'
import semver from 'semver'
import {UserInputError} from '../errors/index.js'

/** The raw `overrides` value: a spec, or rules (`"."` is the rule's own value). */
export type OverridesInput = string | {[key: string]: OverridesInput}

/** One set of rules: the root set (no name) or a rule matching `name@keySpec`. */
export class OverrideRule {
  readonly children = new Map<string, OverrideRule>()
  /** The package name the rule matches (absent on the root set). */
  readonly name?: string
  /** The rule's key as written (`ms`, `ms@^2.0.0`). */
  readonly key?: string
  /** The key's range (`*` when the key is a bare name). */
  readonly keySpec?: string
  /** The spec the rule puts on matching edges (`*`: leave their spec, apply only the child rules). */
  readonly value?: string

  constructor(input: OverridesInput, readonly parent?: OverrideRule, key?: string) {
    const rules: Record<string, OverridesInput> = typeof input === 'string' ? {'.': input} : input
    if (parent && key !== undefined) {
      const spec = npa(key)
      this.name = spec.name ?? undefined
      this.key = key
      this.keySpec = spec.rawSpec === '' || spec.rawSpec === undefined ? '*' : spec.rawSpec
      const own = rules['.']
      this.value = typeof own === 'string' && own !== '' ? own : this.keySpec
    }
    for (const [childKey, child] of Object.entries(rules)) {
      if (childKey === '.') continue
      const rule = new OverrideRule(child, this, childKey)
      this.children.set(childKey, rule)
    }
  }

  /** The rules in force in this set: its children, itself, then the enclosing sets' (nearest first). */
  rules(): OverrideRule[] {
    const found = new Map<string, OverrideRule>()
    for (const set of this.enclosing()) {
      for (const child of set.children.values()) if (!found.has(child.key!)) found.set(child.key!, child)
      if (set.parent && !found.has(set.key!)) found.set(set.key!, set)
    }
    return [...found.values()]
  }

  /** The set that applies to a dependency edge `name@spec` going out of a package under this set. */
  edgeRule(name: string, spec: string): OverrideRule {
    for (const rule of this.rules()) {
      if (rule.name !== name) continue
      if (rule.keySpec === '*') return rule
      const range = edgeRange(name, spec)
      // Tags (and anything without a range) cannot be compared: npm applies the rule.
      if (range === undefined) return rule
      if (intersects(range, rule.keySpec!)) return rule
    }
    return this
  }

  /** The spec this set puts on an edge named `name` (undefined: the edge keeps its own). */
  specFor(name: string, references: Readonly<Record<string, string>>): string | undefined {
    if (this.name !== name || !this.value || this.value === '*') return undefined
    if (!this.value.startsWith('$')) return this.value
    const reference = references[this.value.slice(1)]
    if (reference === undefined) throw new Error(`unresolved reference ${this.value}`)
    return reference
  }

  /**
   * The set a package reached by edges under `a` and `b` is resolved under, as npm decides it: the
   * more specific of the two when one encloses the other, else their nearest common enclosing set
   * unless their rules for a package disagree (undefined: the package cannot be shared).
   */
  static shared(a: OverrideRule, b: OverrideRule): OverrideRule | undefined {
    if (b.enclosing().includes(a)) return b
    if (a.enclosing().includes(b)) return a
    const rulesOfB = new Map(b.rules().map((rule) => [rule.key!, rule]))
    for (const rule of a.rules()) {
      const other = rulesOfB.get(rule.key!)
      if (!other || other === rule || rule.value!.startsWith('$') || other.value!.startsWith('$')) continue
      const mine = edgeRange(rule.name!, rule.value!)
      const theirs = edgeRange(other.name!, other.value!)
      if (mine !== undefined && theirs !== undefined && !intersects(mine, theirs)) return undefined
    }
    const aroundA = new Set(a.enclosing())
    return b.enclosing().find((set) => aroundA.has(set))
  }

  /** The rule's path from the root set, for messages (`express > ms@^2`). */
  describe(): string {
    return this.enclosing()
      .filter((set) => set.parent)
      .map((set) => set.key!)
      .reverse()
      .join(' > ')
  }

  /** This set, then each enclosing set up to the root set. */
  enclosing(): OverrideRule[] {
    const sets: OverrideRule[] = []
    for (let set: OverrideRule | undefined = this.parent; set; set = set.parent) sets.push(set)
    return [this as OverrideRule, ...sets]
  }
}

function edgeRange(name: string, spec: string): string | undefined {
  try {
    let parsed: npa.Result = npa.resolve(name, spec === '' ? '*' : spec)
    if (parsed.type === 'alias') parsed = (parsed as npa.AliasResult).subSpec
    return parsed.type === 'range' || parsed.type === 'version' ? (parsed.fetchSpec ?? '*') : undefined
  } catch {
    return undefined
  }
}

function intersects(a: string, b: string): boolean {
  try {
    return semver.intersects(a, b, {loose: true})
  } catch {
    return false
  }
}

export interface RootOverrides {
  rules: OverrideRule
  /** `$name` references: the root package's own specs (dev, then optional, then prod, then peer, as npm looks them up). */
  references: Record<string, string>
}

/** A package.json's dependency maps (non-objects read as empty), as overrides read them. */
export interface PackageSpecs {
  dependencies: Record<string, string>
  /** What `$name` values refer to: devDependencies, then optional, prod and peer ones, as npm looks them up. */
  references: Record<string, string>
}

export function packageSpecs(pkg: Readonly<Record<string, unknown>>): PackageSpecs {
  const field = (key: string): Record<string, string> => {
    const value = pkg[key]
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, string>) : {}
  }
  return {dependencies: field('dependencies'), references: {...field('peerDependencies'), ...field('dependencies'), ...field('optionalDependencies'), ...field('devDependencies')}}
}

export interface OverridesOrigin {
  /** Layer name, for messages. */
  layer: string
  /** Where the overrides were written (`layers.yaml`, a package.json path), for messages. */
  where: string
}

/**
 * Reads and checks a layer's overrides: keys are package names (optionally `@range`), values specs,
 * `$` references that resolve, or objects of the same; a direct dependency overridden with another
 * spec is refused as npm refuses it. Throws UserInputError naming the layer, file and rule.
 */
export function readOverrides(input: unknown, dependencies: Readonly<Record<string, string>>, references: Readonly<Record<string, string>>, origin: OverridesOrigin): RootOverrides | undefined {
  if (input === undefined) return undefined
  const fail = (what: string, hint: string): never => {
    throw new UserInputError('ERR_LAYERS_INVALID_OVERRIDES', `Layer ${origin.layer}: overrides in ${origin.where}: ${what}`, {hint, details: {layer: origin.layer, file: origin.where}})
  }
  checkShape(input, [], fail, references)
  const rules = new OverrideRule(input as OverridesInput)
  for (const [name, spec] of Object.entries(dependencies)) {
    const rule = rules.edgeRule(name, spec)
    if (rule === rules || rule.value === undefined || rule.value === '*' || rule.name !== name) continue
    if (rule.value.startsWith('$') || rule.value === spec) continue
    fail(`the override ${rule.describe()}: ${JSON.stringify(rule.value)} conflicts with the direct dependency ${name}@${spec} (npm refuses it with EOVERRIDE).`, `Change the dependency itself to ${JSON.stringify(rule.value)}, or write the override as "$${name}" to refer to the dependency's own spec.`)
  }
  return {rules, references: {...references}}
}

function checkShape(input: unknown, keys: string[], fail: (what: string, hint: string) => never, references: Readonly<Record<string, string>>): void {
  const at = keys.length > 0 ? `the rule ${keys.join(' > ')}` : 'the overrides'
  if (typeof input === 'string') {
    if (input.startsWith('$') && references[input.slice(1)] === undefined) {
      fail(`${at} refers to ${input}, but the package has no dependency ${input.slice(1)}.`, `Add ${input.slice(1)} to the dependencies, or give the override a version or range.`)
    }
    return
  }
  if (input === null || typeof input !== 'object' || Array.isArray(input)) fail(`${at} is ${Array.isArray(input) ? 'a list' : JSON.stringify(input)}, not a spec or an object of rules.`, 'Give each package a version or range ("ms": "2.1.3"), or an object of rules for its dependencies ("express": {"ms": "2.1.3"}).')
  for (const [key, value] of Object.entries(input as Record<string, unknown>)) {
    if (key === '.') {
      if (keys.length === 0) fail('"." is only allowed inside a package\'s rules.', 'Move the value under the package it overrides: "ms": {".": "2.1.3"}.')
      if (typeof value !== 'string') fail(`"." in ${at} is not a spec.`, 'Give "." a version or range.')
      checkShape(value, keys, fail, references)
      continue
    }
    let parsed: npa.Result | undefined
    try {
      parsed = npa(key)
    } catch {
      parsed = undefined
    }
    if (!parsed?.name || (parsed.type !== 'range' && parsed.type !== 'version')) {
      fail(`${JSON.stringify(key)}${keys.length > 0 ? ` (in ${at})` : ''} is not a package name or name@range.`, 'Key each override by a package name, optionally with a version range: "ms" or "ms@^2.0.0".')
    }
    checkShape(value, [...keys, key], fail, references)
  }
}
