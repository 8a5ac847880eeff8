// Runs the built CLI and sends it SIGTERM once a condition holds (a request arrived, a wait began), for
// the interrupt tests: how it ended, how long after the signal, and its stdout.
import {spawn} from 'node:child_process'
import {BIN} from './cli.js'

export interface Interrupted {
  code: number | null
  /** Seconds from SIGTERM to the process's end. */
  seconds: number
  stdout: string
}

/** `node bin/run.js ...args` in `cwd` with `env` (the whole environment), SIGTERM sent when `ready()` first holds (polled every 5 ms); rejects when it ends before. */
export async function sigtermWhen(args: readonly string[], cwd: string, env: NodeJS.ProcessEnv, ready: () => boolean): Promise<Interrupted> {
  const child = spawn(process.execPath, [BIN, ...args], {cwd, env, stdio: ['ignore', 'pipe', 'pipe']})
  let stdout = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
  const ended = new Promise<{code: number | null; at: number}>((resolve) => child.on('close', (code) => resolve({code, at: performance.now()})))
  await new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      if (ready()) {
        clearInterval(timer)
        resolve()
      }
    }, 5)
    void ended.then(() => {
      clearInterval(timer)
      reject(new Error(`\`layers ${args.join(' ')}\` ended before it was interrupted: ${stdout}`))
    })
  })
  const sent = performance.now()
  child.kill('SIGTERM')
  const {code, at} = await ended
  return {code, seconds: (at - sent) / 1000, stdout}
}
