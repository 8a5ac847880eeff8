// The AWS CLI's conventions and the command line's manners, through the built CLI: did-you-mean for
// an unknown command or flag, one error format (oclif's own errors included, text or --json), flag
// values refused with their reason, --debug, --quiet, and --profile, AWS_REGION/AWS_DEFAULT_REGION
// and --endpoint-url reaching the right account, region and endpoint of the local AWS double.
import {mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startAwsServer, type AwsServer} from '../../aws-double/index.js'
import {REPO_ROOT, runCli, type CliResult} from '../support/cli.js'

const LOCAL_RUNTIME = `nodejs${process.versions.node.split('.')[0]}.x`

const DEV = '111111111111'
const PROD = '222222222222'
/** Nothing listens here: a call sent to it is refused at once. */
const DEAD = 'http://127.0.0.1:9'

let server: AwsServer
let dir: string
let env: NodeJS.ProcessEnv

beforeAll(async () => {
  server = await startAwsServer()
  dir = mkdtempSync(path.join(tmpdir(), 'layers-conventions-'))
  // Credentials without any endpoint_url: the endpoint comes from the environment or --endpoint-url only.
  const key = (account: string) => server.credentials(account)
  mkdirSync(path.join(dir, '.aws'))
  writeFileSync(path.join(dir, '.aws', 'config'), '[default]\n[profile prod]\nregion = ap-south-1\n')
  writeFileSync(
    path.join(dir, '.aws', 'credentials'),
    `[default]\naws_access_key_id = ${key(DEV).accessKeyId}\naws_secret_access_key = ${key(DEV).secretAccessKey}\n` +
      `[prod]\naws_access_key_id = ${key(PROD).accessKeyId}\naws_secret_access_key = ${key(PROD).secretAccessKey}\n`,
  )
  mkdirSync(path.join(dir, 'fns', 'api'), {recursive: true})
  writeFileSync(path.join(dir, 'fns', 'api', 'index.js'), 'exports.handler = async () => "ok"\n')
  writeFileSync(
    path.join(dir, 'layers.yaml'),
    // The function's runtime is the Node.js running the tests (CI runs them on 20, 22 and 24), so `layers
    // run` has no version-mismatch warning that --quiet rightly keeps.
    `version: 1\nsettings:\n  architectures: [x86_64]\n  runtimes: [${LOCAL_RUNTIME}]\nlayers: {}\nfunctions:\n  api: {source: fns/api, handler: index.handler, runtime: ${LOCAL_RUNTIME}, layers: []}\n`,
  )
  env = {
    PATH: process.env.PATH,
    HOME: dir,
    AWS_CONFIG_FILE: path.join(dir, '.aws', 'config'),
    AWS_SHARED_CREDENTIALS_FILE: path.join(dir, '.aws', 'credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_ENDPOINT_URL: server.endpoint,
    LAYERS_CONNECT_TIMEOUT: '2',
    NO_COLOR: '1',
  }
  // What `layers lock` writes for a manifest without layers.
  writeFileSync(path.join(dir, 'lockfile.json'), '{\n  "lockfileVersion": 1,\n  "layers": {}\n}\n')
}, 60_000)

afterAll(async () => {
  if (dir) rmSync(dir, {recursive: true, force: true})
  await server?.close()
})

function layers(args: string[], extra: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return runCli(args, {cwd: dir, baseEnv: env, env: extra, timeoutMs: 60_000})
}

/** The one text format: problems, then `Error [CODE]: message`, then `Hint: ...`; never oclif's ` ›   Error:`. */
function expectTextError(result: CliResult, code: string, message: string | RegExp): void {
  expect(result.code, result.stderr).toBe(2)
  expect(result.stdout).toBe('')
  expect(result.stderr).not.toContain('›')
  const lines = result.stderr.trimEnd().split('\n')
  expect(lines[0]).toMatch(new RegExp(`^Error \\[${code}\\]: `))
  expect(lines[0]).toMatch(message)
  expect(lines[1]).toMatch(/^Hint: /)
}

function expectJsonError(result: CliResult, code: string, message: string | RegExp): void {
  expect(result.code, result.stderr).toBe(2)
  expect(result.json?.error, result.stdout).toMatchObject({code, fault: 'user', exitCode: 2})
  expect(result.json.error.message).toMatch(message)
  expect(result.stderr).toBe('')
}

/** The targets (account/region) of the Lambda calls the server answered since `mark`. */
function lambdaTargets(mark: number): string[] {
  return [...new Set(server.calls.slice(mark).filter((call) => call.service === 'lambda' && call.status === 200).map((call) => `${call.accountId}/${call.region}`))].sort()
}

describe('did-you-mean and one error format', () => {
  it('an unknown command or flag names the one meant, as text and under --json', async () => {
    const [command, commandJson, flag, flagJson, loneFlag, help] = await Promise.all([
      layers(['pubish']),
      layers(['pubish', '--json']),
      layers(['publish', '--dryrun']),
      layers(['attach', '--dryrun', '--json']),
      layers(['--dry-run']),
      layers(['help', 'adit']),
    ])
    expectTextError(command, 'ERR_LAYERS_UNKNOWN_COMMAND', 'layers has no command "pubish". Did you mean "publish"?')
    expectJsonError(commandJson, 'ERR_LAYERS_UNKNOWN_COMMAND', 'Did you mean "publish"?')
    expectTextError(flag, 'ERR_LAYERS_UNKNOWN_FLAG', 'Unknown flag "--dryrun". Did you mean "--dry-run"?')
    expectJsonError(flagJson, 'ERR_LAYERS_UNKNOWN_FLAG', 'Did you mean "--dry-run"?')
    expectTextError(loneFlag, 'ERR_LAYERS_UNKNOWN_COMMAND', '"--dry-run" is a flag, not a command')
    expectTextError(help, 'ERR_LAYERS_UNKNOWN_COMMAND', 'Did you mean "audit"?')
  })

  it('a refused flag value keeps its reason (exit 2, ERR_LAYERS_FLAG_VALUE); a missing argument is named', async () => {
    const [zero, option, json, missing] = await Promise.all([
      layers(['attach', '--concurrency', '0']),
      layers(['audit', '--format', 'xml']),
      layers(['prune', '--concurrency', '0', '--json']),
      layers(['run']),
    ])
    expectTextError(zero, 'ERR_LAYERS_FLAG_VALUE', '--concurrency: expected an integer greater than or equal to 1 but received: 0.')
    expectTextError(option, 'ERR_LAYERS_FLAG_VALUE', '--format: "xml" is not one of table, json, jsonl, csv, markdown, html.')
    expectJsonError(json, 'ERR_LAYERS_FLAG_VALUE', 'greater than or equal to 1')
    expect(json.json.error.details).toEqual({flag: 'concurrency'})
    expectTextError(missing, 'ERR_LAYERS_USAGE', 'Missing the required argument FUNCTION')
  })
})

describe('--debug and --quiet', () => {
  it('--debug adds the stack trace as LAYERS_DEBUG does; without either there is none', async () => {
    const [plain, debug, variable] = await Promise.all([
      layers(['run', 'nope']),
      layers(['run', 'nope', '--debug']),
      layers(['run', 'nope'], {LAYERS_DEBUG: '1'}),
    ])
    for (const result of [plain, debug, variable]) expect(result.stderr, result.stderr).toMatch(/^Error \[ERR_LAYERS_UNKNOWN_FUNCTION\]: No function named "nope"/)
    expect(plain.stderr).not.toMatch(/\n\s+at /)
    expect(debug.stderr).toMatch(/\n\s+at /)
    expect(variable.stderr).toMatch(/\n\s+at /)
  })

  it('--quiet leaves out the notices on stderr, never the result or an error', async () => {
    // The first run makes the project's state database; two first runs at once race on its schema.
    const loud = await layers(['run', 'api'])
    const [quiet, failing] = await Promise.all([layers(['run', 'api', '--quiet']), layers(['run', 'nope', '-q'])])
    for (const result of [loud, quiet]) {
      expect(result.code, result.stderr).toBe(0)
      expect(result.stdout).toBe('"ok"\n')
    }
    expect(loud.stderr).toContain('RequestId')
    expect(quiet.stderr).toBe('')
    expect(failing.code).toBe(2)
    expect(failing.stderr).toMatch(/^Error \[ERR_LAYERS_UNKNOWN_FUNCTION\]/)
  })
})

describe('the AWS CLI conventions', () => {
  // An account named by id reaches AWS with the default credentials: --profile picks them, over AWS_PROFILE.
  const audit = (account: string, args: string[] = []) => ['audit', '--account', account, '--no-save', '--no-remote-state', '--json', ...args]

  it('--profile gives the credentials of accounts without profile or roleArn, over AWS_PROFILE', async () => {
    const mark = server.calls.length
    const [withDefault, wrongProfile, withFlag, overVariable] = await Promise.all([
      layers(audit(PROD, ['--region', 'eu-west-1'])),
      layers(audit(DEV, ['--region', 'eu-west-1', '--profile', 'prod'])),
      layers(audit(PROD, ['--region', 'eu-west-1', '--profile', 'prod'])),
      layers(audit(PROD, ['--region', 'us-east-1', '--profile', 'prod']), {AWS_PROFILE: 'default'}),
    ])
    // The default credentials are the dev account's: refused before any Lambda call.
    expect(withDefault.code).toBe(1)
    expect(JSON.stringify(withDefault.json)).toContain('ERR_LAYERS_ACCOUNT_MISMATCH')
    // Credentials from --profile that reach another account say so.
    expect(wrongProfile.code).toBe(1)
    expect(JSON.stringify(wrongProfile.json)).toContain(`The credentials for account ${DEV} (--profile prod) belong to account ${PROD}`)
    for (const result of [withFlag, overVariable]) {
      expect(result.code, result.stderr).toBe(0)
      expect(result.json.summary.failedTargets).toBe(0)
    }
    expect(lambdaTargets(mark)).toEqual([`${PROD}/eu-west-1`, `${PROD}/us-east-1`])
  })

  it("an account named by id is audited in --region, else AWS_REGION, else AWS_DEFAULT_REGION, else the profile's region", async () => {
    const targets = (result: CliResult) => (result.json?.targets ?? []).map((target: {region: string}) => target.region)
    const [flag, region, fallback, profileRegion, variableOverProfile, neither] = await Promise.all([
      layers(audit(DEV, ['--region', 'us-east-1']), {AWS_REGION: 'eu-west-1', AWS_DEFAULT_REGION: 'eu-central-1'}),
      layers(audit(DEV), {AWS_REGION: 'eu-west-1', AWS_DEFAULT_REGION: 'eu-central-1'}),
      layers(audit(DEV), {AWS_DEFAULT_REGION: 'eu-central-1'}),
      layers(audit(PROD, ['--profile', 'prod'])),
      layers(audit(PROD), {AWS_PROFILE: 'prod', AWS_REGION: 'eu-west-1'}),
      layers(audit(DEV)),
    ])
    expect(targets(flag)).toEqual(['us-east-1'])
    expect(targets(region)).toEqual(['eu-west-1'])
    expect(targets(fallback)).toEqual(['eu-central-1'])
    // [profile prod] has `region = ap-south-1` in the config file: the last fallback, as the AWS CLI's.
    expect(profileRegion.code, profileRegion.stderr).toBe(0)
    expect(targets(profileRegion)).toEqual(['ap-south-1'])
    expect(targets(variableOverProfile)).toEqual(['eu-west-1'])
    expect(neither.code).toBe(2)
    expect(neither.json.error.code).toBe('ERR_LAYERS_AUDIT_NO_TARGETS')
    expect(neither.json.error.hint).toContain('AWS_REGION')
  })

  it('--endpoint-url sends every call there, over AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE>, which keep working without it', async () => {
    const dead = {AWS_ENDPOINT_URL: DEAD, AWS_ENDPOINT_URL_LAMBDA: DEAD, AWS_ENDPOINT_URL_STS: DEAD}
    const perService = {AWS_ENDPOINT_URL: DEAD, AWS_ENDPOINT_URL_LAMBDA: server.endpoint, AWS_ENDPOINT_URL_STS: server.endpoint}
    const mark = server.calls.length
    const [unreachable, flag, services, bad] = await Promise.all([
      layers(audit(DEV, ['--region', 'eu-west-1']), dead),
      layers(audit(DEV, ['--region', 'eu-west-2', '--endpoint-url', server.endpoint]), dead),
      layers(audit(DEV, ['--region', 'eu-west-3']), perService),
      layers(audit(DEV, ['--region', 'eu-west-1', '--endpoint-url', 'localhost:4566'])),
    ])
    expect(unreachable.code).toBe(1)
    expect(JSON.stringify(unreachable.json)).toContain('127.0.0.1:9')
    for (const result of [flag, services]) {
      expect(result.code, result.stderr).toBe(0)
      expect(result.json.summary.failedTargets).toBe(0)
    }
    expect(lambdaTargets(mark)).toEqual([`${DEV}/eu-west-2`, `${DEV}/eu-west-3`])
    expectJsonError(bad, 'ERR_LAYERS_FLAG_VALUE', '--endpoint-url: "localhost:4566" is not an http:// or https:// URL')
  })

  it('every command that talks to AWS takes the AWS flags, and every command the global ones', () => {
    // The built CLI's command manifest (scripts/oclif-manifest.mjs), which its help is made from.
    const manifest = JSON.parse(readFileSync(path.join(REPO_ROOT, 'oclif.manifest.json'), 'utf8')) as {commands: Record<string, {flags: Record<string, unknown>}>}
    for (const [id, command] of Object.entries(manifest.commands)) {
      if (id === 'help') continue
      const aws = ['publish', 'promote', 'attach', 'deploy', 'rollback', 'audit', 'prune', 'outdated', 'lock', 'history', 'sbom', 'image'].includes(id)
      for (const flag of ['debug', 'quiet', 'json', 'manifest']) expect(command.flags, `${id} --${flag}`).toHaveProperty(flag)
      for (const flag of ['profile', 'endpoint-url', 'connect-timeout', 'read-timeout']) expect(Object.hasOwn(command.flags, flag), `${id} --${flag}`).toBe(aws)
    }
  })
})
