// Lambda's API request quotas, enforced per account and region as AWS does (Lambda quotas page, "API
// requests"; not adjustable): GetFunction 100 requests per second, GetPolicy 15 per second, every other
// control-plane call one shared bucket of 15 per second. Each is a token bucket holding one second's
// worth; a call that finds its bucket empty is refused, unapplied, with Lambda's throttling answer:
// 429 TooManyRequestsException, `Reason: CallerRateLimitExceeded`, a `Retry-After` header (seconds;
// the SDK reads it as retryAfterSeconds) and message "Rate exceeded". Off unless `faults.quotas` is
// set (true: AWS's rates; or rates of its own), so unit tests that make many calls at once stay fast.
import {ApiError} from './common.js'

/** Requests per second per account and region; omitted: AWS's. */
export interface QuotaRates {
  control?: number
  GetFunction?: number
  GetPolicy?: number
}

export type QuotaSetting = boolean | QuotaRates

export const AWS_QUOTAS: Required<QuotaRates> = {control: 15, GetFunction: 100, GetPolicy: 15}

/** Calls the quotas do not count: the data plane (Invoke) has quotas of its own (concurrency). */
const NOT_CONTROL_PLANE = new Set(['Invoke', 'InvokeAsync', 'InvokeWithResponseStream'])

interface Bucket {
  tokens: number
  last: number
}

export class LambdaQuotas {
  private rates: Required<QuotaRates> | undefined
  private settingKey = 'false'
  private readonly buckets = new Map<string, Bucket>()

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** Applies a setting (false/undefined: no quotas); buckets start full again when it changes. */
  configure(setting: QuotaSetting | undefined): void {
    const key = JSON.stringify(setting ?? false)
    if (key === this.settingKey) return
    this.settingKey = key
    this.buckets.clear()
    this.rates = setting ? {...AWS_QUOTAS, ...(setting === true ? {} : setting)} : undefined
    for (const [name, rate] of Object.entries(this.rates ?? {})) {
      if (!(typeof rate === 'number' && rate > 0)) throw new Error(`aws-server: faults.quotas.${name} must be a number above 0, got ${String(rate)}`)
    }
  }

  /** Takes a token for the call, or throws Lambda's throttling error when its bucket is empty. */
  admit(accountId: string, region: string, operation: string): void {
    if (!this.rates || NOT_CONTROL_PLANE.has(operation)) return
    const quota = operation === 'GetFunction' || operation === 'GetPolicy' ? operation : 'control'
    const rate = this.rates[quota]
    const key = `${accountId}/${region}/${quota}`
    const now = this.now()
    const bucket = this.buckets.get(key) ?? {tokens: rate, last: now}
    bucket.tokens = Math.min(rate, bucket.tokens + ((now - bucket.last) * rate) / 1000)
    bucket.last = now
    this.buckets.set(key, bucket)
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1
      return
    }
    const retryAfter = Math.max(1, Math.ceil((1 - bucket.tokens) / rate))
    throw new ApiError(429, 'TooManyRequestsException', 'Rate exceeded', {Reason: 'CallerRateLimitExceeded'}, {'retry-after': String(retryAfter)})
  }
}
