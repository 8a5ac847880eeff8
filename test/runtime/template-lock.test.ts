// Template loading/validation and runtime locking against an in-memory registry (the PackumentSource
// interface), including users' own template directories.
import {chmod, mkdir, mkdtemp, rm, symlink, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import type {Packument, PackumentSource} from '../../src/resolve/types.js'
import {lockRuntimeLayer} from '../../src/runtime/lock.js'
import {listBuiltInTemplates, loadRuntimeTemplate} from '../../src/runtime/template.js'
import {runtimeLayer} from './support.js'

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'layers-runtime-template-'))
})
afterEach(async () => {
  await rm(dir, {recursive: true, force: true})
})

/** A registry of packuments; each version's tarball URL and integrity derive from name and version. */
function registry(versions: Record<string, string[]>, calls: string[] = []): Pick<PackumentSource, 'packument'> {
  return {
    async packument(name) {
      calls.push(name)
      const list = versions[name]
      if (!list) throw Object.assign(new Error(`404 Not Found - GET https://registry.example/${name}`), {code: 'E404', statusCode: 404})
      const packument: Packument = {
        name,
        'dist-tags': {latest: list[list.length - 1]!},
        versions: Object.fromEntries(list.map((version) => [version, {name, version, dist: {tarball: `https://user:secret@registry.example/${name}/-/x-${version}.tgz`, integrity: `sha1-AAAA sha512-${Buffer.from(name + version).toString('base64')}`}}])),
      }
      return packument
    },
  }
}

const BUN = {'@oven/bun-linux-x64': ['1.1.0', '1.1.30', '1.2.0', '2.0.0'], '@oven/bun-linux-aarch64': ['1.1.0', '1.1.30', '1.2.0']}

async function writeTemplate(root: string, descriptor: unknown, files: Record<string, string> = {bootstrap: '#!/bin/sh\nexec "$(dirname "$0")/bin/tool"\n'}): Promise<string> {
  await mkdir(root, {recursive: true})
  await writeFile(path.join(root, 'template.json'), typeof descriptor === 'string' ? descriptor : JSON.stringify(descriptor))
  for (const [name, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, name)), {recursive: true})
    await writeFile(path.join(root, name), content)
  }
  return root
}

describe('runtime templates', () => {
  it('ships node, bun, deno and shell, each loading cleanly with bootstrap at the layer root', async () => {
    expect(await listBuiltInTemplates()).toEqual(['bun', 'deno', 'node', 'shell'])
    for (const name of ['bun', 'deno', 'node', 'shell']) {
      const template = await loadRuntimeTemplate(name, {root: dir, layer: 'rt'})
      expect(template).toMatchObject({id: name, builtIn: true})
      expect(template.files.find((file) => file.layerPath === 'bootstrap')).toMatchObject({executable: true})
      expect(template.binary === undefined).toBe(name === 'shell')
    }
  })

  it('refuses unknown names, suggesting the built-ins', async () => {
    await expect(loadRuntimeTemplate('bunn', {root: dir, layer: 'rt'})).rejects.toMatchObject({code: 'ERR_LAYERS_RUNTIME_TEMPLATE_UNKNOWN', hint: expect.stringContaining('bun, deno, node, shell')})
    await expect(loadRuntimeTemplate('./nowhere', {root: dir, layer: 'rt'})).rejects.toMatchObject({code: 'ERR_LAYERS_RUNTIME_TEMPLATE_MISSING', exitCode: 2})
  })

  it('loads a user template directory and records it relative to the manifest', async () => {
    const templateDir = await writeTemplate(path.join(dir, 'runtimes', 'mine'), {
      version: '^1.1',
      binary: {packages: {x86_64: '@oven/bun-linux-x64'}, files: {'bin/tool': 'bin/bun'}},
      files: {bootstrap: 'bootstrap', 'lib/helper.sh': 'helper.sh'},
    }, {bootstrap: '#!/bin/sh\n', 'helper.sh': 'echo hi\n'})
    await chmod(path.join(templateDir, 'helper.sh'), 0o755)
    const template = await loadRuntimeTemplate(templateDir, {root: dir, layer: 'rt'})
    expect(template).toMatchObject({id: './runtimes/mine', builtIn: false, version: '^1.1'})
    expect(template.files.map((file) => [file.layerPath, file.executable])).toEqual([
      ['bootstrap', true],
      ['lib/helper.sh', true],
    ])
    expect(await loadRuntimeTemplate('./runtimes/mine', {root: dir, layer: 'rt'})).toMatchObject({id: './runtimes/mine'})
  })

  it('reports every problem of a bad descriptor at once', async () => {
    const templateDir = await writeTemplate(path.join(dir, 'bad'), {
      extra: true,
      version: 'not a range',
      binary: {packages: {x86_64: 'Bad Name', mips: 'x'}, files: {'/abs': 'bin/x', 'lib/a': '../x'}},
      files: {'../escape': 'bootstrap', 'lib/outside': '../outside.txt', 'lib/missing': 'missing.txt', 'lib/link': 'link'},
    }, {bootstrap: 'no shebang\n'})
    await writeFile(path.join(dir, 'outside.txt'), 'secret')
    await symlink(path.join(dir, 'outside.txt'), path.join(templateDir, 'link'))
    const error = await loadRuntimeTemplate(templateDir, {root: dir, layer: 'rt'}).catch((caught: unknown) => caught)
    expect(error).toMatchObject({code: 'ERR_LAYERS_RUNTIME_TEMPLATE_INVALID', exitCode: 2})
    const messages = (error as {problems: Array<{message: string}>}).problems.map((problem) => problem.message.replace(`${templateDir}/template.json: `, ''))
    expect(messages).toEqual([
      'unknown key "extra" (allowed: description, version, binary, files)',
      'version must be a semver range, got "not a range"',
      'files must map "bootstrap" (the executable Lambda starts) to a file of the template',
      `files: layer path "../escape" is not allowed ('..' path segment)`,
      'files.lib/outside: ../outside.txt is outside the template directory',
      'files.lib/missing: missing.txt does not exist',
      'files.lib/link: link is outside the template directory',
      'binary.packages.x86_64 must be an npm package name, got "Bad Name"',
      'binary.packages: unknown architecture "mips" (allowed: x86_64, arm64)',
      'binary.files: layer path "/abs" is not allowed (absolute path)',
      'binary.files.lib/a must be a relative path inside the package, got "../x"',
    ])
  })

  it('refuses a bootstrap that is neither a script nor an ELF executable, and invalid JSON', async () => {
    const templateDir = await writeTemplate(path.join(dir, 'plain'), {files: {bootstrap: 'bootstrap'}}, {bootstrap: 'echo hi\n'})
    await expect(loadRuntimeTemplate(templateDir, {root: dir, layer: 'rt'})).rejects.toMatchObject({message: expect.stringContaining('files.bootstrap: bootstrap must start with #!')})
    const broken = await writeTemplate(path.join(dir, 'broken'), '{"files": ')
    await expect(loadRuntimeTemplate(broken, {root: dir, layer: 'rt'})).rejects.toMatchObject({code: 'ERR_LAYERS_RUNTIME_TEMPLATE_INVALID', message: expect.stringContaining('not valid JSON')})
  })
})

describe('lockRuntimeLayer', () => {
  it('locks the highest version every architecture publishes, exact, without credentials, sha512 only', async () => {
    const locked = await lockRuntimeLayer(runtimeLayer('rt', 'bun', '^1.1'), undefined, {root: dir, source: registry(BUN), inputs: 'in'})
    expect(locked).toEqual({
      kind: 'runtime',
      template: 'bun',
      inputs: 'in',
      artifacts: {
        arm64: {architectures: ['arm64'], binary: {name: '@oven/bun-linux-aarch64', version: '1.2.0', resolved: 'https://registry.example/@oven/bun-linux-aarch64/-/x-1.2.0.tgz', integrity: `sha512-${Buffer.from('@oven/bun-linux-aarch641.2.0').toString('base64')}`}},
        x86_64: {architectures: ['x86_64'], binary: {name: '@oven/bun-linux-x64', version: '1.2.0', resolved: 'https://registry.example/@oven/bun-linux-x64/-/x-1.2.0.tgz', integrity: `sha512-${Buffer.from('@oven/bun-linux-x641.2.0').toString('base64')}`}},
      },
    })
  })

  it('keeps a previous lock that still fits, without asking the registry, unless updating', async () => {
    const older = await lockRuntimeLayer(runtimeLayer('rt', 'bun', '~1.1.0'), undefined, {root: dir, source: registry(BUN), inputs: 'a'})
    expect(older.artifacts.x86_64!.binary!.version).toBe('1.1.30')
    const withPublication = {...older, published: {'123456789012': {'eu-west-1': {x86_64: {arn: 'arn:aws:lambda:eu-west-1:123456789012:layer:rt:3', version: 3, codeSha256: 'abc'}}}}}
    const calls: string[] = []
    const kept = await lockRuntimeLayer(runtimeLayer('rt', 'bun', '^1.1'), withPublication, {root: dir, source: registry(BUN, calls), inputs: 'b'})
    expect(kept).toEqual({...withPublication, inputs: 'b'})
    expect(calls).toEqual([])
    const updated = await lockRuntimeLayer(runtimeLayer('rt', 'bun', '^1.1'), withPublication, {root: dir, source: registry(BUN, calls), inputs: 'b', update: true})
    expect(updated.artifacts.x86_64!.binary!.version).toBe('1.2.0')
    expect(updated.published).toBeUndefined()
    // Out of the range now: resolved again.
    const moved = await lockRuntimeLayer(runtimeLayer('rt', 'bun', '>=1.2.0'), older, {root: dir, source: registry(BUN), inputs: 'c'})
    expect(moved.artifacts.arm64!.binary!.version).toBe('1.2.0')
  })

  it('locks binary-less templates as one artifact for both architectures without the registry', async () => {
    const calls: string[] = []
    const locked = await lockRuntimeLayer(runtimeLayer('sh', 'shell', '*'), undefined, {root: dir, source: registry({}, calls), inputs: 'in'})
    expect(locked).toEqual({kind: 'runtime', template: 'shell', inputs: 'in', artifacts: {'arm64+x86_64': {architectures: ['arm64', 'x86_64']}}})
    expect(calls).toEqual([])
  })

  it('uses the template version when the layer gives none, and records user templates by relative path', async () => {
    await writeTemplate(path.join(dir, 'rt'), {version: '~1.1.0', binary: {packages: {x86_64: '@oven/bun-linux-x64'}, files: {'bin/bun': 'bin/bun'}}, files: {bootstrap: 'bootstrap'}})
    const locked = await lockRuntimeLayer(runtimeLayer('mine', path.join(dir, 'rt'), '', ['x86_64']), undefined, {root: dir, source: registry(BUN), inputs: 'in'})
    expect(locked.template).toBe('./rt')
    expect(locked.artifacts.x86_64!.binary!.version).toBe('1.1.30')
  })

  it('fails clearly: no common version, a missing package, an uncovered architecture, a bad range, registry errors', async () => {
    await expect(lockRuntimeLayer(runtimeLayer('rt', 'bun', '^2'), undefined, {root: dir, source: registry(BUN), inputs: ''})).rejects.toMatchObject({
      code: 'ERR_LAYERS_NO_MATCHING_VERSION',
      exitCode: 2,
      message: expect.stringContaining('@oven/bun-linux-aarch64 (arm64): none; @oven/bun-linux-x64 (x86_64): 2.0.0'),
    })
    await expect(lockRuntimeLayer(runtimeLayer('rt', 'deno', '^2'), undefined, {root: dir, source: registry(BUN), inputs: ''})).rejects.toMatchObject({code: 'ERR_LAYERS_PACKAGE_NOT_FOUND', exitCode: 2})
    await expect(lockRuntimeLayer(runtimeLayer('rt', 'bun', 'nope'), undefined, {root: dir, source: registry(BUN), inputs: ''})).rejects.toMatchObject({code: 'ERR_LAYERS_RUNTIME_VERSION_INVALID'})
    await writeTemplate(path.join(dir, 'x86only'), {binary: {packages: {x86_64: '@oven/bun-linux-x64'}, files: {'bin/bun': 'bin/bun'}}, files: {bootstrap: 'bootstrap'}})
    await expect(lockRuntimeLayer(runtimeLayer('rt', path.join(dir, 'x86only'), '^1'), undefined, {root: dir, source: registry(BUN), inputs: ''})).rejects.toMatchObject({code: 'ERR_LAYERS_RUNTIME_ARCHITECTURE', message: expect.stringContaining('no binary package for arm64')})
    await expect(lockRuntimeLayer(runtimeLayer('rt', path.join(dir, 'x86only'), '', ['x86_64']), undefined, {root: dir, source: registry(BUN), inputs: ''})).rejects.toMatchObject({code: 'ERR_LAYERS_RUNTIME_VERSION_MISSING'})
    const down = {packument: async () => Promise.reject(Object.assign(new Error('connect ECONNREFUSED'), {code: 'ECONNREFUSED'}))}
    await expect(lockRuntimeLayer(runtimeLayer('rt', 'bun', '^1'), undefined, {root: dir, source: down, inputs: ''})).rejects.toMatchObject({code: 'ERR_LAYERS_REGISTRY_UNREACHABLE', exitCode: 1})
    const noIntegrity = {packument: async (name: string) => ({name, 'dist-tags': {}, versions: {'1.1.0': {name, version: '1.1.0', dist: {tarball: 'https://r/x.tgz', shasum: 'ab'}}}})}
    await expect(lockRuntimeLayer(runtimeLayer('rt', 'bun', '^1'), undefined, {root: dir, source: noIntegrity, inputs: ''})).rejects.toMatchObject({code: 'ERR_LAYERS_REGISTRY_METADATA'})
  })
})
