import {describe, expect, it} from 'vitest'
import {createPruner, entryPointsOf, splitInnerPackage} from '../../src/build/prune.js'

const zip = (pkgPath: string): [string, string] => [`nodejs/node_modules/pkg/${pkgPath}`, pkgPath]

describe('default prune list', () => {
  const pruner = createPruner({exclude: [], defaultExcludes: true})
  const excluded = (pkgPath: string, entryPoint = false): boolean => pruner.excluded(...zip(pkgPath), entryPoint)

  it('prunes tests, docs, prose, maps, declarations and tool configs', () => {
    for (const file of [
      'test/index.js',
      'tests/a.js',
      '__tests__/a.js',
      'lib/__tests__/a.js',
      'lib/__mocks__/fs.js',
      'docs/api.html',
      'example/run.js',
      'examples/a/b.js',
      'benchmark/x.js',
      'coverage/lcov.info',
      '.github/workflows/ci.yml',
      'lib/.github/x',
      'README.md',
      'lib/readme.MD',
      'CHANGELOG',
      'HISTORY.txt',
      'dist/index.js.map',
      'dist/index.d.ts',
      'dist/index.d.mts',
      'dist/index.d.cts',
      'tsconfig.json',
      'tsconfig.build.json',
      '.eslintrc.json',
      '.eslintrc',
      '.travis.yml',
      '.editorconfig',
      '.npmignore',
      'jest.config.js',
    ]) {
      expect(excluded(file), file).toBe(true)
    }
  })

  it('keeps runtime files, licences, package.json and nested dirs that only look like docs or tests', () => {
    for (const file of [
      'index.js',
      'package.json',
      'lib/package.json',
      'LICENSE',
      'LICENSE.md',
      'LICENCE.txt',
      'license',
      'COPYING',
      'NOTICE.md',
      'dist/doc/Document.js', // yaml loads dist/doc/* at run time
      'lib/test/helpers.js',
      'lib/examples.js',
      'lib/index.ts',
      'data/schema.json',
      'build/Release/sharp.node',
      'lib/types.js',
    ]) {
      expect(excluded(file), file).toBe(false)
    }
  })

  it('never prunes an entry point by default', () => {
    expect(excluded('docs/main.js')).toBe(true)
    expect(excluded('docs/main.js', true)).toBe(false)
  })
})

describe('manifest exclude globs', () => {
  it('extend the defaults on zip paths, `!` keeps a file, and defaultExcludes: false turns the defaults off', () => {
    const pruner = createPruner({exclude: ['**/*.txt', 'nodejs/node_modules/big/**', '!**/keep.txt', '!nodejs/node_modules/pkg/README.md'], defaultExcludes: true})
    expect(pruner.excluded(...zip('notes.txt'))).toBe(true)
    expect(pruner.excluded(...zip('a/keep.txt'))).toBe(false)
    expect(pruner.excluded('nodejs/node_modules/big/index.js', 'index.js')).toBe(true)
    expect(pruner.excluded(...zip('README.md'))).toBe(false)
    expect(pruner.excluded(...zip('CHANGELOG.md'))).toBe(true)
    // An explicit exclude removes even an entry point: the user asked for it.
    expect(pruner.excluded('nodejs/node_modules/big/index.js', 'index.js', true)).toBe(true)

    const noDefaults = createPruner({exclude: ['**/*.map'], defaultExcludes: false})
    expect(noDefaults.excluded(...zip('README.md'))).toBe(false)
    expect(noDefaults.excluded(...zip('test/index.js'))).toBe(false)
    expect(noDefaults.excluded(...zip('index.js.map'))).toBe(true)
  })
})

describe('splitInnerPackage', () => {
  it('finds the innermost package of a path', () => {
    expect(splitInnerPackage('lib/x.js')).toEqual({dir: '', inner: 'lib/x.js'})
    expect(splitInnerPackage('node_modules/d/docs/main.js')).toEqual({dir: 'node_modules/d', inner: 'docs/main.js'})
    expect(splitInnerPackage('node_modules/@s/b/node_modules/c/test/x.js')).toEqual({dir: 'node_modules/@s/b/node_modules/c', inner: 'test/x.js'})
    expect(splitInnerPackage('nodejs/node_modules/test/index.js')).toEqual({dir: 'nodejs/node_modules/test', inner: 'index.js'})
  })
})

describe('entryPointsOf', () => {
  it('collects main, module, exports (without type declarations) and bin targets', () => {
    const points = entryPointsOf({
      main: './docs/main',
      module: 'esm/index.js',
      exports: {'.': {types: './index.d.ts', import: './esm/index.js', require: './cjs/index.cjs'}, './feature': './test/feature.js', './data/*': './data/*.json'},
      bin: {tool: './bin/tool.js'},
    })
    expect([...points]).toEqual(expect.arrayContaining(['docs/main', 'docs/main.js', 'docs/main/index.js', 'esm/index.js', 'cjs/index.cjs', 'test/feature.js', 'bin/tool.js']))
    expect(points.has('index.d.ts')).toBe(false)
    expect([...points].some((point) => point.includes('*'))).toBe(false)
    expect(entryPointsOf('nonsense').size).toBe(0)
    expect([...entryPointsOf({bin: 'cli.js'})]).toEqual(['cli.js'])
  })
})
