// A pip layer goes through publish and attach like any own layer: locked from a local index, published
// to the local AWS test server once (a second publish changes nothing), its version ARN recorded in the
// lock, attached to a python3.12 function, and audited without findings.
import {GetFunctionConfigurationCommand} from '@aws-sdk/client-lambda'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startAwsServer, type AwsServer} from '../../aws-double/index.js'
import {createFunction, DEV, EU, lambdaAs, makeProject, type Project} from '../publish/support.js'
import {hasUv} from '../support/uv.js'
import {startPyPIIndex, type PyPIIndex} from '../support/pypi-index.js'


let server: AwsServer
let index: PyPIIndex
let project: Project

beforeAll(async () => {
  server = await startAwsServer({})
  index = await startPyPIIndex()
  index.publish({name: 'greeting', version: '1.0', wheels: [{tag: 'py3-none-any'}]})
  project = makeProject(server, {
    'layers.yaml': `version: 1
settings:
  bucket: "pip-{accountId}-{region}"
accounts:
  dev: {id: "${DEV}", profile: dev, regions: [${EU}]}
layers:
  py:
    pip: {greeting: "*"}
    runtimes: [python3.12]
functions:
  api: {source: fns/api, handler: app.handler, runtime: python3.12, layers: [py], accounts: [dev]}
`,
    'fns/api/app.py': 'def handler(event, context):\n    return "ok"\n',
  })
  Object.assign(project.env, {
    PYENV_ROOT: process.env.PYENV_ROOT,
    UV_DEFAULT_INDEX: index.url,
    UV_CACHE_DIR: `${project.dir}/.uv-cache`,
    XDG_CACHE_HOME: `${project.dir}/.cache`,
  })
  await createFunction(server, DEV, EU, 'api', 'x86_64', 'python3.12')
})

afterAll(async () => {
  project?.remove()
  await index?.close()
  await server?.close()
})

describe.skipIf(!hasUv)('a pip layer', () => {
  it('is published once, attached to a Python function and audited', async () => {
    await project.lock()
    const first = await project.run(['publish', '--json', '--create-bucket'])
    expect(first.status, first.stderr).toBe(0)
    expect(first.json.summary).toMatchObject({units: 1, published: 1})
    const again = await project.run(['publish', '--json'])
    expect(again.status, again.stderr).toBe(0)
    expect(again.json.summary).toMatchObject({published: 0, unchanged: 1})
    const publication = project.lockfile().layers.py!
    expect(publication.kind).toBe('pip')
    const arn = (publication as {published: Record<string, Record<string, Record<string, {arn: string}>>>}).published[DEV]![EU]!.x86_64!.arn
    const attach = await project.run(['attach', '--json'])
    expect(attach.status, attach.stdout + attach.stderr).toBe(0)
    const config = await lambdaAs(server, DEV, EU).send(new GetFunctionConfigurationCommand({FunctionName: 'api'}))
    expect(config.Layers?.map((layer) => layer.Arn)).toEqual([arn])
    const audit = await project.run(['audit', '--json'])
    expect(audit.status, audit.stdout + audit.stderr).toBe(0)
    expect(JSON.stringify(audit.json)).toContain(arn)
  })
})
