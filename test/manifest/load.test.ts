// Loading the example manifest (defaults, resolved paths, shares), the starter from `layers init`,
// the pieces the checks rely on (ARN parts, did-you-mean), and the CLI's help and success paths.
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import {checkLayerArn} from '../../src/manifest/arn.js'
import {inspectManifest, inspectManifestText, loadManifest, parseManifest} from '../../src/manifest/load.js'
import {closest} from '../../src/manifest/suggest.js'
import {REPO_ROOT, runCli} from '../support/cli.js'

const temps: string[] = []
afterEach(() => {
  for (const dir of temps.splice(0)) rmSync(dir, {recursive: true, force: true})
})
function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'layers-manifest-'))
  temps.push(dir)
  return dir
}

describe('the example manifest', () => {
  it('loads with defaults applied and paths resolved', async () => {
    const manifest = await loadManifest(path.join(REPO_ROOT, 'layers.yaml'))
    expect(manifest.root).toBe(REPO_ROOT)
    expect(manifest.accounts.prod).toMatchObject({id: '222222222222', roleArn: 'arn:aws:iam::222222222222:role/layers-deployer', regions: ['eu-west-1', 'us-east-1']})
    expect(manifest.accounts.dev!.regions).toEqual(['eu-west-1'])
    const common = manifest.layers.common!
    expect(common).toMatchObject({kind: 'npm', architectures: ['x86_64', 'arm64'], runtimes: ['nodejs22.x', 'nodejs24.x'], share: {accounts: ['222222222222'], public: false}})
    expect(manifest.layers.images).toMatchObject({kind: 'npm', dependencies: {sharp: '^0.34.0'}, packageJson: path.join(REPO_ROOT, 'examples/layers/images/package.json')})
    expect(manifest.layers.config).toMatchObject({kind: 'dir', dir: path.join(REPO_ROOT, 'examples/layers/shared-config'), exclude: ['**/*.test.js'], defaultExcludes: true})
    expect(manifest.functions.api).toMatchObject({name: 'acme-api', architecture: 'arm64', layers: ['common', 'config'], source: path.join(REPO_ROOT, 'examples/functions/api')})
    expect(manifest.functions.scheduler!.name).toBe('scheduler')
    expect(manifest.locate(['functions', 'api', 'layers', 1])).toMatchObject({line: expect.any(Number), column: expect.any(Number)})
  })

  it('points editors at the published schema', () => {
    expect(readFileSync(path.join(REPO_ROOT, 'layers.yaml'), 'utf8').split('\n')[0]).toBe('# yaml-language-server: $schema=./schema/layers.schema.json')
  })

  it('validates from the CLI with exit 0', async () => {
    const result = await runCli(['validate', '--json'])
    expect(result.code, result.stderr).toBe(0)
    expect(result.json).toMatchObject({valid: true, layers: {npm: 2, dir: 1, arn: 1, runtime: 0}, functions: 3, accounts: 2, lock: {state: 'current'}})
  })
})

describe('manifest defaults', () => {
  it('defaults function accounts to every account and architecture to x86_64', () => {
    const dir = tempDir()
    const manifest = parseManifest(
      ['version: 1', 'accounts:', '  a: {id: "111111111111", regions: [us-east-1]}', '  b: {id: "222222222222", regions: [us-east-1]}', 'functions:', '  f: {source: ., handler: index.handler, runtime: nodejs22.x}'].join('\n'),
      path.join(dir, 'layers.yaml'),
    )
    expect(manifest.functions.f).toMatchObject({accounts: ['a', 'b'], architecture: 'x86_64', layers: [], source: dir})
    expect(manifest.settings).toMatchObject({bucket: 'layers-{accountId}-{region}', prefix: 'layers/', architectures: ['x86_64']})
  })

  it('warns about a function on a deprecated runtime without failing', async () => {
    const dir = tempDir()
    writeFileSync(path.join(dir, 'layers.yaml'), 'version: 1\nfunctions:\n  f: {source: ., handler: index.handler, runtime: nodejs18.x}\n')
    const inspection = await inspectManifest(path.join(dir, 'layers.yaml'))
    expect(inspection.manifest).toBeDefined()
    expect(inspection.problems).toEqual([
      expect.objectContaining({severity: 'warning', code: 'ERR_LAYERS_MANIFEST_RUNTIME_DEPRECATED', message: 'functions.f uses nodejs18.x, deprecated by AWS since 2025-09-01.', location: {file: path.join(dir, 'layers.yaml'), line: 3, column: 51}}),
    ])
  })

  it('throws one error carrying every problem', () => {
    expect(() => parseManifest('version: 1\nfunctions:\n  f: {handler: 1}\n', '/tmp/x/layers.yaml')).toThrowError(
      expect.objectContaining({code: 'ERR_LAYERS_MANIFEST_INVALID', exitCode: 2, problems: expect.arrayContaining([expect.objectContaining({code: 'ERR_LAYERS_MANIFEST_MISSING_KEY'}), expect.objectContaining({code: 'ERR_LAYERS_MANIFEST_WRONG_TYPE'})])}),
    )
  })
})

describe('layer ARNs', () => {
  it('accepts versioned, versionless and {region} ARNs', () => {
    expect(checkLayerArn('arn:aws:lambda:us-east-1:123456789012:layer:tools:7')).toEqual({ok: true, arn: {partition: 'aws', region: 'us-east-1', accountId: '123456789012', name: 'tools', version: 7}})
    expect(checkLayerArn('arn:aws:lambda:{region}:123456789012:layer:tools')).toEqual({ok: true, arn: {partition: 'aws', region: '{region}', accountId: '123456789012', name: 'tools'}})
  })

  it('names the wrong part', () => {
    expect(checkLayerArn('arn:aws:lambda:cn-north-1:123456789012:layer:tools:1')).toEqual({ok: false, problem: 'has region cn-north-1, which is not in partition aws'})
    expect(checkLayerArn('arn:aws:s3:us-east-1:123456789012:layer:tools:1')).toEqual({ok: false, problem: 'names service "s3", not lambda'})
    expect(checkLayerArn('arn:aws:lambda:us-east-1:123456789012:function:tools:1')).toEqual({ok: false, problem: 'has resource type "function", not layer'})
    expect(checkLayerArn('tools')).toMatchObject({ok: false})
  })
})

describe('did you mean', () => {
  it('suggests close names only', () => {
    expect(closest('architecturs', ['architectures', 'runtimes'])).toBe('architectures')
    expect(closest('dpes', ['deps', 'tools'])).toBe('deps')
    expect(closest('nodejs22', ['nodejs', 'nodejs22.x'])).toBe('nodejs22.x')
    expect(closest('completely', ['deps', 'tools'])).toBeUndefined()
  })
})

describe('layers init', () => {
  it('writes a starter that validates, and refuses to overwrite it', async () => {
    const dir = tempDir()
    const first = await runCli(['init', '--json'], {cwd: dir})
    expect(first.code, first.stderr).toBe(0)
    expect(first.json.created).toEqual([path.join(dir, 'layers.yaml'), path.join(dir, 'src', 'hello', 'index.js')])
    const validate = await runCli(['validate', '--json'], {cwd: dir})
    expect(validate.code, validate.stderr).toBe(0)
    writeFileSync(path.join(dir, 'layers.yaml'), '# mine\n' + readFileSync(path.join(dir, 'layers.yaml'), 'utf8'))
    const second = await runCli(['init'], {cwd: dir})
    expect(second.code).toBe(2)
    expect(second.stderr).toContain('already exists')
    expect(readFileSync(path.join(dir, 'layers.yaml'), 'utf8').startsWith('# mine\n')).toBe(true)
  })
})

describe('help', () => {
  it('shows examples for the CLI and for validate', async () => {
    const root = await runCli(['--help'])
    expect(root.code).toBe(0)
    expect(root.stdout).toMatch(/^EXAMPLES\n {2}Start a project/m)
    expect(root.stdout).toContain('$ layers validate && layers lock && layers build')
    expect(root.stdout).toMatch(/^ {2}validate +Check layers\.yaml/m)
    const validate = await runCli(['validate', '--help'])
    expect(validate.stdout).toContain('EXAMPLES')
    expect(validate.stdout).toContain('Exit codes: 0 success')
  })

  it('every command has examples, and `layers help COMMAND` and `-h` show the same help as --help', async () => {
    const manifest = JSON.parse(readFileSync(path.join(REPO_ROOT, 'oclif.manifest.json'), 'utf8')) as {commands: Record<string, unknown>}
    const ids = Object.keys(manifest.commands)
    expect(ids).toEqual(expect.arrayContaining(['attach', 'audit', 'build', 'export', 'help', 'history', 'init', 'lock', 'outdated', 'package', 'prune', 'publish', 'run', 'validate']))
    const helps = await Promise.all(ids.map((id) => runCli([id, '--help'])))
    for (const [index, help] of helps.entries()) expect(help.stdout, ids[index]).toMatch(/^EXAMPLES\n {2}\S.*\n\n {4}\$ layers /m)
    const [viaCommand, viaShortFlag, viaFlag] = await Promise.all([runCli(['help', 'audit']), runCli(['audit', '-h']), runCli(['audit', '--help'])])
    expect(viaCommand.stdout).toBe(viaFlag.stdout)
    expect(viaShortFlag.stdout).toBe(viaFlag.stdout)
  })
})

describe('a YAML syntax error', () => {
  it('is reported once (a tab-indented file gives the parser an error per line), at the first error, with a count of those after it', () => {
    const text = `version: 1\nlayers:\n\tconfig:\n\t\tdir: x\n\tother:\n\t\tdir: y\n`
    const {problems} = inspectManifestText(text, '/p/layers.yaml')
    expect(problems).toHaveLength(1)
    expect(problems[0]!.location).toMatchObject({line: 3, column: 1})
    expect(problems[0]!.message).toMatch(/\(\d+ more syntax errors after it/)
  })
})
