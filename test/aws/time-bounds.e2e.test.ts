// Time bounds end to end through the built CLI (node bin/run.js; run `npm run build` first): a project
// (dev by a named profile, prod by a role assumed through STS, so the STS call behind the credentials
// meets the dead endpoint too) published and attached against the local AWS test server, then every
// command that talks to AWS
// (publish, attach, attach --dry-run, audit, prune, outdated) pointed (AWS_ENDPOINT_URL) at a loopback
// port that accepts connections and never answers, or at one that refuses them. Each must end with exit
// 1 and an error naming the account, the region and the endpoint: with the default timeouts within
// 60 s (stalled) and 10 s (refused), with --read-timeout/--connect-timeout or LAYERS_READ_TIMEOUT
// sooner. Bad timeout values are exit 2 naming the flag or variable. The runs of one case go in parallel.
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {blackHoleEndpoint, refusedEndpoint, startAwsServer, type AwsServer} from '../../aws-double/index.js'
import {seeder} from '../../aws-double/seed.js'
import {accountsYaml, createFunction, DEV, EU, EXTERNAL_ID, makeProject, PROD, ROLE, type CliResult, type Project} from '../publish/support.js'

const VENDOR = '333333333333'

const MANIFEST = `version: 1
settings:
  bucket: "bounds-{accountId}-{region}"
  regions: [${EU}]
  architectures: [x86_64]
  runtimes: [nodejs22.x]
${accountsYaml([EU])}layers:
  config:
    dir: layers/config
  ext:
    arn: arn:aws:lambda:{region}:${VENDOR}:layer:ext:1
functions:
  api: {source: fns/api, handler: index.handler, runtime: nodejs22.x, architecture: x86_64, layers: [config, ext], accounts: [dev, prod]}
`

const COMMANDS: string[][] = [['publish'], ['attach'], ['attach', '--dry-run'], ['audit'], ['prune'], ['outdated']]

let server: AwsServer
let project: Project
let blackHole: Awaited<ReturnType<typeof blackHoleEndpoint>>
let refused: string

beforeAll(async () => {
  server = await startAwsServer({accounts: {AKIDACCOUNT1: DEV, AKIDACCOUNT2: PROD, AKIDVENDOR: VENDOR}, roles: {[ROLE]: {externalId: EXTERNAL_ID, trust: [DEV]}}})
  const seed = seeder(server)
  await seed.share(await seed.layerVersion(VENDOR, EU, 'ext', {runtimes: ['nodejs22.x'], architectures: ['x86_64']}), '*')
  project = makeProject(server, {
    'layers.yaml': MANIFEST,
    'layers/config/config.json': '{"stage": 1}\n',
    'fns/api/index.js': 'export const handler = async () => "ok"\n',
  })
  await project.lock()
  const published = await project.run(['publish', '--json', '--create-bucket'])
  expect(published.status, published.stderr).toBe(0)
  for (const account of [DEV, PROD]) await createFunction(server, account, EU, 'api')
  const attached = await project.run(['attach', '--json'])
  expect(attached.status, attached.stderr).toBe(0)
  blackHole = await blackHoleEndpoint()
  refused = await refusedEndpoint()
}, 120_000)

afterAll(async () => {
  project?.remove()
  await blackHole?.close()
  await server?.close()
})

interface Timed extends CliResult {
  command: string
  seconds: number
}

async function timed(args: string[], env: NodeJS.ProcessEnv): Promise<Timed> {
  const started = performance.now()
  const result = await project.run([...args, '--json'], env)
  return {...result, command: args.join(' '), seconds: (performance.now() - started) / 1000}
}

/**
 * Runs every command at the endpoint, in parallel, and checks each ended with exit 1 naming the target
 * and the endpoint. `seconds` is the time spent waiting on AWS: a `build` (no AWS call, a cache hit) started with
 * them measures what starting and running a command costs on this machine under this load, and is
 * taken off, so a loaded CI machine does not fail a bound meant for the network wait.
 */
async function allAgainst(endpoint: string, extraArgs: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<Timed[]> {
  const [baseline, ...all] = await Promise.all([timed(['build'], {}), ...COMMANDS.map((args) => timed([...args, ...extraArgs], {AWS_ENDPOINT_URL: endpoint, ...env}))])
  expect(baseline.status, baseline.stdout + baseline.stderr).toBe(0)
  const runs = all.map((run) => ({...run, seconds: Math.max(0, run.seconds - baseline.seconds)}))
  for (const run of runs) {
    const output = run.stdout + run.stderr
    expect(run.status, `${run.command}: ${output}`).toBe(1)
    expect(output, run.command).toContain('ERR_LAYERS_AWS_NO_ANSWER')
    expect(output, run.command).toContain(`dev (${DEV})`)
    expect(output, run.command).toContain(`prod (${PROD})`)
    expect(output, run.command).toContain(`region ${EU}`)
    expect(output, run.command).toContain(`at ${endpoint}`)
  }
  process.stdout.write(`${endpoint}${extraArgs.length ? ` ${extraArgs.join(' ')}` : ''}${Object.keys(env).length ? ` ${JSON.stringify(env)}` : ''}: ${runs.map((run) => `${run.command} ${run.seconds.toFixed(1)} s`).join(', ')} beyond a build's ${baseline.seconds.toFixed(1)} s\n`)
  return runs
}

describe('every AWS command is bounded in time', () => {
  it('a stalled endpoint with --read-timeout 1: each command fails fast, naming the read timeout', async () => {
    const runs = await allAgainst(blackHole.endpoint, ['--read-timeout', '1', '--connect-timeout', '1'])
    for (const run of runs) {
      expect(run.stdout + run.stderr, run.command).toContain('nothing came back for 1 s (--read-timeout)')
      expect(run.seconds, run.command).toBeLessThan(30)
    }
  })

  it('LAYERS_READ_TIMEOUT sets the read timeout when the flag is not given', async () => {
    const run = await timed(['audit'], {AWS_ENDPOINT_URL: blackHole.endpoint, LAYERS_READ_TIMEOUT: '1'})
    expect(run.status, run.stderr).toBe(1)
    expect(run.stdout + run.stderr).toContain('nothing came back for 1 s (--read-timeout)')
    expect(run.seconds).toBeLessThan(30)
  })

  it('with the defaults, a stalled endpoint ends every command within 60 s', async () => {
    const before = blackHole.connections
    const runs = await allAgainst(blackHole.endpoint)
    expect(blackHole.connections).toBeGreaterThan(before)
    for (const run of runs) {
      expect(run.stdout + run.stderr, run.command).toContain('nothing came back for 30 s (--read-timeout)')
      expect(run.seconds, run.command).toBeLessThan(60)
    }
  }, 90_000)

  it('with the defaults, a refused port ends every command within 10 s', async () => {
    const runs = await allAgainst(refused)
    for (const run of runs) {
      expect(run.stdout + run.stderr, run.command).toContain('the connection was refused')
      expect(run.seconds, run.command).toBeLessThan(10)
    }
  })

  it('a timeout that is not a number of seconds is exit 2 naming the flag or the variable', async () => {
    const [flag, variable, negative] = await Promise.all([
      timed(['audit', '--read-timeout', 'banana'], {}),
      timed(['publish'], {LAYERS_CONNECT_TIMEOUT: '10s'}),
      timed(['attach', '--connect-timeout=-1'], {}),
    ])
    expect(flag.status).toBe(2)
    expect(flag.json.error).toMatchObject({code: 'ERR_LAYERS_FLAG_VALUE'})
    expect(flag.json.error.message).toContain('--read-timeout must be a number of seconds')
    expect(variable.status).toBe(2)
    expect(variable.json.error).toMatchObject({code: 'ERR_LAYERS_ENV'})
    expect(variable.json.error.message).toContain('LAYERS_CONNECT_TIMEOUT must be a number of seconds')
    expect(negative.status).toBe(2)
    expect(negative.json.error.message).toContain('--connect-timeout must be a number of seconds')
  })
})
