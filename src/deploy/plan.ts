// Owns planning `layers deploy` and `layers rollback`, as pure functions over plain data: the S3 key a
// function package is uploaded under (content-addressed, beside the layer artifacts), whether a package
// fits a direct upload (ZipFile) within Lambda's request limit, where an alias
// is to point after a deploy (moved to the new version, or a weighted shift that leaves it on its
// version and sends a share to the new one) and after a rollback, and the record of the version an
// alias pointed at before, which deploy writes into the alias's description in the same UpdateAlias
// call that moves it (so it lives with the alias in its account: a rollback works from any machine or
// CI job, whoever deployed last, and the record cannot drift from the move); and the ECR image an
// --image-uri names (by digest only).
import {artifactObjectKey} from '../publish/plan.js'

/** Where an alias points: its version, and the one other version it sends a share of the traffic to (empty: none). */
export interface AliasRoute {
  functionVersion: string
  /** Version -> weight (0..1) of RoutingConfig.AdditionalVersionWeights. */
  weights: Record<string, number>
  description: string
}

export interface AliasState extends AliasRoute {
  name: string
  revisionId: string
}

/** Content-addressed key of a function package in the artifact bucket: <prefix>functions/<function>/<sha256 hex>.zip. */
export function packageObjectKey(prefix: string, functionKey: string, sha256Hex: string): string {
  return artifactObjectKey(prefix, `functions/${functionKey}`, sha256Hex)
}

/**
 * Lambda refuses an UpdateFunctionCode request of 69,905,067 bytes or more (RequestEntityTooLargeException):
 * its 50 MB direct-upload limit (52,428,800 bytes of zip) once the zip is base64-encoded in the JSON body.
 */
export const DIRECT_UPLOAD_MAX_REQUEST = 69_905_067
/** Room in that body for everything but the zip's base64 (the field names, the RevisionId). */
const REQUEST_OVERHEAD = 256

/** Whether a zip of this many bytes goes to UpdateFunctionCode as ZipFile within Lambda's request limit. */
export function fitsDirectUpload(zipBytes: number): boolean {
  return 4 * Math.ceil(zipBytes / 3) + REQUEST_OVERHEAD < DIRECT_UPLOAD_MAX_REQUEST
}

const PREVIOUS = /^layers: previous version (\d+)\b/

/** The alias description that records the version it pointed at before (at most 256 characters, as Lambda allows). */
export function previousVersionDescription(version: string): string {
  return `layers: previous version ${version} (layers rollback moves the alias back to it)`
}

/** The version an alias pointed at before layers deploy moved it, from its description; undefined when none is recorded. */
export function recordedPreviousVersion(description: string): string | undefined {
  return PREVIOUS.exec(description)?.[1]
}

/** Whether the alias routes as `route` does (its version and weights; the description is not compared). */
export function sameRoute(alias: Pick<AliasRoute, 'functionVersion' | 'weights'>, route: Pick<AliasRoute, 'functionVersion' | 'weights'>): boolean {
  const a = Object.entries(alias.weights).sort()
  const b = Object.entries(route.weights).sort()
  return alias.functionVersion === route.functionVersion && a.length === b.length && a.every(([version, weight], index) => b[index]![0] === version && b[index]![1] === weight)
}

export type AliasPlan = {action: 'noop'} | {action: 'create' | 'update'; route: AliasRoute} | {action: 'refuse'; reason: string}

/**
 * Where alias `name` goes for the new `version`: all traffic (traffic undefined or 100), or `traffic`
 * percent of it with the alias left on its version. The version it pointed at before is recorded.
 */
export function planAliasMove(name: string, current: AliasState | undefined, version: string, traffic?: number): AliasPlan {
  const weighted = traffic !== undefined && traffic < 100
  if (!current) {
    if (weighted) return {action: 'refuse', reason: `alias ${name} does not exist yet, so there is no version to keep the other ${100 - traffic}% of the traffic on; deploy with --alias ${name} and no --traffic first.`}
    return {action: 'create', route: {functionVersion: version, weights: {}, description: ''}}
  }
  const description = previousVersionDescription(current.functionVersion)
  // Already all on the new version: a weighted shift to it has nothing to shift.
  const route: AliasRoute =
    weighted && current.functionVersion !== version
      ? {functionVersion: current.functionVersion, weights: {[version]: traffic / 100}, description}
      : {functionVersion: version, weights: {}, description: current.functionVersion === version ? current.description : description}
  return sameRoute(current, route) ? {action: 'noop'} : {action: 'update', route}
}

/** Where alias `name` goes back to: the recorded previous version, all traffic on it. */
export function planRollback(name: string, current: AliasState): AliasPlan {
  const previous = recordedPreviousVersion(current.description)
  if (previous === undefined) {
    return {action: 'refuse', reason: `alias ${name} records no previous version (layers deploy --alias writes it into the alias's description when it moves the alias); move it with \`aws lambda update-alias\`.`}
  }
  // Rolled back from a version the alias pointed at: that one becomes the previous (a second rollback goes forward again).
  const description = current.functionVersion === previous ? current.description : previousVersionDescription(current.functionVersion)
  const route: AliasRoute = {functionVersion: previous, weights: {}, description}
  return sameRoute(current, route) ? {action: 'noop'} : {action: 'update', route}
}

/** A container image named by digest, as `layers deploy --image-uri` takes it. */
export interface ImageRef {
  /** host[:port] of the registry. */
  host: string
  repository: string
  /** sha256:HEX */
  digest: string
  /** Account and region of an ECR host (ACCOUNT.dkr.ecr.REGION.amazonaws.com); absent for another host, which Lambda judges. */
  ecr?: {accountId: string; region: string}
}

const IMAGE_URI = /^([^/@:]+(?::\d+)?)\/([a-z0-9]+(?:[._/-][a-z0-9]+)*)(?:(@sha256:[a-f0-9]{64})|:([\w][\w.-]{0,127}))?$/
const ECR_HOST = /^(\d{12})\.dkr\.ecr\.([a-z]{2}(?:-gov)?-[a-z]+-\d)\.amazonaws\.com(?:\.cn)?$/

/**
 * The image an --image-uri names, or why it is not one deploy takes. A tag is refused: it can move
 * between reading and deploying (Lambda resolves it when UpdateFunctionCode runs, to whatever was pushed
 * last), so "already deployed" could not be decided without a write, and a published version or a
 * rollback would not say which image it holds; the digest does, and `layers image` prints it.
 */
export function parseImageUri(uri: string): ImageRef | {error: string} {
  const match = IMAGE_URI.exec(uri)
  if (!match) return {error: 'is not a container image URI: Lambda takes images from Amazon ECR, as ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPOSITORY@sha256:DIGEST.'}
  const [, host, repository, digest, tag] = match as unknown as [string, string, string, string | undefined, string | undefined]
  if (!digest) return {error: `names the image by ${tag === undefined ? 'no tag or digest' : `tag ${tag}`}, not by digest: a tag can move to another image between this deploy's read and its write, so deploy takes the digest (@sha256:...), which \`layers image\` prints.`}
  const ecr = ECR_HOST.exec(host)
  return {host, repository, digest: digest.slice(1), ...(ecr ? {ecr: {accountId: ecr[1]!, region: ecr[2]!}} : {})}
}
