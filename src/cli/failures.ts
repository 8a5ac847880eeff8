// Owns how failures on many targets are said: the same error (code and message, once the target's own
// names are taken out) on several targets is said once, with the list of targets and the hint.
import {paint, stdoutStyle} from './style.js'
import {wrapParagraph} from './table.js'

export interface TargetFailureLine {
  /** The target as shown, e.g. `common (x86_64) prod (222222222222) eu-west-1`. */
  where: string
  /** The target's own names (account id and name, region, function), masked when comparing messages. */
  names: readonly string[]
  error: {code: string; message: string; hint?: string}
}

export interface FailureGroup {
  code: string
  /** The message of the first target of the group. */
  message: string
  hint?: string
  where: string[]
}

function mask(text: string, names: readonly string[]): string {
  let out = text
  for (const name of [...names].filter((name) => name.length > 0).sort((a, b) => b.length - a.length)) out = out.replaceAll(name, '\u0000')
  return out
}

/** Failures grouped by code, message and hint with each target's names masked, in first-seen order. */
export function groupFailures(failures: readonly TargetFailureLine[]): FailureGroup[] {
  const groups = new Map<string, FailureGroup>()
  for (const failure of failures) {
    const key = [failure.error.code, mask(failure.error.message, failure.names), mask(failure.error.hint ?? '', failure.names)].join('\u0001')
    const group = groups.get(key)
    if (group) group.where.push(failure.where)
    else groups.set(key, {code: failure.error.code, message: failure.error.message, ...(failure.error.hint ? {hint: failure.error.hint} : {}), where: [failure.where]})
  }
  return [...groups.values()]
}

/**
 * The failures as text fitting `columns`: one target as `where: [CODE] message`, several as the message
 * once and the targets under it; the hint after either.
 */
export function renderFailures(failures: readonly TargetFailureLine[], color: boolean, columns = stdoutStyle().columns): string[] {
  const lines: string[] = []
  const wrap = (text: string, indent: number) => wrapParagraph(text, {indent, columns})
  for (const group of groupFailures(failures)) {
    const code = `[${group.code}]`
    const head = group.where.length === 1 ? `${group.where[0]}: ${code} ${group.message}` : `${group.where.length} targets failed the same way: ${code} ${group.message}`
    lines.push(wrap(head, 2).replace(code, paint('bad', code, color)))
    if (group.where.length > 1) for (const where of group.where) lines.push(`  ${where}`)
    if (group.hint) lines.push(`  hint: ${wrap(group.hint, 8)}`)
  }
  return lines
}
