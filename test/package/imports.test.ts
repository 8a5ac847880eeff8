// Unit tests of the import check's pure parts: the parser (what counts as an import) and the
// resolver (builtins, own files, layers in order, exports, AWS SDK, subpath imports).
import {describe, expect, it} from 'vitest'
import {handlerProblems, moduleFormat} from '../../src/imports/check.js'
import {findImports, ParseFailure} from '../../src/imports/parse.js'
import {findInLayers, resolveImport, searchDirsFor, type ResolveContext} from '../../src/imports/resolve.js'
import {packageNameOf, packagesFromPaths, type LayerView} from '../../src/imports/views.js'

describe('findImports', () => {
  it('finds static, re-exported, dynamic literal and require imports with their positions', () => {
    const code = [
      "import a from 'a'",
      "import {b} from \"b/sub\"",
      "export {c} from 'c'",
      "export * from './d.js'",
      'const e = await import(`e`)',
      "const f = require('f')",
      "const g = require.resolve('g')",
      'const h = require(name)',
      'const i = import(`i/${x}`)',
      "// require('commented')",
      "const s = \"require('in-a-string')\"",
      "import type from 'type'",
    ].join('\n')
    const parsed = findImports(code, 'module')
    expect(parsed.imports.map((found) => [found.specifier, found.kind, found.line, found.column])).toEqual([
      ['a', 'import', 1, 15],
      ['b/sub', 'import', 2, 17],
      ['c', 'export', 3, 17],
      ['./d.js', 'export', 4, 15],
      ['e', 'dynamic', 5, 24],
      ['f', 'require', 6, 19],
      ['g', 'require', 7, 27],
      ['type', 'import', 12, 18],
    ])
    expect(parsed.dynamicUnchecked).toBe(2)
  })

  it('parses CommonJS with a top-level return and a hashbang, and reports syntax errors with a position', () => {
    expect(findImports("#!/usr/bin/env node\nif (x) return\nrequire('y')\n", 'commonjs').imports).toEqual([{specifier: 'y', kind: 'require', line: 3, column: 9}])
    expect(() => findImports("import x from 'x'", 'commonjs')).toThrow(ParseFailure)
    expect(() => findImports('const = 1', 'module')).toThrow(expect.objectContaining({line: 1, column: 7}))
  })

  it('lists what a module exports, and whether the list is complete', () => {
    const esm = ['export const a = 1, {b, c: [d]} = x', 'export function e() {}', 'export class F {}', 'const g = 1', "export {g as h, g as 'i j'}", 'export default 1', "export * as ns from './n.js'"].join('\n')
    expect(findImports(esm, 'module').exports).toEqual({names: ['F', 'a', 'b', 'd', 'default', 'e', 'h', 'i j', 'ns'], complete: true})
    expect(findImports("export * from './x.js'\nexport const a = 1", 'module').exports).toEqual({names: ['a'], complete: false})
    const cjs = ["exports.a = 1", "module.exports.b = 2", "exports['c'] = 3", "Object.defineProperty(exports, 'd', {value: 4})", 'function later() { exports.e = 5 }'].join('\n')
    expect(findImports(cjs, 'commonjs').exports).toEqual({names: ['a', 'b', 'c', 'd', 'e'], complete: true})
    expect(findImports('module.exports = {handler, other: 1}', 'commonjs').exports).toEqual({names: ['handler', 'other'], complete: true})
    expect(findImports('module.exports = makeHandler()', 'commonjs').exports.complete).toBe(false)
    expect(findImports('exports[name] = 1', 'commonjs').exports.complete).toBe(false)
    expect(findImports('Object.assign(module.exports, x)', 'commonjs').exports.complete).toBe(false)
  })

  it('checks that the handler file exists and exports the handler', () => {
    const fn = (handler: string) => ({key: 'api', name: 'api', source: '/x', handler, runtime: 'nodejs20.x', architecture: 'x86_64' as const, layers: [], accounts: [], exclude: []})
    const files = new Set(['src/index.mjs', 'legacy.cjs', 'index.js'])
    const exported = new Map([['src/index.mjs', {names: ['handler'], complete: true}], ['legacy.cjs', {names: [], complete: false}], ['index.js', {names: ['main'], complete: true}]])
    expect(handlerProblems(fn('src/index.handler'), files, exported)).toEqual([])
    expect(handlerProblems(fn('src/index.handler.nested'), files, exported)).toEqual([])
    expect(handlerProblems(fn('legacy.anything'), files, exported)).toEqual([])
    expect(handlerProblems(fn('index.handler'), files, exported)).toEqual([expect.objectContaining({code: 'ERR_LAYERS_HANDLER_NOT_EXPORTED', message: expect.stringContaining('index.js does not export handler (it exports main)')})])
    expect(handlerProblems(fn('app.handler'), files, exported)).toEqual([expect.objectContaining({code: 'ERR_LAYERS_HANDLER_MISSING'})])
    expect(handlerProblems(fn('index'), files, exported)).toEqual([expect.objectContaining({code: 'ERR_LAYERS_HANDLER_MALFORMED'})])
  })

  it('decides the module format by extension, then the nearest package.json type', () => {
    const jsons = new Map([['', {type: 'module'}], ['legacy', {}]])
    expect(moduleFormat('a.mjs', new Map())).toBe('module')
    expect(moduleFormat('a.cjs', jsons)).toBe('commonjs')
    expect(moduleFormat('src/a.js', jsons)).toBe('module')
    expect(moduleFormat('legacy/deep/a.js', jsons)).toBe('commonjs')
    expect(moduleFormat('a.js', new Map())).toBe('commonjs')
  })
})

function view(layer: string, paths: string[], jsons: Record<string, object> = {}, source: LayerView['source'] = 'zip'): LayerView {
  return {
    layer,
    kind: 'dir',
    source,
    packages: packagesFromPaths(paths).map((pkg) => {
      const json = jsons[pkg.dir] as {version?: string} | undefined
      return json ? {...pkg, packageJson: json, version: json.version} : pkg
    }),
  }
}

function context(overrides: Partial<ResolveContext> = {}): ResolveContext {
  return {
    functionKey: 'api',
    runtime: 'nodejs20.x',
    ownFiles: new Set(['index.js', 'lib/util.js', 'lib/data.json', 'esm/x.mjs', 'pkg/package.json', 'pkg/main.js']),
    ownPackageJsons: new Map([['', {imports: {'#util': './lib/util.js', '#dep': 'lodash', '#gone': './lib/missing.js'}}], ['pkg', {main: 'main.js'}]]),
    views: [],
    otherViews: [],
    hostNodeMajor: 20,
    ...overrides,
  }
}

const imp = (specifier: string, kind: 'import' | 'require' | 'dynamic' | 'export' = 'require') => ({specifier, kind, line: 1, column: 1})

describe('resolveImport', () => {
  it('accepts builtins with and without node:, and rejects an unknown node: module', () => {
    expect(resolveImport(context(), 'index.js', 'commonjs', imp('fs')).resolution).toEqual({kind: 'builtin'})
    expect(resolveImport(context(), 'index.js', 'commonjs', imp('node:test')).resolution).toEqual({kind: 'builtin'})
    expect(resolveImport(context(), 'index.js', 'commonjs', imp('node:nope')).problems).toEqual([expect.objectContaining({severity: 'error', code: 'ERR_LAYERS_IMPORT_UNRESOLVED'})])
    // A newer runtime may have builtins this Node.js does not: a warning, not an error.
    expect(resolveImport(context({runtime: 'nodejs24.x'}), 'index.js', 'commonjs', imp('node:nope')).problems).toEqual([expect.objectContaining({severity: 'warning'})])
  })

  it('resolves own files as CommonJS or ESM would, and refuses paths leaving the package', () => {
    const ctx = context()
    expect(resolveImport(ctx, 'index.js', 'commonjs', imp('./lib/util')).resolution).toEqual({kind: 'own', file: 'lib/util.js'})
    expect(resolveImport(ctx, 'lib/util.js', 'commonjs', imp('./data')).resolution).toEqual({kind: 'own', file: 'lib/data.json'})
    expect(resolveImport(ctx, 'index.js', 'commonjs', imp('./pkg')).resolution).toEqual({kind: 'own', file: 'pkg/main.js'})
    const esm = resolveImport(ctx, 'esm/x.mjs', 'module', imp('../lib/util', 'import'))
    expect(esm.problems).toEqual([expect.objectContaining({code: 'ERR_LAYERS_IMPORT_FILE_MISSING', hint: 'ES modules need the full file name, extension included.'})])
    expect(resolveImport(ctx, 'esm/x.mjs', 'module', imp('../lib/util.js', 'import')).problems).toEqual([])
    expect(resolveImport(ctx, 'index.js', 'commonjs', imp('../secret')).problems).toEqual([expect.objectContaining({code: 'ERR_LAYERS_IMPORT_OUTSIDE'})])
    // CommonJS also finds /var/task paths through NODE_PATH; ES modules do not.
    expect(resolveImport(ctx, 'index.js', 'commonjs', imp('lib/util')).resolution).toEqual({kind: 'own', file: 'lib/util.js'})
    expect(resolveImport(ctx, 'esm/x.mjs', 'module', imp('lib/util.js', 'import')).resolution).toEqual({kind: 'unresolved'})
    // import() is ES module resolution even in a CommonJS file: exact names, no /var/task lookup.
    expect(resolveImport(ctx, 'index.js', 'commonjs', imp('./lib/util', 'dynamic')).problems).toEqual([expect.objectContaining({code: 'ERR_LAYERS_IMPORT_FILE_MISSING'})])
    expect(resolveImport(ctx, 'index.js', 'commonjs', imp('./lib/util.js', 'dynamic')).problems).toEqual([])
    expect(resolveImport(ctx, 'index.js', 'commonjs', imp('lib/util', 'dynamic')).resolution).toEqual({kind: 'unresolved'})
  })

  it('resolves subpath imports through the package.json imports map', () => {
    const ctx = context({views: [view('deps', ['nodejs/node_modules/lodash/index.js'])]})
    expect(resolveImport(ctx, 'index.js', 'commonjs', imp('#util')).resolution).toEqual({kind: 'own', file: 'lib/util.js'})
    expect(resolveImport(ctx, 'index.js', 'commonjs', imp('#dep')).resolution).toMatchObject({kind: 'layer', layer: 'deps'})
    expect(resolveImport(ctx, 'index.js', 'commonjs', imp('#gone')).problems).toEqual([expect.objectContaining({code: 'ERR_LAYERS_IMPORT_FILE_MISSING'})])
    expect(resolveImport(ctx, 'index.js', 'commonjs', imp('#none')).problems).toEqual([expect.objectContaining({code: 'ERR_LAYERS_IMPORT_UNRESOLVED'})])
  })

  it('takes a package from the last layer holding it, the runtime-specific directory first', () => {
    const first = view('first', ['nodejs/node_modules/x/index.js', 'nodejs/node_modules/y/index.js'])
    const second = view('second', ['nodejs/node_modules/x/index.js', 'nodejs/node20/node_modules/y/index.js'])
    expect(searchDirsFor('nodejs20.x')).toEqual(['nodejs/node20/node_modules', 'nodejs/node_modules'])
    expect(findInLayers([first, second], 'nodejs20.x', 'x')).toMatchObject({view: {layer: 'second'}, shadowed: ['first']})
    expect(findInLayers([second, first], 'nodejs20.x', 'x')).toMatchObject({view: {layer: 'first'}, shadowed: ['second']})
    expect(findInLayers([second, first], 'nodejs20.x', 'y')).toMatchObject({view: {layer: 'second'}, pkg: {searchDir: 'nodejs/node20/node_modules'}})
    expect(findInLayers([first, second], 'nodejs22.x', 'y')).toMatchObject({view: {layer: 'first'}})
  })

  it('checks subpaths against exports (conditions by import kind) and the files the layer holds', () => {
    const exportsMap = {'.': {import: './esm/index.mjs', require: './cjs/index.js'}, './feature/*': './lib/features/*.js', './private/*': null}
    const deps = view(
      'deps',
      ['nodejs/node_modules/pkg/package.json', 'nodejs/node_modules/pkg/esm/index.mjs', 'nodejs/node_modules/pkg/cjs/index.js', 'nodejs/node_modules/pkg/lib/features/a.js', 'nodejs/node_modules/pkg/lib/features/pruned.txt'],
      {'nodejs/node_modules/pkg': {name: 'pkg', version: '1.0.0', exports: exportsMap}},
    )
    const ctx = context({views: [deps]})
    expect(resolveImport(ctx, 'index.js', 'commonjs', imp('pkg')).problems).toEqual([])
    expect(resolveImport(ctx, 'x.mjs', 'module', imp('pkg', 'import')).problems).toEqual([])
    expect(resolveImport(ctx, 'index.js', 'commonjs', imp('pkg/feature/a')).problems).toEqual([])
    expect(resolveImport(ctx, 'index.js', 'commonjs', imp('pkg/feature/b')).problems).toEqual([expect.objectContaining({code: 'ERR_LAYERS_IMPORT_FILE_MISSING', message: expect.stringContaining('nodejs/node_modules/pkg/lib/features/b.js')})])
    expect(resolveImport(ctx, 'index.js', 'commonjs', imp('pkg/private/x')).problems).toEqual([expect.objectContaining({code: 'ERR_LAYERS_IMPORT_NOT_EXPORTED', hint: expect.stringContaining('./feature/*')})])
    expect(resolveImport(ctx, 'index.js', 'commonjs', imp('pkg/lib/features/a.js')).problems).toEqual([expect.objectContaining({code: 'ERR_LAYERS_IMPORT_NOT_EXPORTED'})])
    // Without exports, any file of the package can be loaded (CommonJS adds extensions).
    const plain = view('plain', ['nodejs/node_modules/old/package.json', 'nodejs/node_modules/old/main.js', 'nodejs/node_modules/old/lib/x.js'], {'nodejs/node_modules/old': {name: 'old', version: '0.1.0', main: 'main.js'}})
    const plainCtx = context({views: [plain]})
    expect(resolveImport(plainCtx, 'index.js', 'commonjs', imp('old')).problems).toEqual([])
    expect(resolveImport(plainCtx, 'index.js', 'commonjs', imp('old/lib/x')).problems).toEqual([])
    expect(resolveImport(plainCtx, 'x.mjs', 'module', imp('old/lib/x', 'import')).problems).toEqual([expect.objectContaining({code: 'ERR_LAYERS_IMPORT_FILE_MISSING'})])
    expect(resolveImport(plainCtx, 'x.mjs', 'module', imp('old', 'import')).problems).toEqual([])
    // An exports target is an exact path for both loaders.
    const inexact = view('inexact', ['nodejs/node_modules/ix/package.json', 'nodejs/node_modules/ix/lib/a.js'], {'nodejs/node_modules/ix': {name: 'ix', version: '1.0.0', exports: {'./a': './lib/a'}}})
    expect(resolveImport(context({views: [inexact]}), 'index.js', 'commonjs', imp('ix/a')).problems).toEqual([expect.objectContaining({code: 'ERR_LAYERS_IMPORT_FILE_MISSING'})])
    // From the lock only (layer not built): the package is there, the subpath cannot be checked.
    const locked: LayerView = {layer: 'deps', kind: 'npm', source: 'lock', packages: [{name: 'pkg', dir: 'nodejs/node_modules/pkg', searchDir: 'nodejs/node_modules', version: '1.0.0'}]}
    expect(resolveImport(context({views: [locked]}), 'index.js', 'commonjs', imp('pkg/any')).problems).toEqual([expect.objectContaining({severity: 'warning', code: 'ERR_LAYERS_IMPORT_EXPORTS_UNCHECKED'})])
  })

  it('treats the AWS SDK v3 as the runtime’s on nodejs18.x+ (warning), an error before, and a layer’s copy first', () => {
    expect(resolveImport(context(), 'index.js', 'commonjs', imp('@aws-sdk/client-s3')).problems).toEqual([expect.objectContaining({severity: 'warning', code: 'ERR_LAYERS_IMPORT_RUNTIME_SDK'})])
    expect(resolveImport(context({runtime: 'nodejs16.x'}), 'index.js', 'commonjs', imp('@aws-sdk/client-s3')).problems).toEqual([expect.objectContaining({severity: 'error', message: expect.stringContaining('does not provide the AWS SDK v3')})])
    expect(resolveImport(context({runtime: 'provided.al2023'}), 'index.js', 'commonjs', imp('@aws-sdk/client-s3')).problems).toEqual([expect.objectContaining({severity: 'error'})])
    const pinned = view('sdk', ['nodejs/node_modules/@aws-sdk/client-s3/index.js'])
    expect(resolveImport(context({views: [pinned]}), 'index.js', 'commonjs', imp('@aws-sdk/client-s3')).resolution).toMatchObject({kind: 'layer', layer: 'sdk'})
  })

  it('names the manifest layer that could provide a missing package, and downgrades to a warning behind an ARN layer', () => {
    const other = view('utils', ['nodejs/node_modules/lodash/index.js'])
    const missing = resolveImport(context({otherViews: [other], views: [view('deps', [])]}), 'index.js', 'commonjs', imp('lodash/fp'))
    expect(missing.problems).toEqual([expect.objectContaining({severity: 'error', code: 'ERR_LAYERS_IMPORT_UNRESOLVED', message: expect.stringContaining('its layers (deps)'), hint: 'Layer utils provides it: add it to functions.api.layers.'})])
    const arn: LayerView = {layer: 'vendor', kind: 'arn', source: 'none', packages: []}
    expect(resolveImport(context({views: [arn]}), 'index.js', 'commonjs', imp('lodash')).problems).toEqual([expect.objectContaining({severity: 'warning', code: 'ERR_LAYERS_IMPORT_UNVERIFIED'})])
  })

  it('says of a workspace package which layer carries it, or that none does and how to add it', () => {
    const workspaces = new Map([['@acme/a', 'packages/a'], ['@acme/c', 'packages/c']])
    const carried = view('shared', ['nodejs/node_modules/@acme/a/index.js'])
    expect(resolveImport(context({views: [carried], workspaces}), 'index.js', 'commonjs', imp('@acme/a')).resolution).toMatchObject({kind: 'layer', layer: 'shared'})
    const elsewhere = resolveImport(context({views: [view('deps', [])], otherViews: [carried], workspaces}), 'index.js', 'commonjs', imp('@acme/a'))
    expect(elsewhere.problems).toEqual([
      expect.objectContaining({
        severity: 'error',
        code: 'ERR_LAYERS_IMPORT_UNRESOLVED',
        message: expect.stringContaining('(it is the workspace package @acme/a, packages/a, which none of them carries)'),
        hint: 'Layer shared carries the workspace package @acme/a: add it to functions.api.layers.',
      }),
    ])
    const nowhere = resolveImport(context({views: [carried], workspaces}), 'index.js', 'commonjs', imp('@acme/c/sub'))
    expect(nowhere.problems).toEqual([expect.objectContaining({code: 'ERR_LAYERS_IMPORT_UNRESOLVED', hint: expect.stringContaining('No layer in the manifest carries the workspace package @acme/c (packages/c): add "@acme/c": "workspace:*" to the npm dependencies of a layer of function api')})])
    // A registry package keeps the registry wording.
    expect(resolveImport(context({workspaces}), 'index.js', 'commonjs', imp('lodash')).problems[0]!.hint).toContain('No layer in the manifest provides it')
  })

  it('splits package names and subpaths', () => {
    expect(packageNameOf('a')).toEqual({name: 'a', subpath: '.'})
    expect(packageNameOf('a/b/c')).toEqual({name: 'a', subpath: './b/c'})
    expect(packageNameOf('@s/a')).toEqual({name: '@s/a', subpath: '.'})
    expect(packageNameOf('@s/a/b')).toEqual({name: '@s/a', subpath: './b'})
  })
})
