/* global process, console, performance */
// Benchmarks the lockfile.json lock (src/lock/file-lock.ts) through updateLockfile of the built dist/:
// uncontended (one process, sequential read-modify-writes that change nothing, so the time is the
// lock's and the read's) and contended (PROCS processes taking TURNS turns each at once). Pass another
// build's dist/src/lock/io.js to time that one the same way (e.g. the proper-lockfile version).
// Usage: npm run build && node bench/lock/run.mjs [path/to/io.js]
import {spawn} from 'node:child_process'
import {writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {pathToFileURL} from 'node:url'
import {fmt, fresh, median} from '../util.mjs'

const io = pathToFileURL(path.resolve(process.argv[2] ?? path.join(import.meta.dirname, '../../dist/src/lock/io.js'))).href
const SEQUENTIAL = 300
const PROCS = 6
const TURNS = 20
const dir = fresh(path.join(tmpdir(), 'layers-bench-lock'))
const file = path.join(dir, 'lockfile.json')
writeFileSync(file, '{\n  "layers": {},\n  "lockfileVersion": 1\n}\n')

const {updateLockfile} = await import(io)
const runs = []
for (let round = 0; round < 3; round++) {
  const started = performance.now()
  for (let index = 0; index < SEQUENTIAL; index++) await updateLockfile(file, (lock) => lock, {waitMs: 10_000})
  runs.push((performance.now() - started) / 1000)
}
console.log(`uncontended: ${SEQUENTIAL} lock-read-release in ${fmt(median(runs))} (median of 3), ${((median(runs) * 1e6) / SEQUENTIAL).toFixed(0)} µs each`)

const script = `const {updateLockfile} = await import(${JSON.stringify(io)})
for (let turn = 0; turn < ${TURNS}; turn++) await updateLockfile(${JSON.stringify(file)}, (lock) => lock, {waitMs: 60000})`
const started = performance.now()
const codes = await Promise.all(
  Array.from({length: PROCS}, () => new Promise((resolve) => spawn(process.execPath, ['--input-type=module', '-e', script], {stdio: 'inherit'}).on('close', resolve))),
)
console.log(`contended: ${PROCS} processes x ${TURNS} turns in ${fmt((performance.now() - started) / 1000)} (exit codes ${codes.join(' ')})`)
fresh(dir)
