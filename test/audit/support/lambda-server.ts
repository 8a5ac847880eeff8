// A narrow Lambda endpoint on loopback for the audit tests and benchmark, written while the shared
// AWS test server (test/support/aws-server/) had not landed: ListFunctions (Marker/MaxItems, at most
// 50 a page), GetLayerVersionByArn, ListLayerVersions and DeleteLayerVersion, spoken to by the
// unmodified @aws-sdk/client-lambda through an endpoint override. The caller's account comes from the
// access key in the SigV4 Authorization header, the region from its credential scope. Faults per
// test: latency per call, throttling (429 TooManyRequestsException) at a seeded rate, and denied
// account/regions (403 AccessDeniedException). Counts calls per operation.
import {createServer, type IncomingMessage, type ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'

export interface SeedFunction {
  name: string
  runtime?: string
  architecture?: 'x86_64' | 'arm64'
  codeSize?: number
  layers?: string[]
}

interface LayerVersion {
  version: number
  arn: string
  codeSize: number
  codeSha256: string
  architectures: string[]
  runtimes: string[]
  createdDate: string
  deleted: boolean
}

export interface LambdaServerOptions {
  /** access key id -> 12-digit account id */
  accessKeys: Record<string, string>
  latencyMs?: number
  throttleRate?: number
  seed?: number
  /** `account/region` pairs every call from is refused with AccessDeniedException. */
  denied?: string[]
}

export interface LambdaServer {
  endpoint: string
  calls: Record<string, number>
  addFunction(accountId: string, region: string, fn: SeedFunction): void
  addLayerVersion(accountId: string, region: string, name: string, options?: {codeSize?: number; architectures?: string[]; createdDate?: string; codeSha256?: string}): string
  deleteLayerVersion(arn: string): void
  layerVersions(accountId: string, region: string, name: string): number[]
  setFaults(faults: Pick<LambdaServerOptions, 'latencyMs' | 'throttleRate' | 'denied'>): void
  close(): Promise<void>
}

/** mulberry32: a small seeded PRNG so throttled runs repeat. */
function random(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export async function startLambdaServer(options: LambdaServerOptions): Promise<LambdaServer> {
  const functions = new Map<string, Array<Required<SeedFunction>>>()
  const layers = new Map<string, LayerVersion[]>()
  const calls: Record<string, number> = {}
  let faults = {latencyMs: options.latencyMs ?? 0, throttleRate: options.throttleRate ?? 0, denied: new Set(options.denied ?? [])}
  const next = random(options.seed ?? 1)
  const layerKey = (accountId: string, region: string, name: string): string => `${accountId}/${region}/${name}`
  const findVersion = (arn: string): LayerVersion | undefined => {
    const match = /^arn:aws:lambda:([^:]+):(\d{12}):layer:([^:]+):(\d+)$/.exec(arn)
    if (!match) return undefined
    return layers.get(layerKey(match[2]!, match[1]!, match[3]!))?.find((entry) => entry.version === Number(match[4]))
  }

  const send = (res: ServerResponse, status: number, body?: unknown, errorType?: string): void => {
    const headers: Record<string, string> = {'content-type': 'application/json', 'x-amzn-requestid': `req-${Math.floor(next() * 1e9)}`}
    if (errorType) headers['x-amzn-errortype'] = errorType
    res.writeHead(status, headers)
    res.end(body === undefined ? '' : JSON.stringify(body))
  }
  const fail = (res: ServerResponse, status: number, type: string, message: string): void => send(res, status, {Type: 'User', message}, type)

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    for await (const _chunk of req) {
      // Requests here have no body worth reading; drain it.
    }
    const auth = /Credential=([^/]+)\/\d{8}\/([^/]+)\/([^/]+)\//.exec(req.headers.authorization ?? '')
    const url = new URL(req.url ?? '/', 'http://localhost')
    const operation = operationOf(req.method ?? 'GET', url)
    calls[operation] = (calls[operation] ?? 0) + 1
    if (faults.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, faults.latencyMs))
    const accountId = auth ? options.accessKeys[auth[1]!] : undefined
    if (!auth || !accountId) return fail(res, 403, 'UnrecognizedClientException', 'The security token included in the request is invalid.')
    const region = auth[2]!
    if (faults.denied.has(`${accountId}/${region}`)) {
      return fail(res, 403, 'AccessDeniedException', `User: arn:aws:iam::${accountId}:user/audit is not authorized to perform: lambda:${operation} in ${region}`)
    }
    if (faults.throttleRate > 0 && next() < faults.throttleRate) return fail(res, 429, 'TooManyRequestsException', 'Rate exceeded')

    const maxItems = Math.min(Number(url.searchParams.get('MaxItems') ?? 50) || 50, 50)
    const marker = Number(url.searchParams.get('Marker') ?? 0) || 0
    switch (operation) {
      case 'ListFunctions': {
        const all = functions.get(`${accountId}/${region}`) ?? []
        const page = all.slice(marker, marker + maxItems)
        return send(res, 200, {
          Functions: page.map((fn) => ({
            FunctionName: fn.name,
            FunctionArn: `arn:aws:lambda:${region}:${accountId}:function:${fn.name}`,
            ...(fn.runtime ? {Runtime: fn.runtime} : {}),
            Architectures: [fn.architecture],
            CodeSize: fn.codeSize,
            Layers: fn.layers.map((arn) => ({Arn: arn, CodeSize: findVersion(arn)?.codeSize ?? 0})),
          })),
          ...(marker + maxItems < all.length ? {NextMarker: String(marker + maxItems)} : {}),
        })
      }
      case 'GetLayerVersionByArn': {
        const entry = findVersion(url.searchParams.get('Arn') ?? '')
        if (!entry || entry.deleted) return fail(res, 404, 'ResourceNotFoundException', 'The resource you requested does not exist.')
        return send(res, 200, {
          LayerArn: entry.arn.replace(/:\d+$/, ''),
          LayerVersionArn: entry.arn,
          Version: entry.version,
          CreatedDate: entry.createdDate,
          Content: {CodeSize: entry.codeSize, CodeSha256: entry.codeSha256, Location: 'https://example.invalid/'},
          CompatibleArchitectures: entry.architectures,
          CompatibleRuntimes: entry.runtimes,
        })
      }
      case 'ListLayerVersions': {
        const name = decodeURIComponent(url.pathname.split('/')[3] ?? '')
        const all = (layers.get(layerKey(accountId, region, name)) ?? []).filter((entry) => !entry.deleted).sort((a, b) => b.version - a.version)
        const page = all.slice(marker, marker + maxItems)
        return send(res, 200, {
          LayerVersions: page.map((entry) => ({LayerVersionArn: entry.arn, Version: entry.version, CreatedDate: entry.createdDate, CompatibleArchitectures: entry.architectures, CompatibleRuntimes: entry.runtimes})),
          ...(marker + maxItems < all.length ? {NextMarker: String(marker + maxItems)} : {}),
        })
      }
      case 'DeleteLayerVersion': {
        const [, , , name, , version] = url.pathname.split('/')
        const entry = layers.get(layerKey(accountId, region, decodeURIComponent(name ?? '')))?.find((item) => item.version === Number(version))
        if (entry) entry.deleted = true
        return send(res, 204)
      }
      default:
        return fail(res, 404, 'UnknownOperationException', `${req.method} ${url.pathname} is not served here`)
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: Error) => fail(res, 500, 'ServiceException', error.message))
  })
  server.keepAliveTimeout = 60_000
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const {port} = server.address() as AddressInfo

  return {
    endpoint: `http://127.0.0.1:${port}`,
    calls,
    addFunction(accountId, region, fn) {
      const list = functions.get(`${accountId}/${region}`) ?? []
      list.push({name: fn.name, runtime: fn.runtime ?? '', architecture: fn.architecture ?? 'x86_64', codeSize: fn.codeSize ?? 1024, layers: fn.layers ?? []})
      list.sort((a, b) => (a.name < b.name ? -1 : 1))
      functions.set(`${accountId}/${region}`, list)
    },
    addLayerVersion(accountId, region, name, seed = {}) {
      const key = layerKey(accountId, region, name)
      const list = layers.get(key) ?? []
      const version = (list.at(-1)?.version ?? 0) + 1
      const arn = `arn:aws:lambda:${region}:${accountId}:layer:${name}:${version}`
      list.push({
        version, arn, codeSize: seed.codeSize ?? 4096, codeSha256: seed.codeSha256 ?? Buffer.from(arn).toString('base64'),
        architectures: seed.architectures ?? ['x86_64', 'arm64'], runtimes: ['nodejs20.x'], createdDate: seed.createdDate ?? '2025-01-01T00:00:00.000+0000', deleted: false,
      })
      layers.set(key, list)
      return arn
    },
    deleteLayerVersion(arn) {
      const entry = findVersion(arn)
      if (entry) entry.deleted = true
    },
    layerVersions(accountId, region, name) {
      return (layers.get(layerKey(accountId, region, name)) ?? []).filter((entry) => !entry.deleted).map((entry) => entry.version)
    },
    setFaults(next) {
      faults = {latencyMs: next.latencyMs ?? faults.latencyMs, throttleRate: next.throttleRate ?? faults.throttleRate, denied: new Set(next.denied ?? [...faults.denied])}
    },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    }),
  }
}

function operationOf(method: string, url: URL): string {
  const path = url.pathname.replace(/\/+$/, '')
  if (method === 'GET' && path === '/2015-03-31/functions') return 'ListFunctions'
  if (method === 'GET' && path === '/2018-10-31/layers' && url.searchParams.get('find') === 'LayerVersion') return 'GetLayerVersionByArn'
  if (method === 'GET' && /^\/2018-10-31\/layers\/[^/]+\/versions$/.test(path)) return 'ListLayerVersions'
  if (method === 'DELETE' && /^\/2018-10-31\/layers\/[^/]+\/versions\/\d+$/.test(path)) return 'DeleteLayerVersion'
  return `${method} ${path}`
}
