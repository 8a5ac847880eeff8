// End to end through the built CLI against the local AWS test server: Lambda accepts an attach's
// UpdateFunctionConfiguration and then reports LastUpdateStatus Failed (the server's failUpdates), so
// attach fails that function (exit 1, ERR_LAYERS_UPDATE_FAILED naming function, account, region and
// Lambda's reason) while the other function of the run is updated; the next attach succeeds.
import {GetFunctionConfigurationCommand} from '@aws-sdk/client-lambda'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startAwsServer, type AwsServer} from '../../aws-double/index.js'
import {createFunction, devConfigManifest, DEV, EU, lambdaAs, makeProject, type Project} from '../publish/support.js'

const REASON = 'The role defined for the function cannot be assumed by Lambda.'
let server: AwsServer
let project: Project

beforeAll(async () => {
  server = await startAwsServer({updateDelayMs: 50, failUpdates: {[`${DEV}/${EU}/api`]: REASON}})
  project = makeProject(server, {
    'layers.yaml': devConfigManifest({bucket: 'failed-{accountId}-{region}', region: EU, runtime: 'nodejs22.x', functions: ['api', 'worker']}),
    'layers/config/config.json': '{"a": 1}\n',
    'fns/api/index.js': 'exports.handler = async () => "ok"\n',
  })
  await project.lock()
  const published = await project.run(['publish', '--json', '--create-bucket'])
  expect(published.status, published.stderr).toBe(0)
  for (const name of ['api', 'worker']) await createFunction(server, DEV, EU, name)
}, 60_000)

afterAll(async () => {
  project?.remove()
  await server?.close()
})

describe('layers attach when Lambda fails the update', () => {
  it('fails that function with Lambda\'s reason (exit 1), updates the other, and succeeds on the next run', async () => {
    const result = await project.run(['attach', '--json'])
    expect(result.status).toBe(1)
    const api = result.json.functions.find((fn: {function: string}) => fn.function === 'api')
    expect(api).toMatchObject({
      status: 'failed',
      error: {code: 'ERR_LAYERS_UPDATE_FAILED', message: `Lambda could not apply the update to api in account ${DEV} (dev), region ${EU}: LastUpdateStatus Failed: ${REASON}`},
    })
    expect(result.json.functions.find((fn: {function: string}) => fn.function === 'worker')).toMatchObject({status: 'updated'})
    expect(result.json.summary).toMatchObject({updated: 1, failed: 1})
    expect(result.stderr).toContain('ERR_LAYERS_ATTACH_FAILED')
    // Lambda kept the previous configuration, so the next attach updates it again.
    expect((await lambdaAs(server, DEV, EU).send(new GetFunctionConfigurationCommand({FunctionName: 'api'}))).Layers ?? []).toEqual([])
    const again = await project.run(['attach', '--json'])
    expect(again.status, again.stderr).toBe(0)
    expect(again.json.functions.find((fn: {function: string}) => fn.function === 'api')).toMatchObject({status: 'updated'})
  })
})
