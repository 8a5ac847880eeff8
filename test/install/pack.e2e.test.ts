// Installing `layers` in a team's own repository, as the README says: `npm pack` the CLI, install the
// tarball as a dev-dependency of a fresh project (no layers checkout, no node_modules of ours), then
// `npx layers --version`, `init`, `validate`, `lock` and `build` there. It proves package.json `files` holds
// everything the CLI needs at run time (bin, dist/cli, templates, schema, oclif.manifest.json) and that
// its dependencies resolve from the registry alone.
// Kept fast: `npm pack --ignore-scripts` packs the dist/ that `npm test` has just built (`prepare` runs
// the same build, for a git URL install), and `npm install --prefer-offline --ignore-scripts` takes
// the packages from npm's cache. The one install script a user's install runs, better-sqlite3's
// (`prebuild-install || node-gyp rebuild`: a native build of SQLite, minutes on 2 cores), is replaced
// by copying the addon this checkout built, for the same better-sqlite3 version and Node; another
// version is built for real (`npm rebuild better-sqlite3`).
import {execFile} from 'node:child_process'
import {copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {REPO_ROOT} from '../support/cli.js'

const work = mkdtempSync(path.join(tmpdir(), 'layers-pack-'))

afterAll(() => rmSync(work, {recursive: true, force: true}))

interface Run {
  code: number
  stdout: string
  stderr: string
}

function run(command: string, args: string[], cwd: string, timeoutMs = 240_000): Promise<Run> {
  return new Promise((resolve) => {
    // LAYERS_* and npm_config_* of the test run stay out: the scratch project is a stranger's.
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('LAYERS_') && !name.toLowerCase().startsWith('npm_')))
    execFile(command, args, {cwd, env: {...env, NO_COLOR: '1'}, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024}, (error, stdout, stderr) => {
      resolve({code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr})
    })
  })
}

const version = (dir: string): string => (JSON.parse(readFileSync(path.join(dir, 'node_modules', 'better-sqlite3', 'package.json'), 'utf8')) as {version: string}).version

describe('install into a fresh project', () => {
  it('npm pack, npm install --save-dev <tarball>, then npx layers --version, init, validate, lock and build there', {timeout: 600_000}, async () => {
    const packed = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], REPO_ROOT)
    expect(packed.code, packed.stderr).toBe(0)
    const [pack] = JSON.parse(packed.stdout) as Array<{filename: string; files: Array<{path: string}>}>
    const tarball = path.join(work, pack!.filename)
    // What the CLI reads at run time; oclif.manifest.json spares it importing every command at start-up.
    const files = pack!.files.map((file) => file.path)
    expect(files).toEqual(expect.arrayContaining(['bin/run.js', 'dist/cli/main.js', 'oclif.manifest.json', 'templates/init/layers.yaml', 'schema/layers.schema.json', 'package.json']))
    expect(files.filter((file) => file.startsWith('test/') || file.endsWith('.ts'))).toEqual([])

    const app = path.join(work, 'app')
    mkdirSync(path.join(app, 'layers', 'config'), {recursive: true})
    writeFileSync(path.join(app, 'package.json'), JSON.stringify({name: 'app', version: '1.0.0', private: true}, null, 2) + '\n')
    const installed = await run('npm', ['install', '--save-dev', '--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund', tarball], app)
    expect(installed.code, installed.stderr).toBe(0)
    expect(JSON.parse(readFileSync(path.join(app, 'package.json'), 'utf8')).devDependencies).toEqual({layers: expect.stringContaining('layers-0.1.0.tgz')})
    if (version(app) === version(REPO_ROOT)) {
      const addon = path.join('node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node')
      mkdirSync(path.dirname(path.join(app, addon)), {recursive: true})
      copyFileSync(path.join(REPO_ROOT, addon), path.join(app, addon))
    } else {
      const rebuilt = await run('npm', ['rebuild', 'better-sqlite3'], app, 590_000)
      expect(rebuilt.code, rebuilt.stderr).toBe(0)
    }

    writeFileSync(
      path.join(app, 'layers.yaml'),
      `version: 1
settings:
  regions: [eu-west-1]
  architectures: [x86_64]
  runtimes: [nodejs22.x]
accounts:
  dev: {id: "111111111111"}
layers:
  config:
    dir: layers/config
`,
    )
    writeFileSync(path.join(app, 'layers', 'config', 'config.json'), '{"stage": 1}\n')
    // `--no`: never fetch a package named layers from the registry; `--`: the flags are the CLI's.
    const npx = (...args: string[]) => run('npx', ['--no', '--', 'layers', ...args], app)
    const [printed, validated, started] = await Promise.all([npx('--version'), npx('validate', '--json'), npx('init', '--manifest', 'starter/layers.yaml')])
    expect(started.code, started.stderr).toBe(0)
    // The starter (templates/) names the installed manifest schema (schema/) for editors.
    const schemaRef = /yaml-language-server: \$schema=(\S+)/.exec(readFileSync(path.join(app, 'starter', 'layers.yaml'), 'utf8'))?.[1]
    expect(schemaRef).toBeDefined()
    expect(JSON.parse(readFileSync(path.resolve(app, 'starter', schemaRef!), 'utf8'))).toMatchObject({title: expect.any(String)})
    expect(printed.code, printed.stderr).toBe(0)
    expect(printed.stdout).toMatch(/^layers\/0\.1\.0 /)
    expect(validated.code, validated.stderr).toBe(0)
    expect(JSON.parse(validated.stdout)).toMatchObject({valid: true})
    const locked = await npx('lock', '--json')
    expect(locked.code, locked.stderr).toBe(0)
    const built = await npx('build', '--json')
    expect(built.code, built.stderr).toBe(0)
    const artifacts = (JSON.parse(built.stdout) as {artifacts: Array<{layer: string; cached: boolean; zipPath: string}>}).artifacts
    expect(artifacts).toMatchObject([{layer: 'config', cached: false}])
    expect(artifacts[0]!.zipPath.startsWith(path.join(app, '.layers', 'build'))).toBe(true)
  })
})
