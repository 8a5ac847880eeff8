// Owns what a Python Lambda runtime is as a wheel target: its CPython version and ABI (cp39 ... cp314),
// the glibc of the OS it runs on (python3.9 to 3.11 on Amazon Linux 2, glibc 2.26; python3.12 and
// later on Amazon Linux 2023, glibc 2.34) and the machine of each architecture; and which wheel tags
// such a target accepts, most preferred first (the order of `packaging.tags.sys_tags()` on that
// interpreter), so a wheel file is chosen as pip would choose it there; its marker variables and
// whether a Requires-Python admits it. Pure.
import type {Architecture} from '../manifest/types.js'
import {specifierMatches} from './pep440.js'

export interface PythonRuntime {
  runtime: string
  major: 3
  minor: number
  /** glibc of the runtime's OS. */
  glibc: [2, number]
  os: 'Amazon Linux 2' | 'Amazon Linux 2023'
}

export const PYTHON_RUNTIMES: readonly PythonRuntime[] = [
  {runtime: 'python3.9', major: 3, minor: 9, glibc: [2, 26], os: 'Amazon Linux 2'},
  {runtime: 'python3.10', major: 3, minor: 10, glibc: [2, 26], os: 'Amazon Linux 2'},
  {runtime: 'python3.11', major: 3, minor: 11, glibc: [2, 26], os: 'Amazon Linux 2'},
  {runtime: 'python3.12', major: 3, minor: 12, glibc: [2, 34], os: 'Amazon Linux 2023'},
  {runtime: 'python3.13', major: 3, minor: 13, glibc: [2, 34], os: 'Amazon Linux 2023'},
  {runtime: 'python3.14', major: 3, minor: 14, glibc: [2, 34], os: 'Amazon Linux 2023'},
]

export const PYTHON_RUNTIME_NAMES: readonly string[] = PYTHON_RUNTIMES.map((entry) => entry.runtime)

export function pythonRuntime(runtime: string): PythonRuntime | undefined {
  return PYTHON_RUNTIMES.find((entry) => entry.runtime === runtime)
}

/** The machine name wheels use for a Lambda architecture. */
export function wheelMachine(architecture: Architecture): 'x86_64' | 'aarch64' {
  return architecture === 'arm64' ? 'aarch64' : 'x86_64'
}

/** One runtime on one architecture: what a locked wheel set is resolved for. */
export interface PythonTarget {
  runtime: PythonRuntime
  architecture: Architecture
}

export function describeTarget(target: PythonTarget): string {
  return `${target.runtime.runtime} ${target.architecture}`
}

/** The `--python-version` of a target, e.g. `3.12`. */
export function pythonVersion(target: PythonTarget): string {
  return `${target.runtime.major}.${target.runtime.minor}`
}

/**
 * The PEP 508 marker variables of the target's interpreter: CPython X.Y on Linux, the machine of the
 * architecture. The patch version is unknown (Lambda updates it), so `.0`, as uv takes
 * `--python-version X.Y`.
 */
export function markerEnvironment(target: PythonTarget): Record<string, string> {
  const full = `${pythonVersion(target)}.0`
  return {
    python_version: pythonVersion(target),
    python_full_version: full,
    implementation_version: full,
    implementation_name: 'cpython',
    platform_python_implementation: 'CPython',
    os_name: 'posix',
    sys_platform: 'linux',
    platform_system: 'Linux',
    platform_machine: wheelMachine(target.architecture),
    platform_release: '',
    platform_version: '',
    extra: '',
  }
}

/**
 * Whether a file's Requires-Python admits the target's interpreter (X.Y.0, as the lock resolves it).
 * Absent, or with a clause that is not PEP 440 (old uploads carry such), it does: pip and uv ignore those.
 */
export function admitsPython(requiresPython: string | undefined, target: PythonTarget): boolean {
  if (requiresPython === undefined || requiresPython.trim() === '') return true
  const clauses = requiresPython.split(',').map((clause) => clause.trim()).filter(Boolean)
  if (clauses.some((clause) => !/^(===|~=|==|!=|<=|>=|<|>)\s*v?\d+(\.\d+)*(\.\*)?$/.test(clause))) return true
  return specifierMatches(clauses.join(','), `${pythonVersion(target)}.0`, true)
}

/**
 * Linux platform tags of the target, most specific first: manylinux_2_G down to the oldest glibc of
 * the machine (with the legacy manylinux2014/2010/1 aliases at 2.17/2.12/2.5), then linux_<machine>
 * is deliberately left out (such wheels are built for one distribution and are not portable).
 */
export function platformTags(target: PythonTarget): string[] {
  const machine = wheelMachine(target.architecture)
  const oldest = machine === 'x86_64' ? 5 : 17
  const legacy: Record<number, string> = {17: 'manylinux2014', 12: 'manylinux2010', 5: 'manylinux1'}
  const tags: string[] = []
  for (let minor = target.runtime.glibc[1]; minor >= oldest; minor--) {
    tags.push(`manylinux_2_${minor}_${machine}`)
    if (legacy[minor]) tags.push(`${legacy[minor]}_${machine}`)
  }
  return tags
}

/** Every `interpreter-abi-platform` tag the target's CPython accepts, most preferred first. */
export function supportedTags(target: PythonTarget): string[] {
  const {major, minor} = target.runtime
  const platforms = platformTags(target)
  const cp = `cp${major}${minor}`
  const tags: string[] = []
  const each = (interpreter: string, abi: string, list: readonly string[]): void => {
    for (const platform of list) tags.push(`${interpreter}-${abi}-${platform}`)
  }
  each(cp, cp, platforms)
  each(cp, 'abi3', platforms)
  each(cp, 'none', platforms)
  for (let older = minor - 1; older >= 2; older--) each(`cp${major}${older}`, 'abi3', platforms)
  const pythons = [`py${major}${minor}`, `py${major}`, ...Array.from({length: minor}, (_, index) => `py${major}${minor - 1 - index}`)]
  for (const python of pythons) each(python, 'none', platforms)
  tags.push(`${cp}-none-any`)
  for (const python of pythons) tags.push(`${python}-none-any`)
  return tags
}

export interface WheelName {
  /** Normalized project name. */
  name: string
  version: string
  /** The expanded `interpreter-abi-platform` tags of the file name. */
  tags: string[]
}

/** Parses a wheel file name (PEP 427 / binary distribution format); undefined when it is not one. */
export function parseWheelName(filename: string): WheelName | undefined {
  if (!filename.endsWith('.whl')) return undefined
  const parts = filename.slice(0, -4).split('-')
  if (parts.length !== 5 && parts.length !== 6) return undefined
  const [name, version] = parts as [string, string]
  const [interpreters, abis, platforms] = parts.slice(-3).map((part) => part.split('.')) as [string[], string[], string[]]
  const tags = interpreters.flatMap((interpreter) => abis.flatMap((abi) => platforms.map((platform) => `${interpreter}-${abi}-${platform}`)))
  return {name: normalizeName(name), version, tags}
}

const SDIST_SUFFIXES = ['.tar.gz', '.zip'] as const

/** The project and version of a source distribution file name (`name-version.tar.gz` or `.zip`); undefined when it is not one. */
export function parseSdistName(filename: string): {name: string; version: string} | undefined {
  const suffix = SDIST_SUFFIXES.find((ending) => filename.endsWith(ending))
  if (!suffix) return undefined
  const stem = filename.slice(0, -suffix.length)
  const dash = stem.lastIndexOf('-')
  if (dash <= 0 || dash === stem.length - 1) return undefined
  return {name: normalizeName(stem.slice(0, dash)), version: stem.slice(dash + 1)}
}

/** PEP 503 normalized project name. */
export function normalizeName(name: string): string {
  return name.replace(/[-_.]+/g, '-').toLowerCase()
}

/** The rank of a wheel for the target (lower is preferred), or undefined when the target cannot install it. */
export function wheelRank(filename: string, ranking: ReadonlyMap<string, number>): number | undefined {
  const wheel = parseWheelName(filename)
  if (!wheel) return undefined
  let best: number | undefined
  for (const tag of wheel.tags) {
    const rank = ranking.get(tag)
    if (rank !== undefined && (best === undefined || rank < best)) best = rank
  }
  return best
}

export function tagRanking(target: PythonTarget): Map<string, number> {
  return new Map(supportedTags(target).map((tag, index) => [tag, index]))
}
