// An npm layer end to end through the built CLI: `layers lock` against the loopback npm registry,
// `layers publish` to two accounts x two regions on the local AWS test server, a re-publish that
// changes nothing, then a dependency update (`layers lock --update`) that makes exactly one new
// version per target, and an attach that moves the function to it.
import {GetFunctionConfigurationCommand} from '@aws-sdk/client-lambda'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {NpmRegistry} from '../support/npm-registry.js'
import {startAwsServer, type AwsServer} from '../../aws-double/index.js'
import {accountsYaml, createFunction, EU, lambdaAs, makeProject, type Project, ROLES, TARGETS, useRegistry, versionsOf} from './support.js'

let server: AwsServer
let registry: NpmRegistry
let project: Project

const MANIFEST = `version: 1
settings:
  bucket: "npm-{accountId}-{region}"
  regions: [${EU}]
  architectures: [x86_64]
  runtimes: [nodejs22.x]
${accountsYaml()}
layers:
  deps:
    npm:
      left-pad: ^1.0.0
functions:
  api: {source: fns/api, handler: index.handler, runtime: nodejs22.x, architecture: x86_64, layers: [deps], accounts: [dev, prod]}
`

beforeAll(async () => {
  server = await startAwsServer({roles: ROLES})
  registry = await NpmRegistry.start()
  registry.publish('left-pad', {version: '1.0.0'})
  project = makeProject(server, {'layers.yaml': MANIFEST, 'fns/api/index.js': 'exports.handler = async () => "ok"\n'})
  useRegistry(project, registry.url)
  for (const [account, region] of TARGETS) await createFunction(server, account, region, 'api')
})

afterAll(async () => {
  project?.remove()
  await registry?.stop()
  await server?.close()
})

describe('an npm layer', () => {
  it('is locked, published once per target, and a dependency update makes exactly one new version per target', async () => {
    const locked = await project.lock()
    expect(locked.json.layers[0]).toMatchObject({layer: 'deps', kind: 'npm', status: 'locked'})
    const first = await project.run(['publish', '--json', '--create-bucket'])
    expect(first.status, first.stderr).toBe(0)
    // Quiet under --json: no progress, and no AWS SDK warning about Node versions (src/cli/main.ts).
    expect(first.stderr).toBe('')
    expect(first.json.summary).toMatchObject({units: 4, published: 4})

    const again = await project.run(['publish', '--json'])
    expect(again.json.summary).toMatchObject({units: 4, published: 0, unchanged: 4, uploaded: 0})

    registry.publish('left-pad', {version: '1.1.0'})
    await project.lock(['--update', 'deps'])
    expect(project.lockfile().layers.deps).toMatchObject({artifacts: {x86_64: {packages: {'node_modules/left-pad': {version: '1.1.0'}}}}})
    const updated = await project.run(['publish', '--json'])
    expect(updated.status, updated.stderr).toBe(0)
    expect(updated.json.summary).toMatchObject({units: 4, published: 4, unchanged: 0})
    for (const [account, region] of TARGETS) {
      const versions = await versionsOf(server, account, region, 'deps')
      expect(versions.map((version) => version.version)).toEqual([1, 2])
      expect(new Set(versions.map((version) => version.codeSha256)).size).toBe(2)
    }

    const attached = await project.run(['attach', '--json'])
    expect(attached.status, attached.stderr).toBe(0)
    expect(attached.json.summary).toMatchObject({updated: 4})
    for (const [account, region] of TARGETS) {
      const config = await lambdaAs(server, account, region).send(new GetFunctionConfigurationCommand({FunctionName: 'api'}))
      expect(config.Layers?.map((layer) => layer.Arn)).toEqual([`arn:aws:lambda:${region}:${account}:layer:deps:2`])
    }
  })
})
