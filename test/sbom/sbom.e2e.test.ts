// `layers sbom` end to end through the built CLI: an npm layer (dep 1.0.0 with a nested ms 2.0.0 and a
// top-level ms 2.1.3) locked against the loopback registry and built; the CycloneDX output validated
// against the CycloneDX 1.5 JSON schema the library ships, the SPDX output checked against the fields
// SPDX 2.3 requires (no npm package ships the SPDX 2.3 JSON schema, and the tests have no network to
// fetch it); the built content's CodeSha256 in the documents; byte-identical documents from the lock
// copied into two other directories; several artifacts need --output DIR.
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {Ajv} from 'ajv'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startAwsServer, type AwsServer} from '../../aws-double/index.js'
import {runCli} from '../support/cli.js'
import {NpmRegistry} from '../support/npm-registry.js'
import {EU, makeProject, type Project, ROLES, useRegistry} from '../publish/support.js'

let server: AwsServer
let registry: NpmRegistry
let project: Project
let codeSha256: string
const scratch: string[] = []

const MANIFEST = `version: 1
settings:
  bucket: "sbom-{accountId}-{region}"
  regions: [${EU}]
  architectures: [x86_64]
  runtimes: [nodejs22.x]
accounts:
  dev: {id: "111111111111"}
layers:
  deps:
    npm:
      dep: ^1.0.0
      ms: ^2.1.0
  both:
    architectures: [x86_64, arm64]
    npm:
      ms: ^2.1.0
`

const cdxSchemaDir = path.join(path.dirname(createRequire(import.meta.url).resolve('@cyclonedx/cyclonedx-library/package.json')), 'res', 'schema')
const readSchema = (file: string): object => JSON.parse(readFileSync(path.join(cdxSchemaDir, file), 'utf8'))

beforeAll(async () => {
  server = await startAwsServer({roles: ROLES})
  registry = await NpmRegistry.start()
  registry.publish('ms', {version: '2.0.0', license: 'MIT'})
  registry.publish('ms', {version: '2.1.3', license: 'UNLICENSED'})
  registry.publish('dep', {version: '1.0.0', license: '(MIT OR Apache-2.0)', dependencies: {ms: '2.0.0'}})
  project = makeProject(server, {'layers.yaml': MANIFEST})
  useRegistry(project, registry.url)
  await project.lock()
  const built = await project.run(['build', 'deps', '--json'])
  expect(built.status, built.stderr).toBe(0)
  codeSha256 = JSON.stringify(built.json).match(/"codeSha256":\s*"([^"]+)"/)![1]!
}, 120_000)

afterAll(async () => {
  project?.remove()
  for (const dir of scratch) rmSync(dir, {recursive: true, force: true})
  await registry?.stop()
  await server?.close()
})

describe('layers sbom', () => {
  it('writes a CycloneDX 1.5 BOM that the schema accepts, with the graph and the built CodeSha256', async () => {
    const run = await project.run(['sbom', 'deps'])
    expect(run.status, run.stderr).toBe(0)
    const bom = JSON.parse(run.stdout)
    const ajv = new Ajv({strict: false, validateFormats: false})
    ajv.addSchema(readSchema('spdx.SNAPSHOT.schema.json'), 'http://cyclonedx.org/schema/spdx.SNAPSHOT.schema.json')
    ajv.addSchema(readSchema('jsf-0.82.SNAPSHOT.schema.json'), 'http://cyclonedx.org/schema/jsf-0.82.SNAPSHOT.schema.json')
    const validate = ajv.compile(readSchema('bom-1.5.SNAPSHOT.schema.json'))
    expect(validate(bom), JSON.stringify(validate.errors)).toBe(true)
    expect(validate({...bom, components: [{...bom.components[0], hashes: [{alg: 'SHA-999', content: 'x'}]}]})).toBe(false)
    expect(bom.components.map((component: {purl: string}) => component.purl)).toEqual(['pkg:npm/dep@1.0.0', 'pkg:npm/ms@2.0.0', 'pkg:npm/ms@2.1.3'])
    expect(bom.dependencies).toContainEqual({ref: 'node_modules/dep', dependsOn: ['node_modules/dep/node_modules/ms']})
    expect(bom.dependencies).toContainEqual({ref: 'layer:deps:x86_64', dependsOn: ['node_modules/dep', 'node_modules/ms']})
    expect(bom.metadata.component.properties).toContainEqual({name: 'aws:lambda:CodeSha256', value: codeSha256})
    expect(bom.components[0].hashes[0].alg).toBe('SHA-512')
    // Licences from the lock: SPDX expressions as such, other declared text by name.
    expect(bom.components.map((component: {licenses?: unknown}) => component.licenses)).toEqual([[{expression: '(MIT OR Apache-2.0)'}], [{expression: 'MIT'}], [{license: {name: 'UNLICENSED'}}]])
  })

  it('writes SPDX 2.3 with every required field, and the same bytes from the lock in two other directories', async () => {
    const run = await project.run(['sbom', 'deps', '--format', 'spdx'])
    expect(run.status, run.stderr).toBe(0)
    const doc = JSON.parse(run.stdout)
    for (const field of ['spdxVersion', 'dataLicense', 'SPDXID', 'name', 'documentNamespace', 'creationInfo']) expect(doc, field).toHaveProperty(field)
    expect(doc).toMatchObject({spdxVersion: 'SPDX-2.3', dataLicense: 'CC0-1.0', SPDXID: 'SPDXRef-DOCUMENT'})
    expect(doc.creationInfo.created).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)
    expect(doc.creationInfo.creators[0]).toMatch(/^Tool: /)
    const ids = new Set<string>()
    for (const entry of doc.packages) {
      for (const field of ['SPDXID', 'name', 'downloadLocation']) expect(entry, field).toHaveProperty(field)
      expect(entry.SPDXID).toMatch(/^SPDXRef-[A-Za-z0-9.-]+$/)
      ids.add(entry.SPDXID)
    }
    expect(ids.size).toBe(doc.packages.length)
    for (const relation of doc.relationships) expect(ids.has(relation.relatedSpdxElement) && (ids.has(relation.spdxElementId) || relation.spdxElementId === 'SPDXRef-DOCUMENT')).toBe(true)
    expect(doc.packages.slice(1).map((entry: {licenseDeclared: string; licenseConcluded: string}) => `${entry.licenseDeclared} ${entry.licenseConcluded}`)).toEqual(['(MIT OR Apache-2.0) NOASSERTION', 'MIT NOASSERTION', 'NOASSERTION NOASSERTION'])
    expect(doc.packages[0].checksums).toEqual([{algorithm: 'SHA256', checksumValue: Buffer.from(codeSha256, 'base64').toString('hex')}])

    const outputs: string[] = []
    for (let i = 0; i < 2; i++) {
      const dir = mkdtempSync(path.join(tmpdir(), 'layers-sbom-copy-'))
      scratch.push(dir)
      for (const file of ['layers.yaml', 'lockfile.json']) writeFileSync(path.join(dir, file), project.read(file))
      const copy = await runCli(['sbom', 'deps', '--format', 'spdx', '--output', 'deps.spdx.json'], {cwd: dir, env: project.env})
      expect(copy.code, copy.stderr).toBe(0)
      outputs.push(readFileSync(path.join(dir, 'deps.spdx.json'), 'utf8'))
    }
    expect(outputs[1]).toBe(outputs[0])
    // Without the state database the lock has no CodeSha256 for the unpublished content: only that differs.
    expect(JSON.parse(outputs[0]!).packages.slice(1)).toEqual(doc.packages.slice(1))
  })

  it('needs --output DIR for several artifacts, and refuses an unknown layer with exit 2', async () => {
    const several = await project.run(['sbom'])
    expect(several.status).toBe(2)
    expect(several.stderr).toContain('ERR_LAYERS_SBOM_OUTPUT')
    const dir = await project.run(['sbom', '--output', 'sbom'])
    expect(dir.status, dir.stderr).toBe(0)
    expect(JSON.parse(project.read('sbom/both.arm64+x86_64.cdx.json')).metadata.component.name).toBe('both')
    expect(project.read('sbom/deps.x86_64.cdx.json')).toBe((await project.run(['sbom', 'deps'])).stdout)
    const unknown = await project.run(['sbom', 'nope', '--json'])
    expect(unknown.status).toBe(2)
    expect(unknown.json.error.code).toBe('ERR_LAYERS_SBOM_LAYER')
  })
})
