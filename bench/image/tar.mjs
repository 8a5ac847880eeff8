#!/usr/bin/env node
/* global process, console, performance, Buffer */
// Benchmark of the image layer tar (src/image/tar.ts) against the tar libraries, measured in the same
// run: prints its figures, not part of `npm test`. Uses the built module (dist/; run `npm run build`).
// The layer: the AWS SDK v3 as a Lambda layer would hold it (node_modules/@aws-sdk and @smithy, plus
// the symbolic links of node_modules/.bin, under opt/nodejs/node_modules/), read into memory first as
// src/image/assemble.ts does from a layer zip. Each writer gets the same entries and the same fixed
// headers (sorted, explicit parent directories, mtime 0, uid/gid 0, modes 0644/0755/0777):
//   ours         deterministicTar: node-tar's Header and Pax classes encode each header, one Buffer.concat
//                (a hand-written encoder, replaced, measured the same as these: CPU 1.00-1.07x)
//   node-tar     tar's PackSync fed ReadEntry objects (the library's in-memory packing stream)
//   tar-stream   tar-stream's pack.entry(header, buffer) (the resolved version, or BENCH_TAR_STREAM=dir)
// For each: median wall and CPU time (the process's, GC included; steadier than wall time on a busy
// machine) of BENCH_RUNS (default 7, order rotated per run), the ratios to ours, whether the
// bytes equal ours, whether two runs (and a child run in another time zone) give the same bytes, and
// whether tar(1) lists the same entries (path, type, mode, owner, time, size, link) as ours (a
// directory's trailing slash aside).
import {execFileSync} from 'node:child_process'
import {createHash} from 'node:crypto'
import {lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'
import {Header, PackSync, ReadEntry} from 'tar'
import {median} from '../util.mjs'

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const runs = Number(process.env.BENCH_RUNS ?? 7)
const {deterministicGzip, deterministicTar} = await import(pathToFileURL(path.join(repo, 'dist/src/image/tar.js')).href)
const require = createRequire(import.meta.url)
const tarStreamDir = process.env.BENCH_TAR_STREAM ?? path.dirname(require.resolve('tar-stream/package.json'))
const tarStream = require(tarStreamDir)
const versions = {tar: require('tar/package.json').version, 'tar-stream': JSON.parse(readFileSync(path.join(tarStreamDir, 'package.json'), 'utf8')).version}

// --- the layer --------------------------------------------------------------------------------------
function walk(root, rel, out) {
  for (const name of readdirSync(path.join(root, rel)).sort()) {
    const relPath = rel ? `${rel}/${name}` : name
    const stat = lstatSync(path.join(root, relPath))
    if (stat.isDirectory()) walk(root, relPath, out)
    else if (stat.isSymbolicLink()) out.push({path: `opt/nodejs/node_modules/${relPath}`, mode: 0o120777, data: Buffer.alloc(0), linkTarget: readlinkSync(path.join(root, relPath))})
    else if (stat.isFile()) out.push({path: `opt/nodejs/node_modules/${relPath}`, mode: stat.mode, data: readFileSync(path.join(root, relPath))})
  }
  return out
}
const modules = path.join(repo, 'node_modules')
const files = []
for (const dir of ['.bin', '@aws-sdk', '@smithy']) walk(modules, dir, files)

// --- the writers: the same entry plan (ours: src/image/tar.ts), encoded by each ----------------------
const compareBytes = (a, b) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'))
const EPOCH = new Date(0)

/** Directories and files in tar order with their fixed modes (what deterministicTar writes). */
function plan(input) {
  const dirs = new Set()
  for (const file of input) {
    const segments = file.path.split('/')
    for (let i = 1; i < segments.length; i++) dirs.add(segments.slice(0, i).join('/'))
  }
  const entries = [...[...dirs].map((dir) => ({key: `${dir}/`, path: `${dir}/`, type: 'Directory', mode: 0o755})), ...input.map((file) => ({key: file.path, path: file.path, type: file.linkTarget === undefined ? 'File' : 'SymbolicLink', mode: file.linkTarget !== undefined ? 0o777 : (file.mode & 0o111) !== 0 ? 0o755 : 0o644, data: file.linkTarget === undefined ? file.data : undefined, linkpath: file.linkTarget}))]
  return entries.sort((a, b) => compareBytes(a.key, b.key))
}

const headerFields = (entry) => ({path: entry.path, type: entry.type, mode: entry.mode, uid: 0, gid: 0, size: entry.data?.length ?? 0, mtime: EPOCH, linkpath: entry.linkpath, uname: '', gname: ''})

function nodeTarPack(input) {
  const pack = new PackSync({})
  const chunks = []
  pack.on('data', (chunk) => chunks.push(chunk))
  for (const entry of plan(input)) {
    const readEntry = new ReadEntry(new Header(headerFields(entry)))
    if (entry.data?.length) readEntry.write(entry.data)
    readEntry.end()
    pack.write(readEntry)
  }
  pack.end()
  return Buffer.concat(chunks)
}

function tarStreamPack(input) {
  return new Promise((resolve, reject) => {
    const pack = tarStream.pack()
    const chunks = []
    pack.on('data', (chunk) => chunks.push(chunk)).on('end', () => resolve(Buffer.concat(chunks))).on('error', reject)
    for (const entry of plan(input)) {
      const type = {Directory: 'directory', File: 'file', SymbolicLink: 'symlink'}[entry.type]
      pack.entry({name: entry.path, type, mode: entry.mode, uid: 0, gid: 0, mtime: EPOCH, size: entry.data?.length ?? 0, linkname: entry.linkpath}, entry.data ?? Buffer.alloc(0))
    }
    pack.finalize()
  })
}

const writers = {
  ours: (input) => deterministicTar(input, 'bench'),
  'node-tar': nodeTarPack,
  'tar-stream': tarStreamPack,
}
const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex')

if (process.argv[2] === '--digests') {
  // The child run of the time-zone check: the digest of each writer's tar.
  const digests = {}
  for (const [name, write] of Object.entries(writers)) digests[name] = sha256(await write(files))
  console.log(JSON.stringify(digests))
  process.exit(0)
}

// --- measure ------------------------------------------------------------------------------------------
const totalBytes = files.reduce((sum, file) => sum + file.data.length, 0)
console.log(`image layer tar benchmark: ${files.length} entries (${files.filter((f) => f.linkTarget).length} symbolic links, ${files.filter((f) => Buffer.byteLength(f.path) > 100).length} paths over 100 bytes), ${(totalBytes / 1024 / 1024).toFixed(1)} MiB of file data; node ${process.version}, tar ${versions.tar}, tar-stream ${versions['tar-stream']}; ${runs} runs, median`)

const names = Object.keys(writers)
const times = Object.fromEntries(names.map((name) => [name, []]))
const cpuTimes = Object.fromEntries(names.map((name) => [name, []]))
const outputs = {}
for (let run = 0; run < runs; run++) {
  for (let i = 0; i < names.length; i++) {
    const name = names[(run + i) % names.length]
    const start = performance.now()
    const cpuStart = process.cpuUsage()
    const bytes = await writers[name](files)
    const cpu = process.cpuUsage(cpuStart)
    times[name].push((performance.now() - start) / 1000)
    cpuTimes[name].push((cpu.user + cpu.system) / 1e6)
    if (outputs[name] && !outputs[name].equals(bytes)) outputs[name].unstable = true
    outputs[name] ??= bytes
  }
}
const gzipStart = performance.now()
const gzipCpuStart = process.cpuUsage()
await deterministicGzip(outputs.ours)
const gzipCpu = process.cpuUsage(gzipCpuStart)
const gzipSeconds = (performance.now() - gzipStart) / 1000

const zone = 'Pacific/Kiritimati'
const childDigests = JSON.parse(execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--digests'], {env: {...process.env, TZ: zone}, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024}))

const dir = mkdtempSync(path.join(tmpdir(), 'layers-bench-tar-'))
const listing = (name) => {
  writeFileSync(path.join(dir, `${name}.tar`), outputs[name])
  const lines = execFileSync('tar', ['--numeric-owner', '--full-time', '-tvf', path.join(dir, `${name}.tar`)], {encoding: 'utf8', env: {...process.env, TZ: 'UTC'}, maxBuffer: 64 * 1024 * 1024})
  // node-tar splits a long directory name at the prefix without its trailing slash (type 5 says it).
  return lines.replace(/\/$/gm, '')
}
const ourListing = listing('ours')
const ms = (seconds) => `${(seconds * 1000).toFixed(0)} ms`
const pad = (text, width) => String(text).padEnd(width)
console.log(`${pad('writer', 14)}${pad('wall', 9)}${pad('ratio', 8)}${pad('cpu', 9)}${pad('ratio', 8)}${pad('MiB', 8)}${pad('= ours', 8)}${pad('stable', 8)}${pad(`TZ ${zone}`, 24)}same entries (tar -tv)`)
for (const name of names) {
  const seconds = median(times[name])
  const bytes = outputs[name]
  let sameEntries
  try {
    sameEntries = listing(name) === ourListing ? 'yes' : 'NO'
  } catch (error) {
    sameEntries = `tar(1) failed: ${error.message.split('\n')[0]}`
  }
  const cpu = median(cpuTimes[name])
  console.log(`${pad(name, 14)}${pad(ms(seconds), 9)}${pad(`${(seconds / median(times.ours)).toFixed(2)}x`, 8)}${pad(ms(cpu), 9)}${pad(`${(cpu / median(cpuTimes.ours)).toFixed(2)}x`, 8)}${pad((bytes.length / 1024 / 1024).toFixed(1), 8)}${pad(bytes.equals(outputs.ours) ? 'yes' : 'no', 8)}${pad(bytes.unstable ? 'NO' : 'yes', 8)}${pad(childDigests[name] === sha256(bytes) ? 'same bytes' : 'OTHER BYTES', 24)}${sameEntries}`)
}
rmSync(dir, {recursive: true, force: true})
console.log(`for scale: gzip of that tar (deterministicGzip, level 6, one run) ${ms(gzipSeconds)} wall, ${ms((gzipCpu.user + gzipCpu.system) / 1e6)} cpu`)
