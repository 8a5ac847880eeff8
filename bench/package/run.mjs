#!/usr/bin/env node
/* global process, console, performance */
// Benchmark of `layers package` (issue 7): prints its figures, not part of `npm test`. Uses the built
// CLI (dist/; run `npm run build` first).
//   (1) A generated project of BENCH_FUNCTIONS (default 200) small functions (CommonJS and ESM, 3-4
//       files each, importing builtins, their own files and packages of a shared dir layer): time of
//       `layers package` for all of them with the import check, and with --no-check, after lock and
//       build (BENCH_RUNS runs, default 3, median), and the same service call in-process.
//   (2) The example project (layers.yaml at the repo root, npm layers from the real registry with
//       the user's npm cache): lock and build its layers, package its functions, and print each
//       function's thin zip against the fat zip (code plus its layers' node_modules). The copy drops
//       the ARN layer (`insights`): locking it needs AWS, and it holds no node_modules.
import {spawnSync} from 'node:child_process'
import {cpSync, mkdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const bin = path.join(repo, 'bin/run.js')
const count = Number(process.env.BENCH_FUNCTIONS ?? 200)
const runs = Number(process.env.BENCH_RUNS ?? 3)
const work = path.join(repo, 'bench/.work/package')

function layers(args, cwd) {
  const start = performance.now()
  const result = spawnSync(process.execPath, [bin, ...args], {cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024})
  const seconds = (performance.now() - start) / 1000
  if (result.status !== 0) {
    process.stderr.write(result.stdout + result.stderr)
    throw new Error(`layers ${args.join(' ')} exited ${result.status}`)
  }
  return {seconds, json: args.includes('--json') ? JSON.parse(result.stdout) : undefined}
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]
}

function write(root, file, content) {
  mkdirSync(path.dirname(path.join(root, file)), {recursive: true})
  writeFileSync(path.join(root, file), content)
}

const kib = (bytes) => `${(bytes / 1024).toFixed(1)} KiB`

// --- (1) many small functions ------------------------------------------------------------------
const generated = path.join(work, 'generated')
rmSync(generated, {recursive: true, force: true})
const manifest = [
  'version: 1',
  'settings:',
  '  bucket: bench-{accountId}-{region}',
  '  regions: [eu-west-1]',
  '  architectures: [x86_64]',
  '  runtimes: [nodejs20.x]',
  'layers:',
  '  shared:',
  '    dir: layer',
  'functions:',
]
for (const name of ['text', 'dates', 'ids']) {
  write(generated, `layer/nodejs/node_modules/${name}/package.json`, JSON.stringify({name, version: '1.0.0', exports: {'.': './index.js', './extra': './extra.js'}}))
  write(generated, `layer/nodejs/node_modules/${name}/index.js`, `module.exports = (value) => '${name}:' + value\n`)
  write(generated, `layer/nodejs/node_modules/${name}/extra.js`, `module.exports.extra = true\n`)
}
for (let index = 0; index < count; index++) {
  const key = `fn${String(index).padStart(3, '0')}`
  const esm = index % 2 === 1
  manifest.push(`  ${key}:`, `    source: functions/${key}`, '    handler: index.handler', '    runtime: nodejs20.x', '    layers: [shared]')
  const source = `functions/${key}`
  if (esm) {
    write(generated, `${source}/package.json`, JSON.stringify({name: key, type: 'module', dependencies: {text: '^1.0.0'}}))
    write(generated, `${source}/index.js`, `import path from 'node:path'\nimport text from 'text'\nimport {extra} from 'ids/extra'\nimport {helper} from './lib/helper.js'\n\nexport const handler = async (event) => ({id: ${index}, text: text(event.name), extra, helper: helper(path.sep)})\n`)
    write(generated, `${source}/lib/helper.js`, `export const helper = (value) => value + ${index}\n`)
  } else {
    write(generated, `${source}/index.js`, `'use strict'\nconst crypto = require('node:crypto')\nconst dates = require('dates')\nconst {helper} = require('./lib/helper')\n\nexports.handler = async (event) => ({id: ${index}, hash: crypto.createHash('sha1').update(String(event.n)).digest('hex'), when: dates(event.at), helper: helper()})\n`)
    write(generated, `${source}/lib/helper.js`, `exports.helper = () => ${index}\n`)
  }
  write(generated, `${source}/README.md`, `# ${key}\n`)
  write(generated, `${source}/.layersignore`, '*.md\n')
}
write(generated, 'layers.yaml', manifest.join('\n') + '\n')
layers(['lock'], generated)
layers(['build'], generated)
console.log(`layers package benchmark: node ${process.version}, ${runs} runs each (median)\n`)
const checked = []
const unchecked = []
let last
for (let run = 0; run < runs; run++) {
  const result = layers(['package', '--json'], generated)
  checked.push(result.seconds)
  last = result.json
  unchecked.push(layers(['package', '--no-check', '--json'], generated).seconds)
}
// The same work in this process (no CLI start-up: oclif and the command modules load in ~1-2 s).
const {packageProject} = await import(path.join(repo, 'dist/src/package/package.js'))
const inProcess = []
for (let run = 0; run < runs; run++) {
  const start = performance.now()
  await packageProject({manifestPath: path.join(generated, 'layers.yaml'), emit: () => {}})
  inProcess.push((performance.now() - start) / 1000)
}
const zips = last.functions.reduce((sum, fn) => sum + fn.zipBytes, 0)
console.log(`(1) ${last.functions.length} small functions (${last.imports.functions.reduce((sum, fn) => sum + fn.imports, 0)} imports checked, ${last.imports.errors} errors, ${last.imports.warnings} warnings):`)
console.log(`    layers package          ${median(checked).toFixed(2)} s  (${((1000 * median(checked)) / count).toFixed(1)} ms per function, process start included)`)
console.log(`    layers package --no-check ${median(unchecked).toFixed(2)} s`)
console.log(`    packageProject in-process ${median(inProcess).toFixed(2)} s  (${((1000 * median(inProcess)) / count).toFixed(1)} ms per function: check, zip with fsync, sizes)`)
console.log(`    zips: ${kib(zips)} in total, ${kib(zips / count)} each\n`)

// --- (2) the example project: thin vs fat --------------------------------------------------------
const example = path.join(work, 'example')
rmSync(example, {recursive: true, force: true})
mkdirSync(example, {recursive: true})
cpSync(path.join(repo, 'examples'), path.join(example, 'examples'), {recursive: true})
const text = readFileSync(path.join(repo, 'layers.yaml'), 'utf8')
const withoutArn = text.replace(/\n {2}# AWS-provided[^\n]*\n {2}insights:\n {4}arn:[^\n]*\n/, '\n').replace(/layers: \[([^\]]*)\]/g, (_, list) => `layers: [${list.split(',').map((item) => item.trim()).filter((item) => item !== 'insights').join(', ')}]`)
write(example, 'layers.yaml', withoutArn)
layers(['lock'], example)
layers(['build'], example)
const packaged = layers(['package', '--json'], example).json
console.log('(2) example project: thin package vs fat package (code + its layers\' node_modules)')
let thin = 0
let fat = 0
for (const fn of packaged.functions) {
  thin += fn.zipBytes
  fat += fn.fat.zipBytes
  console.log(`    ${fn.function.padEnd(12)} thin ${kib(fn.zipBytes).padStart(10)}  fat ${kib(fn.fat.zipBytes).padStart(12)}  thin/fat ${(fn.zipBytes / fn.fat.zipBytes).toFixed(4)}  (unzipped ${kib(fn.unzippedBytes)} vs ${kib(fn.fat.unzippedBytes)})`)
}
console.log(`    all          thin ${kib(thin).padStart(10)}  fat ${kib(fat).padStart(12)}  thin/fat ${(thin / fat).toFixed(4)}`)
