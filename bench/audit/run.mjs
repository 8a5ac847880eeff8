#!/usr/bin/env node
/* global process, console, performance */
// Benchmark of `layers audit` scanning (issue 8); prints its figures, not part of `npm test`.
// Run: npm run build && node bench/audit/run.mjs
// 20 account-regions x 100 functions on the shared local AWS test server (bench/audit/server.ts, in
// its own process: AWS is remote, its CPU is not the client's) with 50 ms latency per call. The client
// side runs the built product (dist/). After one warm-up round of each, measured in the same run,
// median of BENCH_RUNS (default 5):
//   (a) a sequential scan: one region after another, page after page of ListFunctions, as a script
//       over `aws lambda list-functions` does (the same SDK client, standard retries);
//   (b) the audit as `layers audit` runs it, minus process start: layers.yaml with one account per
//       profile loaded by the manifest loader, clients from the product's factory (src/aws/clients.ts:
//       profiles, adaptive retries, keep-alive), runAudit (targets concurrently, all pages, layer
//       version lookups, findings);
//   and once, the scan as a shell script over the CLI really runs it: one process per region.
// Prints b/a (target <= 0.1). Then with 20% of calls throttled (429), checks that the audit still
// reports every function with no failed target, and prints its time and call counts.
import {execFileSync, spawn} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {createInterface} from 'node:readline'
import {fileURLToPath} from 'node:url'
import http from 'node:http'
import {LambdaClient} from '@aws-sdk/client-lambda'
import {NodeHttpHandler} from '@smithy/node-http-handler'
import {countFunctions} from './count-functions.mjs'
import {fleetManifest} from './manifest.mjs'

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const {runAudit} = await import(path.join(repo, 'dist/src/audit/run.js'))
const {awsAuditEnv} = await import(path.join(repo, 'dist/src/audit/env.js'))
const {LAMBDA_RUNTIMES} = await import(path.join(repo, 'dist/src/manifest/runtimes.js'))
const {loadManifest} = await import(path.join(repo, 'dist/src/manifest/load.js'))
const {auditClientFactory} = await import(path.join(repo, 'dist/src/audit/clients.js'))

const REGIONS = ['eu-west-1', 'us-east-1']
const shape = {accounts: 10, regions: REGIONS, functions: 100}
const TOTAL = shape.accounts * REGIONS.length * shape.functions
const LATENCY_MS = Number(process.env.BENCH_LATENCY_MS ?? 50)
const RUNS = Number(process.env.BENCH_RUNS ?? 5)

const dir = mkdtempSync(path.join(tmpdir(), 'layers-bench-audit-'))
const child = spawn(process.execPath, [path.join(repo, 'node_modules/vite-node/vite-node.mjs'), path.join(repo, 'bench/audit/server.ts')], {
  cwd: repo,
  env: {...process.env, BENCH_FLEET: JSON.stringify(shape), BENCH_DIR: path.join(dir, 'aws')},
  stdio: ['pipe', 'pipe', 'inherit'],
})
const lines = createInterface({input: child.stdout})[Symbol.asyncIterator]()
const reply = async () => JSON.parse(String((await lines.next()).value))
const {endpoint, aws, accounts} = await reply()
// The product reads the endpoint and profiles from the environment, as the CLI does.
Object.assign(process.env, aws, {AWS_ENDPOINT_URL: endpoint, AWS_EC2_METADATA_DISABLED: 'true'})
writeFileSync(
  path.join(dir, 'layers.yaml'),
  fleetManifest(accounts, REGIONS),
)
const manifest = await loadManifest(path.join(dir, 'layers.yaml'))
const control = async (command) => {
  child.stdin.write(JSON.stringify(command) + '\n')
  return (await reply()).calls
}
const keyOf = new Map(accounts.map((account) => [account.id, {accessKeyId: account.accessKeyId, secretAccessKey: account.secretAccessKey}]))

// The sequential scan's clients: static keys, standard retries, one keep-alive connection pool.
const requestHandler = new NodeHttpHandler({httpAgent: new http.Agent({keepAlive: true, maxSockets: 256})})
const client = (accountId, region) => new LambdaClient({requestHandler, region, endpoint, credentials: keyOf.get(accountId), retryMode: 'standard', maxAttempts: 3})

async function sequentialScan() {
  let count = 0
  for (const account of accounts) {
    for (const region of REGIONS) {
      count += await countFunctions(client(account.id, region))
    }
  }
  return count
}

/** The same scan as a shell script over the AWS CLI runs it: one CLI process per region, in turn. */
function scriptScan() {
  let count = 0
  for (const account of accounts) {
    for (const region of REGIONS) {
      const out = execFileSync(process.execPath, [path.join(repo, 'bench/audit/list-region.mjs'), endpoint, region, account.accessKeyId, account.secretAccessKey], {encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore']})
      count += Number(out.trim())
    }
  }
  return count
}

async function audit() {
  const env = awsAuditEnv(auditClientFactory())
  const report = await runAudit({manifest, flags: {}, runtimes: [...LAMBDA_RUNTIMES], emit: () => {}}, env)
  return {functions: report.summary.functions, failed: report.summary.failedTargets, findings: report.findings.length}
}

async function timed(fn) {
  const start = performance.now()
  const cpu = process.cpuUsage()
  const result = await fn()
  const used = process.cpuUsage(cpu)
  return {seconds: (performance.now() - start) / 1000, cpuSeconds: (used.user + used.system) / 1e6, result}
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]

await control({faults: {latencyMs: LATENCY_MS}})
// One untimed round of each first (module loading and JIT), like hyperfine's --warmup.
await sequentialScan()
await audit()
const sequential = []
const concurrent = []
for (let run = 0; run < RUNS; run++) {
  const a = await timed(sequentialScan)
  const b = await timed(audit)
  if (a.result !== TOTAL || b.result.functions !== TOTAL || b.result.failed !== 0) throw new Error(`scan mismatch: sequential ${a.result}, audit ${JSON.stringify(b.result)}`)
  if (process.env.BENCH_VERBOSE) console.log(`run ${run}: sequential ${a.seconds.toFixed(3)} s (cpu ${a.cpuSeconds.toFixed(3)}), audit ${b.seconds.toFixed(3)} s (cpu ${b.cpuSeconds.toFixed(3)})`)
  sequential.push(a.seconds)
  concurrent.push(b.seconds)
}
const script = await timed(async () => scriptScan())
if (script.result !== TOTAL) throw new Error(`script scan counted ${script.result}`)
const ratio = median(concurrent) / median(sequential)
console.log(`fleet: ${shape.accounts * REGIONS.length} account-regions x ${shape.functions} functions, ${LATENCY_MS} ms per call, median of ${RUNS}`)
console.log(`sequential list-functions scan: ${median(sequential).toFixed(3)} s`)
console.log(`layers audit:                   ${median(concurrent).toFixed(3)} s (all pages, GetLayerVersion per account and distinct ARN, findings)`)
console.log(`ratio audit/sequential:         ${ratio.toFixed(3)} (target <= 0.1) ${ratio <= 0.1 ? 'OK' : 'MISSED'}`)
console.log(`one CLI process per region:     ${script.seconds.toFixed(3)} s (once); ratio audit/that ${(median(concurrent) / script.seconds).toFixed(3)}`)

await control({faults: {latencyMs: LATENCY_MS, throttleRate: 0.2, seed: 42}, reset: true})
const throttled = await timed(audit)
const calls = await control({reset: true})
console.log(
  `with 20% throttling: ${throttled.seconds.toFixed(3)} s, ${throttled.result.functions}/${TOTAL} functions reported, ` +
    `${throttled.result.failed} failed targets, calls ${JSON.stringify(calls)} (about 20% answered 429)`,
)
child.stdin.end()
rmSync(dir, {recursive: true, force: true})
if (ratio > 0.1 || throttled.result.functions !== TOTAL || throttled.result.failed !== 0) process.exitCode = 1
