// Owns reading AWS SDK failures: which ones are throttling, which leave it unknown whether a write
// happened (server errors, dropped connections), and the per-target failure record (error name or
// layers code, redacted message, a hint) that publish and attach put in their summaries.
import {LayersError} from '../errors/index.js'
import {redact} from '../cli/redact.js'
import {MALFORMED_ANSWER_CODE, NO_ANSWER_CODE} from './time-bounds.js'

export interface TargetError {
  /** The AWS error name or a layers error code, e.g. AccessDeniedException. */
  code: string
  message: string
  hint?: string
}

interface SdkError {
  name?: string
  message?: string
  code?: string
  $metadata?: {httpStatusCode?: number}
  $fault?: 'client' | 'server'
}

const THROTTLING = new Set(['TooManyRequestsException', 'ThrottlingException', 'Throttling', 'SlowDown', 'RequestLimitExceeded', 'TooManyRequests'])

export function httpStatus(error: unknown): number | undefined {
  return (error as SdkError)?.$metadata?.httpStatusCode
}

export function isThrottling(error: unknown): boolean {
  return THROTTLING.has((error as SdkError)?.name ?? '') || httpStatus(error) === 429
}

/**
 * True when the request may or may not have been applied: a 5xx, no HTTP answer at all
 * (ERR_LAYERS_AWS_NO_ANSWER included), or an answer that could not be read (ERR_LAYERS_AWS_MALFORMED_ANSWER).
 */
export function isUncertain(error: unknown): boolean {
  if (error instanceof LayersError) return error.code === NO_ANSWER_CODE || error.code === MALFORMED_ANSWER_CODE
  const status = httpStatus(error)
  if (status === undefined) return true
  return status >= 500
}

const HINTS: Record<string, string> = {
  CredentialsProviderError: 'Set up credentials for this account: a `profile` in layers.yaml (aws sso login for SSO profiles), AWS_PROFILE, or environment credentials.',
  AccessDeniedException: 'The credentials for this account lack the permission named in the message; grant it to the role or user.',
  AccessDenied: 'The credentials for this account lack the permission named in the message; grant it to the role or user.',
  ExpiredTokenException: 'The session expired: log in again (aws sso login) or refresh the credentials.',
  UnrecognizedClientException: 'The access key is not valid for this account; check the profile or environment credentials.',
  TooManyRequestsException: 'AWS throttled the calls even after retries: run again later or lower --concurrency.',
  ServiceException: 'AWS failed internally; run the command again.',
  PermanentRedirect: 'The bucket is in another region: give each region its own bucket ({region} in settings.bucket).',
  AuthorizationHeaderMalformed: 'The request went to the wrong region for this resource; check the region of the bucket or endpoint.',
  IllegalLocationConstraintException: 'The bucket name is taken in another region, or the region does not match the endpoint; put {region} in settings.bucket.',
}

export function targetError(error: unknown): TargetError {
  if (error instanceof LayersError) return {code: error.code, message: redact(error.message), ...(error.hint ? {hint: error.hint} : {})}
  const err = error as SdkError
  // S3 answers a HEAD for another region's bucket with a bare 301: the SDK can only call it "Unknown".
  const bareRedirect = httpStatus(error) === 301 && (err?.name === undefined || err.name === 'Unknown')
  const code = typeof err?.code === 'string' && err.code.startsWith('ERR_LAYERS_') ? err.code : bareRedirect ? 'PermanentRedirect' : (err?.name ?? 'Error')
  const message = redact(String(err?.message ?? error)).split('\n')[0] ?? ''
  const hint = HINTS[code] ?? (httpStatus(error) === undefined ? 'The endpoint did not answer; check the network (and AWS_ENDPOINT_URL when set) and run again.' : undefined)
  return {code, message, ...(hint ? {hint} : {})}
}
