// `layers export` planning: the entries from the lock (per architecture of an artifact, the selection
// asked, own layers only), each format's files parsed back as their tool would read them (the
// Terraform variable, CloudFormation parameters and dynamic references, CDK context merged into an
// existing file, Serverless ${ssm:} variables), the same bytes for the same lock, and the errors.
import {describe, expect, it} from 'vitest'
import {parse} from 'yaml'
import {cdkContextKey, exportEntries, parameterKey, renderExport, type ExportEntry} from '../../src/export/plan.js'
import type {Lockfile} from '../../src/lock/types.js'
import type {Manifest} from '../../src/manifest/types.js'
import {ssmParameterName} from '../../src/ssm/names.js'

const A = '111111111111'
const B = '222222222222'
const arn = (account: string, region: string, name: string, version: number) => `arn:aws:lambda:${region}:${account}:layer:${name}:${version}`

const manifest = {
  file: '/p/layers.yaml',
  settings: {bucket: 'b', prefix: '', regions: ['eu-west-1'], architectures: ['x86_64'], runtimes: ['nodejs22.x']},
  layers: {
    common: {kind: 'npm', name: 'common'},
    'sharp-native': {kind: 'npm', name: 'sharp-native'},
    insights: {kind: 'arn', name: 'insights'},
  },
} as unknown as Pick<Manifest, 'layers' | 'settings' | 'file'>

const lock: Lockfile = {
  lockfileVersion: 1,
  layers: {
    common: {
      kind: 'npm', inputs: 'x', artifacts: {},
      published: {
        [A]: {'eu-west-1': {'arm64+x86_64': {arn: arn(A, 'eu-west-1', 'common', 3), version: 3, codeSha256: 'c3'}}},
        [B]: {'us-east-1': {'arm64+x86_64': {arn: arn(B, 'us-east-1', 'common', 1), version: 1, codeSha256: 'c1'}}},
      },
    },
    'sharp-native': {
      kind: 'npm', inputs: 'y', artifacts: {},
      published: {[A]: {'eu-west-1': {x86_64: {arn: arn(A, 'eu-west-1', 'sharp-native', 7), version: 7, codeSha256: 's7'}, arm64: {arn: arn(A, 'eu-west-1', 'sharp-native', 8), version: 8, codeSha256: 's8'}}}},
    },
    insights: {kind: 'arn', inputs: 'z', arns: {[A]: {'eu-west-1': 'arn:aws:lambda:eu-west-1:580247275435:layer:LambdaInsightsExtension:53'}}},
    gone: {kind: 'dir', inputs: 'w', artifacts: {}, published: {[A]: {'eu-west-1': {x86_64: {arn: arn(A, 'eu-west-1', 'gone', 1), version: 1, codeSha256: 'g'}}}}},
  },
}

const all = (): ExportEntry[] => exportEntries(manifest, lock, {asked: 'any account, any region'})

describe('exportEntries', () => {
  it('gives one entry per own layer, account, region and architecture, sorted, with its SSM parameter', () => {
    expect(all().map((entry) => `${entry.layer} ${entry.accountId} ${entry.region} ${entry.architecture} ${entry.version} ${entry.parameter}`)).toEqual([
      `common ${A} eu-west-1 arm64 3 /layers/common/default/arm64`,
      `common ${A} eu-west-1 x86_64 3 /layers/common/default/x86_64`,
      `common ${B} us-east-1 arm64 1 /layers/common/default/arm64`,
      `common ${B} us-east-1 x86_64 1 /layers/common/default/x86_64`,
      `sharp-native ${A} eu-west-1 arm64 8 /layers/sharp-native/default/arm64`,
      `sharp-native ${A} eu-west-1 x86_64 7 /layers/sharp-native/default/x86_64`,
    ])
  })

  it('follows settings.ssm.parameterName and the accounts and regions asked', () => {
    const custom = {...manifest, settings: {...manifest.settings, ssm: {parameterName: '/acme/{architecture}/{layer}'}}}
    const entries = exportEntries(custom, lock, {accountIds: [B], regions: ['us-east-1'], asked: 'x'})
    expect(entries.map((entry) => entry.parameter)).toEqual(['/acme/arm64/common', '/acme/x86_64/common'])
    expect(ssmParameterName('/layers/{layer}/{channel}/{architecture}', {layer: 'a', channel: 'prod', architecture: 'arm64'})).toBe('/layers/a/prod/arm64')
  })

  it('is ERR_LAYERS_EXPORT_NOTHING_PUBLISHED when the lock has nothing for the selection, naming it', () => {
    expect(() => exportEntries(manifest, lock, {accountIds: [B], regions: ['eu-west-1'], asked: 'account prod (222222222222), region eu-west-1'})).toThrow(
      expect.objectContaining({code: 'ERR_LAYERS_EXPORT_NOTHING_PUBLISHED', exitCode: 2, message: expect.stringContaining('account prod (222222222222), region eu-west-1')}),
    )
  })
})

describe('renderExport', () => {
  it('terraform: one map variable indexed layer, account, region, architecture', () => {
    const [file] = renderExport('terraform', all())
    const vars = JSON.parse(file!.text) as {layer_arns: Record<string, Record<string, Record<string, Record<string, string>>>>}
    expect(Object.keys(vars)).toEqual(['layer_arns'])
    expect(vars.layer_arns.common![A]!['eu-west-1']!.arm64).toBe(arn(A, 'eu-west-1', 'common', 3))
    expect(vars.layer_arns['sharp-native']![A]!['eu-west-1']).toEqual({arm64: arn(A, 'eu-west-1', 'sharp-native', 8), x86_64: arn(A, 'eu-west-1', 'sharp-native', 7)})
    // map(map(map(map(string)))): every leaf at depth 4 is a string.
    for (const accounts of Object.values(vars.layer_arns)) for (const regions of Object.values(accounts)) for (const archs of Object.values(regions)) for (const value of Object.values(archs)) expect(typeof value).toBe('string')
  })

  it('cloudformation: a parameters file per account and region, and the dynamic reference of each key', () => {
    const files = renderExport('cloudformation', all())
    expect(files.map((file) => file.name)).toEqual([`layers-${A}-eu-west-1.parameters.json`, `layers-${B}-us-east-1.parameters.json`, 'layers.ssm-references.json'])
    expect(JSON.parse(files[0]!.text)).toEqual([
      {ParameterKey: 'LayerCommonArm64', ParameterValue: arn(A, 'eu-west-1', 'common', 3)},
      {ParameterKey: 'LayerCommonX8664', ParameterValue: arn(A, 'eu-west-1', 'common', 3)},
      {ParameterKey: 'LayerSharpNativeArm64', ParameterValue: arn(A, 'eu-west-1', 'sharp-native', 8)},
      {ParameterKey: 'LayerSharpNativeX8664', ParameterValue: arn(A, 'eu-west-1', 'sharp-native', 7)},
    ])
    expect(JSON.parse(files[2]!.text)).toMatchObject({LayerCommonArm64: '{{resolve:ssm:/layers/common/default/arm64}}'})
    expect(parameterKey('my_layer-2', 'x86_64')).toBe('LayerMyLayer2X8664')
  })

  it('cloudformation: refuses two layers that give one parameter name', () => {
    const clash = [...all(), {...all()[0]!, layer: 'Common'}]
    expect(() => renderExport('cloudformation', clash)).toThrow(expect.objectContaining({code: 'ERR_LAYERS_EXPORT_PARAMETER_CLASH'}))
  })

  it('cdk: flat context keys, merged into an existing cdk.context.json (its keys kept, old layers keys replaced)', () => {
    const existing = JSON.stringify({'availability-zones:account=1:region=eu-west-1': ['a'], 'layers:layer=old:account=1:region=r:architecture=x86_64': 'stale'})
    const [file] = renderExport('cdk', all(), {file: 'cdk.context.json', text: existing})
    const context = JSON.parse(file!.text) as Record<string, unknown>
    expect(context['availability-zones:account=1:region=eu-west-1']).toEqual(['a'])
    expect(context['layers:layer=old:account=1:region=r:architecture=x86_64']).toBeUndefined()
    expect(context[cdkContextKey({layer: 'common', accountId: A, region: 'eu-west-1', architecture: 'arm64'})]).toBe(arn(A, 'eu-west-1', 'common', 3))
    expect(() => renderExport('cdk', all(), {file: 'cdk.context.json', text: '[1]'})).toThrow(expect.objectContaining({code: 'ERR_LAYERS_EXPORT_OUTPUT_INVALID'}))
  })

  it('serverless: a custom fragment of ${ssm:} variables per layer and architecture', () => {
    const [file] = renderExport('serverless', all())
    expect(parse(file!.text)).toEqual({
      layers: {
        common: {arm64: '${ssm:/layers/common/default/arm64}', x86_64: '${ssm:/layers/common/default/x86_64}'},
        'sharp-native': {arm64: '${ssm:/layers/sharp-native/default/arm64}', x86_64: '${ssm:/layers/sharp-native/default/x86_64}'},
      },
    })
  })

  it('json: every entry with its ARN, version, CodeSha256 and parameter; the same lock gives the same bytes in any order', () => {
    const [file] = renderExport('json', all())
    expect(JSON.parse(file!.text).layers.common[B]['us-east-1'].x86_64).toEqual({arn: arn(B, 'us-east-1', 'common', 1), version: 1, codeSha256: 'c1', parameter: '/layers/common/default/x86_64'})
    for (const format of ['terraform', 'cloudformation', 'cdk', 'serverless', 'json'] as const) {
      expect(renderExport(format, [...all()].reverse()), format).toEqual(renderExport(format, all()))
    }
  })
})
