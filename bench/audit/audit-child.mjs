#!/usr/bin/env node
/* global process, performance, Buffer, setInterval */
// One `layers audit` as the CLI runs it, minus process start and rendering to a terminal (bench/audit/
// scale.mjs runs it in a child of its own, so its peak RSS is the audit's alone): the built product's
// auditJsonCommand or auditStreamCommand (dist/) on the project in BENCH_PROJECT (layers.yaml, .layers/state.db: the layer
// and function version caches), the budget --max-rps BENCH_MAX_RPS would set (unset: the default), the
// report written to BENCH_PROJECT/audit.json as --json writes it (auditJsonCommand: from the audit's spool); with
// BENCH_FORMAT=jsonl, auditStreamCommand as --format jsonl runs it instead, each function's lines written to
// BENCH_PROJECT/audit.jsonl as it is judged, each target's as it finishes.
// Prints {seconds, cpuSeconds, maxRssMB, peakMB (heapTotal, heapUsed, external), functions, failed, bytes, budget} on stdout.
import {createWriteStream} from 'node:fs'
import {once} from 'node:events'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const {auditJsonCommand, auditStreamCommand} = await import(path.join(repo, 'dist/src/audit/command.js'))
const {jsonlOfFunction, jsonlOfTarget, jsonlSummary} = await import(path.join(repo, 'dist/src/audit/render.js'))
const {runBudget} = await import(path.join(repo, 'dist/src/aws/request-budget.js'))
const {DEFAULT_AUDIT_CONCURRENCY} = await import(path.join(repo, 'dist/src/audit/run.js'))

const start = performance.now()
// Peaks of the heap's parts, sampled every 200 ms: where the peak RSS goes (V8 heap or outside it).
const peak = {heapTotal: 0, heapUsed: 0, external: 0}
const sampler = setInterval(() => {
  const usage = process.memoryUsage()
  for (const key of Object.keys(peak)) peak[key] = Math.max(peak[key], usage[key])
}, 200)
sampler.unref()
const cpu = process.cpuUsage()
const options = {
  manifestPath: path.join(process.env.BENCH_PROJECT, 'layers.yaml'),
  flags: {},
  // The CLI's default, unless BENCH_CONCURRENCY (--concurrency) says otherwise.
  concurrency: Number(process.env.BENCH_CONCURRENCY ?? DEFAULT_AUDIT_CONCURRENCY),
  save: true,
  diff: false,
  remoteState: false,
  emit: () => {},
  ...(process.env.BENCH_MAX_RPS ? {maxRps: Number(process.env.BENCH_MAX_RPS)} : {}),
}

/** Writes the output to BENCH_PROJECT/audit.<format> as the CLI writes it to stdout (waiting when the file falls behind). */
async function toFile(format, produce) {
  const out = createWriteStream(path.join(process.env.BENCH_PROJECT, `audit.${format}`))
  let bytes = 0
  const write = async (text) => {
    bytes += Buffer.byteLength(text)
    if (!out.write(text)) await once(out, 'drain')
  }
  const done = await produce(write)
  out.end()
  await once(out, 'finish')
  return {summary: done.summary, bytes}
}

/** --format jsonl: the lines of each function as it is judged and of each target as it finishes, then the summary line. */
const streamed = () =>
  toFile('jsonl', async (write) => {
    const done = await auditStreamCommand(options, {function: (part) => write(jsonlOfFunction(part)), target: (part) => write(jsonlOfTarget(part))})
    await write(jsonlSummary(done))
    return done
  })

/** --json: the report written from the audit's spool once every target is done. */
const whole = () => toFile('json', (write) => auditJsonCommand(options, write))

const {summary, bytes} = process.env.BENCH_FORMAT === 'jsonl' ? await streamed() : await whole()
const seconds = (performance.now() - start) / 1000
const used = process.cpuUsage(cpu)
process.stdout.write(
  JSON.stringify({seconds, cpuSeconds: (used.user + used.system) / 1e6, maxRssMB: process.resourceUsage().maxRSS / 1024, peakMB: Object.fromEntries(Object.entries(peak).map(([key, bytes]) => [key, Math.round(bytes / 2 ** 20)])), functions: summary.functions, failed: summary.failedTargets, bytes, budget: runBudget.maxRps}) + '\n',
)
