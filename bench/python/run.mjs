#!/usr/bin/env node
/* global process, console, performance */
// Benchmark of pip layers (issue 18): prints its figures, not part of `npm test`. Needs the real PyPI,
// uv and python3 with pip on PATH, and the built CLI (dist/; run `npm run build` first):
//   npm run build && npm run bench:python      (BENCH_RUNS=3 by default: the median is reported)
// A layer of 10 requirements (numpy and pandas among them, BENCH_PY_REQUIREMENTS to change them) for
// python3.12 on x86_64, measured in the same run, both with warm caches (one warm-up run each first):
//   (a) pip install --platform manylinux_2_34_x86_64 --platform manylinux_2_28_x86_64 --platform
//       manylinux2014_x86_64 --only-binary=:all: --python-version 3.12 --implementation cp --target
//       python/ (every distribution pinned to the version the lock took; the newer manylinux tags are
//       those Amazon Linux 2023 accepts, so pip can take the same wheels), then zip -qrX
//   (b) layers build from the lock, its build cache emptied, the wheel cache warm
// ratio b/a (goal <= 0.25), and a no-op layers build (cache hit). pip compiles .pyc files into --target
// as it does by default (layers stores none); the zip sizes printed show the difference. bench/.work/python holds the projects
// and both caches (PIP_CACHE_DIR, XDG_CACHE_HOME), so the user's own caches are neither used nor touched.
import {execFileSync, spawnSync} from 'node:child_process'
import {mkdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {fmt, fresh, median} from '../util.mjs'

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const runs = Number(process.env.BENCH_RUNS ?? 3)
const work = path.join(repo, 'bench/.work/python')
const bin = path.join(repo, 'bin/run.js')
const python = process.env.LAYERS_PYTHON ?? 'python3'
const requirements = (process.env.BENCH_PY_REQUIREMENTS ?? 'numpy pandas requests pydantic pyyaml attrs orjson sqlalchemy jinja2 click').split(/\s+/).filter(Boolean)
const env = {PIP_CACHE_DIR: path.join(work, 'pip-cache'), XDG_CACHE_HOME: path.join(work, 'cache'), PIP_DISABLE_PIP_VERSION_CHECK: '1'}

function run(command, args, options = {}) {
  const start = performance.now()
  const result = spawnSync(command, args, {cwd: options.cwd, env: {...process.env, ...env}, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024})
  const seconds = (performance.now() - start) / 1000
  if (result.status !== 0) {
    process.stderr.write(result.stdout + result.stderr)
    throw new Error(`${command} ${args.join(' ')} exited ${result.status}`)
  }
  return {seconds, stdout: result.stdout}
}

mkdirSync(work, {recursive: true})
console.log(`pip layer benchmark: ${requirements.length} requirements (${requirements.join(', ')}), python3.12 x86_64`)
console.log(`${execFileSync(python, ['-m', 'pip', '--version']).toString().trim().split(' from ')[0]}, ${execFileSync('uv', ['--version']).toString().trim()}, node ${process.version}, ${runs} runs each (median)\n`)

// --- layers: lock once, then build ------------------------------------------------------------------
const project = fresh(path.join(work, 'layers'))
writeFileSync(
  path.join(project, 'layers.yaml'),
  `version: 1
settings:
  regions: [eu-west-1]
layers:
  deps:
    pip: {${requirements.map((name) => `${name}: "*"`).join(', ')}}
    runtimes: [python3.12]
    architectures: [x86_64]
`,
)
const cli = (args) => run(process.execPath, [bin, ...args], {cwd: project})
const lockSeconds = cli(['lock', '--json']).seconds
const wheels = JSON.parse(readFileSync(path.join(project, 'lockfile.json'), 'utf8')).layers.deps.artifacts.x86_64.wheels['python3.12']
// Warm-up: fills the wheel cache.
cli(['build', '--json'])
const buildTimes = []
let built
for (let index = 0; index < runs; index++) {
  rmSync(path.join(project, '.layers'), {recursive: true, force: true})
  const result = cli(['build', '--json'])
  buildTimes.push(result.seconds)
  ;[built] = JSON.parse(result.stdout).artifacts
  if (built.cached) throw new Error('the build was a cache hit')
}
// A sub-second figure on a shared machine: 11 runs.
const noopTimes = []
for (let index = 0; index < Math.max(runs, 11); index++) {
  const result = cli(['build', '--json'])
  if (!JSON.parse(result.stdout).artifacts.every((artifact) => artifact.cached)) throw new Error('no-op build was not a cache hit')
  noopTimes.push(result.seconds)
}

// --- pip: install --target, then zip ------------------------------------------------------------------
const pipDir = fresh(path.join(work, 'pip'))
// Every distribution pinned to the version the lock took, so both sides build the same layer (pip still resolves).
const pinned = Object.values(wheels).map((wheel) => `${wheel.name}==${wheel.version}`)
writeFileSync(path.join(pipDir, 'requirements.txt'), pinned.join('\n') + '\n')
const platforms = ['manylinux_2_34_x86_64', 'manylinux_2_28_x86_64', 'manylinux2014_x86_64'].flatMap((platform) => ['--platform', platform])
// --ignore-requires-python: pip (23.x) checks Requires-Python against the host interpreter when it installs
// into --target, whatever --python-version says; with every version pinned it changes no choice.
const pipArgs = (target) => ['-m', 'pip', 'install', '--quiet', ...platforms, '--only-binary=:all:', '--python-version', '3.12', '--implementation', 'cp', '--ignore-requires-python', '--target', target, '-r', 'requirements.txt']
// Warm-up: fills the pip cache.
run(python, pipArgs(path.join(fresh(path.join(work, 'pip-warm')), 'python')), {cwd: pipDir})
rmSync(path.join(work, 'pip-warm'), {recursive: true, force: true})
const pipTimes = []
const zipTimes = []
for (let index = 0; index < runs; index++) {
  const layout = fresh(path.join(pipDir, 'layer'))
  pipTimes.push(run(python, pipArgs(path.join(layout, 'python')), {cwd: pipDir}).seconds)
  zipTimes.push(run('zip', ['-qrX', 'layer.zip', 'python'], {cwd: layout}).seconds)
}
const pipZipBytes = statSync(path.join(pipDir, 'layer', 'layer.zip')).size
const a = median(pipTimes) + median(zipTimes)
const b = median(buildTimes)

console.log('pip side')
console.log(`  pip install --platform ... --target  ${fmt(median(pipTimes))}  (warm pip cache)`)
console.log(`  zip -qrX python                      ${fmt(median(zipTimes))}  (${(pipZipBytes / 1e6).toFixed(1)} MB zip)`)
console.log(`  (a) install + zip                    ${fmt(a)}`)
console.log('layers side')
console.log(`  layers lock (once, cold)             ${fmt(lockSeconds)}`)
console.log(`  (b) layers build (build cache empty) ${fmt(b)}  (warm wheel cache)`)
console.log(`      deps x86_64: ${built.packages} distributions, ${built.files} files, ${(built.unzippedBytes / 1e6).toFixed(1)} MB unzipped, ${(built.zipBytes / 1e6).toFixed(1)} MB zip`)
console.log(`  layers build, no-op (cache hit)      ${fmt(median(noopTimes))}`)
console.log('ratio')
console.log(`  build b/a                            ${(b / a).toFixed(3)}  goal <= 0.25`)
