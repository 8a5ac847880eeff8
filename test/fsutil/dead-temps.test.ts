// removeDeadTemps: the temp files of a run that is gone (its pid no longer runs) and that were last
// changed before this run started are removed; a live run's temp files (another build running at the
// same time) and files that are not temp files are kept.
import {spawn} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {removeDeadTemps, tempOwnerPid} from '../../src/fsutil/atomic.js'

let dir: string

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'layers-dead-temps-'))
})

afterEach(() => {
  rmSync(dir, {recursive: true, force: true})
})

/** The pid of a process that has exited (spawned and waited for). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], {stdio: 'ignore'})
  await new Promise((resolve) => child.on('exit', resolve))
  return child.pid!
}

function make(rel: string, options: {dir?: boolean; ageMs?: number} = {}): string {
  const full = path.join(dir, rel)
  mkdirSync(path.dirname(full), {recursive: true})
  if (options.dir) {
    mkdirSync(full)
    writeFileSync(path.join(full, 'contents'), 'x')
  } else {
    writeFileSync(full, 'x')
  }
  if (options.ageMs) {
    const at = new Date(Date.now() - options.ageMs)
    if (options.dir) utimesSync(path.join(full, 'contents'), at, at)
    utimesSync(full, at, at)
  }
  return full
}

const HOUR = 60 * 60 * 1000

describe('removeDeadTemps', () => {
  it('removes a dead run\'s temp files and keeps a live run\'s', async () => {
    const dead = await deadPid()
    const live = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], {stdio: 'ignore'})
    try {
      const deadPending = make(`deps/x86_64/..pending.${dead}.0123abcd.tmp.${dead}.89abcdef.tmp`, {ageMs: HOUR})
      const deadSpool = make(`.spool.${dead}.0123abcd.tmp`, {dir: true, ageMs: HOUR})
      const legacyPending = make(`deps/x86_64/.pending-${dead}-0123abcd.zip`, {ageMs: HOUR})
      const livePending = make(`deps/x86_64/..pending.${live.pid}.0123abcd.tmp.${live.pid}.89abcdef.tmp`, {ageMs: HOUR})
      const liveSpool = make(`.spool.${live.pid}.0123abcd.tmp`, {dir: true, ageMs: HOUR})
      const ownTemp = make(`deps/x86_64/.pending.${process.pid}.0123abcd.tmp`, {ageMs: HOUR})
      const zip = make('deps/x86_64/' + 'a'.repeat(64) + '.zip', {ageMs: HOUR})
      const removed = await removeDeadTemps(dir)
      expect(removed.sort()).toEqual([deadPending, deadSpool, legacyPending].sort())
      for (const kept of [livePending, liveSpool, ownTemp, zip]) expect(existsSync(kept), kept).toBe(true)
    } finally {
      live.kill('SIGKILL')
    }
  })

  it('keeps a dead pid\'s temp file changed after this run started (the pid is another host\'s or namespace\'s, still writing)', async () => {
    const dead = await deadPid()
    const fresh = make(`.spool.${dead}.0123abcd.tmp`, {dir: true})
    expect(await removeDeadTemps(dir)).toEqual([])
    expect(existsSync(fresh)).toBe(true)
  })

  it('removes spool directories of earlier versions (no pid in the name) only when a day old', async () => {
    const old = make('.spool-Ab12Cd', {dir: true, ageMs: 25 * HOUR})
    const recent = make('.spool-Ef34Gh', {dir: true, ageMs: HOUR})
    expect(await removeDeadTemps(dir)).toEqual([old])
    expect(existsSync(recent)).toBe(true)
  })

  it('reads the owner pid from every temp name layers writes', () => {
    expect(tempOwnerPid('.lockfile.json.123.0123abcd.tmp')).toBe(123)
    expect(tempOwnerPid('.spool.45.0123abcd.tmp')).toBe(45)
    expect(tempOwnerPid('.pending-67-0123abcd.zip')).toBe(67)
    expect(tempOwnerPid('lockfile.json')).toBeUndefined()
    expect(tempOwnerPid('notes.tmp')).toBeUndefined()
  })
})
