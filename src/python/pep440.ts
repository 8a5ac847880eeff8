// Owns PEP 440 versions as `layers outdated` needs them, pure: parsing (the normalizations PEP 440
// allows: case, `-`/`_`/`.` separators, alpha/beta/c/pre/preview/rev/r spellings, a leading v),
// ordering (epoch, release with trailing zeros ignored, then dev < pre < final < post, local last),
// whether a version is a pre-release (pre or dev), matching a specifier set (`>=1.2,<2`, `==1.*`,
// `~=1.4.2`, `!=1.5`, `===x`) with the exclusive-ordering rules of PEP 440, and the size of a step
// between two versions (major/minor/patch from the release segments).

export interface Pep440Version {
  epoch: number
  release: number[]
  pre?: {label: 'a' | 'b' | 'rc'; number: number}
  post?: number
  dev?: number
  /** Local segments (after `+`), lower-cased. */
  local?: Array<string | number>
}

const PATTERN = /^v?(?:(\d+)!)?(\d+(?:\.\d+)*)(?:[-_.]?(a|b|c|rc|alpha|beta|pre|preview)[-_.]?(\d+)?)?(?:-(\d+)|[-_.]?(post|rev|r)[-_.]?(\d+)?)?(?:[-_.]?(dev)[-_.]?(\d+)?)?(?:\+([a-z0-9]+(?:[-_.][a-z0-9]+)*))?$/i
const PRE_LABEL: Record<string, 'a' | 'b' | 'rc'> = {a: 'a', alpha: 'a', b: 'b', beta: 'b', c: 'rc', rc: 'rc', pre: 'rc', preview: 'rc'}

/** The version, or undefined when the text is not a PEP 440 version. */
export function parseVersion(text: string): Pep440Version | undefined {
  const match = PATTERN.exec(text.trim())
  if (!match) return undefined
  const [, epoch, release, preLabel, preNumber, postDash, postLabel, postNumber, devLabel, devNumber, local] = match
  return {
    epoch: epoch === undefined ? 0 : Number(epoch),
    release: release!.split('.').map(Number),
    ...(preLabel === undefined ? {} : {pre: {label: PRE_LABEL[preLabel.toLowerCase()]!, number: Number(preNumber ?? 0)}}),
    ...(postDash !== undefined || postLabel !== undefined ? {post: Number(postDash ?? postNumber ?? 0)} : {}),
    ...(devLabel === undefined ? {} : {dev: Number(devNumber ?? 0)}),
    ...(local === undefined ? {} : {local: local.toLowerCase().split(/[-_.]/).map((part) => (/^\d+$/.test(part) ? Number(part) : part))}),
  }
}

export function isPrerelease(version: Pep440Version): boolean {
  return version.pre !== undefined || version.dev !== undefined
}

function compareNumbers(a: number, b: number): number {
  return a < b ? -1 : a > b ? 1 : 0
}

function compareRelease(a: readonly number[], b: readonly number[]): number {
  for (let index = 0; index < Math.max(a.length, b.length); index++) {
    const order = compareNumbers(a[index] ?? 0, b[index] ?? 0)
    if (order !== 0) return order
  }
  return 0
}

const PRE_RANK = {a: 0, b: 1, rc: 2}

/** The pre-release part as a sortable pair: a dev release of a final version sorts before its pre-releases. */
function preKey(version: Pep440Version): [number, number] {
  if (version.pre) return [PRE_RANK[version.pre.label], version.pre.number]
  if (version.dev !== undefined && version.post === undefined) return [-1, 0]
  return [3, 0]
}

function compareLocal(a: Pep440Version['local'], b: Pep440Version['local']): number {
  if (a === undefined || b === undefined) return a === b ? 0 : a === undefined ? -1 : 1
  for (let index = 0; index < Math.max(a.length, b.length); index++) {
    const x = a[index]
    const y = b[index]
    if (x === undefined || y === undefined) return x === undefined ? -1 : 1
    if (typeof x !== typeof y) return typeof x === 'number' ? 1 : -1
    const order = typeof x === 'number' ? compareNumbers(x, y as number) : x < (y as string) ? -1 : x > (y as string) ? 1 : 0
    if (order !== 0) return order
  }
  return 0
}

/** Negative, zero or positive as `a` sorts before, with or after `b` (PEP 440 ordering). */
export function compareVersions(a: Pep440Version, b: Pep440Version): number {
  const [aPre, aPreNumber] = preKey(a)
  const [bPre, bPreNumber] = preKey(b)
  return (
    compareNumbers(a.epoch, b.epoch) ||
    compareRelease(a.release, b.release) ||
    compareNumbers(aPre, bPre) ||
    compareNumbers(aPreNumber, bPreNumber) ||
    compareNumbers(a.post ?? -1, b.post ?? -1) ||
    compareNumbers(a.dev ?? Number.POSITIVE_INFINITY, b.dev ?? Number.POSITIVE_INFINITY) ||
    compareLocal(a.local, b.local)
  )
}

/** The version without its local part. */
function publicOf(version: Pep440Version): Pep440Version {
  const {local: _local, ...rest} = version
  return rest
}

/** The release prefix `prefix` (epoch and segments of a `==X.Y.*`) holds `version`. */
function prefixMatches(version: Pep440Version, prefix: Pep440Version): boolean {
  return version.epoch === prefix.epoch && prefix.release.every((segment, index) => (version.release[index] ?? 0) === segment)
}

/** Whether one clause (`>=1.2`, `==1.*` ...) admits the version. Unparseable clauses admit nothing. */
function clauseMatches(clause: string, version: Pep440Version, text: string): boolean {
  const operator = /^(===|~=|==|!=|<=|>=|<|>)/.exec(clause)?.[1]
  if (!operator) return false
  const target = clause.slice(operator.length).trim()
  if (operator === '===') return target.toLowerCase() === text.trim().toLowerCase()
  const wildcard = target.endsWith('.*')
  const spec = parseVersion(wildcard ? target.slice(0, -2) : target)
  if (!spec) return false
  const candidate = spec.local === undefined ? publicOf(version) : version
  switch (operator) {
    case '==':
      return wildcard ? prefixMatches(version, spec) : compareVersions(candidate, spec) === 0
    case '!=':
      return wildcard ? !prefixMatches(version, spec) : compareVersions(candidate, spec) !== 0
    case '<=':
      return compareVersions(candidate, spec) <= 0
    case '>=':
      return compareVersions(candidate, spec) >= 0
    case '~=':
      return compareVersions(candidate, spec) >= 0 && prefixMatches(version, {epoch: spec.epoch, release: spec.release.slice(0, -1)})
    case '<':
      // `<3.1` does not admit 3.1's own pre-releases unless it names a pre-release itself.
      if (compareVersions(candidate, spec) >= 0) return false
      return isPrerelease(spec) || !isPrerelease(candidate) || compareRelease(candidate.release, spec.release) !== 0 || candidate.epoch !== spec.epoch
    case '>':
      // `>3.1` does not admit 3.1's post-releases (unless it names one), nor 3.1 with a local part.
      if (compareVersions(candidate, spec) <= 0) return false
      if (spec.post === undefined && candidate.post !== undefined && candidate.epoch === spec.epoch && compareRelease(candidate.release, spec.release) === 0 && candidate.pre === undefined && spec.pre === undefined) return false
      return compareVersions(publicOf(version), spec) !== 0
    default:
      return false
  }
}

/** The clauses of a specifier set (`>=1.2, <2`; '' for any version). */
function clausesOf(specifier: string): string[] {
  return specifier.split(',').map((clause) => clause.trim()).filter(Boolean)
}

/** Whether a specifier set asks for pre-releases: one of its inclusive or exclusive clauses names a pre-release. */
export function specifierAllowsPrereleases(specifier: string): boolean {
  return clausesOf(specifier).some((clause) => {
    const operator = /^(===|~=|==|!=|<=|>=|<|>)/.exec(clause)?.[1]
    if (!operator || operator === '!=') return false
    const version = parseVersion(clause.slice(operator.length).trim().replace(/\.\*$/, ''))
    return version !== undefined && isPrerelease(version)
  })
}

/** Whether every clause of the specifier set admits `text` (a pre-release only when `prereleases`). */
export function specifierMatches(specifier: string, text: string, prereleases = specifierAllowsPrereleases(specifier)): boolean {
  const version = parseVersion(text)
  const clauses = clausesOf(specifier)
  // A string that is not PEP 440 can only be selected by `===` (arbitrary equality).
  if (!version) return clauses.length > 0 && clauses.every((clause) => clause.startsWith('===') && clause.slice(3).trim().toLowerCase() === text.trim().toLowerCase())
  if (isPrerelease(version) && !prereleases) return false
  return clauses.every((clause) => clauseMatches(clause, version, text))
}

/** The newest of `versions` the specifier admits (pre-releases only when it asks for them, or `prereleases`); undefined when none. */
export function maxSatisfying(versions: readonly string[], specifier: string, prereleases = specifierAllowsPrereleases(specifier)): string | undefined {
  let best: {text: string; version: Pep440Version} | undefined
  for (const text of versions) {
    const version = parseVersion(text)
    if (!version || !specifierMatches(specifier, text, prereleases)) continue
    if (!best || compareVersions(version, best.version) > 0) best = {text, version}
  }
  return best?.text
}

/**
 * The step from `from` up to `to`: `major` when the epoch or the first release segment differs,
 * `minor` for the second, `patch` for anything smaller (later segments, pre/post/dev releases);
 * undefined when `to` is not newer or either is not a version.
 */
export function releaseStep(from: string, to: string): 'major' | 'minor' | 'patch' | undefined {
  const a = parseVersion(from)
  const b = parseVersion(to)
  if (!a || !b || compareVersions(b, a) <= 0) return undefined
  if (a.epoch !== b.epoch || (a.release[0] ?? 0) !== (b.release[0] ?? 0)) return 'major'
  if ((a.release[1] ?? 0) !== (b.release[1] ?? 0)) return 'minor'
  return 'patch'
}
