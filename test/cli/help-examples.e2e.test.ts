// Every example in every command's help runs: the examples are read from the built CLI's oclif
// manifest (what `layers COMMAND --help` prints), and each runs as a user would type it (through
// sh, with `layers` on PATH) in a copy of the example project (layers.yaml, examples/) locked against
// a loopback npm registry with small stand-ins for its packages, against the local AWS double set up
// as `npm run demo:server` sets it up (aws-double/example.ts). `init` starts a project, so its
// examples run in an empty directory. Each must exit 0, or the exit its description ends with
// ("... (exits 1)").
import {execFile} from 'node:child_process'
import {chmod, cp, mkdir, mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import path from 'node:path'
import pLimit from 'p-limit'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startExampleServer, type ExampleServer} from '../../aws-double/example.js'
import {BIN, exitCodeOf, REPO_ROOT, runCli} from '../support/cli.js'
import {NpmRegistry} from '../support/npm-registry.js'
import {npmEnv} from '../package/fixture-project.js'

interface Example {
  command: string
  description: string
  run: string
  expectedExit: number
}

/** Every example of every command in the built CLI's manifest, with `layers` for the binary. */
async function helpExamples(): Promise<Example[]> {
  const manifest = JSON.parse(await readFile(path.join(REPO_ROOT, 'oclif.manifest.json'), 'utf8')) as {
    commands: Record<string, {examples?: Array<string | {command: string; description?: string}>}>
  }
  return Object.entries(manifest.commands).flatMap(([id, command]) =>
    (command.examples ?? []).map((example) => {
      const {command: template, description = ''} = typeof example === 'string' ? {command: example} : example
      const run = template.replaceAll('<%= config.bin %>', 'layers').replaceAll('<%= command.id %>', id)
      const documented = /\(exits (\d+)\)$/.exec(description.trim())
      return {command: id, description, run, expectedExit: documented ? Number(documented[1]) : 0}
    }),
  )
}

/** Stand-ins for the example's npm packages: just enough of each API for the example functions to run. */
function exampleRegistry(registry: NpmRegistry): void {
  const schema = [
    "'use strict'",
    '// A stand-in for zod: every schema accepts its input as it is.',
    'const schema = () => ({min: schema, max: schema, int: schema, positive: schema, default: schema, parse: (value) => value, safeParse: (value) => ({success: true, data: value})})',
    'exports.object = schema',
    'exports.array = schema',
    'exports.string = schema',
    'exports.number = schema',
    '',
  ].join('\n')
  registry.publish('zod', {
    version: '3.25.76',
    main: 'index.js',
    exports: {'.': './index.js', './v4': './v4.js', './package.json': './package.json'},
    files: {'v4.js': schema, 'index.js': "'use strict'\nexports.z = require('./v4.js')\n"},
  })
  registry.publish('ms', {version: '2.1.3', files: {'index.js': "module.exports = (text) => Number(/^(\\d+)m$/.exec(text)?.[1] ?? 0) * 60000\n"}})
  registry.publish('p-retry', {
    version: '6.2.1',
    type: 'module',
    exports: {'.': './index.js'},
    files: {'index.js': 'export default async function pRetry(run, {retries = 0} = {}) {\n  for (let attempt = 1; ; attempt++) {\n    try { return await run(attempt) } catch (error) { if (attempt > retries) throw error }\n  }\n}\n'},
  })
  for (const [cpu, name] of [['x64', '@img/sharp-linux-x64'], ['arm64', '@img/sharp-linux-arm64']] as const) {
    registry.publish(name, {version: '0.34.5', os: ['linux'], cpu: [cpu], libc: ['glibc'], files: {'lib/sharp.node': `native ${cpu}\n`}})
  }
  registry.publish('sharp', {
    version: '0.34.5',
    optionalDependencies: {'@img/sharp-linux-x64': '0.34.5', '@img/sharp-linux-arm64': '0.34.5'},
    files: {'index.js': "'use strict'\nmodule.exports = () => ({png() { return this }, async toBuffer() { return Buffer.from('png') }})\n"},
  })
}

let registry: NpmRegistry
let aws: ExampleServer
let dir: string
let project: string
let empty: string
let env: NodeJS.ProcessEnv

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'layers-help-examples-'))
  project = path.join(dir, 'project')
  empty = path.join(dir, 'empty')
  await mkdir(empty)
  await mkdir(project)
  await cp(path.join(REPO_ROOT, 'layers.yaml'), path.join(project, 'layers.yaml'))
  await cp(path.join(REPO_ROOT, 'examples'), path.join(project, 'examples'), {recursive: true})
  // `layers` on PATH, as an installed CLI is.
  const bin = path.join(dir, 'bin')
  await mkdir(bin)
  await writeFile(path.join(bin, 'layers'), `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} "$@"\n`)
  await chmod(path.join(bin, 'layers'), 0o755)

  registry = await NpmRegistry.start()
  exampleRegistry(registry)
  aws = await startExampleServer({manifest: await readFile(path.join(project, 'layers.yaml'), 'utf8'), awsDir: path.join(dir, 'aws'), functions: true})
  env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('AWS_') && !name.startsWith('LAYERS_') && !name.startsWith('npm_config_')))
  Object.assign(env, aws.env, npmEnv(registry, path.join(dir, 'npm-cache')), {PATH: `${bin}${path.delimiter}${process.env.PATH ?? ''}`, NODE_NO_WARNINGS: '1', LAYERS_CONNECT_TIMEOUT: '2', LAYERS_READ_TIMEOUT: '30'})
  // The project as a team has it: locked, built, published, attached, audited once.
  for (const args of [['lock'], ['build'], ['publish', '--create-bucket'], ['attach'], ['audit']]) {
    const result = await runCli([...args, '--json'], {cwd: project, baseEnv: env})
    if (result.code !== 0) throw new Error(`layers ${args.join(' ')} failed (exit ${result.code}): ${result.stdout}${result.stderr}`)
  }
}, 180_000)

afterAll(async () => {
  await aws?.server.close()
  await registry?.stop()
  if (dir) await rm(dir, {recursive: true, force: true, maxRetries: 5})
})

function shell(command: string, cwd: string): Promise<{code: number; stdout: string; stderr: string}> {
  return new Promise((resolve) => {
    execFile('sh', ['-c', command], {cwd, env, timeout: 120_000, maxBuffer: 64 * 1024 * 1024}, (error, stdout, stderr) => resolve({...exitCodeOf(error), stdout, stderr}))
  })
}

describe('help examples', () => {
  it('every example of every command runs against the example project and the demo server', async () => {
    const examples = await helpExamples()
    expect(examples.length).toBeGreaterThan(20)
    for (const example of examples) expect(example.run, `${example.command}: ${example.run}`).not.toMatch(/<%/)
    // A command's examples run one after another (two publishes would wait on each other's lease);
    // different commands run at the same time.
    const byCommand = new Map<string, Example[]>()
    for (const example of examples) byCommand.set(example.command, [...(byCommand.get(example.command) ?? []), example])
    const limit = pLimit(3)
    const outcomes = (
      await Promise.all(
        [...byCommand.values()].map((commandExamples) =>
          limit(async () => {
            const done = []
            for (const example of commandExamples) done.push({example, result: await shell(example.run, example.command === 'init' ? empty : project)})
            return done
          }),
        ),
      )
    ).flat()
    const failures = outcomes
      .filter(({example, result}) => result.code !== example.expectedExit)
      .map(({example, result}) => `$ ${example.run}\n  exit ${result.code}, expected ${example.expectedExit}\n  ${(result.stderr || result.stdout).trim().split('\n').slice(0, 6).join('\n  ')}`)
    expect(failures.join('\n\n')).toBe('')
  }, 300_000)
})
