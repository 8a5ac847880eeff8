// Runs the built `layers` binary on a pseudo-terminal (stdin, stdout and stderr all a TTY, 120x40), as
// a user at a terminal does, and answers its y/N question: python3's pty module (standard library)
// holds the terminal; once the transcript shows `[y/N] ` it types `answer` (bytes, e.g. "y\r",
// "\r", "\u0003" for Ctrl-C, "\u0004" for Ctrl-D). A question that comes without an answer given
// gets Ctrl-D, so a run never hangs on it. Event-driven: the answer goes when the prompt is seen.
import {execFile} from 'node:child_process'
import {BIN} from './cli.js'
import {exitCodeOf} from './cli.js'

const DRIVER = String.raw`
import fcntl, os, pty, struct, sys, termios
answer = bytes.fromhex(sys.argv[1])
pid, fd = pty.fork()
if pid == 0:
    fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack('HHHH', 40, 120, 0, 0))
    os.execv(sys.argv[2], sys.argv[2:])
out = b''
answered = False
while True:
    try:
        chunk = os.read(fd, 65536)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
    if not answered and b'[y/N] ' in out:
        os.write(fd, answer or b'\x04')
        answered = True
_, status = os.waitpid(pid, 0)
sys.stdout.buffer.write(out)
sys.stdout.flush()
sys.exit(os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status))
`

export interface PtyResult {
  /** The CLI's exit code (128 + signal number when a signal ended it). */
  code: number
  /** Everything the terminal showed (stdout and stderr together; \r\n as \n). */
  output: string
  /** Whether the CLI asked its y/N question. */
  asked: boolean
}

export function runOnTerminal(args: readonly string[], options: {cwd: string; env: NodeJS.ProcessEnv; answer?: string; timeoutMs?: number}): Promise<PtyResult> {
  const answer = Buffer.from(options.answer ?? '', 'latin1').toString('hex')
  return new Promise((resolve) => {
    execFile(
      'python3',
      ['-c', DRIVER, answer, process.execPath, BIN, ...args],
      {cwd: options.cwd, env: {LAYERS_DEBUG: '', ...options.env}, timeout: options.timeoutMs ?? 60_000, maxBuffer: 16 * 1024 * 1024},
      (error, stdout) => {
        const output = stdout.replace(/\r\n/g, '\n')
        resolve({code: exitCodeOf(error).code, output, asked: output.includes('[y/N] ')})
      },
    )
  })
}
