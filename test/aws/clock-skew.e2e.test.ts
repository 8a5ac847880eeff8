// End to end through the built CLI (node bin/run.js; run `npm run build` first): `layers audit` on a
// machine whose clock is 20 minutes behind AWS's (the AWS test server runs ahead). Every client (the
// STS clients checking each account, the one assuming prod's role, the Lambda clients of dev and prod)
// has its first signature refused as AWS refuses it, corrects its clock from the refusal's Date header and goes on: the audit finds what
// it finds at the right clock, and no call is left refused.
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {AuditReport} from '../../src/audit/types.js'
import {startAwsServer, type AwsServer} from '../../aws-double/index.js'
import {seeder} from '../../aws-double/seed.js'
import {accountsYaml, DEV, EU, makeProject, PROD, ROLES, type Project} from '../publish/support.js'

const AHEAD_MS = 20 * 60_000
const config = (version: number): string => `arn:aws:lambda:${EU}:${DEV}:layer:config:${version}`

const manifest = `version: 1
settings:
  regions: [${EU}]
  architectures: [x86_64]
  runtimes: [nodejs24.x]
${accountsYaml([EU])}
layers:
  config:
    dir: layers/config
`

let server: AwsServer
let project: Project

beforeAll(async () => {
  server = await startAwsServer({accounts: {AKIDACCOUNT1: DEV, AKIDACCOUNT2: PROD}, roles: ROLES, clockOffsetMs: AHEAD_MS})
  project = makeProject(server, {'layers.yaml': manifest, 'layers/config/config.json': '{}\n'})
  const seed = seeder(server)
  for (const version of [1, 2]) expect(await seed.layerVersion(DEV, EU, 'config', {architectures: ['x86_64']})).toBe(config(version))
  project.write('lockfile.json', JSON.stringify({lockfileVersion: 1, layers: {config: {kind: 'dir', inputs: 'x', artifacts: {}, published: {[DEV]: {[EU]: {x86_64: {arn: config(2), version: 2, codeSha256: 's'}}}}}}}, null, 2) + '\n')
  await seed.function(DEV, EU, {name: 'api', runtime: 'nodejs24.x', layers: [config(1)]})
  await seed.function(PROD, EU, {name: 'worker', runtime: 'nodejs24.x'})
}, 60_000)

afterAll(async () => {
  project?.remove()
  await server?.close()
})

describe('audit with a clock 20 minutes behind AWS (CLI)', () => {
  it('succeeds: each client is refused once for its clock, then every call is answered', async () => {
    const mark = server.calls.length
    const result = await project.run(['audit', '--json', '--no-save'])
    expect(result.status, result.stderr).toBe(0)
    const report = result.json as AuditReport
    expect(report.findings.map((f) => [f.code, f.function])).toEqual([['behind', 'api']])
    expect(report.functions.map((f) => f.name).sort()).toEqual(['api', 'worker'])
    const calls = server.calls.slice(mark)
    // One refusal per client, each the client's first call (a refused signature names no account):
    // the STS clients checking dev and prod, the one assuming prod's role, the Lambda clients of both.
    const refused = calls.filter((call) => call.status === 403).map((call) => `${call.service}:${call.operation}`)
    expect(refused.sort()).toEqual(['lambda:ListFunctions', 'lambda:ListFunctions', 'sts:AssumeRole', 'sts:GetCallerIdentity', 'sts:GetCallerIdentity'])
    expect(calls.filter((call) => call.status !== 200 && call.status !== 403)).toEqual([])
    // Every later call was signed at AWS's clock.
    const answered = (operation: string) => calls.filter((call) => call.operation === operation && call.status === 200).map((call) => call.accountId)
    expect(answered('GetCallerIdentity').sort()).toEqual([DEV, PROD])
    expect(answered('AssumeRole')).toEqual([DEV])
    expect(answered('ListFunctions').sort()).toEqual([DEV, PROD])
  })
})
