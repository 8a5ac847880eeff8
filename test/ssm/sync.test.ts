// syncParameters against an in-memory SSM: values read by listing the template's path once per account
// and region (10 a page), only wrong values written (with the tags), a failing target failing its
// parameters alone, stale names always reported and removed only with prune, a dry run writing
// nothing, and an interrupt starting no write.
import {describe, expect, it} from 'vitest'
import type {SsmParameterApi} from '../../src/aws/ssm-parameters.js'
import type {DesiredParameter, SsmTarget} from '../../src/ssm/plan.js'
import {syncParameters, type SsmSyncOptions} from '../../src/ssm/sync.js'

const TEMPLATE = '/layers/{layer}/{channel}/{architecture}'
const DEV = {accountName: 'dev', accountId: '111111111111', region: 'eu-west-1'}
const PROD = {accountName: 'prod', accountId: '222222222222', region: 'eu-west-1'}

function fakeSsm(initial: Record<string, Record<string, string>> = {}, options: {failing?: string; onPut?: () => void} = {}) {
  const stores = new Map(Object.entries(initial).map(([account, values]) => [account, new Map(Object.entries(values))]))
  const calls: string[] = []
  const api = async (target: SsmTarget): Promise<SsmParameterApi> => {
    const store = stores.get(target.accountId) ?? new Map<string, string>()
    stores.set(target.accountId, store)
    const fail = () => {
      if (options.failing === target.accountId) throw Object.assign(new Error('denied'), {name: 'AccessDeniedException', $metadata: {httpStatusCode: 400}})
    }
    return {
      async put(name, value, tags, exists) {
        calls.push(`${target.accountId} put ${name} ${exists ? 'overwrite' : 'create'} ${Object.keys(tags).sort().join(',')}`)
        store.set(name, value)
        options.onPut?.()
      },
      async list(path) {
        const under = [...store].filter(([name]) => name.startsWith(`${path}/`))
        for (let i = 0; i === 0 || i < under.length; i += 10) calls.push(`${target.accountId} GetParametersByPath ${path} ${Math.min(10, under.length - i)}`)
        fail()
        return new Map(under)
      },
      async remove(names) {
        calls.push(`${target.accountId} remove ${names.join(',')}`)
        for (const name of names) store.delete(name)
        return []
      },
      async value(name) {
        return store.get(name)
      },
    }
  }
  return {api, calls, stores}
}

const parameter = (target: SsmTarget, layer: string, version: number): DesiredParameter => ({
  ...target,
  name: `/layers/${layer}/default/x86_64`,
  layer,
  channel: 'default',
  architecture: 'x86_64',
  artifactKey: 'x86_64',
  value: `arn:aws:lambda:${target.region}:${target.accountId}:layer:${layer}:${version}`,
  version,
  codeSha256: `${'A'.repeat(43)}=`,
})

const options = (extra: Partial<SsmSyncOptions> = {}): SsmSyncOptions => ({template: TEMPLATE, named: new Set(), prune: false, dryRun: false, concurrency: 4, now: () => '2026-01-01T00:00:00.000Z', ...extra})

describe('syncParameters', () => {
  it('lists the path once (10 a page) for the current values and writes only what is wrong, tagged', async () => {
    const desired = Array.from({length: 12}, (_, i) => parameter(DEV, `l${String(i).padStart(2, '0')}`, 1))
    const named = new Set(desired.map((p) => p.name))
    const ssm = fakeSsm({[DEV.accountId]: {[desired[0]!.name]: desired[0]!.value, [desired[1]!.name]: 'old', '/elsewhere/x': 'y'}})
    const result = await syncParameters(desired, ssm.api, options({named}))
    expect(result.summary).toMatchObject({parameters: 12, written: 11, unchanged: 1, failed: 0, stale: 0})
    expect(ssm.calls.filter((call) => call.includes('GetParametersByPath'))).toEqual([`${DEV.accountId} GetParametersByPath /layers 2`])
    expect(ssm.calls).toContain(`${DEV.accountId} put /layers/l01/default/x86_64 overwrite layers:codeSha256,layers:publishedAt`)
    expect(result.parameters.find((p) => p.layer === 'l01')!.status).toBe('updated')
    ssm.calls.length = 0
    const again = await syncParameters(desired, ssm.api, options({named}))
    expect(again.summary).toMatchObject({written: 0, unchanged: 12})
    expect(ssm.calls).toEqual([`${DEV.accountId} GetParametersByPath /layers 10`, `${DEV.accountId} GetParametersByPath /layers 2`])
  })

  it('fails a target alone, writes nothing on a dry run, reports stale names and removes them only with prune', async () => {
    const ssm = fakeSsm({[DEV.accountId]: {'/layers/gone/default/x86_64': 'x', '/layers/other': 'y'}}, {failing: PROD.accountId})
    const desired = [parameter(DEV, 'a', 1), parameter(PROD, 'a', 1)]
    const named = new Set(['/layers/a/default/x86_64'])
    const dry = await syncParameters(desired, ssm.api, options({dryRun: true, prune: true, named}))
    expect(dry.parameters.map((p) => `${p.accountName} ${p.status}${p.error ? ` ${p.error.code}` : ''}`)).toEqual(['dev would-create', 'prod failed AccessDeniedException'])
    expect(dry.stale.map((entry) => `${entry.name} ${entry.status}`)).toEqual(['/layers/gone/default/x86_64 would-remove'])
    expect(ssm.calls.some((call) => / put | remove /.test(call))).toBe(false)
    const kept = await syncParameters(desired, ssm.api, options({named}))
    expect(kept.summary).toMatchObject({written: 1, failed: 1, stale: 1, removed: 0})
    expect(kept.stale.map((entry) => `${entry.accountName} ${entry.name} ${entry.status}`)).toEqual(['dev /layers/gone/default/x86_64 kept'])
    expect(ssm.stores.get(DEV.accountId)!.has('/layers/gone/default/x86_64')).toBe(true)
    // A target with no parameter to hold is listed too; its failing listing is reported.
    const real = await syncParameters([parameter(DEV, 'a', 1)], ssm.api, options({prune: true, named, targets: [DEV, PROD]}))
    expect(real.summary).toMatchObject({written: 0, failed: 1, stale: 2, removed: 1})
    expect(real.stale.find((entry) => entry.accountName === 'prod')).toMatchObject({name: '/layers/*', status: 'failed', error: {code: 'AccessDeniedException'}})
    expect([...ssm.stores.get(DEV.accountId)!.keys()].sort()).toEqual(['/layers/a/default/x86_64', '/layers/other'])
  })

  it('starts no write after an interrupt: the rest is not-started', async () => {
    const controller = new AbortController()
    const ssm = fakeSsm({}, {onPut: () => controller.abort()})
    const desired = [parameter(DEV, 'a', 1), parameter(DEV, 'b', 1), parameter(DEV, 'c', 1)]
    const result = await syncParameters(desired, ssm.api, options({signal: controller.signal}))
    expect(result.parameters.map((p) => p.status)).toEqual(['created', 'not-started', 'not-started'])
    expect(result.summary).toMatchObject({written: 1, notStarted: 2})
  })
})
