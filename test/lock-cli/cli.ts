// Runs the built CLI (dist/, via bin/run.js) as a user does, asynchronously (the loopback registry
// lives in the test process), in a project whose .npmrc points at the registry, with a private HOME
// and no npm_config_* variables from the environment that runs the tests.
import {execFile} from 'node:child_process'
import {mkdir, mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
export const BIN = path.join(repo, 'bin/run.js')

export interface CliResult {
  status: number
  stdout: string
  stderr: string
  json: any // eslint-disable-line @typescript-eslint/no-explicit-any
}

export function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(process.env)) if (!/^npm_config_/i.test(key) && !/^LAYERS_/.test(key)) env[key] = value
  return {...env, CI: 'true', ...extra}
}

export function runCli(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], {cwd, env: cleanEnv(env), maxBuffer: 64 * 1024 * 1024}, (error, stdout, stderr) => {
      const status = error ? (typeof error.code === 'number' ? error.code : 1) : 0
      let json: unknown
      if (args.includes('--json')) {
        try {
          json = JSON.parse(stdout)
        } catch {
          json = undefined
        }
      }
      resolve({status, stdout, stderr, json})
    })
  })
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

export function manifestWith(layers: string, settings = 'architectures: [x86_64, arm64]\n  runtimes: [nodejs20.x]'): string {
  return `version: 1
settings:
  bucket: test-{accountId}-{region}
  regions: [eu-west-1]
  ${settings}
layers:
${layers}`
}
