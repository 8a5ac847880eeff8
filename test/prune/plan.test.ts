import {describe, expect, it} from 'vitest'
import {planPrune, type ListedVersion, type PrunePlanInput} from '../../src/prune/plan.js'

const A = '111111111111'
const B = '222222222222'
const R = 'eu-west-1'
const DAY = 86_400_000
const v = (version: number, createdDaysAgo = 100, region = R, account = A, layer = 'deps'): ListedVersion => ({
  layer, accountId: account, region, version, arn: `arn:aws:lambda:${region}:${account}:layer:${layer}:${version}`,
  createdDate: new Date(Date.parse('2025-06-01T00:00:00Z') - createdDaysAgo * DAY).toISOString(),
})

function input(overrides: Partial<PrunePlanInput>): PrunePlanInput {
  return {
    versions: [1, 2, 3, 4, 5].map((n) => v(n)),
    lockedArns: new Set([v(5).arn]),
    usedArns: new Set([v(2).arn]),
    unread: [],
    auditedAccounts: new Map([[R, new Set([A])]]),
    sharedWith: {},
    sharedBeyond: {},
    keep: 0,
    now: '2025-06-01T00:00:00Z',
    ...overrides,
  }
}

const versions = (list: ListedVersion[]): number[] => list.map((entry) => entry.version)

describe('planPrune', () => {
  it('never deletes a locked or used version', () => {
    const plan = planPrune(input({}))
    expect(versions(plan.candidates)).toEqual([1, 3, 4])
    expect(plan.kept.map((entry) => `${entry.version}:${entry.reason}`)).toEqual(['2:in-use', '5:locked'])
  })

  it('keeps the N newest versions (counting locked and used ones)', () => {
    expect(versions(planPrune(input({keep: 2})).candidates)).toEqual([1, 3])
    expect(planPrune(input({keep: 2})).kept.find((entry) => entry.version === 4)?.reason).toBe('newest')
    expect(versions(planPrune(input({keep: 10})).candidates)).toEqual([])
  })

  it('with --older-than keeps versions created more recently', () => {
    const plan = planPrune(input({versions: [v(1, 40), v(2, 40), v(3, 20), v(4, 5), v(5, 1)], olderThanMs: 30 * DAY}))
    expect(versions(plan.candidates)).toEqual([1])
    expect(plan.kept.filter((entry) => entry.reason === 'too-recent').map((entry) => entry.version)).toEqual([3, 4])
  })

  it('keeps the versions an account the audit could not read may use: its own and those shared with it, in that region', () => {
    const unread = [{accountId: A, region: 'us-east-1', reason: 'audit failed, AccessDeniedException: denied'}]
    const plan = planPrune(input({versions: [v(1), v(1, 100, 'us-east-1')], unread}))
    expect(plan.candidates.map((entry) => entry.region)).toEqual([R])
    expect(plan.kept.map((entry) => [entry.region, entry.reason, entry.detail])).toEqual([
      ['us-east-1', 'audit-incomplete', `the audit could not read account ${A} in us-east-1 (audit failed, AccessDeniedException: denied), whose functions may use it`],
    ])
    // B unread: blocks A's layer only where it is shared with B; `*` stands for every region.
    const other = [{accountId: B, region: '*', reason: 'not in audit #3'}]
    expect(versions(planPrune(input({versions: [v(1)], unread: other})).candidates)).toEqual([1])
    const shared = planPrune(input({versions: [v(1)], unread: other, sharedWith: {deps: [B]}, auditedAccounts: new Map([[R, new Set([A, B])]])}))
    expect(shared.kept.map((entry) => entry.detail)).toEqual([`the audit could not read account ${B} (not in audit #3), whose functions may use it`])
  })

  it('keeps versions shared with an account the audit did not scan in that region', () => {
    const plan = planPrune(input({versions: [v(1)], sharedWith: {deps: [B]}}))
    expect(plan.candidates).toEqual([])
    expect(plan.kept[0]!.detail).toBe(`shared with ${B}, not audited in ${R}`)
    const audited = planPrune(input({versions: [v(1)], sharedWith: {deps: [B]}, auditedAccounts: new Map([[R, new Set([A, B])]])}))
    expect(versions(audited.candidates)).toEqual([1])
  })

  it('keeps every version of a layer shared with an organization or with everyone', () => {
    const plan = planPrune(input({versions: [v(1), v(3)], sharedBeyond: {deps: 'organization o-abcdef1234'}}))
    expect(plan.candidates).toEqual([])
    expect(plan.kept.map((entry) => [entry.version, entry.reason])).toEqual([
      [1, 'shared-beyond-audit'],
      [3, 'shared-beyond-audit'],
    ])
    expect(plan.kept[0]!.detail).toContain('shared with organization o-abcdef1234, whose use no audit sees')
  })

  it('counts the newest per layer, account and region separately', () => {
    const plan = planPrune(input({versions: [v(1), v(2, 100, R, B), v(3, 100, R, B), v(7, 100, R, A, 'other')], keep: 1, lockedArns: new Set(), usedArns: new Set()}))
    expect(plan.candidates.map((entry) => `${entry.layer}/${entry.accountId}/${entry.version}`)).toEqual([`deps/${B}/2`])
  })
})
