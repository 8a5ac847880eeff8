// src/sbom/plan.ts: the model of an artifact (purls, SRI hashes, edges resolved from each package's
// path as Node.js does, top-level packages, CodeSha256 from publications and matching built trees
// only), the layer selection and its errors, and deterministic CycloneDX / SPDX text.
import {createHash} from 'node:crypto'
import {describe, expect, it} from 'vitest'
import type {LockedPackage, Lockfile} from '../../src/lock/types.js'
import {contentUuid, cyclonedxJson, npmPurl, sbomArtifacts, spdxJson, sriHashes} from '../../src/sbom/plan.js'

const sri = (text: string): string => `sha512-${createHash('sha512').update(text).digest('base64')}`
const pkg = (name: string, version: string, dependencies?: Record<string, string>): LockedPackage => ({
  name,
  version,
  resolved: `http://registry.test/${name}/-/${name.split('/').pop()}-${version}.tgz`,
  integrity: sri(`${name}@${version}`),
  ...(dependencies ? {dependencies} : {}),
})
const packages = {
  'node_modules/dep': pkg('dep', '1.0.0', {ms: '2.0.0', missing: '^1'}),
  'node_modules/dep/node_modules/ms': pkg('ms', '2.0.0'),
  'node_modules/ms': {...pkg('ms', '2.1.3'), license: 'MIT'},
  'node_modules/@scope/tool': pkg('@scope/tool', '1.0.0-rc.1+build', {ms: '^2.1.0', dep: '1'}),
}
const CODE = Buffer.alloc(32, 7).toString('base64')
const lock: Lockfile = {
  lockfileVersion: 1,
  layers: {
    deps: {kind: 'npm', inputs: 'x', artifacts: {x86_64: {architectures: ['x86_64'], packages}}, published: {'111111111111': {'eu-west-1': {x86_64: {arn: 'arn:1', version: 1, codeSha256: CODE}}}}},
    py: {kind: 'pip', inputs: 'y', artifacts: {arm64: {architectures: ['arm64'], wheels: {'python3.12': {'ruamel-yaml': {name: 'ruamel-yaml', version: '0.18.6', filename: 'ruamel.yaml-0.18.6-py3-none-any.whl', url: 'http://index.test/r.whl', sha256: 'ab'.repeat(32), index: 'http://index.test'}}}}}},
    pinned: {kind: 'arn', inputs: 'z', arns: {}},
  },
}

describe('sbomArtifacts', () => {
  it('models every package with purl, hashes and the edges Node.js resolves from its path', () => {
    const [deps] = sbomArtifacts({lock, layers: ['deps'], built: []})
    expect(deps!.components.map((component) => `${component.ref} ${component.purl} -> ${component.dependsOn.join(',')}`)).toEqual([
      'node_modules/@scope/tool pkg:npm/%40scope/tool@1.0.0-rc.1%2Bbuild -> node_modules/dep,node_modules/ms',
      'node_modules/dep pkg:npm/dep@1.0.0 -> node_modules/dep/node_modules/ms',
      'node_modules/dep/node_modules/ms pkg:npm/ms@2.0.0 -> ',
      'node_modules/ms pkg:npm/ms@2.1.3 -> ',
    ])
    expect(deps!.topLevel).toEqual(['node_modules/@scope/tool'])
    expect(deps!.components[1]!.hashes).toEqual([{algorithm: 'SHA-512', hex: createHash('sha512').update('dep@1.0.0').digest('hex')}])
    expect(deps!.codeSha256).toEqual([CODE])
  })

  it('adds the CodeSha256 of a built content only when its recorded tree is the locked one', () => {
    const other = Buffer.alloc(32, 9).toString('base64')
    const stale = Buffer.alloc(32, 1).toString('base64')
    const [deps] = sbomArtifacts({
      lock,
      layers: ['deps'],
      built: [
        {layer: 'deps', artifactKey: 'x86_64', codeSha256: other, packages},
        {layer: 'deps', artifactKey: 'x86_64', codeSha256: stale, packages: {'node_modules/ms': pkg('ms', '2.0.0')}},
      ],
    })
    expect(deps!.codeSha256).toEqual([CODE, other].sort())
    // A tree recorded before the lock held licences is the same content.
    const unlicensed = Object.fromEntries(Object.entries(packages).map(([at, entry]) => [at, {...entry, license: undefined}]))
    expect(sbomArtifacts({lock, layers: ['deps'], built: [{layer: 'deps', artifactKey: 'x86_64', codeSha256: other, packages: unlicensed}]})[0]!.codeSha256).toEqual([CODE, other].sort())
  })

  it('describes every own layer by default, wheels as pypi purls, and refuses unknown and ARN layers', () => {
    const all = sbomArtifacts({lock, layers: [], built: []})
    expect(all.map((artifact) => `${artifact.layer} ${artifact.artifactKey}`)).toEqual(['deps x86_64', 'py arm64'])
    expect(all[1]!.components[0]).toMatchObject({ref: 'python3.12/ruamel.yaml-0.18.6-py3-none-any.whl', purl: 'pkg:pypi/ruamel-yaml@0.18.6?file_name=ruamel.yaml-0.18.6-py3-none-any.whl', hashes: [{algorithm: 'SHA-256', hex: 'ab'.repeat(32)}]})
    expect(() => sbomArtifacts({lock, layers: ['nope'], built: []})).toThrow(/Layer nope is not in lockfile.json/)
    expect(() => sbomArtifacts({lock, layers: ['pinned'], built: []})).toThrow(/pinned ARN layer/)
  })
})

describe('documents', () => {
  const [deps] = sbomArtifacts({lock, layers: ['deps'], built: []})

  it('CycloneDX: the layer as metadata.component with its CodeSha256, the graph in dependencies, a serial derived from the content', () => {
    const text = cyclonedxJson(deps!, '9.9.9')
    expect(cyclonedxJson(deps!, '9.9.9')).toBe(text)
    const bom = JSON.parse(text)
    expect(bom).toMatchObject({bomFormat: 'CycloneDX', specVersion: '1.5'})
    expect(bom.serialNumber).toMatch(/^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    expect(bom.metadata.timestamp).toBeUndefined()
    expect(bom.metadata.component.hashes).toEqual([{alg: 'SHA-256', content: '07'.repeat(32)}])
    expect(bom.metadata.component.properties).toContainEqual({name: 'aws:lambda:CodeSha256', value: CODE})
    expect(bom.dependencies).toContainEqual({ref: 'node_modules/dep', dependsOn: ['node_modules/dep/node_modules/ms']})
    expect(bom.dependencies).toContainEqual({ref: 'layer:deps:x86_64', dependsOn: ['node_modules/@scope/tool']})
    const changed = structuredClone(deps!)
    changed.components[3]!.version = '2.1.4'
    expect(JSON.parse(cyclonedxJson(changed, '9.9.9')).serialNumber).not.toBe(bom.serialNumber)
  })

  it('SPDX: declared licences (NOASSERTION when unknown), checksums, purls, DESCRIBES and DEPENDS_ON, a namespace derived from the content', () => {
    const text = spdxJson(deps!, '9.9.9')
    expect(spdxJson(deps!, '9.9.9')).toBe(text)
    const doc = JSON.parse(text)
    expect(doc).toMatchObject({spdxVersion: 'SPDX-2.3', dataLicense: 'CC0-1.0', SPDXID: 'SPDXRef-DOCUMENT'})
    const byName = new Map(doc.packages.map((entry: {SPDXID: string; name: string; versionInfo: string}) => [entry.SPDXID, `${entry.name}@${entry.versionInfo}`]))
    expect(doc.relationships.map((r: {spdxElementId: string; relationshipType: string; relatedSpdxElement: string}) => `${byName.get(r.spdxElementId) ?? r.spdxElementId} ${r.relationshipType} ${byName.get(r.relatedSpdxElement)}`)).toEqual([
      'SPDXRef-DOCUMENT DESCRIBES deps@x86_64',
      'deps@x86_64 DEPENDS_ON @scope/tool@1.0.0-rc.1+build',
      '@scope/tool@1.0.0-rc.1+build DEPENDS_ON dep@1.0.0',
      '@scope/tool@1.0.0-rc.1+build DEPENDS_ON ms@2.1.3',
      'dep@1.0.0 DEPENDS_ON ms@2.0.0',
    ])
    expect(doc.packages[1]).toMatchObject({licenseConcluded: 'NOASSERTION', licenseDeclared: 'NOASSERTION', checksums: [{algorithm: 'SHA512'}], externalRefs: [{referenceType: 'purl', referenceLocator: 'pkg:npm/%40scope/tool@1.0.0-rc.1%2Bbuild'}]})
    expect(doc.packages.map((entry: {name: string; versionInfo: string; licenseDeclared: string}) => `${entry.name}@${entry.versionInfo} ${entry.licenseDeclared}`).slice(1)).toEqual([
      '@scope/tool@1.0.0-rc.1+build NOASSERTION',
      'dep@1.0.0 NOASSERTION',
      'ms@2.0.0 NOASSERTION',
      'ms@2.1.3 MIT',
    ])
    expect(doc.documentNamespace).toMatch(/^https:\/\/spdx\.org\/spdxdocs\/layers\/deps-x86_64-[0-9a-f-]{36}$/)
  })

  it('helpers: SRI with several hashes, unscoped purls, UUID layout', () => {
    expect(sriHashes(`sha1-${Buffer.from('ab', 'hex').toString('base64')} md5-xx ${sri('a')}`).map((hash) => hash.algorithm)).toEqual(['SHA-1', 'SHA-512'])
    expect(npmPurl('ms', '2.1.3')).toBe('pkg:npm/ms@2.1.3')
    expect(contentUuid('a')).not.toBe(contentUuid('b'))
  })
})
