// The runtime layer builder through buildLayers, offline: a user's template directory whose binary
// comes from a small fixture package served by an in-memory TarballSource.
import {execFileSync} from 'node:child_process'
import {chmod, mkdir, mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {Readable} from 'node:stream'
import {create as createTar} from 'tar'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {buildLayers, type BuildOptions} from '../../src/build/build.js'
import type {TarballSource} from '../../src/build/npm.js'
import {collectEvents} from '../../src/events.js'
import type {LockedRuntimeLayer, Lockfile} from '../../src/lock/types.js'
import type {RuntimeLayer} from '../../src/manifest/types.js'
import {manifestWith, runtimeLayer} from './support.js'

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'layers-runtime-builder-'))
})
afterEach(async () => {
  await rm(dir, {recursive: true, force: true})
})

/** A gzipped npm-style tarball (`package/...`) of `files`; executables when the name starts with bin/. */
async function tarball(files: Record<string, string>): Promise<Buffer> {
  const root = await mkdtemp(path.join(dir, 'pkg-'))
  for (const [name, content] of Object.entries(files)) {
    const file = path.join(root, 'package', name)
    await mkdir(path.dirname(file), {recursive: true})
    await writeFile(file, content)
    await chmod(file, name.startsWith('bin/') ? 0o755 : 0o644)
  }
  const chunks: Buffer[] = []
  for await (const chunk of createTar({gzip: true, cwd: root, portable: true}, ['package'])) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

function source(tarballs: Record<string, Buffer>, fetched: string[] = []): TarballSource {
  return {
    async stream(pkg, handler) {
      fetched.push(`${pkg.name}@${pkg.version}`)
      const data = tarballs[`${pkg.name}@${pkg.version}`]
      if (!data) throw Object.assign(new Error(`sha512 integrity checksum failed for ${pkg.name}`), {code: 'EINTEGRITY'})
      return handler(Readable.from([data]))
    },
  }
}

async function userTemplate(): Promise<string> {
  const templateDir = path.join(dir, 'project', 'runtimes', 'tool')
  await mkdir(templateDir, {recursive: true})
  await writeFile(
    path.join(templateDir, 'template.json'),
    JSON.stringify({
      binary: {packages: {x86_64: 'tool-linux-x64', arm64: 'tool-linux-arm64'}, files: {'bin/tool': 'dist/tool', 'bin/tool-alias': 'dist/tool'}},
      files: {bootstrap: 'bootstrap', 'lib/notes.txt': 'notes.txt'},
    }),
  )
  await writeFile(path.join(templateDir, 'bootstrap'), '#!/bin/sh\nexec "$(dirname "$0")/bin/tool"\n')
  await writeFile(path.join(templateDir, 'notes.txt'), 'notes\n')
  return templateDir
}

function lockFor(arch: Record<string, string>): Lockfile {
  const artifacts = Object.fromEntries(
    Object.entries(arch).map(([key, name]) => [key, {architectures: [key as 'x86_64' | 'arm64'], binary: {name, version: '1.0.0', resolved: `https://registry.example/${name}/-/${name}-1.0.0.tgz`, integrity: 'sha512-x'}}]),
  )
  const layer: LockedRuntimeLayer = {kind: 'runtime', template: './runtimes/tool', inputs: 'in', artifacts}
  return {lockfileVersion: 1, layers: {rt: layer}}
}

function options(tarballs: TarballSource, stateDir = path.join(dir, 'project', '.layers')): BuildOptions {
  return {stateDir, emit: collectEvents().emit, staleLayers: () => [], tarballSource: tarballs}
}

function listing(zip: string): string[] {
  return execFileSync('zipinfo', [zip])
    .toString()
    .split('\n')
    .filter((line) => /^-/.test(line))
    .map((line) => `${line.slice(0, 10)} ${line.split(/\s+/).pop()}`)
}

describe('runtime layer builder', () => {
  const packages = {x86_64: 'tool-linux-x64', arm64: 'tool-linux-arm64'}

  it('zips bootstrap and template files plus only the named binary files, executable, per architecture, cached by content', async () => {
    const templateDir = await userTemplate()
    const layer: RuntimeLayer = runtimeLayer('rt', templateDir, '^1')
    const tarballs = {
      'tool-linux-x64@1.0.0': await tarball({'dist/tool': '\x7fELF x86', 'README.md': 'readme', 'package.json': '{}'}),
      'tool-linux-arm64@1.0.0': await tarball({'dist/tool': '\x7fELF arm', 'package.json': '{}'}),
    }
    const fetched: string[] = []
    const manifest = manifestWith(path.join(dir, 'project'), [layer])
    const built = await buildLayers(manifest, lockFor(packages), options(source(tarballs, fetched)))
    expect(built.map((artifact) => [artifact.artifactKey, artifact.packages, artifact.files, artifact.cached])).toEqual([
      ['arm64', 1, 4, false],
      ['x86_64', 1, 4, false],
    ])
    for (const artifact of built) {
      // dist/tool is 0644 in the tarballs, yet binary files are always executable.
      expect(listing(artifact.zipPath)).toEqual(['-rwxr-xr-x bin/tool', '-rwxr-xr-x bin/tool-alias', '-rwxr-xr-x bootstrap', '-rw-r--r-- lib/notes.txt'])
    }
    const x86 = built.find((artifact) => artifact.artifactKey === 'x86_64')!
    expect(execFileSync('unzip', ['-p', x86.zipPath, 'bin/tool']).toString()).toBe('\x7fELF x86')
    expect(fetched.sort()).toEqual(['tool-linux-arm64@1.0.0', 'tool-linux-x64@1.0.0'])

    // Same inputs: from the cache, nothing fetched. A changed template file: rebuilt.
    const again = await buildLayers(manifest, lockFor(packages), options(source(tarballs, fetched)))
    expect(again.every((artifact) => artifact.cached)).toBe(true)
    expect(fetched).toHaveLength(2)
    await writeFile(path.join(templateDir, 'notes.txt'), 'changed\n')
    const changed = await buildLayers(manifest, lockFor(packages), options(source(tarballs, fetched)))
    expect(changed.map((artifact) => artifact.cached)).toEqual([false, false])
    expect(changed[0]!.codeSha256).not.toBe(built[0]!.codeSha256)

    // exclude globs apply to template files, never to bootstrap or the binary.
    const excluding = manifestWith(path.join(dir, 'project'), [{...layer, exclude: ['lib/**', 'bootstrap', 'bin/**']}])
    const pruned = await buildLayers(excluding, lockFor(packages), options(source(tarballs)))
    expect(listing(pruned[0]!.zipPath)).toEqual(['-rwxr-xr-x bin/tool', '-rwxr-xr-x bin/tool-alias', '-rwxr-xr-x bootstrap'])
  })

  it('refuses a lock that no longer matches the template, a package without the binary, and bad bytes', async () => {
    const templateDir = await userTemplate()
    const manifest = manifestWith(path.join(dir, 'project'), [runtimeLayer('rt', templateDir, '^1', ['x86_64'])])
    const good = {'tool-linux-x64@1.0.0': await tarball({'dist/tool': 'bin'})}
    await expect(buildLayers(manifest, lockFor({x86_64: 'other-linux-x64'}), options(source(good)))).rejects.toMatchObject({
      code: 'ERR_LAYERS_LOCK_STALE',
      exitCode: 2,
      message: expect.stringContaining('other-linux-x64 is not the template'),
    })
    const wrongTemplate = lockFor({x86_64: 'tool-linux-x64'})
    ;(wrongTemplate.layers.rt as LockedRuntimeLayer).template = 'bun'
    await expect(buildLayers(manifest, wrongTemplate, options(source(good)))).rejects.toMatchObject({code: 'ERR_LAYERS_LOCK_STALE', hint: 'Run `layers lock --update rt` to lock it again from the template.'})
    const empty = {'tool-linux-x64@1.0.0': await tarball({'bin/other': 'x'})}
    await expect(buildLayers(manifest, lockFor({x86_64: 'tool-linux-x64'}), options(source(empty)))).rejects.toMatchObject({code: 'ERR_LAYERS_RUNTIME_BINARY_MISSING', message: expect.stringContaining('has no dist/tool')})
    await expect(buildLayers(manifest, lockFor({x86_64: 'tool-linux-x64'}), options(source({})))).rejects.toMatchObject({code: 'ERR_LAYERS_INTEGRITY_MISMATCH', exitCode: 1})
  })

  it('reports a tarball stream that fails at once (as pacote reports a cache miss) instead of leaving it unhandled', async () => {
    const templateDir = await userTemplate()
    const manifest = manifestWith(path.join(dir, 'project'), [runtimeLayer('rt', templateDir, '^1', ['x86_64'])])
    const failing: TarballSource = {
      async stream(_pkg, handler) {
        const tgz = new Readable({read() {}})
        // Before any data and before the handler's next await: an 'error' nobody listens for yet crashes the process.
        process.nextTick(() => tgz.destroy(Object.assign(new Error('ENOENT: no such file or directory, stat content-v2/sha512/aa'), {code: 'ENOENT'})))
        return handler(tgz)
      },
    }
    await expect(buildLayers(manifest, lockFor({x86_64: 'tool-linux-x64'}), options(failing))).rejects.toMatchObject({
      code: 'ERR_LAYERS_TARBALL_FETCH',
      message: expect.stringContaining('tool-linux-x64@1.0.0 (layer rt): ENOENT'),
    })
  })
})
