// Python licences through the CLI against the local index, with uv as the resolver: lock records each
// distribution's licence from its core metadata (License-Expression, an SPDX License field, a licence
// classifier read from the wheel itself when the index serves no metadata file, NOASSERTION when none);
// locking again writes the same bytes; a denied licence makes lock exit 2 naming the distribution,
// leaving lockfile.json as it was; `layers licenses --json` reports the pip layer's licences; a wheel
// lock read whole is not downloaded again by the build.
import {mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {LicensesReport} from '../../src/licenses/report.js'
import {runCli} from '../support/cli.js'
import {pipTestEnv, startPyPIIndex, type PyPIIndex} from '../support/pypi-index.js'
import {hasUv} from '../support/uv.js'

let index: PyPIIndex
let dir: string

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'layers-pip-licences-'))
  index = await startPyPIIndex()
  const wheels = [{tag: 'py3-none-any'}]
  index.publish({name: 'expr', version: '1.0', requires: ['field', 'classic', 'bare'], metadata: ['License-Expression: MIT OR Apache-2.0', 'License: BSD-3-Clause'], wheels})
  index.publish({name: 'field', version: '1.0', metadata: ['License: BSD-3-Clause'], wheels})
  index.publish({name: 'classic', version: '1.0', metadata: ['License: GNU GPL', 'Classifier: License :: OSI Approved :: GNU General Public License v3 (GPLv3)'], noCoreMetadata: true, wheels})
  index.publish({name: 'bare', version: '1.0', wheels})
})

afterAll(async () => {
  await index?.close()
  if (dir) rmSync(dir, {recursive: true, force: true})
})

const manifest = (policy: string): string => `version: 1\nsettings:\n  regions: [us-east-1]\n${policy}layers:\n  deps:\n    pip: {expr: "*"}\n    runtimes: [python3.12]\n    architectures: [x86_64]\n`

describe.skipIf(!hasUv)('Python licences', () => {
  it('records each distribution\'s licence at lock, and the policy and `layers licenses` cover them', async () => {
    writeFileSync(path.join(dir, 'layers.yaml'), manifest(''))
    const env = pipTestEnv(index.url, dir)
    const lock = await runCli(['lock', '--json'], {cwd: dir, env})
    expect(lock.code, lock.stderr).toBe(0)
    const lockfile = path.join(dir, 'lockfile.json')
    const wheels = JSON.parse(readFileSync(lockfile, 'utf8')).layers.deps.artifacts.x86_64.wheels['python3.12'] as Record<string, {license: string}>
    expect(Object.fromEntries(Object.entries(wheels).map(([name, wheel]) => [name, wheel.license]))).toEqual({bare: 'NOASSERTION', classic: 'GPL-3.0-only', expr: 'MIT OR Apache-2.0', field: 'BSD-3-Clause'})
    // Locking the same files again writes the same bytes.
    const locked = readFileSync(lockfile, 'utf8')
    const again = await runCli(['lock', '--update', '--json'], {cwd: dir, env})
    expect(again.code, again.stderr).toBe(0)
    expect(readFileSync(lockfile, 'utf8')).toBe(locked)

    writeFileSync(path.join(dir, 'layers.yaml'), manifest('  licenses:\n    deny: [GPL-3.0-only]\n'))
    const denied = await runCli(['lock', '--json'], {cwd: dir, env})
    expect(denied.code).toBe(2)
    expect(denied.json.error.code).toBe('ERR_LAYERS_LICENSE_DENIED')
    expect(denied.json.error.message).toContain(`classic@1.0 at python3.12/classic-1.0-py3-none-any.whl is licensed "GPL-3.0-only", denied by settings.licenses.deny[0] "GPL-3.0-only" (${path.join(dir, 'layers.yaml')}:5:12).`)
    expect(readFileSync(lockfile, 'utf8')).toBe(locked)

    const report = await runCli(['licenses', '--json'], {cwd: dir, env})
    expect(report.code, report.stderr).toBe(0)
    const layer = (report.json as LicensesReport).layers[0]!
    expect(layer.licenses.map((entry) => `${entry.license} ${entry.status}`).sort()).toEqual(['BSD-3-Clause allowed', 'GPL-3.0-only denied', 'MIT OR Apache-2.0 allowed', 'NOASSERTION allowed'])
    expect(layer.violations.map((violation) => violation.name)).toEqual(['classic'])
  })

  it('downloads a wheel once when lock reads it whole for its licence (no PEP 658 metadata): the build takes it from the wheel cache', async () => {
    const project = path.join(dir, 'once')
    mkdirSync(project)
    writeFileSync(path.join(project, 'layers.yaml'), manifest(''))
    const env = pipTestEnv(index.url, project)
    const layersFetches = (filename: string): number => index.requests.filter((request) => request === `GET /files/${filename}`).length
    const classic = 'classic-1.0-py3-none-any.whl'
    const expr = 'expr-1.0-py3-none-any.whl'
    const start = {classic: layersFetches(classic), expr: layersFetches(expr)}
    const lock = await runCli(['lock', '--json'], {cwd: project, env})
    expect(lock.code, lock.stderr).toBe(0)
    const locked = {classic: layersFetches(classic), expr: layersFetches(expr)}
    // uv reads classic's wheel for its dependencies (into its own cache), layers once for the licence.
    expect(locked.classic - start.classic).toBeGreaterThanOrEqual(1)
    const build = await runCli(['build', '--json'], {cwd: project, env})
    expect(build.code, build.stderr).toBe(0)
    expect(layersFetches(classic) - locked.classic).toBe(0)
    // A wheel whose licence came from its metadata file is fetched by the build, once.
    expect(layersFetches(expr) - locked.expr).toBe(1)
  })
})
