// The SBOM of published versions, end to end through the built CLI against the local AWS test server and
// the loopback npm registry: publish uploads one CycloneDX object per content at
// <prefix><layer>/<sha256 of it>.cdx.json, the bytes `layers sbom` prints, before the version exists
// and named by its description; a second publish writes none; after the lock moved on, `layers sbom
// --published` still answers for the old version from the state database's kept tree, and in a clone
// without one from the bucket; an SBOM PutObject whose answer is lost (the write applied) converges on
// the rerun without a second version.
import {createHash} from 'node:crypto'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {GetLayerVersionCommand} from '@aws-sdk/client-lambda'
import {GetObjectCommand, S3Client} from '@aws-sdk/client-s3'
import {Ajv} from 'ajv'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startAwsServer, type AwsServer} from '../../aws-double/index.js'
import {runCli} from '../support/cli.js'
import {publishDeps} from '../find/fixture.js'
import {NpmRegistry} from '../support/npm-registry.js'
import {DEV, EU, lambdaAs, makeProject, type Project, ROLES, useRegistry, versionsOf} from '../publish/support.js'

const schemaOf = (name: string) => new Ajv({allErrors: true, strict: false}).compile(JSON.parse(readFileSync(path.resolve(import.meta.dirname, `../../schema/${name}.schema.json`), 'utf8')))
const validatePublish = schemaOf('publish')
const validateSbom = schemaOf('sbom')

const BUCKET = `sbom-${DEV}-${EU}`

function manifest(npm: string): string {
  return `version: 1
settings:
  bucket: "sbom-{accountId}-{region}"
  prefix: art/
  regions: [${EU}]
  architectures: [x86_64]
  runtimes: [nodejs22.x]
accounts:
  dev: {id: "${DEV}", profile: dev}
layers:
  deps:
    description: Shared dependencies
    npm: {${npm}}
`
}

let server: AwsServer
let registry: NpmRegistry
let project: Project
const scratch: string[] = []

beforeAll(async () => {
  server = await startAwsServer({roles: ROLES})
  registry = await NpmRegistry.start()
  publishDeps(registry)
  registry.publish('extra', {version: '1.0.0'})
  project = makeProject(server, {'layers.yaml': manifest('dep: ^1.0.0')})
  useRegistry(project, registry.url)
  await project.lock()
}, 120_000)

afterAll(async () => {
  project?.remove()
  for (const dir of scratch) rmSync(dir, {recursive: true, force: true})
  await registry?.stop()
  await server?.close()
})

async function object(key: string): Promise<string> {
  const s3 = new S3Client({endpoint: server.endpoint, region: EU, credentials: server.credentials(DEV), forcePathStyle: true})
  try {
    return await (await s3.send(new GetObjectCommand({Bucket: BUCKET, Key: key}))).Body!.transformToString()
  } finally {
    s3.destroy()
  }
}

const sbomPuts = (mark: number) => server.calls.slice(mark).filter((call) => call.operation === 'PutObject' && call.key?.endsWith('.cdx.json'))

let firstArn: string
let firstSbom: string

describe('the SBOM of published versions', () => {
  it('publish uploads one SBOM, the bytes `layers sbom` prints, before the version that names it; a second publish puts none', async () => {
    const mark = server.calls.length
    const published = await project.run(['publish', '--json', '--create-bucket'])
    expect(published.status, published.stderr).toBe(0)
    expect(validatePublish(published.json), JSON.stringify(validatePublish.errors)).toBe(true)
    const unit = published.json.units[0]
    expect(unit).toMatchObject({status: 'published', sbomUpload: 'uploaded', sbomKey: expect.stringMatching(/^art\/deps\/[0-9a-f]{64}\.cdx\.json$/)})
    const puts = sbomPuts(mark)
    expect(puts.map((call) => call.key)).toEqual([unit.sbomKey])
    const publishAt = server.calls.findIndex((call, index) => index >= mark && call.operation === 'PublishLayerVersion')
    expect(server.calls.indexOf(puts[0]!)).toBeLessThan(publishAt)
    firstSbom = await object(unit.sbomKey)
    const sha256Hex = createHash('sha256').update(firstSbom).digest('hex')
    expect(unit.sbomKey).toBe(`art/deps/${sha256Hex}.cdx.json`)
    expect((await project.run(['sbom', 'deps'])).stdout).toBe(firstSbom)
    expect(JSON.parse(firstSbom).metadata.component.properties).toContainEqual({name: 'aws:lambda:CodeSha256', value: unit.codeSha256})
    firstArn = unit.arn
    const version = await lambdaAs(server, DEV, EU).send(new GetLayerVersionCommand({LayerName: 'deps', VersionNumber: unit.version}))
    expect(version.Description).toMatch(new RegExp(`^Shared dependencies layers-sha256:[0-9a-f]{64} layers-sbom:${sha256Hex}$`))

    const again = server.calls.length
    const noop = await project.run(['publish', '--json'])
    expect(noop.status, noop.stderr).toBe(0)
    expect(noop.json.summary).toMatchObject({unchanged: 1, published: 0})
    expect(sbomPuts(again)).toEqual([])
  })

  it('after the lock moved on, --published answers for the old version: from the state database, in a fresh clone from the bucket', async () => {
    project.write('layers.yaml', manifest('dep: ^1.0.0, ms: ^2.1.0'))
    await project.lock()
    const moved = await project.run(['publish', '--json'])
    expect(moved.status, moved.stderr).toBe(0)
    expect(moved.json.units[0]).toMatchObject({status: 'published', version: 2, sbomUpload: 'uploaded'})
    expect(moved.json.units[0].sbomKey).not.toBe(`art/deps/${createHash('sha256').update(firstSbom).digest('hex')}.cdx.json`)

    // The lock names version 2 only; the state database kept version 1's tree: the same bytes as uploaded.
    const local = await project.run(['sbom', '--published', 'deps:1'])
    expect(local.status, local.stderr).toBe(0)
    expect(local.stdout).toBe(firstSbom)

    const clone = mkdtempSync(path.join(tmpdir(), 'layers-sbom-clone-'))
    scratch.push(clone)
    for (const file of ['layers.yaml', 'lockfile.json']) writeFileSync(path.join(clone, file), project.read(file))
    const fetched = await runCli(['sbom', '--published', firstArn, '--json'], {cwd: clone, env: project.env})
    expect(fetched.code, fetched.stderr).toBe(0)
    expect(validateSbom(fetched.json), JSON.stringify(validateSbom.errors)).toBe(true)
    expect(fetched.json.documents).toEqual([
      {layer: 'deps', artifactKey: 'x86_64', format: 'cyclonedx', document: JSON.parse(firstSbom), published: {arn: firstArn, codeSha256: expect.any(String), source: 'bucket', bucket: BUCKET, key: expect.stringMatching(/^art\/deps\//)}},
    ])

    const unknown = `arn:aws:lambda:${EU}:${DEV}:layer:deps:9`
    const missing = await runCli(['sbom', '--published', unknown, '--json'], {cwd: clone, env: project.env})
    expect(missing.code).toBe(2)
    expect(missing.json.error).toMatchObject({code: 'ERR_LAYERS_SBOM_PUBLISHED', message: expect.stringContaining(unknown)})
  })

  it('converges when the answer to the SBOM PutObject is lost after it was applied: the rerun finds it and publishes one version', async () => {
    project.write('layers.yaml', manifest('dep: ^1.0.0, extra: 1.0.0'))
    await project.lock()
    // Without the team-state lease, the SBOM is the first PutObject of the run: every answer to it lost (a reset).
    const mark = server.calls.length
    server.setFaults({loseAnswerRate: 1, operations: ['PutObject']})
    let failed
    try {
      failed = await project.run(['publish', '--json', '--no-remote-state'])
    } finally {
      server.setFaults(undefined)
    }
    expect(failed.status).toBe(1)
    expect(failed.json.units[0]).toMatchObject({status: 'failed'})
    const lost = sbomPuts(mark)
    expect(lost.length).toBeGreaterThan(0)
    expect(lost.every((call) => call.fault === 'lost')).toBe(true)
    expect(server.calls.slice(mark).filter((call) => call.operation === 'PublishLayerVersion')).toEqual([])

    const rerun = server.calls.length
    const converged = await project.run(['publish', '--json', '--no-remote-state'])
    expect(converged.status, converged.stderr).toBe(0)
    expect(converged.json.units[0]).toMatchObject({status: 'published', version: 3, sbomUpload: 'present', sbomKey: lost[0]!.key})
    expect(sbomPuts(rerun)).toEqual([])
    const versions = await versionsOf(server, DEV, EU, 'deps')
    expect(versions.map((version) => version.version)).toEqual([1, 2, 3])
    expect(new Set(versions.map((version) => version.codeSha256)).size).toBe(3)
    expect((await project.run(['sbom', 'deps'])).stdout).toBe(await object(lost[0]!.key!))
  })
})
