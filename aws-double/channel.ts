// Shared memory between the test's thread and the server's worker thread, so the server answers while
// the test blocks in spawnSync and the test still sees calls and sets faults synchronously:
// - the call log: UTF-8 JSON lines appended by the worker into a growable SharedArrayBuffer, the used
//   length published with Atomics after the bytes are written;
// - the fault box: the current FaultConfig as JSON behind a sequence lock (odd while being written).
import type {CallRecord} from './index.js'
import type {FaultConfig} from './faults.js'

const HEADER = 8
const MAX_LOG = 256 << 20

/** ES2024 growable SharedArrayBuffer (Node 20 has it; the project's lib setting predates it). */
interface GrowableBuffer extends SharedArrayBuffer {
  readonly maxByteLength: number
  grow(length: number): void
}
const Growable = SharedArrayBuffer as unknown as new (length: number, options: {maxByteLength: number}) => GrowableBuffer

export interface Channels {
  calls: SharedArrayBuffer
  faults: SharedArrayBuffer
}

export function createChannels(): Channels {
  return {
    calls: new Growable(1 << 20, {maxByteLength: MAX_LOG}),
    faults: new SharedArrayBuffer(HEADER + (64 << 10)),
  }
}

/** Worker side: appends call records. */
export function callWriter(shared: SharedArrayBuffer): (call: CallRecord) => void {
  const buffer = shared as GrowableBuffer
  const header = new Int32Array(buffer, 0, 2)
  const encoder = new TextEncoder()
  return (call) => {
    const bytes = encoder.encode(`${JSON.stringify(call)}\n`)
    const used = Atomics.load(header, 0)
    const needed = HEADER + used + bytes.length
    if (needed > buffer.byteLength) {
      if (needed > buffer.maxByteLength) throw new Error('aws-server: call log full (256 MiB)')
      buffer.grow(Math.min(buffer.maxByteLength, Math.max(needed, buffer.byteLength * 2)))
    }
    new Uint8Array(buffer, HEADER + used, bytes.length).set(bytes)
    Atomics.store(header, 0, used + bytes.length)
  }
}

/** Test side: the records appended since the last read. */
export function callReader(buffer: SharedArrayBuffer): () => CallRecord[] {
  const header = new Int32Array(buffer, 0, 2)
  const decoder = new TextDecoder()
  let read = 0
  return () => {
    const used = Atomics.load(header, 0)
    if (used === read) return []
    const text = decoder.decode(new Uint8Array(buffer, HEADER + read, used - read).slice())
    read = used
    return text
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as CallRecord)
  }
}

/** Test side: publishes a new fault configuration. */
export function writeFaults(buffer: SharedArrayBuffer, config: FaultConfig | undefined): void {
  const header = new Int32Array(buffer, 0, 2)
  const bytes = new TextEncoder().encode(JSON.stringify(config ?? null))
  if (bytes.length > buffer.byteLength - HEADER) throw new Error('aws-server: fault configuration too large')
  Atomics.add(header, 0, 1)
  new Uint8Array(buffer, HEADER, bytes.length).set(bytes)
  Atomics.store(header, 1, bytes.length)
  Atomics.add(header, 0, 1)
}

/** Worker side: the fault configuration when it changed since the last look, else `unchanged`. */
export function faultReader(buffer: SharedArrayBuffer): () => FaultConfig | undefined | 'unchanged' {
  const header = new Int32Array(buffer, 0, 2)
  const decoder = new TextDecoder()
  let seen = 0
  return () => {
    for (;;) {
      const before = Atomics.load(header, 0)
      if (before === seen) return 'unchanged'
      if (before % 2 === 1) continue
      const length = Atomics.load(header, 1)
      const text = decoder.decode(new Uint8Array(buffer, HEADER, length).slice())
      if (Atomics.load(header, 0) !== before) continue
      seen = before
      return (JSON.parse(text) as FaultConfig | null) ?? undefined
    }
  }
}
