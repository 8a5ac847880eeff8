import {mkdtempSync, mkdirSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {diffLayers, planAttach, selectFunctionTargets, UNZIPPED_LIMIT, type FunctionState, type LayerFacts} from '../../src/attach/plan.js'
import {parseManifest} from '../../src/manifest/load.js'

const L = (name: string, version: number, account = '111111111111') => `arn:aws:lambda:eu-west-1:${account}:layer:${name}:${version}`

const state = (layers: string[], extra: Partial<FunctionState> = {}): FunctionState => ({
  name: 'api',
  runtime: 'nodejs22.x',
  architectures: ['arm64'],
  codeSize: 1000,
  layers: layers.map((arn) => ({arn, codeSize: 10})),
  revisionId: 'r1',
  ...extra,
})
const facts = (extra: Partial<LayerFacts> = {}): LayerFacts => ({codeSize: 10, compatibleRuntimes: ['nodejs22.x'], compatibleArchitectures: ['arm64'], ...extra})
const target = {function: 'api', architecture: 'arm64' as const}

describe('diffLayers', () => {
  it('tells added, removed, moved and reordered apart', () => {
    expect(diffLayers([L('a', 1), L('b', 1), L('x', 2)], [L('a', 2), L('b', 1), L('c', 1)])).toEqual({
      added: [L('c', 1)],
      removed: [L('x', 2)],
      moved: [{from: L('a', 1), to: L('a', 2)}],
      reordered: false,
    })
    expect(diffLayers([L('a', 1), L('b', 1)], [L('b', 1), L('a', 1)])).toMatchObject({added: [], removed: [], moved: [], reordered: true})
  })
})

describe('planAttach', () => {
  it('is a no-op when the function is already on the desired list', () => {
    expect(planAttach({target, current: state([L('a', 1)]), desired: [L('a', 1)], layers: {}}).action).toBe('noop')
  })

  it('updates when compatible', () => {
    const decision = planAttach({target, current: state([L('a', 1)]), desired: [L('a', 2)], layers: {[L('a', 2)]: facts()}})
    expect(decision).toMatchObject({action: 'update', diff: {moved: [{from: L('a', 1), to: L('a', 2)}]}})
  })

  it('refuses a container image function with one reason naming it and how its layers get there instead', () => {
    const decision = planAttach({target, current: state([], {packageType: 'Image', runtime: undefined, codeSize: 0}), desired: [L('a', 1)], layers: {}})
    expect(decision.action === 'refuse' && decision.reasons).toEqual([
      'api is a container image function (PackageType Image): Lambda puts no layers on those, an image carries its layers in /opt. `layers image api` builds one with the locked layers; `layers deploy api --image-uri REPOSITORY@sha256:DIGEST` deploys it.',
    ])
  })

  it('refuses a sixth layer', () => {
    const desired = [1, 2, 3, 4, 5, 6].map((n) => L(`l${n}`, 1))
    const decision = planAttach({target, current: state([]), desired, layers: Object.fromEntries(desired.map((arn) => [arn, facts()]))})
    expect(decision.action).toBe('refuse')
    expect(decision.action === 'refuse' && decision.reasons).toEqual(['6 layers requested; a function can use at most 5.'])
  })

  it('refuses over 250 MiB unzipped with the code, counting unzipped sizes when known', () => {
    const half = UNZIPPED_LIMIT / 2
    const ok = planAttach({target, current: state([], {codeSize: 1}), desired: [L('a', 1)], layers: {[L('a', 1)]: facts({codeSize: 5, unzippedBytes: half})}})
    expect(ok.action).toBe('update')
    const over = planAttach({
      target,
      current: state([], {codeSize: 1}),
      desired: [L('a', 1), L('b', 1)],
      layers: {[L('a', 1)]: facts({unzippedBytes: half}), [L('b', 1)]: facts({unzippedBytes: half})},
    })
    expect(over.action === 'refuse' && over.reasons[0]).toBe(`The code and layers add up to ${UNZIPPED_LIMIT + 1} bytes unzipped, over Lambda's limit of 262144000 bytes.`)
    // The deployed package's unzipped size, when `layers package` made it, counts instead of its zipped size.
    const withCode = {target, current: state([], {codeSize: 1}), desired: [L('a', 1)], layers: {[L('a', 1)]: facts({unzippedBytes: half})}}
    expect(planAttach(withCode).action).toBe('update')
    expect(planAttach({...withCode, codeUnzippedBytes: half + 1}).action).toBe('refuse')
  })

  it('refuses incompatible runtimes and architectures, unreadable layers, and a deployed architecture other than the manifest\'s', () => {
    const decision = planAttach({
      target: {function: 'api', architecture: 'x86_64'},
      current: state([]),
      desired: [L('a', 1), L('b', 1), L('c', 1)],
      layers: {[L('a', 1)]: facts({compatibleRuntimes: ['python3.12']}), [L('b', 1)]: facts({compatibleArchitectures: ['x86_64']}), [L('c', 1)]: undefined},
    })
    expect(decision.action === 'refuse' && decision.reasons).toEqual([
      'api is deployed for arm64 but the manifest says x86_64; redeploy it or fix `architecture` in the manifest.',
      `${L('a', 1)} declares runtimes python3.12, not nodejs22.x.`,
      `${L('b', 1)} declares architectures x86_64, not arm64.`,
      `${L('c', 1)} does not exist or is not shared with this account (a deleted version can no longer be added).`,
    ])
  })

  it('accepts layers that declare no runtimes or architectures', () => {
    expect(planAttach({target, current: state([]), desired: [L('a', 1)], layers: {[L('a', 1)]: {codeSize: 1}}}).action).toBe('update')
  })
})

describe('selectFunctionTargets', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'layers-attach-plan-'))
  afterAll(() => rmSync(root, {recursive: true, force: true}))
  for (const dir of ['fn/a', 'fn/b']) mkdirSync(path.join(root, dir), {recursive: true})
  const manifest = parseManifest(
    `version: 1
settings: {bucket: "b-{accountId}-{region}", regions: [eu-west-1]}
accounts:
  dev: {id: "111111111111"}
  prod: {id: "222222222222", regions: [eu-west-1, us-east-1]}
layers: {}
functions:
  a: {name: svc-a, source: fn/a, handler: index.handler, runtime: nodejs22.x, architecture: arm64, layers: [], accounts: [dev, prod]}
  b: {source: fn/b, handler: index.handler, runtime: nodejs22.x, architecture: x86_64, layers: [], accounts: [prod]}
`,
    path.join(root, 'layers.yaml'),
  )

  it('expands functions over their accounts and regions, narrowed by flags', () => {
    expect(selectFunctionTargets(manifest, {}).map((t) => `${t.functionName}@${t.accountName}/${t.region}`)).toEqual([
      'svc-a@dev/eu-west-1',
      'svc-a@prod/eu-west-1',
      'b@prod/eu-west-1',
      'svc-a@prod/us-east-1',
      'b@prod/us-east-1',
    ])
    expect(selectFunctionTargets(manifest, {functions: ['svc-a'], accounts: ['prod'], regions: ['us-east-1']}).map((t) => t.function)).toEqual(['a'])
  })

  it('rejects unknown functions and accounts', () => {
    expect(() => selectFunctionTargets(manifest, {functions: ['c']})).toThrow(expect.objectContaining({code: 'ERR_LAYERS_UNKNOWN_FUNCTION', exitCode: 2}))
    expect(() => selectFunctionTargets(manifest, {accounts: ['qa']})).toThrow(expect.objectContaining({code: 'ERR_LAYERS_UNKNOWN_ACCOUNT', exitCode: 2}))
  })
})
