// End to end through the built CLI (run `npm run build` first) against the local AWS double: human
// output fits COLUMNS=80, colour follows NO_COLOR/FORCE_COLOR (never under --json), the same fix and
// the same failure on many targets are said once, accounts read `dev (111111111111)`, and a broken
// layers.yaml reports its first syntax error with a count of the rest.
import {stripVTControlCharacters} from 'node:util'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startAwsServer, type AwsServer} from '../../aws-double/index.js'
import {seeder} from '../../aws-double/seed.js'
import {DEV, makeProject, type Project} from '../publish/support.js'

const OK_REGION = 'eu-west-1'
const DENIED = ['us-east-1', 'us-west-2', 'eu-central-1', 'ap-southeast-1', 'ap-northeast-1']
const ESC = '\u001B['

let server: AwsServer
let project: Project

beforeAll(async () => {
  server = await startAwsServer({accounts: {AKIDDEV: DEV}})
  project = makeProject(server, {
    'layers.yaml': `version: 1
settings:
  bucket: "output-{accountId}-{region}"
  architectures: [x86_64, arm64]
  runtimes: [nodejs22.x]
accounts:
  dev: {id: "${DEV}", profile: dev, regions: [${[OK_REGION, ...DENIED].join(', ')}]}
layers:
  a-config-layer-with-a-long-name:
    dir: layers/config
`,
    'layers/config/config.json': '{"stage": 1}\n',
    // Tabs as indentation: the parser reports every indented line after the first.
    'broken/layers.yaml': `version: 1\nlayers:\n\tconfig:\n\t\tdir: layers/config\n${Array.from({length: 25}, (_, index) => `\tl${index}:\n\t\tdir: x${index}\n`).join('')}`,
  })
  await project.lock()
  const seed = seeder(server)
  for (const name of ['orders-api', 'billing-worker', 'thumbnails']) await seed.function(DEV, OK_REGION, {name, runtime: 'nodejs16.x'})
  server.setFaults({deny: DENIED.map((region) => `${DEV}/${region}`), operations: ['ListFunctions']})
}, 60_000)

afterAll(async () => {
  await server?.close()
  project?.remove()
})

// Not a terminal, neither NO_COLOR nor FORCE_COLOR (the project's env sets NO_COLOR): no colour.
const narrow = {COLUMNS: '80', NO_COLOR: undefined, FORCE_COLOR: undefined}
const widest = (text: string) => Math.max(...text.split('\n').map((line) => line.length))

describe('human output (CLI)', () => {
  it('fits 80 columns, says each fix and each shared failure once, colours only when allowed', async () => {
    const [plain, forced, noColor, json, build] = await Promise.all([
      project.run(['audit', '--no-save'], {...narrow}),
      project.run(['audit', '--no-save'], {...narrow, FORCE_COLOR: '1'}),
      project.run(['audit', '--no-save'], {...narrow, NO_COLOR: '1'}),
      project.run(['audit', '--no-save', '--json'], {...narrow, FORCE_COLOR: '1'}),
      project.run(['build'], {...narrow}),
    ])
    expect(plain.status, plain.stderr).toBe(1)
    expect(widest(plain.stdout), plain.stdout).toBeLessThanOrEqual(80)
    // Three functions on a deprecated runtime: one group, its fix said once.
    expect(plain.stdout).toMatch(/^error runtime \(3 findings\)$/m)
    expect(plain.stdout.match(/Move the function/g)).toHaveLength(1)
    for (const name of ['orders-api', 'billing-worker', 'thumbnails']) expect(plain.stdout).toContain(name)
    // Five regions denied the same way: said once, with the five targets under it.
    expect(plain.stdout).toMatch(/^5 targets failed the same way: \[AccessDeniedException\]/m)
    for (const region of DENIED) expect(plain.stdout).toMatch(new RegExp(`^ {2}dev \\(${DEV}\\) ${region}$`, 'm'))
    expect(plain.stdout).toContain(`dev (${DEV}) ${OK_REGION}`)
    expect(plain.stdout).not.toContain(ESC)

    expect(forced.stdout).toContain(ESC)
    expect(stripVTControlCharacters(forced.stdout)).toBe(plain.stdout)
    expect(noColor.stdout).not.toContain(ESC)
    expect(json.stdout).not.toContain(ESC)
    expect(json.json.summary.failedTargets).toBe(5)

    expect(build.status, build.stderr).toBe(0)
    expect(widest(build.stdout), build.stdout).toBeLessThanOrEqual(80)
    expect(build.stdout).toMatch(/^a-config-\s.*built$/m)
  })

  it('reports the first YAML syntax error of a broken layers.yaml with a count of the rest', async () => {
    const run = await project.run(['validate', '--manifest', 'broken/layers.yaml'], narrow)
    expect(run.status).toBe(2)
    const problems = run.stderr.split('\n').filter((line) => line.includes('ERR_LAYERS_MANIFEST_SYNTAX'))
    expect(problems, run.stderr).toHaveLength(1)
    expect(problems[0]).toMatch(/broken\/layers\.yaml:3:1: error ERR_LAYERS_MANIFEST_SYNTAX .*tabs.*\(\d{2} more syntax errors after it/i)
  })
})
