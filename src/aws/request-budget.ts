// Owns the request budget of a run: client-side token buckets, one per account, region and Lambda
// quota, that every Lambda call of the process takes a token from before each attempt (retries
// included; the first attempt waits before its request is built), so an inventory never uses more
// than its share of Lambda's control-plane quota and leaves the rest to the account's own deployments. Lambda's quotas (AWS Lambda quotas page, "API
// requests"; not adjustable): GetFunction 100/s, GetPolicy 15/s, every other control-plane call one
// shared 15/s bucket per account and region. The budget (--max-rps, else settings.maxRps, else
// DEFAULT_MAX_RPS) is the control-plane rate; the separate quotas get the same share of theirs.
// The clock is a parameter, so tests run without sleeping.
import type {FinalizeRequestMiddleware, InitializeMiddleware} from '@smithy/types'

/** Lambda's API request quotas per account and region, per second. */
export const LAMBDA_QUOTAS = {control: 15, GetFunction: 100, GetPolicy: 15} as const

export type LambdaQuota = keyof typeof LAMBDA_QUOTAS

/**
 * Two thirds of the shared 15/s control-plane bucket: the rest (5/s) is left to the deployments
 * (CloudFormation, Terraform, CI pipelines) of the same account and region while layers runs.
 */
export const DEFAULT_MAX_RPS = 10

/** The quota a Lambda operation counts against. */
export function lambdaQuotaOf(operation: string): LambdaQuota {
  return operation === 'GetFunction' || operation === 'GetPolicy' ? operation : 'control'
}

export interface BudgetClock {
  now(): number
  sleep(ms: number): Promise<void>
}

export const realClock: BudgetClock = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
}

/**
 * A token bucket that lends: a taker reserves the next token at once (the count may go below zero)
 * and waits until it is due, so takers are served in order and the rate holds however many wait.
 * Holds at most `burst` tokens (default: one second's worth).
 */
export class TokenBucket {
  private tokens: number
  private last: number
  /** When each of the most recent takes was due (for inUse): at most one second's worth is kept. */
  private readonly recent: number[] = []

  constructor(
    private rate: number,
    private readonly clock: BudgetClock = realClock,
    private burst: number = Math.max(1, rate),
  ) {
    this.tokens = this.burst
    this.last = clock.now()
  }

  /** A new rate (and burst of one second's worth); tokens already lent stay lent. */
  setRate(rate: number): void {
    this.refill()
    this.rate = rate
    this.burst = Math.max(1, rate)
    this.tokens = Math.min(this.tokens, this.burst)
  }

  get perSecond(): number {
    return this.rate
  }

  /** Reserves one token; the milliseconds until it is due (0: now). */
  reserve(): number {
    this.refill()
    this.tokens -= 1
    const wait = this.tokens >= 0 ? 0 : (-this.tokens * 1000) / this.rate
    const due = this.last + wait
    this.recent.push(due)
    while (this.recent.length > 0 && this.recent[0]! <= due - 1000) this.recent.shift()
    return wait
  }

  /** Waits until a token is due (the sleep itself: no frame of its own for each of the many reads waiting). */
  take(): Promise<void> {
    const wait = this.reserve()
    return wait > 0 ? this.clock.sleep(wait) : Promise.resolve()
  }

  /** Tokens taken (or due) within the second before now. */
  inUse(): number {
    const now = this.clock.now()
    return this.recent.filter((due) => due > now - 1000 && due <= now).length
  }

  private refill(): void {
    const now = this.clock.now()
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.rate) / 1000)
    this.last = now
  }
}

/** What a run's budget is and how much of it is used. */
export interface BudgetUse {
  /** Control-plane requests per second per account and region allowed. */
  maxRps: number
  /** Where maxRps comes from: `--max-rps`, `settings.maxRps` or `default`. */
  source: string
  /** The highest control-plane rate any account-region used in the last second. */
  peakRps: number
  /** Account-regions that made a Lambda call in the last second. */
  activeTargets: number
  /** Lambda calls (attempts) of the run so far. */
  calls: number
}

/** The buckets of one run: per account, region and quota, made on first use. */
export class RequestBudget {
  private readonly buckets = new Map<string, TokenBucket>()
  private calls = 0
  private flagRps: number | undefined
  private settingRps: number | undefined

  constructor(private readonly clock: BudgetClock = realClock) {}

  /** --max-rps: wins over the manifest's setting. */
  useFlag(maxRps: number | undefined): void {
    if (maxRps === undefined) return
    this.flagRps = maxRps
    this.retune()
  }

  /** settings.maxRps of the manifest this run works on. */
  useSetting(maxRps: number | undefined): void {
    this.settingRps = maxRps
    this.retune()
  }

  get maxRps(): number {
    return this.flagRps ?? this.settingRps ?? DEFAULT_MAX_RPS
  }

  get source(): string {
    return this.flagRps !== undefined ? '--max-rps' : this.settingRps !== undefined ? 'settings.maxRps' : 'default'
  }

  /** The rate of one quota at this run's budget: the same share of each of Lambda's quotas. */
  rateOf(quota: LambdaQuota): number {
    return (this.maxRps * LAMBDA_QUOTAS[quota]) / LAMBDA_QUOTAS.control
  }

  bucket(accountId: string, region: string, quota: LambdaQuota): TokenBucket {
    const key = `${accountId}/${region}/${quota}`
    let bucket = this.buckets.get(key)
    if (!bucket) {
      bucket = new TokenBucket(this.rateOf(quota), this.clock)
      this.buckets.set(key, bucket)
    }
    return bucket
  }

  /** Waits for a token of the quota `operation` counts against, in that account and region. */
  take(accountId: string, region: string, operation: string): Promise<void> {
    this.calls++
    return this.bucket(accountId, region, lambdaQuotaOf(operation)).take()
  }

  use(): BudgetUse {
    let peakRps = 0
    let activeTargets = 0
    for (const [key, bucket] of this.buckets) {
      if (!key.endsWith('/control')) continue
      const used = bucket.inUse()
      if (used > 0) activeTargets++
      peakRps = Math.max(peakRps, used)
    }
    return {maxRps: this.maxRps, source: this.source, peakRps, activeTargets, calls: this.calls}
  }

  private retune(): void {
    for (const [key, bucket] of this.buckets) bucket.setRate(this.rateOf(key.slice(key.lastIndexOf('/') + 1) as LambdaQuota))
  }
}

/** The budget every client of this process shares (a run is one process). */
export const runBudget = new RequestBudget()

/** One line for progress: the budget and how much of it is in use. */
export function budgetText(use: BudgetUse): string {
  return `budget ${formatRate(use.maxRps)}/s per account-region (${use.source}): up to ${use.peakRps}/s in use, ${use.activeTargets} account-region${use.activeTargets === 1 ? '' : 's'} busy`
}

function formatRate(rate: number): string {
  return Number.isInteger(rate) ? String(rate) : rate.toFixed(1)
}

/**
 * The budget on a Lambda client of one account and region: every attempt of a call waits for its token.
 * The first attempt waits in the initialize step, before the SDK serializes and signs anything, so a
 * call queued behind the budget holds its input only (the request built after a wait of up to a few
 * hundred ms would outlive the young generation and be collected as old garbage); each retry waits in
 * the finalize step, after the retry middleware. Add both: `stack.add(first, BUDGET_FIRST_ATTEMPT)` and
 * `stack.addRelativeTo(retries, BUDGET_RETRIES)`.
 */
export function budgetMiddleware<I extends object, O extends object>(budget: RequestBudget, accountId: string, region: string): {first: InitializeMiddleware<I, O>; retries: FinalizeRequestMiddleware<I, O>} {
  // The inputs of calls whose first attempt has its token (an input object is a call's own; one sent
  // twice at once would only pay twice).
  const paid = new WeakSet<object>()
  const take = (commandName: string | undefined) => budget.take(accountId, region, (commandName ?? '').replace(/Command$/, ''))
  return {
    first: (next, context) => async (args) => {
      await take(context.commandName)
      paid.add(args.input)
      return next(args)
    },
    retries: (next, context) => async (args) => {
      if (!paid.delete(args.input)) await take(context.commandName)
      return next(args)
    },
  }
}

export const BUDGET_FIRST_ATTEMPT = {step: 'initialize', name: 'layersRequestBudgetFirstAttempt'} as const
export const BUDGET_RETRIES = {relation: 'after', toMiddleware: 'retryMiddleware', name: 'layersRequestBudget'} as const
