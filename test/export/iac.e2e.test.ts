// End to end through the built CLI against the local AWS double: the bridge to infrastructure as code.
// A function a CloudFormation stack created (the double's `stacks` option gives it CloudFormation's
// tags) and one tagged ManagedBy=terraform (settings.ownershipTags) are refused by attach, a plain one
// updated, with ListTags only for the functions attach would change; audit reports their drift as
// drift-iac with the stack; --force updates the stack's function; with ListTags denied attach refuses
// (ownership unknown) and audit falls back to drift with a warning. Export writes every format from the
// published lock (Terraform and CloudFormation parsed back to the locked ARNs), the same bytes twice,
// and refuses a region nothing was published to.
import {readFileSync} from 'node:fs'
import path from 'node:path'
import {GetFunctionConfigurationCommand} from '@aws-sdk/client-lambda'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {parse} from 'yaml'
import {startAwsServer, type AwsServer} from '../../aws-double/index.js'
import {seeder} from '../../aws-double/seed.js'
import {DEV, EU, lambdaAs, makeProject, US, type CliResult, type Project} from '../publish/support.js'

const MANIFEST = `version: 1
settings:
  bucket: "iac-{accountId}-{region}"
  architectures: [x86_64, arm64]
  runtimes: [nodejs22.x]
  ownershipTags: [ManagedBy=terraform]
accounts:
  dev: {id: "${DEV}", profile: dev, regions: [${EU}, ${US}]}
layers:
  config:
    dir: layers/config
functions:
  owned: {source: fns/api, handler: index.handler, runtime: nodejs22.x, architecture: x86_64, layers: [config], accounts: [dev]}
  tf: {source: fns/api, handler: index.handler, runtime: nodejs22.x, architecture: x86_64, layers: [config], accounts: [dev]}
  plain: {source: fns/api, handler: index.handler, runtime: nodejs22.x, architecture: x86_64, layers: [config], accounts: [dev]}
`

let server: AwsServer
let project: Project
let locked: string
/** Run together in beforeAll (export reads no AWS): the first attach, and the export of every format. */
let firstAttach: CliResult
let exportRuns: CliResult[]
let attachMark: number
const FORMATS = ['terraform', 'cdk', 'serverless', 'json'] as const

const listTags = (mark: number) => server.calls.slice(mark).filter((call) => call.operation === 'ListTags').length

async function layersOf(name: string): Promise<string[]> {
  const client = lambdaAs(server, DEV, EU)
  const config = await client.send(new GetFunctionConfigurationCommand({FunctionName: name}))
  client.destroy()
  return (config.Layers ?? []).map((layer) => layer.Arn!)
}

beforeAll(async () => {
  server = await startAwsServer({stacks: {owned: 'orders-prod'}})
  project = makeProject(server, {'layers.yaml': MANIFEST, 'layers/config/config.json': '{"a": 1}\n', 'fns/api/index.js': 'exports.handler = async () => 1\n', 'cdk.context.json': '{"availability-zones:account=1:region=eu-west-1": ["eu-west-1a"]}\n'})
  const seed = seeder(server)
  await Promise.all([
    seed.function(DEV, EU, {name: 'owned'}),
    seed.function(DEV, EU, {name: 'tf', tags: {ManagedBy: 'terraform', team: 'core'}}),
    seed.function(DEV, EU, {name: 'plain', tags: {team: 'core'}}),
    project.lock(),
  ])
  const published = await project.run(['publish', '--create-bucket', '--region', EU, '--json'])
  if (published.status !== 0) throw new Error(`publish failed: ${published.stderr}`)
  locked = (project.lockfile().layers.config as {published: Record<string, Record<string, Record<string, {arn: string}>>>}).published[DEV]![EU]!['arm64+x86_64']!.arn
  attachMark = server.calls.length
  ;[firstAttach, ...exportRuns] = await Promise.all([
    project.run(['attach', '--region', EU, '--json']),
    ...FORMATS.map((format) => project.run(['export', '--format', format, '--json'])),
    project.run(['export', '--format', 'cloudformation', '--output', 'cfn', '--json']),
    project.run(['export', '--format', 'json', '--region', US, '--json']),
  ])
}, 60_000)

afterAll(async () => {
  project?.remove()
  await server?.close()
})

describe('attach and audit respect infrastructure as code', () => {
  it('refuses the stack\'s and the terraform-tagged function, updates the plain one, audit says drift-iac, --force updates', async () => {
    const attach = firstAttach
    expect(attach.status, attach.stderr).toBe(1)
    const byName = Object.fromEntries((attach.json.functions as Array<{functionName: string; status: string; owner?: unknown; reasons?: string[]}>).map((outcome) => [outcome.functionName, outcome]))
    expect(byName.owned).toMatchObject({status: 'refused', owner: {kind: 'cloudformation', stack: 'orders-prod'}})
    expect(byName.owned!.reasons![0]).toMatch(/CloudFormation stack orders-prod.*SSM parameters or from `layers export`.*--force/)
    expect(byName.tf).toMatchObject({status: 'refused', owner: {kind: 'tag', tag: 'ManagedBy=terraform'}})
    expect(byName.plain).toMatchObject({status: 'updated'})
    expect(byName.plain!.owner).toBeUndefined()
    expect(attach.stderr).toContain('layers export')
    expect(listTags(attachMark)).toBe(3)
    expect(await layersOf('owned')).toEqual([])

    // Again: plain is on its layers (no ListTags for it), the two owned ones are asked about once each.
    const again = server.calls.length
    const [second, audit] = await Promise.all([project.run(['attach', '--region', EU, '--json']), project.run(['audit', '--region', EU, '--json', '--no-save'])])
    expect(second.status).toBe(1)
    expect(audit.status, audit.stderr).toBe(0)
    const drift = (audit.json.findings as Array<{code: string; function: string; stack?: string; fix: string; message: string}>).filter((finding) => finding.code.startsWith('drift'))
    expect(drift.map((finding) => `${finding.code} ${finding.function} ${finding.stack ?? '-'}`).sort()).toEqual(['drift-iac owned orders-prod', 'drift-iac tf -'])
    expect(drift.find((finding) => finding.function === 'owned')!.fix).toMatch(/^Redeploy stack orders-prod/)
    expect(audit.json.schemaVersion).toBe(2)
    // Two ListTags from attach (owned, tf), two from the audit (the drifting managed functions only).
    expect(listTags(again)).toBe(4)

    // Without --json, to see the warning on stderr.
    const forced = await project.run(['attach', 'owned', '--region', EU, '--force'])
    expect(forced.status, forced.stderr).toBe(0)
    expect(forced.stdout).toMatch(/owned .* updated/)
    expect(forced.stderr).toMatch(/ERR_LAYERS_ATTACH_OWNED owned in dev\/eu-west-1 belongs to CloudFormation stack orders-prod/)
    expect(await layersOf('owned')).toEqual([locked])

    // ListTags denied: attach refuses (it cannot tell who owns tf), audit reports plain drift and warns.
    server.setFaults({deny: [DEV], operations: ['ListTags']})
    const [blind, blindAudit] = await Promise.all([project.run(['attach', 'tf', '--region', EU, '--json']), project.run(['audit', '--region', EU, '--format', 'json', '--no-save'])])
    server.setFaults(undefined)
    expect(blind.status).toBe(1)
    expect(blind.json.functions[0]).toMatchObject({status: 'refused', reasons: [expect.stringMatching(/could not read the tags of tf \(AccessDeniedException.*allow lambda:ListTags.*--force/)]})
    expect(blindAudit.status, blindAudit.stderr).toBe(0)
    expect(JSON.parse(blindAudit.stdout).findings.map((finding: {code: string; function: string}) => `${finding.code} ${finding.function}`)).toContain('drift tf')
    expect(blindAudit.stderr).toMatch(/ERR_LAYERS_AUDIT_TAGS_UNREADABLE Could not read function tags in 111111111111\/eu-west-1 \(AccessDeniedException/)
  })
})

describe('layers export', () => {
  it('writes every format from the lock: the Terraform variables and CloudFormation parameters hold the locked ARNs, byte-identical twice', async () => {
    const runs = exportRuns
    for (const run of runs.slice(0, 5)) expect(run.status, run.stderr).toBe(0)

    const tfvars = JSON.parse(project.read('layers.auto.tfvars.json'))
    expect(tfvars).toEqual({layer_arns: {config: {[DEV]: {[EU]: {arm64: locked, x86_64: locked}}}}})

    const cfn = runs[4]!.json.files.map((file: {path: string}) => path.basename(file.path))
    expect(cfn).toEqual([`layers-${DEV}-${EU}.parameters.json`, 'layers.ssm-references.json'])
    expect(JSON.parse(project.read(`cfn/layers-${DEV}-${EU}.parameters.json`))).toEqual([
      {ParameterKey: 'LayerConfigArm64', ParameterValue: locked},
      {ParameterKey: 'LayerConfigX8664', ParameterValue: locked},
    ])
    expect(JSON.parse(project.read('cfn/layers.ssm-references.json'))).toEqual({LayerConfigArm64: '{{resolve:ssm:/layers/config/default/arm64}}', LayerConfigX8664: '{{resolve:ssm:/layers/config/default/x86_64}}'})

    const context = JSON.parse(project.read('cdk.context.json'))
    expect(context).toEqual({
      'availability-zones:account=1:region=eu-west-1': ['eu-west-1a'],
      [`layers:layer=config:account=${DEV}:region=${EU}:architecture=arm64`]: locked,
      [`layers:layer=config:account=${DEV}:region=${EU}:architecture=x86_64`]: locked,
    })
    expect(parse(project.read('layers.serverless.yml'))).toEqual({layers: {config: {arm64: '${ssm:/layers/config/default/arm64}', x86_64: '${ssm:/layers/config/default/x86_64}'}}})
    expect(JSON.parse(project.read('layers.export.json')).layers.config[DEV][EU].x86_64).toMatchObject({arn: locked, parameter: '/layers/config/default/x86_64'})

    // Nothing was published to us-east-1: a clear error naming it, exit 2.
    expect(runs[5]!.status).toBe(2)
    expect(runs[5]!.json.error).toMatchObject({code: 'ERR_LAYERS_EXPORT_NOTHING_PUBLISHED', message: expect.stringContaining(`region ${US}`)})

    // A second run gives the same bytes (so it rewrites nothing), the merged CDK context included.
    const before = ['layers.auto.tfvars.json', 'cdk.context.json'].map((file) => readFileSync(path.join(project.dir, file), 'utf8'))
    const repeat = await Promise.all(['terraform', 'cdk'].map((format) => project.run(['export', '--format', format, '--json'])))
    for (const run of repeat) expect(run.json.files.map((file: {written: boolean}) => file.written)).toEqual([false])
    expect(['layers.auto.tfvars.json', 'cdk.context.json'].map((file) => readFileSync(path.join(project.dir, file), 'utf8'))).toEqual(before)
  })
})
