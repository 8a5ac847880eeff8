// When better-sqlite3's addon does not load (built for another Node.js after a switch of version, not
// loadable, or never built), opening the state database says so and how to rebuild it, instead of
// blaming the database file. better-sqlite3 is replaced by a stand-in whose constructor fails the way
// the real one does: Node's own dlopen error for a file that is no addon, Node's ABI-mismatch message,
// and the `bindings` package's message for a missing addon.
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it, vi} from 'vitest'
import {OperationalError} from '../../src/errors/index.js'

const failure = vi.hoisted(() => ({make: (): unknown => new Error('unset')}))
vi.mock('better-sqlite3', () => ({
  default: class {
    constructor() {
      throw failure.make()
    }
  },
}))
const {openStateDatabase} = await import('../../src/store/db.js')

const installedIn = path.dirname(path.dirname(path.dirname(createRequire(import.meta.url).resolve('better-sqlite3/package.json'))))
const rebuild = `Rebuild it for this Node.js: run \`npm rebuild better-sqlite3\` in ${installedIn} with this Node.js first on PATH`

let dir: string
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'layers-native-'))
})
afterAll(() => rmSync(dir, {recursive: true, force: true}))

function openError(): OperationalError {
  try {
    openStateDatabase(path.join(dir, '.layers'))
  } catch (error) {
    return error as OperationalError
  }
  throw new Error('openStateDatabase did not throw')
}

describe('the state database when better-sqlite3 does not load', () => {
  it('names the Node.js versions of a module built for another one, and says how to rebuild it', () => {
    const addon = '/srv/app/node_modules/better-sqlite3/build/Release/better_sqlite3.node'
    failure.make = () =>
      Object.assign(
        new Error(
          `The module '${addon}'\nwas compiled against a different Node.js version using\nNODE_MODULE_VERSION 137. This version of Node.js requires\nNODE_MODULE_VERSION ${process.versions.modules}. Please try re-compiling or re-installing\nthe module (for instance, using \`npm rebuild\` or \`npm install\`).`,
        ),
        {code: 'ERR_DLOPEN_FAILED'},
      )
    const error = openError()
    expect(error).toBeInstanceOf(OperationalError)
    expect(error.code).toBe('ERR_LAYERS_NATIVE_MODULE')
    expect(error.message).toContain(`Cannot open the state database ${path.join(dir, '.layers', 'state.db')}: better-sqlite3`)
    expect(error.message).toContain(`does not load on Node.js ${process.version} (NODE_MODULE_VERSION ${process.versions.modules}): it was built for another Node.js version (NODE_MODULE_VERSION 137).`)
    expect(error.hint).toContain(rebuild)
    expect(error.hint).not.toContain('move')
  })

  it('says the same for an addon that does not load at all (Node\'s own dlopen error)', () => {
    const notAnAddon = path.join(dir, 'better_sqlite3.node')
    writeFileSync(notAnAddon, 'not an ELF file\n')
    failure.make = () => {
      try {
        createRequire(import.meta.url)(notAnAddon)
      } catch (error) {
        return error
      }
      return new Error('loaded a text file as an addon')
    }
    const error = openError()
    expect(error.code).toBe('ERR_LAYERS_NATIVE_MODULE')
    expect(error.message).toMatch(/: its addon does not load \(.*better_sqlite3\.node: .+\)\.$/)
    expect(error.hint).toContain(rebuild)
  })

  it('says an addon that was never built needs the rebuild too', () => {
    failure.make = () => new Error('Could not locate the bindings file. Tried:\n → /srv/app/node_modules/better-sqlite3/build/better_sqlite3.node')
    const error = openError()
    expect(error.code).toBe('ERR_LAYERS_NATIVE_MODULE')
    expect(error.message).toMatch(/: its addon was never built \(installed with --ignore-scripts\?\)\.$/)
    expect(error.hint).toContain(rebuild)
  })

  it('still blames the database file for other failures', () => {
    failure.make = () => Object.assign(new Error('file is not a database'), {code: 'SQLITE_NOTADB'})
    const error = openError()
    expect(error.code).toBe('ERR_LAYERS_STATE_DB')
    expect(error.hint).toContain('move')
  })
})
