// The licence policy as pure evaluation (src/licenses/policy.ts): OR choices, AND, WITH, plus ranges,
// legacy package.json forms, a missing licence, UNLICENSED, deny winning over allow, free text read
// through spdx-correct, and which policy entries are usable.
import {describe, expect, it} from 'vitest'
import {declaredLicense, evaluateLicense, policyEntryProblem} from '../../src/licenses/policy.js'

describe('declaredLicense', () => {
  it('reads license, the legacy {type} object and the legacy licenses array (joined by OR), else NOASSERTION', () => {
    expect(declaredLicense({license: 'MIT'})).toBe('MIT')
    expect(declaredLicense({license: {type: 'ISC', url: 'x'}})).toBe('ISC')
    expect(declaredLicense({licenses: [{type: 'MIT'}, {type: 'Apache-2.0'}]})).toBe('MIT OR Apache-2.0')
    expect(declaredLicense({licenses: [{type: 'MIT'}, {type: 'GPL-2.0-only WITH Classpath-exception-2.0'}]})).toBe('MIT OR (GPL-2.0-only WITH Classpath-exception-2.0)')
    expect(declaredLicense({licenses: [{type: 'BSD-3-Clause'}]})).toBe('BSD-3-Clause')
    expect(declaredLicense({})).toBe('NOASSERTION')
    expect(declaredLicense({license: '  '})).toBe('NOASSERTION')
    expect(declaredLicense({license: 'UNLICENSED'})).toBe('UNLICENSED')
  })
})

describe('evaluateLicense', () => {
  it('checks nothing without a policy', () => {
    expect(evaluateLicense('GPL-3.0-only', {})).toEqual({status: 'unchecked'})
  })

  it('passes an OR expression when one choice is entirely allowed, an AND one only when every part is', () => {
    const allow = {allow: ['MIT', 'Apache-2.0']}
    expect(evaluateLicense('(MIT OR GPL-3.0-only)', allow).status).toBe('allowed')
    expect(evaluateLicense('MIT AND GPL-3.0-only', allow)).toEqual({status: 'not-allowed', reason: 'is not in settings.licenses.allow'})
    expect(evaluateLicense('MIT AND (Apache-2.0 OR GPL-3.0-only)', allow).status).toBe('allowed')
    expect(evaluateLicense('ISC', allow).status).toBe('not-allowed')
  })

  it('lets deny win: a choice with a denied licence never passes, another choice still can', () => {
    expect(evaluateLicense('GPL-3.0-only', {deny: ['AGPL-3.0-only', 'GPL-3.0-only']})).toEqual({status: 'denied', entries: [{list: 'deny', index: 1, entry: 'GPL-3.0-only'}]})
    expect(evaluateLicense('MIT OR GPL-3.0-only', {deny: ['GPL-3.0-only']}).status).toBe('allowed')
    expect(evaluateLicense('MIT AND GPL-3.0-only', {deny: ['GPL-3.0-only']}).status).toBe('denied')
    expect(evaluateLicense('GPL-3.0-only', {allow: ['GPL-3.0-only'], deny: ['GPL-3.0-only']}).status).toBe('denied')
    // Both choices fail, one by the deny list: reported as denied, naming the entry.
    expect(evaluateLicense('ISC OR GPL-3.0-only', {allow: ['MIT'], deny: ['GPL-3.0-only']})).toMatchObject({status: 'denied', entries: [{entry: 'GPL-3.0-only'}]})
  })

  it('matches plus ranges and exceptions as spdx-satisfies does', () => {
    expect(evaluateLicense('GPL-3.0-or-later', {deny: ['GPL-2.0+']}).status).toBe('denied')
    expect(evaluateLicense('GPL-2.0-only WITH Classpath-exception-2.0', {allow: ['GPL-2.0-only WITH Classpath-exception-2.0']}).status).toBe('allowed')
    expect(evaluateLicense('GPL-2.0-only WITH Classpath-exception-2.0', {allow: ['GPL-2.0-only']}).status).toBe('not-allowed')
  })

  it('fails an allow list for a missing licence, UNLICENSED and free text, unless the list names the word', () => {
    expect(evaluateLicense('NOASSERTION', {allow: ['MIT']}).status).toBe('not-allowed')
    expect(evaluateLicense('NOASSERTION', {deny: ['MIT']}).status).toBe('allowed')
    expect(evaluateLicense('UNLICENSED', {allow: ['MIT']}).status).toBe('not-allowed')
    expect(evaluateLicense('UNLICENSED', {allow: ['MIT', 'UNLICENSED']}).status).toBe('allowed')
    // UNLICENSED is never read as the Unlicense.
    expect(evaluateLicense('UNLICENSED', {deny: ['UNLICENSED']}).status).toBe('denied')
    expect(evaluateLicense('UNLICENSED', {deny: ['Unlicense']}).status).toBe('allowed')
    expect(evaluateLicense('SEE LICENSE IN LICENSE.txt', {allow: ['MIT']})).toEqual({status: 'not-allowed', reason: 'is not an SPDX expression'})
  })

  it('reads free text through spdx-correct and says so', () => {
    expect(evaluateLicense('GPLv3', {deny: ['GPL-3.0-or-later']})).toMatchObject({status: 'denied', readAs: 'GPL-3.0-or-later'})
    expect(evaluateLicense('Apache 2', {allow: ['Apache-2.0']})).toEqual({status: 'allowed', readAs: 'Apache-2.0'})
  })
})

describe('policyEntryProblem', () => {
  it('accepts one licence (with + or WITH), LicenseRef and the two words; refuses expressions and unknown ids with a suggestion', () => {
    for (const entry of ['MIT', 'GPL-2.0+', 'GPL-2.0-only WITH Classpath-exception-2.0', 'LicenseRef-acme', 'UNLICENSED', 'NOASSERTION']) expect(policyEntryProblem(entry)).toBeUndefined()
    expect(policyEntryProblem('MIT OR ISC')?.reason).toMatch(/AND \/ OR/)
    expect(policyEntryProblem('Apache2')).toEqual({reason: 'is not an SPDX licence identifier', suggestion: 'Apache-2.0'})
    expect(policyEntryProblem('no-such-licence')).toEqual({reason: 'is not an SPDX licence identifier'})
  })
})
