// Owns crash-safe file output: a file is written under a temporary name beside its target, flushed,
// then renamed over it, so a reader (or the next run after a kill) sees the old file or the new one,
// never half of one. Small files go through write-file-atomic (npm's own); streamed artifacts use
// withAtomicOutput.
import {randomBytes} from 'node:crypto'
import {mkdir, open, rename, rm} from 'node:fs/promises'
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
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`)
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
  }
}
