import {execFileSync} from 'node:child_process'
import {existsSync} from 'node:fs'
import {chmod, mkdir, mkdtemp, open, readdir, rm, symlink, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {buildLayers, UNZIPPED_LIMIT, type BuildOptions} from '../../src/build/build.js'
import {collectEvents} from '../../src/events.js'
import type {DirLayer} from '../../src/manifest/types.js'
import {dirLayer, lockOf, manifestOf} from './project.js'

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'layers-dir-build-'))
})
afterEach(async () => {
  await rm(dir, {recursive: true, force: true, maxRetries: 5})
})

async function files(root: string, tree: Record<string, string>): Promise<void> {
  for (const [file, content] of Object.entries(tree)) {
    await mkdir(path.dirname(path.join(root, file)), {recursive: true})
    await writeFile(path.join(root, file), content)
  }
}

function setup(root: string, layerDir: string, overrides: Partial<DirLayer> = {}) {
  const manifest = manifestOf(root, [dirLayer('tools', layerDir, overrides)])
  const lock = lockOf({tools: {kind: 'dir', artifacts: {x86_64: {architectures: ['x86_64']}}}})
  return {manifest, lock}
}

function options(root: string, emit = collectEvents().emit): BuildOptions {
  return {stateDir: path.join(root, '.layers'), emit, staleLayers: () => []}
}

function zipNames(zip: string): string[] {
  return execFileSync('zipinfo', ['-1', zip]).toString().trim().split('\n')
}

describe('dir layer build', () => {
  it('zips the directory content with excludes, keeps, in-dir links and exec bits, and caches by content', async () => {
    const layerDir = path.join(dir, 'layer')
    await files(layerDir, {
      'bin/tool': '#!/bin/sh\necho hi\n',
      'lib/libx.so': 'elf',
      'nodejs/node_modules/helper/index.js': "module.exports = 'helper'\n",
      'nodejs/node_modules/helper/README.md': 'readme',
      'nodejs/node_modules/helper/test/index.js': 'test',
      'notes/keep.txt': 'keep',
      'notes/drop.txt': 'drop',
      'docs/guide.html': 'docs',
    })
    await chmod(path.join(layerDir, 'bin/tool'), 0o700)
    await symlink('../lib/libx.so', path.join(layerDir, 'bin/libx-link.so'))
    await symlink('lib', path.join(layerDir, 'lib-alias'))
    const root = path.join(dir, 'project')
    const {manifest, lock} = setup(root, layerDir, {exclude: ['**/*.txt', '!notes/keep.txt']})
    const [built] = await buildLayers(manifest, lock, options(root))
    expect(built).toMatchObject({layer: 'tools', artifactKey: 'x86_64', packages: 0, cached: false})
    execFileSync('unzip', ['-tq', built!.zipPath])
    expect(zipNames(built!.zipPath)).toEqual([
      'bin/libx-link.so',
      'bin/tool',
      'lib-alias/libx.so',
      'lib/libx.so',
      'nodejs/node_modules/helper/index.js',
      'notes/keep.txt',
    ])
    const listing = execFileSync('zipinfo', ['-s', built!.zipPath]).toString()
    expect(listing).toMatch(/-rwxr-xr-x .* bin\/tool/)
    expect(listing).toMatch(/-rw-r--r-- .* lib\/libx\.so/)

    const again = await buildLayers(manifest, lock, options(root))
    expect(again).toEqual([{...built, cached: true}])
    await writeFile(path.join(layerDir, 'lib/libx.so'), 'elf2')
    const changed = await buildLayers(manifest, lock, options(root))
    expect(changed[0]!.cached).toBe(false)
    expect(changed[0]!.codeSha256).not.toBe(built!.codeSha256)

    // Another directory with the same content gives the same bytes.
    const copy = path.join(dir, 'copy')
    execFileSync('cp', ['-a', layerDir, copy])
    const other = await buildLayers(setup(path.join(dir, 'p2'), copy, {exclude: ['**/*.txt', '!notes/keep.txt']}).manifest, lock, options(path.join(dir, 'p2')))
    expect(other[0]!.codeSha256).toBe(changed[0]!.codeSha256)
  })

  it('rejects a link escaping the directory, naming it', async () => {
    const layerDir = path.join(dir, 'layer')
    await files(layerDir, {'ok.txt': 'ok'})
    await files(dir, {'secret.txt': 'secret'})
    await symlink('../secret.txt', path.join(layerDir, 'leak.txt'))
    const root = path.join(dir, 'project')
    const {manifest, lock} = setup(root, layerDir)
    await expect(buildLayers(manifest, lock, options(root))).rejects.toMatchObject({
      code: 'ERR_LAYERS_LINK_ESCAPES',
      exitCode: 2,
      message: expect.stringContaining('Layer tools: leak.txt is a link to ../secret.txt, outside the layer directory'),
    })
    expect(existsSync(path.join(root, '.layers', 'build')) ? await readdir(path.join(root, '.layers', 'build'), {recursive: true}) : []).toEqual([])
  })

  it('fails with exit 1 above the unzipped limit, warns above 80%, and keeps the artifacts in the error', async () => {
    const big = path.join(dir, 'big')
    const near = path.join(dir, 'near')
    await mkdir(big)
    await mkdir(near)
    // Sparse files: no disk used, zeros compress to almost nothing.
    for (const [file, size] of [[path.join(big, 'zeros.bin'), UNZIPPED_LIMIT + 1], [path.join(near, 'zeros.bin'), Math.ceil(UNZIPPED_LIMIT * 0.85)]] as const) {
      const handle = await open(file, 'w')
      await handle.truncate(size)
      await handle.close()
    }
    const root = path.join(dir, 'project')
    const manifest = manifestOf(root, [dirLayer('big', big), dirLayer('near', near)])
    const lock = lockOf({big: {kind: 'dir', artifacts: {x86_64: {architectures: ['x86_64']}}}, near: {kind: 'dir', artifacts: {x86_64: {architectures: ['x86_64']}}}})
    const events = collectEvents()
    const error = (await buildLayers(manifest, lock, options(root, events.emit)).catch((caught: unknown) => caught)) as {code: string; exitCode: number; message: string; details: {artifacts: Array<{layer: string; unzippedBytes: number}>}}
    expect(error).toMatchObject({code: 'ERR_LAYERS_LAYER_TOO_LARGE', exitCode: 1})
    expect(error.message).toContain(`Layer big (x86_64) is ${UNZIPPED_LIMIT + 1} bytes unzipped, over Lambda's limit of 262144000 bytes`)
    expect(error.message).not.toContain('near')
    expect(error.details.artifacts.map((artifact) => [artifact.layer, artifact.unzippedBytes])).toEqual([
      ['big', UNZIPPED_LIMIT + 1],
      ['near', Math.ceil(UNZIPPED_LIMIT * 0.85)],
    ])
    expect(events.warnings()).toEqual([expect.objectContaining({code: 'ERR_LAYERS_LAYER_NEAR_LIMIT', message: expect.stringMatching(/^Layer near \(x86_64\) .* 85% /)})])
  })
})
