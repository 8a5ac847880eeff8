// The hostile CLI corpus: malformed manifests, bad flags, bad environment, missing or misplaced
// files, run through the built CLI. Each must end with exit 1 or 2 (2 where the input is at fault)
// and never as ERR_LAYERS_INTERNAL, a stack trace or "This is a bug". No case reaches AWS: commands
// that would call it fail on their input first, or point at a closed loopback port.
import {execFile, spawn} from 'node:child_process'
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {BIN, exitCodeOf, runCli} from '../support/cli.js'

interface Case {
  name: string
  args: string[]
  /** Files written into a fresh project directory first (layers.yaml defaults to a valid manifest). */
  files?: Record<string, string | Buffer>
  dirs?: string[]
  env?: NodeJS.ProcessEnv
  /** Expected exit code (default 2: bad input). */
  code?: number
  /** A text stderr or stdout must contain. */
  says?: string
}

const VALID = `version: 1
settings:
  regions: [eu-west-1]
accounts:
  dev: {id: "111111111111"}
layers:
  config:
    dir: layers/config
functions:
  api:
    source: fns/api
    handler: index.handler
    runtime: nodejs22.x
    layers: [config]
`

const deep = (n: number): string => `version: 1\nlayers: ${'['.repeat(n)}${']'.repeat(n)}\n`

const CASES: Case[] = [
  // Manifests
  {name: 'wrong types everywhere', args: ['validate'], files: {'layers.yaml': 'version: "1"\nsettings: 5\naccounts: true\nlayers: [a, b]\nfunctions: "x"\n'}},
  {name: 'wrong types inside entries', args: ['build'], files: {'layers.yaml': 'version: 1\nsettings: {regions: 3, bucket: [], architectures: {a: 1}}\nlayers:\n  a: {npm: 5, exclude: 7}\nfunctions:\n  f: {source: 1, handler: [], runtime: {}, layers: "a"}\n'}},
  {name: 'huge numbers', args: ['validate'], files: {'layers.yaml': 'version: 1e400\naccounts:\n  a: {id: 1e30}\nlayers:\n  x: {npm: {lodash: 99999999999999999999999999}}\n'}},
  {name: 'a NUL byte', args: ['validate'], files: {'layers.yaml': 'version: 1\nlayers:\n  a\u0000b:\n    dir: x\n'}},
  {name: 'non-UTF-8 bytes', args: ['validate'], files: {'layers.yaml': Buffer.concat([Buffer.from('version: 1\nlayers:\n  a:\n    description: '), Buffer.from([0xff, 0xfe, 0xc3, 0x28]), Buffer.from('\n    dir: x\n')])}},
  {name: 'a BOM and CRLF line ends (valid)', args: ['validate'], files: {'layers.yaml': '\uFEFF' + VALID.replaceAll('\n', '\r\n')}, code: 0},
  {name: 'deep nesting', args: ['validate'], files: {'layers.yaml': deep(5000)}},
  {name: 'runaway nesting', args: ['validate'], files: {'layers.yaml': deep(100_000)}, says: 'nests too deeply'},
  {name: 'a 10 MB value', args: ['validate'], files: {'layers.yaml': `version: 1\nlayers:\n  a:\n    dir: layers/config\n    description: "${'x'.repeat(10 * 1024 * 1024)}"\n`}, says: 'more characters'},
  {name: 'a 1 MB key', args: ['validate'], files: {'layers.yaml': `version: 1\n? ${'k'.repeat(1024 * 1024)}\n: 1\n`}, says: 'more characters'},
  {name: 'an alias bomb', args: ['validate'], files: {'layers.yaml': 'version: 1\na: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n'}, says: 'ERR_LAYERS_MANIFEST_ALIAS_LIMIT'},
  {name: 'an undefined alias', args: ['build'], files: {'layers.yaml': 'version: 1\nlayers:\n  a: *nothing\n'}, says: ':3:6: error ERR_LAYERS_MANIFEST_ALIAS'},
  {name: 'a YAML stream of two documents', args: ['validate'], files: {'layers.yaml': 'version: 1\n---\nversion: 1\n'}},
  {name: 'a scalar document', args: ['validate'], files: {'layers.yaml': '42\n'}},
  {name: 'a list document', args: ['lock'], files: {'layers.yaml': '- version: 1\n'}},
  {name: 'tags the schema does not know', args: ['validate'], files: {'layers.yaml': 'version: !!binary aGVsbG8=\nlayers: !!set {a, b}\n'}},
  {name: 'a package.json that is not JSON', args: ['lock'], files: {'layers.yaml': 'version: 1\nlayers:\n  a:\n    npm: ./package.json\n', 'package.json': '{not json'}},
  {name: 'a package.json that is a directory', args: ['validate'], files: {'layers.yaml': 'version: 1\nlayers:\n  a:\n    npm: ./pkg\n'}, dirs: ['pkg']},
  {name: 'the manifest is a directory', args: ['validate', '--manifest', 'dir.yaml'], dirs: ['dir.yaml']},
  {name: 'the manifest is missing', args: ['build', '--manifest', 'nope.yaml']},
  {name: 'LAYERS_MANIFEST names a missing file', args: ['publish'], env: {LAYERS_MANIFEST: '/nonexistent/layers.yaml'}},
  // Lockfiles and state
  {name: 'lockfile.json is not JSON', args: ['build'], files: {'lockfile.json': '{"lockfileVersion": 1, '}},
  {name: 'lockfile.json is a directory', args: ['build'], dirs: ['lockfile.json'], code: 1, says: 'ERR_LAYERS_LOCKFILE_READ'},
  {name: 'lockfile.json holds null', args: ['attach', '--dry-run'], files: {'lockfile.json': 'null'}},
  {name: 'lockfile.json of the wrong shape', args: ['publish', '--dry-run'], files: {'lockfile.json': '{"lockfileVersion": 1, "layers": {"config": 5}}'}},
  {name: '.layers is a file', args: ['package'], files: {'.layers': 'x', 'lockfile.json': '{"lockfileVersion": 1, "layers": {}}'}, code: undefined},
  // Flags
  {name: '--concurrency 0', args: ['publish', '--concurrency', '0']},
  {name: '--concurrency banana', args: ['attach', '--concurrency', 'banana']},
  {name: '--concurrency -1', args: ['audit', '--concurrency=-1']},
  {name: 'an unknown flag', args: ['build', '--nope']},
  {name: 'an unknown flag with --json', args: ['lock', '--frobnicate', '--json'], says: 'ERR_LAYERS_UNKNOWN_FLAG'},
  {name: 'a flag without its value', args: ['publish', '--region']},
  {name: '--format that does not exist', args: ['audit', '--format', 'xml']},
  {name: '--keep banana', args: ['prune', '--keep', 'banana']},
  {name: '--older-than garbage', args: ['prune', '--older-than', 'forever']},
  {name: '--max-audit-age garbage', args: ['prune', '--use-last-audit', '--max-audit-age', '-5m']},
  {name: '--runs 0', args: ['history', 'config', '--runs', '0']},
  {name: '--role-name without --org', args: ['audit', '--role-name', 'Auditor']},
  {name: '--org with a bad role name', args: ['audit', '--org', '--role-name', 'a b c']},
  {name: 'an ARN history with a version', args: ['history', 'arn:aws:lambda:eu-west-1:111111111111:layer:x:3']},
  {name: 'a history ARN that is not one', args: ['history', 'arn:nonsense']},
  {name: '--timeout 0 for run', args: ['run', 'api', '--timeout', '0']},
  {name: '--env without =', args: ['run', 'api', '--env', 'NOVALUE']},
  {name: 'an event file that is missing', args: ['run', 'api', '--event', 'missing.json']},
  {name: 'an event file that is a directory', args: ['run', 'api', '--event', 'events'], dirs: ['events']},
  {name: '--arch that does not exist', args: ['run', 'api', '--arch', 'mips']},
  {name: 'package --out an existing file', args: ['package', '--out', 'afile', '--no-check'], files: {afile: 'x'}, says: 'ERR_LAYERS_PACKAGE_OUT'},
  {name: 'package --out under a file', args: ['package', '--out', 'afile/sub', '--no-check'], files: {afile: 'x'}, says: 'ERR_LAYERS_PACKAGE_OUT'},
  {name: 'package --out under /proc (a recursive mkdir there spins on EEXIST)', args: ['package', '--out', '/proc/1/layers-out', '--no-check'], says: 'ERR_LAYERS_PACKAGE_OUT'},
  {name: 'lock --update with a package and no layer', args: ['lock', '--update', '/lodash']},
  {name: 'an unknown command', args: ['frobnicate']},
  // Environment
  {name: 'LAYERS_LOCK_WAIT_MS=banana', args: ['lock'], env: {LAYERS_LOCK_WAIT_MS: 'banana'}, says: 'LAYERS_LOCK_WAIT_MS'},
  {name: 'LAYERS_LOCK_WAIT_MS=Infinity', args: ['lock'], env: {LAYERS_LOCK_WAIT_MS: 'Infinity'}, says: 'LAYERS_LOCK_WAIT_MS'},
  {name: 'LAYERS_LOCK_WAIT_MS=-1', args: ['lock'], env: {LAYERS_LOCK_WAIT_MS: '-1'}, says: 'LAYERS_LOCK_WAIT_MS'},
  {name: 'AWS_REGION=mars with --region mars', args: ['audit', '--account', '111111111111', '--region', 'mars'], env: {AWS_REGION: 'mars'}},
  {name: 'AWS_REGION=mars alone (the manifest names the regions)', args: ['audit', '--account', '111111111111', '--json'], env: {AWS_REGION: 'mars', AWS_DEFAULT_REGION: 'mars'}, code: 1, says: 'ERR_LAYERS_AUDIT_TARGETS_FAILED'},
  {name: 'AWS_PROFILE names a missing profile', args: ['audit', '--fail-on', 'error'], env: {AWS_PROFILE: 'missing'}, code: 1},
  {name: 'a malformed ~/.aws/config', args: ['audit', '--fail-on', 'error'], files: {'.aws/config': '[profile dev\nregion = \n= = =\n[default]\naws_access_key_id\n'}, env: {AWS_PROFILE: 'dev'}, code: 1},
]

const COMMANDS = ['attach', 'audit', 'build', 'export', 'history', 'init', 'lock', 'outdated', 'package', 'prune', 'publish', 'run', 'validate']
const WITH_CONCURRENCY = ['attach', 'audit', 'outdated', 'prune', 'publish']
// Every command: an unknown flag under --json is ERR_LAYERS_UNKNOWN_FLAG in the JSON envelope; every
// --concurrency refuses 0 and a word (ERR_LAYERS_FLAG_VALUE).
CASES.push(
  ...COMMANDS.map((command) => ({name: `${command} with an unknown flag and --json`, args: [command, '--definitely-not-a-flag', '--json'], says: '"code": "ERR_LAYERS_UNKNOWN_FLAG"'})),
  ...WITH_CONCURRENCY.flatMap((command) => [
    {name: `${command} --concurrency 0`, args: [command, '--concurrency', '0', '--json'], says: 'ERR_LAYERS_FLAG_VALUE'},
    {name: `${command} --concurrency banana`, args: [command, '--concurrency', 'banana'], says: 'ERR_LAYERS_FLAG_VALUE'},
  ]),
)

let base: string

beforeAll(() => {
  base = mkdtempSync(path.join(tmpdir(), 'layers-hostile-'))
})

afterAll(() => {
  rmSync(base, {recursive: true, force: true})
})

function project(index: number, testCase: Case): string {
  const dir = path.join(base, String(index))
  mkdirSync(path.join(dir, 'layers/config'), {recursive: true})
  mkdirSync(path.join(dir, 'fns/api'), {recursive: true})
  writeFileSync(path.join(dir, 'layers/config/a.txt'), 'a\n')
  writeFileSync(path.join(dir, 'fns/api/index.js'), 'exports.handler = async () => 1\n')
  writeFileSync(path.join(dir, 'layers.yaml'), VALID)
  for (const sub of testCase.dirs ?? []) mkdirSync(path.join(dir, sub), {recursive: true})
  for (const [file, text] of Object.entries(testCase.files ?? {})) {
    mkdirSync(path.dirname(path.join(dir, file)), {recursive: true})
    writeFileSync(path.join(dir, file), text)
  }
  return dir
}

describe('hostile CLI corpus', () => {
  // Concurrent: each case has its own directory and process; the runs wait on their CLI, not the CPU alone.
  it.concurrent.each(CASES.map((testCase, index) => [testCase.name, index, testCase] as const))('%s: a clear error, never an internal one', async (_name, index, testCase) => {
    const dir = project(index, testCase)
    const env: NodeJS.ProcessEnv = {
      HOME: dir,
      AWS_CONFIG_FILE: path.join(dir, '.aws/config'),
      AWS_SHARED_CREDENTIALS_FILE: path.join(dir, '.aws/credentials'),
      AWS_EC2_METADATA_DISABLED: 'true',
      // Nothing listens on port 9: a case that reaches AWS fails fast on a refused connection, never on real AWS.
      AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
      AWS_MAX_ATTEMPTS: '1',
      AWS_ACCESS_KEY_ID: '',
      AWS_SECRET_ACCESS_KEY: '',
      LAYERS_MANIFEST: '',
      LAYERS_LOCK_WAIT_MS: '',
      ...testCase.env,
    }
    for (const [key, value] of Object.entries(env)) if (value === '') delete env[key]
    const baseEnv = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^(AWS_|LAYERS_|npm_config_)/i.test(key)))
    const result = await runCli(testCase.args, {cwd: dir, baseEnv: {...baseEnv, ...env}, timeoutMs: 60_000})
    const output = result.stdout + result.stderr
    expect(result.signal, output).toBeNull()
    expect(result.spawnError).toBeUndefined()
    expect(output).not.toContain('ERR_LAYERS_INTERNAL')
    expect(output).not.toContain('This is a bug')
    expect(output).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m)
    if (testCase.code === undefined && 'code' in testCase) expect([1, 2], output).toContain(result.code)
    else expect(result.code, output.slice(0, 2000)).toBe(testCase.code ?? 2)
    if (testCase.says) expect(output).toContain(testCase.says)
    // Echoed values are cut: even a 10 MB input gives a readable error.
    expect(output.length).toBeLessThan(64 * 1024)
  })
})

describe('the CLI runner', () => {
  it('reports a killed process by its signal, never as exit 1', async () => {
    const outcome = await new Promise<ReturnType<typeof exitCodeOf>>((resolve) => {
      execFile(process.execPath, ['-e', "process.kill(process.pid, 'SIGKILL')"], (error) => resolve(exitCodeOf(error)))
    })
    expect(outcome).toEqual({code: 137, signal: 'SIGKILL'})
  })
})

/**
 * Runs the CLI with piped stdout and stderr read slowly: after the first chunk of a stream the reader
 * stops until the process exits (or a second passes), so a process that exits before its pipes drain
 * loses the rest.
 */
function runSlowReader(args: string[], cwd: string): Promise<{code: number | null; stdout: string; stderr: string}> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {cwd, stdio: ['ignore', 'pipe', 'pipe']})
    const chunks: Record<'stdout' | 'stderr', Buffer[]> = {stdout: [], stderr: []}
    for (const name of ['stdout', 'stderr'] as const) {
      const stream = child[name]
      stream.on('data', (chunk: Buffer) => chunks[name].push(chunk))
      stream.once('data', () => {
        stream.pause()
        const timer = setTimeout(() => stream.resume(), 1000)
        child.once('exit', () => {
          clearTimeout(timer)
          stream.resume()
        })
      })
    }
    child.on('close', (code) => resolve({code, stdout: Buffer.concat(chunks.stdout).toString('utf8'), stderr: Buffer.concat(chunks.stderr).toString('utf8')}))
  })
}

describe('long output through a pipe', () => {
  const many = `version: 1\nlayers:\n${Array.from({length: 2000}, (_, i) => `  l${i}:\n    npm: {"Bad Name ${i}": "^1"}\n`).join('')}`

  it('stderr ends with the Error line after ~2000 problems, and --json stdout of more than 64 KiB parses', async () => {
    const dir = path.join(base, 'many')
    mkdirSync(dir, {recursive: true})
    writeFileSync(path.join(dir, 'layers.yaml'), many)
    const human = await runSlowReader(['validate'], dir)
    expect(human.code).toBe(2)
    expect(human.stderr.length).toBeGreaterThan(64 * 1024)
    expect(human.stderr.trimEnd().split('\n').at(-2)).toMatch(/^Error \[ERR_LAYERS_MANIFEST_INVALID\]: .* has 2000 problems\.$/)
    const json = await runSlowReader(['build', '--json'], dir)
    expect(json.code).toBe(2)
    expect(json.stdout.length).toBeGreaterThan(64 * 1024)
    expect(JSON.parse(json.stdout).error.problems).toHaveLength(2000)
  })

  it('keeps the exit code when the reader goes away early (EPIPE)', async () => {
    const dir = path.join(base, 'many')
    const code = await new Promise<number | null>((resolve) => {
      const child = spawn(process.execPath, [BIN, 'validate'], {cwd: dir, stdio: ['ignore', 'ignore', 'pipe']})
      child.stderr.once('data', () => child.stderr.destroy())
      child.on('exit', (exitCode) => resolve(exitCode))
    })
    expect(code).toBe(2)
  })
})
