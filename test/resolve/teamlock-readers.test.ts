// The team-lockfile readers on their own (pure: text in, pinned graph out): the shapes real lockfiles
// take that the end-to-end tests do not cover (pnpm peer suffixes and aliases, yarn berry patch
// resolutions, npm nested lookups), and the lockfiles they refuse with the file named.
import {describe, expect, it} from 'vitest'
import {UserInputError} from '../../src/errors/index.js'
import {readNpmLock} from '../../src/resolve/teamlock/npm.js'
import {readPnpmLock} from '../../src/resolve/teamlock/pnpm.js'
import {readYarnLock} from '../../src/resolve/teamlock/yarn.js'

const SHA = `sha512-${'A'.repeat(86)}==`

function refused(read: () => unknown): UserInputError {
  try {
    read()
  } catch (error) {
    expect(error).toBeInstanceOf(UserInputError)
    return error as UserInputError
  }
  throw new Error('read without an error')
}

describe('team lockfile readers', () => {
  it('npm: resolves each dependency from the folder that needs it up to the root', () => {
    const graph = readNpmLock(
      JSON.stringify({
        lockfileVersion: 3,
        packages: {
          '': {dependencies: {a: '^1.0.0', b: '^1.0.0'}},
          'node_modules/a': {version: '1.0.0', integrity: SHA, dependencies: {b: '^2.0.0'}},
          'node_modules/a/node_modules/b': {version: '2.0.0', integrity: SHA},
          'node_modules/b': {version: '1.0.0', integrity: SHA},
          'node_modules/alias': {name: 'real', version: '3.0.0', integrity: SHA},
        },
      }),
      {file: 'package-lock.json', importer: '', dependencies: {a: '^1.0.0', b: '^1.0.0', alias: 'npm:real@^3.0.0'}},
    )
    expect(Object.fromEntries(graph.root)).toEqual({a: 'a@1.0.0', b: 'b@1.0.0', alias: 'real@3.0.0'})
    expect(graph.packages.get('a@1.0.0')!.dependencies.get('b')).toEqual(['b@2.0.0'])
  })

  it('pnpm: drops peer suffixes and follows aliases (v9 and v6 spellings)', () => {
    const v9 = readPnpmLock(
      ["lockfileVersion: '9.0'", 'importers:', '  .:', '    dependencies:', '      x: {specifier: ^1.0.0, version: 1.0.0(react@18.0.0)}', '      y: {specifier: npm:real@^2, version: real@2.0.0}', '      z: {specifier: workspace:*, version: link:../z}', 'packages:', '  x@1.0.0:', `    resolution: {integrity: ${SHA}}`, 'snapshots:', '  x@1.0.0(react@18.0.0):', '    dependencies:', '      react: 18.0.0', ''].join('\n'),
      {file: 'pnpm-lock.yaml', importer: '', dependencies: {x: '^1.0.0', y: 'npm:real@^2', z: 'workspace:*'}},
    )
    expect(Object.fromEntries(v9.root)).toEqual({x: 'x@1.0.0', y: 'real@2.0.0', z: 'link:../z'})
    expect(v9.packages.get('x@1.0.0')).toMatchObject({integrity: SHA})
    expect(v9.packages.get('x@1.0.0')!.dependencies.get('react')).toEqual(['react@18.0.0'])
    const v6 = readPnpmLock(["lockfileVersion: '6.0'", 'dependencies:', '  y: {specifier: npm:real@^2, version: /real@2.0.0}', ''].join('\n'), {file: 'pnpm-lock.yaml', importer: '', dependencies: {y: 'npm:real@^2'}})
    expect(v6.root.get('y')).toBe('real@2.0.0')
  })

  it('yarn berry: a patch resolution pins the package version, descriptors without a protocol are npm:', () => {
    const graph = readYarnLock(
      ['__metadata:', '  version: 8', '', '"resolve@npm:^1.20.0":', '  version: 1.22.8', '  resolution: "resolve@npm:1.22.8"', '', '"resolve@patch:resolve@npm%3A^1.20.0#~builtin<compat/resolve>":', '  version: 1.22.8', '  resolution: "resolve@patch:resolve@npm%3A1.22.8#~builtin<compat/resolve>::version=1.22.8&hash=c3c19d"', ''].join('\n'),
      {file: 'yarn.lock', importer: '', dependencies: {resolve: '^1.20.0'}},
    )
    expect(graph.root.get('resolve')).toBe('resolve@1.22.8')
    expect(graph.packages.get('resolve@1.22.8')?.integrity).toBeUndefined()
  })

  it.each([
    ['npm lockfileVersion 1', () => readNpmLock(JSON.stringify({lockfileVersion: 1, dependencies: {}}), {file: 'package-lock.json', importer: '', dependencies: {}}), /lockfileVersion 1/],
    ['npm without the package as a workspace', () => readNpmLock(JSON.stringify({lockfileVersion: 3, packages: {'': {}}}), {file: 'package-lock.json', importer: 'packages/x', dependencies: {}}), /no entry for the package at "packages\/x"/],
    ['npm that is not JSON', () => readNpmLock('{', {file: 'package-lock.json', importer: '', dependencies: {}}), /is not JSON/],
    ['pnpm lockfileVersion 5.4', () => readPnpmLock("lockfileVersion: 5.4\n", {file: 'pnpm-lock.yaml', importer: '', dependencies: {}}), /lockfileVersion 5.4/],
    ['pnpm with YAML aliases (an alias bomb)', () => readPnpmLock("lockfileVersion: '9.0'\na: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\n", {file: 'pnpm-lock.yaml', importer: '', dependencies: {}}), /is not YAML/],
    ['pnpm with duplicate keys', () => readPnpmLock("lockfileVersion: '9.0'\nimporters: {}\nimporters: {}\n", {file: 'pnpm-lock.yaml', importer: '', dependencies: {}}), /is not YAML/],
    ['a yarn.lock of neither format', () => readYarnLock('hello: world\n', {file: 'yarn.lock', importer: '', dependencies: {}}), /neither a Yarn classic/],
  ])('refuses %s naming the file', (_label, read, message) => {
    const error = refused(read)
    expect(error.code).toBe('ERR_LAYERS_TEAM_LOCKFILE_INVALID')
    expect(error.message).toMatch(message)
    expect(error.details.lockfile).toMatch(/^(package-lock\.json|pnpm-lock\.yaml|yarn\.lock)$/)
  })
})
