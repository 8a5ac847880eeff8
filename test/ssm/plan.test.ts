// The pure side of channels and SSM parameters: parameter names from the template, the parameters a
// lockfile's channels give (an artifact for both architectures gives two names), the stale ones of
// the template's shape, channel moves, and the manifest's channel and settings.ssm checks (located).
import {describe, expect, it} from 'vitest'
import {checkLockfileContent} from '../../src/lock/check.js'
import {checkLockfileShape} from '../../src/lock/shape.js'
import type {Lockfile} from '../../src/lock/types.js'
import {inspectManifestText, parseManifest} from '../../src/manifest/load.js'
import type {OwnLayer} from '../../src/manifest/types.js'
import {ssmParameterName} from '../../src/ssm/names.js'
import {applyChannelMoves, changingMoves, desiredParameters, matchesTemplate, namedParameters, staleParameters, templatePath} from '../../src/ssm/plan.js'

const TEMPLATE = '/layers/{layer}/{channel}/{architecture}'
const T = {accountName: 'dev', accountId: '111111111111', region: 'eu-west-1'}
const pub = (layer: string, version: number) => ({arn: `arn:aws:lambda:eu-west-1:111111111111:layer:${layer}:${version}`, version, codeSha256: `${'A'.repeat(43)}=`})

const layer = (name: string, extra: Partial<OwnLayer> = {}): OwnLayer => ({kind: 'dir', name, dir: '/x', runtimes: ['nodejs22.x'], architectures: ['x86_64', 'arm64'], exclude: [], defaultExcludes: true, share: {accounts: [], public: false}, ...extra}) as OwnLayer

const lock: Lockfile = {
  lockfileVersion: 1,
  layers: {
    both: {kind: 'dir', inputs: 'x', artifacts: {'arm64+x86_64': {architectures: ['arm64', 'x86_64']}}, published: {[T.accountId]: {[T.region]: {'arm64+x86_64': pub('both', 3)}}}},
    chan: {kind: 'dir', inputs: 'x', artifacts: {x86_64: {architectures: ['x86_64']}}, published: {[T.accountId]: {[T.region]: {x86_64: pub('chan', 5)}}}, channels: {prod: {[T.accountId]: {[T.region]: {x86_64: pub('chan', 4)}}}}},
  },
}

describe('SSM parameter plan', () => {
  it('names parameters from the template', () => {
    expect(ssmParameterName(TEMPLATE, {layer: 'deps', channel: 'prod', architecture: 'arm64'})).toBe('/layers/deps/prod/arm64')
    expect(ssmParameterName('/x/{channel}/{layer}-{architecture}/{layer}', {layer: 'a', channel: 'b', architecture: 'x86_64'})).toBe('/x/b/a-x86_64/a')
    expect(templatePath(TEMPLATE)).toBe('/layers')
    expect(templatePath('/{layer}/{channel}')).toBe('/')
  })

  it('gives each architecture of a shared artifact its parameter, the implicit channel from published, a declared one from channels', () => {
    const desired = desiredParameters(TEMPLATE, lock, [
      {layer: layer('both'), targets: [T]},
      {layer: layer('chan', {architectures: ['x86_64'], channels: ['prod', 'beta']}), targets: [T]},
    ])
    expect(desired.map((p) => `${p.name}=${p.version}`)).toEqual(['/layers/both/default/arm64=3', '/layers/both/default/x86_64=3', '/layers/chan/prod/x86_64=4'])
    expect(desiredParameters(TEMPLATE, lock, [{layer: layer('chan', {architectures: ['x86_64'], channels: ['prod', 'beta']}), targets: [T]}], ['beta'])).toEqual([])
  })

  it('reports as stale only names of the template\'s shape the manifest no longer names', () => {
    const named = namedParameters(TEMPLATE, [layer('both'), layer('chan', {architectures: ['x86_64'], channels: ['prod', 'beta']})])
    expect([...named].sort()).toEqual(['/layers/both/default/arm64', '/layers/both/default/x86_64', '/layers/chan/beta/x86_64', '/layers/chan/prod/x86_64'])
    const listed = new Map([
      ['/layers/both/default/x86_64', 'a'],
      ['/layers/gone/default/x86_64', 'b'],
      ['/layers/chan/old/x86_64', 'c'],
      ['/layers/notes', 'd'],
      ['/layers/a/b/c/d', 'e'],
    ])
    expect(staleParameters(TEMPLATE, listed, named)).toEqual([
      {name: '/layers/chan/old/x86_64', value: 'c'},
      {name: '/layers/gone/default/x86_64', value: 'b'},
    ])
    expect(matchesTemplate(TEMPLATE, '/layers/x/y/z')).toBe(true)
    expect(matchesTemplate(TEMPLATE, '/layersX/x/y/z')).toBe(false)
  })

  it('moves channels in a copy of the lock, keeping the others', () => {
    const moved = applyChannelMoves(structuredClone(lock), [{...T, layer: 'chan', channel: 'beta', artifactKey: 'x86_64', publication: pub('chan', 5)}, {...T, layer: 'gone', channel: 'beta', artifactKey: 'x86_64', publication: pub('gone', 1)}])
    expect(moved.layers.chan).toMatchObject({channels: {prod: {[T.accountId]: {[T.region]: {x86_64: {version: 4}}}}, beta: {[T.accountId]: {[T.region]: {x86_64: {version: 5}}}}}})
    expect(moved.layers.gone).toBeUndefined()
    expect(lock.layers.chan).not.toHaveProperty('channels.beta')
  })

  it('keeps only the moves that change the lock (what takes a lease and writes lockfile.json)', () => {
    const move = (channel: string, version: number, name = 'chan') => ({...T, layer: name, channel, artifactKey: 'x86_64', publication: pub(name, version)})
    expect(changingMoves(lock, [move('prod', 4), move('prod', 5), move('beta', 5), move('prod', 1, 'gone')]).map((m) => `${m.channel} ${m.publication.version}`)).toEqual(['prod 5', 'beta 5'])
  })
})

describe('manifest: channels and settings.ssm', () => {
  const base = (settings: string, layers: string) => `version: 1\nsettings:\n  regions: [eu-west-1]\n${settings}accounts:\n  dev: {id: "111111111111"}\nlayers:\n${layers}`

  it('loads channels, the default template and an arn layer\'s feed', () => {
    const manifest = parseManifest(base('  ssm: {}\n', '  a:\n    dir: .\n    channels: [prod, beta]\n  v:\n    arn: arn:aws:lambda:{region}:123456789012:layer:v:1\n    ssm: /aws/service/v/{region}/latest\n'), '/tmp/layers.yaml')
    expect(manifest.settings.ssm).toEqual({parameterName: TEMPLATE})
    expect(manifest.layers.a).toMatchObject({channels: ['prod', 'beta']})
    expect(manifest.layers.v).toMatchObject({kind: 'arn', ssm: '/aws/service/v/{region}/latest'})
    expect(parseManifest(base('', '  a: {dir: .}\n'), '/tmp/layers.yaml').settings.ssm).toBeUndefined()
  })

  it('reports bad channels, templates and misplaced keys where they are', () => {
    const text = base(
      '  architectures: [x86_64, arm64]\n  ssm: {parameterName: "/aws/{layer}"}\n',
      '  a:\n    dir: .\n    channels: [prod, prod, "no way"]\n  v:\n    arn: arn:aws:lambda:eu-west-1:123456789012:layer:v:1\n    channels: [prod]\n  b:\n    dir: .\n    ssm: /x\n',
    )
    const {problems} = inspectManifestText(text, '/tmp/layers.yaml')
    const found = problems.map((problem) => `${problem.location?.line}:${problem.code}`)
    // The duplicate and the bad name at the channels list, the template's two problems, an arn layer's channels, an own layer's ssm.
    expect(found).toEqual([
      '5:ERR_LAYERS_MANIFEST_SSM_RESERVED_NAME',
      '5:ERR_LAYERS_MANIFEST_SSM_NAME_AMBIGUOUS',
      '11:ERR_LAYERS_MANIFEST_DUPLICATE',
      '11:ERR_LAYERS_MANIFEST_INVALID_VALUE',
      '14:ERR_LAYERS_MANIFEST_ARN_LAYER_OPTION',
      '17:ERR_LAYERS_MANIFEST_OWN_LAYER_SSM',
    ])
  })
})

describe('lockfile channels', () => {
  it('reads lockfiles without channels, and checks a channel\'s ARNs as the published ones', () => {
    expect(checkLockfileShape(JSON.parse(JSON.stringify({...lock, layers: {both: lock.layers.both}})))).toBeUndefined()
    expect(checkLockfileShape(lock)).toBeUndefined()
    expect(checkLockfileShape({lockfileVersion: 1, layers: {chan: {...lock.layers.chan, channels: {prod: {[T.accountId]: {[T.region]: {x86_64: {arn: 'x'}}}}}}}})?.message).toBe('layers.chan.channels.prod.111111111111.eu-west-1.x86_64 must have arn, version and codeSha256')
    const foreign = structuredClone(lock)
    const chan = foreign.layers.chan as {channels: Record<string, Record<string, Record<string, Record<string, {arn: string}>>>>}
    chan.channels.prod![T.accountId]![T.region]!.x86_64!.arn = 'arn:aws:lambda:eu-west-1:999999999999:layer:chan:4'
    const problems = checkLockfileContent(foreign, {registries: ['https://registry.npmjs.org/'], replaceRegistryHost: 'npmjs'})
    expect(problems.map((problem) => problem.path.join('.'))).toEqual(['layers.chan.channels.prod.111111111111.eu-west-1.x86_64.arn'])
    expect(problems[0]!.message).toMatch(/belongs to account 999999999999/)
  })
})
