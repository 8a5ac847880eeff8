/* global process, console, Buffer */
// Benchmark of `layers find` (issue 15): a project of 50 npm layers x 300 packages each (a tree with
// nested copies and dependency edges), every layer published as two contents (the current lock and
// an earlier one, both recorded in the state database) in 20 account-regions, and a saved audit of
// 20 account-regions x 100 functions, each running three of the layers ($LATEST and an alias). Times
// the built CLI (`node bin/run.js find ... --json`, process start included) for a package found in
// every layer and for one found nowhere, and the search in process (lock and database reads included),
// and `layers advisories` against a loopback registry (bulk advisory endpoint and packuments; the first
// run has a cold npm cache and no cached deprecations, the later ones read only the packuments of the
// packages with findings), and `layers sbom` of one benchmark layer (CycloneDX and SPDX), and prints
// each against the goal of 1 s.
// Run: npm run build && node bench/find/run.mjs (BENCH_CPU_PROF=DIR: every CLI run writes a CPU profile there)
import {execFile} from 'node:child_process'
import http from 'node:http'
import os from 'node:os'
import {promisify} from 'node:util'
import {gunzipSync} from 'node:zlib'
import {createHash} from 'node:crypto'
import {writeFileSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {fmt, fresh, median} from '../util.mjs'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const {openStateDatabase} = await import(path.join(root, 'dist/src/store/db.js'))
const {recordArtifactTree} = await import(path.join(root, 'dist/src/store/artifact-trees.js'))
const {openAuditRun, insertPublications} = await import(path.join(root, 'dist/src/history/store.js'))
const {serializeLockfile} = await import(path.join(root, 'dist/src/lock/serialize.js'))
const {findInProject} = await import(path.join(root, 'dist/src/find/run.js'))
const {parseFindQuery} = await import(path.join(root, 'dist/src/find/plan.js'))

const LAYERS = 50
const PACKAGES = 300
const TARGETS = 20
const FUNCTIONS = 100
const RUNS = 5

const integrity = (text) => `sha512-${createHash('sha512').update(text).digest('base64')}`
const sha = (text) => createHash('sha256').update(text).digest('base64')
const accounts = Array.from({length: TARGETS / 2}, (_, index) => String(100000000000 + index))
const targets = accounts.flatMap((accountId) => ['eu-west-1', 'us-east-1'].map((region) => ({accountId, region})))

/** 300 packages: pkg-0..pkg-269 at the top (each depending on the next two), and 30 nested second copies of ms-like leaves. */
function tree(layer, generation) {
  const packages = {}
  const add = (lockPath, name, version, dependencies) => {
    packages[lockPath] = {
      name,
      version,
      resolved: `https://registry.npmjs.org/${name}/-/${name}-${version}.tgz`,
      integrity: integrity(`${name}@${version}`),
      ...(dependencies ? {dependencies} : {}),
    }
  }
  const top = PACKAGES - 30
  for (let index = 0; index < top; index++) {
    const deps = [index + 1, index + 2].filter((next) => next < top)
    const dependencies = Object.fromEntries(deps.map((next) => [`pkg-${next}`, `^${1 + generation}.0.0`]))
    if (index < 30) dependencies.ms = '^2.0.0'
    add(`node_modules/pkg-${index}`, `pkg-${index}`, `${1 + generation}.${layer % 7}.0`, dependencies)
  }
  for (let index = 0; index < 30; index++) add(`node_modules/pkg-${index}/node_modules/ms`, 'ms', `2.${generation}.${index % 4}`)
  return packages
}

const dir = fresh(path.join(root, 'bench', '.work', 'find'))
writeFileSync(path.join(dir, 'layers.yaml'), 'version: 1\nlayers: {}\nfunctions: {}\n')
const lock = {lockfileVersion: 1, layers: {}}
const db = openStateDatabase(path.join(dir, '.layers'))
const publications = []
for (let layer = 0; layer < LAYERS; layer++) {
  const name = `layer-${layer}`
  const published = {}
  for (const [generation, version] of [[0, 1], [1, 2]]) {
    const packages = tree(layer, generation)
    const codeSha256 = sha(`${name}:${generation}`)
    recordArtifactTree(db, {codeSha256, layer: name, artifactKey: 'x86_64', packages})
    for (const {accountId, region} of targets) {
      const arn = `arn:aws:lambda:${region}:${accountId}:layer:${name}:${version}`
      publications.push({layer: name, artifact: 'x86_64', accountId, region, version, arn, codeSha256, publishedAt: '2026-12-01T00:00:00.000Z'})
      if (generation === 1) ((published[accountId] ??= {})[region] = {x86_64: {arn, version, codeSha256}})
    }
    if (generation === 1) lock.layers[name] = {kind: 'npm', inputs: sha(name), artifacts: {x86_64: {architectures: ['x86_64'], packages}}, published}
  }
}
insertPublications(db, publications)
const auditRun = openAuditRun(db, '2026-12-02T00:00:00.000Z')
for (const {accountId, region} of targets) {
  const functions = Array.from({length: FUNCTIONS}, (_, index) => {
    const uses = [0, 1, 2].map((offset) => `arn:aws:lambda:${region}:${accountId}:layer:layer-${(index + offset * 17) % LAYERS}:2`)
    return {
      accountId,
      region,
      name: `fn-${index}`,
      runtime: 'nodejs22.x',
      architecture: 'x86_64',
      codeSize: 1000,
      layers: uses,
      managed: true,
      aliases: [{name: 'live', routes: [{version: '3', weight: 1, layers: uses.map((arn) => arn.replace(/:2$/, ':1'))}]}],
    }
  })
  auditRun.add({targets: [{accountId, region, status: 'ok', functions: FUNCTIONS}], functions, usage: [], findings: []})
}
auditRun.finish({finishedAt: '2026-12-02T00:01:00.000Z', summary: {targets: TARGETS, failedTargets: 0, functions: TARGETS * FUNCTIONS, findings: {error: 0, warning: 0, info: 0}}})
db.close()
writeFileSync(path.join(dir, 'lockfile.json'), serializeLockfile(lock))

const execFileAsync = promisify(execFile)
const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(process.env.BENCH_CPU_PROF)}`] : []
const run = (args, env = {}) => execFileAsync(process.execPath, [...profile, path.join(root, 'bin/run.js'), ...args], {cwd: dir, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, env: {...process.env, ...env}})

async function timeFind(query) {
  const times = []
  let report
  for (let index = 0; index < RUNS; index++) {
    const started = process.hrtime.bigint()
    const {stdout} = await run(['find', query, '--json'])
    times.push(Number(process.hrtime.bigint() - started) / 1e9)
    report = JSON.parse(stdout)
  }
  const inProcess = []
  for (let index = 0; index < RUNS; index++) {
    const started = process.hrtime.bigint()
    await findInProject({manifestPath: path.join(dir, 'layers.yaml'), query: parseFindQuery(query)})
    inProcess.push(Number(process.hrtime.bigint() - started) / 1e9)
  }
  return {seconds: median(times), inProcess: median(inProcess), report}
}

const packageCount = LAYERS * PACKAGES
console.log(`layers find: ${LAYERS} layers x ${PACKAGES} packages (${packageCount} in the lock, ${2 * packageCount} in recorded trees), ${TARGETS} account-regions x ${FUNCTIONS} functions in the last audit, median of ${RUNS} runs (load average ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} CPUs)`)
for (const query of ['ms@<2.1', 'nothing-like-this']) {
  const {seconds, inProcess, report} = await timeFind(query)
  console.log(`  find ${query}: ${fmt(seconds)} for the CLI (${fmt(inProcess)} of it reading and searching) = ${(seconds / 1).toFixed(2)}x the 1 s goal; ${report.contents.length} contents, ${report.functions.length} function runs`)
}

// The advisory registry: the bulk endpoint answers two advisories (on ms and on pkg-5); every locked
// name has a small packument (pkg-7's locked versions deprecated), cacheable as npm's registry serves them.
const ADVISORIES = {
  ms: [{id: 1, url: 'https://github.com/advisories/GHSA-bench-1', title: 'ms ReDoS', severity: 'high', vulnerable_versions: '<2.1.0', cwe: ['CWE-1333'], cvss: {score: 7.5, vectorString: null}}],
  'pkg-5': [{id: 2, url: 'https://github.com/advisories/GHSA-bench-2', title: 'pkg-5 prototype pollution', severity: 'moderate', vulnerable_versions: '<2.0.0', cwe: [], cvss: {score: 0, vectorString: null}}],
}
const lockedVersionsOf = new Map()
for (const locked of Object.values(lock.layers)) for (const pkg of Object.values(locked.artifacts.x86_64.packages)) (lockedVersionsOf.get(pkg.name) ?? lockedVersionsOf.set(pkg.name, new Set()).get(pkg.name)).add(pkg.version)
let bulkCalls = 0
let packumentReads = 0
const registry = http.createServer((request, response) => {
  const name = decodeURIComponent(request.url.slice(1))
  if (name === '-/npm/v1/security/advisories/bulk') {
    const chunks = []
    request.on('data', (chunk) => chunks.push(chunk))
    request.on('end', () => {
      bulkCalls++
      const raw = Buffer.concat(chunks)
      const query = JSON.parse((request.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8'))
      const answer = Object.fromEntries(Object.keys(query).filter((asked) => ADVISORIES[asked]).map((asked) => [asked, ADVISORIES[asked]]))
      response.writeHead(200, {'content-type': 'application/json'}).end(JSON.stringify(answer))
    })
    return
  }
  packumentReads++
  const versions = [...(lockedVersionsOf.get(name) ?? [])]
  if (versions.length === 0) return response.writeHead(404, {'content-type': 'application/json'}).end('{"error":"Not found"}')
  const all = [...versions, '2.1.3', '3.0.0']
  const body = {
    name,
    'dist-tags': {latest: '3.0.0'},
    versions: Object.fromEntries(all.map((version) => [version, {name, version, ...(name === 'pkg-7' && version !== '3.0.0' ? {deprecated: 'pkg-7 is unmaintained'} : {}), dist: {tarball: `https://registry.npmjs.org/${name}/-/${name}-${version}.tgz`, integrity: integrity(`${name}@${version}`)}}])),
  }
  // As registry.npmjs.org answers packuments: cacheable for 5 minutes, with an ETag to revalidate.
  const text = JSON.stringify(body)
  const etag = `"${createHash('sha1').update(text).digest('hex')}"`
  if (request.headers['if-none-match'] === etag) return response.writeHead(304, {etag, 'cache-control': 'public, max-age=300'}).end()
  response.writeHead(200, {'content-type': 'application/json', 'cache-control': 'public, max-age=300', etag}).end(text)
})
await new Promise((resolve) => registry.listen(0, '127.0.0.1', resolve))
const registryEnv = {npm_config_registry: `http://127.0.0.1:${registry.address().port}/`, npm_config_cache: fresh(path.join(dir, '.npm-cache')), npm_config_userconfig: path.join(dir, 'npmrc')}
const advisoryTimes = []
const packumentsPerRun = []
let advised
for (let index = 0; index < RUNS; index++) {
  packumentReads = 0
  const started = process.hrtime.bigint()
  advised = JSON.parse((await run(['advisories', '--json'], registryEnv)).stdout)
  advisoryTimes.push(Number(process.hrtime.bigint() - started) / 1e9)
  packumentsPerRun.push(packumentReads)
}
registry.close()
const advisoriesSeconds = median(advisoryTimes)
console.log(
  `  advisories: ${fmt(advisoriesSeconds)} for the CLI (first, cold npm cache and no cached deprecations: ${fmt(advisoryTimes[0])}, ${packumentsPerRun[0]} packuments read; then ${packumentsPerRun.slice(1).join(', ')}) = ${advisoriesSeconds.toFixed(2)}x the 1 s goal; ` +
    `${advised.advisories.length} advisories over ${advised.advisories.reduce((sum, finding) => sum + finding.contents.length, 0)} contents, ${advised.summary.functions} functions affected, ${advised.deprecated.length} deprecated version(s), ${bulkCalls / RUNS} bulk call(s) a run`,
)

for (const format of ['cyclonedx', 'spdx']) {
  const times = []
  let components = 0
  for (let index = 0; index < RUNS; index++) {
    const started = process.hrtime.bigint()
    const {stdout} = await run(['sbom', 'layer-0', '--format', format, '--json'])
    times.push(Number(process.hrtime.bigint() - started) / 1e9)
    const document = JSON.parse(stdout).documents[0].document
    components = (document.components ?? document.packages).length
  }
  console.log(`  sbom layer-0 --format ${format}: ${fmt(median(times))} for the CLI; ${components} ${format === 'spdx' ? 'packages' : 'components'}`)
}
