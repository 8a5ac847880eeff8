// The layer bytes are a pure function of the entries: sorted, explicit parent directories, fixed
// headers (no times, owners or OS), normalised modes; tar(1) reads them back as written.
import {execFileSync} from 'node:child_process'
import {lstatSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {gunzipSync} from 'node:zlib'
import {describe, expect, it} from 'vitest'
import {assembleFunctionImage} from '../../src/image/assemble.js'
import {loadBaseImage} from '../../src/image/base.js'
import {canonicalBytes, sha256Digest} from '../../src/image/oci.js'
import {deterministicGzip, deterministicTar, layerBlob} from '../../src/image/tar.js'
import {writeDeterministicZip} from '../../src/build/zip.js'
import yazl from 'yazl'

/** A zip as a vendor might make it: regular files and symbolic links (mode 0120777, the target as data). */
function vendorZip(file: string, entries: Record<string, string>, links: Record<string, string>): Promise<void> {
  return new Promise((resolve, reject) => {
    const zip = new yazl.ZipFile()
    for (const [name, text] of Object.entries(entries)) zip.addBuffer(Buffer.from(text), name, {mtime: new Date(0), mode: 0o100644})
    for (const [name, target] of Object.entries(links)) zip.addBuffer(Buffer.from(target), name, {mtime: new Date(0), mode: 0o120777})
    zip.end()
    const chunks: Buffer[] = []
    zip.outputStream.on('data', (chunk: Buffer) => chunks.push(chunk)).on('end', () => resolve(writeFileSync(file, Buffer.concat(chunks)))).on('error', reject)
  })
}

const files = [
  {path: 'opt/nodejs/node_modules/b/index.js', mode: 0o600, data: Buffer.from('b\n')},
  {path: 'opt/bin/tool', mode: 0o700, data: Buffer.from('#!/bin/sh\n')},
  {path: `opt/${'deep/'.repeat(40)}file.txt`, mode: 0o644, data: Buffer.from('deep\n')},
  {path: 'opt/nodejs/node_modules/a-b/x.js', mode: 0o644, data: Buffer.alloc(0)},
]

describe('deterministic layers', () => {
  it('gives the same bytes whatever the entry order, with fixed gzip header and tar headers', async () => {
    const one = await layerBlob(files, 'test')
    const two = await layerBlob([...files].reverse(), 'test')
    expect(two.digest).toBe(one.digest)
    expect(two.diffId).toBe(one.diffId)
    // gzip: magic, deflate, no flags, mtime 0, XFL 0, OS 255
    expect([...one.bytes.subarray(0, 10)]).toEqual([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff])
    const tar = gunzipSync(one.bytes)
    expect(sha256Digest(tar)).toBe(one.diffId)
    expect(tar.equals(deterministicTar(files, 'test'))).toBe(true)

    const dir = mkdtempSync(path.join(tmpdir(), 'layers-tar-'))
    try {
      writeFileSync(path.join(dir, 'layer.tar'), tar)
      const listing = execFileSync('tar', ['--numeric-owner', '--full-time', '-tvf', path.join(dir, 'layer.tar')], {encoding: 'utf8', env: {...process.env, TZ: 'UTC'}}).trim().split('\n')
      const names = listing.map((line) => line.split(/\s+/).slice(5).join(' '))
      expect(names.slice(0, 6)).toEqual(['opt/', 'opt/bin/', 'opt/bin/tool', 'opt/deep/', 'opt/deep/deep/', 'opt/deep/deep/deep/'])
      expect(names).toContain(`opt/${'deep/'.repeat(40)}file.txt`)
      expect(names.indexOf('opt/nodejs/node_modules/a-b/')).toBeLessThan(names.indexOf('opt/nodejs/node_modules/b/'))
      for (const line of listing) expect(line).toMatch(/^(drwxr-xr-x|-rwxr-xr-x|-rw-r--r--) 0\/0 +\d+ 1970-01-01 00:00:00 /)
      expect(listing.find((line) => line.endsWith('opt/bin/tool'))).toMatch(/^-rwxr-xr-x/)
      expect(listing.find((line) => line.endsWith('b/index.js'))).toMatch(/^-rw-r--r--/)
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })

  it('pins the tar bytes (node-tar encodes the headers: an upgrade that changes them changes every diff id)', () => {
    const links = [
      {path: 'opt/lib/libfoo.so', mode: 0o120777, data: Buffer.alloc(0), linkTarget: 'libfoo.so.1'},
      {path: 'opt/bin/far', mode: 0o120777, data: Buffer.alloc(0), linkTarget: `../${'x/'.repeat(60)}tool`},
    ]
    const odd = [
      {path: 'opt/lib/caf\u00e9.js', mode: 0o644, data: Buffer.from('u\n')},
      {path: `opt/${'x'.repeat(120)}.txt`, mode: 0o644, data: Buffer.from('wide\n')},
    ]
    const tar = deterministicTar([...files, ...links, ...odd], 'test')
    expect(sha256Digest(tar)).toBe('sha256:714b30853fd392e051c7f894a6582ec52da81c9d67fbe58352d400719c675913')
    const dir = mkdtempSync(path.join(tmpdir(), 'layers-tar-'))
    try {
      writeFileSync(path.join(dir, 'layer.tar'), tar)
      const listing = execFileSync('tar', ['-tvf', path.join(dir, 'layer.tar')], {encoding: 'utf8'})
      expect(listing).toContain(`opt/bin/far -> ../${'x/'.repeat(60)}tool\n`)
      expect(listing).toContain('opt/lib/libfoo.so -> libfoo.so.1\n')
      expect(listing).toContain('opt/lib/caf\u00e9.js\n')
      expect(listing).toContain(`opt/${'x'.repeat(120)}.txt\n`)
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })

  it('refuses unsafe and duplicate paths, naming where they came from', () => {
    expect(() => deterministicTar([{path: 'opt/../etc/passwd', mode: 0o644, data: Buffer.alloc(0)}], 'layer.zip')).toThrow(/layer\.zip: "opt\/\.\.\/etc\/passwd"/)
    expect(() => deterministicTar([files[0]!, files[0]!], 'layer.zip')).toThrow(/appears twice/)
  })

  it('gzip trailer holds CRC-32 and size; the same input compresses to the same bytes', async () => {
    const data = Buffer.from('hello '.repeat(1000))
    const gz = await deterministicGzip(data)
    expect(gunzipSync(gz).equals(data)).toBe(true)
    expect(gz.readUInt32LE(gz.length - 4)).toBe(data.length)
    expect((await deterministicGzip(data)).equals(gz)).toBe(true)
  })

  it('canonical JSON sorts keys at every level', () => {
    expect(canonicalBytes({b: 1, a: {d: [2, {z: 1, y: 2}], c: null}}).toString()).toBe('{"a":{"c":null,"d":[2,{"y":2,"z":1}]},"b":1}')
  })

  it('the same zips give the same manifest digest in two directories and time zones', async () => {
    const digests: string[] = []
    for (const tz of ['UTC', 'Pacific/Kiritimati']) {
      process.env.TZ = tz
      const dir = mkdtempSync(path.join(tmpdir(), 'layers-image-unit-'))
      try {
        await writeDeterministicZip(path.join(dir, 'layer.zip'), [{path: 'nodejs/node_modules/a/index.js', mode: 0o644, size: 2, open: () => Buffer.from('a\n')}])
        await writeDeterministicZip(path.join(dir, 'code.zip'), [{path: 'index.js', mode: 0o644, size: 3, open: () => Buffer.from('x;\n')}])
        const base = await loadBaseImage('scratch', 'arm64', () => {
          throw new Error('no registry')
        })
        const image = await assembleFunctionImage({fn: {key: 'api', handler: 'index.handler', architecture: 'arm64'}, layers: [{name: 'common', zipPath: path.join(dir, 'layer.zip')}], codeZipPath: path.join(dir, 'code.zip'), base})
        expect(image.config).toMatchObject({architecture: 'arm64', os: 'linux', created: '1970-01-01T00:00:00Z', config: {Cmd: ['index.handler']}})
        expect(image.manifest.layers).toHaveLength(2)
        digests.push(image.digest)
      } finally {
        rmSync(dir, {recursive: true, force: true})
      }
    }
    delete process.env.TZ
    expect(digests[1]).toBe(digests[0])
  })

  it("keeps a layer zip's symbolic links inside the layer as links; refuses one pointing outside, naming the layer", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'layers-image-links-'))
    try {
      await vendorZip(path.join(dir, 'vendor.zip'), {'lib/libfoo.so.1': 'elf'}, {'lib/libfoo.so': 'libfoo.so.1', [`bin/${'long-'.repeat(30)}`]: `../${'x/'.repeat(60)}tool`})
      await vendorZip(path.join(dir, 'escape.zip'), {}, {'lib/passwd': '../../etc/passwd'})
      await writeDeterministicZip(path.join(dir, 'code.zip'), [{path: 'index.js', mode: 0o644, size: 3, open: () => Buffer.from('x;\n')}])
      const base = await loadBaseImage('scratch', 'x86_64', () => {
        throw new Error('no registry')
      })
      const assemble = (zip: string) => assembleFunctionImage({fn: {key: 'api', handler: 'index.handler', architecture: 'x86_64'}, layers: [{name: 'vendor', zipPath: path.join(dir, zip), origin: 'layer vendor (arn:aws:lambda:eu-west-1:222222222222:layer:vendor:1)'}], codeZipPath: path.join(dir, 'code.zip'), base})
      const image = await assemble('vendor.zip')
      writeFileSync(path.join(dir, 'layer.tgz'), await image.blob(image.manifest.layers[0]!.digest))
      execFileSync('mkdir', [path.join(dir, 'root')])
      execFileSync('tar', ['-xzf', path.join(dir, 'layer.tgz'), '-C', path.join(dir, 'root')])
      expect(lstatSync(path.join(dir, 'root/opt/lib/libfoo.so')).isSymbolicLink()).toBe(true)
      expect(readlinkSync(path.join(dir, 'root/opt/lib/libfoo.so'))).toBe('libfoo.so.1')
      expect(readFileSync(path.join(dir, 'root/opt/lib/libfoo.so'), 'utf8')).toBe('elf')
      expect(readlinkSync(path.join(dir, `root/opt/bin/${'long-'.repeat(30)}`))).toBe(`../${'x/'.repeat(60)}tool`)
      await expect(assemble('escape.zip')).rejects.toMatchObject({code: 'ERR_LAYERS_IMAGE_PATH', message: expect.stringContaining('layer vendor (arn:aws:lambda:eu-west-1:222222222222:layer:vendor:1): "lib/passwd" is a symbolic link to "../../etc/passwd"')})
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })
})
