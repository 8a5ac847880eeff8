// Runs the built CLI (dist/, via bin/run.js) as a user does, asynchronously (the loopback registry
// lives in the test process), in a project whose .npmrc points at the registry, with a private HOME
// and no npm_config_* variables from the environment that runs the tests.
import {mkdir, mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterEach} from 'vitest'
import {runCli as runSharedCli} from '../support/cli.js'

export {BIN} from '../support/cli.js'

export interface CliResult {
  /** The exit code; 128 + signal number when killed, -1 when it could not run (see test/support/cli.ts). */
  status: number
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  json: any // eslint-disable-line @typescript-eslint/no-explicit-any
}

export function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(process.env)) if (!/^npm_config_/i.test(key) && !/^LAYERS_/.test(key)) env[key] = value
  return {...env, CI: 'true', ...extra}
}

/** The shared runner (test/support/cli.ts) in a clean environment; `json` only for --json runs. */
export async function runCli(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  const result = await runSharedCli(args, {cwd, baseEnv: cleanEnv(env), timeoutMs: 600_000})
  return {status: result.code, signal: result.signal, stdout: result.stdout, stderr: result.stderr, json: args.includes('--json') ? result.json : undefined}
}

export interface Project {
  dir: string
  home: string
  write(file: string, text: string): Promise<void>
  cli(args: string[], env?: NodeJS.ProcessEnv): Promise<CliResult>
  cleanup(): Promise<void>
}

/** A project directory with layers.yaml and an .npmrc for `registryUrl` (own npm cache, fast retries). */
export async function makeProject(registryUrl: string, manifest: string, npmrc = ''): Promise<Project> {
  const base = await mkdtemp(path.join(tmpdir(), 'layers-lock-cli-'))
  const dir = path.join(base, 'project')
  const home = path.join(base, 'home')
  await mkdir(dir, {recursive: true})
  await mkdir(home, {recursive: true})
  const write = async (file: string, text: string): Promise<void> => {
    await mkdir(path.dirname(path.join(dir, file)), {recursive: true})
    await writeFile(path.join(dir, file), text)
  }
  await write('layers.yaml', manifest)
  await write('.npmrc', `registry=${registryUrl}\ncache=${path.join(base, 'npm-cache')}\nfetch-retries=2\nfetch-retry-mintimeout=10\nfetch-retry-maxtimeout=50\n${npmrc}`)
  return {
    dir,
    home,
    write,
    cli: (args, env = {}) => runCli(dir, args, {HOME: home, ...env}),
    cleanup: () => rm(base, {recursive: true, force: true, maxRetries: 5}),
  }
}

/** A maker of projects from manifestWith(layers) for one test file; each is removed after its test. */
export function projectMaker(registryUrl: () => string): (layers: string) => Promise<Project> {
  const made: Project[] = []
  afterEach(async () => {
    while (made.length > 0) await made.pop()!.cleanup()
  })
  return async (layers) => {
    const created = await makeProject(registryUrl(), manifestWith(layers))
    made.push(created)
    return created
  }
}

export function manifestWith(layers: string, settings = 'architectures: [x86_64, arm64]\n  runtimes: [nodejs20.x]'): string {
  return `version: 1
settings:
  bucket: test-{accountId}-{region}
  regions: [eu-west-1]
  ${settings}
layers:
${layers}`
}
