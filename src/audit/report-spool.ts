// Owns the --json report of an audit too big to hold: as the audit streams, each judged function (its
// report row and its findings) is written to a temporary spool file in the text the report prints, and
// only where it went is kept (per target: names and byte ranges); once every target is done, the
// document is written out in the report's order, reading each piece back from the spool. The output is
// byte for byte what JSON.stringify(report, null, 2) of the collected report (runAudit) prints, while
// memory holds the targets, the usage matrix and per function its name and five numbers, not the
// functions and findings.
import {closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import type {WriteChunk} from '../cli/output.js'
import {OperationalError} from '../errors/index.js'
import {compareText} from './catalog.js'
import {compareTargets, mergeUsage} from './findings.js'
import type {AuditConsumer, AuditStreamResult, FunctionPart, TargetEndPart} from './run.js'
import {AUDIT_SCHEMA_VERSION, SEVERITIES, type AuditReport, type LayerUsage, type TargetReport} from './types.js'

/** Spooled text is written in blocks of about this many bytes, and the document too. */
const BLOCK_BYTES = 256 * 1024

/**
 * A target's functions in the spool: their names, and per function (at the same index, RANGE_FIELDS
 * numbers each) where its row starts and the byte lengths of its row and of its findings of each
 * severity (in SEVERITIES order), written one after the other. Flat arrays: a few bytes per function.
 */
interface SpooledTarget {
  names: string[]
  ranges: number[]
}

const RANGE_FIELDS = 2 + SEVERITIES.length

/**
 * An item of a top-level array as JSON.stringify(report, null, 2) prints it: four spaces in. Only the
 * newlines JSON.stringify writes start lines: it leaves U+2028 and U+2029 in strings as they are,
 * where a multiline `^` would indent after them too.
 */
function arrayItem(value: unknown): string {
  return `    ${JSON.stringify(value, null, 2).replaceAll('\n', '\n    ')}`
}

export class ReportSpool implements AuditConsumer {
  private readonly fd: number
  private written = 0
  private pending: string[] = []
  private pendingBytes = 0
  private readonly inFlight = new Map<string, SpooledTarget>()
  private readonly done: Array<{target: TargetReport; usage: LayerUsage[]; functions: SpooledTarget}> = []

  constructor() {
    // Created in a directory of its own (0700: the spool holds account ids and function names) and
    // unlinked at once: only the descriptor reaches it, so nothing is left behind however the process ends.
    let dir: string | undefined
    try {
      dir = mkdtempSync(path.join(tmpdir(), 'layers-audit-'))
      this.fd = openSync(path.join(dir, 'report.spool'), 'w+', 0o600)
    } catch (error) {
      throw spoolError('create', error)
    } finally {
      if (dir) rmSync(dir, {recursive: true, force: true})
    }
  }

  function(part: FunctionPart): void {
    const key = `${part.function.accountId}/${part.function.region}`
    let target = this.inFlight.get(key)
    if (!target) this.inFlight.set(key, (target = {names: [], ranges: []}))
    target.names.push(part.function.name)
    target.ranges.push(this.written, this.append(arrayItem(part.function)))
    for (const severity of SEVERITIES) {
      const items = part.findings.filter((finding) => finding.severity === severity)
      target.ranges.push(items.length === 0 ? 0 : this.append(items.map(arrayItem).join(',\n')))
    }
  }

  target(part: TargetEndPart): void {
    const key = `${part.target.accountId}/${part.target.region}`
    const spooled = part.target.status === 'failed' ? undefined : this.inFlight.get(key)
    this.inFlight.delete(key)
    this.done.push({target: part.target, usage: part.usage, functions: spooled ?? {names: [], ranges: []}})
  }

  /** Writes the report of the finished audit `result`, as runAudit's report prints under --json. */
  async writeReport(result: AuditStreamResult, write: WriteChunk): Promise<void> {
    this.flush()
    const targets = [...this.done].sort((a, b) => compareTargets(a.target, b.target))
    const report: AuditReport = {
      schemaVersion: AUDIT_SCHEMA_VERSION,
      startedAt: result.startedAt,
      finishedAt: result.finishedAt,
      summary: result.summary,
      targets: targets.map((entry) => entry.target),
      findings: [],
      usage: mergeUsage(targets.map((entry) => entry.usage)),
      functions: [],
      ...(result.runId === undefined ? {} : {runId: result.runId}),
    }
    // The document around the two big arrays, cut where they go.
    const text = JSON.stringify(report, null, 2)
    const [head, middle, tail] = splitAt(splitAt([text], '\n  "findings": []'), '\n  "functions": []')
    const out = new BlockWriter(write)
    await out.add(head!)
    // Each target's functions by name (their indexes in its arrays).
    const ordered = targets.map(({functions: {names}}) => names.map((_, at) => at).sort((a, b) => compareText(names[a]!, names[b]!)))
    /** Where a piece (1: the row, 2 + i: the findings of SEVERITIES[i]) of each function is, in the report's order. */
    function* pieces(field: number): Generator<readonly [number, number]> {
      for (const [index, order] of ordered.entries()) {
        const {ranges} = targets[index]!.functions
        for (const at of order) {
          const base = at * RANGE_FIELDS
          let start = ranges[base]!
          for (let before = 1; before < field; before++) start += ranges[base + before]!
          yield [start, ranges[base + field]!]
        }
      }
    }
    // Findings sort by severity first, then target, function and the rest (sortFindings): each
    // function's findings of one severity are already in order.
    await this.writeArray(out, 'findings', SEVERITIES.map((_, at) => pieces(2 + at)))
    await out.add(middle!)
    await this.writeArray(out, 'functions', [pieces(1)])
    await out.add(tail!)
    await out.add('\n')
    await out.end()
  }

  /** Frees the spool (its file has no name left). */
  close(): void {
    closeSync(this.fd)
  }

  private async writeArray(out: BlockWriter, key: string, ranges: Iterable<Iterable<readonly [number, number]>>): Promise<void> {
    let first = true
    for (const part of ranges) {
      for (const [start, length] of part) {
        if (length === 0) continue
        await out.add(`${first ? `\n  "${key}": [\n` : ',\n'}${this.read(start, length)}`)
        first = false
      }
    }
    await out.add(first ? `\n  "${key}": []` : '\n  ]')
  }

  /** Appends `text` to the spool; its length in bytes. */
  private append(text: string): number {
    const length = Buffer.byteLength(text)
    this.pending.push(text)
    this.pendingBytes += length
    this.written += length
    if (this.pendingBytes >= BLOCK_BYTES) this.flush()
    return length
  }

  private flush(): void {
    if (this.pending.length === 0) return
    const block = Buffer.from(this.pending.join(''))
    const start = this.written - block.length
    try {
      for (let at = 0; at < block.length; ) at += writeSync(this.fd, block, at, block.length - at, start + at)
    } catch (error) {
      throw spoolError('write to', error)
    }
    this.pending = []
    this.pendingBytes = 0
  }

  private read(start: number, length: number): string {
    const buffer = Buffer.allocUnsafe(length)
    for (let at = 0; at < length; ) {
      const got = readSync(this.fd, buffer, at, length - at, start + at)
      if (got === 0) throw new Error(`audit report spool ended at byte ${start + at} of ${start + length}`)
      at += got
    }
    return buffer.toString('utf8')
  }
}

/** The spool's file could not be made or written (no temp directory, a full disk): where, and what to do. */
function spoolError(what: string, error: unknown): OperationalError {
  return new OperationalError('ERR_LAYERS_AUDIT_SPOOL', `Cannot ${what} the audit report's spool file in ${tmpdir()}: ${(error as Error).message}.`, {
    hint: 'Point TMPDIR at a writable directory with room for the report (about 1 KB per function), or use --format jsonl, which needs no spool.',
    cause: error,
  })
}

/** `parts` with the last one cut at `marker` (which must occur once), the marker itself dropped. */
function splitAt(parts: string[], marker: string): string[] {
  const last = parts[parts.length - 1]!
  const at = last.indexOf(marker)
  if (at === -1 || last.indexOf(marker, at + 1) !== -1) throw new Error(`audit report skeleton has no single ${JSON.stringify(marker)}`)
  return [...parts.slice(0, -1), last.slice(0, at), last.slice(at + marker.length)]
}

/** Joins small pieces into blocks before writing: one awaited write per block, not per piece. */
class BlockWriter {
  private pieces: string[] = []
  private length = 0

  constructor(private readonly write: WriteChunk) {}

  async add(text: string): Promise<void> {
    this.pieces.push(text)
    this.length += text.length
    if (this.length >= BLOCK_BYTES) await this.end()
  }

  async end(): Promise<void> {
    if (this.pieces.length === 0) return
    const block = this.pieces.join('')
    this.pieces = []
    this.length = 0
    await this.write(block)
  }
}
