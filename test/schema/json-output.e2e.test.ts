// Every command's --json output, from real runs of the built CLI against the local AWS double and the
// loopback npm registry, validates against its schema/<command>.schema.json (and every failure against
// schema/error.schema.json) with ajv in strict mode, and carries the schemaVersion its schema pins.
// One project goes through the whole story once (lock, validate, init, build, lock --check, outdated,
// package, run, publish, attach, audit, prune --dry-run, history, export, deploy, rollback, image, find, advisories, licenses, and
// failures), independent runs
// started together. Also checks that every command with --json has a schema and a schemaVersion, and
// covers prune --dry-run (lists, deletes nothing; refused with --yes).
import {mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {AddLayerVersionPermissionCommand, PublishLayerVersionCommand} from '@aws-sdk/client-lambda'
import {Ajv, type ValidateFunction} from 'ajv'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startAwsServer, type AwsServer} from '../../aws-double/index.js'
import {SCHEMA_VERSIONS} from '../../src/cli/json-output.js'
import {createFunction, DEV, EU, functionZip, lambdaAs, makeProject, PROD, type Project} from '../publish/support.js'
import {REPO_ROOT, runCli, type CliResult} from '../support/cli.js'
import {NpmRegistry} from '../support/npm-registry.js'

const SCHEMA_DIR = path.join(REPO_ROOT, 'schema')

const ajv = new Ajv({allErrors: true, strict: true})
ajv.addFormat('date-time', (text: string) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(text) && !Number.isNaN(Date.parse(text)))
const validators = new Map<string, ValidateFunction>()

// Every schema is known up front: some refer to others' definitions (audit to advisories', advisories to find's).
for (const file of readdirSync(SCHEMA_DIR).filter((name) => name.endsWith('.schema.json'))) ajv.addSchema(JSON.parse(readFileSync(path.join(SCHEMA_DIR, file), 'utf8')))

function validatorOf(name: string): ValidateFunction {
  if (!validators.has(name)) validators.set(name, ajv.getSchema(`https://layers.dev/schema/${name}.schema.json`)!)
  return validators.get(name)!
}

/** Problems of `json` against schema/<name>.schema.json, as `path message` lines (empty: valid). */
function problemsOf(name: string, json: unknown): string[] {
  const validate = validatorOf(name)
  return validate(json) ? [] : (validate.errors ?? []).map((error) => `${error.instancePath || '/'} ${error.message} ${JSON.stringify(error.params)}`)
}

/** Which outputs were checked, per schema: the test at the end asserts every schema was exercised. */
const checked = new Map<string, number>()

/** Asserts a run's exit code and that its stdout is valid JSON matching the command's schema (the error schema when it failed). */
function expectValid(result: CliResult, command: keyof typeof SCHEMA_VERSIONS, status = 0): void {
  expect(result.code, `${command}: ${result.stderr}\n${result.stdout.slice(0, 2000)}`).toBe(status)
  expect(result.json, `${command} printed no JSON: ${result.stdout.slice(0, 500)}`).toBeTypeOf('object')
  // A failed command prints the error envelope, except those whose failure still prints their result (audit, outdated, prune, attach, lock --check).
  const schema = result.json.error !== undefined ? 'error' : command
  expect(problemsOf(schema, result.json), `${command} --json against ${schema}.schema.json`).toEqual([])
  expect(result.json.schemaVersion).toBe(SCHEMA_VERSIONS[schema])
  checked.set(schema, (checked.get(schema) ?? 0) + 1)
}

const MANIFEST = `version: 1
settings:
  bucket: "schema-{accountId}-{region}"
  regions: [${EU}]
  architectures: [x86_64]
  runtimes: [nodejs22.x]
  ssm: {}
accounts:
  dev:
    id: "${DEV}"
    profile: dev
    regions: [${EU}]
layers:
  deps:
    npm:
      leaf: ^1.0.0
  config:
    dir: layers/config
    channels: [prod, beta]
  vendor:
    arn: arn:aws:lambda:{region}:${PROD}:layer:vendor
functions:
  api:
    source: fns/api
    handler: index.handler
    runtime: nodejs22.x
    architecture: x86_64
    layers: [deps, config, vendor]
    accounts: [dev]
  local:
    source: fns/local
    handler: index.handler
    runtime: nodejs22.x
    architecture: x86_64
    layers: [deps, config]
    accounts: [dev]
`

let server: AwsServer
let registry: NpmRegistry
let project: Project
let scratch: string

/** Publishes a version of `layer` in `account` (EU); returns its version number. */
async function publishLayer(account: string, layer: string): Promise<number> {
  const lambda = lambdaAs(server, account, EU)
  const published = await lambda.send(new PublishLayerVersionCommand({LayerName: layer, Content: {ZipFile: await functionZip()}, CompatibleRuntimes: ['nodejs22.x']}))
  lambda.destroy()
  return published.Version!
}

/** Publishes a version of prod's `vendor` layer, readable by dev (the manifest's arn layer). */
async function publishVendor(): Promise<void> {
  const version = await publishLayer(PROD, 'vendor')
  const lambda = lambdaAs(server, PROD, EU)
  await lambda.send(new AddLayerVersionPermissionCommand({LayerName: 'vendor', VersionNumber: version, StatementId: 'dev', Action: 'lambda:GetLayerVersion', Principal: DEV}))
  lambda.destroy()
}

beforeAll(async () => {
  ;[server, registry] = await Promise.all([startAwsServer(), NpmRegistry.start()])
  registry.publish('leaf', {version: '1.0.0', license: 'MIT', files: {'index.js': "module.exports = 'leaf'\n"}})
  scratch = mkdtempSync(path.join(tmpdir(), 'layers-schema-'))
  mkdirSync(path.join(scratch, 'init'))
  // Two problems at once: the error envelope's problems list.
  writeFileSync(path.join(scratch, 'broken.yaml'), 'version: 1\nsettings:\n  bucket: b\n  regionz: [eu-west-1]\nlayers:\n  x:\n    npm: {"not a name!": "^1"}\n')
  project = makeProject(server, {
    'layers.yaml': MANIFEST,
    '.npmrc': `registry=${registry.url}\ncache=${path.join(scratch, 'npm-cache')}\nfetch-retries=0\n`,
    'layers/config/nodejs/node_modules/cfg/index.js': 'module.exports = 1\n',
    'fns/api/index.js': "exports.handler = async () => require('leaf')\n",
    'fns/local/index.js': "exports.handler = async (event) => ({leaf: require('leaf'), cfg: require('cfg'), event})\n",
    'event.json': '{"n": 1}\n',
  })
  // config version 1 exists before `layers publish` makes version 2: pinned by nothing and used by nothing, a prune candidate.
  await Promise.all([publishVendor(), publishLayer(DEV, 'config'), createFunction(server, DEV, EU, 'api'), createFunction(server, DEV, EU, 'local')])
}, 60_000)

afterAll(async () => {
  project?.remove()
  if (scratch) rmSync(scratch, {recursive: true, force: true})
  await Promise.all([server?.close(), registry?.stop()])
})

describe('--json output against schema/', () => {
  it('every command with --json has a schema and a schemaVersion, and every schema pins it', () => {
    const manifest = JSON.parse(readFileSync(path.join(REPO_ROOT, 'oclif.manifest.json'), 'utf8')) as {commands: Record<string, {flags: Record<string, unknown>}>}
    const withJson = Object.keys(manifest.commands).filter((id) => 'json' in manifest.commands[id]!.flags).sort()
    expect(withJson.length).toBeGreaterThan(10)
    expect(Object.keys(SCHEMA_VERSIONS).filter((name) => name !== 'error').sort()).toEqual(withJson)
    const schemas = readdirSync(SCHEMA_DIR).filter((file) => file.endsWith('.schema.json') && file !== 'layers.schema.json' && !file.endsWith('-line.schema.json')).map((file) => file.replace('.schema.json', '')).sort()
    expect(schemas).toEqual(Object.keys(SCHEMA_VERSIONS).sort())
    for (const name of schemas) {
      const schema = JSON.parse(readFileSync(path.join(SCHEMA_DIR, `${name}.schema.json`), 'utf8'))
      expect(schema.required, name).toContain('schemaVersion')
      expect(schema.properties.schemaVersion, name).toEqual({const: SCHEMA_VERSIONS[name as keyof typeof SCHEMA_VERSIONS], description: expect.any(String)})
      expect(schema.additionalProperties, name).toBe(false)
    }
  })

  it('a real run of every command validates against its schema', async () => {
    const run = (args: string[]): Promise<CliResult> => project.run([...args, '--json'])
    const [locked, validate, init, problems] = await Promise.all([
      run(['lock']),
      run(['validate']),
      runCli(['init', '--json', '--manifest', path.join(scratch, 'init', 'layers.yaml')], {cwd: scratch}),
      runCli(['validate', '--json', '--manifest', path.join(scratch, 'broken.yaml')], {cwd: scratch}),
    ])
    expectValid(locked, 'lock')
    expectValid(validate, 'validate')
    expectValid(init, 'init')
    expectValid(problems, 'validate', 2)
    expect(problems.json.error.problems.length).toBeGreaterThan(1)

    // Newer versions after the lock: outdated reports them, lock --check --update would take them.
    registry.publish('leaf', {version: '1.2.0', license: 'MIT', files: {'index.js': "module.exports = 'leaf 1.2'\n"}})
    await publishVendor()
    const [build, wouldUpdate, outdated] = await Promise.all([run(['build']), run(['lock', '--check', '--update', 'deps']), run(['outdated', '--all'])])
    expectValid(build, 'build')
    expectValid(wouldUpdate, 'lock', 1)
    expect(wouldUpdate.json.changes[0].differences.length).toBeGreaterThan(0)
    expectValid(outdated, 'outdated')
    expect(outdated.json.rows.map((row: {kind: string; outdated: boolean}) => `${row.kind} ${row.outdated}`).sort()).toEqual(['arn true', 'npm true'])

    const [packaged, ran, published, sized] = await Promise.all([run(['package', 'local']), run(['run', 'local', '--event', 'event.json']), run(['publish', '--create-bucket']), run(['size'])])
    expectValid(sized, 'size')
    expect(sized.json.functions.length).toBeGreaterThan(0)
    expectValid(packaged, 'package')
    expectValid(ran, 'run')
    expectValid(published, 'publish')
    // Each unit that published uploaded its content's SBOM beside the zip.
    const depsUnit = published.json.units.find((unit: {layer: string}) => unit.layer === 'deps')
    expect(depsUnit).toMatchObject({status: 'published', sbomUpload: 'uploaded', sbomKey: expect.stringMatching(/\/deps\/[0-9a-f]{64}\.cdx\.json$/)})
    expectValid(await run(['attach']), 'attach')

    // audit --advisories: the advisories section (schema/advisories.schema.json's parts) validates too.
    registry.advise('leaf', {id: 7, url: 'https://github.com/advisories/GHSA-schema-7', title: 'leaf advisory', severity: 'low', vulnerable_versions: '>=0.0.0', cwe: [], cvss: {score: 0, vectorString: null}})
    const [audit, pruned, both] = await Promise.all([run(['audit', '--advisories']), run(['prune', '--dry-run', '--no-remote-state']), run(['prune', '--dry-run', '--yes'])])
    expectValid(audit, 'audit')
    expect(audit.json.advisories.advisories.map((finding: {id: string; functions: unknown[]}) => [finding.id, finding.functions.length > 0])).toEqual([['7', true]])
    // --format jsonl: every line validates against schema/audit-line.schema.json, the summary line last.
    const lines = await project.run(['audit', '--format', 'jsonl', '--no-save'])
    expect(lines.code, lines.stderr).toBe(0)
    const parsed = lines.stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as {type: string; schemaVersion: number})
    validatorOf('audit')
    for (const line of parsed) expect(problemsOf('audit-line', line), JSON.stringify(line)).toEqual([])
    // Each function's line with its findings after it, the target's line once its functions are written, the summary last.
    const types = parsed.map((line) => line.type)
    expect([...types].sort()).toEqual(['summary', 'target', ...audit.json.functions.map(() => 'function'), ...audit.json.findings.map(() => 'finding')].sort())
    expect(types.at(-1)).toBe('summary')
    expect(types.indexOf('target')).toBeGreaterThan(types.lastIndexOf('function'))
    expect(parsed.every((line) => line.schemaVersion === SCHEMA_VERSIONS.audit)).toBe(true)
    expectValid(pruned, 'prune')
    expect(audit.json.usage.length).toBeGreaterThan(0)
    // prune --dry-run lists the version made before publish (pinned by nothing, used by nothing) and deletes nothing; not with --yes.
    expect(pruned.json).toMatchObject({dryRun: true, deleted: [], candidates: [expect.objectContaining({layer: 'config', version: 1})], kept: [expect.anything(), expect.anything()]})
    // A flag-parse error is the error envelope too.
    expectValid(both, 'prune', 2)
    expect(both.json.error.code).toBe('ERR_LAYERS_USAGE')
    expect(server.calls.filter((call) => call.operation === 'DeleteLayerVersion')).toEqual([])

    const [history, unknownLayer, exported, promoted, found, advised, sbom, publishedSbom, licenses] = await Promise.all([
      run(['history', 'config']),
      run(['history', 'nope']),
      run(['export', '--format', 'json', '--output', path.join(scratch, 'export.json')]),
      run(['promote', 'config', '--from', 'beta', '--to', 'prod']),
      run(['find', 'leaf@^1']),
      run(['advisories']),
      run(['sbom', '--format', 'spdx']),
      run(['sbom', '--published', depsUnit.arn]),
      run(['licenses']),
    ])
    expectValid(licenses, 'licenses')
    expect(licenses.json.layers.find((layer: {layer: string}) => layer.layer === 'deps').licenses).toEqual([{license: 'MIT', packages: 1, status: 'unchecked'}])
    expectValid(history, 'history')
    expectValid(found, 'find')
    expectValid(sbom, 'sbom')
    expect(sbom.json.documents.length).toBeGreaterThan(0)
    expectValid(publishedSbom, 'sbom')
    expect(publishedSbom.json.documents[0].published).toEqual({arn: depsUnit.arn, codeSha256: depsUnit.codeSha256, source: 'state'})
    expectValid(advised, 'advisories')
    expect(advised.json.summary).toMatchObject({critical: 0, high: 0, low: 1, deprecated: 0})
    expect(found.json.contents.map((content: {layer: string; current: boolean}) => `${content.layer} ${content.current}`)).toEqual(['deps true'])
    expectValid(promoted, 'promote')
    expect(promoted.json.parameters.summary).toMatchObject({parameters: 1, written: 0})
    expectValid(unknownLayer, 'history', 2)
    expectValid(exported, 'export')
    for (const list of ['publications', 'usage', 'attaches']) expect(history.json[list].length, `history ${list}`).toBeGreaterThan(0)

    // deploy: new code on local (its layers are on already), a version and the alias made; rollback: an alias with no recorded version.
    const [deployed, rolledBack, imaged] = await Promise.all([run(['deploy', 'local', '--alias', 'live']), run(['rollback', 'api', '--alias', 'live']), run(['image', 'local', '--base', 'scratch', '--output', path.join(scratch, 'image')])])
    expectValid(imaged, 'image')
    expect(imaged.json.layers.map((layer: {source: string}) => layer.source).at(-1)).toBe('code')
    expectValid(deployed, 'deploy')
    expect(deployed.json.functions[0]).toMatchObject({status: 'deployed', code: 'updated', version: '1', alias: {status: 'created'}})
    expectValid(rolledBack, 'rollback', 1)
    expect(rolledBack.json.functions[0]).toMatchObject({status: 'failed', error: {code: 'ERR_LAYERS_ALIAS_NOT_FOUND'}})

    // Every schema had at least one real output.
    expect([...checked.keys()].sort()).toEqual(Object.keys(SCHEMA_VERSIONS).sort())
  }, 120_000)

  it('the jsonl line schema pins the audit schemaVersion and rejects an unknown line', () => {
    const schema = JSON.parse(readFileSync(path.join(SCHEMA_DIR, 'audit-line.schema.json'), 'utf8'))
    expect(schema.properties.schemaVersion).toEqual({const: SCHEMA_VERSIONS.audit})
    validatorOf('audit')
    expect(problemsOf('audit-line', {type: 'finding', schemaVersion: 2, finding: {code: 'drift'}})).not.toEqual([])
    expect(problemsOf('audit-line', {type: 'usage', schemaVersion: 2})).not.toEqual([])
  })

  it('a schema rejects a missing or misspelled field', () => {
    const output = {schemaVersion: 1, lockfile: '/p/lockfile.json', written: false, upToDate: true, layers: [], removed: [], changes: [], warnings: []}
    expect(problemsOf('lock', output)).toEqual([])
    const {upToDate: _dropped, ...missing} = output
    expect(problemsOf('lock', missing).join('\n')).toContain("must have required property 'upToDate'")
    expect(problemsOf('lock', {...missing, uptodate: true}).join('\n')).toContain('must NOT have additional properties')
    expect(problemsOf('error', {schemaVersion: 1, error: {code: 'ERR_LAYERS_X', message: 'm', fault: 'user', exitcode: 2}}).join('\n')).toContain('must NOT have additional properties')
  })
})
