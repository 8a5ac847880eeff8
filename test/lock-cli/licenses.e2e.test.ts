// The licence policy through the CLI against the loopback registry: lock records each package's
// licence from its tarball (legacy forms read, NOASSERTION when none) and a second lock is a
// byte-identical no-op; a lock from before licences is stale under a policy; a denied transitive
// licence makes lock exit 2 naming the package, its node_modules path, the chain from the layer's
// top-level package and the deny entry's file:line:column, leaving lockfile.json as it was; validate
// refuses the same on the existing lock; `layers licenses --json` reports it. An OR licence with an
// allowed choice passes.
import {readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {NpmRegistry} from '../support/npm-registry.js'
import {makeProject, manifestWith, type Project} from './cli.js'

let registry: NpmRegistry
let p: Project

beforeAll(async () => {
  registry = await NpmRegistry.start()
  registry
    .publish('app', {version: '1.0.0', license: 'MIT', dependencies: {mid: '^1.0.0'}})
    .publish('mid', {version: '1.0.0', license: {type: 'ISC'}, dependencies: {'gpl-lib': '^2.0.0'}})
    .publish('gpl-lib', {version: '2.0.0', license: 'GPL-3.0-only'})
    .publish('dual', {version: '1.0.0', licenses: [{type: 'MIT'}, {type: 'GPL-3.0-only'}]})
    .publish('bare', {version: '1.0.0'})
})

afterAll(async () => {
  await p?.cleanup()
  await registry.stop()
})

const LAYERS = `  deps:\n    npm:\n      app: ^1.0.0\n      dual: ^1.0.0\n      bare: ^1.0.0\n`
const POLICY = `architectures: [x86_64, arm64]\n  runtimes: [nodejs20.x]\n  licenses:\n    deny:\n      - AGPL-3.0-only\n      - GPL-3.0-only`

describe('licences through the CLI', () => {
  it('records licences at lock, and lock and validate refuse a denied transitive licence with its path', async () => {
    p = await makeProject(registry.url, manifestWith(LAYERS))
    const lockfile = path.join(p.dir, 'lockfile.json')
    const first = await p.cli(['lock', '--json'])
    expect(first.stderr).toBe('')
    expect(first.status).toBe(0)
    const packages = JSON.parse(readFileSync(lockfile, 'utf8')).layers.deps.artifacts['arm64+x86_64'].packages
    expect(Object.fromEntries(Object.entries(packages as Record<string, {license: string}>).map(([key, pkg]) => [key, pkg.license]))).toEqual({
      'node_modules/app': 'MIT',
      'node_modules/bare': 'NOASSERTION',
      'node_modules/dual': 'MIT OR GPL-3.0-only',
      'node_modules/gpl-lib': 'GPL-3.0-only',
      'node_modules/mid': 'ISC',
    })
    const locked = readFileSync(lockfile, 'utf8')
    const again = await p.cli(['lock', '--json'])
    expect(again.json).toMatchObject({written: false, upToDate: true})
    expect(readFileSync(lockfile, 'utf8')).toBe(locked)

    // A lock from before licences cannot be checked: stale under a policy (nothing to refuse yet).
    await p.write('layers.yaml', manifestWith(LAYERS, POLICY))
    const old = JSON.parse(locked)
    for (const pkg of Object.values(old.layers.deps.artifacts['arm64+x86_64'].packages as Record<string, {license?: string}>)) delete pkg.license
    writeFileSync(lockfile, JSON.stringify(old, null, 2) + '\n')
    const stale = await p.cli(['validate', '--json'])
    expect(stale.status).toBe(0)
    expect(stale.json.lock).toMatchObject({state: 'stale', stale: ['deps'], licensesMissing: ['deps']})

    // lock resolves the layer again for its licences, finds the denied one and writes nothing.
    const before = readFileSync(lockfile, 'utf8')
    const refused = await p.cli(['lock', '--json'])
    expect(refused.status).toBe(2)
    const error = refused.json.error
    expect(error.code).toBe('ERR_LAYERS_LICENSE_DENIED')
    const line = manifestWith(LAYERS, POLICY).split('\n').findIndex((text) => text.includes('- GPL-3.0-only')) + 1
    expect(error.message).toContain(
      `Layer deps: gpl-lib@2.0.0 at node_modules/gpl-lib, via app@1.0.0 > mid@1.0.0 > gpl-lib@2.0.0 is licensed "GPL-3.0-only", denied by settings.licenses.deny[1] "GPL-3.0-only" (${path.join(p.dir, 'layers.yaml')}:${line}:9)`,
    )
    expect(error.message).toContain('nothing was written')
    // The OR licence has an allowed choice: only one violation.
    expect(error.problems).toHaveLength(1)
    expect(error.location).toBe(`${path.join(p.dir, 'layers.yaml')}:${line}:9`)
    expect(readFileSync(lockfile, 'utf8')).toBe(before)

    // validate refuses the same on a lock that holds it.
    writeFileSync(lockfile, locked)
    const validated = await p.cli(['validate', '--json'])
    expect(validated.status).toBe(2)
    expect(validated.json.error.code).toBe('ERR_LAYERS_LICENSE_DENIED')
    expect(validated.json.error.details.violations).toEqual([
      {
        layer: 'deps',
        artifacts: ['arm64+x86_64'],
        path: 'node_modules/gpl-lib',
        name: 'gpl-lib',
        version: '2.0.0',
        license: 'GPL-3.0-only',
        status: 'denied',
        breaks: [{list: 'deny', index: 1, entry: 'GPL-3.0-only', location: {file: path.join(p.dir, 'layers.yaml'), line, column: 9}}],
        chain: ['app@1.0.0', 'mid@1.0.0', 'gpl-lib@2.0.0'],
      },
    ])

    const report = await p.cli(['licenses', '--json'])
    expect(report.status).toBe(0)
    expect(report.json).toMatchObject({policy: {deny: ['AGPL-3.0-only', 'GPL-3.0-only']}, violations: 1, unknown: 0})
    expect(report.json.layers[0].licenses).toEqual([
      {license: 'GPL-3.0-only', packages: 1, status: 'denied'},
      {license: 'ISC', packages: 1, status: 'allowed'},
      {license: 'MIT', packages: 1, status: 'allowed'},
      {license: 'MIT OR GPL-3.0-only', packages: 1, status: 'allowed'},
      {license: 'NOASSERTION', packages: 1, status: 'allowed'},
    ])
  })
})
