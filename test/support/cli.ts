// Runs the built `layers` binary as a user does (node bin/run.js ...), for CLI tests. A run killed by
// a signal (a crash, the timeout) or that could not be spawned never passes for an ordinary exit:
// `signal` names the signal, `code` is 128 + its number as a shell reports it, and a spawn failure
// is code -1 with `spawnError`.
import {execFile} from 'node:child_process'
import {constants} from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
export const BIN = path.join(REPO_ROOT, 'bin', 'run.js')

export interface CliResult {
  code: number
  /** The signal that ended the process, or null when it exited by itself. */
  signal: NodeJS.Signals | null
  /** Why the process could not be run or read (spawn failure, output over maxBuffer). */
  spawnError?: string
  stdout: string
  stderr: string
  /** stdout parsed as JSON (for --json runs), undefined when it is not JSON. */
  json: any // eslint-disable-line @typescript-eslint/no-explicit-any -- each test asserts the shape it expects
}

export interface RunOptions {
  cwd?: string
  /** Added to the environment (process.env, or `baseEnv` when given). */
  env?: NodeJS.ProcessEnv
  /** The environment to start from instead of process.env. */
  baseEnv?: NodeJS.ProcessEnv
  timeoutMs?: number
}

/** The exit code of a finished child: its own, 128 + signal number when killed, -1 when it never ran. */
export function exitCodeOf(error: (Error & {code?: unknown; signal?: NodeJS.Signals | null}) | null): {code: number; signal: NodeJS.Signals | null; spawnError?: string} {
  if (!error) return {code: 0, signal: null}
  if (error.signal) return {code: 128 + (constants.signals[error.signal] ?? 0), signal: error.signal}
  if (typeof error.code === 'number') return {code: error.code, signal: null}
  return {code: -1, signal: null, spawnError: `${String(error.code ?? '')} ${error.message}`.trim()}
}

export function runCli(args: readonly string[], options: RunOptions = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      {cwd: options.cwd ?? REPO_ROOT, env: {...(options.baseEnv ?? process.env), LAYERS_DEBUG: '', ...options.env}, timeout: options.timeoutMs ?? 120_000, maxBuffer: 64 * 1024 * 1024},
      (error, stdout, stderr) => {
        let json: unknown
        try {
          json = JSON.parse(stdout)
        } catch {
          json = undefined
        }
        resolve({...exitCodeOf(error), stdout, stderr, json})
      },
    )
  })
}
