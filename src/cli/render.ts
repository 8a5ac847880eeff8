// Owns how errors look and where they go: human text on stderr, or the JSON envelope on stdout under
// --json. The one place that turns a LayersError into output (commands, oclif's parse errors and the
// entry's own, src/cli/main.ts, all come through writeError); everything passes through redact().
import {formatLocation, shortenMessage, type LayersError, type Problem} from '../errors/index.js'
import {withSchemaVersion} from './json-output.js'
import {redact} from './redact.js'

export interface ErrorEnvelope {
  schemaVersion: number
  error: {
    code: string
    message: string
    hint?: string
    location?: string
    fault: 'user' | 'tool'
    exitCode: number
    problems?: Array<Omit<Problem, 'location'> & {location?: string}>
    details?: Record<string, unknown>
  }
}

export function errorEnvelope(error: LayersError): ErrorEnvelope {
  const body: ErrorEnvelope['error'] = {
    code: error.code,
    message: redact(shortenMessage(error.message)),
    fault: error.fault,
    exitCode: error.exitCode,
  }
  if (error.hint) body.hint = redact(shortenMessage(error.hint))
  if (error.location) body.location = formatLocation(error.location)
  if (error.problems.length > 0) {
    body.problems = error.problems.map((problem) => ({
      ...problem,
      message: redact(shortenMessage(problem.message)),
      ...(problem.hint ? {hint: redact(shortenMessage(problem.hint))} : {}),
      location: problem.location ? formatLocation(problem.location) : undefined,
    }))
  }
  if (Object.keys(error.details).length > 0) body.details = JSON.parse(redact(JSON.stringify(error.details)))
  return withSchemaVersion('error', {error: body})
}

/** One problem as a line an editor or CI log can jump to: `file:line:col: error CODE message`. */
export function formatProblem(problem: Problem): string {
  const where = problem.location ? `${formatLocation(problem.location)}: ` : ''
  const hint = problem.hint ? `\n    ${shortenMessage(problem.hint)}` : ''
  return redact(`${where}${problem.severity} ${problem.code} ${shortenMessage(problem.message)}${hint}`)
}

export function renderErrorText(error: LayersError, debug = false): string {
  const lines: string[] = []
  for (const problem of error.problems) lines.push(formatProblem(problem))
  const where = error.location ? `${formatLocation(error.location)}: ` : ''
  lines.push(`Error [${error.code}]: ${where}${shortenMessage(error.message)}`)
  if (error.hint) lines.push(`Hint: ${shortenMessage(error.hint)}`)
  if (debug && error.cause instanceof Error && error.cause.stack) lines.push(error.cause.stack)
  if (debug && error.stack) lines.push(error.stack)
  return redact(lines.join('\n')) + '\n'
}

/** Writes `error` as every command reports it: the JSON envelope on stdout under --json, else text on stderr. */
export async function writeError(error: LayersError, options: {json: boolean; debug: boolean}): Promise<void> {
  if (options.json) await written(process.stdout, JSON.stringify(errorEnvelope(error), null, 2) + '\n')
  else await written(process.stderr, renderErrorText(error, options.debug))
}

/**
 * Writes `text` and resolves once the stream has handed it (and everything written before it) to the
 * OS. this.exit ends in process.exit, which drops what a pipe has not taken yet (a long problem list
 * on a piped stderr would lose its final `Error [...]` line), so every exit path waits for this first.
 */
export function written(stream: NodeJS.WritableStream, text: string): Promise<void> {
  // The process exits next: a reader that went away (EPIPE) must not turn the exit code into an
  // uncaught stream error.
  if (stream.listenerCount('error') === 0) stream.on('error', () => {})
  return new Promise((resolve) => {
    stream.write(text, () => resolve())
  })
}
