// Owns parsing `--older-than` durations: a whole number and a unit (m minutes, h hours, d days,
// w weeks), several parts allowed (`1w2d`), e.g. `90d`, `12h`, `30m`. Bad input names the flag.
import {UserInputError} from '../errors/index.js'

const UNIT_MS: Record<string, number> = {m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000}

/** Milliseconds of a duration like `30d`; throws UserInputError (exit 2) on anything else. */
export function parseDuration(text: string, flag = '--older-than'): number {
  const trimmed = text.trim()
  if (/^(\d+[mhdw])+$/.test(trimmed)) {
    let total = 0
    for (const [, amount, unit] of trimmed.matchAll(/(\d+)([mhdw])/g)) total += Number(amount) * UNIT_MS[unit as string]!
    if (total > 0 && Number.isSafeInteger(total)) return total
  }
  throw new UserInputError('ERR_LAYERS_FLAG_VALUE', `${flag} ${JSON.stringify(text)} is not a duration.`, {
    hint: `Give a positive whole number and a unit: m (minutes), h (hours), d (days) or w (weeks), e.g. ${flag} 30d or ${flag} 1w2d.`,
    details: {flag, value: text},
  })
}
