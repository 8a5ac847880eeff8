// Owns what Ctrl-C (SIGINT) and SIGTERM do to a command that does work worth finishing cleanly. The
// first signal aborts the run's AbortSignal (its reason names the signal) and says on stderr that the
// work in flight is being finished and recorded; the services then start nothing new, finish or record
// what is in flight, remove their temp files and throw InterruptedError with what was done and what
// was not (rendered by the base command, exit 130, or 143 for SIGTERM). A second signal exits at once:
// the 'exit' handlers remove the temp files still held (src/fsutil/atomic.ts, write-file-atomic) and
// every write on disk is atomic (temp + rename, SQLite transactions), so nothing is left half-written.
import {ExitCode, type InterruptSignal} from '../errors/index.js'

export interface Interrupt {
  signal: AbortSignal
  /** Removes the handlers (the default signal behaviour comes back). */
  dispose(): void
}

const SIGNALS: InterruptSignal[] = ['SIGINT', 'SIGTERM']

export function installInterrupt(options: {stderr?: NodeJS.WritableStream; exit?: (code: number) => void} = {}): Interrupt {
  const stderr = options.stderr ?? process.stderr
  const exit = options.exit ?? ((code: number) => process.exit(code))
  const controller = new AbortController()
  const handler = (received: NodeJS.Signals): void => {
    const name: InterruptSignal = received === 'SIGTERM' ? 'SIGTERM' : 'SIGINT'
    if (controller.signal.aborted) {
      stderr.write(`\n${name} again: stopping now; run the command again to finish what was left.\n`)
      exit(name === 'SIGTERM' ? ExitCode.terminated : ExitCode.interrupted)
      return
    }
    stderr.write(`\n${name}: finishing the work in flight and recording it, starting nothing new (${name === 'SIGINT' ? 'Ctrl-C' : 'SIGTERM'} again stops at once).\n`)
    controller.abort(Object.assign(new Error(`Interrupted by ${name}`), {name: 'AbortError', signal: name}))
  }
  for (const name of SIGNALS) process.on(name, handler)
  return {
    signal: controller.signal,
    dispose: () => {
      for (const name of SIGNALS) process.off(name, handler)
    },
  }
}
