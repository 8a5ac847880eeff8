// PEP 440 versions as `layers outdated` uses them (src/python/pep440.ts): ordering with pre, post,
// dev and local releases, specifier matching with the exclusive-ordering and pre-release rules, and
// the release step --fail-on compares.
import {describe, expect, it} from 'vitest'
import {compareVersions, maxSatisfying, parseVersion, releaseStep, specifierAllowsPrereleases, specifierMatches} from '../../src/python/pep440.js'

const order = (texts: string[]): string[] => [...texts].sort((a, b) => compareVersions(parseVersion(a)!, parseVersion(b)!))

describe('PEP 440 ordering', () => {
  it('orders dev < pre < final < post, epochs first, local versions after their public one', () => {
    // The example order of PEP 440's "Summary of permitted suffixes and relative ordering".
    const expected = ['1.0.dev456', '1.0a1', '1.0a2.dev456', '1.0a12.dev456', '1.0a12', '1.0b1.dev456', '1.0b2', '1.0b2.post345.dev456', '1.0b2.post345', '1.0rc1.dev456', '1.0rc1', '1.0', '1.0+abc.5', '1.0+abc.7', '1.0+5', '1.0.post456.dev34', '1.0.post456', '1.0.15', '1.1.dev1']
    expect(order([...expected].reverse())).toEqual(expected)
    expect(order(['1!0.1', '2.0', '1.10', '1.9'])).toEqual(['1.9', '1.10', '2.0', '1!0.1'])
  })

  it('normalizes spellings: trailing zeros, case, separators, alternative labels', () => {
    const same = (a: string, b: string): number => compareVersions(parseVersion(a)!, parseVersion(b)!)
    expect(same('1.0', '1.0.0')).toBe(0)
    expect(same('1.0ALPHA1', '1.0a1')).toBe(0)
    expect(same('1.0-c1', '1.0rc1')).toBe(0)
    expect(same('1.0-1', '1.0.post1')).toBe(0)
    expect(same('1.0.r', '1.0.post0')).toBe(0)
    expect(same('v2.0_dev3', '2.0.dev3')).toBe(0)
    expect(parseVersion('1.0.post')?.post).toBe(0)
    expect(parseVersion('not-a-version')).toBeUndefined()
  })
})

describe('PEP 440 specifiers', () => {
  it('matches inclusive, exclusive, compatible, wildcard and arbitrary clauses', () => {
    expect(specifierMatches('>=2.1,<3', '2.31.0')).toBe(true)
    expect(specifierMatches('>=2.1,<3', '3.0')).toBe(false)
    expect(specifierMatches('~=1.4.2', '1.4.9')).toBe(true)
    expect(specifierMatches('~=1.4.2', '1.5.0')).toBe(false)
    expect(specifierMatches('~=1.4', '1.9')).toBe(true)
    expect(specifierMatches('~=1.4', '2.0')).toBe(false)
    expect(specifierMatches('==1.*', '1.99.post1')).toBe(true)
    expect(specifierMatches('==1.1.*', '1.10')).toBe(false)
    expect(specifierMatches('!=1.5.*', '1.5.2')).toBe(false)
    expect(specifierMatches('==1.0', '1.0.0')).toBe(true)
    expect(specifierMatches('==1.0', '1.0+local')).toBe(true)
    expect(specifierMatches('==1.0+a', '1.0+b')).toBe(false)
    expect(specifierMatches('===1.0-foo', '1.0-FOO')).toBe(true)
    expect(specifierMatches('', '0.0.1')).toBe(true)
  })

  it('applies the exclusive-ordering rules: <V excludes V\'s pre-releases, >V excludes its post-releases and local versions', () => {
    expect(specifierMatches('<3.1', '3.1.dev0', true)).toBe(false)
    expect(specifierMatches('<3.1', '3.0.5', true)).toBe(true)
    expect(specifierMatches('<3.1rc1', '3.1b2')).toBe(true)
    expect(specifierMatches('>1.7', '1.7.post2')).toBe(false)
    expect(specifierMatches('>1.7.post1', '1.7.post2')).toBe(true)
    expect(specifierMatches('>1.7', '1.7+local')).toBe(false)
    expect(specifierMatches('>1.7', '1.7.1')).toBe(true)
  })

  it('excludes pre-releases unless a clause names one', () => {
    expect(specifierAllowsPrereleases('>=1.0')).toBe(false)
    expect(specifierAllowsPrereleases('>=2.0b1')).toBe(true)
    expect(specifierAllowsPrereleases('!=2.0b1')).toBe(false)
    expect(specifierAllowsPrereleases('==2.0.dev1')).toBe(true)
    expect(specifierMatches('>=1.0', '2.0b1')).toBe(false)
    expect(specifierMatches('>=2.0b1', '2.0b2')).toBe(true)
    expect(maxSatisfying(['1.0', '1.1', '2.0rc1', '2.0.dev3'], '>=1.0')).toBe('1.1')
    expect(maxSatisfying(['1.0', '1.1', '2.0rc1', '2.0.dev3'], '>=2.0.dev1')).toBe('2.0rc1')
    expect(maxSatisfying(['1.0', '1.0.post1', '1.1'], '<1.1')).toBe('1.0.post1')
    expect(maxSatisfying(['1.0'], '>=2')).toBeUndefined()
  })
})

describe('releaseStep', () => {
  it('is major for the epoch or first segment, minor for the second, patch for anything smaller', () => {
    expect(releaseStep('1.26.4', '2.0.0')).toBe('major')
    expect(releaseStep('2024.1', '2025.1')).toBe('major')
    expect(releaseStep('1.0', '1!0.5')).toBe('major')
    expect(releaseStep('1.26.4', '1.27')).toBe('minor')
    expect(releaseStep('2.31', '2.31.1')).toBe('patch')
    expect(releaseStep('1.0', '1.0.post1')).toBe('patch')
    expect(releaseStep('2.0rc1', '2.0')).toBe('patch')
    expect(releaseStep('2.0', '2.0.0')).toBeUndefined()
    expect(releaseStep('2.0', '1.9')).toBeUndefined()
  })
})
