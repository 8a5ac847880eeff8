// A package whose name every JavaScript object inherits as a property (npm has a `constructor`):
// the registry's name, not one layers refuses. It locks, builds from the lockfile, and the lockfile
// reads back as current, with an override keyed by it too.
import {afterAll, beforeAll, expect, it} from 'vitest'
import {NpmRegistry} from '../support/npm-registry.js'
import {makeProject, manifestWith, type Project} from './cli.js'

let registry: NpmRegistry
let project: Project | undefined
beforeAll(async () => {
  registry = await NpmRegistry.start()
  registry.publish('constructor', {version: '1.0.0'}).publish('constructor', {version: '1.1.0'}).publish('uses-ctor', {version: '1.0.0', dependencies: {constructor: '^1.0.0'}})
})
afterAll(async () => {
  await project?.cleanup()
  await registry?.stop()
})

it('locks, builds and checks a layer depending on the npm package constructor', async () => {
  project = await makeProject(registry.url, manifestWith('  deps:\n    npm:\n      constructor: ^1.0.0\n      uses-ctor: ^1.0.0\n    overrides:\n      uses-ctor:\n        constructor: 1.0.0\n', 'runtimes: [nodejs20.x]'))
  const lock = await project.cli(['lock', '--json'])
  expect(lock.status, lock.stderr).toBe(0)
  expect(lock.json.layers).toEqual([expect.objectContaining({layer: 'deps', status: 'locked', artifacts: [expect.objectContaining({packages: 3})]})])
  const build = await project.cli(['build', '--json'])
  expect(build.status, build.stderr).toBe(0)
  const check = await project.cli(['lock', '--check', '--json'])
  expect(check.status, check.stderr).toBe(0)
  expect(check.json.upToDate).toBe(true)
})
