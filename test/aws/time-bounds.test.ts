// Time bounds of the AWS client factory (src/aws/clients.ts + src/aws/time-bounds.ts) with real SDK
// clients on loopback: timeouts from flags, environment and defaults (bad values are exit 2 naming
// their source); the read timeout is inactivity, not total time; retries stop 2 s into a call that got
// no answer (a first reset is retried whenever it comes); a dead endpoint costs one timeout per run; a
// multipart upload whose part stalls fails in bounds with that part's error; a call still waiting is
// named on a terminal (and not under --json).
import {randomBytes} from 'node:crypto'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {createServer, type Server} from 'node:http'
import {tmpdir} from 'node:os'
import path from 'node:path'
import type {AddressInfo} from 'node:net'
import {ListFunctionsCommand, ListLayersCommand} from '@aws-sdk/client-lambda'
import {CreateBucketCommand} from '@aws-sdk/client-s3'
import type {RetryErrorInfo, RetryStrategyV2, StandardRetryToken} from '@smithy/types'
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'
import {awsClientFactory} from '../../src/aws/clients.js'
import {NO_ANSWER_RETRY_WINDOW_MS, resolveTimeouts, RETRY_WINDOW_MS, timeBoundedRetries} from '../../src/aws/time-bounds.js'
import {createReporter} from '../../src/cli/reporter.js'
import {UserInputError} from '../../src/errors/index.js'
import type {Account} from '../../src/manifest/types.js'
import {artifactStoreApi, UPLOAD_PART_SIZE} from '../../src/aws/s3-artifacts.js'
import {blackHoleEndpoint, refusedEndpoint, startAwsServer} from '../../aws-double/index.js'

const DEV: Account = {name: 'dev', id: '111111111111', regions: ['eu-west-1']}
const saved = {...process.env}

beforeAll(() => {
  Object.assign(process.env, {AWS_ACCESS_KEY_ID: 'AKIDACCOUNT1', AWS_SECRET_ACCESS_KEY: 'secret', AWS_EC2_METADATA_DISABLED: 'true'})
  delete process.env.AWS_PROFILE
})
afterEach(() => {
  delete process.env.AWS_ENDPOINT_URL
})
afterAll(() => {
  process.env = saved
})

async function failure(promise: Promise<unknown>): Promise<Error & {code?: string}> {
  try {
    await promise
  } catch (error) {
    return error as Error & {code?: string}
  }
  throw new Error('expected the call to fail, it succeeded')
}

describe('timeouts from flags, environment, defaults', () => {
  it('takes the flag over the variable over the default, in seconds (0: no limit)', () => {
    expect(resolveTimeouts({}, {})).toEqual({connectTimeoutMs: 10_000, readTimeoutMs: 30_000})
    expect(resolveTimeouts({}, {LAYERS_CONNECT_TIMEOUT: '2.5', LAYERS_READ_TIMEOUT: '0'})).toEqual({connectTimeoutMs: 2500, readTimeoutMs: 0})
    expect(resolveTimeouts({readTimeout: '7'}, {LAYERS_READ_TIMEOUT: '3'})).toEqual({connectTimeoutMs: 10_000, readTimeoutMs: 7000})
  })

  it('refuses anything but seconds from 0 to 3600, naming the flag or the variable', () => {
    for (const [settings, env, source] of [
      [{readTimeout: 'banana'}, {}, '--read-timeout'],
      [{connectTimeout: '-1'}, {}, '--connect-timeout'],
      [{}, {LAYERS_READ_TIMEOUT: '10s'}, 'LAYERS_READ_TIMEOUT'],
      [{}, {LAYERS_CONNECT_TIMEOUT: '1e9'}, 'LAYERS_CONNECT_TIMEOUT'],
      [{readTimeout: '3601'}, {}, '--read-timeout'],
    ] as const) {
      let error: unknown
      try {
        resolveTimeouts(settings, env)
      } catch (caught) {
        error = caught
      }
      expect(error, source).toBeInstanceOf(UserInputError)
      expect((error as UserInputError).code).toBe(source.startsWith('--') ? 'ERR_LAYERS_FLAG_VALUE' : 'ERR_LAYERS_ENV')
      expect((error as UserInputError).message).toContain(`${source} must be a number of seconds`)
    }
  })
})

describe('retries bounded in time', () => {
  const token = (count: number): StandardRetryToken => ({getRetryCount: () => count, getRetryDelay: () => 0, getRetryCost: () => undefined})
  /** The SDK's strategy stand-in: always allows another attempt. */
  const inner: RetryStrategyV2 = {acquireInitialRetryToken: async () => token(0), refreshRetryTokenForRetry: async (t) => token(t.getRetryCount() + 1), recordSuccess: () => {}}
  const throttled = {errorType: 'THROTTLING', error: {name: 'ThrottlingException', message: 'Rate exceeded', $metadata: {httpStatusCode: 400}}} as unknown as RetryErrorInfo
  const refused = {errorType: 'TRANSIENT', error: {name: 'Error', code: 'ECONNREFUSED', message: 'connect ECONNREFUSED', $metadata: {}}} as unknown as RetryErrorInfo

  it('leaves answered errors to the SDK until the call has run RETRY_WINDOW_MS, no-answer errors until NO_ANSWER_RETRY_WINDOW_MS', async () => {
    let clock = 0
    const strategy = timeBoundedRetries(inner, 10, () => clock)
    let call = await strategy.acquireInitialRetryToken('')
    clock = RETRY_WINDOW_MS - 1
    call = await strategy.refreshRetryTokenForRetry(call, throttled)
    expect(call.getRetryCount()).toBe(1)
    clock = RETRY_WINDOW_MS
    await expect(strategy.refreshRetryTokenForRetry(call, throttled)).rejects.toThrow(/window/)

    clock = 0
    let other = await strategy.acquireInitialRetryToken('')
    other = await strategy.refreshRetryTokenForRetry(other, refused)
    // The backoff ends inside the window.
    expect(other.getRetryDelay()).toBeLessThanOrEqual(NO_ANSWER_RETRY_WINDOW_MS)
    clock = NO_ANSWER_RETRY_WINDOW_MS
    await expect(strategy.refreshRetryTokenForRetry(other, refused)).rejects.toThrow(/window/)
  })

  it('keeps the attempt count: no retry past maxAttempts', async () => {
    const strategy = timeBoundedRetries(inner, 2, () => 0)
    const first = await strategy.refreshRetryTokenForRetry(await strategy.acquireInitialRetryToken(''), refused)
    await expect(strategy.refreshRetryTokenForRetry(first, refused)).rejects.toThrow()
  })
})

describe('bounded calls', () => {
  it('a refused port: retried, and given up within the no-answer window, naming the call', async () => {
    process.env.AWS_ENDPOINT_URL = await refusedEndpoint()
    const lambda = await awsClientFactory().lambda(DEV, 'eu-west-1')
    const started = performance.now()
    const error = await failure(lambda.send(new ListFunctionsCommand({})))
    const elapsed = performance.now() - started
    expect(error.code).toBe('ERR_LAYERS_AWS_NO_ANSWER')
    expect(error.message).toMatch(new RegExp(`^No answer from lambda ListFunctions for account dev \\(111111111111\\), region eu-west-1, at ${process.env.AWS_ENDPOINT_URL}: the connection was refused; [2-9] attempts`))
    expect(elapsed).toBeLessThan(NO_ANSWER_RETRY_WINDOW_MS + 1500)
  })

  it('a stalled endpoint: each attempt ends after the read timeout; the next call to it fails at once without connecting', async () => {
    const hole = await blackHoleEndpoint()
    try {
      process.env.AWS_ENDPOINT_URL = hole.endpoint
      const lambda = await awsClientFactory({timeouts: {connectTimeoutMs: 1000, readTimeoutMs: 400}}).lambda(DEV, 'eu-west-1')
      const started = performance.now()
      const error = await failure(lambda.send(new ListFunctionsCommand({})))
      expect(performance.now() - started).toBeLessThan(NO_ANSWER_RETRY_WINDOW_MS + 1500)
      expect(error.message).toContain('nothing came back for 0.4 s (--read-timeout)')
      const connections = hole.connections
      expect(connections).toBeGreaterThan(1)
      const again = performance.now()
      const second = await failure(lambda.send(new ListLayersCommand({})))
      expect(performance.now() - again).toBeLessThan(500)
      expect(second.code).toBe('ERR_LAYERS_AWS_NO_ANSWER')
      expect(second.message).toContain(`No answer from lambda ListLayers for account dev (111111111111), region eu-west-1, at ${hole.endpoint}: not sent, as an earlier call to this endpoint in this run got no answer (nothing came back for 0.4 s (--read-timeout))`)
      expect(hole.connections).toBe(connections)
    } finally {
      await hole.close()
    }
  })

  it('a connection reset late in a call is retried once, though the no-answer window has passed', async () => {
    let requests = 0
    const server: Server = createServer((req, res) => {
      if (++requests === 1) return void setTimeout(() => req.socket.destroy(), NO_ANSWER_RETRY_WINDOW_MS + 300)
      res.writeHead(200, {'content-type': 'application/json'})
      res.end('{"Functions": []}')
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    try {
      process.env.AWS_ENDPOINT_URL = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
      const lambda = await awsClientFactory().lambda(DEV, 'eu-west-1')
      const reply = await lambda.send(new ListFunctionsCommand({}))
      expect(reply.Functions).toEqual([])
      expect(reply.$metadata.attempts).toBe(2)
    } finally {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    }
  })

  it('the read timeout is inactivity: an answer that keeps trickling in for longer than it is read whole', async () => {
    const server: Server = createServer((_req, res) => {
      res.writeHead(200, {'content-type': 'application/json'})
      res.write('{"Functions": [] ')
      let ticks = 0
      const timer = setInterval(() => {
        if (++ticks < 15) return void res.write(' ')
        clearInterval(timer)
        res.end('}')
      }, 100)
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    try {
      process.env.AWS_ENDPOINT_URL = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
      const lambda = await awsClientFactory({timeouts: {connectTimeoutMs: 1000, readTimeoutMs: 500}}).lambda(DEV, 'eu-west-1')
      const started = performance.now()
      expect((await lambda.send(new ListFunctionsCommand({}))).Functions).toEqual([])
      expect(performance.now() - started).toBeGreaterThan(1400)
    } finally {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    }
  })

  it('names a call still waiting after 3 s on a terminal, and prints nothing under --json', async () => {
    const hole = await blackHoleEndpoint()
    const saveCi = process.env.CI
    delete process.env.CI
    try {
      process.env.AWS_ENDPOINT_URL = hole.endpoint
      const streams = [false, true].map((json) => {
        const stream = {isTTY: true, columns: 300, text: '', write: (chunk: string) => ((stream.text += chunk), true)}
        return {json, stream, reporter: createReporter({json, stream: stream as unknown as NodeJS.WriteStream})}
      })
      await Promise.all(
        streams.map(async ({reporter}) => {
          const lambda = await awsClientFactory({timeouts: {connectTimeoutMs: 1000, readTimeoutMs: 4000}, emit: reporter.emit}).lambda(DEV, 'eu-west-1')
          await failure(lambda.send(new ListFunctionsCommand({})))
        }),
      )
      expect(streams[0]!.stream.text).toContain(`waiting for lambda ListFunctions for account dev (111111111111), region eu-west-1, at ${hole.endpoint} (3 s)`)
      expect(streams[1]!.stream.text).toBe('')
    } finally {
      if (saveCi !== undefined) process.env.CI = saveCi
      await hole.close()
    }
  })

  it('a multipart upload whose part stalls fails within the bounds, naming s3 UploadPart; a refused part is aborted; unhindered it goes up', async () => {
    const server = await startAwsServer()
    const dir = mkdtempSync(path.join(tmpdir(), 'layers-upload-bounds-'))
    try {
      process.env.AWS_ENDPOINT_URL = server.endpoint
      const keys = server.credentials(DEV.id)
      Object.assign(process.env, {AWS_ACCESS_KEY_ID: keys.accessKeyId, AWS_SECRET_ACCESS_KEY: keys.secretAccessKey})
      const file = path.join(dir, 'big.zip')
      const bytes = randomBytes(UPLOAD_PART_SIZE + 1024)
      writeFileSync(file, bytes)
      const input = {bucket: 'bounds-uploads', key: 'big.zip', file, bytes: bytes.length, sha256Base64: ''}
      // The stall is judged with a 0.5 s read timeout; the other uploads get 10 s, as a loaded machine
      // may take longer than 0.5 s to answer a 5 MB part (CI failed so once).
      const upload = async (readTimeoutMs = 10_000) => {
        const s3 = await awsClientFactory({timeouts: {connectTimeoutMs: 1000, readTimeoutMs}}).s3(DEV, 'us-east-1')
        await s3.send(new CreateBucketCommand({Bucket: input.bucket})).catch(() => undefined)
        return artifactStoreApi(s3).upload(input)
      }
      server.setFaults({stallRate: 1, operations: ['UploadPart']})
      const started = performance.now()
      const error = await failure(upload(500))
      expect(performance.now() - started).toBeLessThan(NO_ANSWER_RETRY_WINDOW_MS + 3000)
      expect(error.code).toBe('ERR_LAYERS_AWS_NO_ANSWER')
      expect(error.message).toMatch(/^No answer from s3 UploadPart for account dev \(111111111111\), region us-east-1, at http:\/\/127\.0\.0\.1:\d+: nothing came back for 0\.5 s/)
      // A part refused outright: the upload fails with that error, and the multipart upload is aborted.
      server.setFaults({deny: [DEV.id], operations: ['UploadPart']})
      expect((await failure(upload())).name).toBe('AccessDenied')
      expect(server.calls.filter((call) => call.operation === 'AbortMultipartUpload').map((call) => call.status)).toEqual([204])
      server.setFaults(undefined)
      await upload()
      expect(server.calls.filter((call) => call.operation === 'CompleteMultipartUpload').map((call) => call.status)).toEqual([200])
    } finally {
      rmSync(dir, {recursive: true, force: true})
      await server.close()
    }
  })
})
