// Unit tests of size accounting (the fat package computed from zip listings is the size the zip
// writer really produces), zip reading/extraction, and the function file rules.
import {execFileSync} from 'node:child_process'
import {mkdir, mkdtemp, readFile, rm, symlink, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {Readable} from 'node:stream'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {writeDeterministicZip, BUFFERED_MAX, type ZipEntry} from '../../src/build/zip.js'
import type {FunctionSpec} from '../../src/manifest/types.js'
import {listFunctionFiles} from '../../src/package/files.js'
import {fatPackageSize, zipBytesOf} from '../../src/package/sizes.js'
import {extractZip, listZip} from '../../src/package/zip-read.js'
import {writeTree} from './fixture-project.js'

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'layers-sizes-'))
})
afterEach(async () => {
  await rm(dir, {recursive: true, force: true, maxRetries: 5})
})

function entry(entryPath: string, content: string | Buffer, mode = 0o644): ZipEntry {
  const data = Buffer.from(content)
  return {path: entryPath, mode, size: data.length, open: () => data}
}

describe('size accounting', () => {
  it('computes a zip size from its listing exactly, streamed entries included', async () => {
    const big = Buffer.alloc(BUFFERED_MAX + 10, 7)
    const zip = await writeDeterministicZip(path.join(dir, 'a.zip'), [entry('a.js', 'x'.repeat(500)), entry('dir/ünïcode.txt', 'hello'), entry('empty', ''), {...entry('big.bin', big), open: () => Readable.from([big])}])
    const listing = await listZip(path.join(dir, 'a.zip'))
    expect(listing.find((item) => item.path === 'big.bin')?.descriptor).toBe(true)
    expect(zipBytesOf(listing)).toBe(zip.zipBytes)
  })

  it('sizes the fat package as code plus the layers’ node_modules, later layers replacing earlier files', async () => {
    const code = await writeDeterministicZip(path.join(dir, 'code.zip'), [entry('index.js', 'require("a")\n')])
    await writeDeterministicZip(path.join(dir, 'l1.zip'), [entry('nodejs/node_modules/a/index.js', 'one'.repeat(50)), entry('nodejs/node_modules/b/index.js', 'b'), entry('bin/tool', 'not node_modules')])
    await writeDeterministicZip(path.join(dir, 'l2.zip'), [entry('nodejs/node20/node_modules/a/index.js', 'two')])
    const fat = fatPackageSize(await listZip(path.join(dir, 'code.zip')), [await listZip(path.join(dir, 'l1.zip')), await listZip(path.join(dir, 'l2.zip'))])
    const real = await writeDeterministicZip(path.join(dir, 'fat.zip'), [entry('index.js', 'require("a")\n'), entry('node_modules/a/index.js', 'two'), entry('node_modules/b/index.js', 'b')])
    expect(fat).toEqual({zipBytes: real.zipBytes, unzippedBytes: real.unzippedBytes, files: 3})
    expect(code.files).toBe(1)
  })

  it('extracts zips in order: a later file replaces an earlier one, a file may replace a directory and back', async () => {
    await writeDeterministicZip(path.join(dir, '1.zip'), [entry('nodejs/x/index.js', 'first'), entry('bin/tool', '#!/bin/sh\n', 0o755), entry('conflict/inner.txt', 'dir first')])
    await writeDeterministicZip(path.join(dir, '2.zip'), [entry('nodejs/x/index.js', 'second'), entry('conflict', 'file now')])
    await writeDeterministicZip(path.join(dir, '3.zip'), [entry('conflict/again.txt', 'dir again')])
    const out = path.join(dir, 'opt')
    await mkdir(out)
    expect(await extractZip(path.join(dir, '1.zip'), out)).toBe(3)
    await extractZip(path.join(dir, '2.zip'), out)
    expect(await readFile(path.join(out, 'nodejs/x/index.js'), 'utf8')).toBe('second')
    expect(await readFile(path.join(out, 'conflict'), 'utf8')).toBe('file now')
    await extractZip(path.join(dir, '3.zip'), out)
    expect(await readFile(path.join(out, 'conflict/again.txt'), 'utf8')).toBe('dir again')
    expect(execFileSync('stat', ['-c', '%a', path.join(out, 'bin/tool')]).toString().trim()).toBe('755')
  })

  it('refuses a zip entry escaping the target', async () => {
    // A zip with a `../` name: written with a same-length safe name, then patched in place.
    await writeDeterministicZip(path.join(dir, 'evil.zip'), [entry('xx/x.txt', 'x')])
    const bytes = await readFile(path.join(dir, 'evil.zip'))
    await writeFile(path.join(dir, 'evil.zip'), Buffer.from(bytes.toString('latin1').replaceAll('xx/x.txt', '../x.txt'), 'latin1'))
    await expect(extractZip(path.join(dir, 'evil.zip'), path.join(dir, 'out'))).rejects.toMatchObject({code: 'ERR_LAYERS_ZIP_UNSAFE'})
  })
})

describe('function files', () => {
  function fn(source: string, exclude: string[] = []): FunctionSpec {
    return {key: 'f', name: 'f', source, handler: 'index.handler', runtime: 'nodejs20.x', architecture: 'x86_64', layers: [], accounts: [], exclude}
  }

  it('keeps code only: no node_modules anywhere, .layersignore and exclude honoured, links inside followed', async () => {
    const source = path.join(dir, 'fn')
    await writeTree(source, {
      'index.js': '1',
      'lib/a.js': '2',
      'lib/node_modules/x/index.js': 'nested node_modules',
      'node_modules/y/index.js': 'top node_modules',
      'build/out.js': 'ignored dir',
      'debug.log': 'ignored',
      'keep.log': 'kept by !',
      'fixtures/f.json': 'excluded',
      'fixtures/keep.json': 'kept by !',
      '.layersignore': 'build/\n*.log\n!keep.log\n',
    })
    await symlink('lib/a.js', path.join(source, 'alias.js'))
    const files = await listFunctionFiles(fn(source, ['fixtures/**', '!fixtures/keep.json']))
    expect(files.map((file) => file.rel)).toEqual(['alias.js', 'fixtures/keep.json', 'index.js', 'keep.log', 'lib/a.js'])
    expect(files.find((file) => file.rel === 'alias.js')?.source).toBe(path.join(await import('node:fs/promises').then((fs) => fs.realpath(source)), 'lib', 'a.js'))
  })

  it('names a missing source directory', async () => {
    await expect(listFunctionFiles(fn(path.join(dir, 'nope')))).rejects.toMatchObject({code: 'ERR_LAYERS_FUNCTION_SOURCE_MISSING', exitCode: 2, message: expect.stringContaining('Function f: source')})
    await writeFile(path.join(dir, 'file'), '')
    await expect(listFunctionFiles(fn(path.join(dir, 'file')))).rejects.toMatchObject({code: 'ERR_LAYERS_FUNCTION_SOURCE_MISSING'})
  })
})
