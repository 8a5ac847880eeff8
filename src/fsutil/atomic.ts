// Owns crash-safe file output: a file is written under a temporary name beside its target, flushed,
// then renamed over it, so a reader (or the next run after a kill) sees the old file or the new one,
// never half of one. Small files go through write-file-atomic (npm's own); streamed artifacts use
// withAtomicOutput. Also owns the names of the temp files and directories layers writes
// (`.<label>.<pid>.<hex>.tmp`, the owner's pid in the name): the ones this process holds are removed
// synchronously if it exits before it is done with them (a second Ctrl-C), and removeDeadTemps
// removes the ones killed runs left (owner gone, older than this run), never a live run's.
import {randomBytes} from 'node:crypto'
import {rmSync} from 'node:fs'
import {mkdir, open, readdir, rename, rm, stat} from 'node:fs/promises'
import path from 'node:path'

export async function writeFileAtomically(file: string, data: string | Buffer, mode?: number): Promise<void> {
  await mkdir(path.dirname(file), {recursive: true})
  // Loaded on first write, so commands that only read do not pay for it at start-up.
  const {default: writeFileAtomic} = await import('write-file-atomic')
  await writeFileAtomic(file, data, {fsync: true, ...(mode === undefined ? {} : {mode})})
}

/**
 * Runs `produce` with a temporary path beside `file`; when it succeeds the temp file is fsynced and
 * renamed to `file`; when it fails the temp file is removed and the old `file` is left as it was.
 */
export async function withAtomicOutput<T>(file: string, produce: (tempPath: string) => Promise<T>): Promise<T> {
  await mkdir(path.dirname(file), {recursive: true})
  const temp = tempPath(path.dirname(file), path.basename(file))
  const untrack = trackTemp(temp)
  try {
    const result = await produce(temp)
    const handle = await open(temp, 'r+')
    try {
      await handle.sync()
    } finally {
      await handle.close()
    }
    await rename(temp, file)
    return result
  } catch (error) {
    await rm(temp, {force: true})
    throw error
  } finally {
    untrack()
  }
}

/** A fresh temp path in `dir`: `.<label>.<pid>.<8 hex>.tmp`. */
export function tempPath(dir: string, label: string): string {
  return path.join(dir, `.${label}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`)
}

const TEMP_NAME = /^\..*\.(\d+)\.[0-9a-f]{8}\.tmp$/
/** Names earlier versions of layers wrote in .layers/build: a pending zip (pid in the name) and a spool directory (no pid). */
const LEGACY_PENDING = /^\.pending-(\d+)-[0-9a-f]{8}\.zip$/
const LEGACY_SPOOL = /^\.spool-[A-Za-z0-9]{6}$/
const LEGACY_MAX_AGE_MS = 24 * 60 * 60 * 1000

/** The pid of the process that owns a temp name, or undefined when the name is not one of layers' temp names. */
export function tempOwnerPid(name: string): number | undefined {
  const match = TEMP_NAME.exec(name) ?? LEGACY_PENDING.exec(name)
  return match ? Number(match[1]) : undefined
}

const liveTemps = new Set<string>()
let exitHook = false

/** Registers a temp file or directory this process is writing; the returned function forgets it (once it is renamed or removed). */
export function trackTemp(temp: string): () => void {
  if (!exitHook) {
    exitHook = true
    process.once('exit', removeTrackedTempsSync)
  }
  liveTemps.add(temp)
  return () => liveTemps.delete(temp)
}

/** Removes, synchronously, every temp path this process still holds (runs on exit, e.g. a second Ctrl-C). */
export function removeTrackedTempsSync(): void {
  for (const temp of liveTemps) {
    try {
      rmSync(temp, {recursive: true, force: true})
    } catch {
      // best effort: the next run's removeDeadTemps takes what is left
    }
  }
  liveTemps.clear()
}

/** Whether a process with this pid exists (EPERM: it exists, owned by another user). */
export function isProcessAlive(pid: number): boolean {
  if (pid === process.pid) return true
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** When this process started, in ms since the epoch. */
const RUN_STARTED_MS = Date.now() - process.uptime() * 1000

/**
 * Removes the temp files and directories under `root` (down to `depth` levels) that runs killed before
 * they could clean up left behind: those whose owner pid no longer runs and that were last changed
 * before this process started. A live run's temp files (its pid is alive, or it is still writing
 * them) are left alone, so two builds at once never take each other's files. Returns the removed paths.
 */
export async function removeDeadTemps(root: string, depth = 3): Promise<string[]> {
  const removed: string[] = []
  const visit = async (dir: string, level: number): Promise<void> => {
    let entries
    try {
      entries = await readdir(dir, {withFileTypes: true})
    } catch {
      return
    }
    for (const entry of entries) {
      const full = path.join(dir, entry.name)
      const pid = tempOwnerPid(entry.name)
      const legacySpool = pid === undefined && entry.isDirectory() && LEGACY_SPOOL.test(entry.name)
      if (pid !== undefined || legacySpool) {
        const changed = await lastChangeMs(full, entry.isDirectory())
        if (changed === undefined) continue
        const dead = pid === undefined ? changed < Date.now() - LEGACY_MAX_AGE_MS : !isProcessAlive(pid) && changed < RUN_STARTED_MS
        if (dead) {
          await rm(full, {recursive: true, force: true})
          removed.push(full)
        }
        continue
      }
      if (entry.isDirectory() && level < depth) await visit(full, level + 1)
    }
  }
  await visit(root, 1)
  return removed
}

/** The newest mtime of a file, or of a directory and the entries directly in it. */
async function lastChangeMs(target: string, isDirectory: boolean): Promise<number | undefined> {
  try {
    let newest = (await stat(target)).mtimeMs
    if (isDirectory) {
      for (const name of await readdir(target)) {
        const inner = await stat(path.join(target, name)).catch(() => undefined)
        if (inner) newest = Math.max(newest, inner.mtimeMs)
      }
    }
    return newest
  } catch {
    return undefined
  }
}
