// Owns the target-platform and engine checks of one package version, against the platform of the
// layer (never the build host): npm's `os` / `cpu` / `libc` rules (a list of allowed values, `!x`
// excludes, `any`), and whether any release of a runtime's Node.js major satisfies `engines.node`.
import semver from 'semver'
import type {PackageVersion, TargetPlatform} from './types.js'

function allowed(value: string, list: string[] | string | undefined): boolean {
  if (list === undefined) return true
  const entries = typeof list === 'string' ? [list] : list
  if (entries.length === 0 || (entries.length === 1 && entries[0] === 'any')) return true
  let positives = 0
  let match = false
  for (const entry of entries) {
    if (entry.startsWith('!')) {
      if (entry.slice(1) === value) return false
    } else {
      positives++
      if (entry === value) match = true
    }
  }
  return positives === 0 || match
}

/** The fields of `pkg` that rule the platform out, e.g. `os darwin`; empty when it installs there. */
export function platformMismatch(pkg: Pick<PackageVersion, 'os' | 'cpu' | 'libc'>, platform: TargetPlatform): string[] {
  const problems: string[] = []
  if (!allowed(platform.os, pkg.os)) problems.push(`os ${[pkg.os].flat().join(',')}`)
  if (!allowed(platform.cpu, pkg.cpu)) problems.push(`cpu ${[pkg.cpu].flat().join(',')}`)
  if (!allowed(platform.libc, pkg.libc)) problems.push(`libc ${[pkg.libc].flat().join(',')}`)
  return problems
}

/** True when the package names os or cpu: only then can libc matter, and the full packument is worth fetching. */
export function isPlatformSpecific(pkg: Pick<PackageVersion, 'os' | 'cpu'>): boolean {
  return pkg.os !== undefined || pkg.cpu !== undefined
}

/** Node.js majors of Lambda runtime identifiers (`nodejs20.x` -> 20); other runtimes are ignored. */
export function nodeMajors(runtimes: readonly string[]): number[] {
  const majors = runtimes.flatMap((runtime) => {
    const match = /^nodejs(\d+)\.x$/.exec(runtime)
    return match ? [Number(match[1])] : []
  })
  return [...new Set(majors)].sort((a, b) => a - b)
}

/** The runtime majors for which no release satisfies `engines.node` (an invalid range counts as none). */
export function unsupportedNodeMajors(enginesNode: string | undefined, majors: readonly number[]): number[] {
  if (enginesNode === undefined || enginesNode.trim() === '' || enginesNode.trim() === '*') return []
  return majors.filter((major) => {
    try {
      return !semver.intersects(enginesNode, `>=${major}.0.0 <${major + 1}.0.0`, {loose: true})
    } catch {
      return false
    }
  })
}
