// Owns deciding which layer versions `layers prune` may delete. Pure: from the versions Lambda lists
// for the manifest's own layers, the ARNs the lock pins anywhere, the ARNs a fresh audit saw in use
// ($LATEST or a version an alias routes to), and the audit's coverage (an account it could not read
// keeps every version that account could use: its own, and those shared with it), to candidates and
// kept versions with the reason each is kept.
export interface ListedVersion {
  layer: string
  accountId: string
  region: string
  version: number
  arn: string
  /** ISO time Lambda reports as CreatedDate. */
  createdDate: string
}

export type KeepReason = 'locked' | 'in-use' | 'newest' | 'too-recent' | 'audit-incomplete' | 'shared-unaudited' | 'shared-beyond-audit'

export interface KeptVersion extends ListedVersion {
  reason: KeepReason
  detail: string
}

export interface PrunePlanInput {
  versions: ListedVersion[]
  /** Every layer version ARN the lockfile pins, for any target. */
  lockedArns: ReadonlySet<string>
  /** Every layer version ARN a function used in the audit. */
  usedArns: ReadonlySet<string>
  /**
   * Targets the audit could not read completely (failed, aliases unread, or not in the audit used), with
   * why; region `*` for every region of the account. Each keeps the versions that account could use.
   */
  unread: ReadonlyArray<{accountId: string; region: string; reason: string}>
  /** Account ids the audit scanned, per region. */
  auditedAccounts: ReadonlyMap<string, ReadonlySet<string>>
  /** Per layer: account ids the manifest shares it with (other than its own). */
  sharedWith: Readonly<Record<string, readonly string[]>>
  /**
   * Per layer shared with an organization or with everyone: who (e.g. "organization o-abc"). Accounts
   * no audit can list may use its versions, so they are never pruned.
   */
  sharedBeyond: Readonly<Record<string, string>>
  keep: number
  /** Only versions created at least this long before `now` (ms); undefined: any age. */
  olderThanMs?: number
  now: string
}

export interface PrunePlan {
  candidates: ListedVersion[]
  kept: KeptVersion[]
}

export function planPrune(input: PrunePlanInput): PrunePlan {
  const candidates: ListedVersion[] = []
  const kept: KeptVersion[] = []
  const groups = new Map<string, ListedVersion[]>()
  for (const version of input.versions) {
    const key = `${version.layer}\u0000${version.accountId}\u0000${version.region}`
    groups.set(key, [...(groups.get(key) ?? []), version])
  }
  const now = Date.parse(input.now)
  for (const group of [...groups.keys()].sort()) {
    const versions = [...groups.get(group)!].sort((a, b) => b.version - a.version)
    versions.forEach((entry, index) => {
      const keepIt = (reason: KeepReason, detail: string): void => {
        kept.push({...entry, reason, detail})
      }
      if (input.lockedArns.has(entry.arn)) return keepIt('locked', 'lockfile.json pins it')
      if (input.usedArns.has(entry.arn)) return keepIt('in-use', 'a function uses it')
      if (index < input.keep) return keepIt('newest', `among the ${input.keep} newest versions`)
      const shared = input.sharedWith[entry.layer] ?? []
      const blocking = input.unread.filter(
        (target) =>
          (target.region === entry.region || target.region === '*') &&
          (target.accountId === entry.accountId || shared.includes(target.accountId) || input.sharedBeyond[entry.layer] !== undefined),
      )
      if (blocking.length > 0) {
        const which = blocking.map((target) => `account ${target.accountId}${target.region === '*' ? '' : ` in ${target.region}`} (${target.reason})`)
        return keepIt('audit-incomplete', `the audit could not read ${which.join('; ')}, whose functions may use it`)
      }
      const audited = input.auditedAccounts.get(entry.region) ?? new Set<string>()
      const unaudited = shared.filter((account) => account !== entry.accountId && !audited.has(account))
      if (unaudited.length > 0) return keepIt('shared-unaudited', `shared with ${unaudited.join(', ')}, not audited in ${entry.region}`)
      const beyond = input.sharedBeyond[entry.layer]
      if (beyond) return keepIt('shared-beyond-audit', `shared with ${beyond}, whose use no audit sees (delete it by hand if you are sure)`)
      if (input.olderThanMs !== undefined) {
        const created = Date.parse(entry.createdDate)
        if (Number.isNaN(created) || now - created < input.olderThanMs) return keepIt('too-recent', `created ${entry.createdDate}`)
      }
      candidates.push(entry)
    })
  }
  const order = (a: ListedVersion, b: ListedVersion): number =>
    a.layer.localeCompare(b.layer, 'en') || a.accountId.localeCompare(b.accountId, 'en') || a.region.localeCompare(b.region, 'en') || a.version - b.version
  return {candidates: candidates.sort(order), kept: kept.sort(order)}
}
