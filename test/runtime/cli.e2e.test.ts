// `layers lock` and `layers build` with runtime layers, run as a user runs them (built dist/, --json):
// the shell template (no binary, no registry) and a user's own template directory; a broken template
// is refused with exit 2 naming the problem.
import {execFileSync} from 'node:child_process'
import {mkdir, mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {runCli} from '../support/cli.js'

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'layers-runtime-cli-'))
  await mkdir(path.join(dir, 'runtimes', 'mine'), {recursive: true})
  await writeFile(path.join(dir, 'runtimes', 'mine', 'template.json'), JSON.stringify({files: {bootstrap: 'bootstrap', 'etc/motd': 'motd'}}))
  await writeFile(path.join(dir, 'runtimes', 'mine', 'bootstrap'), '#!/bin/sh\necho mine\n')
  await writeFile(path.join(dir, 'runtimes', 'mine', 'motd'), 'hello\n')
  await writeFile(
    path.join(dir, 'layers.yaml'),
    `version: 1
settings:
  bucket: b-{accountId}-{region}
  regions: [eu-west-1]
  architectures: [x86_64, arm64]
layers:
  sh:
    runtime:
      template: shell
  mine:
    runtime:
      template: ./runtimes/mine
    architectures: [arm64]
`,
  )
})
afterEach(async () => {
  await rm(dir, {recursive: true, force: true})
})

describe('layers lock / build with runtime layers', () => {
  it('locks and builds built-in and user templates; locking again writes nothing; an edited template.json makes the lock stale', async () => {
    const locked = await runCli(['lock', '--json'], {cwd: dir})
    expect(locked.code, locked.stderr).toBe(0)
    expect(locked.json.layers).toEqual([
      {layer: 'sh', kind: 'runtime', status: 'locked', artifacts: [{artifactKey: 'arm64+x86_64', architectures: ['arm64', 'x86_64'], packages: 0}]},
      {layer: 'mine', kind: 'runtime', status: 'locked', artifacts: [{artifactKey: 'arm64', architectures: ['arm64'], packages: 0}]},
    ])
    const lockfile = JSON.parse(await readFile(path.join(dir, 'lockfile.json'), 'utf8'))
    expect(lockfile.layers.mine).toMatchObject({kind: 'runtime', template: './runtimes/mine', artifacts: {arm64: {architectures: ['arm64']}}})
    expect(JSON.stringify(lockfile)).not.toContain(dir)
    const again = await runCli(['lock', '--json'], {cwd: dir})
    expect(again.json).toMatchObject({written: false})

    const built = await runCli(['build', '--json'], {cwd: dir})
    expect(built.code, built.stderr).toBe(0)
    expect(built.json.artifacts.map((artifact: {layer: string; artifactKey: string}) => `${artifact.layer}:${artifact.artifactKey}`)).toEqual(['sh:arm64+x86_64', 'mine:arm64'])
    const mine = built.json.artifacts[1].zipPath as string
    expect(execFileSync('zipinfo', [mine]).toString()).toMatch(/^-rwxr-xr-x .* bootstrap$/m)
    expect(execFileSync('unzip', ['-p', mine, 'etc/motd']).toString()).toBe('hello\n')

    // The template now ships a binary: the manifest entry is unchanged, yet the lock no longer fits.
    await writeFile(
      path.join(dir, 'runtimes', 'mine', 'template.json'),
      JSON.stringify({version: '^1.0.0', binary: {packages: {x86_64: 'tool-linux-x64', arm64: 'tool-linux-arm64'}, files: {'bin/tool': 'tool'}}, files: {bootstrap: 'bootstrap'}}),
    )
    const validated = await runCli(['validate', '--json'], {cwd: dir})
    expect(validated.json.lock).toMatchObject({state: 'stale', stale: ['mine']})
    const refused = await runCli(['build', 'mine', '--json'], {cwd: dir})
    expect(refused.code).toBe(2)
    expect(refused.json.error).toMatchObject({code: 'ERR_LAYERS_LOCK_STALE', details: {layers: ['mine']}})
  }, 120_000)

  it('refuses a broken user template with exit 2, naming the descriptor and the problem', async () => {
    await writeFile(path.join(dir, 'runtimes', 'mine', 'template.json'), JSON.stringify({files: {bootstrap: '../../layers.yaml'}}))
    const locked = await runCli(['lock', 'mine', '--json'], {cwd: dir})
    expect(locked.code).toBe(2)
    expect(locked.json.error).toMatchObject({code: 'ERR_LAYERS_RUNTIME_TEMPLATE_INVALID', fault: 'user'})
    expect(locked.json.error.problems[0].message).toContain('files.bootstrap: ../../layers.yaml is outside the template directory')
    expect(locked.stderr).not.toMatch(/\n\s+at /)
    // validate says so first, rather than calling the project valid.
    const validated = await runCli(['validate', '--json'], {cwd: dir})
    expect(validated.code).toBe(2)
    expect(validated.json.error).toMatchObject({code: 'ERR_LAYERS_RUNTIME_TEMPLATE_INVALID'})
    expect(validated.json.error.problems[0].message).toContain('files.bootstrap: ../../layers.yaml is outside the template directory')
  }, 60_000)
})
