// The interrupt mechanism (src/cli/interrupt.ts, compiled in dist/) in a child process that holds a
// temp file (as a build writing its zip does) and never finishes on its own: the first SIGINT aborts
// the signal and says so; a second SIGINT exits at once with 130 (a second SIGTERM with 143), and the
// temp file is removed on the way out.
import {spawn} from 'node:child_process'
import {existsSync, mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {pathToFileURL} from 'node:url'
import {afterEach, describe, expect, it} from 'vitest'
import {REPO_ROOT} from '../support/cli.js'

const dist = (file: string) => pathToFileURL(path.join(REPO_ROOT, 'dist/src', file)).href

let dir: string
afterEach(() => rmSync(dir, {recursive: true, force: true}))

function holder(temp: string) {
  const script = `
    import {writeFileSync} from 'node:fs'
    import {installInterrupt} from ${JSON.stringify(dist('cli/interrupt.js'))}
    import {trackTemp} from ${JSON.stringify(dist('fsutil/atomic.js'))}
    const interrupt = installInterrupt()
    trackTemp(${JSON.stringify(temp)})
    writeFileSync(${JSON.stringify(temp)}, 'half a zip')
    interrupt.signal.addEventListener('abort', () => process.stdout.write('aborted:' + interrupt.signal.reason.signal + '\\n'))
    process.stdout.write('ready\\n')
    setInterval(() => {}, 1000) // work that does not stop by itself
  `
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {stdio: ['ignore', 'pipe', 'pipe']})
  let stdout = ''
  let stderr = ''
  const waiters: Array<() => void> = []
  const seen = () => {
    for (const check of [...waiters]) check()
  }
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk
    seen()
  })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk
    seen()
  })
  const ended = new Promise<{code: number | null; signal: NodeJS.Signals | null}>((resolve) => child.on('close', (code, signal) => resolve({code, signal})))
  /** Resolves once the child printed all of these (on stdout or stderr). */
  const printed = (...texts: string[]) =>
    new Promise<void>((resolve) => {
      const check = () => {
        if (texts.every((text) => stdout.includes(text) || stderr.includes(text))) {
          waiters.splice(waiters.indexOf(check), 1)
          resolve()
        }
      }
      waiters.push(check)
      check()
    })
  return {child, ended, printed, output: () => ({stdout, stderr})}
}

describe('installInterrupt', () => {
  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('first %s aborts the signal; the second exits at once with %i and removes the temp files still held', async (signal, code) => {
    dir = mkdtempSync(path.join(tmpdir(), 'layers-interrupt-'))
    const temp = path.join(dir, `.pending.${process.pid}.0123abcd.tmp`)
    const run = holder(temp)
    await run.printed('ready')
    expect(existsSync(temp)).toBe(true)
    run.child.kill(signal)
    await run.printed(`aborted:${signal}`, `${signal}: finishing the work in flight`)
    run.child.kill(signal)
    const ended = await run.ended
    expect(ended, run.output().stderr).toEqual({code, signal: null})
    expect(run.output().stderr).toContain(`${signal} again: stopping now`)
    expect(existsSync(temp)).toBe(false)
  })
})
