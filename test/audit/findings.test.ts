import {describe, expect, it} from 'vitest'
import {buildCatalog, type CatalogManifest} from '../../src/audit/catalog.js'
import {
  buildReport,
  computeFindings,
  describeListChange,
  desiredKey,
  diffFindings,
  estimateUnzippedBytes,
  countAtThreshold,
  ownershipCandidates,
  type FindingsInput,
} from '../../src/audit/findings.js'
import type {LayerVersionInfo, ScannedFunction, TargetScan} from '../../src/audit/types.js'
import type {Lockfile} from '../../src/lock/types.js'
import {planAttach} from '../../src/attach/plan.js'

const A = '111111111111'
const B = '222222222222'
const R = 'eu-west-1'
const arn = (account: string, name: string, version: number, region = R): string => `arn:aws:lambda:${region}:${account}:layer:${name}:${version}`
const THIRD = '999999999999'

const manifest = {
  settings: {bucket: 'b', prefix: '', regions: [R], architectures: ['x86_64'], runtimes: ['nodejs20.x']},
  accounts: {
    prod: {name: 'prod', id: A, regions: [R]},
    dev: {name: 'dev', id: B, regions: [R]},
  },
  layers: {
    deps: {kind: 'npm', name: 'deps', runtimes: [], architectures: ['x86_64', 'arm64'], exclude: [], defaultExcludes: true, share: {accounts: [], public: false}, dependencies: {}},
    insights: {kind: 'arn', name: 'insights', arn: `arn:aws:lambda:{region}:${THIRD}:layer:LambdaInsightsExtension`},
  },
  functions: {
    api: {key: 'api', name: 'api-fn', source: '/x', handler: 'index.handler', runtime: 'nodejs20.x', architecture: 'x86_64', layers: ['deps', 'insights'], accounts: ['prod'], exclude: []},
  },
} as unknown as CatalogManifest

const lock: Lockfile = {
  lockfileVersion: 1,
  layers: {
    deps: {
      kind: 'npm',
      inputs: 'x',
      artifacts: {'arm64+x86_64': {architectures: ['arm64', 'x86_64']}},
      published: {[A]: {[R]: {'arm64+x86_64': {arn: arn(A, 'deps', 3), version: 3, codeSha256: 'sha-deps-3'}}}},
    },
    insights: {kind: 'arn', inputs: 'y', arns: {[A]: {[R]: arn(THIRD, 'LambdaInsightsExtension', 38)}}},
  },
}

const catalog = buildCatalog(manifest, lock)
const ok = (codeSize = 1000, architectures: Array<'x86_64' | 'arm64'> = ['x86_64', 'arm64'], sha = 'sha', runtimes: string[] = []): LayerVersionInfo => ({
  status: 'ok', codeSize, codeSha256: sha, compatibleArchitectures: architectures, compatibleRuntimes: runtimes,
})

function fn(name: string, layers: string[], extra: Partial<ScannedFunction> = {}): ScannedFunction {
  return {name, runtime: 'nodejs20.x', architecture: 'x86_64', codeSize: 1000, layers: layers.map((layer) => ({arn: layer, codeSize: 1000})), ...extra}
}

function input(functions: ScannedFunction[], overrides: Partial<FindingsInput> = {}): FindingsInput {
  const scans: TargetScan[] = [{accountId: A, accountName: 'prod', region: R, status: 'ok', functions}]
  return {
    scans,
    catalog,
    desired: {[desiredKey(A, R, 'api-fn')]: {arns: [arn(A, 'deps', 3), arn(THIRD, 'LambdaInsightsExtension', 38)]}},
    layerVersions: {},
    unzippedBytes: {},
    runtimes: [
      {runtime: 'nodejs16.x', deprecated: '2024-06-12'},
      {runtime: 'nodejs18.x', deprecated: '2025-09-01'},
      {runtime: 'nodejs20.x', deprecated: '2026-04-30'},
      {runtime: 'nodejs22.x'},
    ],
    now: '2025-06-01T00:00:00Z',
    ...overrides,
  }
}

const codes = (findings: ReturnType<typeof computeFindings>): string[] => findings.map((f) => `${f.severity}:${f.code}:${f.function}${f.layer ? `:${f.layer}` : ''}`)

describe('computeFindings', () => {
  it('reports nothing for a managed function on exactly the desired layers', () => {
    const findings = computeFindings(input([fn('api-fn', [arn(A, 'deps', 3), arn(THIRD, 'LambdaInsightsExtension', 38)])]))
    expect(findings).toEqual([])
  })

  it('reports behind (not drift) when the only difference is an older locked layer version', () => {
    const findings = computeFindings(input([fn('api-fn', [arn(A, 'deps', 2), arn(THIRD, 'LambdaInsightsExtension', 38)])]))
    expect(codes(findings)).toEqual([`warning:behind:api-fn:${arn(A, 'deps', 2)}`])
    expect(findings[0]!.message).toBe(`uses version 2 of layer deps; the lock has version 3 for ${A}/${R}`)
    expect(findings[0]!.fix).toBe(`Run \`layers attach api --account prod --region ${R}\`.`)
  })

  it('reports drift for a missing layer, an extra layer, or a different order', () => {
    const removed = computeFindings(input([fn('api-fn', [arn(A, 'deps', 3)])]))
    expect(codes(removed)).toEqual(['error:drift:api-fn'])
    expect(removed[0]!.message).toContain(`add ${arn(THIRD, 'LambdaInsightsExtension', 38)}`)
    const reordered = computeFindings(input([fn('api-fn', [arn(THIRD, 'LambdaInsightsExtension', 38), arn(A, 'deps', 3)])]))
    expect(codes(reordered)).toEqual(['error:drift:api-fn'])
    expect(reordered[0]!.message).toContain('order differs')
    const behindAndExtra = computeFindings(input([fn('api-fn', [arn(A, 'deps', 1)])]))
    expect(codes(behindAndExtra)).toEqual(['error:drift:api-fn', `warning:behind:api-fn:${arn(A, 'deps', 1)}`])
  })

  it('reports a managed container image function as image (info), not drift, and lists it with its package type', () => {
    const image = fn('api-fn', [], {packageType: 'Image', codeSize: 0, runtime: undefined})
    const findings = computeFindings(input([image]))
    expect(codes(findings)).toEqual(['info:image:api-fn'])
    expect(findings[0]!.fix).toContain('layers image api')
    expect(buildReport({...input([image]), startedAt: 's', finishedAt: 'f'}).functions).toMatchObject([{name: 'api-fn', packageType: 'Image', layers: [], managed: true}])
  })

  it('reports drift-iac with the stack name for a function a CloudFormation stack owns, and a redeploy fix', () => {
    const owners = {[desiredKey(A, R, 'api-fn')]: {kind: 'cloudformation' as const, stack: 'orders-prod'}}
    const findings = computeFindings(input([fn('api-fn', [arn(A, 'deps', 3)])], {owners}))
    expect(codes(findings)).toEqual(['error:drift-iac:api-fn'])
    expect(findings[0]).toMatchObject({stack: 'orders-prod', message: expect.stringContaining('belongs to CloudFormation stack orders-prod')})
    expect(findings[0]!.fix).toMatch(/^Redeploy stack orders-prod, /)
    expect(findings[0]!.fix).toContain('layers export')
    const behind = computeFindings(input([fn('api-fn', [arn(A, 'deps', 2), arn(THIRD, 'LambdaInsightsExtension', 38)])], {owners}))
    expect(codes(behind)).toEqual([`warning:behind:api-fn:${arn(A, 'deps', 2)}`])
    expect(behind[0]!.fix).toMatch(/^Redeploy stack orders-prod/)
  })

  it('reports drift-iac without a stack for an ownership tag, and plain drift for an unowned function', () => {
    const tagged = computeFindings(input([fn('api-fn', [])], {owners: {[desiredKey(A, R, 'api-fn')]: {kind: 'tag', tag: 'ManagedBy=terraform'}}}))
    expect(codes(tagged)).toEqual(['error:drift-iac:api-fn'])
    expect(tagged[0]!.stack).toBeUndefined()
    expect(tagged[0]!.message).toContain('tag ManagedBy=terraform')
    expect(codes(computeFindings(input([fn('api-fn', [])], {owners: {}})))).toEqual(['error:drift:api-fn'])
  })

  it('asks about the owners of managed functions that are behind or drift only', () => {
    const scans: TargetScan[] = [
      {accountId: A, region: R, status: 'ok', functions: [fn('api-fn', [arn(A, 'deps', 2), arn(THIRD, 'LambdaInsightsExtension', 38)]), fn('other', [])]},
    ]
    expect(ownershipCandidates({...input([]), scans})).toEqual([desiredKey(A, R, 'api-fn')])
    expect(ownershipCandidates(input([fn('api-fn', [arn(A, 'deps', 3), arn(THIRD, 'LambdaInsightsExtension', 38)])]))).toEqual([])
    expect(ownershipCandidates(input([fn('api-fn', [])], {desired: {[desiredKey(A, R, 'api-fn')]: {error: 'not published'}}}))).toEqual([])
  })

  it('reports drift when the desired list cannot be computed', () => {
    const findings = computeFindings(input([fn('api-fn', [])], {desired: {[desiredKey(A, R, 'api-fn')]: {error: 'layer deps is not published to 111111111111/eu-west-1'}}}))
    expect(codes(findings)).toEqual(['error:drift:api-fn'])
    expect(findings[0]!.message).toContain('not published')
  })

  it('does not report drift for a function the manifest does not manage, nor for the same name in another target', () => {
    const findings = computeFindings({
      ...input([fn('other', [arn(A, 'deps', 3)])]),
      scans: [
        {accountId: A, region: R, status: 'ok', functions: [fn('other', [arn(A, 'deps', 3)])]},
        {accountId: B, region: R, status: 'ok', functions: [fn('api-fn', [])]},
      ],
    })
    expect(findings).toEqual([])
  })

  it('reports behind for an unmanaged function too, with the locked ARN as the fix', () => {
    const findings = computeFindings(input([fn('cron', [arn(A, 'deps', 1)])]))
    expect(codes(findings)).toEqual([`warning:behind:cron:${arn(A, 'deps', 1)}`])
    expect(findings[0]!.fix).toBe(`Move the function to ${arn(A, 'deps', 3)}.`)
  })

  it('does not report behind for a newer version than the lock, or a version of a lock without this target', () => {
    expect(computeFindings(input([fn('cron', [arn(A, 'deps', 4)])]))).toEqual([])
    const other = computeFindings({...input([]), scans: [{accountId: B, region: R, status: 'ok', functions: [fn('x', [arn(B, 'deps', 1)])]}]})
    expect(other).toEqual([])
  })

  it('reports missing (error) for a layer version GetLayerVersion did not find', () => {
    const gone = arn(A, 'deps', 3)
    const findings = computeFindings(input([fn('api-fn', [gone, arn(THIRD, 'LambdaInsightsExtension', 38)])], {layerVersions: {[A]: {[gone]: {status: 'missing'}}}}))
    expect(codes(findings)).toEqual([`error:missing:api-fn:${gone}`])
  })

  it("reports missing (warning) for a version the function's account cannot read, from that account's own lookup", () => {
    const shared = arn(THIRD, 'LambdaInsightsExtension', 38)
    const denied = {status: 'unreadable' as const, error: {code: 'AccessDeniedException', message: 'not authorized'}}
    // Another account could read it; this one cannot (deleted, or no longer shared with it).
    const findings = computeFindings(input([fn('cron', [shared])], {layerVersions: {[B]: {[shared]: ok()}, [A]: {[shared]: denied}}}))
    expect(codes(findings)).toEqual([`warning:missing:cron:${shared}`])
    expect(findings[0]!.message).toContain(`which account ${A} cannot read (AccessDeniedException): it was deleted, or is no longer shared`)
    const throttled = {status: 'unreadable' as const, error: {code: 'TooManyRequestsException', message: 'Rate exceeded'}}
    const unchecked = computeFindings(input([fn('cron', [shared])], {layerVersions: {[A]: {[shared]: throttled}}}))
    expect(unchecked[0]!.message).toContain('could not be checked (TooManyRequestsException: Rate exceeded)')
    expect(computeFindings(input([fn('cron', [shared])], {layerVersions: {[A]: {[shared]: ok()}, [B]: {[shared]: denied}}}))).toEqual([])
  })

  it('reports unmanaged (info) for layers neither manifest nor lock knows, including non-ARN text', () => {
    const foreign = arn(THIRD, 'datadog', 10)
    const findings = computeFindings(input([fn('cron', [foreign])]))
    expect(codes(findings)).toEqual([`info:unmanaged:cron:${foreign}`])
    // An own layer of the manifest in another of its accounts is known even before it is locked there.
    expect(computeFindings(input([fn('cron', [arn(B, 'deps', 1)])]))).toEqual([])
  })

  it('reports limits at 5 layers (warning) and above (error)', () => {
    const five = [1, 2, 3, 4, 5].map((n) => arn(A, `l${n}`, 1))
    expect(codes(computeFindings(input([fn('cron', five)]))).filter((c) => c.includes('limits'))).toEqual(['warning:limits:cron'])
    const six = [...five, arn(A, 'l6', 1)]
    expect(codes(computeFindings(input([fn('cron', six)]))).filter((c) => c.includes('limits'))).toEqual(['error:limits:cron'])
  })

  it('reports limits by estimated unzipped size: over 80% warns, over 100% is an error', () => {
    // 70 MB zipped x 3 = 210 MB > 80% of 262,144,000 (209,715,200).
    expect(codes(computeFindings(input([fn('big', [], {codeSize: 70_000_000})])))).toEqual(['warning:limits:big'])
    expect(codes(computeFindings(input([fn('small', [], {codeSize: 69_000_000})])))).toEqual([])
    expect(codes(computeFindings(input([fn('huge', [], {codeSize: 90_000_000})])))).toEqual(['error:limits:huge'])
  })

  it('uses the exact unzipped size of a layer built here instead of the estimate', () => {
    const layer = arn(A, 'deps', 3)
    const f = fn('cron', [layer], {codeSize: 10})
    f.layers[0]!.codeSize = 60_000_000
    const layerVersions = {[layer]: ok(60_000_000, ['x86_64'], 'sha-deps-3')}
    expect(estimateUnzippedBytes(f, layerVersions, {})).toEqual({bytes: 180_000_030, estimated: true})
    expect(estimateUnzippedBytes(f, layerVersions, {'sha-deps-3': 100})).toEqual({bytes: 130, estimated: true})
    expect(estimateUnzippedBytes(fn('x', [layer], {codeSize: 0}), layerVersions, {'sha-deps-3': 100})).toEqual({bytes: 100, estimated: false})
    const findings = computeFindings(input([{...f, codeSize: 0}], {layerVersions: {[A]: {[layer]: ok(60_000_000, ['x86_64'], 'sha-deps-3')}}, unzippedBytes: {'sha-deps-3': 250_000_000}}))
    expect(codes(findings)).toEqual(['warning:limits:cron'])
    expect(findings[0]!.message).toBe('code plus layers is 250000000 bytes unzipped, 95% of the 262144000-byte limit')
  })

  it('reports runtime: deprecated is an error, within 180 days a warning, later or unknown nothing', () => {
    const findings = computeFindings(
      input([
        fn('old', [], {runtime: 'nodejs16.x'}),
        fn('soon', [], {runtime: 'nodejs18.x'}),
        fn('later', [], {runtime: 'nodejs20.x'}),
        fn('current', [], {runtime: 'nodejs22.x'}),
        fn('custom', [], {runtime: 'provided.al2023'}),
        fn('image', [], {runtime: undefined}),
      ]),
    )
    expect(codes(findings)).toEqual(['error:runtime:old', 'warning:runtime:soon'])
    expect(findings[0]!.message).toBe('runs on nodejs16.x, deprecated since 2024-06-12')
    expect(findings[0]!.fix).toContain('such as nodejs22.x')
    expect(findings[1]!.message).toBe('runs on nodejs18.x, deprecated on 2025-09-01 (in 92 days)')
  })

  it('reports arch when a layer version declares architectures without the function\'s', () => {
    const x86Only = arn(THIRD, 'tool', 1)
    const undeclared = arn(THIRD, 'old', 1)
    const findings = computeFindings(
      input([fn('graviton', [x86Only, undeclared], {architecture: 'arm64'})], {layerVersions: {[A]: {[x86Only]: ok(1, ['x86_64']), [undeclared]: ok(1, [])}}}),
    )
    expect(codes(findings).filter((c) => c.includes('arch'))).toEqual([`error:arch:graviton:${x86Only}`])
    expect(findings.find((f) => f.code === 'arch')!.message).toBe(`runs on arm64, but ${x86Only} declares only x86_64`)
  })

  it('reports layer-runtime when a layer version declares runtimes without the function\'s, as attach refuses it; no runtimes declared fits all', () => {
    const nodeOnly = arn(THIRD, 'tool', 1)
    const undeclared = arn(THIRD, 'old', 1)
    const findings = computeFindings(
      input([fn('py', [nodeOnly, undeclared], {runtime: 'python3.12'}), fn('node', [nodeOnly], {runtime: 'nodejs22.x'})], {
        layerVersions: {[A]: {[nodeOnly]: ok(1, undefined, undefined, ['nodejs22.x', 'nodejs24.x']), [undeclared]: ok(1)}},
      }),
    )
    expect(codes(findings).filter((c) => c.includes('layer-runtime'))).toEqual([`error:layer-runtime:py:${nodeOnly}`])
    expect(findings.find((f) => f.code === 'layer-runtime')!.message).toBe(`runs on python3.12, but ${nodeOnly} declares only nodejs22.x, nodejs24.x`)
    // The same facts make attach refuse the function, with the same runtimes named.
    const decision = planAttach({
      target: {function: 'py', architecture: 'x86_64'},
      current: {name: 'py', runtime: 'python3.12', architectures: ['x86_64'], codeSize: 1, layers: [], revisionId: 'r'},
      desired: [nodeOnly, undeclared],
      layers: {[nodeOnly]: {codeSize: 1, compatibleRuntimes: ['nodejs22.x', 'nodejs24.x']}, [undeclared]: {codeSize: 1}},
    })
    expect(decision).toMatchObject({action: 'refuse', reasons: [`${nodeOnly} declares runtimes nodejs22.x, nodejs24.x, not python3.12.`]})
  })

  it('knows the own layers of an account in aws-cn by their aws-cn layer ARN', () => {
    const cn = {...manifest, accounts: {prod: {name: 'prod', id: A, regions: ['cn-north-1']}}} as unknown as CatalogManifest
    expect(buildCatalog(cn, undefined).known[`arn:aws-cn:lambda:cn-north-1:${A}:layer:deps`]).toBe('deps')
    expect(buildCatalog(cn, undefined).known[`arn:aws:lambda:cn-north-1:${A}:layer:deps`]).toBeUndefined()
  })

  it('skips failed targets and sorts findings by severity, account, region, function, code', () => {
    const findings = computeFindings({
      ...input([]),
      scans: [
        {accountId: B, region: R, status: 'ok', functions: [fn('z', [], {runtime: 'nodejs16.x'}), fn('a', [arn(THIRD, 'x', 1)])]},
        {accountId: A, region: R, status: 'ok', functions: [fn('y', [arn(THIRD, 'x', 1)], {runtime: 'nodejs18.x'})]},
        {accountId: A, region: 'us-east-1', status: 'failed', error: {code: 'AccessDeniedException', message: 'no'}},
      ],
    })
    expect(findings.map((f) => `${f.severity}:${f.accountId}:${f.function}:${f.code}`)).toEqual([
      `error:${B}:z:runtime`,
      `warning:${A}:y:runtime`,
      `info:${A}:y:unmanaged`,
      `info:${B}:a:unmanaged`,
    ])
  })
})

describe('buildReport', () => {
  it('summarises targets, functions, findings and the layer x version usage matrix', () => {
    const report = buildReport({
      ...input([]),
      scans: [
        {accountId: A, accountName: 'prod', region: R, status: 'ok', functions: [fn('api-fn', [arn(A, 'deps', 3), arn(THIRD, 'LambdaInsightsExtension', 38)]), fn('b', [arn(A, 'deps', 2)])]},
        {accountId: B, region: R, status: 'ok', functions: [fn('c', [arn(A, 'deps', 3)])]},
        {accountId: B, region: 'us-east-1', status: 'failed', error: {code: 'AccessDeniedException', message: 'denied'}},
      ],
      startedAt: '2025-06-01T00:00:00.000Z',
      finishedAt: '2025-06-01T00:00:01.000Z',
    })
    expect(report.summary).toEqual({targets: 3, failedTargets: 1, functions: 3, findings: {error: 0, warning: 1, info: 0}})
    expect(report.targets[2]).toEqual({accountId: B, region: 'us-east-1', status: 'failed', functions: 0, error: {code: 'AccessDeniedException', message: 'denied'}})
    expect(report.functions.map((f) => `${f.accountId}/${f.name}/${f.managed}`)).toEqual([`${A}/api-fn/true`, `${A}/b/false`, `${B}/c/false`])
    expect(report.usage.map((u) => [u.name, u.version, u.functions, u.targets.map((t) => `${t.accountId}:${t.functions}`).join(' ')])).toEqual([
      ['deps', 2, 1, `${A}:1`],
      ['deps', 3, 2, `${A}:1 ${B}:1`],
      ['insights', 38, 1, `${A}:1`],
    ])
  })
})

describe('aliases', () => {
  const on = (layers: string[], version: string, runtime = 'nodejs20.x') => ({version, runtime, architecture: 'x86_64' as const, layers: layers.map((layer) => ({arn: layer, codeSize: 1000}))})
  const current = [arn(A, 'deps', 3), arn(THIRD, 'LambdaInsightsExtension', 38)]
  const aliased = fn('api-fn', current, {
    aliases: [
      {name: 'dev', version: '$LATEST'},
      {name: 'live', version: '42'},
      {name: 'prod', version: '42', additional: {version: '43', weight: 0.1}},
    ],
    versions: [on([arn(A, 'deps', 2)], '42', 'nodejs16.x'), on([arn(A, 'deps', 1)], '43')],
  })

  it("reports each alias's published version as `alias prod -> 42 runs deps:2, behind`, none for an alias on $LATEST", () => {
    const findings = computeFindings(input([aliased], {layerVersions: {[A]: {[arn(A, 'deps', 1)]: {status: 'missing'}}}}))
    expect(findings.map((f) => [f.alias ?? '$LATEST', f.code, f.message])).toEqual([
      ['prod', 'missing', `alias prod -> 43 (10%) runs deps:1, missing: the layer version no longer exists; the version keeps running it, but no new version can be published with it`],
      ['live', 'runtime', 'alias live -> 42 runs nodejs16.x, deprecated since 2024-06-12'],
      ['prod', 'runtime', 'alias prod -> 42 (90%) runs nodejs16.x, deprecated since 2024-06-12'],
      ['prod', 'behind', `alias prod -> 43 (10%) runs deps:1, behind: the lock has version 3 for ${A}/${R}`],
      ['live', 'behind', `alias live -> 42 runs deps:2, behind: the lock has version 3 for ${A}/${R}`],
      ['prod', 'behind', `alias prod -> 42 (90%) runs deps:2, behind: the lock has version 3 for ${A}/${R}`],
    ])
    expect(findings.find((f) => f.alias === 'live' && f.code === 'behind')!.fix).toBe('Run `layers attach api --account prod --region eu-west-1`, publish a new version of the function and point the alias at it.')
  })

  it('counts the layers of alias versions in the usage matrix (a function once per version) and lists the routes per function', () => {
    const report = buildReport({...input([aliased]), startedAt: 's', finishedAt: 'f'})
    expect(report.usage.map((row) => [row.name, row.version, row.functions])).toEqual([
      ['deps', 1, 1],
      ['deps', 2, 1],
      ['deps', 3, 1],
      ['insights', 38, 1],
    ])
    expect(report.functions[0]!.aliases).toEqual([
      {name: 'dev', routes: [{version: '$LATEST', weight: 1, layers: current}]},
      {name: 'live', routes: [{version: '42', weight: 1, layers: [arn(A, 'deps', 2)]}]},
      {name: 'prod', routes: [{version: '42', weight: 0.9, layers: [arn(A, 'deps', 2)]}, {version: '43', weight: 0.1, layers: [arn(A, 'deps', 1)]}]},
    ])
  })

  it('judges the functions of an incomplete target, and reports it with its error', () => {
    const scans: TargetScan[] = [{accountId: A, region: R, status: 'incomplete', functions: [fn('x', [arn(A, 'deps', 2)])], error: {code: 'AccessDeniedException', message: 'aliases of x could not be read: denied'}}]
    const report = buildReport({...input([]), scans, startedAt: 's', finishedAt: 'f'})
    expect(report.findings.map((f) => f.code)).toContain('behind')
    expect(report.targets).toEqual([{accountId: A, region: R, status: 'incomplete', functions: 1, error: {code: 'AccessDeniedException', message: 'aliases of x could not be read: denied'}}])
  })
})

describe('describeListChange', () => {
  it('names added, removed and moved layers', () => {
    expect(describeListChange([arn(A, 'a', 1), arn(A, 'c', 1)], [arn(A, 'a', 2), arn(A, 'b', 1)])).toBe(
      `move arn:aws:lambda:${R}:${A}:layer:a from 1 to 2; add ${arn(A, 'b', 1)}; remove ${arn(A, 'c', 1)}`,
    )
  })
})

describe('diffFindings and countAtThreshold', () => {
  const f = (code: 'runtime' | 'limits', fnName: string, message: string, severity: 'error' | 'warning' | 'info' = 'warning') => ({
    code, severity, accountId: A, region: R, function: fnName, message, fix: 'x',
  })
  it('matches findings across runs ignoring changed figures', () => {
    const before = [f('runtime', 'a', 'deprecated on 2025-09-01 (in 92 days)'), f('limits', 'b', 'uses 5 layers')]
    const after = [f('runtime', 'a', 'deprecated on 2025-09-01 (in 80 days)'), f('limits', 'c', 'uses 5 layers')]
    const diff = diffFindings(before, after)
    expect(diff.unchanged).toBe(1)
    expect(diff.added.map((x) => x.function)).toEqual(['c'])
    expect(diff.resolved.map((x) => x.function)).toEqual(['b'])
  })
  it('--fail-on error counts errors only; warning counts both; info never fails', () => {
    const counts = (error: number, warning: number, info: number) => ({error, warning, info})
    expect(countAtThreshold(counts(0, 1, 0), 'error')).toBe(0)
    expect(countAtThreshold(counts(0, 1, 0), 'warning')).toBe(1)
    expect(countAtThreshold(counts(2, 1, 5), 'error')).toBe(2)
    expect(countAtThreshold(counts(2, 1, 5), 'warning')).toBe(3)
    expect(countAtThreshold(counts(0, 0, 3), 'warning')).toBe(0)
    expect(countAtThreshold(counts(1, 0, 0), undefined)).toBe(0)
  })
})
