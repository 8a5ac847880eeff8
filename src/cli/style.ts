// Owns how human output is styled: whether colour is on (NO_COLOR, FORCE_COLOR, a TTY), the width
// tables fit, and the one way accounts and dates are written. Colour codes come from node:util's
// styleText; whether to use them is decided here, never by the stream.
import {styleText} from 'node:util'

export type Env = Readonly<Record<string, string | undefined>>

/** The width human output fits when stdout is not a terminal and COLUMNS says nothing (as `ls`). */
export const DEFAULT_COLUMNS = 80

/**
 * Whether text written to a stream should carry colour. FORCE_COLOR (any value but `0`/`false`) turns
 * it on and FORCE_COLOR=0 off, and takes precedence over NO_COLOR as in Node itself; NO_COLOR (any
 * non-empty value, no-color.org) turns it off; otherwise colour is on for a terminal that is not `dumb`.
 * --json output never carries colour (the caller passes json).
 */
export function colorEnabled(options: {env: Env; isTTY: boolean; json?: boolean}): boolean {
  if (options.json) return false
  const force = options.env.FORCE_COLOR
  if (force !== undefined) return !['0', 'false'].includes(force.trim().toLowerCase())
  if (options.env.NO_COLOR !== undefined && options.env.NO_COLOR !== '') return false
  return options.isTTY && options.env.TERM !== 'dumb'
}

/** The columns a table fits: the terminal's when it reports any, else COLUMNS, else DEFAULT_COLUMNS. */
export function outputColumns(options: {env: Env; isTTY: boolean; columns?: number}): number {
  if (options.isTTY && options.columns !== undefined && options.columns > 0) return options.columns
  const fromEnv = Number.parseInt(options.env.COLUMNS ?? '', 10)
  if (Number.isInteger(fromEnv) && fromEnv > 0) return fromEnv
  return DEFAULT_COLUMNS
}

/** How stdout is styled in this process (the human result; --json never renders through it). */
export function stdoutStyle(): {color: boolean; columns: number} {
  const stream = process.stdout
  const isTTY = stream.isTTY === true
  return {color: colorEnabled({env: process.env, isTTY}), columns: outputColumns({env: process.env, isTTY, columns: stream.columns})}
}

export type Tone = 'good' | 'bad' | 'warn' | 'info' | 'dim' | 'strong'

const TONES: Record<Tone, Parameters<typeof styleText>[0]> = {
  good: 'green',
  bad: 'red',
  warn: 'yellow',
  info: 'cyan',
  dim: 'gray',
  strong: 'bold',
}

/** `text` in a tone when colour is on; the text as it is otherwise. */
export function paint(tone: Tone | undefined, text: string, color: boolean): string {
  if (!color || tone === undefined || text === '') return text
  return styleText(TONES[tone], text, {validateStream: false})
}

/** The tone of an outcome or severity word: what went wrong red, what needs a look yellow, done green. */
export function toneOf(word: string): Tone | undefined {
  switch (word) {
    case 'error':
    case 'failed':
    case 'refused':
    case 'conflict':
    case 'missing':
    case 'unreadable':
    case 'OVER':
      return 'bad'
    case 'warning':
    case 'not-started':
    case 'outdated':
      return 'warn'
    case 'info':
    case 'would-publish':
    case 'would-update':
      return 'info'
    case 'published':
    case 'updated':
    case 'adopted':
    case 'deleted':
    case 'built':
    case 'locked':
    case 'ok':
      return 'good'
    case 'unchanged':
    case 'hit':
    case 'up to date':
      return 'dim'
    default:
      return undefined
  }
}

/** An account as every table and message shows it: `dev (111111111111)`, or the id alone when it has no name. */
export function accountLabel(accountId: string, accountName?: string): string {
  return accountName && accountName !== accountId ? `${accountName} (${accountId})` : accountId
}

/** A target as `dev (111111111111) eu-west-1`. */
export function targetLabel(target: {accountId: string; accountName?: string; region: string}): string {
  return `${accountLabel(target.accountId, target.accountName)} ${target.region}`
}

/**
 * The one date format of human output: ISO 8601 in UTC to the second, `2026-12-02T00:07:33Z`. Takes
 * what AWS and the history store hold (`2026-12-02T00:07:33.123Z`, `2026-12-02T00:07:33.000+0000`);
 * text that is no date is returned as it is.
 */
export function formatDate(value: string | number | Date | undefined | null): string {
  if (value === undefined || value === null || value === '') return '-'
  const text = typeof value === 'string' ? value.replace(/([+-]\d{2})(\d{2})$/, '$1:$2') : value
  const date = new Date(text)
  if (Number.isNaN(date.getTime())) return String(value)
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z')
}
