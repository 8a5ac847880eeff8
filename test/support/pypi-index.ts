// A Python package index over HTTP on 127.0.0.1 for tests: the PEP 691 JSON project pages (and the
// PEP 503 HTML form when JSON is not asked for), PEP 658 core metadata next to each wheel (so a
// resolver never downloads a wheel to read it; a project can go without), yanked files (PEP 592), Requires-Python (PEP 691
// `requires-python`, PEP 503 `data-requires-python`), and the files themselves.
// Wheels are crafted here from a project description: platform tags, Requires-Dist with markers,
// files, and hostile entries (a `..` path, a symbolic link) written by a small stored-zip writer,
// since zip libraries refuse to write such entries. Optional basic auth; a file can be switched to
// serve other bytes than its listed sha256 (a compromised index), or never be answered (a hanging
// one), or answer its next requests with faults (an HTTP status, or a cut connection) and then recover;
// so can a project page. Served over TLS instead when given a certificate (test/support/tls.ts); the
// client port of every connection is recorded, to tell a proxy's tunnels from direct connections. Real sdists are built from a project description too, naming a tiny in-repo build backend (tiny_backend.py) the index serves as a wheel.
import {createHash} from 'node:crypto'
import {mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import {createServer as createTlsServer} from 'node:https'
import type {AddressInfo} from 'node:net'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {crc32} from 'node:zlib'
import {create as createTar} from 'tar'

export interface ZipItem {
  path: string
  data: string | Buffer
  /** Unix mode with file type (default 0o100644); 0o120777 makes a symbolic link whose target is `data`. */
  mode?: number
}

/** A zip of stored (uncompressed) entries, written as given: no path checks, for hostile fixtures. */
export function storedZip(items: readonly ZipItem[]): Buffer {
  const locals: Buffer[] = []
  const centrals: Buffer[] = []
  let offset = 0
  for (const item of items) {
    const name = Buffer.from(item.path, 'utf8')
    const data = typeof item.data === 'string' ? Buffer.from(item.data, 'utf8') : item.data
    const crc = crc32(data)
    const local = Buffer.alloc(30)
    local.writeUInt32LE(0x04034b50, 0)
    local.writeUInt16LE(20, 4)
    local.writeUInt16LE(0x0800, 6)
    local.writeUInt32LE(crc, 14)
    local.writeUInt32LE(data.length, 18)
    local.writeUInt32LE(data.length, 22)
    local.writeUInt16LE(name.length, 26)
    const central = Buffer.alloc(46)
    central.writeUInt32LE(0x02014b50, 0)
    central.writeUInt16LE((3 << 8) | 20, 4)
    central.writeUInt16LE(20, 6)
    central.writeUInt16LE(0x0800, 8)
    central.writeUInt32LE(crc, 16)
    central.writeUInt32LE(data.length, 20)
    central.writeUInt32LE(data.length, 24)
    central.writeUInt16LE(name.length, 28)
    central.writeUInt32LE(((item.mode ?? 0o100644) << 16) >>> 0, 38)
    central.writeUInt32LE(offset, 42)
    locals.push(local, name, data)
    centrals.push(central, name)
    offset += local.length + name.length + data.length
  }
  const directory = Buffer.concat(centrals)
  const end = Buffer.alloc(22)
  end.writeUInt32LE(0x06054b50, 0)
  end.writeUInt16LE(items.length, 8)
  end.writeUInt16LE(items.length, 10)
  end.writeUInt32LE(directory.length, 12)
  end.writeUInt32LE(offset, 16)
  return Buffer.concat([...locals, directory, end])
}

export interface WheelFixture {
  /** `interpreter-abi-platform`, e.g. `py3-none-any` or `cp312-cp312-manylinux_2_28_x86_64`. */
  tag: string
  /** Files besides the dist-info (default: `<module>/__init__.py` saying the project, version and tag). */
  files?: ZipItem[]
  yanked?: boolean
}

export interface ProjectFixture {
  name: string
  version: string
  /** Requires-Dist lines, e.g. `armonly ; platform_machine == "aarch64"`. */
  requires?: string[]
  requiresPython?: string
  /** More core metadata lines, e.g. `License-Expression: MIT` or `Classifier: License :: OSI Approved :: MIT License`. */
  metadata?: string[]
  /** The index serves no PEP 658 metadata file for its wheels (a reader must open the wheel). */
  noCoreMetadata?: boolean
  wheels: WheelFixture[]
  /**
   * Publish a source distribution (.tar.gz) too: `true` for bytes that are not a tarball; a SdistFixture
   * for a real one, built by the tiny PEP 517 backend (TINY_BACKEND, published separately).
   */
  sdist?: boolean | SdistFixture
}

export interface SdistFixture {
  /** Files under the sdist's src/ (they land at the wheel's root). */
  files: ZipItem[]
  /** The backend builds a CPython-tagged wheel with an extension module, as a compiled package would. */
  native?: boolean
}

/** The wheel of the tiny build backend the crafted sdists name (test/support/tiny_backend.py); it honours SOURCE_DATE_EPOCH and logs each build to $TINY_BACKEND_LOG. */
export const TINY_BACKEND: ProjectFixture = {
  name: 'tiny-backend',
  version: '1.0',
  wheels: [{tag: 'py3-none-any', files: [{path: 'tiny_backend.py', data: readFileSync(path.join(import.meta.dirname, 'tiny_backend.py'))}]}],
}

/** A real sdist (.tar.gz) of `project`: PKG-INFO, a pyproject.toml naming the tiny backend, the files under src/. */
function sdistBytes(project: ProjectFixture, sdist: SdistFixture): Buffer {
  const dir = mkdtempSync(path.join(tmpdir(), 'layers-sdist-fixture-'))
  try {
    const top = `${module(project.name)}-${project.version}`
    const write = (file: string, data: string | Buffer): void => {
      mkdirSync(path.dirname(path.join(dir, top, file)), {recursive: true})
      writeFileSync(path.join(dir, top, file), data)
    }
    write('PKG-INFO', metadataOf(project))
    write('pyproject.toml', '[build-system]\nrequires = ["tiny-backend"]\nbuild-backend = "tiny_backend"\n')
    for (const item of sdist.files) write(path.join('src', item.path), item.data)
    if (sdist.native) write('NATIVE', '')
    createTar({sync: true, gzip: true, portable: true, mtime: new Date(0), cwd: dir, file: path.join(dir, 'sdist.tar.gz')}, [top])
    return readFileSync(path.join(dir, 'sdist.tar.gz'))
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
}

interface StoredFile {
  filename: string
  project: string
  bytes: Buffer
  sha256: string
  metadata?: Buffer
  yanked: boolean
  requiresPython?: string
  /** Bytes served instead of `bytes` (the index lists `sha256` of `bytes`). */
  tampered?: Buffer
}

const module = (name: string): string => name.replace(/[-.]/g, '_')
const normalize = (name: string): string => name.replace(/[-_.]+/g, '-').toLowerCase()

function metadataOf(project: ProjectFixture): string {
  return [
    'Metadata-Version: 2.1',
    `Name: ${project.name}`,
    `Version: ${project.version}`,
    ...(project.requiresPython ? [`Requires-Python: ${project.requiresPython}`] : []),
    ...(project.requires ?? []).map((line) => `Requires-Dist: ${line}`),
    ...(project.metadata ?? []),
    '',
    '',
  ].join('\n')
}

/** The bytes of a wheel for `project` with `wheel.tag`. */
export function wheelBytes(project: ProjectFixture, wheel: WheelFixture): Buffer {
  const distInfo = `${module(project.name)}-${project.version}.dist-info`
  const files = wheel.files ?? [{path: `${module(project.name)}/__init__.py`, data: `NAME = ${JSON.stringify(project.name)}\nVERSION = ${JSON.stringify(project.version)}\nTAG = ${JSON.stringify(wheel.tag)}\n`}]
  const meta: ZipItem[] = [
    {path: `${distInfo}/METADATA`, data: metadataOf(project)},
    {path: `${distInfo}/WHEEL`, data: `Wheel-Version: 1.0\nGenerator: layers-tests\nRoot-Is-Purelib: ${wheel.tag.endsWith('-any')}\nTag: ${wheel.tag}\n`},
  ]
  const record = [...files, ...meta].map((item) => `${item.path},,`).join('\n') + `\n${distInfo}/RECORD,,\n`
  return storedZip([...files, ...meta, {path: `${distInfo}/RECORD`, data: record}])
}

export function wheelFilename(project: ProjectFixture, wheel: WheelFixture): string {
  return `${module(project.name)}-${project.version}-${wheel.tag}.whl`
}

export interface PyPIIndex {
  /** The simple index URL, e.g. http://127.0.0.1:PORT/simple/ (https:// with `tls`; with credentials when auth is on). */
  url: string
  /** Without credentials. */
  publicUrl: string
  /** Requests received (method and path), for assertions about what was fetched. */
  requests: string[]
  /** The User-Agent of each of `requests` (`layers` for layers' own reads, `uv/…` for uv's). */
  userAgents: string[]
  /** The client port of each TCP connection accepted (all from 127.0.0.1), in order. */
  connectionPorts: number[]
  publish(project: ProjectFixture): void
  /** Serve other bytes for a file from now on (its listed sha256 stays). */
  tamper(filename: string): void
  /** Requests for a file are taken in and never answered from now on (an index that hangs); `stalled` counts them. */
  stall(filename: string): void
  readonly stalled: number
  /** The next requests for a file (or its `.metadata`, by that name; or a project's page, by `<project>/`) are answered with these faults in turn: an HTTP status, or 'reset' (the connection cut without an answer); then it is served again. `userAgent`: only requests whose User-Agent starts with it count (`layers`: layers' own, not uv's). */
  failNext(filename: string, faults: Array<number | 'reset'>, options?: {userAgent?: string}): void
  close(): Promise<void>
}

export async function startPyPIIndex(options: {auth?: {username: string; password: string}; tls?: {cert: string; key: string}} = {}): Promise<PyPIIndex> {
  const files = new Map<string, StoredFile>()
  const requests: string[] = []
  const userAgents: string[] = []
  const connectionPorts: number[] = []
  const stalledFiles = new Set<string>()
  const faults = new Map<string, {next: Array<number | 'reset'>; userAgent: string}>()
  let stalled = 0
  const handler = (request: IncomingMessage, response: ServerResponse): void => {
    const url = new URL(request.url ?? '/', 'http://localhost')
    requests.push(`${request.method} ${url.pathname}`)
    userAgents.push(request.headers['user-agent'] ?? '')
    if (options.auth) {
      const expected = 'Basic ' + Buffer.from(`${options.auth.username}:${options.auth.password}`).toString('base64')
      if (request.headers.authorization !== expected) {
        response.writeHead(401, {'www-authenticate': 'Basic realm="test"'}).end()
        return
      }
    }
    /** Answers the next planned fault for `key` (a file name, or `<project>/` for its page); true when one was. */
    const faulted = (key: string): boolean => {
      const planned = faults.get(key)
      const fault = planned && (request.headers['user-agent'] ?? '').startsWith(planned.userAgent) ? planned.next.shift() : undefined
      if (fault === 'reset') request.socket.destroy()
      else if (fault !== undefined) response.writeHead(fault, {'content-type': 'text/plain'}).end(`injected ${fault}`)
      return fault !== undefined
    }
    const project = /^\/simple\/([^/]+)\/$/.exec(url.pathname)?.[1]
    if (project !== undefined) {
      if (faulted(`${normalize(project)}/`)) return
      const listed = [...files.values()].filter((file) => file.project === normalize(project)).sort((a, b) => (a.filename < b.filename ? -1 : 1))
      if (listed.length === 0) {
        response.writeHead(404).end()
        return
      }
      if ((request.headers.accept ?? '').includes('application/vnd.pypi.simple.v1+json')) {
        const body = {
          meta: {'api-version': '1.1'},
          name: normalize(project),
          files: listed.map((file) => ({
            filename: file.filename,
            url: `/files/${file.filename}`,
            hashes: {sha256: file.sha256},
            ...(file.yanked ? {yanked: true} : {}),
            ...(file.requiresPython ? {'requires-python': file.requiresPython} : {}),
            ...(file.metadata ? {'core-metadata': {sha256: createHash('sha256').update(file.metadata).digest('hex')}} : {}),
          })),
        }
        response.writeHead(200, {'content-type': 'application/vnd.pypi.simple.v1+json'}).end(JSON.stringify(body))
        return
      }
      const anchors = listed.map((file) => `<a href="/files/${file.filename}#sha256=${file.sha256}"${file.yanked ? ' data-yanked=""' : ''}${file.requiresPython ? ` data-requires-python="${file.requiresPython.replace(/</g, '&lt;').replace(/>/g, '&gt;')}"` : ''}>${file.filename}</a><br/>`)
      response.writeHead(200, {'content-type': 'text/html'}).end(`<!DOCTYPE html><html><body>${anchors.join('\n')}</body></html>`)
      return
    }
    const file = /^\/files\/([^/]+)$/.exec(url.pathname)?.[1]
    if (file !== undefined) {
      if (stalledFiles.has(file)) {
        stalled++
        return
      }
      if (faulted(file)) return
      const metadata = file.endsWith('.metadata') ? files.get(file.slice(0, -'.metadata'.length))?.metadata : undefined
      const stored = files.get(file)
      const bytes = metadata ?? (stored ? (stored.tampered ?? stored.bytes) : undefined)
      if (!bytes) {
        response.writeHead(404).end()
        return
      }
      response.writeHead(200, {'content-type': 'application/octet-stream', 'content-length': bytes.length}).end(bytes)
      return
    }
    response.writeHead(404).end()
  }
  const server: Server = options.tls ? createTlsServer({cert: options.tls.cert, key: options.tls.key}, handler) : createServer(handler)
  // A TLS server's 'connection' is the TCP one, before the handshake: a client that refuses the certificate is counted too.
  server.on('connection', (socket: {remotePort?: number}) => connectionPorts.push(socket.remotePort ?? 0))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  const scheme = options.tls ? 'https' : 'http'
  const publicUrl = `${scheme}://127.0.0.1:${port}/simple/`
  const auth = options.auth ? `${encodeURIComponent(options.auth.username)}:${encodeURIComponent(options.auth.password)}@` : ''
  return {
    url: `${scheme}://${auth}127.0.0.1:${port}/simple/`,
    publicUrl,
    requests,
    userAgents,
    connectionPorts,
    publish(project) {
      const metadata = project.noCoreMetadata ? undefined : Buffer.from(metadataOf(project))
      for (const wheel of project.wheels) {
        const bytes = wheelBytes(project, wheel)
        const filename = wheelFilename(project, wheel)
        files.set(filename, {filename, project: normalize(project.name), bytes, sha256: createHash('sha256').update(bytes).digest('hex'), ...(metadata ? {metadata} : {}), yanked: wheel.yanked === true, ...(project.requiresPython ? {requiresPython: project.requiresPython} : {})})
      }
      if (project.sdist) {
        const filename = `${module(project.name)}-${project.version}.tar.gz`
        const bytes = project.sdist === true ? Buffer.from(`not really a tarball of ${project.name}`) : sdistBytes(project, project.sdist)
        files.set(filename, {filename, project: normalize(project.name), bytes, sha256: createHash('sha256').update(bytes).digest('hex'), yanked: false})
      }
    },
    tamper(filename) {
      const stored = files.get(filename)
      if (!stored) throw new Error(`no file ${filename}`)
      stored.tampered = Buffer.concat([stored.bytes, Buffer.from('tampered')])
    },
    stall(filename) {
      stalledFiles.add(filename)
    },
    get stalled() {
      return stalled
    },
    failNext(filename, next, options = {}) {
      faults.set(filename, {next: [...next], userAgent: options.userAgent ?? ''})
    },
    close: () => {
      server.closeAllConnections()
      return new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

/**
 * The environment of a `layers` run that must see only `indexUrl`: every uv/pip index variable blanked,
 * no pip.conf, and its caches and config home under `dir` (the uv cache under `uvCacheDir` when shared).
 */
export function pipTestEnv(indexUrl: string, dir: string, uvCacheDir = `${dir}/.uv-cache`): NodeJS.ProcessEnv {
  return {
    UV_DEFAULT_INDEX: indexUrl,
    UV_INDEX_URL: '',
    UV_EXTRA_INDEX_URL: '',
    UV_INDEX: '',
    PIP_INDEX_URL: '',
    PIP_EXTRA_INDEX_URL: '',
    PIP_CONFIG_FILE: `${dir}/no-pip.conf`,
    UV_CACHE_DIR: uvCacheDir,
    XDG_CACHE_HOME: `${dir}/.cache`,
    XDG_CONFIG_HOME: `${dir}/.config`,
  }
}
