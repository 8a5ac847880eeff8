// Unit tests of what `layers run` hands the runtime: Lambda's variables with /opt, /var/task and
// /var/runtime mapped, nothing else of the caller's environment but credentials, the nodejs error
// document, and event reading.
import {Readable} from 'node:stream'
import {describe, expect, it} from 'vitest'
import {lambdaEnvironment, nodePath} from '../../src/run/env.js'
import {nodejsErrorDocument, readEvent} from '../../src/run/run.js'

const dirs = {opt: '/tmp/r/opt', task: '/tmp/r/task', runtime: '/tmp/r/runtime'}

function env(runtime: string, extra: Record<string, string> = {}) {
  return lambdaEnvironment({
    functionName: 'acme-api',
    handler: 'index.handler',
    runtime,
    region: 'eu-west-1',
    memoryMb: 256,
    runtimeApi: '127.0.0.1:9001',
    dirs,
    langBinDir: '/usr/local/node/bin',
    host: {HOME: '/home/me', AWS_ACCESS_KEY_ID: 'AKIA', AWS_SECRET_ACCESS_KEY: 'secret', AWS_PROFILE: 'dev', PATH: '/home/me/bin'},
    extra,
    now: new Date('2026-11-25T10:00:00Z'),
    streamId: 'abc',
  })
}

describe('lambdaEnvironment', () => {
  it('sets the variables the nodejs runtimes set, mapped to the assembly', () => {
    expect(env('nodejs22.x', {STAGE: 'prod', AWS_REGION: 'us-east-1'})).toEqual({
      STAGE: 'prod',
      AWS_ACCESS_KEY_ID: 'AKIA',
      AWS_SECRET_ACCESS_KEY: 'secret',
      _HANDLER: 'index.handler',
      AWS_REGION: 'eu-west-1',
      AWS_DEFAULT_REGION: 'eu-west-1',
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
      AWS_LAMBDA_FUNCTION_NAME: 'acme-api',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/acme-api',
      AWS_LAMBDA_LOG_STREAM_NAME: '2026/11/25/[$LATEST]abc',
      AWS_LAMBDA_RUNTIME_API: '127.0.0.1:9001',
      LAMBDA_TASK_ROOT: '/tmp/r/task',
      LAMBDA_RUNTIME_DIR: '/tmp/r/runtime',
      LANG: 'en_US.UTF-8',
      TZ: ':UTC',
      PATH: '/usr/local/node/bin:/usr/local/bin:/usr/bin:/bin:/tmp/r/opt/bin',
      LD_LIBRARY_PATH: '/lib64:/usr/lib64:/tmp/r/runtime:/tmp/r/runtime/lib:/tmp/r/task:/tmp/r/task/lib:/tmp/r/opt/lib',
      NODE_PATH: '/tmp/r/opt/nodejs/node22/node_modules:/tmp/r/opt/nodejs/node_modules:/tmp/r/runtime/node_modules:/tmp/r/runtime:/tmp/r/task',
    })
  })

  it('sets no NODE_PATH or AWS_EXECUTION_ENV for provided runtimes', () => {
    const provided = env('provided.al2023')
    expect(provided.NODE_PATH).toBeUndefined()
    expect(provided.AWS_EXECUTION_ENV).toBeUndefined()
    expect(provided.LAMBDA_TASK_ROOT).toBe('/tmp/r/task')
    expect(nodePath('provided.al2023', dirs)[0]).toBe('/tmp/r/opt/nodejs/node_modules')
  })
})

describe('nodejsErrorDocument', () => {
  it('turns a runtime error document into the nodejs one (trace: the error line, then the stack)', () => {
    expect(nodejsErrorDocument({errorType: 'TypeError', errorMessage: 'bad\ninput', stackTrace: ['at f (file:///var/task/a.js:1:2)']})).toEqual({
      errorType: 'TypeError',
      errorMessage: 'bad\ninput',
      trace: ['TypeError: bad', 'input', '    at f (file:///var/task/a.js:1:2)'],
    })
  })
})

describe('readEvent', () => {
  it('reads stdin for -, defaults to {}, and refuses what is not JSON', async () => {
    expect(await readEvent('-', Readable.from([Buffer.from('{"a":'), Buffer.from('1}')]))).toEqual({text: '{"a":1}', source: 'stdin'})
    expect(await readEvent(undefined)).toEqual({text: '{}', source: 'the default event {}'})
    await expect(readEvent('-', Readable.from([Buffer.from('nope')]))).rejects.toMatchObject({code: 'ERR_LAYERS_EVENT_INVALID', exitCode: 2})
    await expect(readEvent('/nonexistent/event.json')).rejects.toMatchObject({code: 'ERR_LAYERS_EVENT_UNREADABLE', exitCode: 2})
  })
})
