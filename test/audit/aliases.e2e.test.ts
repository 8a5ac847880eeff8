// End to end through the built CLI (node bin/run.js; run `npm run build` first) against the local AWS
// test server, for function versions and aliases: a project whose dir layer `config` has versions 1..4
// in dev/eu-west-1 (the lock pins 4, the layer is shared with prod), the function `api` on version 4
// in $LATEST, its published version 1 on config 2 and version 2 on config 3, alias `live` on version 1
// and alias `canary` splitting version 1 and 2. Checked: the audit's findings per alias and the reads it
// makes (each version once, and none a second saved audit: they are cached), prune keeping a version only an alias uses and deleting it once no alias
// does, and prune blocked by an account whose aliases the audit could not read, with the reason.
import {CreateAliasCommand, PublishVersionCommand, UpdateAliasCommand, UpdateFunctionConfigurationCommand, type LambdaClient} from '@aws-sdk/client-lambda'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {AuditReport} from '../../src/audit/types.js'
import type {PruneResult} from '../../src/prune/run.js'
import {startAwsServer, type AwsServer} from '../../aws-double/index.js'
import {seeder} from '../../aws-double/seed.js'
import {accountsYaml, DEV, EU, lambdaAs, makeProject, PROD, ROLES, type Project} from '../publish/support.js'
import {validateAuditJson} from './support/schema.js'

const config = (version: number): string => `arn:aws:lambda:${EU}:${DEV}:layer:config:${version}`

const manifest = `version: 1
settings:
  bucket: "aliases-{accountId}-{region}"
  regions: [${EU}]
  architectures: [x86_64]
  runtimes: [nodejs24.x]
${accountsYaml([EU])}
layers:
  config:
    dir: layers/config
    share:
      accounts: [prod]
`

let server: AwsServer
let project: Project
let lambda: LambdaClient

beforeAll(async () => {
  server = await startAwsServer({accounts: {AKIDACCOUNT1: DEV, AKIDACCOUNT2: PROD}, roles: ROLES})
  project = makeProject(server, {'layers.yaml': manifest, 'layers/config/config.json': '{}\n'})
  // The lock as `layers publish` leaves it: version 4 published in dev/eu-west-1 (prod has none).
  project.write('lockfile.json', JSON.stringify({lockfileVersion: 1, layers: {config: {kind: 'dir', inputs: 'x', artifacts: {}, published: {[DEV]: {[EU]: {x86_64: {arn: config(4), version: 4, codeSha256: 's'}}}}}}}, null, 2) + '\n')
  const seed = seeder(server)
  for (const version of [1, 2, 3, 4]) expect(await seed.layerVersion(DEV, EU, 'config', {architectures: ['x86_64']})).toBe(config(version))
  lambda = lambdaAs(server, DEV, EU)
  await seed.function(DEV, EU, {name: 'api', runtime: 'nodejs24.x', layers: [config(2)]})
  await lambda.send(new PublishVersionCommand({FunctionName: 'api'}))
  await lambda.send(new UpdateFunctionConfigurationCommand({FunctionName: 'api', Layers: [config(3)]}))
  await lambda.send(new PublishVersionCommand({FunctionName: 'api'}))
  await lambda.send(new UpdateFunctionConfigurationCommand({FunctionName: 'api', Layers: [config(4)]}))
  await lambda.send(new CreateAliasCommand({FunctionName: 'api', Name: 'live', FunctionVersion: '1'}))
  await lambda.send(new CreateAliasCommand({FunctionName: 'api', Name: 'canary', FunctionVersion: '1', RoutingConfig: {AdditionalVersionWeights: {'2': 0.25}}}))
  await seed.function(PROD, EU, {name: 'worker', runtime: 'nodejs24.x'})
}, 60_000)

afterAll(async () => {
  project?.remove()
  await server?.close()
})

describe('aliases (CLI)', () => {
  it('audit reports findings per alias, reading each published version once', async () => {
    const mark = server.calls.length
    const [json, table] = await Promise.all([project.run(['audit', '--json', '--no-save']), project.run(['audit', '--no-save'])])
    expect(json.status, json.stderr).toBe(0)
    const report = json.json as AuditReport
    expect(validateAuditJson(report)).toEqual([])
    expect(report.findings.map((f) => [f.code, f.function, f.alias ?? '$LATEST', f.message])).toEqual([
      ['behind', 'api', 'canary', `alias canary -> 1 (75%) runs config:2, behind: the lock has version 4 for ${DEV}/${EU}`],
      ['behind', 'api', 'live', `alias live -> 1 runs config:2, behind: the lock has version 4 for ${DEV}/${EU}`],
      ['behind', 'api', 'canary', `alias canary -> 2 (25%) runs config:3, behind: the lock has version 4 for ${DEV}/${EU}`],
    ])
    expect(report.functions.find((f) => f.name === 'api')?.aliases).toEqual([
      {name: 'canary', routes: [{version: '1', weight: 0.75, layers: [config(2)]}, {version: '2', weight: 0.25, layers: [config(3)]}]},
      {name: 'live', routes: [{version: '1', weight: 1, layers: [config(2)]}]},
    ])
    expect(report.usage.map((u) => [u.version, u.functions])).toEqual([[2, 1], [3, 1], [4, 1]])
    expect(table.stdout).toContain(`alias live -> 1 runs config:2, behind`)
    // Per run: one ListAliases per function, one GetFunctionConfiguration per version an alias routes to.
    const calls = server.calls.slice(mark)
    expect(calls.filter((c) => c.operation === 'ListAliases')).toHaveLength(4)
    expect(calls.filter((c) => c.operation === 'GetFunctionConfiguration')).toHaveLength(4)
  })

  it('a second saved audit of the unchanged aliases reads no published version again (the state database has them)', async () => {
    const audit = async (): Promise<{report: AuditReport; calls: string[]}> => {
      const mark = server.calls.length
      const result = await project.run(['audit', '--json', '--no-remote-state'])
      expect(result.status, result.stderr).toBe(0)
      return {report: result.json as AuditReport, calls: server.calls.slice(mark).map((c) => c.operation)}
    }
    const first = await audit()
    expect(first.calls.filter((c) => c === 'GetFunctionConfiguration')).toHaveLength(2)
    const second = await audit()
    expect(second.calls.filter((c) => c === 'GetFunctionConfiguration')).toEqual([])
    // Aliases can move, so they are listed again; what they run is judged as before.
    expect(second.calls.filter((c) => c === 'ListAliases')).toHaveLength(2)
    expect(second.report.findings).toEqual(first.report.findings)
    expect(second.report.functions).toEqual(first.report.functions)
  })

  it('prune keeps a version only an alias uses, and deletes it once the aliases moved', async () => {
    const first = await project.run(['prune', '--yes', '--no-remote-state', '--json'])
    expect(first.status, first.stderr).toBe(0)
    const result = first.json as PruneResult
    expect(result.deleted.map((entry) => entry.version)).toEqual([1])
    expect(result.kept.map((entry) => `${entry.version}:${entry.reason}`)).toEqual(['2:in-use', '3:in-use', '4:locked'])
    await lambda.send(new UpdateAliasCommand({FunctionName: 'api', Name: 'live', FunctionVersion: '2'}))
    await lambda.send(new UpdateAliasCommand({FunctionName: 'api', Name: 'canary', FunctionVersion: '2', RoutingConfig: {AdditionalVersionWeights: {}}}))
    const second = await project.run(['prune', '--yes', '--no-remote-state', '--json'])
    expect(second.status, second.stderr).toBe(0)
    expect((second.json as PruneResult).deleted.map((entry) => entry.version)).toEqual([2])
    expect((second.json as PruneResult).kept.map((entry) => `${entry.version}:${entry.reason}`)).toEqual(['3:in-use', '4:locked'])
  })

  it('an account whose aliases the audit cannot read blocks pruning the layer shared with it, saying why', async () => {
    await seeder(server).layerVersion(DEV, EU, 'config')
    server.setFaults({deny: [PROD], operations: ['ListAliases']})
    try {
      const [json, human, audit] = await Promise.all([
        project.run(['prune', '--yes', '--no-remote-state', '--json']),
        project.run(['prune', '--yes', '--no-remote-state']),
        project.run(['audit', '--json', '--no-save']),
      ])
      // The audit judges what it read and exits 1 for the target it could not read completely.
      expect(audit.status).toBe(1)
      expect(audit.stderr).toContain('ERR_LAYERS_AUDIT_TARGETS_FAILED')
      expect((audit.json as AuditReport).targets.map((t) => `${t.accountName}/${t.status}`)).toEqual(['dev/ok', 'prod/incomplete'])
      expect((audit.json as AuditReport).findings.map((f) => f.alias)).toEqual(['canary', 'live'])
      expect(json.status, json.stderr).toBe(0)
      const result = json.json as PruneResult
      expect(result.deleted).toEqual([])
      const reason = `the audit could not read account ${PROD} in ${EU} (AccessDeniedException: aliases of worker could not be read: User: arn:aws:sts::${PROD}:assumed-role/deployer/`
      expect(result.kept.find((entry) => entry.version === 5)).toMatchObject({reason: 'audit-incomplete', detail: expect.stringContaining(reason)})
      expect(human.status, human.stderr).toBe(0)
      expect(human.stdout.replace(/\s+/g, ' ')).toContain('aliases of worker could not be read')
    } finally {
      server.setFaults({})
    }
  })
})
