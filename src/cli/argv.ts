// Owns reading the global switches (--json, --debug, --quiet) straight from argv, as oclif's own
// jsonEnabled() does: the error renderer needs them for errors raised before or while the flags are
// parsed (an unknown command, an unknown flag), when there are no parsed flags to ask.

export const JSON_FLAG = ['--json'] as const
export const DEBUG_FLAG = ['--debug'] as const
export const QUIET_FLAG = ['--quiet', '-q'] as const

/** Whether one of `names` is among the arguments before `--` (after it everything is an argument). */
export function argvHasFlag(argv: readonly string[], names: readonly string[]): boolean {
  for (const arg of argv) {
    if (arg === '--') return false
    if (names.includes(arg)) return true
  }
  return false
}
