// A real npm registry over HTTP on 127.0.0.1 for tests: serves packuments (the full document, or the
// abbreviated "corgi" one when asked by Accept header, which like registry.npmjs.org carries no
// `libc` and no `scripts` but `hasInstallScript`) and gzipped tarballs with correct sha512 integrity,
// built from fixture packages the tests publish. Optional bearer-token auth per scope, and fault
// modes: the next N requests fail with a status or have their connection cut (then it recovers), a
// tarball is served corrupt (from publish, or tampered with later), or tarball requests are never answered.
// Also npm's bulk advisory endpoint as `npm audit` calls it (POST /-/npm/v1/security/advisories/bulk,
// a JSON `{name: [versions]}` body, gzipped when content-encoding says so, answered with the
// advisories that cover at least one version asked about), or a 405 for it, as registries without it answer.
import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'
import semver from 'semver'
import {gunzipSync, gzipSync} from 'node:zlib'
import {integrityOf, tarBytes, type TarEntry} from '../build/fixtures.js'

export interface FixtureVersion {
  version: string
  dependencies?: Record<string, string>
  optionalDependencies?: Record<string, string>
  peerDependencies?: Record<string, string>
  peerDependenciesMeta?: Record<string, {optional?: boolean}>
  bundleDependencies?: string[]
  bin?: Record<string, string> | string
  engines?: Record<string, string>
  os?: string[]
  cpu?: string[]
  libc?: string[]
  scripts?: Record<string, string>
  main?: string
  type?: 'module' | 'commonjs'
  exports?: unknown
  deprecated?: string
  /** The licence package.json declares (a string, or the legacy `{type}`); the abbreviated packument leaves it out, as npm's does. */
  license?: string | {type: string}
  /** The legacy list form. */
  licenses?: Array<{type: string}>
  /** Files of the package besides package.json (default: an index.js exporting name and version). */
  files?: Record<string, string | Buffer>
  /** Raw tar entries instead of files (hostile tarballs); package.json is not added. */
  entries?: TarEntry[]
  /** Packages bundled in the tarball: path below the package (`node_modules/d`) -> fixture. */
  bundled?: Record<string, Omit<FixtureVersion, 'bundled'> & {name: string}>
  /** Serve other bytes than the integrity in the packument announces. */
  corrupt?: boolean
  /** A `dist.tarball` other than this registry's URL (a hostile registry answer: another host, file:). */
  tarballUrl?: string
  /** A `dist.integrity` other than the tarball's (`''` leaves it out, as old registries with only a shasum do). */
  integrity?: string
}

interface Stored {
  manifest: Record<string, unknown>
  tarball: Buffer
  served: Buffer
}

const CORGI = 'application/vnd.npm.install-v1+json'
const MANIFEST_FIELDS = ['dependencies', 'optionalDependencies', 'peerDependencies', 'peerDependenciesMeta', 'bundleDependencies', 'bin', 'engines', 'os', 'cpu', 'libc', 'scripts', 'main', 'type', 'exports', 'deprecated', 'license', 'licenses'] as const
const CORGI_FIELDS = ['name', 'version', 'dependencies', 'optionalDependencies', 'peerDependencies', 'peerDependenciesMeta', 'bundleDependencies', 'bin', 'engines', 'os', 'cpu', 'dist', 'deprecated', 'hasInstallScript'] as const

function packageJsonOf(name: string, fixture: Omit<FixtureVersion, 'bundled'>): Record<string, unknown> {
  const json: Record<string, unknown> = {name, version: fixture.version}
  for (const field of MANIFEST_FIELDS) if (fixture[field] !== undefined) json[field] = fixture[field]
  return json
}

function defaultFiles(name: string, version: string): Record<string, string> {
  return {'index.js': `module.exports = {name: ${JSON.stringify(name)}, version: ${JSON.stringify(version)}}\n`}
}

/** An advisory as the bulk endpoint answers it. */
export interface BulkAdvisory {
  id: number
  url: string
  title: string
  severity: 'info' | 'low' | 'moderate' | 'high' | 'critical'
  vulnerable_versions: string
  cwe: string[]
  cvss: {score: number; vectorString: string | null}
}

export class NpmRegistry {
  readonly requests: Array<{method: string; url: string; accept: string; authorization?: string}> = []
  private readonly packages = new Map<string, Map<string, Stored>>()
  private readonly tags = new Map<string, Record<string, string>>()
  private readonly tokens = new Map<string, string>()
  private failures: {count: number; status: number} = {count: 0, status: 500}
  private resets = 0
  private tarballsStalled = false
  /** Tarball requests held unanswered so far (see stallTarballs). */
  stalled = 0
  private readonly advisories = new Map<string, BulkAdvisory[]>()
  private advisoriesOffered = true
  /** The bodies of the bulk advisory calls, decoded. */
  readonly advisoryQueries: Array<Record<string, string[]>> = []

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<NpmRegistry> {
    const holder: {registry?: NpmRegistry} = {}
    const server = createServer((request, response) => holder.registry!.handle(request, response))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const {port} = server.address() as AddressInfo
    holder.registry = new NpmRegistry(server, `http://127.0.0.1:${port}/`)
    return holder.registry
  }

  /** A URL where nothing listens (a port that was just bound and closed). */
  static async unreachableUrl(): Promise<string> {
    const server = createServer()
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const {port} = server.address() as AddressInfo
    await new Promise<void>((resolve) => server.close(() => resolve()))
    return `http://127.0.0.1:${port}/`
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }

  /** Publishes a version (the newest published becomes `latest` unless `tag` says otherwise). */
  publish(name: string, fixture: FixtureVersion, options: {tag?: string} = {}): this {
    const entries: TarEntry[] = fixture.entries ?? [
      {path: 'package/package.json', content: JSON.stringify(packageJsonOf(name, fixture), null, 2)},
      ...Object.entries(fixture.files ?? defaultFiles(name, fixture.version)).map(([file, content]) => ({path: `package/${file}`, content, mode: /^bin\//.test(file) ? 0o755 : 0o644})),
      ...Object.entries(fixture.bundled ?? {}).flatMap(([dir, inner]) => [
        {path: `package/${dir}/package.json`, content: JSON.stringify(packageJsonOf(inner.name, inner), null, 2)},
        ...Object.entries(inner.files ?? defaultFiles(inner.name, inner.version)).map(([file, content]) => ({path: `package/${dir}/${file}`, content})),
      ]),
    ]
    const tarball = gzipSync(tarBytes(entries), {level: 9})
    const served = fixture.corrupt ? gzipSync(tarBytes([...entries, {path: 'package/tampered.js', content: 'tampered'}]), {level: 9}) : tarball
    const scripts = fixture.scripts ?? {}
    const manifest: Record<string, unknown> = {
      ...packageJsonOf(name, fixture),
      ...(scripts.preinstall || scripts.install || scripts.postinstall ? {hasInstallScript: true} : {}),
      dist: {
        tarball: fixture.tarballUrl ?? `${this.url}${name}/-/${name.split('/').pop()}-${fixture.version}.tgz`,
        ...(fixture.integrity === '' ? {} : {integrity: fixture.integrity ?? integrityOf(tarball)}),
      },
    }
    let versions = this.packages.get(name)
    if (!versions) this.packages.set(name, (versions = new Map()))
    versions.set(fixture.version, {manifest, tarball, served})
    const tags = this.tags.get(name) ?? {}
    tags[options.tag ?? 'latest'] = fixture.version
    this.tags.set(name, tags)
    return this
  }

  /** Requires `Authorization: Bearer <token>` for every package (and tarball) of `scope` (`@private`). */
  requireToken(scope: string, token: string): this {
    this.tokens.set(scope, token)
    return this
  }

  /** The next `count` requests fail with `status`; then the registry answers again. */
  failNext(count: number, status = 500): this {
    this.failures = {count, status}
    return this
  }

  /** The next `count` requests have their connection cut without an answer (the client sees ECONNRESET). */
  resetNext(count: number): this {
    this.resets = count
    return this
  }

  /** From now on name@version's tarball is served with other bytes than its integrity (a tampered registry or proxy); the packument is unchanged. */
  tamper(name: string, version: string): this {
    const stored = this.packages.get(name)!.get(version)!
    // Still a valid gzipped tar (two more zero blocks), so only the integrity tells.
    stored.served = gzipSync(Buffer.concat([gunzipSync(stored.tarball), Buffer.alloc(1024)]))
    return this
  }

  /** Tarball requests are taken in and never answered (until stallTarballs(false) or stop()); each one held is counted in `stalled`. */
  stallTarballs(stalled = true): this {
    this.tarballsStalled = stalled
    return this
  }

  /** Adds an advisory on `name`, served by the bulk endpoint. */
  advise(name: string, advisory: BulkAdvisory): this {
    this.advisories.set(name, [...(this.advisories.get(name) ?? []), advisory])
    return this
  }

  /** The bulk advisory endpoint answers 405, as a registry without it (the one reachable here) does. */
  withoutAdvisories(): this {
    this.advisoriesOffered = false
    return this
  }

  integrity(name: string, version: string): string {
    return (this.packages.get(name)!.get(version)!.manifest.dist as {integrity: string}).integrity
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    const accept = String(request.headers.accept ?? '')
    this.requests.push({method: request.method ?? 'GET', url: request.url ?? '/', accept, authorization: request.headers.authorization})
    if (this.failures.count > 0) {
      this.failures.count--
      return this.send(response, this.failures.status, {error: 'injected failure'})
    }
    if (this.resets > 0) {
      this.resets--
      request.socket.destroy()
      return
    }
    const path = decodeURIComponent((request.url ?? '/').split('?')[0]!.slice(1))
    if (path === '-/npm/v1/security/advisories/bulk') return this.bulkAdvisories(request, response)
    const tarball = /^(.+)\/-\/[^/]+-([^/]+)\.tgz$/.exec(path)
    const name = tarball ? tarball[1]! : path
    const scope = name.startsWith('@') ? name.split('/')[0]! : undefined
    const token = scope ? this.tokens.get(scope) : undefined
    if (token && request.headers.authorization !== `Bearer ${token}`) return this.send(response, 401, {error: 'authentication required'})
    const versions = this.packages.get(name)
    if (!versions) return this.send(response, 404, {error: 'Not found'})
    if (tarball) {
      const stored = versions.get(tarball[2]!)
      if (!stored) return this.send(response, 404, {error: 'Not found'})
      if (this.tarballsStalled) {
        this.stalled++
        return
      }
      response.writeHead(200, {'content-type': 'application/octet-stream', 'content-length': stored.served.length})
      response.end(stored.served)
      return
    }
    const corgi = accept.includes(CORGI)
    const packument: Record<string, unknown> = {
      name,
      'dist-tags': this.tags.get(name),
      versions: Object.fromEntries(
        [...versions].map(([version, stored]) => [
          version,
          corgi ? Object.fromEntries(CORGI_FIELDS.filter((field) => stored.manifest[field] !== undefined).map((field) => [field, stored.manifest[field]])) : stored.manifest,
        ]),
      ),
    }
    if (!corgi) packument._id = name
    this.send(response, 200, packument, corgi ? CORGI : 'application/json')
  }

  private bulkAdvisories(request: IncomingMessage, response: ServerResponse): void {
    if (request.method !== 'POST' || !this.advisoriesOffered) return this.send(response, 405, {error: 'Method Not Allowed'})
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      let query: Record<string, string[]>
      try {
        const raw = Buffer.concat(chunks)
        query = JSON.parse((request.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8')) as Record<string, string[]>
        if (!query || typeof query !== 'object' || Object.values(query).some((versions) => !Array.isArray(versions))) throw new Error('not {name: [versions]}')
      } catch (error) {
        return this.send(response, 400, {error: `invalid body: ${(error as Error).message}`})
      }
      this.advisoryQueries.push(query)
      const answer: Record<string, BulkAdvisory[]> = {}
      for (const [name, versions] of Object.entries(query)) {
        const covering = (this.advisories.get(name) ?? []).filter((advisory) => versions.some((version) => semver.satisfies(version, advisory.vulnerable_versions, {includePrerelease: true})))
        if (covering.length > 0) answer[name] = covering
      }
      this.send(response, 200, answer)
    })
  }

  private send(response: ServerResponse, status: number, body: unknown, type = 'application/json'): void {
    const text = JSON.stringify(body)
    // Revalidated on every use, so versions published during a test are seen at once (tarballs are cached by integrity).
    response.writeHead(status, {'content-type': type, 'content-length': Buffer.byteLength(text), 'cache-control': 'no-cache'})
    response.end(text)
  }
}
