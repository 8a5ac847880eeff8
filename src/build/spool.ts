// Owns holding file contents between reading them (tarballs arrive in any order, in any entry order)
// and writing them into a zip (which must be in sorted order). Contents stay in memory up to a budget;
// past it they are appended to one spool file in a private temp directory and read back by offset,
// so peak memory stays bounded whatever the size of the layer. The directory (a temp name with this
// process's pid, see src/fsutil/atomic.ts) is removed by close(), or on exit when the run is cut short.
// Given an AbortSignal, put() refuses to take more once it fired, so an interrupted build stops reading.
import {createReadStream} from 'node:fs'
import {mkdir, open, rm, type FileHandle} from 'node:fs/promises'
import path from 'node:path'
import type {Readable} from 'node:stream'
import {tempPath, trackTemp} from '../fsutil/atomic.js'

export type SpooledContent = {kind: 'memory'; data: Buffer} | {kind: 'spool'; offset: number; size: number}

export class ContentSpool {
  private memoryBytes = 0
  private dir?: string
  private file?: string
  private handle?: FileHandle
  private position = 0
  private writes: Promise<unknown> = Promise.resolve()
  private untrack?: () => void

  /** @param parentDir where the spool's temp directory goes (same disk as the output). */
  constructor(
    private readonly parentDir: string,
    private readonly memoryBudget: number,
    private readonly signal?: AbortSignal,
  ) {}

  /** Bytes kept in memory so far. */
  get bufferedBytes(): number {
    return this.memoryBytes
  }

  /** Bytes written to the spool file so far. */
  get spooledBytes(): number {
    return this.position
  }

  async put(data: Buffer): Promise<SpooledContent> {
    this.signal?.throwIfAborted()
    if (this.memoryBytes + data.length <= this.memoryBudget) {
      this.memoryBytes += data.length
      return {kind: 'memory', data}
    }
    const offset = this.position
    this.position += data.length
    const write = this.writes.then(async () => {
      const handle = await this.openSpool()
      let written = 0
      while (written < data.length) {
        const {bytesWritten} = await handle.write(data, written, data.length - written, offset + written)
        written += bytesWritten
      }
    })
    this.writes = write.catch(() => {})
    await write
    return {kind: 'spool', offset, size: data.length}
  }

  /** The content as a Buffer (memory) or a stream over its bytes in the spool file. */
  open(content: SpooledContent): Buffer | Readable {
    if (content.kind === 'memory') return content.data
    if (content.size === 0) return Buffer.alloc(0)
    return createReadStream(this.file!, {start: content.offset, end: content.offset + content.size - 1})
  }

  async close(): Promise<void> {
    await this.writes
    await this.handle?.close().catch(() => {})
    this.handle = undefined
    if (this.dir) await rm(this.dir, {recursive: true, force: true})
    this.dir = undefined
    this.untrack?.()
    this.untrack = undefined
  }

  private async openSpool(): Promise<FileHandle> {
    if (this.handle) return this.handle
    await mkdir(this.parentDir, {recursive: true})
    const dir = tempPath(this.parentDir, 'spool')
    this.untrack = trackTemp(dir)
    this.dir = dir
    await mkdir(dir)
    this.file = path.join(this.dir, 'contents')
    this.handle = await open(this.file, 'w+')
    return this.handle
  }
}
