// Owns where a command's rendered result goes: stdout, or with --output FILE a file written
// atomically (a temp file beside it, renamed once everything is written, so a reader never sees half
// a report and a failed run leaves the old file as it was). Streamed output (audit --format jsonl)
// goes through the same writer, chunk by chunk.
import {createWriteStream} from 'node:fs'
import path from 'node:path'
import {finished} from 'node:stream/promises'
import {withAtomicOutput} from '../fsutil/atomic.js'
import {written} from './render.js'

/** Writes one chunk; resolves once the stream took it (so a slow reader holds the producer back). */
export type WriteChunk = (text: string) => Promise<void>

/** Runs `produce` with a writer to `file` (atomically) or, without one, to stdout. */
export async function writeOutput<T>(file: string | undefined, produce: (write: WriteChunk) => Promise<T>): Promise<T> {
  if (file === undefined) return produce((text) => written(process.stdout, text))
  return withAtomicOutput(path.resolve(file), async (temp) => {
    const stream = createWriteStream(temp)
    try {
      const result = await produce((text) => written(stream, text))
      stream.end()
      await finished(stream)
      return result
    } catch (error) {
      stream.destroy()
      throw error
    }
  })
}
