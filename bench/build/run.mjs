#!/usr/bin/env node
/* global process, console, performance */
// Benchmark of `layers build` (issue 3): prints its figures, not part of `npm test`.
// Uses ../shared/bench/deps-package.json (or BENCH_DEPS) against the real npm registry with the
// user's warm npm cache, and the built CLI (dist/; run `npm run build` first). Measured in the same run:
//   (a) npm ci --omit=dev --ignore-scripts, then zip -qrX of the result laid out as nodejs/node_modules
//   (b) layers build from a lock (build cache emptied first), x86_64 like the host npm installs for
//   ratio b/a (target <= 0.25); layers lock vs npm install --package-lock-only, both with no lockfile
//   and the warm cache, and both cold (empty npm cache, BENCH_COLD_RUNS runs, default 1);
//   a no-op layers build (cache hit, target < 0.3 s); peak RSS of the build (target < 300 MB).
// Every timed step runs BENCH_RUNS times (default 3) and the median is reported. Then team-lock.mjs:
// cold layers lock from the team's package-lock.json against cold npm ci --omit=dev --ignore-scripts.
import {execFileSync, spawnSync} from 'node:child_process'
import {copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {fmt, fresh, median} from '../util.mjs'

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const depsFile = process.env.BENCH_DEPS ?? path.resolve(repo, '../shared/bench/deps-package.json')
const runs = Number(process.env.BENCH_RUNS ?? 3)
const work = path.join(repo, 'bench/.work/build')
const bin = path.join(repo, 'bin/run.js')
const hasTime = existsSync('/usr/bin/time')

function run(command, args, options = {}) {
  const wrapped = hasTime && options.rss ? ['/usr/bin/time', ['-v', command, ...args]] : [command, args]
  const start = performance.now()
  const result = spawnSync(wrapped[0], wrapped[1], {cwd: options.cwd, env: {...process.env, ...options.env}, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024})
  const seconds = (performance.now() - start) / 1000
  if (result.status !== 0) {
    process.stderr.write(result.stdout + result.stderr)
    throw new Error(`${command} ${args.join(' ')} exited ${result.status}`)
  }
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(result.stderr)?.[1]
  return {seconds, stdout: result.stdout, rssMb: rss ? Number(rss) / 1024 : undefined}
}

const deps = JSON.parse(readFileSync(depsFile, 'utf8'))
console.log(`layers build benchmark: ${Object.keys(deps.dependencies).length} direct dependencies from ${depsFile}`)
console.log(`node ${process.version}, npm ${execFileSync('npm', ['--version']).toString().trim()}, ${runs} runs each (median)\n`)

// --- npm: lock, then ci + zip -------------------------------------------------------------------
const npmDir = fresh(path.join(work, 'npm'))
copyFileSync(depsFile, path.join(npmDir, 'package.json'))
const npmFlags = ['--no-audit', '--no-fund', '--loglevel=error']
// Warm-up: fills the npm cache with every packument and tarball both sides need.
run('npm', ['install', '--package-lock-only', '--ignore-scripts', ...npmFlags], {cwd: npmDir})
run('npm', ['ci', '--omit=dev', '--ignore-scripts', ...npmFlags], {cwd: npmDir})

const npmLockTimes = []
for (let index = 0; index < runs; index++) {
  rmSync(path.join(npmDir, 'package-lock.json'), {force: true})
  rmSync(path.join(npmDir, 'node_modules'), {recursive: true, force: true})
  npmLockTimes.push(run('npm', ['install', '--package-lock-only', '--ignore-scripts', ...npmFlags], {cwd: npmDir}).seconds)
}
const npmCiTimes = []
const zipTimes = []
for (let index = 0; index < runs; index++) {
  const layout = fresh(path.join(work, 'npm-layer'))
  const nodejs = path.join(layout, 'nodejs')
  mkdirSync(nodejs)
  copyFileSync(path.join(npmDir, 'package.json'), path.join(nodejs, 'package.json'))
  copyFileSync(path.join(npmDir, 'package-lock.json'), path.join(nodejs, 'package-lock.json'))
  npmCiTimes.push(run('npm', ['ci', '--omit=dev', '--ignore-scripts', ...npmFlags], {cwd: nodejs}).seconds)
  rmSync(path.join(layout, 'layer.zip'), {force: true})
  zipTimes.push(run('zip', ['-qrX', 'layer.zip', 'nodejs/node_modules'], {cwd: layout}).seconds)
}
const npmZipBytes = readFileSync(path.join(work, 'npm-layer', 'layer.zip')).length
const a = median(npmCiTimes) + median(zipTimes)

// --- layers: lock, then build ---------------------------------------------------------------------
const project = fresh(path.join(work, 'layers'))
copyFileSync(depsFile, path.join(project, 'package.json'))
writeFileSync(
  path.join(project, 'layers.yaml'),
  `version: 1
settings:
  bucket: bench-{accountId}-{region}
  regions: [eu-west-1]
  architectures: [x86_64]
  runtimes: [nodejs22.x]
layers:
  deps:
    npm: ./package.json
`,
)
const cli = (args, options = {}) => run(process.execPath, [bin, ...args], {cwd: project, ...options})
const lockTimes = []
for (let index = 0; index < runs; index++) {
  rmSync(path.join(project, 'lockfile.json'), {force: true})
  lockTimes.push(cli(['lock', '--json']).seconds)
}
// Cold: an empty npm cache for both sides (every packument comes from the registry).
const coldRuns = Number(process.env.BENCH_COLD_RUNS ?? 1)
const coldNpm = []
const coldLayers = []
const lockRss = []
for (let index = 0; index < coldRuns; index++) {
  const npmCache = fresh(path.join(work, 'cold-cache-npm'))
  rmSync(path.join(npmDir, 'package-lock.json'), {force: true})
  coldNpm.push(run('npm', ['install', '--package-lock-only', '--ignore-scripts', ...npmFlags], {cwd: npmDir, env: {npm_config_cache: npmCache}}).seconds)
  const layersCache = fresh(path.join(work, 'cold-cache-layers'))
  rmSync(path.join(project, 'lockfile.json'), {force: true})
  const result = cli(['lock', '--json'], {env: {npm_config_cache: layersCache}, rss: true})
  coldLayers.push(result.seconds)
  if (result.rssMb !== undefined) lockRss.push(result.rssMb)
}
rmSync(path.join(work, 'cold-cache-npm'), {recursive: true, force: true})
rmSync(path.join(work, 'cold-cache-layers'), {recursive: true, force: true})
const buildTimes = []
const rss = []
let built
for (let index = 0; index < runs; index++) {
  rmSync(path.join(project, '.layers'), {recursive: true, force: true})
  const result = cli(['build', '--json'], {rss: true})
  buildTimes.push(result.seconds)
  if (result.rssMb !== undefined) rss.push(result.rssMb)
  built = JSON.parse(result.stdout).artifacts
}
// A sub-second figure on a shared machine: 11 runs, and Node's own start-up measured beside it.
const noopTimes = []
const nodeStartTimes = []
for (let index = 0; index < Math.max(runs, 11); index++) {
  const result = cli(['build', '--json'])
  if (!JSON.parse(result.stdout).artifacts.every((artifact) => artifact.cached)) throw new Error('no-op build was not a cache hit')
  noopTimes.push(result.seconds)
  nodeStartTimes.push(run(process.execPath, ['-e', '0']).seconds)
}
const b = median(buildTimes)

console.log('npm side')
console.log(`  npm install --package-lock-only     ${fmt(median(npmLockTimes))}  (warm cache)`)
console.log(`  npm install --package-lock-only     ${fmt(median(coldNpm))}  (cold: empty npm cache)`)
console.log(`  npm ci --omit=dev --ignore-scripts  ${fmt(median(npmCiTimes))}`)
console.log(`  zip -qrX nodejs/node_modules        ${fmt(median(zipTimes))}  (${(npmZipBytes / 1e6).toFixed(1)} MB zip)`)
console.log(`  (a) ci + zip                        ${fmt(a)}`)
console.log('layers side')
console.log(`  layers lock (no lockfile)           ${fmt(median(lockTimes))}  (warm cache)`)
console.log(`  layers lock (no lockfile)           ${fmt(median(coldLayers))}  (cold: empty npm cache)${lockRss.length > 0 ? `, peak RSS ${median(lockRss).toFixed(0)} MB` : ''}`)
console.log(`  (b) layers build (cache empty)      ${fmt(b)}`)
for (const artifact of built) {
  console.log(`      ${artifact.layer} ${artifact.artifactKey}: ${artifact.packages} packages, ${artifact.files} files, ${(artifact.unzippedBytes / 1e6).toFixed(1)} MB unzipped, ${(artifact.zipBytes / 1e6).toFixed(1)} MB zip`)
}
console.log(`  layers build, no-op (cache hit)     ${fmt(median(noopTimes))}  target < 0.30 s`)
console.log(`      node -e 0 on this machine         ${fmt(median(nodeStartTimes))}`)
console.log(`  peak RSS of layers build            ${rss.length > 0 ? `${median(rss).toFixed(0)} MB` : 'n/a (no /usr/bin/time)'}  target < 300 MB`)
console.log('ratios')
console.log(`  build b/a                           ${(b / a).toFixed(3)}  target <= 0.25`)
console.log(`  lock layers/npm, warm cache         ${(median(lockTimes) / median(npmLockTimes)).toFixed(3)}`)
console.log(`  lock layers/npm, cold               ${(median(coldLayers) / median(coldNpm)).toFixed(3)}`)

// The layer locked from the team's own package-lock.json, cold, against npm ci (team-lock.mjs).
await import('./team-lock.mjs')
