// diffLockfiles (src/lock/diff.ts), from plain data: each kind of difference `layers lock --check`
// reports, and nothing for an entry that is the same.
import {describe, expect, it} from 'vitest'
import {diffLockfiles} from '../../src/lock/diff.js'
import type {LockedPackage, Lockfile} from '../../src/lock/types.js'

const pkg = (name: string, version: string, integrity = `sha512-${name}${version}`): LockedPackage => ({name, version, resolved: `https://registry.example/${name}-${version}.tgz`, integrity})
const ref = (entry: LockedPackage) => ({name: entry.name, version: entry.version, integrity: entry.integrity, resolved: entry.resolved})

const BEFORE: Lockfile = {
  lockfileVersion: 1,
  layers: {
    deps: {
      kind: 'npm',
      inputs: 'i1',
      artifacts: {x86_64: {architectures: ['x86_64'], packages: {'node_modules/a': pkg('a', '1.0.0'), 'node_modules/b': pkg('b', '1.0.0')}}},
      published: {'111111111111': {'eu-west-1': {x86_64: {arn: 'arn:aws:lambda:eu-west-1:111111111111:layer:deps:1', version: 1, codeSha256: 'x'}}}},
    },
    rt: {kind: 'runtime', inputs: 'r', template: 'bun', artifacts: {arm64: {architectures: ['arm64'], binary: pkg('bun-linux-arm64', '1.0.0')}}},
    vendor: {kind: 'arn', inputs: 'v', arns: {'111111111111': {'eu-west-1': 'arn:aws:lambda:eu-west-1:222222222222:layer:v:1'}}},
    same: {kind: 'dir', inputs: 's', artifacts: {x86_64: {architectures: ['x86_64']}}},
  },
}

describe('diffLockfiles', () => {
  it('is empty for the same lock, and lists every layer as added without a previous lock', () => {
    expect(diffLockfiles(BEFORE, structuredClone(BEFORE))).toEqual([])
    const added = diffLockfiles(undefined, BEFORE)
    expect(added.map((change) => `${change.layer} ${change.change}`)).toEqual(['deps added', 'rt added', 'same added', 'vendor added'])
    expect(added[0]!.differences).toContainEqual({field: 'package', artifact: 'x86_64', path: 'node_modules/a', after: ref(pkg('a', '1.0.0'))})
  })

  it('names each package, integrity, binary, artifact, publication and pinned ARN that changed', () => {
    const after = structuredClone(BEFORE)
    const deps = after.layers.deps as Extract<Lockfile['layers'][string], {kind: 'npm'}>
    deps.inputs = 'i2'
    deps.artifacts.x86_64!.packages = {'node_modules/a': pkg('a', '1.0.0', 'sha512-other'), 'node_modules/c': pkg('c', '2.0.0')}
    deps.artifacts.arm64 = {architectures: ['arm64'], packages: {}}
    delete deps.published
    const rt = after.layers.rt as Extract<Lockfile['layers'][string], {kind: 'runtime'}>
    rt.artifacts.arm64!.binary = pkg('bun-linux-arm64', '1.1.0')
    after.layers.vendor = {kind: 'arn', inputs: 'v', arns: {'111111111111': {'eu-west-1': 'arn:aws:lambda:eu-west-1:222222222222:layer:v:2'}}}
    delete after.layers.same
    expect(diffLockfiles(BEFORE, after)).toEqual([
      {
        layer: 'deps',
        change: 'changed',
        differences: [
          {field: 'inputs', before: 'i1', after: 'i2'},
          {field: 'artifact', artifact: 'arm64', after: ['arm64']},
          {field: 'package', artifact: 'x86_64', path: 'node_modules/a', before: ref(pkg('a', '1.0.0')), after: ref(pkg('a', '1.0.0', 'sha512-other'))},
          {field: 'package', artifact: 'x86_64', path: 'node_modules/b', before: ref(pkg('b', '1.0.0'))},
          {field: 'package', artifact: 'x86_64', path: 'node_modules/c', after: ref(pkg('c', '2.0.0'))},
          {field: 'published', accountId: '111111111111', region: 'eu-west-1', artifact: 'x86_64', before: 'arn:aws:lambda:eu-west-1:111111111111:layer:deps:1'},
        ],
      },
      {layer: 'rt', change: 'changed', differences: [{field: 'binary', artifact: 'arm64', before: ref(pkg('bun-linux-arm64', '1.0.0')), after: ref(pkg('bun-linux-arm64', '1.1.0'))}]},
      {layer: 'same', change: 'removed', differences: [{field: 'artifact', artifact: 'x86_64', before: ['x86_64']}]},
      {
        layer: 'vendor',
        change: 'changed',
        differences: [{field: 'arn', accountId: '111111111111', region: 'eu-west-1', before: 'arn:aws:lambda:eu-west-1:222222222222:layer:v:1', after: 'arn:aws:lambda:eu-west-1:222222222222:layer:v:2'}],
      },
    ])
  })
})
