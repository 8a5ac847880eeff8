import {describe, expect, it} from 'vitest'
import {arnRow, failingRows, npmOutdated, updateLevel, wantedVersion, type OutdatedRow} from '../../src/outdated/plan.js'
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
