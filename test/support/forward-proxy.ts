// A forward HTTP proxy on 127.0.0.1 for tests: it takes absolute-URI requests (`GET http://host/path`,
// as clients send plain-http URLs to a proxy named by HTTP_PROXY), records each one with its
// User-Agent, and forwards it to its origin as it is, streaming the answer back. CONNECT tunnels are
// recorded (their host:port) and by default not served (the connection is closed), so a client that
// tunnels instead is seen failing; with `tunnel` they are served (HTTPS_PROXY's way to an https://
// origin): a TCP connection to the host:port, whose local port is recorded so that the origin can
// tell the proxy's connections from direct ones, piped both ways after `200 Connection Established`.
import http from 'node:http'
import {connect, type AddressInfo} from 'node:net'
import type {Duplex} from 'node:stream'

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
  /** With `tunnel`: the local port of each connection the proxy opened to a CONNECT's host:port. */
  readonly tunnelPorts: number[]
  close(): Promise<void>
}

export async function startForwardProxy(options: {tunnel?: boolean} = {}): Promise<ForwardProxy> {
  const requests: ForwardedRequest[] = []
  const connects: string[] = []
  const tunnelPorts: number[] = []
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
  // A CONNECT's sockets leave the HTTP server's keeping (closeAllConnections does not see them): closed here.
  const tunnels = new Set<Duplex>()
  server.on('connect', (request, socket, head) => {
    const target = request.url ?? ''
    connects.push(target)
    if (!options.tunnel) {
      socket.destroy()
      return
    }
    const at = target.lastIndexOf(':')
    const upstream = connect(Number(target.slice(at + 1)), target.slice(0, at).replace(/^\[|\]$/g, ''), () => {
      tunnelPorts.push(upstream.localPort ?? 0)
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n')
      upstream.write(head)
      upstream.pipe(socket)
      socket.pipe(upstream)
    })
    for (const end of [socket, upstream]) {
      tunnels.add(end)
      end.on('close', () => tunnels.delete(end))
    }
    upstream.on('error', () => socket.destroy())
    upstream.on('close', () => socket.destroy())
    socket.on('error', () => upstream.destroy())
    socket.on('close', () => upstream.destroy())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    connects,
    tunnelPorts,
    close: () => {
      for (const end of tunnels) end.destroy()
      server.closeAllConnections()
      return new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
