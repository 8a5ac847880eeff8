// Hostile lockfiles (test/lock/corpus/*.json), checked like lockfile-lint checks npm's: through the
// built CLI, `validate` and `build` (and `lock` for some) exit 2 with ERR_LAYERS_LOCKFILE_UNSAFE (or
// _CORRUPT for a missing field) located at the offending key or value in lockfile.json, naming the
// package or key; nothing is fetched or written: no zip, nothing outside the project, the lockfile
// unchanged. 00-valid.json is the baseline every other file changes in one place.
import {existsSync} from 'node:fs'
import {mkdir, mkdtemp, readdir, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {layerInputs} from '../../src/lock/fingerprint.js'
import {loadManifest} from '../../src/manifest/load.js'
import {REPO_ROOT, runCli} from '../support/cli.js'

const CORPUS = path.join(REPO_ROOT, 'test/lock/corpus')

const MANIFEST = `version: 1
settings:
  bucket: test-{accountId}-{region}
  regions: [eu-west-1]
  architectures: [x86_64, arm64]
  runtimes: [nodejs20.x]
accounts:
  dev:
    id: "111111111111"
layers:
  deps:
    npm:
      left-pad: ^1.3.0
      "@corp/tool": ^1.0.0
`
// The registries tarballs may come from: npmjs (https), an http registry the user configured on
// loopback, and an https one (whose http form is refused).
const NPMRC = 'registry=https://registry.npmjs.org/\n@corp:registry=http://127.0.0.1:4873/\n@acme:registry=https://npm.acme.test/\n'

/** file, error code, lockfile.json line:column, what the message names. */
const CASES: Array<[string, string, string, string]> = [
  ['01-artifact-key-escape.json', 'UNSAFE', '5:9', 'artifact key "../../../../escape-zone" is not one layers writes'],
  ['02-empty-integrity.json', 'UNSAFE', '18:28', 'left-pad@1.3.0 (node_modules/left-pad) has no integrity'],
  ['03-missing-integrity.json', 'CORRUPT', '17:38', 'packages["node_modules/left-pad"] has no integrity'],
  ['04-sha256-integrity.json', 'UNSAFE', '18:28', 'which is not a sha512 (or sha1) SRI hash'],
  ['05-file-resolved.json', 'UNSAFE', '20:27', 'left-pad@1.3.0 (node_modules/left-pad) has tarball URL "file:///tmp/outside/left-pad-1.3.0.tgz": file: sources are refused'],
  ['06-git-file-resolved.json', 'UNSAFE', '20:27', '"git+file:///tmp/outside/repo.git": git+file: sources are refused'],
  ['07-github-shorthand.json', 'UNSAFE', '20:27', '"github:someone/left-pad": github: sources are refused'],
  ['08-other-host.json', 'UNSAFE', '20:27', 'on evil.example.com, which is not a configured registry'],
  ['09-http-other-host.json', 'UNSAFE', '20:27', 'on evil.example.com, which is not a configured registry'],
  ['10-credentials-in-url.json', 'UNSAFE', '20:27', 'has a tarball URL with credentials in it'],
  ['11-dotdot-package-path.json', 'UNSAFE', '11:13', 'package path "node_modules/../../../escape" has ".."'],
  ['12-absolute-package-path.json', 'UNSAFE', '11:13', 'package path "/etc/left-pad" is not node_modules/<name>'],
  ['13-backslash-package-path.json', 'UNSAFE', '17:13', 'has a backslash'],
  ['14-foreign-account-arn.json', 'UNSAFE', '32:22', 'the ARN recorded under account 111111111111, region eu-west-1 belongs to account 222222222222'],
  ['15-foreign-region-arn.json', 'UNSAFE', '32:22', 'belongs to account 111111111111, region us-east-1'],
  ['16-architectures-mismatch.json', 'UNSAFE', '6:28', 'artifact x86_64 lists architectures ["arm64"], which do not match its key'],
  ['17-runtime-binary-file.json', 'UNSAFE', '49:25', 'Layer rt (x86_64): the runtime binary bun-linux-x64@1.0.0 has tarball URL "file:///usr/bin/bun.tgz"'],
  ['18-arn-pin-other-region.json', 'UNSAFE', '43:24', 'Layer insights: the ARN pinned for region eu-west-1 (account 111111111111) is in region us-east-1'],
  ['19-http-on-https-registry.json', 'UNSAFE', '20:27', 'over http, but that registry is configured with https'],
  ['20-empty-resolved.json', 'UNSAFE', '20:27', 'left-pad@1.3.0 (node_modules/left-pad) has no tarball URL'],
  ['21-invalid-package-name.json', 'UNSAFE', '17:13', '"Left Pad", which is not a valid npm package name'],
  ['22-unknown-artifact-key.json', 'UNSAFE', '36:13', 'published artifact key "x86_64;rm -rf"'],
]

let base: string

beforeAll(async () => {
  base = await mkdtemp(path.join(tmpdir(), 'layers-lock-corpus-'))
})

afterAll(async () => {
  if (base) await rm(base, {recursive: true, force: true, maxRetries: 5})
})

/** Unsets the npm_config_* variables `npx` passes down, so the project's .npmrc decides. */
function env(home: string): NodeJS.ProcessEnv {
  const unset = Object.fromEntries(Object.keys(process.env).filter((key) => /^npm_config_/i.test(key)).map((key) => [key, undefined]))
  // A `git` first on PATH that leaves a marker: pacote runs git for git sources, layers must not.
  return {...unset, HOME: home, CI: 'true', PATH: `${path.join(home, 'bin')}${path.delimiter}${process.env.PATH}`}
}

async function project(file: string): Promise<{dir: string; home: string; outside: string}> {
  const outside = path.join(base, file.replace(/\.json$/, ''))
  const dir = path.join(outside, 'a', 'b', 'project')
  const home = path.join(outside, 'home')
  await mkdir(dir, {recursive: true})
  await mkdir(path.join(home, 'bin'), {recursive: true})
  await writeFile(path.join(home, 'bin', 'git'), `#!/bin/sh\ntouch ${JSON.stringify(path.join(home, 'git-ran'))}\nexit 1\n`, {mode: 0o755})
  await writeFile(path.join(dir, 'layers.yaml'), MANIFEST)
  await writeFile(path.join(dir, '.npmrc'), NPMRC)
  // The corpus holds a placeholder for the layer's fingerprint: with the real one the lock matches the
  // manifest, so nothing but the lockfile check stands between a hostile entry and the build.
  const text = await readFile(path.join(CORPUS, file), 'utf8')
  await writeFile(path.join(dir, 'lockfile.json'), text.replaceAll(PLACEHOLDER_INPUTS, await inputsOf(dir)))
  return {dir, home, outside}
}

const PLACEHOLDER_INPUTS = 'sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='

async function inputsOf(dir: string): Promise<string> {
  const manifest = await loadManifest(path.join(dir, 'layers.yaml'))
  return layerInputs(manifest.layers.deps!, manifest.root)
}

async function zipsUnder(dir: string): Promise<string[]> {
  return (await readdir(dir, {recursive: true})).map(String).filter((name) => name.endsWith('.zip'))
}

describe('hostile lockfile corpus', () => {
  it('covers every file of the corpus', async () => {
    const files = (await readdir(CORPUS)).filter((name) => name.endsWith('.json')).sort()
    expect(files).toEqual(['00-valid.json', ...CASES.map(([file]) => file)].sort())
  })

  it('accepts the baseline, which matches the manifest', async () => {
    const p = await project('00-valid.json')
    const result = await runCli(['validate'], {cwd: p.dir, env: env(p.home)})
    expect(result.stderr).not.toContain('ERR_LAYERS_LOCKFILE')
    expect(result.stdout + result.stderr).not.toContain('no longer matches')
    expect(result.code).toBe(0)
  })

  it.each(CASES)('%s: validate and build exit 2 at its position, nothing written', async (file, code, at, names) => {
    const p = await project(file)
    const before = await readFile(path.join(p.dir, 'lockfile.json'), 'utf8')
    const commands = [['validate'], ['build']]
    const results = await Promise.all(commands.map((command) => runCli(command, {cwd: p.dir, env: env(p.home)})))
    for (const [index, command] of commands.entries()) {
      const result = results[index]!
      expect(result.code, `${command[0]}: ${result.stderr}`).toBe(2)
      expect(result.stderr, command[0]).toContain(`ERR_LAYERS_LOCKFILE_${code}`)
      expect(result.stderr, command[0]).toContain(`${path.join(p.dir, 'lockfile.json')}:${at}`)
      expect(result.stderr, command[0]).toContain(names)
      expect(result.stderr, command[0]).not.toMatch(/ERR_LAYERS_INTERNAL|\n\s+at /)
      expect(result.stderr, command[0]).not.toContain('s3cr3t')
    }
    expect(existsSync(path.join(p.dir, '.layers', 'build'))).toBe(false)
    expect(await zipsUnder(p.outside)).toEqual([])
    expect(existsSync(path.join(p.outside, 'escape-zone'))).toBe(false)
    expect(existsSync(path.join(p.home, 'git-ran'))).toBe(false)
    expect(await readFile(path.join(p.dir, 'lockfile.json'), 'utf8')).toBe(before)
  })

  it.each(['01-artifact-key-escape.json', '06-git-file-resolved.json', '14-foreign-account-arn.json'])('%s: lock exits 2 and leaves the lockfile as it is', async (file) => {
    const p = await project(file)
    const before = await readFile(path.join(p.dir, 'lockfile.json'), 'utf8')
    const result = await runCli(['lock'], {cwd: p.dir, env: env(p.home)})
    expect(result.code, result.stderr).toBe(2)
    expect(result.stderr).toContain('ERR_LAYERS_LOCKFILE_UNSAFE')
    expect(await readFile(path.join(p.dir, 'lockfile.json'), 'utf8')).toBe(before)
  })
})
