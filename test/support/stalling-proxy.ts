// A loopback HTTP proxy in front of a test server (the OCI registry) that forwards every request as it
// is (Host header included, so the upstream's Location URLs point back at the proxy), except those a
// test tells it to stall: those are taken in and never forwarded or answered, as a registry that hangs
// mid-upload does. release() ends the stall (the held requests are cut); close() stops the proxy.
import http from 'node:http'
import type {AddressInfo, Socket} from 'node:net'

export interface ProxiedRequest {
  method: string
  /** The request path with its query. */
  url: string
}

export interface StallingProxy {
  /** http://127.0.0.1:PORT */
  url: string
  /** 127.0.0.1:PORT */
  host: string
  /** Stalls each request `match` picks from now on (the first `skip` matching ones still go through). */
  stall(match: (request: ProxiedRequest) => boolean, skip?: number): void
  /** Requests stalled since the last stall() call. */
  readonly stalled: ProxiedRequest[]
  /** Stops stalling; the requests held are cut (their clients see the connection close). */
  release(): void
  close(): Promise<void>
}

export async function startStallingProxy(upstream: string): Promise<StallingProxy> {
  const target = new URL(upstream)
  let match: ((request: ProxiedRequest) => boolean) | undefined
  let skip = 0
  const stalled: ProxiedRequest[] = []
  const held = new Set<http.IncomingMessage>()
  const sockets = new Set<Socket>()
  const server = http.createServer((request, response) => {
    const seen = {method: request.method ?? 'GET', url: request.url ?? '/'}
    if (match?.(seen) && skip-- <= 0) {
      // Taken in, never answered: the client waits on a silent socket.
      stalled.push(seen)
      held.add(request)
      request.pause()
      return
    }
    const forward = http.request({host: target.hostname, port: target.port, method: request.method, path: request.url, headers: request.headers}, (answer) => {
      response.writeHead(answer.statusCode ?? 502, answer.headers)
      answer.pipe(response)
    })
    forward.on('error', () => response.destroy())
    request.pipe(forward)
  })
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const {port} = server.address() as AddressInfo
  const release = () => {
    match = undefined
    for (const request of held) request.socket.destroy()
    held.clear()
  }
  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    stall(picks, skipFirst = 0) {
      match = picks
      skip = skipFirst
      stalled.length = 0
    },
    stalled,
    release,
    async close() {
      release()
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
