// Owns reading a number of milliseconds from an environment variable (LAYERS_LOCK_WAIT_MS,
// LAYERS_LEASE_MS, LAYERS_LEASE_WAIT_MS): unset or empty gives the default; anything but a whole
// number within the range is exit 2 (ERR_LAYERS_ENV) naming the variable, so no wait is unbounded.
import {quoteValue, UserInputError} from './errors/index.js'

export interface MillisecondsRange {
  fallback: number
  min: number
  max: number
  /** What the variable sets, for the hint (e.g. "how long to wait for ... to release the lock"). */
  purpose: string
  /** A good value, for the hint. */
  example: number
}

/** `value` (the variable `name`'s text) as a whole number of milliseconds within `range`. */
export function millisecondsFromEnv(name: string, value: string | undefined, range: MillisecondsRange): number {
  const text = value?.trim() ?? ''
  if (text === '') return range.fallback
  const ms = /^\d{1,9}$/.test(text) ? Number(text) : Number.NaN
  if (!Number.isInteger(ms) || ms < range.min || ms > range.max) {
    throw new UserInputError('ERR_LAYERS_ENV', `${name}=${quoteValue(value, 40)} is not a number of milliseconds from ${range.min} to ${range.max}.`, {
      hint: `Set ${name} to ${range.purpose}, e.g. ${range.example}, or unset it.`,
      details: {variable: name},
    })
  }
  return ms
}
