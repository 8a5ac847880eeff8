// End to end through the built CLI against the local AWS test server in partition aws-cn: an account
// whose region is cn-north-1 is bound to its credentials (GetCallerIdentity in cn-north-1), publish
// records arn:aws-cn:lambda:cn-north-1:... versions, attach sets them, and audit knows them as the
// manifest's own (no unmanaged or drift findings).
import {GetFunctionConfigurationCommand} from '@aws-sdk/client-lambda'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startAwsServer, type AwsServer} from '../../aws-double/index.js'
import {createFunction, devConfigManifest, DEV, lambdaAs, makeProject, type Project} from '../publish/support.js'

const CN = 'cn-north-1'
const LAYER = `arn:aws-cn:lambda:${CN}:${DEV}:layer:config:1`
let server: AwsServer
let project: Project

beforeAll(async () => {
  server = await startAwsServer()
  project = makeProject(server, {
    'layers.yaml': devConfigManifest({bucket: 'cn-{accountId}-{region}', region: CN, runtime: 'nodejs24.x', functions: ['api']}),
    'layers/config/config.json': '{"a": 1}\n',
    'fns/api/index.js': 'exports.handler = async () => "ok"\n',
  })
  await project.lock()
  await createFunction(server, DEV, CN, 'api', 'x86_64', 'nodejs24.x')
}, 60_000)

afterAll(async () => {
  project?.remove()
  await server?.close()
})

describe('aws-cn (CLI)', () => {
  it('publish records the aws-cn ARN, attach sets it, audit finds nothing to report', async () => {
    const published = await project.run(['publish', '--json', '--create-bucket'])
    expect(published.status, published.stderr).toBe(0)
    expect(published.json.units).toEqual([expect.objectContaining({accountId: DEV, region: CN, status: 'published', arn: LAYER})])
    expect(server.calls.filter((call) => call.operation === 'GetCallerIdentity')).toEqual([expect.objectContaining({accountId: DEV, region: CN, status: 200})])
    const lock = project.lockfile().layers.config as {published: Record<string, Record<string, Record<string, {arn: string}>>>}
    expect(lock.published[DEV]![CN]!.x86_64!.arn).toBe(LAYER)

    const attached = await project.run(['attach', '--json'])
    expect(attached.status, attached.stderr).toBe(0)
    expect(attached.json.functions).toEqual([expect.objectContaining({function: 'api', region: CN, status: 'updated', after: [LAYER]})])
    expect((await lambdaAs(server, DEV, CN).send(new GetFunctionConfigurationCommand({FunctionName: 'api'}))).Layers?.map((layer) => layer.Arn)).toEqual([LAYER])

    const audit = await project.run(['audit', '--json', '--no-save'])
    expect(audit.status, audit.stderr).toBe(0)
    expect(audit.json.targets).toEqual([expect.objectContaining({accountId: DEV, region: CN, status: 'ok'})])
    expect(audit.json.findings).toEqual([])
  })
})
