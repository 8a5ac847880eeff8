// End to end through the built CLI against the local AWS test server: a function deployed while its
// runtime was still supported, attached after AWS's update block date for that runtime. Lambda
// refuses the update (InvalidParameterValueException, "The runtime parameter of ... is no longer
// supported ..."); attach reports that function as failed with Lambda's words (exit 1) and changes
// nothing. The server's state is kept in SQLite across its two days.
import {GetFunctionConfigurationCommand} from '@aws-sdk/client-lambda'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startAwsServer, type AwsServer} from '../../aws-double/index.js'
import {createFunction, devConfigManifest, DEV, EU, lambdaAs, makeProject, type Project} from '../publish/support.js'

let server: AwsServer
let project: Project
let dir: string

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'layers-runtime-blocked-'))
  const dbFile = path.join(dir, 'aws.db')
  // python3.11: create blocked from 2027-07-29, updates from 2027-08-31.
  const before = await startAwsServer({dbFile, today: '2027-07-01'})
  project = makeProject(before, {
    'layers.yaml': devConfigManifest({bucket: 'blocked-{accountId}-{region}', region: EU, runtime: 'python3.11', functions: ['api']}),
    'layers/config/python/config.json': '{"a": 1}\n',
    'fns/api/index.py': 'def handler(event, context):\n    return "ok"\n',
  })
  await project.lock()
  const published = await project.run(['publish', '--json', '--create-bucket'])
  expect(published.status, published.stderr).toBe(0)
  await createFunction(before, DEV, EU, 'api', 'x86_64', 'python3.11')
  await before.close()
  // The same state, on the same port, after the update block date.
  server = await startAwsServer({dbFile, today: '2027-08-31', port: Number(new URL(before.endpoint).port)})
}, 60_000)

afterAll(async () => {
  project?.remove()
  await server?.close()
  if (dir) rmSync(dir, {recursive: true, force: true})
})

describe('layers attach on a runtime past its update block date', () => {
  it('reports Lambda\'s refusal for that function (exit 1) and changes nothing', async () => {
    const result = await project.run(['attach', '--json'])
    expect(result.status).toBe(1)
    expect(result.json.functions).toEqual([
      expect.objectContaining({
        function: 'api',
        status: 'failed',
        error: expect.objectContaining({
          code: 'InvalidParameterValueException',
          message: 'The runtime parameter of python3.11 is no longer supported for creating or updating AWS Lambda functions. We recommend you use a supported runtime while creating or updating functions.',
        }),
      }),
    ])
    expect(server.calls.filter((call) => call.operation === 'UpdateFunctionConfiguration').map((call) => call.status)).toEqual([400])
    expect((await lambdaAs(server, DEV, EU).send(new GetFunctionConfigurationCommand({FunctionName: 'api'}))).Layers ?? []).toEqual([])
  })
})
