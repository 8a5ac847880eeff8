import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import v8 from 'node:v8'
import {runInNewContext} from 'node:vm'
import {describe, expect, it} from 'vitest'
import {collectEvents} from '../../src/events.js'
import {streamTargets, type LambdaReadApi} from '../../src/audit/scan.js'
import {scanTargets} from '../support/scan-targets.js'
import {resolveTargets} from '../../src/audit/targets.js'
import {failureOf} from '../../src/audit/scan.js'
import type {ScannedFunction} from '../../src/audit/types.js'
import {openStateDatabase} from '../../src/store/db.js'
import {functionVersionCache} from '../../src/store/function-versions.js'

const A = '111111111111'
const B = '222222222222'
const layer = (n: number): string => `arn:aws:lambda:eu-west-1:${A}:layer:l:${n}`

/** An in-memory Lambda with pages of 2 and a call log: tests the scanning logic, not AWS. */
function fakeApi(functions: ScannedFunction[], calls: string[], options: {failAt?: string} = {}): LambdaReadApi {
  return {
    async listFunctions(marker) {
      calls.push(`list:${marker ?? ''}`)
      if (options.failAt === (marker ?? '')) throw Object.assign(new Error('Rate exceeded'), {name: 'TooManyRequestsException'})
      const start = marker ? Number(marker) : 0
      const page = functions.slice(start, start + 2)
      return {functions: page, ...(start + 2 < functions.length ? {nextMarker: String(start + 2)} : {})}
    },
    listAliases: async () => ({aliases: []}),
    readFunctionVersion: async () => Promise.reject(new Error('no versions')),
    async readLayerVersion(arn) {
      calls.push(`get:${arn}`)
      if (arn === layer(9)) return {status: 'missing'}
      if (arn === layer(8)) throw Object.assign(new Error('User: x is not authorized'), {name: 'AccessDeniedException'})
      return {status: 'ok', codeSize: 1, codeSha256: 's', compatibleArchitectures: ['x86_64'], compatibleRuntimes: []}
    },
  }
}

const fn = (name: string, layers: number[]): ScannedFunction => ({name, architecture: 'x86_64', codeSize: 1, layers: layers.map((n) => ({arn: layer(n), codeSize: 1}))})

describe('scanTargets', () => {
  it('reads every page, looks each layer version up once, and reports a failing target as failed', async () => {
    const calls: string[] = []
    const functions = [fn('a', [1]), fn('b', [1, 9]), fn('c', [8]), fn('d', []), fn('e', [1])]
    const {emit, events} = collectEvents()
    const result = await scanTargets(
      [
        {accountId: A, region: 'eu-west-1'},
        {accountId: B, region: 'eu-west-1'},
        {accountId: B, region: 'us-east-1'},
      ],
      async (target) => {
        if (target.region === 'us-east-1') throw Object.assign(new Error('denied'), {name: 'AccessDeniedException'})
        return fakeApi(functions, calls, target.accountId === B ? {failAt: '4'} : {})
      },
      {concurrency: 2, emit},
    )
    expect(result.scans.map((scan) => [scan.accountId, scan.region, scan.status, scan.status === 'ok' ? scan.functions.map((f) => f.name).join('') : scan.error.code])).toEqual([
      [A, 'eu-west-1', 'ok', 'abcde'],
      [B, 'eu-west-1', 'failed', 'TooManyRequestsException'],
      [B, 'us-east-1', 'failed', 'AccessDeniedException'],
    ])
    // Once per account and version: account B (whose scan failed after its first pages) asks too.
    expect(calls.filter((call) => call.startsWith('get:')).sort()).toEqual([`get:${layer(1)}`, `get:${layer(1)}`, `get:${layer(8)}`, `get:${layer(8)}`, `get:${layer(9)}`, `get:${layer(9)}`])
    expect(result.layerVersions[A]![layer(9)]).toEqual({status: 'missing'})
    expect(result.layerVersions[A]![layer(8)]).toEqual({status: 'unreadable', error: {code: 'AccessDeniedException', message: 'User: x is not authorized'}})
    expect(Object.keys(result.layerVersions).sort()).toEqual([A, B])
    expect(events.filter((event) => event.type === 'progress')).toHaveLength(3)
  })

  it('never runs more targets at once than the limit', async () => {
    let running = 0
    let peak = 0
    const targets = Array.from({length: 10}, (_, index) => ({accountId: A, region: `r-${index}`}))
    await scanTargets(
      targets,
      async () => ({
        async listFunctions() {
          running++
          peak = Math.max(peak, running)
          await new Promise((resolve) => setTimeout(resolve, 5))
          running--
          return {functions: []}
        },
        listAliases: async () => ({aliases: []}),
        readFunctionVersion: async () => Promise.reject(new Error('no versions')),
        readLayerVersion: async () => ({status: 'missing'}),
      }),
      {concurrency: 3, emit: () => {}},
    )
    expect(peak).toBe(3)
  })

  it('limits layer version lookups per target, so the lookups of many targets run side by side', async () => {
    const inFlight = new Map<string, number>()
    const peakPerTarget = new Map<string, number>()
    let running = 0
    let peak = 0
    const targets = Array.from({length: 6}, (_, index) => ({accountId: A, region: `r-${index}`}))
    const result = await scanTargets(
      targets,
      async (target) => ({
        // One page naming 12 layer versions of the target's own region.
        listFunctions: async () => ({
          functions: [{...fn('f', []), layers: Array.from({length: 12}, (_, n) => ({arn: `arn:aws:lambda:${target.region}:${A}:layer:l:${n + 1}`, codeSize: 1}))}],
        }),
        listAliases: async () => ({aliases: []}),
        readFunctionVersion: async () => Promise.reject(new Error('no versions')),
        async readLayerVersion() {
          inFlight.set(target.region, (inFlight.get(target.region) ?? 0) + 1)
          peakPerTarget.set(target.region, Math.max(peakPerTarget.get(target.region) ?? 0, inFlight.get(target.region)!))
          peak = Math.max(peak, ++running)
          await new Promise((resolve) => setTimeout(resolve, 5))
          inFlight.set(target.region, inFlight.get(target.region)! - 1)
          running--
          return {status: 'missing'}
        },
      }),
      {concurrency: 6, lookupsPerTarget: 4, emit: () => {}},
    )
    expect(Object.keys(result.layerVersions[A]!)).toHaveLength(72)
    expect([...peakPerTarget.values()]).toEqual([4, 4, 4, 4, 4, 4])
    expect(peak).toBe(24)
  })
})

describe('streamTargets', () => {
  it('asks for the next page only when few listed functions are left to read, so a target holds about a page of them', async () => {
    const names = Array.from({length: 300}, (_, index) => `f${String(index).padStart(3, '0')}`)
    let listed = 0
    let handedOver = 0
    let mostHeld = 0
    const api: LambdaReadApi = {
      async listFunctions(marker) {
        const start = marker ? Number(marker) : 0
        const page = names.slice(start, start + 50).map((name) => fn(name, [1]))
        listed += page.length
        return {functions: page, ...(start + 50 < names.length ? {nextMarker: String(start + 50)} : {})}
      },
      // Each function's aliases take a while, as under the request budget.
      listAliases: () => new Promise((resolve) => setTimeout(() => resolve({aliases: []}), 1)),
      readFunctionVersion: async () => Promise.reject(new Error('no versions')),
      readLayerVersion: async () => ({status: 'ok', codeSize: 1, codeSha256: 's', compatibleArchitectures: [], compatibleRuntimes: []}),
    }
    const ends: string[] = []
    await streamTargets([{accountId: A, region: 'eu-west-1'}], async () => api, {concurrency: 1, emit: () => {}}, {
      function() {
        mostHeld = Math.max(mostHeld, listed - handedOver)
        handedOver++
      },
      target(end) {
        ends.push(`${end.status}:${end.functions}`)
      },
    })
    expect(ends).toEqual(['ok:300'])
    // A page, the few left to read when it was asked for, and those being read: never two pages.
    expect(mostHeld).toBeGreaterThan(0)
    expect(mostHeld).toBeLessThan(100)
  })
  it('keeps no function it handed over: the page that listed them is not held while the next one is asked for', async () => {
    // The collector, to tell what is still reachable (exposed at run time: vitest starts workers without --expose-gc).
    v8.setFlagsFromString('--expose-gc')
    const collect = runInNewContext('gc') as () => void
    const names = Array.from({length: 150}, (_, index) => `f${index}`)
    const handedOver: Array<WeakRef<ScannedFunction>> = []
    const stillHeld: number[] = []
    let allHandedOver: {count: number; resolve: () => void} | undefined
    const api: LambdaReadApi = {
      async listFunctions(marker) {
        const start = marker ? Number(marker) : 0
        if (start > 0) {
          // Once every function listed before is handed over (in a later job, so no WeakRef is pinned), none may be reachable.
          if (handedOver.length < start) await new Promise<void>((resolve) => (allHandedOver = {count: start, resolve}))
          await new Promise((resolve) => setTimeout(resolve, 1))
          collect()
          stillHeld.push(handedOver.filter((ref) => ref.deref() !== undefined).length)
        }
        const page = names.slice(start, start + 50).map((name) => fn(name, [1]))
        return {functions: page, ...(start + 50 < names.length ? {nextMarker: String(start + 50)} : {})}
      },
      listAliases: async () => ({aliases: [{name: 'prod', version: '1'}]}),
      readFunctionVersion: async (_name, version) => ({version, architecture: 'x86_64', layers: []}),
      readLayerVersion: async () => ({status: 'ok', codeSize: 1, codeSha256: 's', compatibleArchitectures: [], compatibleRuntimes: []}),
    }
    await streamTargets([{accountId: A, region: 'eu-west-1'}], async () => api, {concurrency: 1, emit: () => {}}, {
      function(_target, scanned) {
        handedOver.push(new WeakRef(scanned))
        if (allHandedOver && handedOver.length >= allHandedOver.count) {
          allHandedOver.resolve()
          allHandedOver = undefined
        }
      },
      target: () => {},
    })
    expect(handedOver).toHaveLength(150)
    expect(stillHeld).toEqual([0, 0])
  })
  it('keeps no function it handed over while its reader waits for the next one\'s reads', async () => {
    v8.setFlagsFromString('--expose-gc')
    const collect = runInNewContext('gc') as () => void
    const handedOver: Array<WeakRef<ScannedFunction>> = []
    const stillHeld: number[] = []
    const api: LambdaReadApi = {
      listFunctions: async () => ({functions: Array.from({length: 6}, (_, index) => fn(`f${index}`, [1]))}),
      async listAliases(name) {
        if (name === 'f5') {
          // The reader waits here with f0 to f4 handed over: none of them may be reachable (checked in a later job, so no WeakRef is pinned).
          await new Promise((resolve) => setTimeout(resolve, 1))
          collect()
          stillHeld.push(handedOver.filter((ref) => ref.deref() !== undefined).length)
        }
        return {aliases: [{name: 'prod', version: '1'}]}
      },
      readFunctionVersion: async (_name, version) => ({version, architecture: 'x86_64', layers: []}),
      readLayerVersion: async () => ({status: 'ok', codeSize: 1, codeSha256: 's', compatibleArchitectures: [], compatibleRuntimes: []}),
    }
    await streamTargets([{accountId: A, region: 'eu-west-1'}], async () => api, {concurrency: 1, lookupsPerTarget: 1, emit: () => {}}, {
      function: (_target, scanned) => void handedOver.push(new WeakRef(scanned)),
      target: () => {},
    })
    expect(handedOver).toHaveLength(6)
    expect(stillHeld).toEqual([0])
  })
})

describe('scanTargets: aliases', () => {
  const aliased = (calls: string[], options: {failAliasesOf?: string} = {}): LambdaReadApi => ({
    ...fakeApi([fn('a', [1]), fn('b', [])], calls),
    async listAliases(name, marker) {
      calls.push(`aliases:${name}:${marker ?? ''}`)
      if (name === options.failAliasesOf) throw Object.assign(new Error('not authorized to perform: lambda:ListAliases'), {name: 'AccessDeniedException'})
      if (name === 'b') return {aliases: []}
      // Two pages: prod and canary share version 3; dev is on $LATEST.
      return marker === undefined
        ? {aliases: [{name: 'canary', version: '3'}, {name: 'dev', version: '$LATEST'}], nextMarker: 'm'}
        : {aliases: [{name: 'prod', version: '2', additional: {version: '3', weight: 0.25}}]}
    },
    async readFunctionVersion(name, version) {
      calls.push(`version:${name}:${version}`)
      return {version, architecture: 'x86_64', layers: [{arn: layer(Number(version) + 10), codeSize: 1}]}
    },
  })

  it("reads each function's aliases (every page) and each version they point at once, never $LATEST again, and looks up those versions' layers", async () => {
    const calls: string[] = []
    const result = await scanTargets([{accountId: A, region: 'eu-west-1'}], async () => aliased(calls), {concurrency: 1, emit: () => {}})
    const scan = result.scans[0]!
    expect(scan.status).toBe('ok')
    const a = scan.status === 'ok' ? scan.functions[0]! : undefined
    expect(a?.aliases?.map((alias) => alias.name)).toEqual(['canary', 'dev', 'prod'])
    expect(a?.versions?.map((version) => version.version)).toEqual(['2', '3'])
    expect(calls.filter((call) => call.startsWith('version:')).sort()).toEqual(['version:a:2', 'version:a:3'])
    expect(calls.filter((call) => call.startsWith('aliases:')).sort()).toEqual(['aliases:a:', 'aliases:a:m', 'aliases:b:'])
    expect(Object.keys(result.layerVersions[A]!).sort()).toEqual([layer(1), layer(12), layer(13)].sort())
  })

  it('reads a published version again only when no alias routing to it now has a revision it was read under', async () => {
    const db = openStateDatabase(mkdtempSync(path.join(tmpdir(), 'layers-scan-versions-')))
    const withArn = (calls: string[], revisions: Record<string, string>): LambdaReadApi => ({
      ...aliased(calls),
      listFunctions: async () => ({functions: [{...fn('a', [1]), arn: `arn:aws:lambda:eu-west-1:${A}:function:a`}]}),
      async listAliases(name) {
        calls.push(`aliases:${name}:`)
        return {aliases: [{name: 'canary', version: '3', revisionId: revisions.canary!}, {name: 'dev', version: '$LATEST', revisionId: 'd'}, {name: 'prod', version: '2', additional: {version: '3', weight: 0.25}, revisionId: revisions.prod!}]}
      },
    })
    const scan = async (revisions: Record<string, string>): Promise<{calls: string[]; versions: unknown}> => {
      const calls: string[] = []
      const result = await scanTargets([{accountId: A, region: 'eu-west-1'}], async () => withArn(calls, revisions), {concurrency: 1, emit: () => {}, functionVersions: functionVersionCache(db)})
      const scanned = result.scans[0]!
      return {calls: calls.filter((call) => call.startsWith('version:')).sort(), versions: scanned.status === 'ok' ? scanned.functions[0]!.versions : undefined}
    }
    const first = await scan({canary: 'c1', prod: 'p1'})
    expect(first.calls).toEqual(['version:a:2', 'version:a:3'])
    // Unchanged aliases: nothing read, the same versions.
    expect(await scan({canary: 'c1', prod: 'p1'})).toEqual({calls: [], versions: first.versions})
    // prod changed (a new revision): version 2 only prod routes to is read again; 3 is known through canary.
    expect((await scan({canary: 'c1', prod: 'p2'})).calls).toEqual(['version:a:2'])
    // Every alias new (the function deleted and created again): every version read again.
    expect((await scan({canary: 'c9', prod: 'p9'})).calls).toEqual(['version:a:2', 'version:a:3'])
    db.close()
  })

  it('a function whose aliases cannot be read leaves the target incomplete, its functions still judged', async () => {
    const result = await scanTargets([{accountId: A, region: 'eu-west-1'}], async () => aliased([], {failAliasesOf: 'b'}), {concurrency: 1, emit: () => {}})
    expect(result.scans[0]).toMatchObject({
      status: 'incomplete',
      functions: [{name: 'a'}, {name: 'b'}],
      error: {code: 'AccessDeniedException', message: 'aliases of b could not be read: not authorized to perform: lambda:ListAliases'},
    })
  })
})

describe('resolveTargets', () => {
  const manifest = {
    file: '/p/layers.yaml',
    settings: {bucket: 'b', prefix: '', regions: ['eu-west-1'], architectures: ['x86_64' as const], runtimes: []},
    accounts: {prod: {name: 'prod', id: A, regions: ['eu-west-1', 'us-east-1']}, dev: {name: 'dev', id: B, profile: 'dev', regions: ['eu-west-1']}},
  }
  const deps = {failure: failureOf}
  it('uses the manifest accounts and regions, narrowed by --account and --region', async () => {
    const all = await resolveTargets(manifest, {}, deps)
    expect(all.targets.map((t) => `${t.accountName}/${t.region}`)).toEqual(['prod/eu-west-1', 'prod/us-east-1', 'dev/eu-west-1'])
    const narrowed = await resolveTargets(manifest, {accounts: ['prod'], regions: ['us-east-1']}, deps)
    expect(narrowed.targets.map((t) => `${t.accountName}/${t.region}`)).toEqual(['prod/us-east-1'])
    // A region outside the selected accounts' regions, or not a region at all, is refused before any call.
    await expect(resolveTargets(manifest, {accounts: ['dev'], regions: ['us-east-1']}, deps)).rejects.toMatchObject({code: 'ERR_LAYERS_REGION_NOT_IN_MANIFEST', exitCode: 2, hint: expect.stringContaining('eu-west-1')})
    await expect(resolveTargets(manifest, {regions: ['mars-1']}, deps)).rejects.toMatchObject({code: 'ERR_LAYERS_UNKNOWN_REGION', exitCode: 2})
    const byId = await resolveTargets(manifest, {accounts: ['333333333333'], regions: ['eu-west-1']}, deps)
    expect(byId.targets[0]!.account).toEqual({name: '333333333333', id: '333333333333', regions: ['eu-west-1']})
  })

  it('rejects an unknown account name and --org without a role', async () => {
    await expect(resolveTargets(manifest, {accounts: ['staging']}, deps)).rejects.toMatchObject({code: 'ERR_LAYERS_UNKNOWN_ACCOUNT', exitCode: 2})
    await expect(resolveTargets(manifest, {org: true}, deps)).rejects.toMatchObject({code: 'ERR_LAYERS_USAGE', exitCode: 2})
    await expect(resolveTargets(undefined, {}, deps)).rejects.toMatchObject({code: 'ERR_LAYERS_AUDIT_NO_TARGETS'})
  })

  it('--org assumes the role in every active account; --all-regions failures become failed targets', async () => {
    const plan = await resolveTargets(manifest, {org: true, roleName: 'Audit', allRegions: true}, {
      failure: failureOf,
      organizations: () => ({listActiveAccounts: async () => [{id: B, name: 'dev'}, {id: '444444444444', name: 'sandbox'}]}),
      regions: () => ({
        listEnabledRegions: async (account) => {
          if (account.id === B) throw Object.assign(new Error('not authorized'), {name: 'AccessDeniedException'})
          return ['us-west-2', 'eu-north-1']
        },
      }),
    })
    expect(plan.targets.map((t) => `${t.accountId}/${t.region}/${t.account.roleArn}`)).toEqual([
      '444444444444/eu-north-1/arn:aws:iam::444444444444:role/Audit',
      '444444444444/us-west-2/arn:aws:iam::444444444444:role/Audit',
    ])
    expect(plan.failed).toEqual([{accountId: B, accountName: 'dev', region: '*', error: {code: 'AccessDeniedException', message: 'not authorized'}}])
  })

  it('--org in aws-cn names the member roles in partition aws-cn', async () => {
    const plan = await resolveTargets(manifest, {org: true, roleName: 'Audit', regions: ['cn-north-1']}, {
      failure: failureOf,
      organizations: () => ({listActiveAccounts: async () => [{id: '444444444444', name: 'sandbox'}]}),
    })
    expect(plan.targets.map((t) => t.account.roleArn)).toEqual(['arn:aws-cn:iam::444444444444:role/Audit'])
  })
})
