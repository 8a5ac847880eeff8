import {describe, expect, it} from 'vitest'
import {arnRow, failingRows, installableVersions, npmOutdated, pipOutdated, updateLevel, wantedVersion, type OutdatedRow} from '../../src/outdated/plan.js'
import {pythonRuntime} from '../../src/python/targets.js'
import {newestReadableVersion} from '../../src/outdated/newest-version.js'

const registry = {
  lodash: {versions: ['4.17.20', '4.17.21', '5.0.0-beta.1'], distTags: {latest: '4.17.21', next: '5.0.0-beta.1'}},
  uuid: {versions: ['8.3.2', '9.0.0', '9.0.1', '10.0.0'], distTags: {latest: '10.0.0'}},
  zod: {versions: ['3.22.0', '3.23.8'], distTags: {latest: '3.23.8'}},
}

describe('npmOutdated', () => {
  it('shows locked, wanted (in range) and latest per direct dependency, like npm outdated', () => {
    const rows = npmOutdated(
      {
        layer: 'deps',
        dependencies: {uuid: '^9.0.0', lodash: '^4.17.0', zod: '3.23.8', left: '^1.0.0'},
        artifacts: [{'node_modules/uuid': {name: 'uuid', version: '9.0.0'}, 'node_modules/lodash': {name: 'lodash', version: '4.17.21'}, 'node_modules/zod': {name: 'zod', version: '3.23.8'}}],
      },
      registry,
    )
    expect(rows.map((row) => [row.package, row.locked.join(','), row.wanted, row.latest, row.outdated])).toEqual([
      ['left', '', undefined, undefined, true],
      ['lodash', '4.17.21', '4.17.21', '4.17.21', false],
      ['uuid', '9.0.0', '9.0.1', '10.0.0', true],
      ['zod', '3.23.8', '3.23.8', '3.23.8', false],
    ])
  })

  it('is outdated when only latest moved past the range', () => {
    const [row] = npmOutdated({layer: 'x', dependencies: {uuid: '9.0.1'}, artifacts: [{'node_modules/uuid': {name: 'uuid', version: '9.0.1'}}]}, registry)
    expect(row).toMatchObject({wanted: '9.0.1', latest: '10.0.0', outdated: true})
  })
})

describe('wantedVersion', () => {
  it('follows tags, prefers latest in range, and gives nothing for non-registry specs', () => {
    expect(wantedVersion('next', registry.lodash)).toBe('5.0.0-beta.1')
    expect(wantedVersion('*', registry.uuid)).toBe('10.0.0')
    expect(wantedVersion('<10', registry.uuid)).toBe('9.0.1')
    expect(wantedVersion('github:a/b', registry.uuid)).toBeUndefined()
    expect(wantedVersion('^11', registry.uuid)).toBeUndefined()
  })
})

describe('arnRow and newestReadableVersion', () => {
  const layer = 'arn:aws:lambda:eu-west-1:999999999999:layer:ext'
  it('probes past gaps left by deleted versions and stops after a whole empty batch', async () => {
    const readable = new Set([38, 39, 41, 47])
    const probed: number[] = []
    const newest = await newestReadableVersion(
      {
        canRead: async (arn) => {
          const version = Number(arn.split(':').at(-1))
          probed.push(version)
          return readable.has(version)
        },
      },
      `${layer}:38`,
    )
    expect(newest).toEqual({arn: `${layer}:47`, version: 47})
    expect(Math.max(...probed)).toBe(53)
  })

  it('uses the account\'s own version list when the layer is the caller\'s', async () => {
    const newest = await newestReadableVersion({canRead: async () => { throw new Error('not called') }, listOwnVersions: async () => [3, 9, 4]}, `${layer}:3`)
    expect(newest.version).toBe(9)
  })

  it('marks a row outdated only when a newer version exists', () => {
    expect(arnRow('ext', 'a', 'r', {arn: `${layer}:38`, version: 38}, {arn: `${layer}:40`, version: 40}).outdated).toBe(true)
    expect(arnRow('ext', 'a', 'r', {arn: `${layer}:38`, version: 38}, {arn: `${layer}:38`, version: 38}).outdated).toBe(false)
    expect(arnRow('ext', 'a', 'r', {arn: `${layer}:38`, version: 38}, {error: 'AccessDenied'})).toMatchObject({outdated: false, error: 'AccessDenied'})
  })
})

describe('updateLevel and failingRows (--fail-on)', () => {
  it('is the biggest semver step from a locked version up to wanted or latest', () => {
    expect(updateLevel(['9.0.0'], ['9.0.1', '10.0.0'])).toBe('major')
    expect(updateLevel(['9.0.0'], ['9.0.1', '9.1.0'])).toBe('minor')
    expect(updateLevel(['9.0.0'], ['9.0.1', undefined])).toBe('patch')
    expect(updateLevel(['1.0.0'], ['2.0.0-beta.1'])).toBe('major')
    // As semver.diff: a prerelease of 1.0.0 to 1.0.0 itself is the major release arriving.
    expect(updateLevel(['1.0.0-rc.1'], ['1.0.0'])).toBe('major')
    expect(updateLevel(['1.2.3-rc.1'], ['1.2.3'])).toBe('patch')
    expect(updateLevel(['2.0.0'], ['1.2.0', '2.0.0'])).toBeUndefined()
    expect(updateLevel([], ['1.0.0'])).toBeUndefined()
    const [uuid] = npmOutdated({layer: 'x', dependencies: {uuid: '^9.0.0'}, artifacts: [{'node_modules/uuid': {name: 'uuid', version: '9.0.0'}}]}, registry)
    expect(uuid).toMatchObject({outdated: true, update: 'major'})
  })

  it('counts rows at or above the level; unlocked rows at every level; arn rows only for any', () => {
    const npm = (name: string, update?: 'major' | 'minor' | 'patch', outdated = true): OutdatedRow => ({kind: 'npm', layer: 'l', package: name, spec: '*', locked: update ? ['1.0.0'] : [], outdated, ...(update ? {update} : {})})
    const arn = arnRow('vendor', '111111111111', 'eu-west-1', {arn: 'arn:aws:lambda:eu-west-1:1:layer:v:1', version: 1}, {arn: 'arn:aws:lambda:eu-west-1:1:layer:v:2', version: 2})
    const rows = [npm('ma', 'major'), npm('mi', 'minor'), npm('pa', 'patch'), npm('unlocked'), npm('current', undefined, false), arn]
    const names = (failOn: 'any' | 'major' | 'minor' | 'patch') => failingRows(rows, failOn).map((row) => (row.kind === 'npm' ? row.package : row.layer))
    expect(names('major')).toEqual(['ma', 'unlocked'])
    expect(names('minor')).toEqual(['ma', 'mi', 'unlocked'])
    expect(names('patch')).toEqual(['ma', 'mi', 'pa', 'unlocked'])
    expect(names('any')).toEqual(['ma', 'mi', 'pa', 'unlocked', 'vendor'])
  })
})

describe('pipOutdated and installableVersions', () => {
  const file = (filename: string, yanked = false) => ({filename, url: `https://files.example/${filename}`, sha256: '0'.repeat(64), yanked})
  const py312 = pythonRuntime('python3.12')!
  const py311 = pythonRuntime('python3.11')!
  const x86 = [{runtime: py312, architecture: 'x86_64' as const}]
  /** Each project's versions as pure wheels. */
  const pure = (versions: Record<string, string[]>) => Object.fromEntries(Object.entries(versions).map(([name, list]) => [name, list.map((version) => file(`${name}-${version}-py3-none-any.whl`))]))

  it('counts only versions with a non-yanked wheel every target can install (no sdists)', () => {
    const files = [
      file('nat-1.0-cp312-cp312-manylinux_2_17_x86_64.whl'),
      file('nat-1.0-cp312-cp312-manylinux_2_17_aarch64.whl'),
      // 1.1: no arm64 wheel; 1.2: the arm64 wheel needs glibc 2.39 (AL2023 has 2.34); 1.3: yanked.
      file('nat-1.1-cp312-cp312-manylinux_2_17_x86_64.whl'),
      file('nat-1.2-cp312-cp312-manylinux_2_17_x86_64.whl'),
      file('nat-1.2-cp312-cp312-manylinux_2_39_aarch64.whl'),
      file('nat-1.3-py3-none-any.whl', true),
      file('nat-1.4.tar.gz'),
      file('nat-1.10-cp38-abi3-manylinux2014_x86_64.whl'),
      file('nat-1.10-cp38-abi3-manylinux2014_aarch64.whl'),
    ]
    expect(installableVersions(files, [{runtime: py312, architecture: 'x86_64'}, {runtime: py312, architecture: 'arm64'}])).toEqual(['1.0', '1.10'])
    expect(installableVersions(files, [{runtime: py312, architecture: 'x86_64'}])).toEqual(['1.0', '1.1', '1.2', '1.10'])
    // A cp312 wheel is no use to python3.11.
    expect(installableVersions(files, [{runtime: py311, architecture: 'x86_64'}])).toEqual(['1.10'])
  })

  it('counts a release only when its Requires-Python admits the target\'s interpreter', () => {
    const withPython = (filename: string, requiresPython?: string) => ({...file(filename), ...(requiresPython === undefined ? {} : {requiresPython})})
    const files = [
      withPython('lib-1.0-py3-none-any.whl', '>=3.8'),
      withPython('lib-1.1-py3-none-any.whl', '>=3.12'),
      withPython('lib-1.2-py3-none-any.whl', '>= 3.13'),
      withPython('lib-1.3-py3-none-any.whl', '>=3.9,!=3.12.*'),
      // Not PEP 440: ignored, as pip and uv ignore it.
      withPython('lib-1.4-py3-none-any.whl', '>=3.6.*'),
      withPython('lib-1.5-py3-none-any.whl', ''),
    ]
    expect(installableVersions(files, x86)).toEqual(['1.0', '1.1', '1.4', '1.5'])
    expect(installableVersions(files, [{runtime: py311, architecture: 'x86_64'}])).toEqual(['1.0', '1.3', '1.4', '1.5'])
    expect(installableVersions(files, [{runtime: pythonRuntime('python3.13')!, architecture: 'arm64'}])).toEqual(['1.0', '1.1', '1.2', '1.3', '1.4', '1.5'])
    // Only python3.12 and python3.13 in the layer: a release python3.12 cannot use does not count.
    const rows = pipOutdated({layer: 'py', targets: [...x86, {runtime: pythonRuntime('python3.13')!, architecture: 'x86_64'}], requirements: ['lib'], wheels: [{name: 'lib', version: '1.1'}]}, {lib: files.slice(0, 4)})
    expect(rows[0]).toMatchObject({locked: ['1.1'], wanted: '1.1', latest: '1.1', outdated: false})
  })

  it('evaluates a requirement\'s marker for each target: only the targets it holds for count, none: no row', () => {
    const both = [{runtime: py312, architecture: 'x86_64' as const}, {runtime: py312, architecture: 'arm64' as const}]
    const files = {
      armonly: [file('armonly-1.0-cp312-cp312-manylinux_2_17_aarch64.whl'), file('armonly-1.1-cp312-cp312-manylinux_2_17_aarch64.whl')],
      tomli: [file('tomli-2.0.1-py3-none-any.whl')],
      six: [file('six-1.16.0-py3-none-any.whl'), file('six-1.17.0-py3-none-any.whl')],
    }
    const rows = pipOutdated(
      {
        layer: 'py',
        targets: both,
        requirements: ['armonly ; platform_machine == "aarch64"', 'tomli ; python_version < "3.11"', 'six ; sys_platform == "linux" and (python_full_version >= "3.12" or os_name == "nt")'],
        wheels: [{name: 'armonly', version: '1.0'}, {name: 'six', version: '1.16.0'}],
      },
      files,
    )
    // armonly has wheels for aarch64 only, which is all its marker asks for; tomli applies to no target.
    expect(rows.map((row) => `${row.package} ${row.locked.join(',')} ${row.wanted} ${row.latest} ${row.outdated}`)).toEqual(['armonly 1.0 1.1 1.1 true', 'six 1.16.0 1.17.0 1.17.0 true'])
  })

  it('reports locked, wanted (within the specifier) and latest per requirement, with the release step', () => {
    const rows = pipOutdated(
      {
        layer: 'py',
        targets: x86,
        requirements: ['Requests>=2.28,<3', 'numpy ~=1.26.0', 'pydantic[email]==2.*', 'beta >=1.0b1', 'missing', 'gone'],
        wheels: [
          {name: 'requests', version: '2.31.0'},
          {name: 'numpy', version: '1.26.0'},
          {name: 'numpy', version: '1.26.4'},
          {name: 'pydantic', version: '2.7.0'},
          {name: 'beta', version: '1.0b1'},
          {name: 'gone', version: '1.0'},
        ],
      },
      pure({
        requests: ['2.31.0', '2.32.3', '3.0.0rc1'],
        numpy: ['1.26.4', '2.0.0', '2.1.0.dev0'],
        pydantic: ['2.7.0', '2.7.0.post1'],
        beta: ['1.0b1', '1.0b2'],
        missing: ['0.1'],
      }),
    )
    expect(rows.map((row) => `${row.package} '${row.spec}' ${row.locked.join(',') || '-'} ${row.wanted ?? '-'} ${row.latest ?? '-'} ${row.outdated} ${row.update ?? '-'}`)).toEqual([
      "beta '>=1.0b1' 1.0b1 1.0b2 1.0b2 true patch",
      // Not fetched (the index lookup failed): nothing to compare with.
      "gone '' 1.0 - - false -",
      "missing '' - 0.1 0.1 true -",
      "numpy '~=1.26.0' 1.26.0,1.26.4 1.26.4 2.0.0 true major",
      "pydantic '==2.*' 2.7.0 2.7.0.post1 2.7.0.post1 true patch",
      "requests '>=2.28,<3' 2.31.0 2.32.3 2.32.3 true minor",
    ])
    const current = pipOutdated({layer: 'py', targets: x86, requirements: ['six'], wheels: [{name: 'six', version: '1.16.0'}]}, pure({six: ['1.15', '1.16.0']}))
    expect(current[0]).toMatchObject({outdated: false, wanted: '1.16.0', latest: '1.16.0'})
    expect(current[0]!.update).toBeUndefined()
  })

  it('--fail-on levels apply to pip rows as to npm rows', () => {
    const rows = pipOutdated({layer: 'py', targets: x86, requirements: ['a', 'b', 'c'], wheels: [{name: 'a', version: '1.0'}, {name: 'b', version: '1.0'}, {name: 'c', version: '1.0'}]}, pure({a: ['1.0', '2.0'], b: ['1.0', '1.1'], c: ['1.0', '1.0.1']}))
    const names = (failOn: 'any' | 'major' | 'minor' | 'patch') => failingRows(rows, failOn).map((row) => (row.kind === 'arn' ? row.layer : row.package))
    expect(names('major')).toEqual(['a'])
    expect(names('minor')).toEqual(['a', 'b'])
    expect(names('patch')).toEqual(['a', 'b', 'c'])
  })
})
