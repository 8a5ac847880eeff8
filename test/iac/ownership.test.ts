// ownerOf: the owner a function's tags name, from the function's own tags only.
import {describe, expect, it} from 'vitest'
import {ownerOf} from '../../src/iac/ownership.js'

describe('ownerOf', () => {
  it('names the CloudFormation stack first, then the first ownership tag the function carries', () => {
    expect(ownerOf({'aws:cloudformation:stack-name': 'orders', ManagedBy: 'terraform'}, ['ManagedBy'])).toEqual({kind: 'cloudformation', stack: 'orders'})
    expect(ownerOf({ManagedBy: 'terraform'}, ['ManagedBy=pulumi', 'ManagedBy=terraform'])).toEqual({kind: 'tag', tag: 'ManagedBy=terraform'})
    expect(ownerOf({ManagedBy: 'terraform'}, ['ManagedBy'])).toEqual({kind: 'tag', tag: 'ManagedBy'})
  })

  it('an ownership tag named as a property every object inherits matches only a function tagged so', () => {
    expect(ownerOf({}, ['constructor', 'toString', '__proto__'])).toBeUndefined()
    expect(ownerOf({ManagedBy: 'x'}, ['hasOwnProperty=x'])).toBeUndefined()
    expect(ownerOf(JSON.parse('{"__proto__": "team"}') as Record<string, string>, ['__proto__=team'])).toEqual({kind: 'tag', tag: '__proto__=team'})
  })
})
