// Runs the built `layers` binary as a user does (node bin/run.js ...), for CLI tests.
import {execFile} from 'node:child_process'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
export const BIN = path.join(REPO_ROOT, 'bin', 'run.js')

export interface CliResult {
  code: number
  stdout: string
  stderr: string
  /** stdout parsed as JSON (for --json runs), undefined when it is not JSON. */
  json: any // eslint-disable-line @typescript-eslint/no-explicit-any -- each test asserts the shape it expects
}

export function runCli(args: readonly string[], options: {cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number} = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      {cwd: options.cwd ?? REPO_ROOT, env: {...process.env, LAYERS_DEBUG: '', ...options.env}, timeout: options.timeoutMs ?? 120_000, maxBuffer: 64 * 1024 * 1024},
      (error, stdout, stderr) => {
        let json: unknown
        try {
          json = JSON.parse(stdout)
        } catch {
          json = undefined
        }
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0
        resolve({code, stdout, stderr, json})
      },
    )
  })
}
