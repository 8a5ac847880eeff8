#!/usr/bin/env node
/* global process, console, performance */
// Benchmark of `layers publish` (issue 5); prints its figures, not part of `npm test`.
// Run: npm run build && node bench/publish/run.mjs
// 10 dir layers x 2 accounts x 3 regions (60 layer targets) against the local AWS test server in its
// own process with BENCH_LATENCY_MS (default 20) per call. The built CLI is run as a user runs it:
//   1. `layers lock` (dir layers: no registry), then a first `layers publish --create-bucket`: time and calls;
//   2. a no-op `layers publish` (nothing changed): time and calls. It must make at most one read call
//      per layer and target (60) plus one GetCallerIdentity per account (2: each account is bound to its
//      credentials before its first call), upload nothing and publish nothing; with settings.ssm (one
//      parameter per layer target: 60), make no SSM write and at most one SSM read call per 10
//      parameters (GetParametersByPath pages of 10, which also show stale parameters); the script
//      exits 1 otherwise.
import {spawn} from 'node:child_process'
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {loadavg, tmpdir} from 'node:os'
import path from 'node:path'
import {createInterface} from 'node:readline'
import {fileURLToPath} from 'node:url'

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const LAYERS = 10
const REGIONS = ['eu-west-1', 'us-east-1', 'ap-southeast-2']
const ACCOUNTS = 2
const TARGETS = LAYERS * ACCOUNTS * REGIONS.length
/** One SSM parameter per layer target (one channel, one architecture). */
const PARAMETERS = TARGETS
const dir = mkdtempSync(path.join(tmpdir(), 'layers-bench-publish-'))

const server = spawn(process.execPath, [path.join(repo, 'node_modules/vite-node/vite-node.mjs'), path.join(repo, 'bench/publish/server.ts')], {
  cwd: repo,
  env: {...process.env, BENCH_AWS_DIR: path.join(dir, '.aws')},
  stdio: ['pipe', 'pipe', 'inherit'],
})
const lines = createInterface({input: server.stdout})[Symbol.asyncIterator]()
const next = async () => JSON.parse((await lines.next()).value)
const {endpoint, env: awsEnv} = await next()
const ask = async (command) => {
  server.stdin.write(JSON.stringify(command) + '\n')
  return (await next()).calls
}

// The project: 10 dir layers of ~40 files each; two functions use five layers each, in both accounts.
const names = Array.from({length: LAYERS}, (_, index) => `layer${String(index).padStart(2, '0')}`)
for (const name of names) {
  for (let file = 0; file < 40; file++) {
    const at = path.join(dir, 'layers', name, 'nodejs', 'node_modules', name, `f${file}.js`)
    mkdirSync(path.dirname(at), {recursive: true})
    writeFileSync(at, `export const value = ${JSON.stringify(`${name}-${file}-`.repeat(50))}\n`)
  }
}
mkdirSync(path.join(dir, 'fns', 'app'), {recursive: true})
writeFileSync(path.join(dir, 'fns', 'app', 'index.js'), 'export const handler = async () => "ok"\n')
writeFileSync(
  path.join(dir, 'layers.yaml'),
  `version: 1
settings:
  bucket: "bench-{accountId}-{region}"
  prefix: layers/
  regions: [${REGIONS.join(', ')}]
  architectures: [x86_64]
  runtimes: [nodejs22.x]
  ssm: {}
accounts:
  dev: {id: "111111111111", profile: dev}
  prod: {id: "222222222222", profile: prod}
layers:
${names.map((name) => `  ${name}:\n    dir: layers/${name}\n    share: {accounts: [dev, prod]}\n`).join('')}functions:
  a: {source: fns/app, handler: index.handler, runtime: nodejs22.x, architecture: x86_64, layers: [${names.slice(0, 5).join(', ')}], accounts: [dev, prod]}
  b: {source: fns/app, handler: index.handler, runtime: nodejs22.x, architecture: x86_64, layers: [${names.slice(5).join(', ')}], accounts: [dev, prod]}
`,
)

const cliEnv = {PATH: process.env.PATH, HOME: dir, AWS_ENDPOINT_URL: endpoint, ...awsEnv, AWS_EC2_METADATA_DISABLED: 'true'}
function layers(args) {
  return new Promise((resolve, reject) => {
    const started = performance.now()
    const child = spawn(process.execPath, [path.join(repo, 'bin/run.js'), ...args], {cwd: dir, env: cliEnv, stdio: ['ignore', 'pipe', 'pipe']})
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => (stdout += chunk))
    child.stderr.on('data', (chunk) => (stderr += chunk))
    child.on('error', reject)
    child.on('close', (status) => resolve({status, stdout, stderr, ms: performance.now() - started}))
  })
}

function count(calls, predicate) {
  return calls.filter(predicate).length
}
const WRITES = new Set(['PublishLayerVersion', 'AddLayerVersionPermission', 'RemoveLayerVersionPermission', 'PutObject', 'CreateMultipartUpload', 'UploadPart', 'CompleteMultipartUpload', 'CreateBucket', 'PutParameter', 'AddTagsToResource', 'DeleteParameter', 'DeleteParameters'])
const byOperation = (calls) => Object.entries(calls.reduce((acc, call) => ({...acc, [call.operation]: (acc[call.operation] ?? 0) + 1}), {})).map(([op, n]) => `${op} ${n}`).sort().join(', ')

let failed = false
try {
  const lock = await layers(['lock', '--json'])
  if (lock.status !== 0) throw new Error(`layers lock failed: ${lock.stderr}`)
  await ask({calls: true, reset: true})

  const first = await layers(['publish', '--json', '--create-bucket'])
  if (first.status !== 0) throw new Error(`first publish failed: ${first.stderr}`)
  const firstCalls = await ask({calls: true, reset: true})
  const firstSummary = JSON.parse(first.stdout).summary
  console.log(`first publish: ${(first.ms / 1000).toFixed(2)} s, ${firstCalls.length} calls (${byOperation(firstCalls)}); published ${firstSummary.published}, uploaded ${firstSummary.uploaded}`)

  const noop = await layers(['publish', '--json'])
  if (noop.status !== 0) throw new Error(`no-op publish failed: ${noop.stderr}`)
  const noopCalls = await ask({calls: true, reset: true})
  const reads = count(noopCalls, (call) => call.service !== 'ssm' && !WRITES.has(call.operation))
  const writes = count(noopCalls, (call) => call.service !== 'ssm' && WRITES.has(call.operation))
  const ssmReads = count(noopCalls, (call) => call.service === 'ssm' && !WRITES.has(call.operation))
  const ssmWrites = count(noopCalls, (call) => call.service === 'ssm' && WRITES.has(call.operation))
  const parameters = JSON.parse(noop.stdout).parameters?.summary
  console.log(`no-op publish: ${(noop.ms / 1000).toFixed(2)} s, ${noopCalls.length} calls (${byOperation(noopCalls)}); ${reads} reads for ${TARGETS} layer targets, ${writes} writes`)
  const ssmByOperation = byOperation(noopCalls.filter((call) => call.service === 'ssm'))
  const ratio = parameters?.parameters ? (ssmReads / parameters.parameters).toFixed(3) : 'n/a'
  console.log(`no-op publish, SSM: ${ssmReads} read calls (${ssmByOperation || 'none'}) and ${ssmWrites} writes for ${parameters?.parameters ?? 0} parameters: ${ratio} reads per parameter (at most 0.1: ${Math.ceil(PARAMETERS / 10)} reads allowed)`)
  const firstParameters = JSON.parse(first.stdout).parameters?.summary
  if (firstParameters?.written !== PARAMETERS) {
    console.error(`FAIL: the first publish wrote ${firstParameters?.written} SSM parameters, expected ${PARAMETERS}`)
    failed = true
  }
  if (parameters?.parameters !== PARAMETERS || ssmWrites > 0 || ssmReads * 10 > PARAMETERS || parameters?.stale !== 0) {
    console.error(`FAIL: a no-op publish must check ${PARAMETERS} SSM parameters with at most ${Math.ceil(PARAMETERS / 10)} read calls (one per 10 parameters), no writes and nothing stale`)
    failed = true
  }

  const version = await layers(['--version'])
  console.log(`(CLI start-up alone, \`layers --version\`: ${(version.ms / 1000).toFixed(2)} s; load average ${loadavg()[0].toFixed(1)} on this machine)`)
  if (reads > TARGETS + ACCOUNTS || count(noopCalls, (call) => call.operation === 'GetCallerIdentity') > ACCOUNTS || writes > 0 || count(noopCalls, (call) => call.operation === 'PutObject' || call.operation === 'PublishLayerVersion') > 0) {
    console.error(`FAIL: a no-op publish must make at most ${TARGETS} layer reads, ${ACCOUNTS} GetCallerIdentity and no writes`)
    failed = true
  }
  if (firstSummary.published !== TARGETS) {
    console.error(`FAIL: the first publish made ${firstSummary.published} versions, expected ${TARGETS}`)
    failed = true
  }
} finally {
  server.stdin.end()
  server.kill()
  if (process.env.BENCH_KEEP) console.log(`kept ${dir}`)
  else rmSync(dir, {recursive: true, force: true})
}
process.exit(failed ? 1 : 0)
