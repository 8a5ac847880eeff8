// A registry (or a package) that points the lock somewhere else is refused at lock time, naming the
// package and who depends on it, and nothing is written: a packument whose dist.tarball is on
// another host or a file: URL, and a dependency on a git source (git is never run: a `git` on PATH
// that would leave a marker stays unused).
import {chmod, mkdir, writeFile} from 'node:fs/promises'
import {existsSync} from 'node:fs'
import path from 'node:path'
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'
import {NpmRegistry} from '../support/npm-registry.js'
import {makeProject, manifestWith, type Project} from './cli.js'

let registry: NpmRegistry
const projects: Project[] = []

beforeAll(async () => {
  registry = await NpmRegistry.start()
  registry
    .publish('far-host', {version: '1.0.0', tarballUrl: 'https://evil.example.com/far-host/-/far-host-1.0.0.tgz'})
    .publish('local-file', {version: '1.0.0', tarballUrl: 'file:///etc/passwd'})
    .publish('wrapper', {version: '1.0.0', dependencies: {'far-host': '^1.0.0'}})
    .publish('file-wrapper', {version: '1.0.0', optionalDependencies: {'local-file': '^1.0.0'}})
    .publish('uses-git', {version: '1.0.0', dependencies: {inner: 'git+file:///tmp/layers-no-such-repo.git'}})
})

afterAll(async () => {
  await registry.stop()
})

afterEach(async () => {
  while (projects.length > 0) await projects.pop()!.cleanup()
})

async function project(dependency: string): Promise<Project> {
  const created = await makeProject(registry.url, manifestWith(`  deps:\n    npm:\n      ${dependency}: ^1.0.0\n`))
  projects.push(created)
  return created
}

describe('lock refuses what a registry must not point at', () => {
  it.each([
    ['wrapper', 'ERR_LAYERS_REGISTRY_TARBALL_REFUSED', ['far-host@1.0.0', 'dependency of wrapper@1.0.0 (node_modules/wrapper)', 'on evil.example.com, which is not a configured registry']],
    // Even below an optional dependency: never skipped quietly.
    ['file-wrapper', 'ERR_LAYERS_REGISTRY_TARBALL_REFUSED', ['local-file@1.0.0', 'optional dependency of file-wrapper@1.0.0', 'file: sources are refused']],
    ['uses-git', 'ERR_LAYERS_UNSUPPORTED_SPEC', ['inner@git+file:///tmp/layers-no-such-repo.git', 'dependency of uses-git@1.0.0 (node_modules/uses-git)', 'git dependency']],
  ])('%s: exit 2 naming the package and who depends on it, no lockfile, git never run', async (dependency, code, names) => {
    const p = await project(dependency)
    const bin = path.join(p.home, 'bin')
    const marker = path.join(p.home, 'git-ran')
    await mkdir(bin, {recursive: true})
    await writeFile(path.join(bin, 'git'), `#!/bin/sh\ntouch ${JSON.stringify(marker)}\nexit 1\n`)
    await chmod(path.join(bin, 'git'), 0o755)
    const result = await p.cli(['lock', '--json'], {PATH: `${bin}${path.delimiter}${process.env.PATH}`})
    expect(result.status, result.stderr).toBe(2)
    expect(result.json?.error?.code ?? result.stderr).toContain(code)
    for (const name of names) expect(result.stdout + result.stderr).toContain(name)
    expect(existsSync(path.join(p.dir, 'lockfile.json'))).toBe(false)
    expect(existsSync(marker)).toBe(false)
  })
})
