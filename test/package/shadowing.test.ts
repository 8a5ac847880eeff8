// Unit tests of shadowing: which copy of a package or file a function loads under Lambda's rules (later
// layers over earlier ones, nodeNN over the plain node_modules, only the runtime's own nodeNN, the
// function's own node_modules never packaged), the version and architecture errors (ELF headers of
// x86_64 and aarch64 binaries read from real zips), and the function's node_modules listing.
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {writeDeterministicZip, type ZipEntry} from '../../src/build/zip.js'
import type {FunctionSpec} from '../../src/manifest/types.js'
import {elfArchitecture, shadowFindings, shadowProblem, type LayerContent, type ShadowFile} from '../../src/package/shadowing.js'
import {layerContentReader, ownPackages} from '../../src/package/shadowing-check.js'
import {writeTree} from './fixture-project.js'

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'layers-shadowing-'))
})
afterEach(async () => {
  await rm(dir, {recursive: true, force: true, maxRetries: 5})
})

/** The files of one package folder: its package.json (CRC from the version) and an index.js of `content`. */
function pkg(folder: string, version: string, content = 1): ShadowFile[] {
  return [
    {path: `${folder}/package.json`, size: 40, crc32: version.length * 7919},
    {path: `${folder}/index.js`, size: 10, crc32: content},
  ]
}

function layer(name: string, packages: Array<[folder: string, version: string, content?: number]>, files: ShadowFile[] = []): LayerContent {
  return {layer: name, files: [...packages.flatMap(([folder, version, content]) => pkg(folder, version, content)), ...files], versions: Object.fromEntries(packages.map(([folder, version]) => [folder, version]))}
}

/** A 64-byte ELF header (little-endian, shared object) for machine `machine`. */
function elf(machine: number): Buffer {
  const head = Buffer.alloc(64)
  head.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1])
  head.writeUInt16LE(3, 16)
  head.writeUInt16LE(machine, 18)
  return head
}

function entry(entryPath: string, content: string | Buffer, mode = 0o644): ZipEntry {
  const data = Buffer.from(content)
  return {path: entryPath, mode, size: data.length, open: () => data}
}

describe('shadowing', () => {
  it('two layers: the later layer wins; the same bytes twice is no problem, other files a warning', () => {
    const same = shadowFindings({function: 'api', runtime: 'nodejs20.x', own: [], layers: [layer('a', [['nodejs/node_modules/uuid', '9.0.1']]), layer('b', [['nodejs/node_modules/uuid', '9.0.1']])]})
    expect(same).toEqual([
      {
        function: 'api',
        what: 'package',
        name: 'uuid',
        kind: 'duplicate',
        copies: [{layer: 'a', path: 'nodejs/node_modules/uuid', version: '9.0.1'}, {layer: 'b', path: 'nodejs/node_modules/uuid', version: '9.0.1'}],
        winner: {layer: 'b', path: 'nodejs/node_modules/uuid', version: '9.0.1'},
        same: true,
      },
    ])
    expect(shadowProblem(same[0]!, 'x86_64')).toBeUndefined()

    const differ = shadowFindings({function: 'api', runtime: 'nodejs20.x', own: [], layers: [layer('a', [['nodejs/node_modules/uuid', '9.0.1', 1]]), layer('b', [['nodejs/node_modules/uuid', '9.0.1', 2]])]})
    expect(differ[0]).toMatchObject({kind: 'duplicate', same: false, winner: {layer: 'b'}})
    expect(shadowProblem(differ[0]!, 'x86_64')).toMatchObject({severity: 'warning', code: 'ERR_LAYERS_SHADOWED', hint: 'Leave the shadowed copy out of layer a (exclude: ["nodejs/node_modules/uuid/**"]).'})

    // A plain file of /opt at the same path: the later layer's replaces it.
    const tool = (crc32: number): ShadowFile => ({path: 'bin/tool', size: 5, crc32})
    const files = shadowFindings({function: 'api', runtime: 'nodejs20.x', own: [], layers: [layer('a', [], [tool(1)]), layer('b', [], [tool(2)]), layer('c', [])]})
    expect(files).toEqual([expect.objectContaining({what: 'file', name: 'bin/tool', kind: 'duplicate', copies: [{layer: 'a', path: 'bin/tool'}, {layer: 'b', path: 'bin/tool'}], same: false})])
    expect(shadowProblem(files[0]!, 'x86_64')!.message).toBe('Function api: file /opt/bin/tool is provided 2 times with different content; Lambda loads /opt/bin/tool from layer b, which shadows /opt/bin/tool from layer a.')
  })

  it('two layers in different versions: an error naming both copies and the fix', () => {
    const [found] = shadowFindings({function: 'api', runtime: 'nodejs22.x', own: [], layers: [layer('deps', [['nodejs/node_modules/uuid', '9.0.1']]), layer('tools', [['nodejs/node_modules/uuid', '10.0.0']])]})
    expect(found).toMatchObject({kind: 'version', winner: {layer: 'tools', version: '10.0.0'}})
    expect(shadowProblem(found!, 'arm64')).toEqual({
      severity: 'error',
      code: 'ERR_LAYERS_SHADOWED_VERSION',
      message: 'Function api: package uuid is provided 2 times in different versions; Lambda loads uuid@10.0.0 from layer tools (/opt/nodejs/node_modules/uuid), which shadows uuid@9.0.1 from layer deps (/opt/nodejs/node_modules/uuid).',
      hint: 'Give the layers one version of uuid (the same range in each, then `layers lock`), or leave the shadowed copy out of layer deps (exclude: ["nodejs/node_modules/uuid/**"]).',
    })
  })

  it('an npm layer not built yet counts by the versions of its lock', () => {
    const locked = {layer: 'deps', files: [], versions: {'nodejs/node_modules/uuid': '9.0.1'}}
    const [differ] = shadowFindings({function: 'api', runtime: 'nodejs20.x', own: [], layers: [locked, layer('tools', [['nodejs/node_modules/uuid', '10.0.0']])]})
    expect(differ).toMatchObject({kind: 'version', copies: [{layer: 'deps', path: 'nodejs/node_modules/uuid', version: '9.0.1'}, {layer: 'tools', version: '10.0.0'}]})
    const [same] = shadowFindings({function: 'api', runtime: 'nodejs20.x', own: [], layers: [locked, layer('tools', [['nodejs/node_modules/uuid', '9.0.1']])]})
    expect(same).toMatchObject({kind: 'duplicate', same: true})
  })

  it('nodeNN before node_modules, whatever the layer order; only the runtime major counts', () => {
    const layers = [
      layer('first', [['nodejs/node22/node_modules/uuid', '9.0.1'], ['nodejs/node20/node_modules/ms', '2.0.0']]),
      layer('second', [['nodejs/node_modules/uuid', '10.0.0'], ['nodejs/node_modules/ms', '2.1.3']]),
    ]
    const node22 = shadowFindings({function: 'api', runtime: 'nodejs22.x', own: [], layers})
    expect(node22.map((found) => [found.name, found.kind, found.winner.path])).toEqual([['uuid', 'version', 'nodejs/node22/node_modules/uuid']])
    expect(node22[0]!.copies.map((copy) => copy.layer)).toEqual(['second', 'first'])
    // On nodejs20.x the node22 folder is never read, the node20 one is.
    const node20 = shadowFindings({function: 'api', runtime: 'nodejs20.x', own: [], layers})
    expect(node20.map((found) => [found.name, found.winner.path])).toEqual([['ms', 'nodejs/node20/node_modules/ms']])
    // One layer holding both folders shadows itself.
    const itself = shadowFindings({function: 'api', runtime: 'nodejs22.x', own: [], layers: [layer('one', [['nodejs/node_modules/uuid', '9.0.1'], ['nodejs/node22/node_modules/uuid', '9.0.1']])]})
    expect(itself).toEqual([expect.objectContaining({kind: 'duplicate', copies: [expect.objectContaining({layer: 'one', path: 'nodejs/node_modules/uuid'}), expect.objectContaining({layer: 'one', path: 'nodejs/node22/node_modules/uuid'})]})])
    // Python functions read no nodeNN folder at all.
    expect(shadowFindings({function: 'py', runtime: 'python3.12', own: [{name: 'uuid', version: '1.0.0', path: 'fns/py/node_modules/uuid'}], layers})).toEqual([])
  })

  it("the function's own node_modules: never packaged, so the layer's copy is loaded; another version is an error", () => {
    const layers = [layer('deps', [['nodejs/node_modules/uuid', '9.0.1'], ['nodejs/node_modules/ms', '2.1.3']])]
    const own = [
      {name: 'uuid', version: '8.3.2', path: 'fns/api/node_modules/uuid'},
      {name: 'ms', version: '2.1.3', path: 'fns/api/node_modules/ms'},
      {name: 'left-pad', version: '1.3.0', path: 'fns/api/node_modules/left-pad'},
    ]
    const found = shadowFindings({function: 'api', runtime: 'nodejs20.x', own, layers})
    expect(found.map((item) => [item.name, item.kind, item.same, item.copies.map((copy) => copy.layer ?? 'own')])).toEqual([
      ['ms', 'duplicate', true, ['own', 'deps']],
      ['uuid', 'version', false, ['own', 'deps']],
    ])
    expect(shadowProblem(found[0]!, 'x86_64')).toBeUndefined()
    expect(shadowProblem(found[1]!, 'x86_64')).toEqual({
      severity: 'error',
      code: 'ERR_LAYERS_SHADOWED_VERSION',
      message: "Function api: package uuid is provided 2 times in different versions; Lambda loads uuid@9.0.1 from layer deps (/opt/nodejs/node_modules/uuid), which shadows uuid@8.3.2 from the function's own node_modules (fns/api/node_modules/uuid, never packaged).",
      hint: 'Install the version Lambda loads in the function (`npm install uuid@9.0.1` in its source) or remove fns/api/node_modules/uuid, so that local runs use what Lambda runs.',
    })
  })

  it('reads ELF machines from built zips: an x86_64 binary shadowing the arm64 one is an error', async () => {
    expect(elfArchitecture(elf(0x3e))).toBe('x86_64')
    expect(elfArchitecture(elf(0xb7))).toBe('arm64')
    expect(elfArchitecture(Buffer.from('#!/bin/sh\necho not an ELF file\n'))).toBeUndefined()
    const zipOf = async (name: string, machine: number): Promise<string> => {
      const file = path.join(dir, `${name}.zip`)
      await writeDeterministicZip(file, [
        entry('nodejs/node_modules/sharp/package.json', '{"name": "sharp", "version": "0.33.5"}'),
        entry('nodejs/node_modules/sharp/build/Release/sharp.node', Buffer.concat([elf(machine), Buffer.alloc(200_000, 1)])),
        entry('nodejs/node_modules/sharp/lib/index.js', 'module.exports = 1\n'),
      ])
      return file
    }
    const read = layerContentReader()
    const arm = {layer: 'img-arm', ...(await read(await zipOf('arm', 0xb7)))}
    const x86 = {layer: 'img-x86', ...(await read(await zipOf('x86', 0x3e)))}
    expect(arm.versions).toEqual({'nodejs/node_modules/sharp': '0.33.5'})
    expect(arm.files.find((file) => file.path.endsWith('.node'))).toMatchObject({architecture: 'arm64', size: 200_064})
    const [found] = shadowFindings({function: 'thumbs', runtime: 'nodejs20.x', own: [], layers: [arm, x86]})
    expect(found).toMatchObject({kind: 'architecture', winner: {layer: 'img-x86', architectures: ['x86_64']}, copies: [{layer: 'img-arm', architectures: ['arm64']}, {layer: 'img-x86'}]})
    expect(shadowProblem(found!, 'arm64')).toEqual({
      severity: 'error',
      code: 'ERR_LAYERS_SHADOWED_ARCHITECTURE',
      message: 'Function thumbs: package sharp is provided 2 times with native binaries for different machines; Lambda loads sharp@0.33.5 from layer img-x86 (/opt/nodejs/node_modules/sharp) built for x86_64, which shadows sharp@0.33.5 from layer img-arm (/opt/nodejs/node_modules/sharp) built for arm64.',
      hint: 'The function runs on arm64: build every copy for arm64 (the layer\'s `architectures`, then `layers lock` and `layers build`), or leave the copy out of layer img-x86 (exclude: ["nodejs/node_modules/sharp/**"]).',
    })
    // The same binaries twice are not an architecture problem.
    expect(shadowFindings({function: 'thumbs', runtime: 'nodejs20.x', own: [], layers: [arm, {...arm, layer: 'img-arm-2'}]})[0]).toMatchObject({kind: 'duplicate', same: true})
  })

  it("lists the function's own node_modules packages, scoped ones included, with their versions", async () => {
    await writeTree(dir, {
      'fns/api/node_modules/uuid/package.json': '{"name": "uuid", "version": "8.3.2"}',
      'fns/api/node_modules/@scope/tool/package.json': '{"name": "@scope/tool", "version": "1.0.0"}',
      'fns/api/node_modules/broken/index.js': '1',
      'fns/api/node_modules/.bin/uuid': '',
    })
    const fn = {key: 'api', source: path.join(dir, 'fns/api')} as FunctionSpec
    expect(await ownPackages(fn, dir)).toEqual([
      {name: '@scope/tool', version: '1.0.0', path: 'fns/api/node_modules/@scope/tool'},
      {name: 'broken', path: 'fns/api/node_modules/broken'},
      {name: 'uuid', version: '8.3.2', path: 'fns/api/node_modules/uuid'},
    ])
    expect(await ownPackages({key: 'none', source: path.join(dir, 'missing')} as FunctionSpec, dir)).toEqual([])
  })
})
