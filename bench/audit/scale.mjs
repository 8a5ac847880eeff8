#!/usr/bin/env node
/* global process, console, performance */
// Benchmark of `layers audit` at organization scale (issue 16); prints its figures, not part of `npm test`.
// Run: npm run build && node bench/audit/scale.mjs [--format jsonl]; BENCH_NODE_ARGS adds node flags to
// the audit children (profiling: --cpu-prof --cpu-prof-dir=DIR, --heap-prof).
// A fleet of BENCH_TARGETS account-regions (default 200: half as many accounts x eu-west-1, us-east-1)
// x BENCH_FUNCTIONS functions (default 200) x BENCH_ALIASES aliases per function (default 2, on one
// published version of each function), seeded directly into the state of the shared local AWS test server
// (bench/audit/server.ts, its own process) with BENCH_LATENCY_MS per call (default 20) and Lambda's
// API request quotas enforced (faults.quotas: 15/s control plane per account and region, 100/s
// GetFunction, 15/s GetPolicy). Each audit runs in a child process of its own (audit-child.mjs: the
// product's auditCommand from dist/, at the default budget of 10/s; with --format jsonl, streamed as
// `layers audit --format jsonl` streams it) in a fresh project. Prints:
//   - wall time against the floor: the most Lambda calls any target needed, divided by the budget
//     (targets run in parallel, each within its own budget); goal <= 1.2x;
//   - throttled answers (429) at the default budget, counted at the double; goal 0;
//   - peak RSS of the audit process, at BENCH_SMALL (default 50) and at BENCH_TARGETS account-regions;
//     goal < 200 MB and flat;
//   - what the CPU alone allows: the audit's and the double's CPU per call, and the wall time they
//     cannot go below on this machine's cores (the audit is one thread), whatever else loads it;
//   - peak RSS of the whole fleet audited BENCH_SMALL targets at a time (--concurrency), against the
//     BENCH_SMALL audit: memory follows the targets in flight, not the fleet (BENCH_SKIP_BOUNDED=1 skips it);
//   - the Lambda calls of a second audit of the unchanged fleet (same project: the layer and function
//     version caches) against the first; goal <= 0.5.
import {execFile, spawn} from 'node:child_process'
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {availableParallelism, tmpdir} from 'node:os'
import path from 'node:path'
import {createInterface} from 'node:readline'
import {fileURLToPath} from 'node:url'
import {fleetManifest} from './manifest.mjs'

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const {DEFAULT_MAX_RPS} = await import(path.join(repo, 'dist/src/aws/request-budget.js'))

const REGIONS = ['eu-west-1', 'us-east-1']
const TARGETS = Number(process.env.BENCH_TARGETS ?? 200)
const SMALL = Math.min(TARGETS, Number(process.env.BENCH_SMALL ?? 50))
const shape = {accounts: Math.ceil(TARGETS / REGIONS.length), regions: REGIONS, functions: Number(process.env.BENCH_FUNCTIONS ?? 200), aliases: Number(process.env.BENCH_ALIASES ?? 2)}
const LATENCY_MS = Number(process.env.BENCH_LATENCY_MS ?? 20)
// BENCH_NODE_ARGS: node flags for the audit children, e.g. --cpu-prof --cpu-prof-dir=/tmp/p (not allowed in NODE_OPTIONS).
const NODE_ARGS = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean)
const formatAt = process.argv.indexOf('--format')
const FORMAT = formatAt === -1 ? 'json' : process.argv[formatAt + 1]
if (FORMAT !== 'json' && FORMAT !== 'jsonl') throw new Error(`--format takes json or jsonl, not ${FORMAT}`)

const dir = mkdtempSync(path.join(tmpdir(), 'layers-bench-scale-'))
const seedStart = performance.now()
const child = spawn(process.execPath, [path.join(repo, 'node_modules/vite-node/vite-node.mjs'), path.join(repo, 'bench/audit/server.ts')], {
  cwd: repo,
  env: {...process.env, BENCH_FLEET: JSON.stringify(shape), BENCH_DIR: path.join(dir, 'aws')},
  stdio: ['pipe', 'pipe', 'inherit'],
})
const lines = createInterface({input: child.stdout})[Symbol.asyncIterator]()
const reply = async () => JSON.parse(String((await lines.next()).value))
const {endpoint, aws, accounts} = await reply()
const seeded = (performance.now() - seedStart) / 1000
const control = async (command) => {
  child.stdin.write(JSON.stringify(command) + '\n')
  return reply()
}

/** A project of the first `targets` account-regions (whole accounts), empty state. */
function project(name, targets) {
  const root = path.join(dir, name)
  mkdirSync(root, {recursive: true})
  const used = accounts.slice(0, Math.ceil(targets / REGIONS.length))
  writeFileSync(
    path.join(root, 'layers.yaml'),
    fleetManifest(used, REGIONS),
  )
  return root
}

function audit(root, env = {}) {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [...NODE_ARGS, path.join(repo, 'bench/audit/audit-child.mjs')],
      {env: {...process.env, ...aws, AWS_ENDPOINT_URL: endpoint, AWS_EC2_METADATA_DISABLED: 'true', BENCH_PROJECT: root, BENCH_FORMAT: FORMAT, ...env}, maxBuffer: 16 * 1024 * 1024},
      (error, stdout, stderr) => (error ? reject(new Error(`audit failed: ${error.message}${stderr ? `\n${stderr}` : ""}`)) : resolve(JSON.parse(stdout))),
    )
  })
}

const sum = (targets, key) => Object.values(targets).reduce((total, target) => total + target[key], 0)

const before = await control({faults: {latencyMs: LATENCY_MS, quotas: true}, reset: true})
const big = project('big', TARGETS)
const first = await audit(big)
const afterFirst = await control({reset: true})
const firstCalls = afterFirst.targets
const second = await audit(big)
const afterSecond = await control({reset: true})
const secondCalls = afterSecond.targets
const small = SMALL < TARGETS ? await audit(project('small', SMALL)) : first
await control({reset: true})
// The whole fleet again, SMALL targets at a time (--concurrency): memory follows the targets in flight, not the fleet's size.
const bounded = SMALL < TARGETS && !process.env.BENCH_SKIP_BOUNDED ? await audit(project('bounded', TARGETS), {BENCH_CONCURRENCY: String(SMALL)}) : undefined
await control({reset: true})
child.stdin.end()

const expected = shape.accounts * REGIONS.length * shape.functions
// Targets that failed (e.g. no connection within the timeout on a loaded machine) are reported, not thrown: the figures still say where the time and memory went.
const incomplete = [first, second, small, ...(bounded ? [bounded] : [])].filter((run) => run.functions !== (run === small ? Math.ceil(SMALL / REGIONS.length) * REGIONS.length * shape.functions : expected) || run.failed !== 0)
const neededMost = Math.max(...Object.values(firstCalls).map((target) => target.ok))
const floor = neededMost / DEFAULT_MAX_RPS
const throttled = sum(firstCalls, 'throttled') + sum(secondCalls, 'throttled')
const callRatio = (sum(secondCalls, 'ok') + sum(secondCalls, 'throttled')) / (sum(firstCalls, 'ok') + sum(firstCalls, 'throttled'))
console.log(`fleet: ${shape.accounts * REGIONS.length} account-regions x ${shape.functions} functions x ${shape.aliases} aliases, ${LATENCY_MS} ms per call, Lambda quotas enforced (server started and seeded in ${seeded.toFixed(0)} s); --format ${FORMAT}`)
console.log(`first audit:   ${first.seconds.toFixed(2)} s (${first.cpuSeconds.toFixed(2)} s CPU); floor ${floor.toFixed(2)} s (${neededMost} calls in the busiest target / ${DEFAULT_MAX_RPS} per s); ratio ${(first.seconds / floor).toFixed(2)} (goal <= 1.2)`)
console.log(`AWS double:    ${(afterFirst.cpuSeconds - before.cpuSeconds).toFixed(2)} s CPU answering the first audit, ${(afterSecond.cpuSeconds - afterFirst.cpuSeconds).toFixed(2)} s the second (one process: a load on this machine, not on the client)`)
// What the CPU alone allows, whatever else runs on the machine: the audit is one JavaScript thread, so
// its CPU seconds are a lower bound of its wall time; with the double, both share this machine's cores.
const firstCallCount = sum(firstCalls, 'ok') + sum(firstCalls, 'throttled')
const serverCpu = afterFirst.cpuSeconds - before.cpuSeconds
const cores = availableParallelism()
const cpuBound = Math.max(first.cpuSeconds, (first.cpuSeconds + serverCpu) / cores)
console.log(
  `CPU bound:     audit ${((first.cpuSeconds / firstCallCount) * 1000).toFixed(3)} ms CPU per Lambda call (${firstCallCount} calls), double ${((serverCpu / firstCallCount) * 1000).toFixed(3)} ms; on ${cores} cores no wall time below ${cpuBound.toFixed(2)} s (ratio ${(cpuBound / floor).toFixed(2)}); 1.2x the floor needs the audit <= ${(((1.2 * floor) / firstCallCount) * 1000).toFixed(3)} ms per call`,
)
console.log(`throttled:     ${throttled} answers 429 at the default budget (goal 0)`)
const heap = (run) => `heap ${run.peakMB.heapUsed} MB used of ${run.peakMB.heapTotal}, external ${run.peakMB.external}`
console.log(`peak RSS:      ${small.maxRssMB.toFixed(0)} MB at ${SMALL} account-regions (${heap(small)}), ${first.maxRssMB.toFixed(0)} MB at ${TARGETS} (${heap(first)}) (goal < 200 MB, flat)`)
if (bounded) console.log(`fleet size:    ${bounded.maxRssMB.toFixed(0)} MB peak RSS auditing all ${TARGETS} account-regions ${SMALL} at a time (--concurrency ${SMALL}, ${bounded.seconds.toFixed(0)} s), against ${small.maxRssMB.toFixed(0)} MB for ${SMALL} (${heap(bounded)}): memory follows the targets in flight`)
console.log(`second audit:  ${second.seconds.toFixed(2)} s (${second.cpuSeconds.toFixed(2)} s CPU), ${sum(secondCalls, 'ok')} Lambda calls against ${sum(firstCalls, 'ok')} (ratio ${callRatio.toFixed(3)}, goal <= 0.5)`)
console.log(`failed:        ${first.failed} targets in the first audit, ${second.failed} in the second, ${small.failed} at ${SMALL} (functions read: ${first.functions}, ${second.functions} of ${expected})`)
rmSync(dir, {recursive: true, force: true})
if (incomplete.length > 0 || throttled > 0 || callRatio > 0.5 || first.maxRssMB >= 200) process.exitCode = 1
