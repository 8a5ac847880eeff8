// Two processes writing lockfile.json at once: while one holds the inter-process lock, the other
// reports it (ERR_LAYERS_LOCKFILE_BUSY) instead of corrupting the file; the holder finishes and the
// file stays valid JSON, and the lock the holder kept past its refresh is gone once it lets go.
// Event-driven: the holder says when it has the lock and lets go when told.
// A hand-broken lockfile is reported with its line and column, never with a stack trace.
import {spawn} from 'node:child_process'
import {cpSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {pathToFileURL} from 'node:url'
import {afterEach, describe, expect, it} from 'vitest'
import {parseLockfile} from '../../src/lock/io.js'
import {REPO_ROOT, runCli} from '../support/cli.js'

const temps: string[] = []
afterEach(() => {
  for (const dir of temps.splice(0)) rmSync(dir, {recursive: true, force: true})
})

const IO = pathToFileURL(path.join(REPO_ROOT, 'dist', 'src', 'lock', 'io.js')).href

/**
 * A process that writes layer `name` under the lock. With `hold`, it prints `held` once it has the
 * lock and keeps it until a line arrives on its stdin, so the test decides when it lets go (no timing).
 */
function writer(file: string, name: string, hold: boolean): {held: Promise<void>; release(): void; done: Promise<{code: number; stdout: string}>} {
  const script = `
    const {updateLockfile} = await import(${JSON.stringify(IO)})
    try {
      await updateLockfile(${JSON.stringify(file)}, async (lock) => {
        if (${hold}) {
          process.stdout.write('held\\n')
          await new Promise((resolve) => process.stdin.once('data', resolve))
          process.stdin.pause()
        }
        return {...lock, layers: {...lock.layers, [${JSON.stringify(name)}]: {kind: 'dir', inputs: 'sha256-x', artifacts: {x86_64: {architectures: ['x86_64']}}}}}
      }, {waitMs: 200})
      console.log('wrote')
    } catch (error) {
      console.log(error.code)
      process.exitCode = error.exitCode
    }`
  let stdout = ''
  let held!: () => void
  const heldPromise = new Promise<void>((resolve) => (held = resolve))
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {stdio: ['pipe', 'pipe', 'inherit']})
  child.stdout.setEncoding('utf8')
  child.stdout.on('data', (chunk: string) => {
    stdout += chunk
    if (stdout.includes('held\n')) held()
  })
  const done = new Promise<{code: number; stdout: string}>((resolve) => {
    child.on('close', (code, signal) => {
      // A holder that died before taking the lock unblocks the test, which then fails on its output.
      held()
      resolve({code: code ?? (signal ? 128 : -1), stdout: stdout.replace('held\n', '').trim()})
    })
  })
  return {held: heldPromise, release: () => child.stdin.end('go\n'), done}
}

describe('concurrent lockfile writers', () => {
  it('makes a second writer report the lock while the first holds it, and lets the first finish', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'layers-lock-'))
    temps.push(dir)
    const file = path.join(dir, 'lockfile.json')
    const first = writer(file, 'a', true)
    await first.held
    // Held past proper-lockfile's first refresh (2 s): the holder's owner note must not make the refresh
    // take the lock for someone else's (it then stopped refreshing and never removed the directory).
    const {mtimeMs} = statSync(`${file}.lock`)
    await expect.poll(() => statSync(`${file}.lock`).mtimeMs, {message: 'the holder refreshes its lock directory', timeout: 8000, interval: 50}).not.toBe(mtimeMs)
    const second = await writer(file, 'b', false).done
    expect(second).toEqual({code: 1, stdout: 'ERR_LAYERS_LOCKFILE_BUSY'})
    first.release()
    expect(await first.done).toEqual({code: 0, stdout: 'wrote'})
    const lock = parseLockfile(file, readFileSync(file, 'utf8'))
    expect(Object.keys(lock.layers)).toEqual(['a'])
    // Released: the next writer gets the lock.
    expect(await writer(file, 'b', false).done).toEqual({code: 0, stdout: 'wrote'})
    expect(Object.keys(parseLockfile(file, readFileSync(file, 'utf8')).layers).sort()).toEqual(['a', 'b'])
  })

  it('reports a hand-broken lockfile with its position', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'layers-lock-'))
    temps.push(dir)
    cpSync(path.join(REPO_ROOT, 'test/manifest/corpus'), dir, {recursive: true})
    cpSync(path.join(dir, '12-unknown-layer.yaml'), path.join(dir, 'layers.yaml'))
    writeFileSync(path.join(dir, 'layers.yaml'), readFileSync(path.join(dir, 'layers.yaml'), 'utf8').replace('contnet', 'content'))
    writeFileSync(path.join(dir, 'lockfile.json'), '{\n  "lockfileVersion": 1,\n  "layers": {,}\n}\n')
    const result = await runCli(['validate'], {cwd: dir})
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/lockfile\.json:3:\d+/)
    expect(result.stderr).not.toMatch(/\n\s+at /)
  })
})
