// End to end through the built CLI (node bin/run.js; run `npm run build` first) against the local AWS
// test server, for names that come from AWS, not from layers.yaml: Lambda allows function, alias and
// layer names such as `__proto__`, `constructor` and `toString`, which every plain JavaScript object
// inherits. The dev account runs functions `__proto__` (alias `constructor` on a version behind the
// lock), `constructor` (prod's layer `constructor`, shared with dev) and `toString` (the manifest's
// `api`, behind and drifting, with dev's own layer `toString`). Checked: audit --json, --format jsonl,
// --format html and --diff, history (of config, and of prod's layer by ARN), attach --dry-run and
// prune --dry-run report every one of them with the right counts; `layers history constructor` is an
// unknown layer (exit 2), with no S3 read for it.
import {UpdateFunctionConfigurationCommand} from '@aws-sdk/client-lambda'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {AuditReport} from '../../src/audit/types.js'
import type {PruneResult} from '../../src/prune/run.js'
import {startAwsServer, type AwsServer} from '../../aws-double/index.js'
import {seeder} from '../../aws-double/seed.js'
import {accountsYaml, DEV, EU, lambdaAs, makeProject, PROD, ROLES, type Project} from '../publish/support.js'
import {validateAuditJson} from './support/schema.js'

const config = (version: number): string => `arn:aws:lambda:${EU}:${DEV}:layer:config:${version}`
const prodConstructor = `arn:aws:lambda:${EU}:${PROD}:layer:constructor:1`
const devToString = `arn:aws:lambda:${EU}:${DEV}:layer:toString:1`

const manifest = `version: 1
settings:
  bucket: "names-{accountId}-{region}"
  regions: [${EU}]
  architectures: [x86_64]
  runtimes: [nodejs24.x]
${accountsYaml([EU])}
layers:
  config:
    dir: layers/config
functions:
  api:
    name: toString
    source: fns/api
    handler: index.handler
    runtime: nodejs24.x
    layers: [config]
    accounts: [dev]
`

let server: AwsServer
let project: Project

beforeAll(async () => {
  server = await startAwsServer({accounts: {AKIDACCOUNT1: DEV, AKIDACCOUNT2: PROD}, roles: ROLES})
  project = makeProject(server, {'layers.yaml': manifest, 'layers/config/config.json': '{}\n', 'fns/api/index.js': 'exports.handler = async () => 1\n'})
  // The lock as `layers publish` leaves it: version 2 of config in dev (version 3 is unused: prune's candidate).
  await project.lock()
  const lock = project.lockfile()
  const locked = lock.layers.config!
  if (locked.kind === 'arn') throw new Error('config is a dir layer')
  locked.published = {[DEV]: {[EU]: {x86_64: {arn: config(2), version: 2, codeSha256: 's'}}}}
  project.write('lockfile.json', JSON.stringify(lock, null, 2) + '\n')
  const seed = seeder(server)
  for (const version of [1, 2, 3]) expect(await seed.layerVersion(DEV, EU, 'config', {architectures: ['x86_64']})).toBe(config(version))
  expect(await seed.layerVersion(PROD, EU, 'constructor')).toBe(prodConstructor)
  await seed.share(prodConstructor, DEV)
  expect(await seed.layerVersion(DEV, EU, 'toString')).toBe(devToString)
  await seed.function(DEV, EU, {name: '__proto__', runtime: 'nodejs24.x', layers: [config(1)]})
  expect(await seed.publishVersion(DEV, EU, '__proto__')).toBe('1')
  await seed.alias(DEV, EU, '__proto__', 'constructor', '1')
  const lambda = lambdaAs(server, DEV, EU)
  await lambda.send(new UpdateFunctionConfigurationCommand({FunctionName: '__proto__', Layers: [config(2)]}))
  lambda.destroy()
  await seed.function(DEV, EU, {name: 'constructor', runtime: 'nodejs24.x', layers: [prodConstructor]})
  await seed.function(DEV, EU, {name: 'toString', runtime: 'nodejs24.x', layers: [config(1), devToString]})
}, 60_000)

afterAll(async () => {
  project?.remove()
  await server?.close()
})

const findingsOf = (findings: AuditReport['findings']): string[][] => findings.map((f) => [f.code, f.function, f.alias ?? '$LATEST', f.layer ?? ''])

describe('function, alias and layer names every JavaScript object inherits (CLI)', () => {
  it('audit --json, --format jsonl and --format html report each function, alias and layer', async () => {
    const [json, lines, html] = await Promise.all([
      project.run(['audit', '--json', '--no-remote-state']),
      project.run(['audit', '--format', 'jsonl', '--no-save']),
      project.run(['audit', '--format', 'html', '--no-save']),
    ])
    expect(json.status, json.stderr).toBe(0)
    expect(json.stderr).not.toContain('ERR_LAYERS_INTERNAL')
    const report = json.json as AuditReport
    expect(validateAuditJson(report)).toEqual([])
    expect(report.summary).toMatchObject({targets: 2, failedTargets: 0, functions: 3})
    expect(report.functions.map((f) => [f.name, f.managed, f.aliases?.map((a) => a.name) ?? []])).toEqual([
      ['__proto__', false, ['constructor']],
      ['constructor', false, []],
      ['toString', true, []],
    ])
    const expected = [
      ['drift', 'toString', '$LATEST', ''],
      ['behind', '__proto__', 'constructor', config(1)],
      ['behind', 'toString', '$LATEST', config(1)],
      ['unmanaged', 'constructor', '$LATEST', prodConstructor],
      ['unmanaged', 'toString', '$LATEST', devToString],
    ]
    expect(findingsOf(report.findings)).toEqual(expected)
    expect(report.findings.find((f) => f.alias === 'constructor')?.message).toBe(`alias constructor -> 1 runs config:1, behind: the lock has version 2 for ${DEV}/${EU}`)
    expect(report.usage.map((u) => [u.layerArn, u.name ?? '', u.version, u.functions])).toEqual([
      [`arn:aws:lambda:${EU}:${DEV}:layer:config`, 'config', 1, 2],
      [`arn:aws:lambda:${EU}:${DEV}:layer:config`, 'config', 2, 1],
      [`arn:aws:lambda:${EU}:${DEV}:layer:toString`, '', 1, 1],
      [`arn:aws:lambda:${EU}:${PROD}:layer:constructor`, '', 1, 1],
    ])

    expect(lines.status, lines.stderr).toBe(0)
    expect(lines.stderr).not.toContain('ERR_LAYERS_INTERNAL')
    const stream = lines.stdout.trim().split('\n').map((line) => JSON.parse(line) as {type: string; function?: AuditReport['functions'][number]; finding?: AuditReport['findings'][number]; summary?: AuditReport['summary']})
    expect(stream.flatMap((line) => (line.function ? [line.function] : [])).sort((a, b) => (a.name < b.name ? -1 : 1))).toEqual(report.functions)
    expect(findingsOf(stream.flatMap((line) => (line.finding ? [line.finding] : []))).sort()).toEqual([...expected].sort())
    expect(stream.at(-1)).toMatchObject({type: 'summary', summary: report.summary})

    expect(html.status, html.stderr).toBe(0)
    expect(html.stderr).not.toContain('ERR_LAYERS_INTERNAL')
    expect(html.stdout).toMatch(/^<!doctype html>/)
    // A findings row per finding (function or function:alias), a matrix column per layer.
    const rows = [...html.stdout.matchAll(/<td class="mono">([^<]*)<\/td>/g)].map((match) => match[1]).sort()
    expect(rows).toEqual(['__proto__:constructor', 'constructor', 'toString', 'toString', 'toString'])
    expect(html.stdout).toContain(`title="constructor, owned by account ${PROD}"`)
    expect(html.stdout).toContain(`title="toString, owned by account ${DEV}"`)
    expect(html.stdout).toContain(`>${report.findings.length} in `)
  })

  it('history, audit --diff, attach --dry-run and prune --dry-run see the functions of those names', async () => {
    const mark = server.calls.length
    const [history, byArn, typed, diff, attach, prune] = await Promise.all([
      project.run(['history', 'config', '--json', '--no-remote-state']),
      project.run(['history', `arn:aws:lambda:${EU}:${PROD}:layer:constructor`, '--json', '--no-remote-state']),
      project.run(['history', 'constructor', '--json']),
      project.run(['audit', '--json', '--diff', '--no-save', '--no-remote-state']),
      project.run(['attach', 'api', '--dry-run', '--json']),
      project.run(['prune', '--dry-run', '--json', '--no-remote-state']),
    ])
    expect(history.status, history.stderr).toBe(0)
    expect((history.json as {usage: Array<{versions: Array<{version: number; functions: number}>}>}).usage.map((run) => run.versions.map((v) => [v.version, v.functions]))).toEqual([[[1, 2], [2, 1]]])
    expect(byArn.status, byArn.stderr).toBe(0)
    expect((byArn.json as {usage: Array<{versions: Array<{version: number; functions: number}>}>}).usage.map((run) => run.versions.map((v) => [v.version, v.functions]))).toEqual([[[1, 1]]])
    // A typed name the manifest lacks is a typo, even one every object inherits, and nothing is read for it.
    expect(typed.status, typed.stderr).toBe(2)
    expect(typed.stdout + typed.stderr).toContain('ERR_LAYERS_UNKNOWN_LAYER')
    expect(server.calls.slice(mark).filter((call) => call.service === 's3').map((call) => call.operation)).toEqual([])
    expect(diff.status, diff.stderr).toBe(0)
    expect((diff.json as AuditReport).diff).toMatchObject({added: [], resolved: [], unchanged: 5})
    expect(attach.status, attach.stdout + attach.stderr).toBe(0)
    expect((attach.json as {functions: Array<{functionName: string; status: string; after: string[]}>}).functions).toMatchObject([{functionName: 'toString', status: 'would-update', after: [config(2)]}])
    expect(prune.status, prune.stderr).toBe(0)
    const result = prune.json as PruneResult
    expect(result.kept.map((entry) => `${entry.layer}:${entry.version}:${entry.reason}`)).toEqual(['config:1:in-use', 'config:2:locked'])
    expect(result.candidates.map((entry) => `${entry.layer}:${entry.version}`)).toEqual(['config:3'])
    expect(result.deleted).toEqual([])
  })
})
