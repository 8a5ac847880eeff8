import {describe, expect, it} from 'vitest'
import {serializeLockfile} from '../../src/lock/serialize.js'
import type {Lockfile} from '../../src/lock/types.js'

describe('serializeLockfile', () => {
  it('puts lockfileVersion first, sorts every other key, indents by two and ends with a newline', () => {
    const lock = {
      layers: {zeta: {kind: 'dir', inputs: 'b', artifacts: {}}, alpha: {kind: 'dir', inputs: 'a', artifacts: {}}},
      lockfileVersion: 1,
    } as unknown as Lockfile
    expect(serializeLockfile(lock)).toBe(
      '{\n  "lockfileVersion": 1,\n  "layers": {\n    "alpha": {\n      "artifacts": {},\n      "inputs": "a",\n      "kind": "dir"\n    },\n' +
        '    "zeta": {\n      "artifacts": {},\n      "inputs": "b",\n      "kind": "dir"\n    }\n  }\n}\n',
    )
  })
})
