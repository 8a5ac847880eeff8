// Two processes writing lockfile.json at once: while one holds the inter-process lock, the other
// reports it (ERR_LAYERS_LOCKFILE_BUSY) instead of corrupting the file; the holder finishes and the
// file stays valid JSON, and the lock the holder kept past its refresh is gone once it lets go.
// Writers that find a killed holder's lock all at once take it over one at a time; a hung holder's
// lock (unrefreshed past 10 s) and a dead holder's lock an earlier version left are taken over too.
// Event-driven: the holder says when it has the lock and lets go when told.
// A hand-broken lockfile is reported with its line and column, never with a stack trace.
import {spawn, spawnSync} from 'node:child_process'
import {cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync} from 'node:fs'
import {hostname, tmpdir} from 'node:os'
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
 * With `log`, it prints `ready` once loaded, starts when a line arrives (all contenders at once), and
 * appends `enter <name>` and `exit <name>` to that file around a short stay under the lock.
 */
function writer(file: string, name: string, hold: boolean, options: {log?: string; waitMs?: number} = {}): {held: Promise<void>; release(): void; done: Promise<{code: number; stdout: string}>; kill(): void; stop(): void; resume(): void} {
  const script = `
    const {updateLockfile} = await import(${JSON.stringify(IO)})
    const {appendFileSync} = await import('node:fs')
    const log = ${JSON.stringify(options.log ?? null)}
    const line = () => new Promise((resolve) => process.stdin.once('data', resolve)).then(() => process.stdin.pause())
    if (log) {
      process.stdout.write('ready\\n')
      await line()
    }
    try {
      await updateLockfile(${JSON.stringify(file)}, async (lock) => {
        if (log) appendFileSync(log, 'enter ${name}\\n')
        if (${hold}) {
          process.stdout.write('held\\n')
          await line()
        }
        if (log) {
          await new Promise((resolve) => setTimeout(resolve, 30))
          appendFileSync(log, 'exit ${name}\\n')
        }
        return {...lock, layers: {...lock.layers, [${JSON.stringify(name)}]: {kind: 'dir', inputs: 'sha256-x', artifacts: {x86_64: {architectures: ['x86_64']}}}}}
      }, {waitMs: ${options.waitMs ?? 200}})
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
    if (stdout.includes(options.log ? 'ready\n' : 'held\n')) held()
  })
  const done = new Promise<{code: number; stdout: string}>((resolve) => {
    child.on('close', (code, signal) => {
      // A holder that died before taking the lock unblocks the test, which then fails on its output.
      held()
      resolve({code: code ?? (signal ? 128 : -1), stdout: stdout.replace(/^(held|ready)\n/m, '').trim()})
    })
  })
  return {held: heldPromise, release: () => child.stdin.end('go\n'), done, kill: () => child.kill('SIGKILL'), stop: () => child.kill('SIGSTOP'), resume: () => child.kill('SIGCONT')}
}

describe('concurrent lockfile writers', () => {
  it('makes a second writer report the lock while the first holds it, and lets the first finish', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'layers-lock-'))
    temps.push(dir)
    const file = path.join(dir, 'lockfile.json')
    const first = writer(file, 'a', true)
    await first.held
    // Held past the first refresh (2 s): the holder keeps its lock fresh, so it is never taken for a hung one's.
    const [note] = readdirSync(`${file}.lock`)
    const {mtimeMs} = statSync(`${file}.lock/${note}`)
    await expect.poll(() => statSync(`${file}.lock/${note}`).mtimeMs, {message: 'the holder refreshes its owner note', timeout: 8000, interval: 50}).not.toBe(mtimeMs)
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

  // A lock whose holder was killed is taken over by exactly one of the writers that find it at once:
  // each judges the holder dead, and a takeover that only checked and then removed let two of them
  // remove it (or remove the lock another had just taken) and both write. Fresh: the holder's pid alone
  // says it is dead; aged: its lock has also gone unrefreshed for longer than a live holder allows.
  it.each([['fresh', 0], ['aged', 60_000]])('lets the writers that find a killed holder\'s %s lock take turns, one at a time', async (_, ageMs) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'layers-lock-'))
    temps.push(dir)
    const file = path.join(dir, 'lockfile.json')
    const log = path.join(dir, 'turns.log')
    const killed = writer(file, 'killed', true)
    await killed.held
    killed.kill()
    await killed.done
    const lockDir = `${file}.lock`
    const past = new Date(Date.now() - ageMs)
    if (ageMs) for (const entry of [lockDir, ...readdirSync(lockDir).map((name) => path.join(lockDir, name))]) utimesSync(entry, past, past)
    const names = ['w1', 'w2', 'w3', 'w4', 'w5', 'w6']
    const writers = names.map((name) => writer(file, name, false, {log, waitMs: 20_000}))
    await Promise.all(writers.map((one) => one.held))
    for (const one of writers) one.release()
    const results = await Promise.all(writers.map((one) => one.done))
    expect(results).toEqual(names.map(() => ({code: 0, stdout: 'wrote'})))
    // One at a time: every enter is followed by the same writer's exit.
    const turns = readFileSync(log, 'utf8').trim().split('\n')
    expect(turns).toHaveLength(2 * names.length)
    for (let index = 0; index < turns.length; index += 2) expect(turns[index + 1], turns.join(', ')).toBe(turns[index]!.replace('enter', 'exit'))
    // No update lost, and nothing left beside the lockfile and the log.
    expect(Object.keys(parseLockfile(file, readFileSync(file, 'utf8')).layers).sort()).toEqual(names)
    expect(readdirSync(dir).sort()).toEqual(['lockfile.json', 'turns.log'])
  })

  it('takes over a live holder\'s lock left unrefreshed past 10 s (a hung holder), and a dead holder\'s lock an earlier version left', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'layers-lock-'))
    temps.push(dir)
    const file = path.join(dir, 'lockfile.json')
    const lockDir = `${file}.lock`
    const hung = writer(file, 'hung', true)
    await hung.held
    // Stopped, so it truly hangs: a holder whose event loop runs would refresh its note every 2 s, and
    // on a loaded machine the next writer starts after that refresh (CI failed so once).
    hung.stop()
    const past = new Date(Date.now() - 60_000)
    for (const entry of [lockDir, ...readdirSync(lockDir).map((name) => path.join(lockDir, name))]) utimesSync(entry, past, past)
    expect(await writer(file, 'b', false).done).toEqual({code: 0, stdout: 'wrote'})
    // The hung holder, let go, finishes its atomic write and leaves the lock it lost alone.
    hung.resume()
    hung.release()
    expect(await hung.done).toEqual({code: 0, stdout: 'wrote'})
    expect(readdirSync(dir)).toEqual(['lockfile.json'])

    // Earlier versions (proper-lockfile) left one `owner` note with the pid.
    const dead = spawnSync(process.execPath, ['-e', '']).pid
    mkdirSync(lockDir)
    writeFileSync(path.join(lockDir, 'owner'), JSON.stringify({pid: dead, host: hostname()}))
    expect(await writer(file, 'c', false).done).toEqual({code: 0, stdout: 'wrote'})
    expect(readdirSync(dir)).toEqual(['lockfile.json'])
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
