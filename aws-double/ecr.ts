// Amazon ECR over JSON 1.1 (`X-Amz-Target: AmazonEC2ContainerRegistry_V20150921.<Operation>`, SigV4
// service `ecr`), in front of a real OCI distribution registry the test runs (test/support/oci-registry.ts)
// and names in the server's `ecr` option: GetAuthorizationToken (base64 `AWS:<password>`, the registry
// URL as proxyEndpoint, expiring after 12 hours as ECR's do), CreateRepository / DescribeRepositories
// (repositories per account and region, as ECR keeps them; the name rules and the
// RepositoryAlreadyExists / RepositoryNotFound errors of the API reference), and DescribeImages /
// BatchGetImage answered from the registry itself (manifests by tag or digest, ImageNotFound). On AWS
// each account and region has its own registry host; here all share the one loopback registry, so a
// repository name is one namespace on the wire. `imageOf` resolves an ImageUri the way Lambda checks it
// (the repository exists for the caller, the tag or digest exists in the registry).
import {ApiError, json11, serverNow, type Reply, type RequestContext} from './common.js'

export const ECR_TARGET_PREFIX = 'AmazonEC2ContainerRegistry_V20150921.'

export interface EcrOptions {
  /** The registry's origin, e.g. http://127.0.0.1:5000 (proxyEndpoint of every authorization token). */
  registry: string
  /** The password of user `AWS` the registry accepts (Basic auth). */
  password: string
}

interface RepositoryRecord {
  name: string
  createdAt: number
}

export interface ImageRef {
  repositoryName: string
  imageDigest: string
}

const MANIFEST_TYPES = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
]

const REPOSITORY_NAME = /^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/
const TAG = /^[\w][\w.-]{0,127}$/
const DIGEST = /^sha256:[0-9a-f]{64}$/
const REGISTRY_TIMEOUT_MS = 10_000
const TOKEN_LIFETIME_S = 12 * 60 * 60

function invalid(message: string): ApiError {
  return new ApiError(400, 'InvalidParameterException', message)
}

function checkRepositoryName(name: unknown): string {
  if (typeof name !== 'string' || name.length === 0) throw invalid("1 validation error detected: Value null at 'repositoryName' failed to satisfy constraint: Member must not be null")
  if (name.length < 2 || name.length > 256 || !REPOSITORY_NAME.test(name)) {
    throw invalid(
      `Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must satisfy regular expression '(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*' and must be between 2 and 256 characters'`,
    )
  }
  return name
}

interface ImageId {
  imageDigest?: string
  imageTag?: string
}

function checkImageIds(ids: unknown): ImageId[] {
  if (!Array.isArray(ids) || ids.length === 0 || ids.length > 100) throw invalid("Invalid parameter at 'imageIds' failed to satisfy constraint: 'Member must have length between 1 and 100'")
  return ids.map((id: unknown) => {
    const {imageDigest, imageTag} = (id ?? {}) as {imageDigest?: unknown; imageTag?: unknown}
    if (imageDigest === undefined && imageTag === undefined) throw invalid('Invalid parameter: an image id needs an imageDigest or an imageTag')
    if (imageDigest !== undefined && (typeof imageDigest !== 'string' || !DIGEST.test(imageDigest))) throw invalid(`Invalid parameter at 'imageDigest' failed to satisfy constraint: 'Invalid digest ${String(imageDigest)}'`)
    if (imageTag !== undefined && (typeof imageTag !== 'string' || !TAG.test(imageTag))) throw invalid(`Invalid parameter at 'imageTag' failed to satisfy constraint: 'Invalid tag ${String(imageTag)}'`)
    return {...(imageDigest === undefined ? {} : {imageDigest}), ...(imageTag === undefined ? {} : {imageTag})} as ImageId
  })
}

function describeId(id: ImageId): string {
  return `{imageDigest:'${id.imageDigest ?? 'null'}', imageTag:'${id.imageTag ?? 'null'}'}`
}

/** A manifest as the registry holds it: its digest, media type, bytes, and the tags pointing at it. */
interface StoredManifest {
  digest: string
  mediaType: string
  body: string
  size: number
}

export class Ecr {
  private readonly repositories = new Map<string, RepositoryRecord>()
  /** When the server first saw each manifest digest (ECR's imagePushedAt). */
  private readonly firstSeen = new Map<string, number>()

  constructor(private readonly options: EcrOptions | undefined) {}

  private configured(): EcrOptions {
    if (!this.options) throw new ApiError(500, 'ServerException', 'aws-double: ECR needs the `ecr` option (a registry URL and password, see test/support/oci-registry.ts)')
    return this.options
  }

  private host(): string {
    return new URL(this.configured().registry).host
  }

  private key(ctx: {accountId: string; region: string}, name: string): string {
    return `${ctx.accountId}/${ctx.region}/${name}`
  }

  private repositoryOf(ctx: {accountId: string; region: string}, name: string): RepositoryRecord {
    const record = this.repositories.get(this.key(ctx, name))
    if (!record) throw new ApiError(400, 'RepositoryNotFoundException', `The repository with name '${name}' does not exist in the registry with id '${ctx.accountId}'`)
    return record
  }

  private repositoryJson(ctx: {accountId: string; region: string}, record: RepositoryRecord): Record<string, unknown> {
    return {
      repositoryArn: `arn:aws:ecr:${ctx.region}:${ctx.accountId}:repository/${record.name}`,
      registryId: ctx.accountId,
      repositoryName: record.name,
      repositoryUri: `${this.host()}/${record.name}`,
      createdAt: record.createdAt / 1000,
      imageTagMutability: 'MUTABLE',
      imageScanningConfiguration: {scanOnPush: false},
      encryptionConfiguration: {encryptionType: 'AES256'},
    }
  }

  /** GET (or HEAD) of a manifest from the registry; undefined when it has none under that reference. */
  private async manifest(repository: string, reference: string): Promise<StoredManifest | undefined> {
    const {registry, password} = this.configured()
    let response: Response
    try {
      response = await fetch(`${registry}/v2/${repository}/manifests/${reference}`, {
        headers: {accept: MANIFEST_TYPES.join(', '), authorization: `Basic ${Buffer.from(`AWS:${password}`).toString('base64')}`},
        signal: AbortSignal.timeout(REGISTRY_TIMEOUT_MS),
      })
    } catch (error) {
      throw new ApiError(500, 'ServerException', `aws-double: the registry ${registry} did not answer: ${(error as Error).message}`)
    }
    if (response.status === 404) return undefined
    if (!response.ok) throw new ApiError(500, 'ServerException', `aws-double: the registry answered ${response.status} for ${repository}:${reference}`)
    const body = await response.text()
    const digest = response.headers.get('docker-content-digest') ?? ''
    const mediaType = (response.headers.get('content-type') ?? '').split(';')[0]!.trim()
    if (!this.firstSeen.has(digest)) this.firstSeen.set(digest, serverNow())
    return {digest, mediaType, body, size: Buffer.byteLength(body)}
  }

  private async tagsOf(repository: string, digest: string): Promise<string[]> {
    const {registry, password} = this.configured()
    const response = await fetch(`${registry}/v2/${repository}/tags/list`, {
      headers: {authorization: `Basic ${Buffer.from(`AWS:${password}`).toString('base64')}`},
      signal: AbortSignal.timeout(REGISTRY_TIMEOUT_MS),
    }).catch((error: Error) => {
      throw new ApiError(500, 'ServerException', `aws-double: the registry ${registry} did not answer: ${error.message}`)
    })
    if (response.status === 404) return []
    const {tags} = (await response.json()) as {tags?: string[] | null}
    const matching: string[] = []
    for (const tag of (tags ?? []).sort()) if ((await this.manifest(repository, tag))?.digest === digest) matching.push(tag)
    return matching
  }

  /**
   * The repository and digest an ImageUri (`HOST/REPO:TAG`, `HOST/REPO@sha256:...`) names, when the
   * repository exists for this account and region and the registry holds the image; else undefined.
   */
  async imageOf(ctx: {accountId: string; region: string}, imageUri: string): Promise<ImageRef | undefined> {
    const match = /^([^/]+)\/(.+?)(?:@(sha256:[0-9a-f]{64})|:([\w][\w.-]{0,127}))$/.exec(imageUri)
    if (!match || match[1] !== this.host()) return undefined
    const repositoryName = match[2]!
    if (!this.repositories.has(this.key(ctx, repositoryName))) return undefined
    const stored = await this.manifest(repositoryName, match[3] ?? match[4]!)
    return stored ? {repositoryName, imageDigest: stored.digest} : undefined
  }

  async handle(ctx: RequestContext): Promise<Reply> {
    let input: Record<string, unknown>
    try {
      input = ctx.body.length === 0 ? {} : (JSON.parse(ctx.body.toString('utf8')) as Record<string, unknown>)
    } catch {
      throw new ApiError(400, 'SerializationException', 'Start of structure or map found where not expected.')
    }
    switch (ctx.operation) {
      case 'GetAuthorizationToken': {
        const {registry, password} = this.configured()
        return json11({
          authorizationData: [
            {
              authorizationToken: Buffer.from(`AWS:${password}`).toString('base64'),
              expiresAt: Math.floor(serverNow() / 1000) + TOKEN_LIFETIME_S,
              proxyEndpoint: registry,
            },
          ],
        })
      }
      case 'CreateRepository': {
        const name = checkRepositoryName(input.repositoryName)
        if (this.repositories.has(this.key(ctx, name))) throw new ApiError(400, 'RepositoryAlreadyExistsException', `The repository with name '${name}' already exists in the registry with id '${ctx.accountId}'`)
        const record = {name, createdAt: serverNow()}
        this.repositories.set(this.key(ctx, name), record)
        return json11({repository: this.repositoryJson(ctx, record)})
      }
      case 'DescribeRepositories': {
        const names = input.repositoryNames
        if (names !== undefined) {
          if (!Array.isArray(names) || names.length === 0 || names.length > 100) throw invalid("Invalid parameter at 'repositoryNames' failed to satisfy constraint: 'Member must have length between 1 and 100'")
          return json11({repositories: names.map((name) => this.repositoryJson(ctx, this.repositoryOf(ctx, checkRepositoryName(name))))})
        }
        const prefix = `${ctx.accountId}/${ctx.region}/`
        const own = [...this.repositories.entries()].filter(([key]) => key.startsWith(prefix)).map(([, record]) => record)
        return json11({repositories: own.sort((a, b) => a.name.localeCompare(b.name)).map((record) => this.repositoryJson(ctx, record))})
      }
      case 'DescribeImages': {
        const name = checkRepositoryName(input.repositoryName)
        this.repositoryOf(ctx, name)
        if (input.imageIds === undefined) throw invalid('aws-double: DescribeImages without imageIds (listing a repository) is not served')
        const details: unknown[] = []
        for (const id of checkImageIds(input.imageIds)) {
          const stored = await this.manifest(name, id.imageDigest ?? id.imageTag!)
          if (!stored || (id.imageDigest && id.imageTag && (await this.manifest(name, id.imageTag))?.digest !== id.imageDigest)) {
            throw new ApiError(400, 'ImageNotFoundException', `The image with imageId ${describeId(id)} does not exist within the repository with name '${name}' in the registry with id '${ctx.accountId}'`)
          }
          const layers = ((JSON.parse(stored.body) as {layers?: Array<{size?: number}>}).layers ?? []).reduce((sum, layer) => sum + (layer.size ?? 0), 0)
          const tags = await this.tagsOf(name, stored.digest)
          details.push({
            registryId: ctx.accountId,
            repositoryName: name,
            imageDigest: stored.digest,
            ...(tags.length ? {imageTags: tags} : {}),
            imageSizeInBytes: layers,
            imagePushedAt: (this.firstSeen.get(stored.digest) ?? serverNow()) / 1000,
            imageManifestMediaType: stored.mediaType,
          })
        }
        return json11({imageDetails: details})
      }
      case 'BatchGetImage': {
        const name = checkRepositoryName(input.repositoryName)
        this.repositoryOf(ctx, name)
        const accepted = Array.isArray(input.acceptedMediaTypes) ? (input.acceptedMediaTypes as string[]) : undefined
        const images: unknown[] = []
        const failures: unknown[] = []
        for (const id of checkImageIds(input.imageIds)) {
          const stored = await this.manifest(name, id.imageDigest ?? id.imageTag!)
          if (!stored || (id.imageDigest && id.imageTag && (await this.manifest(name, id.imageTag))?.digest !== id.imageDigest)) {
            failures.push({imageId: id, failureCode: 'ImageNotFound', failureReason: 'Requested image not found'})
          } else if (accepted && !accepted.includes(stored.mediaType)) {
            failures.push({imageId: id, failureCode: 'UnsupportedImageType', failureReason: `The image's manifest media type ${stored.mediaType} is not among the accepted ones`})
          } else {
            images.push({registryId: ctx.accountId, repositoryName: name, imageId: {imageDigest: stored.digest, ...(id.imageTag ? {imageTag: id.imageTag} : {})}, imageManifest: stored.body, imageManifestMediaType: stored.mediaType})
          }
        }
        return json11({images, failures})
      }
      default:
        throw new ApiError(400, 'UnknownOperationException', `aws-double: ECR operation ${ctx.operation} is not served`)
    }
  }
}
