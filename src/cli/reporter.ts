// Owns turning LayersEvents into stderr text: progress only on a TTY and never under --json or
// --quiet; notices (info) unless --json or --quiet; warnings always (as text, or kept for the --json
// result).
import type {Problem} from '../errors/index.js'
import type {EmitEvent, LayersEvent} from '../events.js'
import {formatProblem} from './render.js'
import {redact} from './redact.js'

export interface Reporter {
  emit: EmitEvent
  /** Warnings seen so far, for the --json result. */
  warnings: Problem[]
  /** Clears a progress line left on the terminal. */
  done(): void
}

export function createReporter(options: {json: boolean; quiet?: boolean; stream?: NodeJS.WriteStream}): Reporter {
  const stream = options.stream ?? process.stderr
  const showProgress = !options.json && !options.quiet && stream.isTTY === true && process.env.CI !== 'true'
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
          stream.write(formatProblem(event.warning) + '\n')
        }
        break
      }
      case 'progress': {
        if (!showProgress) break
        const count = event.total === undefined ? '' : ` [${event.current ?? 0}/${event.total}]`
        const columns = stream.columns ?? 100
        stream.write(`\r\u001B[2K${redact(`${event.phase}${count} ${event.message}`).slice(0, columns - 1)}`)
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
