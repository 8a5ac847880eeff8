// The local Runtime API server, driven over HTTP the way a runtime drives Lambda's.
import {afterEach, describe, expect, it} from 'vitest'
import {DEFAULT_FUNCTION_ARN, MAX_RESPONSE_BYTES, startRuntimeApiServer, type RuntimeApiServer} from '../../src/runtime/api-server.js'

let server: RuntimeApiServer | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
})

const api = (path: string): string => `http://${server!.address}/2018-06-01/runtime${path}`

async function next(): Promise<{requestId: string; headers: Headers; body: string}> {
  const res = await fetch(api('/invocation/next'))
  expect(res.status).toBe(200)
  return {requestId: res.headers.get('lambda-runtime-aws-request-id')!, headers: res.headers, body: await res.text()}
}

describe('Runtime API server', () => {
  it('hands out events with Lambda headers and returns responses and errors to the invoker', async () => {
    server = await startRuntimeApiServer()
    expect(server.address).toMatch(/^127\.0\.0\.1:\d+$/)
    // The runtime asks first and waits: the long poll is answered when an event arrives.
    const waitingNext = next()
    const before = Date.now()
    const first = server.invoke('{"n":1}', {requestId: 'req-1', timeoutMs: 5000, functionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:f', clientContext: '{"custom":{"a":1}}'})
    const handed = await waitingNext
    expect(handed.requestId).toBe('req-1')
    expect(handed.body).toBe('{"n":1}')
    expect(handed.headers.get('lambda-runtime-invoked-function-arn')).toBe('arn:aws:lambda:eu-west-1:123456789012:function:f')
    expect(handed.headers.get('lambda-runtime-client-context')).toBe('{"custom":{"a":1}}')
    expect(handed.headers.get('lambda-runtime-trace-id')).toMatch(/^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0$/)
    const deadline = Number(handed.headers.get('lambda-runtime-deadline-ms'))
    expect(deadline).toBeGreaterThanOrEqual(before + 5000)
    expect(deadline).toBeLessThanOrEqual(Date.now() + 5000)
    const posted = await fetch(api('/invocation/req-1/response'), {method: 'POST', body: '{"ok":true}'})
    expect(posted.status).toBe(202)
    expect(await posted.json()).toEqual({status: 'OK'})
    const result = await first
    expect(result.status).toBe('success')
    expect(result.payload.toString()).toBe('{"ok":true}')
    expect(server.handedOut).toEqual([{requestId: 'req-1', deadlineMs: deadline, functionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:f', traceId: handed.headers.get('lambda-runtime-trace-id')}])

    // Answering twice, or an id never handed out, is refused like Lambda does.
    expect((await fetch(api('/invocation/req-1/response'), {method: 'POST', body: '{}'})).status).toBe(400)
    const unknown = await fetch(api('/invocation/nope/response'), {method: 'POST', body: '{}'})
    expect(unknown.status).toBe(400)
    expect(await unknown.json()).toMatchObject({errorType: 'InvalidRequestID'})

    // An event queued before the runtime asks is handed out on its next call; errors come back parsed.
    const second = server.invoke('{"n":2}')
    const handed2 = await next()
    expect(handed2.headers.get('lambda-runtime-invoked-function-arn')).toBe(DEFAULT_FUNCTION_ARN)
    const error = {errorType: 'TypeError', errorMessage: 'boom', stackTrace: ['at x (file.js:1:1)']}
    const postedError = await fetch(api(`/invocation/${handed2.requestId}/error`), {
      method: 'POST',
      body: JSON.stringify(error),
      headers: {'Lambda-Runtime-Function-Error-Type': 'TypeError', 'Content-Type': 'application/vnd.aws.lambda.error+json'},
    })
    expect(postedError.status).toBe(202)
    expect(await second).toMatchObject({status: 'error', error})

    // An error without a readable body takes its type from the header.
    const third = server.invoke('{}')
    const handed3 = await next()
    await fetch(api(`/invocation/${handed3.requestId}/error`), {method: 'POST', body: '', headers: {'Lambda-Runtime-Function-Error-Type': 'Runtime.Crash'}})
    expect(await third).toMatchObject({status: 'error', error: {errorType: 'Runtime.Crash', errorMessage: ''}})
  })

  it('refuses responses over 6 MB with 413 and fails the invocation like Lambda', async () => {
    server = await startRuntimeApiServer()
    const result = server.invoke('{}')
    const {requestId} = await next()
    const res = await fetch(api(`/invocation/${requestId}/response`), {method: 'POST', body: Buffer.alloc(MAX_RESPONSE_BYTES + 1, 0x61)})
    expect(res.status).toBe(413)
    expect(await res.json()).toMatchObject({errorType: 'RequestEntityTooLarge'})
    expect(await result).toMatchObject({status: 'error', error: {errorType: 'Function.ResponseSizeTooLarge'}})
  })

  it('reports a timeout when the runtime does not answer by the deadline', async () => {
    server = await startRuntimeApiServer()
    const result = server.invoke('{}', {timeoutMs: 150})
    const {requestId} = await next()
    const timedOut = await result
    expect(timedOut).toMatchObject({status: 'timeout', error: {errorType: 'Sandbox.Timedout'}})
    expect(timedOut.durationMs).toBeGreaterThanOrEqual(140)
    const late = await fetch(api(`/invocation/${requestId}/response`), {method: 'POST', body: '{}'})
    expect(await late.json()).toMatchObject({errorType: 'InvalidStateTransition'})
  })

  it('serves an init error to queued and later invocations', async () => {
    server = await startRuntimeApiServer()
    const queued = server.invoke('{}')
    const init = {errorType: 'Runtime.ImportModuleError', errorMessage: "Cannot find module 'index'", stackTrace: []}
    const res = await fetch(api('/init/error'), {method: 'POST', body: JSON.stringify(init), headers: {'Lambda-Runtime-Function-Error-Type': 'Runtime.ImportModuleError'}})
    expect(res.status).toBe(202)
    expect(await server.ready()).toEqual({ok: false, error: init})
    expect(server.initError).toEqual(init)
    expect(await queued).toMatchObject({status: 'init-error', error: init})
    expect(await server.invoke('{}')).toMatchObject({status: 'init-error', error: init})
  })

  it('rejects events over the synchronous payload limit and unknown resources', async () => {
    server = await startRuntimeApiServer()
    await expect(server.invoke(Buffer.alloc(6_291_457))).rejects.toMatchObject({code: 'ERR_LAYERS_EVENT_TOO_LARGE'})
    expect((await fetch(api('/invocation/x/other'), {method: 'POST'})).status).toBe(404)
    expect((await fetch(api('/invocation/next'), {method: 'POST'})).status).toBe(405)
  })

  it('fails waiting invocations when closed', async () => {
    server = await startRuntimeApiServer()
    const pending = server.invoke('{}')
    await server.close()
    expect(await pending).toMatchObject({status: 'error', error: {errorType: 'Runtime.ApiClosed'}})
    await expect(server.invoke('{}')).rejects.toMatchObject({code: 'ERR_LAYERS_RUNTIME_API_CLOSED'})
    server = undefined
  })
})
