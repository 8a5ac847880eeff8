// diffLockfiles (src/lock/diff.ts), from plain data: each kind of difference `layers lock --check`
// reports, and nothing for an entry that is the same.
import {describe, expect, it} from 'vitest'
import {diffLockfiles} from '../../src/lock/diff.js'
import {renderLockChanges} from '../../src/lock/render.js'
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

describe('diffLockfiles, pip layers', () => {
  const wheel = (name: string, version: string, filename: string, sha: string) => ({name, version, filename, url: `https://files.pythonhosted.org/${filename}`, sha256: sha.repeat(64), index: 'https://pypi.org/simple/'})
  const lock = (artifacts: Record<string, Record<string, Record<string, ReturnType<typeof wheel>>>>): Lockfile => ({
    lockfileVersion: 1,
    layers: {py: {kind: 'pip', inputs: 'p', artifacts: Object.fromEntries(Object.entries(artifacts).map(([key, wheels]) => [key, {architectures: key.split('+') as Array<'arm64' | 'x86_64'>, wheels}]))}},
  })

  it('names each distribution that changed per runtime and artifact: version, file name, sha256, added, removed', () => {
    const requests = wheel('requests', '2.31.0', 'requests-2.31.0-py3-none-any.whl', 'a')
    const nat = wheel('nat', '1.0', 'nat-1.0-cp312-cp312-manylinux_2_17_x86_64.whl', 'b')
    const idna = wheel('idna', '3.7', 'idna-3.7-py3-none-any.whl', 'f')
    const before = lock({x86_64: {'python3.12': {requests, nat, six: wheel('six', '1.16.0', 'six-1.16.0-py2.py3-none-any.whl', 'c')}, 'python3.11': {requests}}})
    const after = lock({
      x86_64: {
        'python3.12': {requests: wheel('requests', '2.32.3', 'requests-2.32.3-py3-none-any.whl', 'd'), nat: wheel('nat', '1.0', 'nat-1.0-cp312-cp312-manylinux_2_28_x86_64.whl', 'e'), idna},
        'python3.11': {requests: {...requests, sha256: '9'.repeat(64)}},
      },
    })
    const [change] = diffLockfiles(before, after)
    const ref = (entry: ReturnType<typeof wheel>) => ({name: entry.name, version: entry.version, filename: entry.filename, sha256: entry.sha256})
    expect(change!.differences).toEqual([
      {field: 'wheel', artifact: 'x86_64', runtime: 'python3.11', name: 'requests', before: ref(requests), after: {...ref(requests), sha256: '9'.repeat(64)}},
      {field: 'wheel', artifact: 'x86_64', runtime: 'python3.12', name: 'idna', after: ref(idna)},
      {field: 'wheel', artifact: 'x86_64', runtime: 'python3.12', name: 'nat', before: ref(nat), after: expect.objectContaining({filename: 'nat-1.0-cp312-cp312-manylinux_2_28_x86_64.whl'})},
      {field: 'wheel', artifact: 'x86_64', runtime: 'python3.12', name: 'requests', before: ref(requests), after: expect.objectContaining({version: '2.32.3'})},
      {field: 'wheel', artifact: 'x86_64', runtime: 'python3.12', name: 'six', before: expect.objectContaining({version: '1.16.0'})},
    ])
    expect(renderLockChanges(diffLockfiles(before, after))).toEqual([
      '  py: changed',
      `    x86_64 python3.11 requests==2.31.0 requests-2.31.0-py3-none-any.whl sha256 ${'a'.repeat(24)}… → ${'9'.repeat(24)}…`,
      `    x86_64 python3.12 added idna==3.7 (idna-3.7-py3-none-any.whl, sha256 ${'f'.repeat(24)}…)`,
      `    x86_64 python3.12 nat==1.0 file nat-1.0-cp312-cp312-manylinux_2_17_x86_64.whl → nat-1.0-cp312-cp312-manylinux_2_28_x86_64.whl (sha256 ${'b'.repeat(24)}… → ${'e'.repeat(24)}…)`,
      `    x86_64 python3.12 requests 2.31.0 → 2.32.3 (requests-2.31.0-py3-none-any.whl → requests-2.32.3-py3-none-any.whl, sha256 ${'d'.repeat(24)}…)`,
      '    x86_64 python3.12 removed six==1.16.0 (six-1.16.0-py2.py3-none-any.whl)',
    ])
  })

  it('lists the wheels of an artifact split per architecture as removed from the old and added to the new ones', () => {
    const pure = wheel('pure', '1.0', 'pure-1.0-py3-none-any.whl', 'a')
    const changes = diffLockfiles(lock({'arm64+x86_64': {'python3.12': {pure}}}), lock({arm64: {'python3.12': {pure}}, x86_64: {'python3.12': {pure}}}))
    expect(changes[0]!.differences.map((d) => `${d.field} ${'artifact' in d ? d.artifact : ''} ${'before' in d && d.before ? 'before' : ''}${'after' in d && d.after ? 'after' : ''}`)).toEqual([
      'artifact arm64 after',
      'wheel arm64 after',
      'artifact arm64+x86_64 before',
      'wheel arm64+x86_64 before',
      'artifact x86_64 after',
      'wheel x86_64 after',
    ])
  })
})
