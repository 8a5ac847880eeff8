#!/usr/bin/env node
/* global process, console, performance */
// Benchmark of a layer locked from the team's own package-lock.json (issue 20), run by run.mjs after
// its figures or alone (`node bench/build/team-lock.mjs`). For the benchmark set (BENCH_DEPS, default
// ../shared/bench/deps-package.json) it writes the team's package-lock.json once (npm install
// --package-lock-only), then measures, both cold (an empty npm cache each run, BENCH_COLD_RUNS runs,
// default 1, median): npm ci --omit=dev --ignore-scripts from that lock, and layers lock of a layer
// whose package.json sits beside that lock (no lockfile.json), x86_64; prints the ratio (goal <= 0.3).
// Uses the real npm registry and the built CLI (dist/; run `npm run build` first).
import {spawnSync} from 'node:child_process'
import {copyFileSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {fmt, fresh, median} from '../util.mjs'

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const depsFile = process.env.BENCH_DEPS ?? path.resolve(repo, '../shared/bench/deps-package.json')
const work = path.join(repo, 'bench/.work/team-lock')
const bin = path.join(repo, 'bin/run.js')
const runs = Number(process.env.BENCH_COLD_RUNS ?? 1)
const npmFlags = ['--no-audit', '--no-fund', '--loglevel=error']

function run(command, args, options = {}) {
  const start = performance.now()
  const result = spawnSync(command, args, {cwd: options.cwd, env: {...process.env, ...options.env}, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024})
  const seconds = (performance.now() - start) / 1000
  if (result.status !== 0) {
    process.stderr.write(result.stdout + result.stderr)
    throw new Error(`${command} ${args.join(' ')} exited ${result.status}`)
  }
  return {seconds, stdout: result.stdout}
}


const team = fresh(path.join(work, 'team'))
copyFileSync(depsFile, path.join(team, 'package.json'))
run('npm', ['install', '--package-lock-only', '--ignore-scripts', ...npmFlags], {cwd: team})
const lockText = readFileSync(path.join(team, 'package-lock.json'))

const npmTimes = []
const layersTimes = []
let packages = 0
for (let index = 0; index < runs; index++) {
  const npmDir = fresh(path.join(work, 'npm'))
  copyFileSync(path.join(team, 'package.json'), path.join(npmDir, 'package.json'))
  writeFileSync(path.join(npmDir, 'package-lock.json'), lockText)
  npmTimes.push(run('npm', ['ci', '--omit=dev', '--ignore-scripts', ...npmFlags], {cwd: npmDir, env: {npm_config_cache: fresh(path.join(work, 'cache-npm'))}}).seconds)

  const project = fresh(path.join(work, 'layers'))
  copyFileSync(path.join(team, 'package.json'), path.join(project, 'package.json'))
  writeFileSync(path.join(project, 'package-lock.json'), lockText)
  writeFileSync(
    path.join(project, 'layers.yaml'),
    'version: 1\nsettings:\n  bucket: bench-{accountId}-{region}\n  regions: [eu-west-1]\n  architectures: [x86_64]\n  runtimes: [nodejs22.x]\nlayers:\n  deps:\n    npm: ./package.json\n',
  )
  const result = run(process.execPath, [bin, 'lock', '--json'], {cwd: project, env: {npm_config_cache: fresh(path.join(work, 'cache-layers'))}})
  layersTimes.push(result.seconds)
  packages = JSON.parse(result.stdout).layers[0].artifacts[0].packages
}
rmSync(path.join(work, 'cache-npm'), {recursive: true, force: true})
rmSync(path.join(work, 'cache-layers'), {recursive: true, force: true})

console.log(`\nteam lockfile (package-lock.json of ${path.basename(depsFile)}, ${packages} packages in the layer), cold: empty npm cache, ${runs} run(s)`)
console.log(`  npm ci --omit=dev --ignore-scripts  ${fmt(median(npmTimes))}`)
console.log(`  layers lock (from package-lock)     ${fmt(median(layersTimes))}`)
console.log(`  ratio layers/npm                    ${(median(layersTimes) / median(npmTimes)).toFixed(3)}  goal <= 0.3`)
