// Owns talking to an OCI distribution registry (the distribution spec's HTTP API): manifests and blobs
// read with their digests verified (a manifest by digest, every blob), blobs checked (HEAD), mounted
// from another repository of the same registry, or uploaded (POST, then a monolithic PUT ?digest=),
// manifests put by tag or digest. Authentication follows the registry's challenge (WWW-Authenticate):
// Basic with the credentials given (ECR's GetAuthorizationToken), or Bearer with a token fetched from
// the challenge's realm for its service and scope (anonymously, or with the credentials), as
// public.ecr.aws and Docker Hub ask. Every request has a connect and a read (inactivity) timeout and,
// when it is slow, says on the terminal what it waits for (as AWS calls do); an
// operation that got no answer or a 429/5xx is tried again (3 attempts in all, backing off), and every
// failure names the registry, the repository and the manifest or blob. An interrupt (the signal) cuts
// the request in flight, except a manifest put (it finishes: whether the image is visible is then
// known), and starts nothing new.
import {OperationalError, UserInputError} from '../errors/index.js'
import {WAIT_NOTICE_MS, WAIT_REPEAT_MS, type AwsTimeouts} from '../aws/time-bounds.js'
import type {EmitEvent} from '../events.js'
import {httpExchange, type HttpAnswer} from './http.js'
import {DIGEST_PATTERN, MANIFEST_ACCEPT, sha256Digest} from './oci.js'

export interface RegistryCredentials {
  username: string
  password: string
}

export interface RegistryOptions {
  /** The registry's host (and port) as image references name it, e.g. 123456789012.dkr.ecr.eu-west-1.amazonaws.com. */
  host: string
  /** http or https; default https, http for loopback hosts (Docker treats those as insecure registries too). */
  scheme?: 'http' | 'https'
  credentials?: RegistryCredentials
  timeouts: AwsTimeouts
  signal?: AbortSignal
  /** For the "waiting for ..." line of a slow request. */
  emit?: EmitEvent
}

type Answer = HttpAnswer

export interface FetchedManifest {
  mediaType: string
  bytes: Buffer
  digest: string
}

const RETRY_ATTEMPTS = 3
const RETRY_BASE_MS = 250
const LOOPBACK = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?$/

export function defaultScheme(host: string): 'http' | 'https' {
  return LOOPBACK.test(host) ? 'http' : 'https'
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value
}

/** `Bearer realm="...",service="...",scope="..."` -> {scheme, params}. */
export function parseChallenge(header: string): {scheme: string; params: Record<string, string>} {
  const match = /^(\w+)\s*(.*)$/s.exec(header.trim())
  const params: Record<string, string> = {}
  for (const param of (match?.[2] ?? '').matchAll(/(\w+)=(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g)) params[param[1]!.toLowerCase()] = param[2] ?? param[3] ?? ''
  return {scheme: (match?.[1] ?? '').toLowerCase(), params}
}

export class Registry {
  readonly host: string
  private readonly origin: string
  private authorization: string | undefined
  private readonly tokens = new Map<string, string>()

  constructor(private readonly options: RegistryOptions) {
    this.host = options.host
    this.origin = `${options.scheme ?? defaultScheme(options.host)}://${options.host}`
  }

  private fail(what: string, detail: string, cause?: unknown, transient = false): OperationalError {
    return new OperationalError('ERR_LAYERS_REGISTRY', `Registry ${this.host}: ${what}: ${detail}.`, {
      hint: 'Check the registry address and your access to the repository (for ECR: the repository exists in the account and region, and the credentials may push); run again when the registry answers.',
      details: {registry: this.host, ...(transient ? {transient: true} : {})},
      ...(cause === undefined ? {} : {cause}),
    })
  }

  /**
   * Runs one registry operation, again (up to RETRY_ATTEMPTS in all, backing off) when it ended without
   * an answer or with 429/5xx: every operation here is idempotent (reads, digest-addressed writes; an
   * upload starts a new session). An interrupt stops the retries.
   */
  private async retrying<T>(operation: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      if (this.options.signal?.aborted) throw this.options.signal.reason
      try {
        return await operation()
      } catch (error) {
        if (this.options.signal?.aborted) throw this.options.signal.reason
        const transient = error instanceof OperationalError && error.details.transient === true
        if (!transient || attempt >= RETRY_ATTEMPTS) throw error
        await new Promise((resolve) => setTimeout(resolve, RETRY_BASE_MS * 2 ** (attempt - 1)))
      }
    }
  }

  /** One HTTP exchange with the connect and read timeouts, cut by an interrupt unless `finish`; no auth handling. */
  private async exchange(method: string, url: URL, headers: Record<string, string>, body: Buffer | undefined, what: string, finish = false): Promise<Answer> {
    const {emit} = this.options
    const start = Date.now()
    let timer: NodeJS.Timeout | undefined
    const notice = () => {
      emit?.({type: 'progress', phase: 'waiting', message: `for registry ${this.host}: ${what} (${Math.round((Date.now() - start) / 1000)} s)`})
      timer = setTimeout(notice, WAIT_REPEAT_MS).unref()
    }
    if (emit) timer = setTimeout(notice, WAIT_NOTICE_MS).unref()
    try {
      return await httpExchange(method, url, headers, body, this.options.timeouts, finish ? undefined : this.options.signal)
    } catch (error) {
      throw this.fail(what, (error as Error).message, error, true)
    } finally {
      clearTimeout(timer)
    }
  }

  /** Answers the registry's 401 challenge once: Basic with the credentials, or a Bearer token for the challenge's scope. */
  private async authorize(challenge: string, what: string): Promise<string> {
    const {scheme, params} = parseChallenge(challenge)
    const credentials = this.options.credentials
    const basic = credentials ? `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}` : undefined
    if (scheme === 'basic') {
      if (!basic) throw this.fail(what, 'the registry asks for a user name and password (Basic auth) and none are known for it')
      return basic
    }
    if (scheme !== 'bearer' || !params.realm) throw this.fail(what, `unsupported authentication challenge ${JSON.stringify(challenge)}`)
    const key = `${params.realm}\0${params.service ?? ''}\0${params.scope ?? ''}`
    const known = this.tokens.get(key)
    if (known) return known
    const realm = new URL(params.realm)
    if (params.service) realm.searchParams.set('service', params.service)
    if (params.scope) realm.searchParams.set('scope', params.scope)
    const answer = await this.exchange('GET', realm, basic ? {authorization: basic} : {}, undefined, `${what} (token from ${realm.host})`)
    if (answer.status !== 200) throw this.fail(what, `the token service ${realm.origin}${realm.pathname} answered ${answer.status} for scope ${params.scope ?? '(none)'}`)
    let token: string | undefined
    try {
      const parsed = JSON.parse(answer.body.toString('utf8')) as {token?: string; access_token?: string}
      token = parsed.token ?? parsed.access_token
    } catch {
      token = undefined
    }
    if (!token) throw this.fail(what, `the token service ${realm.origin}${realm.pathname} answered no token`)
    const bearer = `Bearer ${token}`
    this.tokens.set(key, bearer)
    return bearer
  }

  /** A request with authentication: on 401 the challenge is answered and the request sent again, once. */
  private async send(method: string, path: string, headers: Record<string, string>, body: Buffer | undefined, what: string, finish = false): Promise<Answer> {
    const url = new URL(path, this.origin)
    const withAuth = () => (this.authorization ? {...headers, authorization: this.authorization} : headers)
    let answer = await this.exchange(method, url, withAuth(), body, what, finish)
    const challenge = first(answer.headers['www-authenticate'])
    if (answer.status === 401 && challenge) {
      this.authorization = await this.authorize(challenge, what)
      answer = await this.exchange(method, url, withAuth(), body, what, finish)
    }
    if (answer.status === 401 || answer.status === 403) throw this.fail(what, `access denied (HTTP ${answer.status}${errorText(answer)})`)
    if (answer.status === 429 || answer.status >= 500) throw this.fail(what, `HTTP ${answer.status}${errorText(answer)}`, undefined, true)
    return answer
  }

  manifest(repository: string, reference: string): Promise<FetchedManifest> {
    return this.retrying(() => this.manifestOnce(repository, reference))
  }

  private async manifestOnce(repository: string, reference: string): Promise<FetchedManifest> {
    const what = `manifest ${repository}${reference.startsWith('sha256:') ? '@' : ':'}${reference}`
    const answer = await this.send('GET', `/v2/${repository}/manifests/${reference}`, {accept: MANIFEST_ACCEPT}, undefined, what)
    if (answer.status === 404) throw new UserInputError('ERR_LAYERS_IMAGE_NOT_FOUND', `Registry ${this.host}: ${what} does not exist.`, {hint: 'Check the image reference (repository, tag or digest) of --base or the function\'s base image.', details: {registry: this.host, repository, reference}})
    if (answer.status !== 200) throw this.fail(what, `HTTP ${answer.status}${errorText(answer)}`)
    const digest = sha256Digest(answer.body)
    if (reference.startsWith('sha256:') && digest !== reference) throw this.fail(what, `the manifest's bytes hash to ${digest}, not the digest asked for`)
    const mediaType = (first(answer.headers['content-type']) ?? '').split(';')[0]!.trim()
    let declared: string | undefined
    try {
      declared = (JSON.parse(answer.body.toString('utf8')) as {mediaType?: string}).mediaType
    } catch {
      throw this.fail(what, 'the manifest is not JSON')
    }
    return {mediaType: declared ?? mediaType, bytes: answer.body, digest}
  }

  blob(repository: string, digest: string): Promise<Buffer> {
    return this.retrying(() => this.blobOnce(repository, digest))
  }

  private async blobOnce(repository: string, digest: string): Promise<Buffer> {
    const what = `blob ${digest} of ${repository}`
    if (!DIGEST_PATTERN.test(digest)) throw this.fail(what, 'not a sha256 digest')
    let answer = await this.send('GET', `/v2/${repository}/blobs/${digest}`, {}, undefined, what)
    // Registries answer blobs with a redirect to storage (S3, a CDN); that URL carries its own authorization.
    for (let hops = 0; hops < 5 && answer.status >= 300 && answer.status < 400; hops++) {
      const location = first(answer.headers.location)
      if (!location) break
      answer = await this.exchange('GET', new URL(location, this.origin), {}, undefined, what)
    }
    if (answer.status !== 200) throw this.fail(what, `HTTP ${answer.status}${errorText(answer)}`)
    const actual = sha256Digest(answer.body)
    if (actual !== digest) throw this.fail(what, `the bytes hash to ${actual}`)
    return answer.body
  }

  hasBlob(repository: string, digest: string): Promise<boolean> {
    return this.retrying(() => this.hasBlobOnce(repository, digest))
  }

  private async hasBlobOnce(repository: string, digest: string): Promise<boolean> {
    const what = `blob ${digest} of ${repository}`
    const answer = await this.send('HEAD', `/v2/${repository}/blobs/${digest}`, {}, undefined, what)
    if (answer.status === 200) return true
    if (answer.status === 404) return false
    throw this.fail(what, `HEAD answered HTTP ${answer.status}`)
  }

  /** Mounts a blob from another repository of this registry; false when the registry did not (it then opened an upload, left unused). */
  mountBlob(repository: string, digest: string, from: string): Promise<boolean> {
    return this.retrying(() => this.mountBlobOnce(repository, digest, from))
  }

  private async mountBlobOnce(repository: string, digest: string, from: string): Promise<boolean> {
    const what = `mounting blob ${digest} from ${from} into ${repository}`
    const answer = await this.send('POST', `/v2/${repository}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`, {'content-length': '0'}, undefined, what)
    if (answer.status === 201) return true
    if (answer.status === 202) return false
    throw this.fail(what, `HTTP ${answer.status}${errorText(answer)}`)
  }

  uploadBlob(repository: string, digest: string, bytes: Buffer): Promise<void> {
    return this.retrying(() => this.uploadBlobOnce(repository, digest, bytes))
  }

  private async uploadBlobOnce(repository: string, digest: string, bytes: Buffer): Promise<void> {
    const what = `uploading blob ${digest} (${bytes.length} bytes) to ${repository}`
    const start = await this.send('POST', `/v2/${repository}/blobs/uploads/`, {'content-length': '0'}, undefined, what)
    const location = first(start.headers.location)
    if (start.status !== 202 || !location) throw this.fail(what, `starting the upload answered HTTP ${start.status}${errorText(start)}`)
    const url = new URL(location, this.origin)
    url.searchParams.set('digest', digest)
    const put = await this.send('PUT', `${url.pathname}${url.search}`, {'content-type': 'application/octet-stream'}, bytes, what)
    if (put.status !== 201) throw this.fail(what, `HTTP ${put.status}${errorText(put)}`)
  }

  /** Puts a manifest under a tag or its digest; returns the digest the registry reports (checked against the bytes). */
  putManifest(repository: string, reference: string, mediaType: string, bytes: Buffer): Promise<string> {
    return this.retrying(() => this.putManifestOnce(repository, reference, mediaType, bytes))
  }

  private async putManifestOnce(repository: string, reference: string, mediaType: string, bytes: Buffer): Promise<string> {
    const digest = sha256Digest(bytes)
    const what = `putting manifest ${digest} as ${repository}${reference.startsWith('sha256:') ? '@' : ':'}${reference}`
    const answer = await this.send('PUT', `/v2/${repository}/manifests/${reference}`, {'content-type': mediaType}, bytes, what, true)
    if (answer.status !== 201) throw this.fail(what, `HTTP ${answer.status}${errorText(answer)}`)
    const reported = first(answer.headers['docker-content-digest'])
    if (reported && reported !== digest) throw this.fail(what, `the registry reports digest ${reported}`)
    return digest
  }
}

/** The first error of a registry's JSON error body (`{"errors":[{"code","message"}]}`), for messages. */
function errorText(answer: Answer): string {
  try {
    const parsed = JSON.parse(answer.body.toString('utf8')) as {errors?: Array<{code?: string; message?: string}>}
    const error = parsed.errors?.[0]
    return error ? `: ${error.code ?? ''} ${error.message ?? ''}`.trimEnd() : ''
  } catch {
    return ''
  }
}
