// Owns the error hierarchy: every failure `layers` reports is a LayersError with a stable code, a
// message saying what was wrong and where, a hint saying how to fix it, and who is at fault (which
// decides the exit code). Rendering lives in src/cli/render.ts, nowhere else.

/** Stable, documented codes: scripts may match on them. */
export type ErrorCode = `ERR_LAYERS_${string}`

/** A place in a source file, 1-based as editors show it. */
export interface SourceLocation {
  file: string
  line: number
  column: number
}

/** One finding of a checker (manifest validation, import check ...), reported together with others. */
export interface Problem {
  severity: 'error' | 'warning'
  code: ErrorCode
  message: string
  hint?: string
  location?: SourceLocation
}

export interface LayersErrorOptions {
  hint?: string
  cause?: unknown
  location?: SourceLocation
  /** Several problems reported at once (e.g. every manifest error). */
  problems?: Problem[]
  /** Extra machine-readable context (layer, function, account, region ...). */
  details?: Record<string, unknown>
}

/** Exit codes every command documents: 0 success, 1 operational failure or findings, 2 invalid input. */
export const ExitCode = {ok: 0, failure: 1, invalidInput: 2, interrupted: 130, terminated: 143} as const

export abstract class LayersError extends Error {
  readonly code: ErrorCode
  readonly hint?: string
  readonly location?: SourceLocation
  readonly problems: Problem[]
  readonly details: Record<string, unknown>
  abstract readonly fault: 'user' | 'tool'

  constructor(code: ErrorCode, message: string, options: LayersErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : {cause: options.cause})
    this.name = new.target.name
    this.code = code
    this.hint = options.hint
    this.location = options.location
    this.problems = options.problems ?? []
    this.details = options.details ?? {}
  }

  get exitCode(): number {
    return this.fault === 'user' ? ExitCode.invalidInput : ExitCode.failure
  }
}

/** The user's input is wrong (manifest, lockfile, flags, a package that cannot exist): exit 2. */
export class UserInputError extends LayersError {
  readonly fault = 'user' as const
}

/** Something failed while doing the work (network, AWS, filesystem, a lock held elsewhere): exit 1. */
export class OperationalError extends LayersError {
  readonly fault = 'tool' as const
}

/** Findings above the threshold the user set (audit --fail-on, validate warnings in CI): exit 1. */
export class FindingsError extends LayersError {
  readonly fault = 'tool' as const
}

export type InterruptSignal = 'SIGINT' | 'SIGTERM'

/**
 * The user stopped the run (Ctrl-C, or SIGTERM from a supervisor): the work in flight was finished or
 * recorded and `details` says what was done and what was not. Exit 130 for SIGINT (the shell's 128 + 2),
 * 143 for SIGTERM (128 + 15), as shells, CI runners and container supervisors expect.
 */
export class InterruptedError extends LayersError {
  readonly fault = 'user' as const
  readonly signal: InterruptSignal

  constructor(signal: InterruptSignal, message: string, options: LayersErrorOptions = {}) {
    super('ERR_LAYERS_INTERRUPTED', message, {hint: 'Run the same command again to finish what was not done.', ...options, details: {signal, ...options.details}})
    this.signal = signal
  }

  override get exitCode(): number {
    return this.signal === 'SIGTERM' ? ExitCode.terminated : ExitCode.interrupted
  }

  /** The signal an interrupt's AbortSignal was aborted for (its reason's `signal`); SIGINT when it names none. */
  static signalOf(signal: AbortSignal): InterruptSignal {
    return (signal.reason as {signal?: unknown} | undefined)?.signal === 'SIGTERM' ? 'SIGTERM' : 'SIGINT'
  }
}

/** Wraps anything that is not a LayersError, so it is rendered like one (never a bare stack trace). */
export function toLayersError(error: unknown): LayersError {
  if (error instanceof LayersError) return error
  const message = error instanceof Error ? error.message : String(error)
  return new OperationalError('ERR_LAYERS_INTERNAL', `Unexpected failure: ${message}`, {
    cause: error,
    hint: 'This is a bug in layers or an unexpected environment. Re-run with --debug (or LAYERS_DEBUG=1) for the stack trace and report it.',
  })
}

export function formatLocation(location: SourceLocation): string {
  return `${location.file}:${location.line}:${location.column}`
}

/** How many characters of a value a message quotes before cutting it. */
export const QUOTED_VALUE_MAX = 200

/**
 * A value as it is quoted in a message: cut to `max` characters with "… (N more characters)", so a
 * multi-megabyte input never floods the terminal or a CI log.
 */
export function shorten(text: string, max = QUOTED_VALUE_MAX): string {
  if (text.length <= max) return text
  return `${text.slice(0, max)}… (${text.length - max} more characters)`
}

/** A value as JSON.stringify writes it in a message (strings quoted, control characters escaped), cut like shorten(). */
export function quoteValue(value: unknown, max = QUOTED_VALUE_MAX): string {
  if (typeof value !== 'string') return shorten(JSON.stringify(value) ?? String(value), max)
  if (value.length <= max) return JSON.stringify(value)
  return `${JSON.stringify(value.slice(0, max))}… (${value.length - max} more characters)`
}

/** Longest message or hint rendered whole; anything longer is cut (a last guard; values are quoted with quoteValue). */
export const MESSAGE_MAX = 4000

/**
 * A message with every quoted run ("...") longer than QUOTED_VALUE_MAX cut like quoteValue(), and
 * the whole cut at MESSAGE_MAX: the renderer applies it to every message, so a value echoed by any
 * check (an 8 MB description, a 10 MB key) reaches the terminal at a readable length.
 */
export function shortenMessage(text: string): string {
  const quoted = text.length <= QUOTED_VALUE_MAX ? text : text.replace(/"((?:[^"\\]|\\.)*)"/g, (whole, inner: string) => (inner.length > QUOTED_VALUE_MAX ? `"${inner.slice(0, QUOTED_VALUE_MAX)}"… (${inner.length - QUOTED_VALUE_MAX} more characters)` : whole))
  return shorten(quoted, MESSAGE_MAX)
}
