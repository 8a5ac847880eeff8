import {mkdtempSync, mkdirSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {emptyLockfile, type Lockfile} from '../../src/lock/types.js'
import {parseManifest} from '../../src/manifest/load.js'
import {
  artifactFor,
  candidateVersions,
  describedContent,
  describedSbom,
  desiredGrants,
  diffGrants,
  planPublish,
  versionDescription,
  type ArtifactContent,
} from '../../src/publish/plan.js'

const root = mkdtempSync(path.join(tmpdir(), 'layers-publish-plan-'))
afterAll(() => rmSync(root, {recursive: true, force: true}))
for (const dir of ['shared', 'fn/a', 'fn/b']) mkdirSync(path.join(root, dir), {recursive: true})

const manifest = parseManifest(
  `version: 1
settings:
  bucket: art-{accountId}-{region}
  prefix: layers/
  regions: [eu-west-1]
  architectures: [x86_64, arm64]
accounts:
  dev: {id: "111111111111"}
  prod: {id: "222222222222", regions: [eu-west-1, us-east-1]}
layers:
  cfg:
    dir: shared
    description: Shared config
    license: MIT
    share: {accounts: [prod, "333333333333", dev], organization: o-abc123def4}
  lonely:
    dir: shared
    architectures: [arm64]
  ext:
    arn: arn:aws:lambda:{region}:580247275435:layer:Ext:3
functions:
  a: {source: fn/a, handler: index.handler, runtime: nodejs22.x, architecture: arm64, layers: [cfg, ext], accounts: [dev, prod]}
  b: {source: fn/b, handler: index.handler, runtime: nodejs22.x, architecture: x86_64, layers: [cfg], accounts: [prod]}
`,
  path.join(root, 'layers.yaml'),
)

const hex = (c: string) => c.repeat(64)
const content = (layer: string, key: string, c: string): ArtifactContent => ({
  layer,
  artifactKey: key,
  codeSha256: Buffer.from(hex(c), 'hex').toString('base64'),
  sha256Hex: hex(c),
  zipBytes: 100,
  unzippedBytes: 200,
  zipPath: `/z/${c}.zip`,
})

/** The lock of the dir layers cfg and lonely, as `layers lock` writes it for the manifest above. */
function dirLock(): Lockfile {
  const lock = emptyLockfile()
  lock.layers.cfg = {kind: 'dir', inputs: 'x', artifacts: {arm64: {architectures: ['arm64']}, x86_64: {architectures: ['x86_64']}}}
  lock.layers.lonely = {kind: 'dir', inputs: 'z', artifacts: {arm64: {architectures: ['arm64']}}}
  return lock
}

describe('planPublish', () => {
  const artifacts = [content('cfg', 'arm64', 'a'), content('cfg', 'x86_64', 'b'), content('lonely', 'arm64', 'c')]

  it('publishes each artifact to the targets of the functions that use it, one architecture each', () => {
    const plan = planPublish(manifest, dirLock(), artifacts, {}, '1.0.0')
    const rows = plan.units.map((unit) => `${unit.layer} ${unit.artifactKey} ${unit.target.accountId} ${unit.target.region}`)
    expect(rows).toEqual([
      // dev/eu-west-1: only function a (arm64); prod/eu-west-1 and us-east-1: a (arm64) and b (x86_64)
      'cfg arm64 111111111111 eu-west-1',
      'cfg arm64 222222222222 eu-west-1',
      'cfg x86_64 222222222222 eu-west-1',
      'cfg arm64 222222222222 us-east-1',
      'cfg x86_64 222222222222 us-east-1',
      // no function uses it: every account and region
      'lonely arm64 111111111111 eu-west-1',
      'lonely arm64 222222222222 eu-west-1',
      'lonely arm64 222222222222 us-east-1',
    ])
    const unit = plan.units[1]!
    expect(unit.bucket).toBe('art-222222222222-eu-west-1')
    expect(unit.key).toBe(`layers/cfg/${hex('a')}.zip`)
    // The content's SBOM: named by its SHA-256 beside the zip, and in the description after the content.
    expect(unit.sbom.key).toBe(`layers/cfg/${unit.sbom.sha256Hex}.cdx.json`)
    expect(unit.description).toBe(`Shared config layers-sha256:${hex('a')} layers-sbom:${unit.sbom.sha256Hex}`)
    const bom = JSON.parse(unit.sbom.text)
    expect(bom.metadata.component.properties).toContainEqual({name: 'aws:lambda:CodeSha256', value: content('cfg', 'arm64', 'a').codeSha256})
    expect(bom.metadata.tools.components[0].version).toBe('1.0.0')
    // Each content its own SBOM; the same content in another target the same.
    expect(plan.units[2]!.sbom.sha256Hex).not.toBe(unit.sbom.sha256Hex)
    expect(plan.units[0]!.sbom).toEqual(unit.sbom)
    expect(unit.license).toBe('MIT')
    expect(unit.architectures).toEqual(['arm64'])
    // never granted to the owner itself
    expect(unit.grants.map((grant) => grant.sid)).toEqual(['layers-account-111111111111', 'layers-account-333333333333', 'layers-org-o-abc123def4'])
    expect(plan.arnChecks.map((check) => `${check.target.accountId}/${check.target.region}:${check.arn ?? '-'}`)).toEqual([
      '111111111111/eu-west-1:-',
      '222222222222/eu-west-1:-',
      '222222222222/us-east-1:-',
    ])
  })

  it('narrows by layer, account (name or id) and region', () => {
    const plan = planPublish(manifest, dirLock(), artifacts, {layers: ['cfg'], accounts: ['222222222222'], regions: ['us-east-1']}, '1.0.0')
    expect(plan.units.map((unit) => `${unit.artifactKey} ${unit.target.accountName} ${unit.target.region}`)).toEqual(['arm64 prod us-east-1', 'x86_64 prod us-east-1'])
    expect(plan.arnChecks).toEqual([])
  })

  it('carries the lock record only when it holds the same content', () => {
    const lock: Lockfile = {
      lockfileVersion: 1,
      layers: {
        cfg: {
          kind: 'dir',
          inputs: 'x',
          artifacts: {arm64: {architectures: ['arm64']}, x86_64: {architectures: ['x86_64']}},
          published: {
            '222222222222': {
              'eu-west-1': {arm64: {arn: 'arn:aws:lambda:eu-west-1:222222222222:layer:cfg:4', version: 4, codeSha256: content('cfg', 'arm64', 'a').codeSha256}},
              'us-east-1': {arm64: {arn: 'arn:aws:lambda:us-east-1:222222222222:layer:cfg:2', version: 2, codeSha256: 'old'}},
            },
          },
        },
        ext: {kind: 'arn', inputs: 'y', arns: {'111111111111': {'eu-west-1': 'arn:aws:lambda:eu-west-1:580247275435:layer:Ext:3'}}},
      },
    }
    const plan = planPublish(manifest, lock, artifacts, {layers: ['cfg', 'ext'], accounts: ['prod', 'dev']}, '1.0.0')
    const locked = plan.units.filter((unit) => unit.locked).map((unit) => `${unit.target.region} ${unit.artifactKey} v${unit.locked!.version}`)
    expect(locked).toEqual(['eu-west-1 arm64 v4'])
    expect(plan.arnChecks[0]).toMatchObject({arn: 'arn:aws:lambda:eu-west-1:580247275435:layer:Ext:3', target: {accountId: '111111111111'}})
  })

  it('rejects unknown layers and accounts with exit 2 and the known names', () => {
    expect(() => planPublish(manifest, emptyLockfile(), artifacts, {layers: ['cfgg']}, '1.0.0')).toThrow(expect.objectContaining({code: 'ERR_LAYERS_UNKNOWN_LAYER', exitCode: 2, hint: expect.stringContaining('cfg, lonely, ext')}))
    expect(() => planPublish(manifest, emptyLockfile(), artifacts, {accounts: ['stage']}, '1.0.0')).toThrow(expect.objectContaining({code: 'ERR_LAYERS_UNKNOWN_ACCOUNT', exitCode: 2}))
  })
})

describe('content marker', () => {
  it('round-trips through the description and fits Lambda\'s 256 characters', () => {
    expect(describedContent(versionDescription({description: 'x'.repeat(300)}, hex('f'), hex('e')))).toBe(hex('f'))
    expect(describedSbom(versionDescription({description: 'x'.repeat(300)}, hex('f'), hex('e')))).toBe(hex('e'))
    expect(versionDescription({description: 'x'.repeat(300)}, hex('f'), hex('e')).length).toBe(256)
    expect(versionDescription({}, hex('1'), hex('2'))).toBe(`layers-sha256:${hex('1')} layers-sbom:${hex('2')}`)
    // Versions published before SBOMs: the content still found, no SBOM named.
    expect(describedContent(`layers-sha256:${hex('1')}`)).toBe(hex('1'))
    expect(describedSbom(`layers-sha256:${hex('1')}`)).toBeUndefined()
    expect(describedSbom(`layers-sbom:${hex('2')}x`)).toBeUndefined()
    expect(describedContent('hand made')).toBeUndefined()
    expect(describedContent('layers-sha256:nothex')).toBeUndefined()
  })

  it('finds candidate versions oldest first', () => {
    const versions = [
      {version: 7, description: `b layers-sha256:${hex('a')}`},
      {version: 3, description: `layers-sha256:${hex('a')}`},
      {version: 5, description: `layers-sha256:${hex('b')}`},
      {version: 1},
    ]
    expect(candidateVersions(versions, hex('a')).map((v) => v.version)).toEqual([3, 7])
  })
})

describe('grants', () => {
  it('adds what is missing, removes what the manifest no longer names, replaces what differs', () => {
    const desired = desiredGrants({accounts: ['333333333333'], organization: 'o-zzzzzzzzzz', public: false}, '111111111111')
    const current = [
      {sid: 'layers-account-333333333333', principal: '333333333333'},
      {sid: 'layers-account-444444444444', principal: '444444444444'},
      {sid: 'layers-org-o-zzzzzzzzzz', principal: '*', organizationId: 'o-other'},
      {sid: 'by-hand', principal: '*'},
    ]
    expect(diffGrants(desired, current)).toEqual({
      add: [{sid: 'layers-org-o-zzzzzzzzzz', principal: '*', organizationId: 'o-zzzzzzzzzz'}],
      remove: ['by-hand', 'layers-account-444444444444', 'layers-org-o-zzzzzzzzzz'],
    })
    expect(diffGrants(desired, desired)).toEqual({add: [], remove: []})
    expect(desiredGrants({accounts: [], public: true}, '1').map((grant) => grant.principal)).toEqual(['*'])
  })

  it('picks the narrowest artifact holding the architecture', () => {
    expect(artifactFor(['arm64+x86_64', 'arm64'], 'arm64')).toBe('arm64')
    expect(artifactFor(['arm64+x86_64', 'arm64'], 'x86_64')).toBe('arm64+x86_64')
    expect(artifactFor(['arm64'], 'x86_64')).toBeUndefined()
  })
})
