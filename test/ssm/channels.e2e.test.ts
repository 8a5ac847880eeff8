// Channels and SSM parameters end to end through the built CLI against the local AWS double: publish
// writes one parameter per layer, channel, account, region and architecture; a second publish writes
// none (one GetParametersByPath call per target); a dependency update moves exactly that layer's
// parameters; `publish --channel beta` moves beta only and `promote --from beta --to prod` one
// account and region of prod only; a parameter the manifest no longer names is reported by every
// publish and removed only with --prune-parameters (and nothing outside the template's shape); `prune` keeps the versions channels hold; `outdated` reads a vendor's public parameter
// (for a layer name probing cannot find); promote takes the team-state lease publish takes: a lease
// another run holds makes it wait, and fail with ERR_LAYERS_LEASE_TIMEOUT (lockfile unchanged), or go
// on once the lease is released.
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startAwsServer, type AwsServer, type CallRecord} from '../../aws-double/index.js'
import {seeder} from '../../aws-double/seed.js'
import {GetParametersCommand, ListTagsForResourceCommand, PutParameterCommand, SSMClient} from '@aws-sdk/client-ssm'
import {DeleteObjectCommand, PutObjectCommand, S3Client} from '@aws-sdk/client-s3'
import {NpmRegistry} from '../support/npm-registry.js'
import {accountsYaml, DEV, EU, makeProject, PROD, type Project, ROLES, TARGETS, US, useRegistry} from '../publish/support.js'

const VENDOR = '094274105915'
const FEED = '/aws/service/vendor/layer/{region}/latest'

let server: AwsServer
let registry: NpmRegistry
let project: Project

const MANIFEST = `version: 1
settings:
  bucket: "ssm-{accountId}-{region}"
  regions: [${EU}, ${US}]
  architectures: [x86_64]
  runtimes: [nodejs22.x]
  ssm: {}
${accountsYaml()}
layers:
  deps:
    npm:
      left-pad: ^1.0.0
  config:
    dir: layers/config
    channels: [prod, beta]
  vendor:
    arn: arn:aws:lambda:{region}:${VENDOR}:layer:vendor:1
    ssm: ${FEED}
`

const ssmAs = (account: string, region: string) => new SSMClient({region, endpoint: server.endpoint, credentials: async () => server.credentials(account), maxAttempts: 1})
const WRITES = new Set(['PutParameter', 'AddTagsToResource', 'DeleteParameter', 'DeleteParameters'])

/** The SSM calls a run made (those recorded after `from`). */
function ssmCalls(from: number): CallRecord[] {
  return server.calls.slice(from).filter((call) => call.service === 'ssm')
}

async function value(account: string, region: string, name: string): Promise<string | undefined> {
  return (await ssmAs(account, region).send(new GetParametersCommand({Names: [name]}))).Parameters?.[0]?.Value
}

beforeAll(async () => {
  ;[server, registry] = await Promise.all([
    startAwsServer({
      roles: ROLES,
      accounts: {AKIDACCOUNT1: DEV, AKIDACCOUNT2: PROD, AKIDVENDOR: VENDOR},
      publicParameters: {[FEED.replace('{region}', EU)]: `arn:aws:lambda:${EU}:${VENDOR}:layer:vendor-v2:4`, [FEED.replace('{region}', US)]: `arn:aws:lambda:${US}:${VENDOR}:layer:vendor:1`},
    }),
    NpmRegistry.start(),
  ])
  registry.publish('left-pad', {version: '1.0.0'})
  const seed = seeder(server)
  for (const region of [EU, US]) await seed.share(await seed.layerVersion(VENDOR, region, 'vendor'), '*')
  project = makeProject(server, {'layers.yaml': MANIFEST, 'layers/config/config.json': '{"stage": 1}\n'})
  useRegistry(project, registry.url)
  await project.lock()
})

afterAll(async () => {
  project?.remove()
  await registry?.stop()
  await server?.close()
})

describe('channels and SSM parameters', () => {
  it('publish writes each channel once, then nothing; a dependency update moves exactly its layer', async () => {
    let mark = server.calls.length
    const first = await project.run(['publish', '--json', '--create-bucket'])
    expect(first.status, first.stderr).toBe(0)
    // deps: its implicit channel `default`; config: prod and beta; in 2 accounts x 2 regions.
    expect(first.json.parameters.summary).toMatchObject({parameters: 12, written: 12, unchanged: 0, failed: 0})
    expect(ssmCalls(mark).filter((call) => call.operation === 'PutParameter')).toHaveLength(12)
    for (const [account, region] of TARGETS) {
      const deps = project.lockfile().layers.deps as {published: Record<string, Record<string, Record<string, {arn: string}>>>}
      expect(await value(account, region, '/layers/deps/default/x86_64')).toBe(deps.published[account]![region]!.x86_64!.arn)
      expect(await value(account, region, '/layers/config/prod/x86_64')).toBe(`arn:aws:lambda:${region}:${account}:layer:config:1`)
      expect(await value(account, region, '/layers/config/beta/x86_64')).toBe(`arn:aws:lambda:${region}:${account}:layer:config:1`)
    }
    const tags = (await ssmAs(PROD, US).send(new ListTagsForResourceCommand({ResourceType: 'Parameter', ResourceId: '/layers/config/beta/x86_64'}))).TagList!
    expect(tags.map((tag) => tag.Key).sort()).toEqual(['layers:codeSha256', 'layers:publishedAt'])
    expect(project.lockfile().layers.config).toMatchObject({channels: {prod: {[PROD]: {[US]: {x86_64: {version: 1}}}}, beta: {[DEV]: {[EU]: {x86_64: {version: 1}}}}}})

    mark = server.calls.length
    const again = await project.run(['publish', '--json'])
    expect(again.status, again.stderr).toBe(0)
    expect(again.json.parameters.summary).toMatchObject({parameters: 12, written: 0, unchanged: 12})
    const reads = ssmCalls(mark)
    expect(reads.filter((call) => WRITES.has(call.operation))).toEqual([])
    // One GetParametersByPath call per account and region (3 parameters under /layers each, at most 10 a page).
    expect(reads.map((call) => call.operation)).toEqual(Array(4).fill('GetParametersByPath'))

    registry.publish('left-pad', {version: '1.1.0'})
    await project.lock(['--update', 'deps'])
    mark = server.calls.length
    const updated = await project.run(['publish', '--json'])
    expect(updated.status, updated.stderr).toBe(0)
    const written = updated.json.parameters.parameters.filter((parameter: {status: string}) => parameter.status !== 'unchanged')
    expect(written.map((parameter: {name: string; status: string}) => `${parameter.name} ${parameter.status}`)).toEqual(Array(4).fill('/layers/deps/default/x86_64 updated'))
    expect(ssmCalls(mark).filter((call) => call.operation === 'PutParameter')).toHaveLength(4)
    for (const [account, region] of TARGETS) expect(await value(account, region, '/layers/deps/default/x86_64')).toBe(`arn:aws:lambda:${region}:${account}:layer:deps:2`)
  })

  it('publish --channel moves one channel; promote moves one channel in one account and region', async () => {
    project.write('layers/config/config.json', '{"stage": 2}\n')
    const [wrong, beta] = await Promise.all([project.run(['publish', 'deps', '--channel', 'beta', '--json']), project.run(['publish', 'config', '--channel', 'beta', '--json'])])
    expect(wrong.status).toBe(2)
    expect(wrong.json.error).toMatchObject({code: 'ERR_LAYERS_UNKNOWN_CHANNEL'})
    expect(beta.status, beta.stderr).toBe(0)
    expect(beta.json.parameters.parameters.filter((p: {status: string}) => p.status === 'updated').map((p: {name: string}) => p.name)).toEqual(Array(4).fill('/layers/config/beta/x86_64'))
    for (const [account, region] of TARGETS) {
      expect(await value(account, region, '/layers/config/beta/x86_64')).toBe(`arn:aws:lambda:${region}:${account}:layer:config:2`)
      expect(await value(account, region, '/layers/config/prod/x86_64')).toBe(`arn:aws:lambda:${region}:${account}:layer:config:1`)
    }

    const mark = server.calls.length
    const promoted = await project.run(['promote', 'config', '--from', 'beta', '--to', 'prod', '--account', 'prod', '--region', EU, '--json'])
    expect(promoted.status, promoted.stderr).toBe(0)
    expect(promoted.json.moves).toEqual([{accountName: 'prod', accountId: PROD, region: EU, artifact: 'x86_64', arn: `arn:aws:lambda:${EU}:${PROD}:layer:config:2`, version: 2, previousVersion: 1, status: 'moved'}])
    expect(promoted.json.parameters.summary).toMatchObject({parameters: 1, written: 1})
    // No layer version was published; the one write is prod's parameter in prod/EU.
    expect(server.calls.slice(mark).filter((call) => call.operation === 'PublishLayerVersion')).toEqual([])
    expect(ssmCalls(mark).filter((call) => WRITES.has(call.operation)).map((call) => `${call.operation} ${call.accountId}/${call.region}`)).toEqual([`PutParameter ${PROD}/${EU}`, `AddTagsToResource ${PROD}/${EU}`])
    expect(await value(PROD, EU, '/layers/config/prod/x86_64')).toBe(`arn:aws:lambda:${EU}:${PROD}:layer:config:2`)
    expect(await value(PROD, US, '/layers/config/prod/x86_64')).toBe(`arn:aws:lambda:${US}:${PROD}:layer:config:1`)
    expect(project.lockfile().layers.config).toMatchObject({channels: {prod: {[PROD]: {[EU]: {x86_64: {version: 2}}, [US]: {x86_64: {version: 1}}}}}})

    // Locking config again (its manifest entry changed) keeps what its channels hold.
    project.write('layers.yaml', MANIFEST.replace('    channels: [prod, beta]\n', '    channels: [prod, beta]\n    description: shared config\n'))
    const relocked = await project.lock(['config'])
    expect(relocked.json.layers).toEqual([expect.objectContaining({layer: 'config', status: 'locked'})])
    expect(project.lockfile().layers.config).toMatchObject({channels: {prod: {[PROD]: {[EU]: {x86_64: {version: 2}}, [US]: {x86_64: {version: 1}}}}, beta: {[DEV]: {[EU]: {x86_64: {version: 2}}}}}})
  })

  it("promote with another account's credentials is refused before any SSM write, and changes nothing", async () => {
    // The dev profile now reaches the vendor's account: its identity is checked before SSM is called.
    const wrong = server.writeAwsConfig(path.join(project.dir, '.aws-wrong'), {default: {accountId: VENDOR}, dev: {accountId: VENDOR}})
    const before = project.read('lockfile.json')
    const mark = server.calls.length
    const promoted = await project.run(['promote', 'config', '--from', 'beta', '--to', 'prod', '--account', 'dev', '--region', EU, '--json'], wrong)
    expect(promoted.status, promoted.stderr).toBe(1)
    expect(JSON.stringify(promoted.json)).toContain('ERR_LAYERS_ACCOUNT_MISMATCH')
    expect(ssmCalls(mark)).toEqual([])
    expect(project.read('lockfile.json')).toBe(before)
  })

  it('publish reports a parameter the manifest no longer names, --prune-parameters removes it and nothing of another shape; outdated reads a vendor\'s public parameter', async () => {
    const gone = `arn:aws:lambda:${EU}:${DEV}:layer:gone:1`
    await ssmAs(DEV, EU).send(new PutParameterCommand({Name: '/layers/gone/default/x86_64', Value: gone, Type: 'String'}))
    await ssmAs(DEV, EU).send(new PutParameterCommand({Name: '/layers/notes', Value: 'kept', Type: 'String'}))
    // (deps alone: a publish of config would move its prod channel everywhere.)
    const reported = await project.run(['publish', 'deps'])
    expect(reported.status, reported.stderr).toBe(0)
    expect(reported.stdout).toMatch(/\/layers\/gone\/default\/x86_64 .* stale, kept/)
    expect(reported.stdout).toContain('stale 1 (kept 1: `layers publish --prune-parameters` removes them)')
    expect(reported.stdout).not.toContain('/layers/notes')
    // Both read only: run together.
    const mark = server.calls.length
    const [listed, outdated, prune] = await Promise.all([
      project.run(['publish', '--prune-parameters', '--dry-run', '--json']),
      project.run(['outdated', 'vendor', '--all', '--json']),
      project.run(['prune', '--dry-run', '--keep', '0', '--no-remote-state', '--json']),
    ])
    // config:1 is what channel prod holds everywhere but prod/EU (promoted to 2): layers prune keeps it there.
    expect(prune.status, prune.stderr).toBe(0)
    expect(prune.json.candidates.filter((entry: {layer: string}) => entry.layer === 'config').map((entry: {accountId: string; region: string; version: number}) => `${entry.accountId}/${entry.region} ${entry.version}`)).toEqual([`${PROD}/${EU} 1`])
    expect(outdated.status, outdated.stderr).toBe(0)
    const rows = outdated.json.rows.filter((row: {layer: string}) => row.layer === 'vendor')
    expect(rows).toContainEqual(expect.objectContaining({accountId: DEV, region: EU, lockedVersion: 1, latest: `arn:aws:lambda:${EU}:${VENDOR}:layer:vendor-v2:4`, outdated: true, feed: FEED.replace('{region}', EU)}))
    expect(rows).toContainEqual(expect.objectContaining({accountId: PROD, region: US, latest: `arn:aws:lambda:${US}:${VENDOR}:layer:vendor:1`, outdated: false}))
    // vendor-v2 is another layer, which probing versions of `vendor` never finds: the row comes from the feed.
    expect(ssmCalls(mark).filter((call) => call.operation === 'GetParameters').length).toBeGreaterThanOrEqual(4)
    expect(listed.status, listed.stderr).toBe(0)
    expect(listed.json.parameters.stale).toEqual([{accountName: 'dev', accountId: DEV, region: EU, name: '/layers/gone/default/x86_64', value: `arn:aws:lambda:${EU}:${DEV}:layer:gone:1`, status: 'would-remove'}])
    expect(await value(DEV, EU, '/layers/gone/default/x86_64')).toBeDefined()
    const pruned = await project.run(['publish', '--prune-parameters', '--json'])
    expect(pruned.status, pruned.stderr).toBe(0)
    expect(pruned.json.parameters.stale.map((entry: {name: string; status: string}) => `${entry.name} ${entry.status}`)).toEqual(['/layers/gone/default/x86_64 removed'])
    expect(await value(DEV, EU, '/layers/gone/default/x86_64')).toBeUndefined()
    expect(await value(DEV, EU, '/layers/notes')).toBe('kept')
  })

  it('promote waits for a lease another run holds: it fails with ERR_LAYERS_LEASE_TIMEOUT, lockfile unchanged, or moves once it is released', async () => {
    // (The last publish moved prod to config:2 everywhere: beta gets config:3 in dev/EU to promote.)
    project.write('layers/config/config.json', '{"stage": 3}\n')
    const beta = await project.run(['publish', 'config', '--channel', 'beta', '--account', 'dev', '--region', EU, '--json'])
    expect(beta.status, beta.stderr).toBe(0)
    const s3 = new S3Client({endpoint: server.endpoint, region: EU, credentials: server.credentials(DEV), forcePathStyle: true})
    const lease = {Bucket: `ssm-${DEV}-${EU}`, Key: `layers/.layers-state/leases/config/${DEV}/${EU}.json`}
    const holder = {owner: 'other-run', host: 'ci-runner-7', pid: 4242, command: 'layers publish', scope: `layer config in dev (${DEV})/${EU}`, acquiredAt: '2026-01-01T00:00:00.000Z', expiresAt: '2999-01-01T00:00:00.000Z', renewals: 0}
    await s3.send(new PutObjectCommand({...lease, Body: JSON.stringify(holder), ContentType: 'application/json'}))
    const before = project.read('lockfile.json')
    const promote = ['promote', 'config', '--from', 'beta', '--to', 'prod', '--account', 'dev', '--region', EU]
    let mark = server.calls.length
    // (Without --json: the waiting line a user sees.)
    const refused = await project.run(promote, {LAYERS_LEASE_WAIT_MS: '1000'})
    expect(refused.status, refused.stderr).toBe(1)
    expect(refused.stderr).toContain(`Waiting for the lease on layer config in dev (${DEV})/${EU}, held by layers publish on ci-runner-7 (pid 4242) since 2026-01-01T00:00:00.000Z.`)
    expect(refused.stderr).toContain('ERR_LAYERS_LEASE_TIMEOUT')
    expect(refused.stderr).toContain(`Gave up waiting for the lease on layer config in dev (${DEV})/${EU} after 1 s: it is held by layers publish on ci-runner-7 (pid 4242) since 2026-01-01T00:00:00.000Z.`)
    expect(project.read('lockfile.json')).toBe(before)
    expect(ssmCalls(mark).filter((call) => WRITES.has(call.operation))).toEqual([])

    // Released while promote waits: it takes the lease, moves and writes, and releases it.
    mark = server.calls.length
    const waiting = project.run([...promote, '--json'], {LAYERS_LEASE_WAIT_MS: '30000'})
    await new Promise((resolve) => setTimeout(resolve, 1500))
    await s3.send(new DeleteObjectCommand(lease))
    const moved = await waiting
    expect(moved.status, moved.stderr).toBe(0)
    expect(moved.json.moves).toEqual([expect.objectContaining({accountId: DEV, region: EU, version: 3, previousVersion: 2, status: 'moved'})])
    expect(await value(DEV, EU, '/layers/config/prod/x86_64')).toBe(`arn:aws:lambda:${EU}:${DEV}:layer:config:3`)
    const leaseCalls = server.calls.slice(mark).filter((call) => call.service === 's3' && call.key === lease.Key && call.operation !== 'GetObject')
    expect(leaseCalls.map((call) => call.operation)).toContain('DeleteObject')
    expect(leaseCalls.at(-1)!.operation).toBe('DeleteObject')
  })
})
