// Owns asking before destruction (prune's deletions, publish's grant removals, attach to a protected
// account). A service that is about to destroy or change something hands the plan to a `Confirm`
// before the first write; the CLI's confirm (terminalConfirm) says yes at once for --yes, else shows
// the plan on stderr and asks y/N when stdin and stderr are terminals, else refuses
// (ERR_LAYERS_CONFIRMATION_REQUIRED, exit 2, naming what would be done and saying to pass --yes).
// Enter, "n", anything but y/yes, and end of input (Ctrl-D) answer no; Ctrl-C (or a SIGINT/SIGTERM
// while asking) is an interrupt: InterruptedError, exit 130/143. Either way nothing was done.
import {createInterface} from 'node:readline'
import {InterruptedError, UserInputError, type ErrorCode, type InterruptSignal} from '../errors/index.js'
import {redact} from './redact.js'

export interface ConfirmRequest {
  /** What the command would do, a line ending in a colon: "layers prune would delete 3 layer versions (1.2 MB):". */
  plan: string
  /** One line per thing destroyed or changed. */
  items: string[]
  /** The question: "Delete them?". */
  question: string
  /** What was not done when the answer is no or the command refuses: "nothing was deleted". */
  notDone: string
  /** Machine-readable plan, carried by the refusal's details. */
  details?: Record<string, unknown>
}

/** true: go ahead; false: the user said no. Throws the refusal (no terminal) or InterruptedError. */
export type Confirm = (request: ConfirmRequest) => Promise<boolean>

export const CONFIRMATION_REQUIRED: ErrorCode = 'ERR_LAYERS_CONFIRMATION_REQUIRED'

/** Items a refusal message quotes before "and N more" (the details carry them all). */
const MESSAGE_ITEMS = 10

export interface TerminalConfirmOptions {
  /** --yes: never ask. */
  yes: boolean
  stdin?: NodeJS.ReadStream
  stderr?: NodeJS.WriteStream
  /** Called before the plan is shown (clears a progress line). */
  beforeAsk?: () => void
  /** The run's interrupt signal: a SIGINT/SIGTERM while asking ends the question as Ctrl-C does. */
  signal?: AbortSignal
}

export function terminalConfirm(options: TerminalConfirmOptions): Confirm {
  const stdin = options.stdin ?? process.stdin
  const stderr = options.stderr ?? process.stderr
  return async (request) => {
    if (options.yes) return true
    if (stdin.isTTY !== true || stderr.isTTY !== true) throw refusal(request)
    options.beforeAsk?.()
    stderr.write(redact([request.plan, ...request.items.map((item) => `  ${item}`)].join('\n')) + '\n')
    const answer = await ask(`${request.question} [y/N] `, stdin, stderr, options.signal)
    if (answer === 'yes') return true
    if (answer === 'no') {
      stderr.write(`Not confirmed: ${request.notDone}.\n`)
      return false
    }
    throw new InterruptedError(answer, `Interrupted by ${answer} at the question: ${request.notDone}.`, {hint: 'Run the command again and answer y, or pass --yes.'})
  }
}

/** The error of a run that would destroy or change something and has no terminal to ask on. */
export function refusal(request: ConfirmRequest): UserInputError {
  const shown = request.items.slice(0, MESSAGE_ITEMS)
  const more = request.items.length - shown.length
  const list = shown.join('; ') + (more > 0 ? `; and ${more} more` : '')
  return new UserInputError(CONFIRMATION_REQUIRED, `${request.plan} ${list}. There is no terminal to ask on (stdin and stderr must both be one), so ${request.notDone}.`, {
    hint: 'Pass --yes to go ahead without being asked (as in CI), --dry-run (prune, attach, publish) to only see the plan, or run the command on a terminal to see the plan and answer.',
    details: {items: request.items, ...request.details},
  })
}

type Answer = 'yes' | 'no' | InterruptSignal

function ask(question: string, stdin: NodeJS.ReadStream, stderr: NodeJS.WriteStream, signal: AbortSignal | undefined): Promise<Answer> {
  return new Promise((resolve) => {
    const rl = createInterface({input: stdin, output: stderr, terminal: true})
    let settled = false
    const finish = (answer: Answer): void => {
      if (settled) return
      settled = true
      signal?.removeEventListener('abort', onAbort)
      rl.close()
      resolve(answer)
    }
    const onAbort = (): void => {
      stderr.write('\n')
      finish(InterruptedError.signalOf(signal!))
    }
    if (signal?.aborted) return finish(InterruptedError.signalOf(signal))
    signal?.addEventListener('abort', onAbort, {once: true})
    // The terminal is in raw mode while asking: Ctrl-C arrives as a key, not as a signal.
    rl.on('SIGINT', () => {
      stderr.write('^C\n')
      finish('SIGINT')
    })
    // End of input (Ctrl-D, a closed stdin) before an answer: no.
    rl.on('close', () => {
      if (!settled) stderr.write('\n')
      finish('no')
    })
    rl.question(question, (line) => finish(/^\s*y(es)?\s*$/i.test(line) ? 'yes' : 'no'))
  })
}
