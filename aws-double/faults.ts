// Fault injection, seeded so a run repeats: every call the faults apply to draws one number from a
// mulberry32 generator and is dropped, throttled, failed, stalled or has its answer lost by where that
// number falls; latency is added to every such call first. `hold` keeps chosen operations' requests
// unapplied until the test lifts it (or the client goes away).
export interface FaultConfig {
  latencyMs?: number
  throttleRate?: number
  errorRate?: number
  /** The connection is destroyed before the request is handled (nothing applied). */
  dropRate?: number
  /** The request is accepted and never answered (the connection stays open until the client gives up). */
  stallRate?: number
  /** The request is handled (a write is applied) and then its answer is lost, as `loseAnswerAs` says. */
  loseAnswerRate?: number
  /** The answers of the next this many calls the faults apply to are lost after they were handled (counted before any rate is drawn). */
  loseAnswers?: number
  /** How a lost answer looks: `reset` (connection destroyed, the default) or `error` (a 500 instead of the real answer). */
  loseAnswerAs?: 'reset' | 'error'
  /**
   * Requests of these operations are held before they are handled: recorded at once with `fault: 'held'`,
   * applied when a later setFaults no longer holds them, discarded unapplied (recorded with `fault:
   * 'discarded'`) when the client closes the connection first. Not limited by `operations`.
   */
  hold?: string[]
  seed?: number
  /** Limit faults to these operation names (e.g. UpdateFunctionConfiguration). */
  operations?: string[]
  /** Refuse every call from these `accountId` or `accountId/region` targets (AccessDenied, explicit deny). */
  deny?: string[]
  /** Lambda's API request quotas per account and region (quotas.ts): true for AWS's, or other rates; not limited by `operations`. */
  quotas?: QuotaSetting
}

import {LambdaQuotas, type QuotaSetting} from './quotas.js'

export type FaultDecision = 'none' | 'drop' | 'throttle' | 'error' | 'stall' | 'lose'

/** mulberry32: small, fast and good enough to spread faults evenly; seeded, so a failing run can be replayed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export class Faults {
  private config: FaultConfig | undefined
  private next: () => number = seededRandom(1)
  private answersToLose = 0

  constructor(config?: FaultConfig) {
    this.set(config)
  }

  set(config: FaultConfig | undefined): void {
    for (const rate of ['throttleRate', 'errorRate', 'dropRate', 'stallRate', 'loseAnswerRate'] as const) {
      const value = config?.[rate]
      if (value !== undefined && !(value >= 0 && value <= 1)) throw new Error(`aws-server: faults.${rate} must be between 0 and 1, got ${value}`)
    }
    const sum = ['throttleRate', 'errorRate', 'dropRate', 'stallRate', 'loseAnswerRate'].reduce((total, rate) => total + ((config as Record<string, number> | undefined)?.[rate] ?? 0), 0)
    if (sum > 1) throw new Error(`aws-server: the fault rates add up to ${sum}, more than 1`)
    if (config?.loseAnswerAs !== undefined && !['reset', 'error'].includes(config.loseAnswerAs)) throw new Error(`aws-server: faults.loseAnswerAs must be reset or error, got ${config.loseAnswerAs}`)
    if (config?.loseAnswers !== undefined && !(Number.isInteger(config.loseAnswers) && config.loseAnswers >= 0)) throw new Error(`aws-server: faults.loseAnswers must be a whole number, got ${config.loseAnswers}`)
    new LambdaQuotas().configure(config?.quotas) // throws on a bad rate, in the caller's stack
    this.config = config
    this.next = seededRandom(config?.seed ?? 1)
    this.answersToLose = config?.loseAnswers ?? 0
  }

  applies(operation: string): boolean {
    if (!this.config) return false
    return !this.config.operations || this.config.operations.includes(operation)
  }

  denies(operation: string, accountId: string, region: string): boolean {
    const deny = this.config?.deny
    if (!deny || !this.applies(operation)) return false
    return deny.includes(accountId) || deny.includes(`${accountId}/${region}`)
  }

  /** True while requests of this operation are to be held unapplied. */
  holds(operation: string): boolean {
    return this.config?.hold?.includes(operation) ?? false
  }

  quotas(): QuotaSetting | undefined {
    return this.config?.quotas
  }

  loseAnswerAs(): 'reset' | 'error' {
    return this.config?.loseAnswerAs ?? 'reset'
  }

  latency(operation: string): number {
    return this.applies(operation) ? (this.config?.latencyMs ?? 0) : 0
  }

  decide(operation: string): FaultDecision {
    if (!this.config || !this.applies(operation)) return 'none'
    if (this.answersToLose > 0) {
      this.answersToLose--
      return 'lose'
    }
    const {dropRate = 0, throttleRate = 0, errorRate = 0, stallRate = 0, loseAnswerRate = 0} = this.config
    if (dropRate + throttleRate + errorRate + stallRate + loseAnswerRate === 0) return 'none'
    const draw = this.next()
    let bound = 0
    for (const [decision, rate] of [['drop', dropRate], ['throttle', throttleRate], ['error', errorRate], ['stall', stallRate], ['lose', loseAnswerRate]] as const) {
      bound += rate
      if (draw < bound) return decision
    }
    return 'none'
  }
}
