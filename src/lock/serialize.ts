// Owns the byte form of lockfile.json: fixed top-level key order, every other object's keys sorted,
// 2-space indent, final newline, so the same lock is always the same bytes (clean diffs, no churn).
import type {Lockfile} from './types.js'

const TOP_LEVEL_ORDER = ['lockfileVersion', 'layers']

/** `value` with every object's keys sorted (undefined members dropped), recursively. */
export function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys)
  if (value !== null && typeof value === 'object') {
    const sorted: Record<string, unknown> = {}
    for (const key of Object.keys(value).sort()) {
      const child = (value as Record<string, unknown>)[key]
      if (child !== undefined) sorted[key] = sortKeys(child)
    }
    return sorted
  }
  return value
}

export function serializeLockfile(lock: Lockfile): string {
  const ordered: Record<string, unknown> = {}
  const source = lock as unknown as Record<string, unknown>
  for (const key of TOP_LEVEL_ORDER) if (source[key] !== undefined) ordered[key] = sortKeys(source[key])
  for (const key of Object.keys(source).sort()) if (!(key in ordered) && source[key] !== undefined) ordered[key] = sortKeys(source[key])
  return JSON.stringify(ordered, null, 2) + '\n'
}

/** Canonical JSON of any value (sorted keys, no whitespace), for fingerprints. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value))
}
