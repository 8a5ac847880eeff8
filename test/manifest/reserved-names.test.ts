// Names every JavaScript object inherits (__proto__, constructor, toString ...) as names in the
// manifest and keys in the lockfile: refused where they are declared, at their file:line:column;
// references to such a name that nothing declares are unknown names (not inherited properties); the
// lockfile diff reads only own entries.
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {diffLockfiles} from '../../src/lock/diff.js'
import {checkLockfileShape} from '../../src/lock/shape.js'
import type {Lockfile} from '../../src/lock/types.js'
import {inspectManifestText} from '../../src/manifest/load.js'
import {isReservedName} from '../../src/manifest/reserved-names.js'

const DIR = mkdtempSync(path.join(tmpdir(), 'layers-reserved-'))
const FILE = path.join(DIR, 'layers.yaml')
afterAll(() => rmSync(DIR, {recursive: true, force: true}))

const problems = (text: string): Array<{code: string; message: string; location: string}> =>
  inspectManifestText(text, FILE).problems.map((problem) => ({code: problem.code, message: problem.message, location: `${problem.location?.line}:${problem.location?.column}`}))

describe('reserved names in the manifest', () => {
  it('refuses them as account, layer, function and channel names, at the name', () => {
    const found = problems(`version: 1
settings: {regions: [eu-west-1]}
accounts:
  constructor: {id: "111111111111"}
layers:
  __proto__: {arn: "arn:aws:lambda:eu-west-1:111111111111:layer:a:1"}
  toString: {arn: "arn:aws:lambda:eu-west-1:111111111111:layer:b:1"}
  ok:
    npm: {left-pad: ^1.3.0}
    channels: [stable, hasOwnProperty]
functions:
  valueOf: {source: ., handler: index.handler, runtime: nodejs22.x, accounts: [constructor], layers: [__proto__, toString]}
`).filter((problem) => problem.code === 'ERR_LAYERS_MANIFEST_RESERVED_NAME')
    expect(found).toEqual([
      {code: 'ERR_LAYERS_MANIFEST_RESERVED_NAME', location: '4:3', message: expect.stringContaining('accounts.constructor: account name "constructor" is a property every JavaScript object inherits')},
      {code: 'ERR_LAYERS_MANIFEST_RESERVED_NAME', location: '6:3', message: expect.stringContaining('layers.__proto__: layer name "__proto__"')},
      {code: 'ERR_LAYERS_MANIFEST_RESERVED_NAME', location: '7:3', message: expect.stringContaining('layers.toString: layer name "toString"')},
      {code: 'ERR_LAYERS_MANIFEST_RESERVED_NAME', location: '10:24', message: expect.stringContaining('layers.ok.channels[1]: channel name "hasOwnProperty"')},
      {code: 'ERR_LAYERS_MANIFEST_RESERVED_NAME', location: '12:3', message: expect.stringContaining('functions.valueOf: function name "valueOf"')},
    ])
  })

  it('reports a reserved name nothing declares as unknown, not as an inherited entry', () => {
    const found = problems(`version: 1
settings: {regions: [eu-west-1]}
accounts:
  dev: {id: "111111111111"}
layers:
  ok:
    npm: {left-pad: ^1.3.0}
    share: {accounts: [isPrototypeOf]}
functions:
  f: {source: ., handler: index.handler, runtime: nodejs22.x, accounts: [constructor], layers: [toString, ok]}
`)
    expect(found).toEqual([
      expect.objectContaining({code: 'ERR_LAYERS_UNKNOWN_ACCOUNT', location: '8:24', message: expect.stringContaining('names "isPrototypeOf", which is neither')}),
      expect.objectContaining({code: 'ERR_LAYERS_UNKNOWN_ACCOUNT', location: '10:74', message: expect.stringContaining('names "constructor", which is not in accounts:')}),
      expect.objectContaining({code: 'ERR_LAYERS_UNKNOWN_LAYER', location: '10:97', message: expect.stringContaining('uses layer "toString", which is not defined')}),
    ])
  })

  it('accepts names plain objects do not inherit, such as prototype', () => {
    const inspection = inspectManifestText('version: 1\nsettings: {regions: [eu-west-1]}\nlayers:\n  prototype: {npm: {left-pad: ^1.3.0}, channels: [prototype]}\n', FILE)
    expect(inspection.problems).toEqual([])
    expect(Object.keys(inspection.manifest!.layers)).toEqual(['prototype'])
    expect(isReservedName('prototype')).toBe(false)
    expect(['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'toLocaleString', '__defineGetter__'].every(isReservedName)).toBe(true)
  })
})

const lockfile = (layers: string): unknown => JSON.parse(`{"lockfileVersion": 1, "layers": ${layers}}`)
const DIR_LAYER = '{"kind": "dir", "inputs": "sha256-x", "artifacts": {"x86_64": {"architectures": ["x86_64"]}}}'

describe('reserved names in the lockfile', () => {
  it('refuses one as a key of the maps layers keys by its names, __proto__ included (JSON.parse keeps it as an own key), not as a package or project name', () => {
    expect(checkLockfileShape(lockfile(`{"toString": ${DIR_LAYER}}`))).toEqual({path: ['layers', 'toString'], message: expect.stringContaining('layers.toString has a reserved name: "toString" is a property')})
    expect(checkLockfileShape(lockfile(`{"__proto__": ${DIR_LAYER}}`))?.path).toEqual(['layers', '__proto__'])
    const published = `{"kind": "dir", "inputs": "sha256-x", "artifacts": {"x86_64": {"architectures": ["x86_64"]}}, "channels": {"constructor": {}}}`
    expect(checkLockfileShape(lockfile(`{"a": ${published}}`))?.path).toEqual(['layers', 'a', 'channels', 'constructor'])
    expect(checkLockfileShape(lockfile(`{"a": ${DIR_LAYER}}`))).toBeUndefined()
    // A wheel is keyed by its PyPI project name, and PyPI has a project named constructor.
    const wheel = '{"name": "constructor", "version": "3.9.0", "filename": "constructor-3.9.0-py3-none-any.whl", "url": "https://files.example/c.whl", "sha256": "00", "index": "https://pypi.org/simple"}'
    const pip = `{"kind": "pip", "inputs": "sha256-x", "artifacts": {"x86_64": {"architectures": ["x86_64"], "wheels": {"python3.12": {"constructor": ${wheel}}}}}}`
    expect(checkLockfileShape(lockfile(`{"a": ${pip}}`))).toBeUndefined()
    expect(checkLockfileShape(lockfile(`{"a": ${pip.replace('"python3.12"', '"toString"')}}`))?.path).toEqual(['layers', 'a', 'artifacts', 'x86_64', 'wheels', 'toString'])
    // A package's dependencies are keyed by package name, and npm has a package named constructor.
    const npm = `{"kind": "npm", "inputs": "sha256-x", "artifacts": {"x86_64": {"architectures": ["x86_64"], "packages": {"node_modules/constructor": {"name": "constructor", "version": "1.0.0", "resolved": "https://registry.npmjs.org/constructor/-/constructor-1.0.0.tgz", "integrity": "sha512-x", "dependencies": {"constructor": "^1.0.0"}}}}}}`
    expect(checkLockfileShape(lockfile(`{"a": ${npm}}`))).toBeUndefined()
    const arn = '{"kind": "arn", "inputs": "sha256-x", "arns": {"111111111111": {"valueOf": "arn:aws:lambda:eu-west-1:111111111111:layer:x:1"}}}'
    expect(checkLockfileShape(lockfile(`{"a": ${arn}}`))?.path).toEqual(['layers', 'a', 'arns', '111111111111', 'valueOf'])
  })

  it('diffs only own entries: a layer added under a name an object inherits is an addition', () => {
    const before = {lockfileVersion: 1, layers: {}} as unknown as Lockfile
    const after = {lockfileVersion: 1, layers: {constructor: JSON.parse(DIR_LAYER)}} as unknown as Lockfile
    expect(diffLockfiles(before, after)).toEqual([{layer: 'constructor', change: 'added', differences: [{field: 'artifact', artifact: 'x86_64', after: ['x86_64']}]}])
    expect(diffLockfiles(after, before)).toEqual([{layer: 'constructor', change: 'removed', differences: [{field: 'artifact', artifact: 'x86_64', before: ['x86_64']}]}])
  })
})
