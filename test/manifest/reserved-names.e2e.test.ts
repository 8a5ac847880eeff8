// Names every JavaScript object inherits, through the built CLI: `validate` and `lock` on a manifest
// declaring them exit 2 naming each at its file:line:column (lock crashed in its lockfile diff), a
// lockfile holding one as a key is refused the same way, `prototype` (not inherited) locks, and one
// typed on the command line (size, sbom, build) is an unknown name.
import {mkdir, mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {existsSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {runCli} from '../support/cli.js'

const HOSTILE = `version: 1
settings:
  regions: [eu-west-1]
accounts:
  constructor:
    id: "111111111111"
layers:
  __proto__:
    dir: cfg
  toString:
    dir: cfg
functions:
  valueOf:
    source: fn
    handler: index.handler
    runtime: nodejs22.x
    accounts: [constructor]
    layers: [__proto__, toString]
`

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'layers-reserved-e2e-'))
  await mkdir(path.join(dir, 'cfg'))
  await mkdir(path.join(dir, 'fn'))
  await writeFile(path.join(dir, 'cfg', 'settings.json'), '{}\n')
  await writeFile(path.join(dir, 'fn', 'index.js'), 'exports.handler = async () => 1\n')
})
afterAll(async () => {
  if (dir) await rm(dir, {recursive: true, force: true})
})

const env = (): NodeJS.ProcessEnv => ({HOME: dir, CI: 'true'})

describe('reserved names through the CLI', () => {
  it('validate and lock refuse them with exit 2 at file:line:column, writing no lockfile', async () => {
    await writeFile(path.join(dir, 'layers.yaml'), HOSTILE)
    for (const command of ['validate', 'lock']) {
      const result = await runCli([command, '--json'], {cwd: dir, env: env()})
      expect(result.code, result.stderr).toBe(2)
      expect(result.json.error.code).toBe('ERR_LAYERS_MANIFEST_INVALID')
      const reserved = (result.json.error.problems as Array<{code: string; message: string; location: string}>).filter((problem) => problem.code === 'ERR_LAYERS_MANIFEST_RESERVED_NAME')
      expect(reserved.map((problem) => [problem.location, problem.message.split(':')[0]])).toEqual([
        [`${path.join(dir, 'layers.yaml')}:5:3`, 'accounts.constructor'],
        [`${path.join(dir, 'layers.yaml')}:8:3`, 'layers.__proto__'],
        [`${path.join(dir, 'layers.yaml')}:10:3`, 'layers.toString'],
        [`${path.join(dir, 'layers.yaml')}:13:3`, 'functions.valueOf'],
      ])
    }
    expect(existsSync(path.join(dir, 'lockfile.json'))).toBe(false)
  })

  it('lock refuses a lockfile keyed by one, and locks a layer named prototype', async () => {
    await writeFile(path.join(dir, 'layers.yaml'), 'version: 1\nsettings:\n  regions: [eu-west-1]\nlayers:\n  prototype:\n    dir: cfg\n')
    const locked = await runCli(['lock', '--json'], {cwd: dir, env: env()})
    expect(locked.code, locked.stderr).toBe(0)
    const file = path.join(dir, 'lockfile.json')
    const lock = JSON.parse(await readFile(file, 'utf8')) as {layers: Record<string, unknown>}
    expect(Object.keys(lock.layers)).toEqual(['prototype'])
    // Names typed on the command line are looked up as own entries, not inherited properties.
    for (const [command, code] of [['size', 'ERR_LAYERS_UNKNOWN_NAME'], ['sbom', 'ERR_LAYERS_SBOM_LAYER'], ['build', 'ERR_LAYERS_UNKNOWN_LAYER']]) {
      const typed = await runCli([command!, 'toString', '--json'], {cwd: dir, env: env()})
      expect([command, typed.code, typed.json?.error?.code]).toEqual([command, 2, code])
    }
    // As a hand edit would: a second layer keyed "__proto__" (JSON.parse keeps it as an own key).
    const text = await readFile(file, 'utf8')
    await writeFile(file, text.replace('"layers": {', `"layers": {\n    "__proto__": ${JSON.stringify(lock.layers.prototype)},`))
    const result = await runCli(['lock', '--json'], {cwd: dir, env: env()})
    expect(result.code, result.stderr).toBe(2)
    expect(result.json.error).toMatchObject({code: 'ERR_LAYERS_LOCKFILE_CORRUPT', message: expect.stringContaining('layers.__proto__ has a reserved name: "__proto__" is a property every JavaScript object inherits')})
    expect(result.json.error.location).toBe(`${file}:4:18`)
  })
})
