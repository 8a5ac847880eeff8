// The licence in the lock never changes what decides a zip: publications of an artifact whose packages
// only gained licences are kept (src/lock/lock-project.ts keptPublications), a new version elsewhere is
// not; and the lockfile's shape check accepts a string licence and names a wrong one by its path.
import {describe, expect, it} from 'vitest'
import {keptPublications} from '../../src/lock/lock-project.js'
import {checkLockfileShape} from '../../src/lock/shape.js'
import type {LockedArtifact, LockedPackage, Publications} from '../../src/lock/types.js'

const pkg = (version: string, license?: string): LockedPackage => ({name: 'ms', version, resolved: `http://r.test/ms-${version}.tgz`, integrity: `sha512-${version}`, ...(license ? {license} : {})})
const artifact = (packages: Record<string, LockedPackage>): Record<string, LockedArtifact> => ({'arm64+x86_64': {architectures: ['arm64', 'x86_64'], packages}})
const published: Publications = {'111111111111': {'eu-west-1': {'arm64+x86_64': {arn: 'arn:aws:lambda:eu-west-1:111111111111:layer:deps:1', version: 1, codeSha256: 'abc'}}}}

describe('licences in the lock', () => {
  it('keep the publications of an artifact whose packages only gained licences', () => {
    expect(keptPublications(published, artifact({'node_modules/ms': pkg('2.1.3')}), artifact({'node_modules/ms': pkg('2.1.3', 'MIT')}))).toEqual(published)
    expect(keptPublications(published, artifact({'node_modules/ms': pkg('2.1.3')}), artifact({'node_modules/ms': pkg('2.1.4', 'MIT')}))).toBeUndefined()
  })

  it('are strings in the lockfile shape', () => {
    const lock = (license: unknown): unknown => ({lockfileVersion: 1, layers: {deps: {kind: 'npm', inputs: 'x', artifacts: artifact({'node_modules/ms': {...pkg('2.1.3'), license} as LockedPackage})}}})
    expect(checkLockfileShape(lock('MIT'))).toBeUndefined()
    expect(checkLockfileShape(lock({type: 'MIT'}))?.message).toBe('layers.deps.artifacts.arm64+x86_64.packages["node_modules/ms"].license must be a string')
  })
})
