// Owns turning LayersEvents into stderr text: progress only on a TTY and never under --json or
// --quiet (each line ending with what the command adds: the AWS commands' request budget); notices
// (info) unless --json or --quiet; warnings always (as text, coloured by severity when the stream
// allows, or kept for the --json result).
import type {Problem} from '../errors/index.js'
import type {EmitEvent, LayersEvent} from '../events.js'
import {formatProblem} from './render.js'
import {redact} from './redact.js'
import {colorEnabled, paint, toneOf} from './style.js'

export interface Reporter {
  emit: EmitEvent
  /** Warnings seen so far, for the --json result. */
  warnings: Problem[]
  /** Clears a progress line left on the terminal. */
  done(): void
}

export function createReporter(options: {json: boolean; quiet?: boolean; stream?: NodeJS.WriteStream; progressSuffix?: () => string | undefined}): Reporter {
  const stream = options.stream ?? process.stderr
  const showProgress = !options.json && !options.quiet && stream.isTTY === true && process.env.CI !== 'true'
  // Warnings coloured by severity as the stream allows (NO_COLOR, FORCE_COLOR, a terminal).
  const color = colorEnabled({env: process.env, isTTY: stream.isTTY === true, json: options.json})
  const warnings: Problem[] = []
  let progressShown = false

  const clearProgress = (): void => {
    if (progressShown) {
      stream.write('\r\u001B[2K')
      progressShown = false
    }
  }

  const emit = (event: LayersEvent): void => {
    switch (event.type) {
      case 'warning': {
        warnings.push(event.warning)
        if (!options.json) {
          clearProgress()
          const line = formatProblem(event.warning)
          const severity = `${event.warning.severity} ${event.warning.code}`
          stream.write((color ? line.replace(severity, paint(toneOf(event.warning.severity), severity, true)) : line) + '\n')
        }
        break
      }
      case 'progress': {
        if (!showProgress) break
        const count = event.total === undefined ? '' : ` [${event.current ?? 0}/${event.total}]`
        const suffix = options.progressSuffix?.()
        stream.write(`\r\u001B[2K${progressLine(`${event.phase}${count} ${event.message}${suffix ? `; ${suffix}` : ''}`, stream.columns)}`)
        progressShown = true
        break
      }
      case 'info': {
        if (!options.json && !options.quiet) {
          clearProgress()
          stream.write(redact(event.message) + '\n')
        }
        break
      }
    }
  }

  return {emit, warnings, done: clearProgress}
}

/**
 * One progress line, kept to one terminal row so `\r` can overwrite it: cut to `columns - 1` when the
 * terminal reports its width; whole when it reports none or 0 (some terminals and pseudo-terminals do),
 * as a cut there would lose every character.
 */
export function progressLine(text: string, columns: number | undefined): string {
  const line = redact(text)
  return columns !== undefined && columns > 1 ? line.slice(0, columns - 1) : line
}
