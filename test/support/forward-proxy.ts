// A forward HTTP proxy on 127.0.0.1 for tests: it takes absolute-URI requests (`GET http://host/path`,
// as clients send plain-http URLs to a proxy named by HTTP_PROXY), records each one with its
// User-Agent, and forwards it to its origin as it is, streaming the answer back. CONNECT tunnels are
// recorded (their host:port) and not served (the connection is closed), so a client that tunnels
// instead is seen failing.
import http from 'node:http'
import type {AddressInfo} from 'node:net'

export interface ForwardedRequest {
  method: string
  /** The absolute URL asked for. */
  url: string
  userAgent: string
}

export interface ForwardProxy {
  /** http://127.0.0.1:PORT */
  url: string
  /** The requests forwarded so far. */
  readonly requests: ForwardedRequest[]
  /** The host:port of each CONNECT asked for so far. */
  readonly connects: string[]
  close(): Promise<void>
}

export async function startForwardProxy(): Promise<ForwardProxy> {
  const requests: ForwardedRequest[] = []
  const connects: string[] = []
  const server = http.createServer((request, response) => {
    const url = request.url ?? ''
    if (!/^https?:\/\//.test(url)) {
      response.writeHead(400, {'content-type': 'text/plain'}).end('a proxy takes absolute URLs')
      return
    }
    requests.push({method: request.method ?? 'GET', url, userAgent: request.headers['user-agent'] ?? ''})
    const upstream = http.request(url, {method: request.method, headers: request.headers}, (answer) => {
      response.writeHead(answer.statusCode ?? 502, answer.headers)
      answer.pipe(response)
    })
    upstream.on('error', () => response.destroy())
    request.pipe(upstream)
  })
  server.on('connect', (request, socket) => {
    connects.push(request.url ?? '')
    socket.destroy()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    connects,
    close: () => {
      server.closeAllConnections()
      return new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
