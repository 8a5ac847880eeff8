// Owns "did you mean": the closest of the names that would have been valid, when it is close enough
// to be a misspelling rather than a different word.
import {distance} from 'fastest-levenshtein'

export function closest(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined
  let bestDistance = Number.POSITIVE_INFINITY
  for (const candidate of candidates) {
    const d = distance(word.toLowerCase(), candidate.toLowerCase())
    // On a tie, a candidate the word starts (nodejs22 -> nodejs22.x) reads as the intended one.
    const better = d < bestDistance || (d === bestDistance && candidate.toLowerCase().startsWith(word.toLowerCase()) && !best?.toLowerCase().startsWith(word.toLowerCase()))
    if (better) [best, bestDistance] = [candidate, d]
  }
  // A third of the word (at least 1, at most 3 edits) still reads as the same word misspelt.
  const allowed = Math.min(3, Math.max(1, Math.ceil(word.length / 3)))
  return best !== undefined && bestDistance <= allowed ? best : undefined
}

/** ` Did you mean "x"?` or '' when nothing is close. */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  const match = closest(word, candidates)
  return match === undefined ? '' : ` Did you mean "${match}"?`
}
