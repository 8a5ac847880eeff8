// Two processes writing lockfile.json at once: the inter-process lock lets one win, the file stays
// valid JSON, and the other reports the lock (ERR_LAYERS_LOCKFILE_BUSY) instead of corrupting it.
// A hand-broken lockfile is reported with its line and column, never with a stack trace.
import {execFile} from 'node:child_process'
import {cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
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

/** A process that holds the lock for `holdMs` while it writes layer `name`. */
function writer(file: string, name: string, holdMs: number): Promise<{code: number; stdout: string}> {
  const io = pathToFileURL(path.join(REPO_ROOT, 'dist', 'src', 'lock', 'io.js')).href
  const script = `
    const {updateLockfile} = await import(${JSON.stringify(io)})
    try {
      await updateLockfile(${JSON.stringify(file)}, async (lock) => {
        await new Promise((resolve) => setTimeout(resolve, ${holdMs}))
        return {...lock, layers: {...lock.layers, [${JSON.stringify(name)}]: {kind: 'dir', inputs: 'sha256-x', artifacts: {x86_64: {architectures: ['x86_64']}}}}}
      }, {waitMs: 300})
      console.log('wrote')
    } catch (error) {
      console.log(error.code)
      process.exitCode = error.exitCode
    }`
  return new Promise((resolve) => {
    execFile(process.execPath, ['--input-type=module', '-e', script], (error, stdout) => resolve({code: error ? Number(error.code) : 0, stdout: stdout.trim()}))
  })
}

describe('concurrent lockfile writers', () => {
  it('lets one win and makes the other report the lock', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'layers-lock-'))
    temps.push(dir)
    const file = path.join(dir, 'lockfile.json')
    const [a, b] = await Promise.all([writer(file, 'a', 1500), writer(file, 'b', 1500)])
    const outcomes = [a.stdout, b.stdout].sort()
    expect(outcomes).toEqual(['ERR_LAYERS_LOCKFILE_BUSY', 'wrote'])
    expect([a.code, b.code].sort()).toEqual([0, 1])
    const lock = parseLockfile(file, readFileSync(file, 'utf8'))
    expect(Object.keys(lock.layers)).toHaveLength(1)
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
