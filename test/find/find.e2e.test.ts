// `layers find` end to end through the built CLI: an npm layer locked against the loopback registry
// with ms 2.0.0 (through dep 1.0.0) and published to two accounts, then updated to dep 1.1.0 (ms 2.1.3)
// and published again; a function whose alias still runs the first version and whose $LATEST runs the
// second; after `layers audit`, find traces the old ms to the earlier content, its publications and
// the alias, offline (the AWS test server is closed by then), and refuses a bad range with exit 2.
// Then `layers advisories` against the registry's bulk advisory endpoint: an advisory on the old ms
// traced to the alias (fixed by attach), one the lock's ranges can fix (lock --update), one only an
// override can fix, a deprecated version (and its cache), --fail-on exit codes, and a registry without
// the endpoint.
import {existsSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {CreateAliasCommand, PublishVersionCommand, UpdateFunctionConfigurationCommand} from '@aws-sdk/client-lambda'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startAwsServer, type AwsServer} from '../../aws-double/index.js'
import type {FindReport} from '../../src/find/plan.js'
import {runCli} from '../support/cli.js'
import {NpmRegistry, type BulkAdvisory} from '../support/npm-registry.js'
import {depsManifest, publishDeps} from './fixture.js'
import type {AdvisoriesReport} from '../../src/advisories/plan.js'
import {createFunction, DEV, EU, lambdaAs, makeProject, PROD, type Project, ROLES, useRegistry} from '../publish/support.js'

let server: AwsServer | undefined
let registry: NpmRegistry
let project: Project

const MANIFEST = depsManifest('find', ['dev', 'prod'])
const deps = (accountId: string, version: number): string => `arn:aws:lambda:${EU}:${accountId}:layer:deps:${version}`

beforeAll(async () => {
  server = await startAwsServer({roles: ROLES})
  registry = await NpmRegistry.start()
  publishDeps(registry)
  project = makeProject(server, {'layers.yaml': MANIFEST, 'fns/api/index.js': 'exports.handler = async () => "ok"\n'})
  useRegistry(project, registry.url)
  await project.lock()
  expect((await project.run(['publish', '--json', '--create-bucket'])).status).toBe(0)
  registry.publish('dep', {version: '1.1.0', dependencies: {ms: '^2.1.0'}})
  await project.lock(['--update', 'deps'])
  expect((await project.run(['publish', '--json'])).status).toBe(0)
  // dev's api: alias live on a published version that runs deps:1, $LATEST on deps:2.
  await createFunction(server, DEV, EU, 'api')
  const lambda = lambdaAs(server, DEV, EU)
  await lambda.send(new UpdateFunctionConfigurationCommand({FunctionName: 'api', Layers: [deps(DEV, 1)]}))
  await lambda.send(new PublishVersionCommand({FunctionName: 'api'}))
  await lambda.send(new CreateAliasCommand({FunctionName: 'api', Name: 'live', FunctionVersion: '1'}))
  await lambda.send(new UpdateFunctionConfigurationCommand({FunctionName: 'api', Layers: [deps(DEV, 2)]}))
  lambda.destroy()
  const audit = await project.run(['audit', '--json'])
  expect(audit.status === 0 || audit.status === 1, audit.stderr).toBe(true)
  // Everything find needs is local: no AWS endpoint from here on.
  await server.close()
  server = undefined
}, 240_000)

afterAll(async () => {
  project?.remove()
  await registry?.stop()
  await server?.close()
})

describe('layers find', () => {
  it('traces an old transitive version to the earlier content, its versions and the alias running it', async () => {
    const run = await project.run(['find', 'ms@<2.1', '--json'])
    expect(run.status, run.stderr).toBe(0)
    const report = run.json as FindReport
    expect(report.contents).toHaveLength(1)
    expect(report.contents[0]).toMatchObject({layer: 'deps', artifactKey: 'x86_64', current: false})
    expect(report.contents[0]!.packages).toEqual([{name: 'ms', version: '2.0.0', path: 'node_modules/ms', requiredBy: ['dep@1.0.0'], requiredRanges: ['2.0.0'], chain: ['dep@1.0.0', 'ms@2.0.0']}])
    expect(report.contents[0]!.published.map((publication) => publication.arn)).toEqual([deps(DEV, 1), deps(PROD, 1)])
    expect(report.functions.map((fn) => `${fn.accountId} ${fn.function} ${fn.qualifier} ${fn.functionVersion ?? ''} ${fn.arn}`)).toEqual([`${DEV} api live 1 ${deps(DEV, 1)}`])

    const text = await project.run(['find', 'ms'])
    expect(text.status, text.stderr).toBe(0)
    expect(text.stdout).toContain('Layer deps (x86_64), in the current lock:\n  ms@2.1.3 at node_modules/ms, via dep@1.1.0 > ms@2.1.3')
    expect(text.stdout).toMatch(/earlier content \S+:\n {2}ms@2\.0\.0 at node_modules\/ms, via dep@1\.0\.0 > ms@2\.0\.0/)
    expect(text.stdout).toContain(`${DEV}  ${EU}`)
  })

  it('answers from the lock alone in a clone that never built, and creates nothing there', async () => {
    const clone = mkdtempSync(path.join(tmpdir(), 'layers-find-clone-'))
    try {
      for (const file of ['layers.yaml', 'lockfile.json']) writeFileSync(path.join(clone, file), project.read(file))
      const run = await runCli(['find', 'ms', '--json'], {cwd: clone, env: project.env})
      expect(run.code, run.stderr).toBe(0)
      expect((run.json as FindReport).contents.map((content) => `${content.current} ${content.codeSha256 ?? 'unbuilt'} ${content.packages[0]!.version}`)).toEqual(['true unbuilt 2.1.3'])
      expect(existsSync(path.join(clone, '.layers'))).toBe(false)
    } finally {
      rmSync(clone, {recursive: true, force: true})
    }
  })

  it('refuses a range that is not semver, with exit 2', async () => {
    const run = await project.run(['find', 'ms@>=>2', '--json'])
    expect(run.status).toBe(2)
    expect(run.json.error.code).toBe('ERR_LAYERS_FIND_QUERY')
  })
})

const advisory = (id: number, severity: BulkAdvisory['severity'], range: string): BulkAdvisory => ({
  id,
  url: `https://github.com/advisories/GHSA-test-${id}`,
  title: `ms advisory ${id}`,
  severity,
  vulnerable_versions: range,
  cwe: ['CWE-1333'],
  cvss: {score: 5.3, vectorString: null},
})

describe('layers advisories', () => {
  it('traces each advisory to layers, versions and functions, with the fix that applies, and gates on --fail-on', async () => {
    registry.publish('ms', {version: '2.1.4'}).publish('ms', {version: '3.0.0'})
    registry.publish('dep', {version: '1.0.0', dependencies: {ms: '2.0.0'}, deprecated: 'dep 1.0 is unmaintained'})
    registry.advise('ms', advisory(1, 'high', '<2.1.0')).advise('ms', advisory(2, 'moderate', '>=2.1.0 <2.1.4')).advise('ms', advisory(3, 'critical', '>=2.1.0 <3.0.0'))
    const run = await project.run(['advisories', '--json'])
    expect(run.status, run.stderr).toBe(0)
    const report = run.json as AdvisoriesReport
    // One bulk call with every locked version, the older content's included.
    expect(registry.advisoryQueries).toEqual([{dep: ['1.0.0', '1.1.0'], ms: ['2.0.0', '2.1.3']}])
    expect(report.advisories.map((finding) => [finding.id, finding.severity, finding.fixedIn, finding.contents.map((content) => content.current), finding.functions.map((fn) => fn.qualifier)])).toEqual([
      ['3', 'critical', '3.0.0', [true], ['$LATEST']],
      ['1', 'high', '2.1.3', [false], ['live']],
      ['2', 'moderate', '2.1.4', [true], ['$LATEST']],
    ])
    const fix = (id: string): string => report.advisories.find((finding) => finding.id === id)!.fixes.map((item) => item.fix).join(' | ')
    expect(fix('3')).toMatch(/^No version the dependents allow is fixed \(dep@1\.1\.0 requires \^2\.1\.0\): add `overrides: \{"ms": "\^3\.0\.0"\}` to layer deps/)
    expect(fix('1')).toMatch(/^The lock's deps is not affected, but api:live \(111111111111\/eu-west-1\) still runs an older version: run `layers attach`/)
    expect(fix('2')).toBe('Run `layers lock --update deps`: the ranges that require ms allow 2.1.4.')
    // dep 1.0.0 is deprecated, but only the older content holds it: the lock's versions are reported.
    expect(report.deprecated).toEqual([])
    expect(report.summary).toMatchObject({critical: 1, high: 1, moderate: 1, functions: 1})

    const gate = await project.run(['advisories', '--fail-on', 'critical'])
    expect(gate.status).toBe(1)
    expect(gate.stdout).toContain('CRITICAL ms >=2.1.0 <3.0.0: ms advisory 3')
    expect(gate.stderr).toContain('ERR_LAYERS_ADVISORY_FINDINGS')
  })

  it('reports deprecated versions of the lock, cached for a day unless --refresh', async () => {
    registry.publish('dep', {version: '1.1.0', dependencies: {ms: '^2.1.0'}, deprecated: 'use dep 2'})
    const requests = registry.requests.length
    // The previous run's answer for dep@1.1.0 (not deprecated) is less than a day old: dep's packument is not read.
    const cached = await project.run(['advisories', '--json'])
    expect((cached.json as AdvisoriesReport).deprecated).toEqual([])
    expect(registry.requests.slice(requests).filter((request) => request.method === 'GET' && request.url.includes('dep'))).toEqual([])
    const run = await project.run(['advisories', '--refresh', '--json'])
    expect((run.json as AdvisoriesReport).deprecated).toEqual([{name: 'dep', version: '1.1.0', message: 'use dep 2', locations: [{layer: 'deps', artifactKey: 'x86_64', path: 'node_modules/dep'}]}])
  })

  it('names a registry that does not offer the bulk endpoint', async () => {
    registry.withoutAdvisories()
    const run = await project.run(['advisories', '--json'])
    expect(run.status).toBe(1)
    expect(run.json.error.code).toBe('ERR_LAYERS_ADVISORIES_UNSUPPORTED')
    expect(run.json.error.message).toContain(`${registry.url}-/npm/v1/security/advisories/bulk answered 405`)
  })
})
