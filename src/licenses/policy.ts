// Owns the licence policy (settings.licenses.allow / deny) as pure evaluation: a package.json's declared
// licence read into one string (`license`, the legacy `{type}` object, or the legacy `licenses` array
// joined by OR; NOASSERTION when it declares none), whether a policy entry is usable, and whether a
// licence passes. An SPDX expression passes when one of its OR choices (its disjunctive normal form)
// has every licence allowed (when an allow list is set) and none denied: deny wins over allow.
// Entries match as spdx-satisfies matches (`GPL-2.0+` covers later versions; an exception must match).
// A licence that is not an SPDX expression is read through spdx-correct (`Apache 2` as Apache-2.0),
// else it matches no entry. UNLICENSED and NOASSERTION are words, not SPDX ids: they match only an
// entry spelled the same (`allow: [UNLICENSED]` admits the team's private packages).
import spdxCorrect from 'spdx-correct'
import parse from 'spdx-expression-parse'
import satisfies from 'spdx-satisfies'

export const NOASSERTION = 'NOASSERTION'
export const UNLICENSED = 'UNLICENSED'
const WORDS: ReadonlySet<string> = new Set([NOASSERTION, UNLICENSED])
/** Expressions whose OR choices multiply beyond this are not expanded (no real package comes near). */
const MAX_CHOICES = 256

export interface LicensePolicy {
  allow?: readonly string[]
  deny?: readonly string[]
}

/** One entry of the policy: which list and where in it (for the manifest's file:line:column). */
export interface PolicyEntry {
  list: 'allow' | 'deny'
  index: number
  entry: string
}

export type LicenseVerdict =
  | {status: 'unchecked'}
  | {status: 'allowed'; readAs?: string}
  | {status: 'denied'; readAs?: string; entries: PolicyEntry[]}
  | {status: 'not-allowed'; readAs?: string; reason: string}

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value)

/** The licence a package.json declares, as one string; NOASSERTION when it declares none. */
export function declaredLicense(manifest: {license?: unknown; licenses?: unknown}): string {
  const one = (value: unknown): string | undefined => {
    const text = typeof value === 'string' ? value : isObject(value) && typeof value.type === 'string' ? value.type : undefined
    return text?.trim() || undefined
  }
  const license = one(manifest.license)
  if (license) return license
  if (Array.isArray(manifest.licenses)) {
    const types = manifest.licenses.map(one).filter((type): type is string => type !== undefined)
    if (types.length === 1) return types[0]!
    if (types.length > 1) return types.map((type) => (/\s/.test(type) ? `(${type})` : type)).join(' OR ')
  }
  return one(manifest.licenses) ?? NOASSERTION
}

/** Why a policy entry cannot be used (and spdx-correct's suggestion), or undefined when it is a single SPDX licence (or UNLICENSED / NOASSERTION). */
export function policyEntryProblem(entry: string): {reason: string; suggestion?: string} | undefined {
  if (WORDS.has(entry)) return undefined
  let info: parse.Info
  try {
    info = parse(entry)
  } catch {
    const suggestion = entry.includes(' AND ') || entry.includes(' OR ') ? undefined : (spdxCorrect(entry) ?? undefined)
    return {reason: 'is not an SPDX licence identifier', ...(suggestion ? {suggestion} : {})}
  }
  if ('conjunction' in info) return {reason: 'is an AND / OR expression; each entry names one licence (optionally with + or WITH an exception)'}
  return undefined
}

/** The licence when it is an SPDX expression as written (for SBOMs), else undefined (free text, UNLICENSED, NOASSERTION). */
export function spdxExpression(license: string | undefined): string | undefined {
  if (license === undefined || WORDS.has(license)) return undefined
  try {
    parse(license)
    return license
  } catch {
    return undefined
  }
}

type Term = parse.LicenseInfo | {word: string}

/** The OR choices of an expression, each the licences it needs together; undefined when it is not SPDX. */
function choices(license: string): {choices: Term[][]; readAs?: string} | undefined {
  if (WORDS.has(license)) return {choices: [[{word: license}]]}
  const expand = (info: parse.Info): Term[][] => {
    if (!('conjunction' in info)) return [[info]]
    const left = expand(info.left)
    const right = expand(info.right)
    if (info.conjunction === 'or') return [...left, ...right].slice(0, MAX_CHOICES)
    return left.flatMap((a) => right.map((b) => [...a, ...b])).slice(0, MAX_CHOICES)
  }
  try {
    return {choices: expand(parse(license))}
  } catch {
    // Not SPDX as written; "UNLICENSED" must never be read as the Unlicense, so words are handled above.
    const corrected = spdxCorrect(license)
    if (!corrected) return undefined
    try {
      return {choices: expand(parse(corrected)), readAs: corrected}
    } catch {
      return undefined
    }
  }
}

function termText(term: parse.LicenseInfo): string {
  return `${term.license}${term.plus ? '+' : ''}${term.exception ? ` WITH ${term.exception}` : ''}`
}

function matches(term: Term, entry: string): boolean {
  if ('word' in term || WORDS.has(entry)) return 'word' in term && term.word === entry
  try {
    return satisfies(termText(term), [entry])
  } catch {
    return false
  }
}

/** Whether a licence (as locked: an SPDX expression, UNLICENSED, NOASSERTION or free text) passes the policy. */
export function evaluateLicense(license: string, policy: LicensePolicy): LicenseVerdict {
  const allow = policy.allow
  const deny = (policy.deny ?? []).map((entry, index) => ({list: 'deny' as const, index, entry}))
  if (allow === undefined && deny.length === 0) return {status: 'unchecked'}
  const read = choices(license)
  if (!read) return allow === undefined ? {status: 'allowed'} : {status: 'not-allowed', reason: 'is not an SPDX expression'}
  const readAs = read.readAs ? {readAs: read.readAs} : {}
  const denying = new Map<number, PolicyEntry>()
  for (const choice of read.choices) {
    const denied = deny.filter((entry) => choice.some((term) => matches(term, entry.entry)))
    const allowed = allow === undefined || choice.every((term) => allow.some((entry) => matches(term, entry)))
    if (denied.length === 0 && allowed) return {status: 'allowed', ...readAs}
    for (const entry of denied) denying.set(entry.index, entry)
  }
  if (denying.size > 0) return {status: 'denied', ...readAs, entries: [...denying.values()].sort((a, b) => a.index - b.index)}
  return {status: 'not-allowed', ...readAs, reason: 'is not in settings.licenses.allow'}
}
