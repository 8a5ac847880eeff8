// Container image code of Lambda functions (PackageType Image), as the Lambda API reference and
// Lambda's answers describe it: an ImageUri names an ECR repository of the function's region
// (ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPO with a :tag or @sha256:digest; a URI of another
// registry is not a valid source image), Lambda resolves it to a digest when the function is created or
// its code updated (ResolvedImageUri; CodeSha256 is that digest's hex, CodeSize 0), and an image that
// is not there, or is another account's (no ECR repository policy is modelled, so Lambda may never
// read it), is refused. The images are the ECR double's (ecr.ts, in front of the test's loopback
// registry), whose repository URIs use the registry's own host for every account and region: such a
// URI is taken as an ECR URI of the caller's account and region.
import {ApiError} from './common.js'

/** Where Lambda looks ECR images up: the ECR double (ecr.ts `imageOf`) and the host its repository URIs carry. */
export interface ImageSource {
  /** host:port of the registry behind the ECR double. */
  host: string
  /** The digest a `HOST/REPO:TAG` or `HOST/REPO@sha256:...` URI names in the caller's account and region; undefined when there is no such image. */
  imageOf(ctx: {accountId: string; region: string}, imageUri: string): Promise<{imageDigest: string} | undefined>
}

export interface ImageConfig {
  EntryPoint?: string[]
  Command?: string[]
  WorkingDirectory?: string
}

/** The image code of a function record. */
export interface FunctionImage {
  uri: string
  resolved: string
  config?: ImageConfig
}

const IMAGE_URI = /^([^/]+)\/([a-z0-9]+(?:[._/-][a-z0-9]+)*)(?:@(sha256:[a-f0-9]{64})|:([\w][\w.-]{0,127}))$/
const ECR_HOST = /^(\d{12})\.dkr\.ecr\.([a-z]{2}(?:-gov)?-[a-z]+-\d)\.amazonaws\.com(?:\.cn)?$/

function invalid(message: string): ApiError {
  return new ApiError(400, 'InvalidParameterValueException', message)
}

/** The image an ImageUri names, resolved to its digest, as CreateFunction/UpdateFunctionCode check it. */
export async function resolveImage(images: ImageSource | undefined, ctx: {accountId: string; region: string}, uri: unknown): Promise<{uri: string; resolved: string; digest: string}> {
  const notValid = () => invalid(`Source image ${String(uri)} is not valid. Provide a valid source image.`)
  if (typeof uri !== 'string' || uri.length > 256) throw notValid()
  const match = IMAGE_URI.exec(uri)
  if (!match) throw notValid()
  const [, host, repository, digest, tag] = match as unknown as [string, string, string, string | undefined, string | undefined]
  const ecr = ECR_HOST.exec(host)
  // Lambda reads ECR of the function's region only; any other registry is no source at all.
  if (ecr ? ecr[2] !== ctx.region : host !== images?.host) throw notValid()
  if (ecr && ecr[1] !== ctx.accountId) throw new ApiError(403, 'AccessDeniedException', 'Lambda does not have permission to access the ECR image. Check the ECR permissions.')
  const reference = digest ? `@${digest}` : `:${tag!}`
  const found = images ? await images.imageOf(ctx, `${images.host}/${repository}${reference}`) : undefined
  if (!found) throw invalid(`Source image ${uri} does not exist. Provide a valid source image.`)
  return {uri, resolved: `${host}/${repository}@${found.imageDigest}`, digest: found.imageDigest}
}

/** ImageConfig as Lambda validates it (EntryPoint and Command at most 1500 strings, WorkingDirectory at most 1000 characters). */
export function checkImageConfig(value: unknown): ImageConfig {
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new ApiError(400, 'InvalidRequestContentException', 'Could not parse request body into json: Could not parse payload into json')
  const raw = value as Record<string, unknown>
  const problems: string[] = []
  const list = (field: 'EntryPoint' | 'Command'): string[] | undefined => {
    const entry = raw[field]
    if (entry === undefined) return undefined
    if (!Array.isArray(entry) || entry.some((item) => typeof item !== 'string') || entry.length > 1500) {
      problems.push(`Value at 'imageConfig.${field[0]!.toLowerCase()}${field.slice(1)}' failed to satisfy constraint: Member must have length less than or equal to 1500`)
      return undefined
    }
    return entry as string[]
  }
  const entryPoint = list('EntryPoint')
  const command = list('Command')
  const dir = raw.WorkingDirectory
  if (dir !== undefined && (typeof dir !== 'string' || dir.length > 1000)) problems.push(`Value at 'imageConfig.workingDirectory' failed to satisfy constraint: Member must have length less than or equal to 1000`)
  if (problems.length > 0) throw new ApiError(400, 'ValidationException', `${problems.length} validation error${problems.length > 1 ? 's' : ''} detected: ${problems.join('; ')}`)
  return {...(entryPoint ? {EntryPoint: entryPoint} : {}), ...(command ? {Command: command} : {}), ...(typeof dir === 'string' ? {WorkingDirectory: dir} : {})}
}
