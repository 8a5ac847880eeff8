// `layers package` and `layers validate` through the built CLI against a project with npm layers from
// a loopback registry and dir layers.
import {execFileSync} from 'node:child_process'
import {existsSync, readFileSync} from 'node:fs'
import {appendFile, cp, mkdir, readdir, readFile, rm, stat, writeFile} from 'node:fs/promises'
import path from 'node:path'
import {Ajv} from 'ajv'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {runCli} from '../support/cli.js'
import {BROKEN_FUNCTION, FILES, lockedFixture, type LockedFixture} from './fixture-project.js'

let fixture: LockedFixture
let dir: string
let project: string
let env: NodeJS.ProcessEnv

const schema = JSON.parse(readFileSync(path.join(import.meta.dirname, '..', '..', 'schema', 'package.schema.json'), 'utf8'))
const validateOutput = new Ajv({allErrors: true, strict: false}).compile(schema)

function zipNames(zip: string): string[] {
  return execFileSync('zipinfo', ['-1', zip]).toString().trim().split('\n')
}

beforeAll(async () => {
  fixture = await lockedFixture('layers-package-')
  ;({dir, project, env} = fixture)
}, 60_000)

afterAll(async () => {
  await fixture?.stop()
})

describe('layers package', () => {
  it('writes code-only zips, checks imports from the lock before a build, and sizes against the built layers after', async () => {
    const before = await runCli(['package', '--json'], {cwd: project, env})
    expect(before.code, before.stderr).toBe(0)
    expect(before.json.functions.map((fn: {function: string; totalUnzippedBytes: number | null; fat: unknown}) => [fn.function, fn.totalUnzippedBytes, fn.fat])).toEqual([
      ['cjs', null, null],
      ['esm', null, null],
      ['order', null, null],
    ])
    // Without a build, the npm layer is known from the lock only: the subpath cannot be checked yet.
    expect(before.json.imports.functions.find((fn: {function: string}) => fn.function === 'esm').layers).toEqual([{layer: 'deps', source: 'lock'}])
    expect(before.json.warnings.map((warning: {code: string}) => warning.code)).toEqual(expect.arrayContaining(['ERR_LAYERS_IMPORT_EXPORTS_UNCHECKED', 'ERR_LAYERS_LAYER_NOT_BUILT']))

    const build = await runCli(['build', '--json'], {cwd: project, env})
    expect(build.code, build.stderr).toBe(0)
    const result = await runCli(['package', '--json'], {cwd: project, env})
    expect(result.code, result.stderr).toBe(0)
    expect(validateOutput(result.json), JSON.stringify(validateOutput.errors)).toBe(true)
    const [cjs, esm, order] = result.json.functions
    expect(zipNames(cjs.zipPath)).toEqual(['index.js', 'lib/util.js'])
    expect(zipNames(esm.zipPath)).toEqual(['handler.js', 'package.json'])
    expect(cjs.zipPath).toBe(path.join(project, '.layers', 'package', 'cjs.zip'))
    // The state directory keeps itself out of git.
    expect(await readFile(path.join(project, '.layers', '.gitignore'), 'utf8')).toMatch(/^\*$/m)
    expect(cjs.zipBytes).toBe((await stat(cjs.zipPath)).size)
    expect(cjs.unzippedBytes).toBe(FILES['fns/cjs/index.js']!.length + FILES['fns/cjs/lib/util.js']!.length)
    const deps = build.json.artifacts.find((artifact: {layer: string}) => artifact.layer === 'deps')
    expect(cjs.layers).toEqual([{layer: 'deps', kind: 'npm', artifactKey: 'x86_64', built: true, zipBytes: deps.zipBytes, unzippedBytes: deps.unzippedBytes}])
    expect(cjs.totalUnzippedBytes).toBe(cjs.unzippedBytes + deps.unzippedBytes)
    expect(cjs.withinLimit).toBe(true)
    // The fat package holds the code plus the layer's node_modules: its size is exactly that zip's.
    const fatDir = path.join(dir, 'fat')
    await mkdir(fatDir, {recursive: true})
    execFileSync('unzip', ['-q', '-o', deps.zipPath, '-d', path.join(fatDir, 'layer')])
    await cp(path.join(fatDir, 'layer', 'nodejs', 'node_modules'), path.join(fatDir, 'fn', 'node_modules'), {recursive: true})
    execFileSync('unzip', ['-q', '-o', cjs.zipPath, '-d', path.join(fatDir, 'fn')])
    const {writeDeterministicZip} = await import('../../src/build/zip.js')
    const {listDirLayer, dirEntries} = await import('../../src/build/dir.js')
    const fatFiles = await listDirLayer('fat', path.join(fatDir, 'fn'), {excluded: () => false})
    const fatZip = await writeDeterministicZip(path.join(fatDir, 'fat.zip'), dirEntries(fatFiles))
    expect(cjs.fat).toEqual({zipBytes: fatZip.zipBytes, unzippedBytes: fatZip.unzippedBytes, files: fatZip.files})
    expect(cjs.fat.zipBytes).toBeGreaterThan(cjs.zipBytes)
    expect(order.layers.map((layer: {layer: string}) => layer.layer)).toEqual(['first', 'second'])
    // Both layers hold shared@1.0.0 with different files: the later layer's copy is loaded, a warning.
    expect(order.shadowing).toEqual([
      {function: 'order', what: 'package', name: 'shared', kind: 'duplicate', copies: [{layer: 'first', path: 'nodejs/node_modules/shared', version: '1.0.0'}, {layer: 'second', path: 'nodejs/node_modules/shared', version: '1.0.0'}], winner: {layer: 'second', path: 'nodejs/node_modules/shared', version: '1.0.0'}, same: false},
    ])
    // The function's own node_modules copy (no package.json) is never packaged: the layer's is loaded.
    expect(cjs.shadowing).toEqual([expect.objectContaining({name: 'greeter', kind: 'duplicate', copies: [{path: 'fns/cjs/node_modules/greeter'}, {layer: 'deps', path: 'nodejs/node_modules/greeter', version: '1.2.0'}], same: false})])
    expect(result.json.warnings).toContainEqual(expect.objectContaining({code: 'ERR_LAYERS_SHADOWED', message: expect.stringContaining('Function order: package shared is provided 2 times with different content; Lambda loads shared@1.0.0 from layer second')}))
    expect(result.json.imports.errors).toBe(0)

    // Warnings: the function's package.json wants greeter ^2 but the layer has 1.2.0.
    expect(result.json.warnings).toContainEqual(expect.objectContaining({code: 'ERR_LAYERS_IMPORT_VERSION_MISMATCH', message: expect.stringContaining('greeter@^2.0.0, but layer deps provides greeter@1.2.0'), location: expect.objectContaining({file: 'fns/esm/package.json'})}))

    // Deterministic: the same code elsewhere, packaged again, gives the same bytes.
    const again = await runCli(['package', 'cjs', '--json', '--out', path.join(dir, 'out')], {cwd: project, env})
    expect(again.code, again.stderr).toBe(0)
    expect(again.json.functions[0].codeSha256).toBe(cjs.codeSha256)
    expect(again.json.functions[0].zipPath).toBe(path.join(dir, 'out', 'cjs.zip'))

    const human = await runCli(['package', 'cjs'], {cwd: project, env: {...env, COLUMNS: '200'}})
    expect(human.code).toBe(0)
    expect(human.stdout).toMatch(/cjs\s+x86_64\s+2\s/)
    expect(human.stdout).toMatch(/Of limit/)
  }, 120_000)

  it('fails a function importing a package no layer of it provides, with file:line and the layer that could, writing nothing', async () => {
    const copy = path.join(dir, 'broken-project')
    await cp(project, copy, {recursive: true})
    await rm(path.join(copy, '.layers', 'package'), {recursive: true, force: true})
    await appendFile(path.join(copy, 'layers.yaml'), BROKEN_FUNCTION)
    const result = await runCli(['package', '--json'], {cwd: copy, env})
    expect(result.code).toBe(2)
    expect(result.json.error.code).toBe('ERR_LAYERS_IMPORT_CHECK_FAILED')
    expect(result.json.error.problems).toEqual([
      expect.objectContaining({code: 'ERR_LAYERS_IMPORT_UNRESOLVED', location: 'fns/broken/index.js:2:24', message: expect.stringContaining("'helper' is not a builtin"), hint: expect.stringContaining('Layer extra provides it: add it to functions.broken.layers')}),
      expect.objectContaining({code: 'ERR_LAYERS_IMPORT_UNRESOLVED', location: 'fns/broken/index.js:3:21', hint: expect.stringContaining('No layer in the manifest provides it')}),
      expect.objectContaining({code: 'ERR_LAYERS_IMPORT_NOT_EXPORTED', location: 'fns/broken/index.js:4:26', message: expect.stringContaining("'greeter/lib/internal.js' is not exported by greeter@1.2.0 (layer deps)")}),
    ])
    expect(existsSync(path.join(copy, '.layers', 'package')) ? await readdir(path.join(copy, '.layers', 'package')) : []).toEqual([])

    const human = await runCli(['package', 'broken'], {cwd: copy, env})
    expect(human.code).toBe(2)
    expect(human.stderr).toContain("fns/broken/index.js:2:24: error ERR_LAYERS_IMPORT_UNRESOLVED Function broken: 'helper'")
    expect(human.stderr).not.toMatch(/\n\s+at /)

    // validate runs the same check once the lock is there.
    const validate = await runCli(['validate', '--json'], {cwd: copy, env})
    expect(validate.code).toBe(2)
    expect(validate.json.error.problems.map((problem: {location: string}) => problem.location)).toEqual(expect.arrayContaining(['fns/broken/index.js:2:24', 'fns/broken/index.js:3:21']))

    // --no-check packages it anyway.
    const unchecked = await runCli(['package', 'broken', '--no-check', '--json'], {cwd: copy, env})
    expect(unchecked.code, unchecked.stderr).toBe(0)
    expect(unchecked.json.imports).toBeUndefined()
  }, 120_000)

  it('fails two layers providing a package in different versions, naming both copies, writing nothing', async () => {
    const copy = path.join(dir, 'shadow-project')
    await cp(project, copy, {recursive: true})
    await rm(path.join(copy, '.layers', 'package'), {recursive: true, force: true})
    await writeFile(path.join(copy, 'layers/second/nodejs/node_modules/shared/package.json'), '{"name": "shared", "version": "2.0.0"}\n')
    const build = await runCli(['build', 'second', '--json'], {cwd: copy, env})
    expect(build.code, build.stderr).toBe(0)
    const result = await runCli(['package', '--json'], {cwd: copy, env})
    expect(result.code).toBe(2)
    expect(result.json.error).toMatchObject({
      code: 'ERR_LAYERS_SHADOWED_VERSION',
      message: expect.stringMatching(/^Copies that differ in version or architecture: package shared of function order \(version\);.* No package was written\.$/),
      hint: expect.stringContaining('exclude: ["nodejs/node_modules/shared/**"]'),
      problems: [expect.objectContaining({code: 'ERR_LAYERS_SHADOWED_VERSION', message: 'Function order: package shared is provided 2 times in different versions; Lambda loads shared@2.0.0 from layer second (/opt/nodejs/node_modules/shared), which shadows shared@1.0.0 from layer first (/opt/nodejs/node_modules/shared).'})],
    })
    expect(existsSync(path.join(copy, '.layers', 'package'))).toBe(false)
    const validate = await runCli(['validate', '--json'], {cwd: copy, env})
    expect(validate.code).toBe(2)
    expect(validate.json.error.problems).toEqual([expect.objectContaining({code: 'ERR_LAYERS_SHADOWED_VERSION', message: expect.stringContaining('shared@2.0.0 from layer second')})])
  }, 60_000)

  it('leaves ARN layers out of the fat package and the total, and refuses a stale lock', async () => {
    const copy = path.join(dir, 'arn-project')
    await cp(project, copy, {recursive: true})
    const manifestFile = path.join(copy, 'layers.yaml')
    const text = await readFile(manifestFile, 'utf8')
    await writeFile(manifestFile, text.replace('layers:\n  deps:', 'layers:\n  vendor:\n    arn: arn:aws:lambda:eu-west-1:123456789012:layer:vendor:3\n  deps:').replace('layers: [deps]\n    accounts: [dev]', 'layers: [deps, vendor]\n    accounts: [dev]'))
    // An ARN layer is locked from AWS; here its lock entry is written directly.
    const {loadManifest} = await import('../../src/manifest/load.js')
    const {layerInputs} = await import('../../src/lock/fingerprint.js')
    const {readLockfile, writeLockfile} = await import('../../src/lock/io.js')
    const manifest = await loadManifest(manifestFile)
    // Read with the project's npm configuration (its registry comes from the environment): the lockfile check needs it.
    const lock = (await readLockfile(path.join(copy, 'lockfile.json'), {npmConfig: {env: {...process.env, ...env}}}))!
    lock.layers.vendor = {kind: 'arn', inputs: layerInputs(manifest.layers.vendor!, manifest.root), arns: {'111111111111': {'eu-west-1': 'arn:aws:lambda:eu-west-1:123456789012:layer:vendor:3'}}}
    await writeLockfile(path.join(copy, 'lockfile.json'), lock)
    const result = await runCli(['package', 'cjs', '--json'], {cwd: copy, env})
    expect(result.code, result.stderr).toBe(0)
    const [cjs] = result.json.functions
    expect(cjs.layers[1]).toEqual({layer: 'vendor', kind: 'arn', built: false, zipBytes: null, unzippedBytes: null})
    expect(cjs.totalUnzippedBytes).toBeNull()
    expect(cjs.fat.zipBytes).toBeGreaterThan(cjs.zipBytes)
    const run = await runCli(['run', 'cjs', '--json'], {cwd: copy, env})
    expect(run.code, run.stderr).toBe(0)
    expect(run.json.skippedLayers).toEqual(['vendor'])
    expect(run.json.payload.message).toBe('hello undefined')

    await writeFile(manifestFile, (await readFile(manifestFile, 'utf8')).replace('greeter: ^1.0.0', 'greeter: ^1.1.0'))
    const stale = await runCli(['package', 'cjs', '--json'], {cwd: copy, env})
    expect(stale.code).toBe(2)
    expect(stale.json.error).toMatchObject({code: 'ERR_LAYERS_LOCK_STALE', message: expect.stringContaining('layer deps')})
  }, 120_000)

  it('refuses a link leading out of the function source and an unknown function', async () => {
    const copy = path.join(dir, 'link-project')
    await cp(project, copy, {recursive: true})
    execFileSync('ln', ['-s', '../../layers.yaml', path.join(copy, 'fns', 'order', 'manifest.yaml')])
    const result = await runCli(['package', 'order', '--json'], {cwd: copy, env})
    expect(result.code).toBe(2)
    expect(result.json.error).toMatchObject({code: 'ERR_LAYERS_LINK_ESCAPES', message: expect.stringContaining('Function order: manifest.yaml is a link to ../../layers.yaml')})
    const unknown = await runCli(['package', 'nope', '--json'], {cwd: copy, env})
    expect(unknown.code).toBe(2)
    expect(unknown.json.error).toMatchObject({code: 'ERR_LAYERS_UNKNOWN_FUNCTION', hint: 'Functions in the manifest: cjs, esm, order.'})
  }, 60_000)
})
