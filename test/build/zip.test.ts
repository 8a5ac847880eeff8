import {execFileSync} from 'node:child_process'
import {createReadStream} from 'node:fs'
import {mkdtemp, readdir, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {Readable} from 'node:stream'
import {afterEach, beforeEach, describe, expect, it, vi} from 'vitest'
import {BUFFERED_MAX, comparePaths, sortZipEntries, writeDeterministicZip, zipPathProblem, type ZipEntry} from '../../src/build/zip.js'

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'layers-zip-'))
})
afterEach(async () => {
  vi.useRealTimers()
  await rm(dir, {recursive: true, force: true, maxRetries: 5})
})

function bufferEntry(entryPath: string, content: string | Buffer, mode = 0o644): ZipEntry {
  const data = Buffer.isBuffer(content) ? content : Buffer.from(content)
  return {path: entryPath, mode, size: data.length, open: () => data}
}

function sampleEntries(sourceFile: string, sourceSize: number): ZipEntry[] {
  return [
    bufferEntry('nodejs/node_modules/b/index.js', 'module.exports = "b"\n'),
    bufferEntry('nodejs/node_modules/a/package.json', '{"name":"a","version":"1.0.0"}\n'),
    bufferEntry('nodejs/node_modules/a/bin/cli.js', '#!/usr/bin/env node\nconsole.log(1)\n', 0o100775),
    bufferEntry('nodejs/node_modules/A/upper.js', 'x'.repeat(5000)),
    bufferEntry('nodejs/node_modules/a/empty.txt', ''),
    bufferEntry('nodejs/node_modules/a/logo.png', Buffer.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3])),
    {path: 'nodejs/node_modules/a/streamed.js', mode: 0o600, size: sourceSize, open: () => createReadStream(sourceFile)},
    {path: 'nodejs/node_modules/é/index.js', mode: 0o644, size: 3, open: () => Readable.from([Buffer.from('abc')])},
  ]
}

describe('writeDeterministicZip', () => {
  it('gives byte-identical zips in other directories, time zones, clocks and entry orders', async () => {
    const source = path.join(dir, 'source.js')
    const content = 'const x = 1;\n'.repeat(1000)
    await writeFile(source, content)
    const originalTz = process.env.TZ
    const results = []
    const runs = [
      {tz: 'UTC', now: new Date('2026-01-01T00:00:00Z'), reverse: false, sub: 'one'},
      {tz: 'Asia/Tokyo', now: new Date('2031-07-15T13:45:11Z'), reverse: true, sub: 'two/deeper'},
      {tz: 'America/Los_Angeles', now: new Date('1999-12-31T23:59:59Z'), reverse: false, sub: 'three'},
    ]
    try {
      for (const run of runs) {
        process.env.TZ = run.tz
        vi.useFakeTimers({toFake: ['Date'], now: run.now})
        const entries = sampleEntries(source, content.length)
        if (run.reverse) entries.reverse()
        const out = path.join(dir, run.sub, 'layer.zip')
        const result = await writeDeterministicZip(out, entries)
        vi.useRealTimers()
        results.push({result, bytes: await readFile(out)})
      }
    } finally {
      if (originalTz === undefined) delete process.env.TZ
      else process.env.TZ = originalTz
    }
    const [first, ...rest] = results
    for (const other of rest) {
      expect(other.bytes.equals(first!.bytes)).toBe(true)
      expect(other.result).toEqual(first!.result)
    }
    expect(first!.result.files).toBe(8)
    expect(first!.result.zipBytes).toBe(first!.bytes.length)
    expect(first!.result.unzippedBytes).toBe(content.length + 21 + 31 + 35 + 5000 + 0 + 7 + 3)
    expect(Buffer.from(first!.result.codeSha256, 'base64').toString('hex')).toBe(first!.result.sha256Hex)
  })

  it('writes a zip unzip accepts, sorted by bytes, with fixed time and normalised modes', async () => {
    const source = path.join(dir, 'source.js')
    await writeFile(source, 'abc\n'.repeat(100))
    const out = path.join(dir, 'out.zip')
    await writeDeterministicZip(out, sampleEntries(source, 400))
    execFileSync('unzip', ['-tq', out])
    const listing = execFileSync('zipinfo', ['-T', '--h-t', out], {env: {...process.env, TZ: 'UTC'}}).toString().trim().split('\n')
    const names = listing.map((line) => line.split(/\s+/).slice(7).join(' '))
    expect(names).toEqual([
      'nodejs/node_modules/A/upper.js',
      'nodejs/node_modules/a/bin/cli.js',
      'nodejs/node_modules/a/empty.txt',
      'nodejs/node_modules/a/logo.png',
      'nodejs/node_modules/a/package.json',
      'nodejs/node_modules/a/streamed.js',
      'nodejs/node_modules/b/index.js',
      'nodejs/node_modules/é/index.js',
    ])
    for (const line of listing) {
      const [perms, , , , , method, time] = line.split(/\s+/)
      const name = line.split(/\s+/).slice(7).join(' ')
      expect(perms, name).toBe(name.endsWith('cli.js') ? '-rwxr-xr-x' : '-rw-r--r--')
      expect(time, name).toBe('19800201.000000')
      // Deflated only where it saves bytes; never for already-compressed types or empty files.
      expect(method, name).toBe(name.endsWith('upper.js') || name.endsWith('streamed.js') ? 'defN' : 'stor')
    }
    // No extended timestamp or unix uid/gid extra fields anywhere.
    const verbose = execFileSync('zipinfo', ['-v', out]).toString()
    expect(verbose).not.toMatch(/extended-timestamp|Unix UID|universal time/i)
    expect(verbose).toContain('There is no file comment.')
    const extracted = path.join(dir, 'x')
    execFileSync('unzip', ['-q', out, '-d', extracted])
    expect(await readFile(path.join(extracted, 'nodejs/node_modules/a/streamed.js'), 'utf8')).toBe('abc\n'.repeat(100))
    expect((await readdir(path.join(extracted, 'nodejs/node_modules'))).sort()).toEqual(['A', 'a', 'b', 'é'])
  })

  it('fails on a size mismatch or a read error and leaves no file behind', async () => {
    const out = path.join(dir, 'bad.zip')
    await expect(writeDeterministicZip(out, [{path: 'a.txt', mode: 0o644, size: 10, open: () => Buffer.from('short')}])).rejects.toThrow(
      /Cannot read a.txt: expected 10 bytes, got 5/,
    )
    const broken: ZipEntry = {path: 'b.txt', mode: 0o644, size: 3, open: () => createReadStream(path.join(dir, 'missing'))}
    await expect(writeDeterministicZip(out, [bufferEntry('a.txt', 'abc'), broken])).rejects.toThrow(/Cannot read b.txt/)
    const throwing: ZipEntry = {path: 'c.txt', mode: 0o644, size: 3, open: () => Promise.reject(new Error('gone'))}
    await expect(writeDeterministicZip(out, [throwing])).rejects.toThrow(/gone/)
    expect(await readdir(dir)).toEqual([])
  })

  it('streams entries above BUFFERED_MAX with a data descriptor, and writes zip64 records past 65,535 entries', async () => {
    const big = path.join(dir, 'big.bin')
    const content = Buffer.alloc(BUFFERED_MAX + 12345, 'layers ')
    await writeFile(big, content)
    const entries: ZipEntry[] = [
      {path: 'big.bin', mode: 0o755, size: content.length, open: () => createReadStream(big)},
      {path: 'big.png', mode: 0o644, size: content.length, open: () => content},
      ...Array.from({length: 70_000}, (_, index) => bufferEntry(`many/${index}`, '')),
    ]
    const out = path.join(dir, 'out.zip')
    const result = await writeDeterministicZip(out, entries)
    expect(result.files).toBe(70_002)
    execFileSync('unzip', ['-tq', out])
    const listing = execFileSync('zipinfo', ['-s', out, 'big.*']).toString()
    expect(listing).toMatch(/-rwxr-xr-x .* defN .* big\.bin/)
    expect(listing).toMatch(/-rw-r--r-- .* stor .* big\.png/)
    expect(execFileSync('unzip', ['-p', out, 'big.bin'], {maxBuffer: 64 << 20}).equals(content)).toBe(true)
    // The same entries again give the same bytes.
    const again = await writeDeterministicZip(path.join(dir, 'again.zip'), [...entries].reverse())
    expect(again.sha256Hex).toBe(result.sha256Hex)
  })

  // The zips' promise (the same CodeSha256 on any machine) holds across the supported Node.js versions
  // only while their zlib builds deflate alike (ZIP_FORMAT_ID keys the build cache on process.versions.zlib,
  // which differs between Node 22 and 24). CI runs this file on Node 20, 22 and 24 (.ci/node-matrix.sh),
  // so a Node whose zlib deflates otherwise fails here, not in a user's spurious publish.
  it('gives the same bytes on every supported Node.js (a fixed SHA-256 for buffered, stored and streamed entries)', async () => {
    let seed = 42
    const random = (): number => (seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0) / 2 ** 32
    const words = ['const', 'require', 'module.exports', 'function', 'return', 'await', '=>', '{', '}', '(', ')', ';\n', 'layer', 'node_modules', '0x1f', 'undefined']
    const text = (bytes: number): Buffer => {
      const parts: string[] = []
      for (let length = 0; length < bytes; ) {
        const word = words[Math.floor(random() * words.length)]!
        parts.push(word, ' ')
        length += word.length + 1
      }
      return Buffer.from(parts.join('').slice(0, bytes))
    }
    const noise = Buffer.from(Array.from({length: 40_000}, () => Math.floor(random() * 256)))
    const block = text(1 << 20)
    const streamed = Buffer.concat(Array.from({length: BUFFERED_MAX / block.length + 1}, () => block))
    const entries = [
      bufferEntry('nodejs/node_modules/a/index.js', text(200_000)),
      bufferEntry('nodejs/node_modules/a/README.md', text(3_000)),
      bufferEntry('nodejs/node_modules/a/noise.bin', noise),
      bufferEntry('nodejs/node_modules/a/bin/cli.js', '#!/usr/bin/env node\n' + 'x'.repeat(70_000), 0o755),
      {path: 'nodejs/node_modules/b/big.js', mode: 0o644, size: streamed.length, open: () => Readable.from([streamed.subarray(0, 1 << 20), streamed.subarray(1 << 20)])},
    ]
    const result = await writeDeterministicZip(path.join(dir, 'golden.zip'), entries)
    expect({sha256Hex: result.sha256Hex, zipBytes: result.zipBytes}).toEqual({sha256Hex: '79f32c758387abe6954783440d216943109998df7939af2d15c491fa10fee1b0', zipBytes: 1_447_408})
  })

  it('refuses unsafe and duplicate paths', () => {
    expect(zipPathProblem('/etc/passwd')).toBe('absolute path')
    expect(zipPathProblem('a/../b')).toBe("'..' path segment")
    expect(zipPathProblem('a//b')).toBe('empty path segment')
    expect(zipPathProblem('a\\b')).toBe('backslash in path')
    expect(zipPathProblem('C:x')).toBe('absolute path')
    expect(zipPathProblem('nodejs/node_modules/a/index.js')).toBeUndefined()
    expect(() => sortZipEntries([{path: 'a'}, {path: 'b'}, {path: 'a'}])).toThrow(/Duplicate zip entry "a"/)
    expect(() => sortZipEntries([{path: '../x'}])).toThrow(/Refusing/)
    expect(comparePaths('Z', 'a')).toBeLessThan(0)
    expect(comparePaths('a/b', 'a-b')).toBeGreaterThan(0)
  })
})
