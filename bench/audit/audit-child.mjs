#!/usr/bin/env node
/* global process, performance */
// One `layers audit` as the CLI runs it, minus process start and rendering to a terminal (bench/audit/
// scale.mjs runs it in a child of its own, so its peak RSS is the audit's alone): the built product's
// auditCommand (dist/) on the project in BENCH_PROJECT (layers.yaml, .layers/state.db: the layer
// version cache), the budget --max-rps BENCH_MAX_RPS would set (unset: the default), the report
// serialised as --json prints it. Prints {seconds, cpuSeconds, maxRssMB, functions, failed, bytes, budget} on stdout.
import path from 'node:path'
import {fileURLToPath} from 'node:url'

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const {auditCommand} = await import(path.join(repo, 'dist/src/audit/command.js'))
const {runBudget} = await import(path.join(repo, 'dist/src/aws/request-budget.js'))

const start = performance.now()
const cpu = process.cpuUsage()
const report = await auditCommand({
  manifestPath: path.join(process.env.BENCH_PROJECT, 'layers.yaml'),
  flags: {},
  concurrency: 256,
  save: true,
  diff: false,
  remoteState: false,
  emit: () => {},
  ...(process.env.BENCH_MAX_RPS ? {maxRps: Number(process.env.BENCH_MAX_RPS)} : {}),
})
const json = JSON.stringify(report, null, 2)
const seconds = (performance.now() - start) / 1000
const used = process.cpuUsage(cpu)
process.stdout.write(
  JSON.stringify({seconds, cpuSeconds: (used.user + used.system) / 1e6, maxRssMB: process.resourceUsage().maxRSS / 1024, functions: report.summary.functions, failed: report.summary.failedTargets, bytes: json.length, budget: runBudget.maxRps}) + '\n',
)
