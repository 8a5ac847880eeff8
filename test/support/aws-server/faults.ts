// Fault injection, seeded so a run repeats: every call the faults apply to draws one number from a
// mulberry32 generator and is dropped, throttled or failed by where that number falls; latency is
// added to every such call first.
export interface FaultConfig {
  latencyMs?: number
  throttleRate?: number
  errorRate?: number
  dropRate?: number
  seed?: number
  /** Limit faults to these operation names (e.g. UpdateFunctionConfiguration). */
  operations?: string[]
  /** Refuse every call from these `accountId` or `accountId/region` targets (AccessDenied, explicit deny). */
  deny?: string[]
}

export type FaultDecision = 'none' | 'drop' | 'throttle' | 'error'

/** mulberry32: small, fast and good enough to spread faults evenly. */
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

  constructor(config?: FaultConfig) {
    this.set(config)
  }

  set(config: FaultConfig | undefined): void {
    for (const rate of ['throttleRate', 'errorRate', 'dropRate'] as const) {
      const value = config?.[rate]
      if (value !== undefined && !(value >= 0 && value <= 1)) throw new Error(`aws-server: faults.${rate} must be between 0 and 1, got ${value}`)
    }
    this.config = config
    this.next = seededRandom(config?.seed ?? 1)
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

  latency(operation: string): number {
    return this.applies(operation) ? (this.config?.latencyMs ?? 0) : 0
  }

  decide(operation: string): FaultDecision {
    if (!this.config || !this.applies(operation)) return 'none'
    const {dropRate = 0, throttleRate = 0, errorRate = 0} = this.config
    if (dropRate + throttleRate + errorRate === 0) return 'none'
    const draw = this.next()
    if (draw < dropRate) return 'drop'
    if (draw < dropRate + throttleRate) return 'throttle'
    if (draw < dropRate + throttleRate + errorRate) return 'error'
    return 'none'
  }
}
