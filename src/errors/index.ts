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
    hint: 'This is a bug in layers or an unexpected environment. Re-run with LAYERS_DEBUG=1 for the stack trace and report it.',
  })
}

export function formatLocation(location: SourceLocation): string {
  return `${location.file}:${location.line}:${location.column}`
}
