import {describe, expect, it} from 'vitest'
import {arnRow, npmOutdated, wantedVersion} from '../../src/outdated/plan.js'
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
