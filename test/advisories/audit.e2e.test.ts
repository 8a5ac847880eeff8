// `layers audit --advisories` end to end through the built CLI: an npm layer (dep 1.0.0 -> ms 2.0.0)
// locked against the loopback registry, published and attached to one function; the audit asks the
// registry's bulk advisory endpoint and traces an advisory on the transitive ms to that function in
// the same report (validated against schema/audit.schema.json), fails with --fail-on-advisory, refuses
// a format that cannot carry advisories, and names a registry without the endpoint.
import {UpdateFunctionConfigurationCommand} from '@aws-sdk/client-lambda'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startAwsServer, type AwsServer} from '../../aws-double/index.js'
import type {AuditReport} from '../../src/audit/types.js'
import {validateAuditJson} from '../audit/support/schema.js'
import {depsManifest, publishDeps} from '../find/fixture.js'
import {NpmRegistry} from '../support/npm-registry.js'
import {createFunction, DEV, EU, lambdaAs, makeProject, type Project, ROLES, useRegistry} from '../publish/support.js'

let server: AwsServer
let registry: NpmRegistry
let project: Project

const MANIFEST = depsManifest('advis', ['dev'])

beforeAll(async () => {
  server = await startAwsServer({roles: ROLES})
  registry = await NpmRegistry.start()
  publishDeps(registry)
  project = makeProject(server, {'layers.yaml': MANIFEST, 'fns/api/index.js': 'exports.handler = async () => "ok"\n'})
  useRegistry(project, registry.url)
  await project.lock()
  expect((await project.run(['publish', '--json', '--create-bucket'])).status).toBe(0)
  await createFunction(server, DEV, EU, 'api')
  const lambda = lambdaAs(server, DEV, EU)
  await lambda.send(new UpdateFunctionConfigurationCommand({FunctionName: 'api', Layers: [`arn:aws:lambda:${EU}:${DEV}:layer:deps:1`]}))
  lambda.destroy()
  registry.advise('ms', {id: 9, url: 'https://github.com/advisories/GHSA-audit-9', title: 'ms ReDoS', severity: 'high', vulnerable_versions: '<2.1.0', cwe: ['CWE-1333'], cvss: {score: 7.5, vectorString: null}})
}, 120_000)

afterAll(async () => {
  project?.remove()
  await registry?.stop()
  await server?.close()
})

describe('layers audit --advisories', () => {
  it('traces an advisory on a transitive package to the audited function, and fails at --fail-on-advisory', async () => {
    const run = await project.run(['audit', '--advisories', '--fail-on-advisory', 'high', '--json'])
    expect(run.status, run.stderr).toBe(1)
    expect(run.stderr).toContain('ERR_LAYERS_ADVISORY_FINDINGS')
    expect(run.stderr).toContain('--fail-on-advisory high: ms')
    // The report is still printed, the advisories in it.
    const report = run.json as AuditReport
    expect(validateAuditJson(report)).toEqual([])
    expect(report.advisories!.advisories.map((finding) => [finding.id, finding.package, finding.fixedIn, finding.contents.map((content) => content.packages.map((pkg) => pkg.chain.join(' > '))), finding.functions.map((fn) => `${fn.accountId} ${fn.function} ${fn.qualifier} ${fn.arn}`)])).toEqual([
      ['9', 'ms', '2.1.3', [['dep@1.0.0 > ms@2.0.0']], [`${DEV} api $LATEST arn:aws:lambda:${EU}:${DEV}:layer:deps:1`]],
    ])
    expect(report.advisories!.summary).toMatchObject({high: 1, functions: 1})
  })

  it('refuses a format that cannot carry the advisories, before scanning', async () => {
    const calls = server.calls.length
    const run = await project.run(['audit', '--advisories', '--format', 'jsonl'])
    expect(run.status).toBe(2)
    expect(run.stderr).toContain('--advisories cannot be combined with --format jsonl')
    expect(server.calls.length).toBe(calls)
  })

  it('names a registry that does not offer the bulk endpoint', async () => {
    registry.withoutAdvisories()
    const run = await project.run(['audit', '--advisories', '--no-save', '--json'])
    expect(run.status).toBe(1)
    expect(run.json.error.code).toBe('ERR_LAYERS_ADVISORIES_UNSUPPORTED')
    expect(run.json.error.message).toContain(`${registry.url}-/npm/v1/security/advisories/bulk answered 405`)
  })
})
