// `layers outdated` for pip layers end to end (the built CLI; run `npm run build` first): a layer is
// locked with uv against a local PEP 691 index that needs credentials, the index then gets newer
// releases (a minor within the specifier, a major beyond it, a pre-release, a yanked file, a release
// with a wheel for one architecture only, an sdist-only release, one whose Requires-Python excludes the runtime), and `outdated` reports locked /
// wanted / latest per requirement in the --json shape of schema/outdated.schema.json, exits by
// --fail-on level; an index that cannot be reached is an error per project (exit 1); the index
// credentials are never printed.
import {mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {Ajv} from 'ajv'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {runCli} from '../support/cli.js'
import {startPyPIIndex, type PyPIIndex, pipTestEnv} from '../support/pypi-index.js'
import {hasUv} from '../support/uv.js'

const PASSWORD = 'outdated-s3cr3t'
const validOutdated = new Ajv({allErrors: true}).compile(JSON.parse(readFileSync(path.resolve(import.meta.dirname, '../../schema/outdated.schema.json'), 'utf8')))

let index: PyPIIndex
let dir: string
let env: NodeJS.ProcessEnv

type Row = {kind: string; layer: string; package: string; spec: string; locked: string[]; wanted?: string; latest?: string; outdated: boolean; update?: string}

describe.skipIf(!hasUv)('layers outdated (CLI, pip layers, local index)', () => {
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'layers-pip-outdated-'))
    index = await startPyPIIndex({auth: {username: 'ci', password: PASSWORD}})
    const both = [{tag: 'cp312-cp312-manylinux_2_17_x86_64'}, {tag: 'cp312-cp312-manylinux_2_17_aarch64'}]
    index.publish({name: 'nat', version: '1.0', wheels: both})
    index.publish({name: 'pure', version: '2.0', wheels: [{tag: 'py3-none-any'}]})
    index.publish({name: 'steady', version: '3.1', wheels: [{tag: 'py3-none-any'}]})
    writeFileSync(path.join(dir, 'layers.yaml'), ['version: 1', 'settings:', '  regions: [us-east-1]', 'layers:', '  py:', '    pip: {nat: ">=1.0,<2", pure: "~=2.0", steady: "*"}', '    runtimes: [python3.12]', '    architectures: [x86_64, arm64]', ''].join('\n'))
    mkdirSync(path.join(dir, '.config'))
    env = pipTestEnv(index.url, dir)
    const lock = await runCli(['lock', '--json'], {cwd: dir, env})
    expect(lock.code, lock.stderr).toBe(0)
    // Published after the lock.
    index.publish({name: 'nat', version: '1.1', wheels: both})
    index.publish({name: 'nat', version: '1.2', wheels: [{tag: 'cp312-cp312-manylinux_2_17_x86_64'}]}) // no arm64 wheel: does not count
    index.publish({name: 'nat', version: '1.3', wheels: [], sdist: true}) // sdist only: does not count
    index.publish({name: 'nat', version: '2.0', wheels: both})
    index.publish({name: 'nat', version: '2.1rc1', wheels: both}) // pre-release: not asked for
    index.publish({name: 'pure', version: '2.0.1', wheels: [{tag: 'py3-none-any', yanked: true}]}) // yanked: does not count
    index.publish({name: 'pure', version: '2.0.2', wheels: [{tag: 'py3-none-any'}]})
    index.publish({name: 'pure', version: '2.1', requiresPython: '>=3.13', wheels: [{tag: 'py3-none-any'}]}) // not for python3.12: does not count
  }, 60_000)

  afterAll(async () => {
    await index?.close()
    if (dir) rmSync(dir, {recursive: true, force: true})
  })

  it('reports locked, wanted and latest per requirement from the index, in the schema\'s shape, exits by --fail-on level, and reports an unreachable index per project without its credentials', async () => {
    const [json, table, major, patch] = await Promise.all([
      runCli(['outdated', '--all', '--json'], {cwd: dir, env}),
      runCli(['outdated'], {cwd: dir, env}),
      runCli(['outdated', '--fail-on', 'major', '--json'], {cwd: dir, env}),
      runCli(['outdated', '--fail-on', 'patch', '--json'], {cwd: dir, env}),
    ])
    expect(json.code, json.stderr).toBe(0)
    expect(validOutdated(json.json), JSON.stringify(validOutdated.errors)).toBe(true)
    expect(json.json.errors).toEqual([])
    expect((json.json.rows as Row[]).map((r) => `${r.kind} ${r.layer}/${r.package} '${r.spec}' ${r.locked.join(',')} ${r.wanted} ${r.latest} ${r.outdated} ${r.update ?? '-'}`)).toEqual([
      "pip py/nat '>=1.0,<2' 1.0 1.1 2.0 true major",
      "pip py/pure '~=2.0' 2.0 2.0.2 2.0.2 true patch",
      "pip py/steady '' 3.1 3.1 3.1 false -",
    ])
    expect(table.code, table.stderr).toBe(0)
    expect(table.stdout).toMatch(/^\s*py\s+nat\s+>=1\.0,<2\s+1\.0\s+1\.1\s+2\.0\s*$/m)
    expect(table.stdout).not.toMatch(/steady/)
    expect(table.stdout).toContain('2 outdated.')
    expect(major.code).toBe(1)
    expect(major.stderr).toContain('Error [ERR_LAYERS_OUTDATED]: 1 outdated at --fail-on major: py/nat (major).')
    expect(patch.code).toBe(1)
    expect(patch.stderr).toContain('2 outdated at --fail-on patch: py/nat (major), py/pure (patch).')
    // The index (its URL with credentials) gone: an error per project, exit 1.
    await index.close()
    // PIP_RETRIES=0: a refused connection is otherwise tried again for 15.5 s (download.ts, as pip does).
    const unreachable = await runCli(['outdated', '--json'], {cwd: dir, env: {...env, PIP_RETRIES: '0'}})
    expect(unreachable.code, unreachable.stdout).toBe(1)
    expect(unreachable.stderr).toContain('ERR_LAYERS_OUTDATED_LOOKUP')
    expect((unreachable.json.errors as Array<{package: string; code: string}>).map((e) => `${e.package} ${e.code}`)).toEqual(['nat ERR_LAYERS_PYTHON_INDEX_UNREACHABLE', 'pure ERR_LAYERS_PYTHON_INDEX_UNREACHABLE', 'steady ERR_LAYERS_PYTHON_INDEX_UNREACHABLE'])
    expect(validOutdated(unreachable.json), JSON.stringify(validOutdated.errors)).toBe(true)
    for (const run of [json, table, major, patch, unreachable]) expect(run.stdout + run.stderr).not.toContain(PASSWORD)
  })
})
