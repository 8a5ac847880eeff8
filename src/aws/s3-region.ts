// Owns naming S3's answers for a bucket in another region (301 PermanentRedirect, often with no body;
// AuthorizationHeaderMalformed naming the expected region; IllegalLocationConstraintException): one
// clear error naming the bucket, the region asked and the bucket's actual region when S3 says it. The
// client factory installs it on every S3 client, so artifacts, leases and shared history all get it.
import type {S3Client} from '@aws-sdk/client-s3'
import {OperationalError} from '../errors/index.js'

interface S3Failure {
  name?: string
  message?: string
  Region?: unknown
  Endpoint?: unknown
  $metadata?: {httpStatusCode?: number}
  $response?: {headers?: Record<string, string | undefined>}
}

/** The region S3 says the bucket is in: the x-amz-bucket-region header, the Region element, or the Endpoint it names. */
function bucketRegionOf(error: S3Failure): string | undefined {
  const header = error.$response?.headers?.['x-amz-bucket-region']
  if (header) return header
  if (typeof error.Region === 'string' && error.Region) return error.Region
  const endpoint = typeof error.Endpoint === 'string' ? /\.s3[.-]([a-z0-9-]+)\.amazonaws\.com/.exec(error.Endpoint)?.[1] : undefined
  return endpoint && endpoint !== 'external-1' ? endpoint : undefined
}

/** A wrong-region answer as an error naming bucket and regions; undefined for any other failure. */
export function wrongRegionError(error: unknown, bucket: string, region: string): OperationalError | undefined {
  const failure = (error ?? {}) as S3Failure
  const name = failure.name ?? ''
  const wrongRegion =
    failure.$metadata?.httpStatusCode === 301 ||
    name === 'PermanentRedirect' ||
    name === 'IllegalLocationConstraintException' ||
    (name === 'AuthorizationHeaderMalformed' && (failure.Region !== undefined || /region/i.test(failure.message ?? '')))
  if (!wrongRegion) return undefined
  const actual = bucketRegionOf(failure)
  const answer = `S3 answered ${name && name !== 'Unknown' ? name : `HTTP ${failure.$metadata?.httpStatusCode ?? '?'}`}`
  const message = actual && actual !== region
    ? `Bucket ${bucket} is in region ${actual}, not ${region} (${answer}): Lambda in ${region} reads a layer's zip only from a bucket in ${region}.`
    : `Bucket ${bucket} cannot be used from region ${region}: it is not in that region (${answer}).`
  return new OperationalError('ERR_LAYERS_BUCKET_WRONG_REGION', message, {
    hint: 'Give every region its own bucket: put {region} in settings.bucket (e.g. "acme-layers-{accountId}-{region}"), or pick a bucket name that is free in this region.',
    cause: error,
    details: {bucket, region, ...(actual ? {bucketRegion: actual} : {})},
  })
}

/** Makes every call of `client` throw wrongRegionError (naming the call's Bucket) for a wrong-region answer. */
export function withWrongRegionErrors<C extends Pick<S3Client, 'middlewareStack' | 'config'>>(client: C): C {
  client.middlewareStack.add(
    (next) => async (args) => {
      try {
        return await next(args)
      } catch (error) {
        const input = args.input as {Bucket?: unknown; CreateBucketConfiguration?: {LocationConstraint?: unknown}}
        if (typeof input.Bucket !== 'string') throw error
        // The region asked for: a new bucket's location constraint, else the client's region.
        const constraint = input.CreateBucketConfiguration?.LocationConstraint
        const configured = client.config.region as string | (() => Promise<string>)
        const region = typeof constraint === 'string' ? constraint : typeof configured === 'function' ? await configured() : configured
        throw wrongRegionError(error, input.Bucket, region) ?? error
      }
    },
    {step: 'initialize', name: 'layersWrongRegionErrors'},
  )
  return client
}
