// Owns the small helpers the build, python and team-lock benchmarks share: a fresh work folder, the
// median of the timed runs, and how a time is printed.
import {mkdirSync, rmSync} from 'node:fs'

/** Empties (or creates) `dir` and returns it. */
export function fresh(dir) {
  rmSync(dir, {recursive: true, force: true})
  mkdirSync(dir, {recursive: true})
  return dir
}

/** The middle value (the upper one of an even count). */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]
}

export const fmt = (seconds) => `${seconds.toFixed(2)} s`
