// `npm run demo` tells the example project's story end to end (its own checks pass, every step is
// printed with its command line, the repository is left as it was), and `npm run demo:server` serves
// the example project for use by hand: started as the script starts it, the environment it prints is
// all a copy of the example project needs to publish (the acme-dev profile, the prod role with its
// external id, the buckets), audit the functions and read the AWS-provided layer it pins.
// The demo builds from the committed lockfile: its tarballs come from the npm cache (pacote reads a
// locked integrity from the cache first), else from the npm registry, as the README says.
import {execFile, spawn} from 'node:child_process'
import {cp, mkdtemp, readFile, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {createInterface} from 'node:readline'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {exitCodeOf, REPO_ROOT, runCli} from '../support/cli.js'

let dir: string
const cleanEnv = (): NodeJS.ProcessEnv => Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('AWS_') && !name.startsWith('LAYERS_')))

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'layers-demo-test-'))
})

afterAll(async () => {
  if (dir) await rm(dir, {recursive: true, force: true, maxRetries: 5})
})

describe('npm run demo', () => {
  it('runs the whole story from the committed lockfile, each step printed with its command line', async () => {
    const committed = await readFile(path.join(REPO_ROOT, 'lockfile.json'))
    const result = await new Promise<{code: number; stdout: string; stderr: string}>((resolve) => {
      execFile('npm', ['run', '--silent', 'demo', '--', '--skip-build', '--dir', path.join(dir, 'demo')], {cwd: REPO_ROOT, env: {...cleanEnv(), npm_config_prefer_offline: 'true'}, timeout: 400_000, maxBuffer: 64 * 1024 * 1024}, (error, stdout, stderr) =>
        resolve({...exitCodeOf(error), stdout, stderr}),
      )
    })
    expect(result.code, result.stdout + result.stderr).toBe(0)
    const steps = result.stdout.split('\n').filter((line) => line.startsWith('$ '))
    expect(steps).toEqual([
      '$ layers validate',
      '$ layers lock',
      '$ layers build',
      '$ layers package',
      '$ layers publish --create-bucket',
      '$ layers attach',
      '$ layers audit',
      '$ layers lock',
      '$ layers build',
      '$ layers publish',
      '$ layers attach',
      '$ layers audit --fail-on error',
      '$ layers attach api --account dev',
      '$ layers audit --fail-on error',
      '$ layers history common',
      '$ layers prune --dry-run',
      '$ layers prune --yes',
      '$ layers outdated',
      '$ layers run api --event examples/events/api-order.json',
      `$ echo '{"every": "5m", "failFirst": 1}' | layers run scheduler --event -`,
    ])
    expect(result.stdout).toContain(`All ${steps.length} steps went as expected.`)
    expect(result.stdout).toContain('(exit 1: audit finds the drift')
    expect(await readFile(path.join(REPO_ROOT, 'lockfile.json'))).toEqual(committed)
  }, 420_000)
})

describe('npm run demo:server', () => {
  it('serves the example project by hand: the printed exports are all a copy of it needs', async () => {
    const server = spawn(process.execPath, ['--no-warnings', 'demo/server.mjs', '--memory', '--port', '0'], {cwd: REPO_ROOT, env: cleanEnv(), stdio: ['ignore', 'pipe', 'inherit']})
    const exited = new Promise<number | null>((resolve) => server.on('exit', resolve))
    try {
      const exports: Record<string, string> = {}
      const unset: string[] = []
      for await (const line of createInterface({input: server.stdout!})) {
        const exported = /^\s+export (\w+)=(.*)$/.exec(line)
        if (exported) exports[exported[1]!] = exported[2]!
        // The unset line ends the environment block, printed once the server is seeded and listening.
        const unsetLine = /^\s+unset (.*)$/.exec(line)
        if (unsetLine) {
          unset.push(...unsetLine[1]!.split(' '))
          break
        }
      }
      expect(Object.keys(exports).sort()).toEqual(['AWS_CONFIG_FILE', 'AWS_ENDPOINT_URL', 'AWS_SHARED_CREDENTIALS_FILE'])
      expect(unset).toContain('AWS_PROFILE')
      const project = path.join(dir, 'by-hand')
      for (const entry of ['layers.yaml', 'lockfile.json', 'examples']) await cp(path.join(REPO_ROOT, entry), path.join(project, entry), {recursive: true})
      const env = {...Object.fromEntries(Object.entries(cleanEnv()).filter(([name]) => !unset.includes(name))), ...exports, LAYERS_CONNECT_TIMEOUT: '2', LAYERS_READ_TIMEOUT: '30'}

      expect((await runCli(['build', 'config', '--json'], {cwd: project, baseEnv: env})).code).toBe(0)
      const [published, audit, outdated] = await Promise.all([
        runCli(['publish', 'config', '--json'], {cwd: project, baseEnv: env}),
        runCli(['audit', '--json'], {cwd: project, baseEnv: env}),
        runCli(['outdated', 'insights', '--json'], {cwd: project, baseEnv: env}),
      ])
      // dev through the acme-dev profile, prod through its role (default credentials, external id), into the buckets that exist.
      expect(published.code, published.stdout + published.stderr).toBe(0)
      expect(JSON.stringify(published.json)).toContain('arn:aws:lambda:eu-west-1:111111111111:layer:config:1')
      expect(JSON.stringify(published.json)).toContain('arn:aws:lambda:us-east-1:222222222222:layer:config:1')
      // The functions exist in every target; they have no layers yet.
      expect(audit.code, audit.stdout + audit.stderr).toBe(0)
      expect(audit.stdout).not.toContain('"failed": [{')
      for (const name of ['acme-api', 'thumbnails', 'scheduler']) expect(audit.stdout).toContain(`"${name}"`)
      // The AWS-provided layer is readable at the pinned version, and one newer.
      expect(outdated.code, outdated.stdout + outdated.stderr).toBe(0)
      expect(JSON.stringify(outdated.json)).toContain('LambdaInsightsExtension:54')
    } finally {
      server.kill('SIGTERM')
      await exited
    }
  }, 120_000)
})
