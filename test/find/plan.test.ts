// layers find's answer from plain data (src/find/plan.ts): Node's resolution decides which copy a
// dependent pulls in, the chain is the shortest from a top-level package, an earlier content answers
// through its recorded tree once the lock moved on, functions are found through the publications and
// through the layer versions audits read, aliases included, and the query is parsed strictly.
import {describe, expect, it} from 'vitest'
import {findPackage, parseFindQuery, resolveFrom, type FindInputs, type RecordedTree} from '../../src/find/plan.js'
import type {LockedPackage, Lockfile} from '../../src/lock/types.js'
import {UserInputError} from '../../src/errors/index.js'

const pkg = (name: string, version: string, dependencies?: Record<string, string>): LockedPackage => ({
  name,
  version,
  resolved: `https://registry.npmjs.org/${name}/-/${name}-${version}.tgz`,
  integrity: `sha512-${name}${version}`,
  ...(dependencies ? {dependencies} : {}),
})

// express 4 pulls ms 2.0.0 through debug; send has its own ms 2.1.3 nested.
const OLD_TREE = {
  'node_modules/express': pkg('express', '4.21.2', {debug: '2.6.9', send: '0.19.0'}),
  'node_modules/debug': pkg('debug', '2.6.9', {ms: '2.0.0'}),
  'node_modules/ms': pkg('ms', '2.0.0'),
  'node_modules/send': pkg('send', '0.19.0', {debug: '2.6.9', ms: '2.1.3'}),
  'node_modules/send/node_modules/ms': pkg('ms', '2.1.3'),
}
const NEW_TREE = {
  'node_modules/express': pkg('express', '5.1.0', {debug: '^4.4.0'}),
  'node_modules/debug': pkg('debug', '4.4.1', {ms: '^2.1.3'}),
  'node_modules/ms': pkg('ms', '2.1.3'),
}

const ACCOUNT = '111111111111'
const OTHER = '222222222222'
const REGION = 'eu-west-1'
const arn = (accountId: string, version: number): string => `arn:aws:lambda:${REGION}:${accountId}:layer:web:${version}`

function inputs(overrides: Partial<FindInputs> = {}): FindInputs {
  const lock: Lockfile = {
    lockfileVersion: 1,
    layers: {
      web: {
        kind: 'npm',
        inputs: 'x',
        artifacts: {x86_64: {architectures: ['x86_64'], packages: NEW_TREE}},
        published: {[ACCOUNT]: {[REGION]: {x86_64: {arn: arn(ACCOUNT, 2), version: 2, codeSha256: 'NEW='}}}},
      },
      vendor: {kind: 'arn', inputs: 'y', arns: {[ACCOUNT]: {[REGION]: 'arn:aws:lambda:eu-west-1:999999999999:layer:vendor:4'}}},
    },
  }
  const trees: RecordedTree[] = [
    {codeSha256: 'OLD=', layer: 'web', artifactKey: 'x86_64', packages: OLD_TREE},
    {codeSha256: 'NEW=', layer: 'web', artifactKey: 'x86_64', packages: NEW_TREE},
  ]
  return {
    lock,
    trees,
    publications: [{layer: 'web', artifactKey: 'x86_64', accountId: ACCOUNT, region: REGION, version: 1, arn: arn(ACCOUNT, 1), codeSha256: 'OLD='}],
    layerVersionHashes: new Map([[`${OTHER} ${arn(OTHER, 7)}`, 'OLD=']]),
    audit: {
      runId: 3,
      finishedAt: '2026-12-01T10:00:00.000Z',
      functions: [
        {accountId: ACCOUNT, region: REGION, name: 'api', layers: [arn(ACCOUNT, 2)], aliases: [{name: 'live', routes: [{version: '5', layers: [arn(ACCOUNT, 1)]}]}]},
        // Published from another clone: its hash is known only from what the audit read.
        {accountId: OTHER, region: REGION, name: 'batch', layers: [arn(OTHER, 7)]},
        {accountId: OTHER, region: REGION, name: 'mystery', layers: [arn(OTHER, 9), 'arn:aws:lambda:eu-west-1:999999999999:layer:vendor:4']},
      ],
    },
    ...overrides,
  }
}

describe('resolveFrom', () => {
  it("walks up from the dependent's own node_modules as Node does", () => {
    expect(resolveFrom(OLD_TREE, 'node_modules/send', 'ms')).toBe('node_modules/send/node_modules/ms')
    expect(resolveFrom(OLD_TREE, 'node_modules/debug', 'ms')).toBe('node_modules/ms')
    expect(resolveFrom(OLD_TREE, 'node_modules/send/node_modules/ms', 'debug')).toBe('node_modules/debug')
    expect(resolveFrom(OLD_TREE, 'node_modules/send', 'nothing')).toBeUndefined()
  })
})

describe('findPackage', () => {
  it('finds an old version in an earlier content, its chain, its publications and the functions running it', () => {
    const report = findPackage({name: 'ms', range: '<2.1.0'}, inputs())
    expect(report.contents).toEqual([
      {
        layer: 'web',
        artifactKey: 'x86_64',
        codeSha256: 'OLD=',
        current: false,
        packages: [{name: 'ms', version: '2.0.0', path: 'node_modules/ms', requiredBy: ['debug@2.6.9'], requiredRanges: ['2.0.0'], chain: ['express@4.21.2', 'debug@2.6.9', 'ms@2.0.0']}],
        published: [{accountId: ACCOUNT, region: REGION, version: 1, arn: arn(ACCOUNT, 1)}],
      },
    ])
    expect(report.functions.map((fn) => `${fn.accountId} ${fn.function} ${fn.qualifier} ${fn.functionVersion ?? ''} ${fn.arn} ${fn.packages.join()}`)).toEqual([
      `${ACCOUNT} api live 5 ${arn(ACCOUNT, 1)} ms@2.0.0`,
      `${OTHER} batch $LATEST  ${arn(OTHER, 7)} ms@2.0.0`,
    ])
    expect(report.audit).toEqual({runId: 3, finishedAt: '2026-12-01T10:00:00.000Z'})
    // Version 9 of an own layer was never built here; the vendor's layer is not ours to search.
    expect(report.unknownContents).toEqual([{arn: arn(OTHER, 9), functions: 1}])
  })

  it('marks the tree the lock holds as current and finds every copy in a range', () => {
    const report = findPackage({name: 'ms', range: '^2.1.0'}, inputs())
    expect(report.contents.map((content) => [content.codeSha256, content.current, content.packages.map((found) => `${found.path} ${found.chain.join('>')}`)])).toEqual([
      ['NEW=', true, ['node_modules/ms express@5.1.0>debug@4.4.1>ms@2.1.3']],
      ['OLD=', false, ['node_modules/send/node_modules/ms express@4.21.2>send@0.19.0>ms@2.1.3']],
    ])
    expect(report.functions.map((fn) => `${fn.function} ${fn.qualifier} ${fn.arn}`)).toEqual([
      `api $LATEST ${arn(ACCOUNT, 2)}`,
      `api live ${arn(ACCOUNT, 1)}`,
      `batch $LATEST ${arn(OTHER, 7)}`,
    ])
  })

  it('answers from the lock alone, for a tree not built yet and without an audit', () => {
    const report = findPackage({name: 'debug'}, inputs({trees: [], publications: [], audit: undefined}))
    expect(report.contents).toEqual([
      {
        layer: 'web',
        artifactKey: 'x86_64',
        current: true,
        packages: [{name: 'debug', version: '4.4.1', path: 'node_modules/debug', requiredBy: ['express@5.1.0'], requiredRanges: ['^4.4.0'], chain: ['express@5.1.0', 'debug@4.4.1']}],
        published: [],
      },
    ])
    expect(report.functions).toEqual([])
    expect(report.audit).toBeUndefined()
  })

  it('includes prereleases in a range and finds nothing outside it', () => {
    const tree = {'node_modules/ms': pkg('ms', '3.0.0-canary.1')}
    const lock: Lockfile = {lockfileVersion: 1, layers: {edge: {kind: 'npm', inputs: 'z', artifacts: {arm64: {architectures: ['arm64'], packages: tree}}}}}
    expect(findPackage({name: 'ms', range: '>=3.0.0-0'}, inputs({lock, trees: []})).contents.map((content) => content.packages[0]!.version)).toEqual(['3.0.0-canary.1'])
    expect(findPackage({name: 'ms', range: '<2'}, inputs({lock, trees: []})).contents).toEqual([])
  })

  it('matches Python projects by normalized name', () => {
    const lock: Lockfile = {
      lockfileVersion: 1,
      layers: {
        py: {
          kind: 'pip',
          inputs: 'p',
          artifacts: {
            x86_64: {
              architectures: ['x86_64'],
              wheels: {'python3.12': {'charset-normalizer': {name: 'charset-normalizer', version: '3.4.2', filename: 'charset_normalizer-3.4.2-py3-none-any.whl', url: 'https://files/x.whl', sha256: 'a'.repeat(64), index: 'https://pypi.org/simple'}}},
            },
          },
        },
      },
    }
    const report = findPackage({name: 'Charset_Normalizer', range: '>=3'}, inputs({lock, trees: []}))
    expect(report.contents.map((content) => content.packages.map((found) => found.path))).toEqual([['python3.12/charset_normalizer-3.4.2-py3-none-any.whl']])
  })
})

describe('parseFindQuery', () => {
  it('reads names, scoped names and ranges', () => {
    expect(parseFindQuery('ms')).toEqual({name: 'ms'})
    expect(parseFindQuery('ms@<2.1.3')).toEqual({name: 'ms', range: '<2.1.3'})
    expect(parseFindQuery('@aws-sdk/client-s3')).toEqual({name: '@aws-sdk/client-s3'})
    expect(parseFindQuery('@aws-sdk/client-s3@^3.600.0')).toEqual({name: '@aws-sdk/client-s3', range: '^3.600.0'})
  })

  it('refuses what is not a name or a range, as input errors', () => {
    for (const text of ['', 'a b', '@scope', 'ms@', 'ms@not a range!', '../x']) {
      expect(() => parseFindQuery(text), text).toThrow(UserInputError)
    }
  })
})
