// Owns the inter-process lock beside a file (`<file>.lock`, a directory) that keeps two commands from
// interleaving their read-modify-write of it, and its takeover when the holder died. A lock is never
// seen without its owner note: the note (`owner-<random>.json`: pid and host) is written into a temp
// directory that is then renamed into place, which succeeds only while the lock is absent or an empty
// directory. Taking over a dead holder's lock is the removal of that holder's own note, by its unique
// name: of the processes that find the same dead holder, exactly one removes the note (the others get
// ENOENT), and a lock someone took meanwhile has another note, so it is never removed by mistake
// (removing the directory after checking its owner, as proper-lockfile's stale handling and our
// earlier takeover did, let two processes both take it). The emptied directory is then replaced by
// the next lock's rename, or removed on release; rmdir removes only an empty directory, never a lock.
import {randomBytes} from 'node:crypto'
import {mkdirSync, readdirSync, readFileSync, renameSync, rmdirSync, rmSync, statSync, unlinkSync, utimesSync, writeFileSync} from 'node:fs'
import {hostname} from 'node:os'
import path from 'node:path'
import {OperationalError} from '../errors/index.js'
import {isProcessAlive, tempPath, trackTemp} from '../fsutil/atomic.js'

/** A holder refreshes its note's mtime this often; a note unrefreshed for STALE_MS is a hung or foreign holder's, taken over. */
const REFRESH_MS = 2_000
const STALE_MS = 10_000
const POLL_MS = 100
/** Owner notes: ours (`owner-<hex>.json`), and the single `owner` of earlier versions (proper-lockfile with a note). */
const NOTE_NAME = /^owner(-[0-9a-f]{16}\.json)?$/

interface Owner {
  pid: number
  host: string
}

/** The locks this process holds (note → lock directory), released on exit. */
const heldLocks = new Map<string, string>()
process.once('exit', () => {
  for (const [note, lockDir] of heldLocks) release(lockDir, note)
})

/**
 * Runs `fn` holding the lock of `file`. A lock whose holder is a process of this host that no longer
 * runs is taken over at once, one not refreshed for STALE_MS (a hung holder, another host's) then; a
 * live one is waited for up to `waitMs`, then reported as ERR_LAYERS_LOCKFILE_BUSY.
 */
export async function withFileLock<T>(file: string, fn: () => Promise<T>, waitMs: number): Promise<T> {
  const lockDir = `${file}.lock`
  const note = path.join(lockDir, `owner-${randomBytes(8).toString('hex')}.json`)
  await acquire(file, lockDir, path.basename(note), waitMs)
  // Released on exit while held (a second Ctrl-C), so no lock outlives this process.
  heldLocks.set(note, lockDir)
  // A holder that stalls past STALE_MS may lose the lock (its note is removed); its write stays atomic.
  const refresh = setInterval(() => {
    if (!touch(note)) clearInterval(refresh)
  }, REFRESH_MS)
  refresh.unref()
  try {
    return await fn()
  } finally {
    clearInterval(refresh)
    heldLocks.delete(note)
    release(lockDir, note)
  }
}

async function acquire(file: string, lockDir: string, noteName: string, waitMs: number): Promise<void> {
  const deadline = Date.now() + waitMs
  const temp = tempPath(path.dirname(lockDir), path.basename(lockDir))
  const untrack = trackTemp(temp)
  try {
    const tempNote = path.join(temp, noteName)
    try {
      mkdirSync(temp)
      writeFileSync(tempNote, JSON.stringify({pid: process.pid, host: hostname()} satisfies Owner))
    } catch (error) {
      throw cannotLock(lockDir, error)
    }
    for (;;) {
      // Fresh as it lands, however long we waited: a lock must never look stale when it is taken.
      touch(tempNote)
      if (renamedIntoPlace(temp, lockDir)) return
      const held = readHolder(lockDir)
      if (held === 'gone') continue
      // Only the process whose unlink succeeds took it over; the others (ENOENT) find the next holder, or none.
      if (held && isStale(held) && removedNote(held.note)) continue
      if (Date.now() >= deadline) {
        throw new OperationalError('ERR_LAYERS_LOCKFILE_BUSY', `${file} is locked by another layers command${held?.owner ? ` (pid ${held.owner.pid} on ${held.owner.host})` : ''}.`, {
          hint: `Wait for that command to finish and run this one again. If no layers command is running, remove ${lockDir}.`,
        })
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS * (0.5 + Math.random())))
    }
  } finally {
    rmSync(temp, {recursive: true, force: true})
    untrack()
  }
}

/** Renames our prepared lock into place; false when a lock (a non-empty directory, or anything but a directory) is there. */
function renamedIntoPlace(temp: string, lockDir: string): boolean {
  try {
    renameSync(temp, lockDir)
    return true
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'ENOTDIR') return false
    throw cannotLock(lockDir, error)
  }
}

function cannotLock(lockDir: string, error: unknown): OperationalError {
  return new OperationalError('ERR_LAYERS_LOCKFILE_LOCK', `Cannot lock ${lockDir}: ${(error as Error).message}`, {cause: error, hint: `Check that ${path.dirname(lockDir)} is writable.`})
}

interface Holder {
  note: string
  /** Undefined when the note was cut short by a kill: then it is judged by its age alone. */
  owner: Owner | undefined
  /** The later of the note's and the directory's mtime (earlier versions refreshed the directory). */
  refreshedMs: number
}

/** The lock's holder; `gone` when the lock went (or was emptied) since the rename failed; undefined when it holds something other than one note (not ours to judge). */
function readHolder(lockDir: string): Holder | 'gone' | undefined {
  let names: string[]
  try {
    names = readdirSync(lockDir)
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'gone' : undefined
  }
  if (names.length === 0) return 'gone'
  const name = names.length === 1 && NOTE_NAME.test(names[0]!) ? names[0]! : undefined
  if (!name) return undefined
  const note = path.join(lockDir, name)
  try {
    return {note, owner: readOwner(note), refreshedMs: Math.max(statSync(note).mtimeMs, statSync(lockDir).mtimeMs)}
  } catch {
    return 'gone'
  }
}

function readOwner(note: string): Owner | undefined {
  try {
    return JSON.parse(readFileSync(note, 'utf8')) as Owner
  } catch {
    return undefined
  }
}

function isStale(held: Holder): boolean {
  if (Date.now() - held.refreshedMs > STALE_MS) return true
  const {owner} = held
  return owner !== undefined && owner.host === hostname() && owner.pid !== process.pid && !isProcessAlive(owner.pid)
}

function removedNote(note: string): boolean {
  try {
    unlinkSync(note)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT'
  }
}

function touch(file: string): boolean {
  try {
    const now = new Date()
    utimesSync(file, now, now)
    return true
  } catch {
    return false
  }
}

/** Removes our note, then the directory if it is still empty (a lock taken since is not: rmdir leaves it). */
function release(lockDir: string, note: string): void {
  try {
    unlinkSync(note)
    rmdirSync(lockDir)
  } catch {
    // ENOENT: taken over after we stalled; ENOTEMPTY: the next command's lock is already in place.
  }
}
