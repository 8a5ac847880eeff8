// Owns one HTTP(S) exchange with the time bounds of src/aws/time-bounds.ts (a connect timeout and a
// read timeout: the socket's inactivity, so a large body that keeps arriving is never cut), the body
// read whole, and optionally ended by an AbortSignal (an interrupt). Callers (the registry client, ARN
// layer downloads) name what failed and decide retries.
import http from 'node:http'
import https from 'node:https'
import type {AwsTimeouts} from '../aws/time-bounds.js'

export interface HttpAnswer {
  status: number
  headers: http.IncomingHttpHeaders
  body: Buffer
}

/**
 * One exchange; rejects with the network error (or a timeout naming its bound), never on an HTTP status.
 * `signal`: the exchange is cut when it fires (for requests whose loss is harmless: reads, a blob upload).
 */
export function httpExchange(method: string, url: URL, headers: Record<string, string>, body: Buffer | undefined, timeouts: AwsTimeouts, signal?: AbortSignal): Promise<HttpAnswer> {
  const {connectTimeoutMs, readTimeoutMs} = timeouts
  return new Promise<HttpAnswer>((resolve, reject) => {
    if (signal?.aborted) {
      reject(new Error('interrupted before it was sent'))
      return
    }
    const transport = url.protocol === 'http:' ? http : https
    const request = transport.request(url, {method, headers: {...headers, ...(body ? {'content-length': String(body.length)} : {})}})
    const onAbort = () => request.destroy(new Error('interrupted'))
    signal?.addEventListener('abort', onAbort, {once: true})
    request.once('close', () => signal?.removeEventListener('abort', onAbort))
    let connectTimer: NodeJS.Timeout | undefined
    if (connectTimeoutMs > 0) {
      connectTimer = setTimeout(() => request.destroy(new Error(`no connection within ${connectTimeoutMs / 1000} s (--connect-timeout)`)), connectTimeoutMs)
      request.once('socket', (socket) => {
        if (!socket.connecting) clearTimeout(connectTimer)
        else socket.once('connect', () => clearTimeout(connectTimer))
      })
    }
    if (readTimeoutMs > 0) request.setTimeout(readTimeoutMs, () => request.destroy(new Error(`nothing came back for ${readTimeoutMs / 1000} s (--read-timeout)`)))
    request.once('error', (error) => {
      clearTimeout(connectTimer)
      reject(error)
    })
    request.once('response', (response) => {
      const chunks: Buffer[] = []
      response.on('data', (chunk: Buffer) => chunks.push(chunk))
      response.once('error', reject)
      response.once('end', () => resolve({status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks)}))
    })
    request.end(body)
  })
}
