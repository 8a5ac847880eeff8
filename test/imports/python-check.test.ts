// Resolution of Python imports as Lambda's sys.path finds them: the function's own modules, its
// layers' top-level modules (from the file list and dist-info metadata), the runtime version's
// standard library, the runtime's boto3; relative imports within the function; the handler.
import {describe, expect, it} from 'vitest'
import type {FunctionSpec} from '../../src/manifest/types.js'
import {findPythonImports} from '../../src/imports/python-parse.js'
import {ownTopLevel, pythonHandlerProblems, pythonStdlib, relativeImportProblems, resolvePythonImport, type PythonResolveContext} from '../../src/imports/python-check.js'
import {addDistributionMetadata, modulesFromPaths, type PythonLayerView} from '../../src/imports/python-views.js'

function zipView(layer: string, paths: string[], metadata: Record<string, string> = {}): PythonLayerView {
  const roots = modulesFromPaths(paths)
  addDistributionMetadata(roots, new Map(Object.entries(metadata)))
  return {layer, kind: 'pip', source: 'zip', roots, distributions: []}
}

const deps = zipView(
  'deps',
  [
    'python/requests/__init__.py',
    'python/six.py',
    'python/_cffi_backend.cpython-312-x86_64-linux-gnu.so',
    'python/google/protobuf/__init__.py',
    'python/PyYAML-6.0.dist-info/RECORD',
    'python/bin/tool',
  ],
  {'python/PyYAML-6.0.dist-info/RECORD': 'yaml/__init__.py,sha256=x,1\n_yaml/__init__.py,sha256=y,2\nPyYAML-6.0.dist-info/METADATA,,\n../../bin/x,,\n', 'python/attrs-23.1.dist-info/top_level.txt': 'attr\nattrs\n'},
)
const site = zipView('site', ['python/lib/python3.12/site-packages/onlyin312/__init__.py', 'python/lib/python3.11/site-packages/onlyin311.py'])
const extra = zipView('extra', ['python/numpy/__init__.py'])

function context(views: PythonLayerView[], runtime = 'python3.12'): PythonResolveContext {
  return {functionKey: 'api', runtime, ownFiles: new Set(['app.py', 'lib/util.py']), views, otherViews: [extra]}
}

const resolve = (ctx: PythonResolveContext, module: string, options: {kind?: 'import' | 'from' | 'dynamic'; optional?: boolean} = {}) =>
  resolvePythonImport(ctx, {module, kind: options.kind ?? 'import', optional: options.optional ?? false}, ownTopLevel(ctx.ownFiles))

describe('python layer views', () => {
  it('lists packages, namespace packages, modules, extension modules and the names of dist-info metadata, per install root', () => {
    expect([...deps.roots.get('python/')!.keys()].sort()).toEqual(['_cffi_backend', '_yaml', 'attr', 'attrs', 'bin', 'google', 'requests', 'six', 'yaml'])
    expect(deps.roots.get('python/')!.get('yaml')).toBe('PyYAML')
    expect([...site.roots.keys()].sort()).toEqual(['python/lib/python3.11/site-packages/', 'python/lib/python3.12/site-packages/'])
  })
})

describe('resolvePythonImport', () => {
  it('finds own modules, layer modules (for the runtime version only), the standard library and the runtime SDK', () => {
    const ctx = context([deps, site])
    expect(resolve(ctx, 'lib.util').resolution).toEqual({kind: 'own'})
    expect(resolve(ctx, 'yaml').resolution).toEqual({kind: 'layer', layer: 'deps', distribution: 'PyYAML'})
    expect(resolve(ctx, 'google.protobuf').resolution).toMatchObject({kind: 'layer', layer: 'deps'})
    expect(resolve(ctx, '_cffi_backend').resolution).toMatchObject({kind: 'layer'})
    expect(resolve(ctx, 'onlyin312').resolution).toMatchObject({kind: 'layer', layer: 'site'})
    expect(resolve(ctx, 'onlyin311').problems).toMatchObject([{severity: 'error', code: 'ERR_LAYERS_IMPORT_UNRESOLVED'}])
    expect(resolve(ctx, 'json').resolution).toEqual({kind: 'stdlib'})
    expect(resolve(ctx, '__future__').resolution).toEqual({kind: 'stdlib'})
    expect(resolve(ctx, 'boto3')).toMatchObject({resolution: {kind: 'runtime'}, problems: [{severity: 'warning', code: 'ERR_LAYERS_IMPORT_RUNTIME_SDK'}]})
  })

  it("knows each runtime version's standard library", () => {
    expect(pythonStdlib('python3.11')!.has('distutils')).toBe(true)
    expect(pythonStdlib('python3.12')!.has('distutils')).toBe(false)
    expect(pythonStdlib('python3.10')!.has('tomllib')).toBe(false)
    expect(pythonStdlib('python3.11')!.has('tomllib')).toBe(true)
    expect(resolve(context([], 'python3.12'), 'distutils.core').problems[0]!.message).toContain('It is in the standard library of Python 3.9, 3.10, 3.11, not of python3.12.')
  })

  it('says which manifest layer could provide a missing module, and makes optional and dynamic imports warnings', () => {
    const ctx = context([deps])
    expect(resolve(ctx, 'numpy').problems).toEqual([expect.objectContaining({severity: 'error', code: 'ERR_LAYERS_IMPORT_UNRESOLVED', hint: 'Layer extra provides it: add it to functions.api.layers.'})])
    expect(resolve(ctx, 'ujson', {optional: true}).problems).toMatchObject([{severity: 'warning', code: 'ERR_LAYERS_IMPORT_OPTIONAL_MISSING'}])
    expect(resolve(ctx, 'plugins.csv', {kind: 'dynamic'}).problems).toMatchObject([{severity: 'warning', code: 'ERR_LAYERS_IMPORT_UNRESOLVED', message: expect.stringContaining("importlib.import_module('plugins.csv')")}])
  })

  it('only warns when a layer is not built (known from the lock) or is an ARN layer', () => {
    const unbuilt: PythonLayerView = {layer: 'deps', kind: 'pip', source: 'lock', roots: new Map(), distributions: ['requests']}
    expect(resolve(context([unbuilt]), 'requests').problems).toMatchObject([{severity: 'warning', code: 'ERR_LAYERS_IMPORT_UNVERIFIED', hint: 'Run `layers build deps` so the check reads the modules the layer installs.'}])
  })
})

describe('relativeImportProblems', () => {
  const files = new Set(['app.py', 'pkg/__init__.py', 'pkg/a.py', 'pkg/sub/b.py', 'pkg/sub/native.cpython-312-x86_64-linux-gnu.so', 'ns/x.py', 'ns/y.py'])
  const check = (importer: string, code: string) => relativeImportProblems(files, importer, findPythonImports(code).imports[0]!).map((problem) => `${problem.severity} ${problem.code}`)

  it('resolves from the importing file package, submodules, packages and extension modules', () => {
    expect(check('pkg/sub/b.py', 'from .. import a')).toEqual([])
    expect(check('pkg/sub/b.py', 'from ..a import thing')).toEqual([])
    expect(check('pkg/sub/b.py', 'from .native import f')).toEqual([])
    expect(check('pkg/a.py', 'from .sub import b')).toEqual([])
    expect(check('pkg/a.py', 'from . import anything_in_init')).toEqual([])
    expect(check('ns/x.py', 'from . import y')).toEqual([])
  })

  it('reports missing files, a namespace package without the name, and imports with no or beyond the parent package', () => {
    expect(check('pkg/a.py', 'from .missing import x')).toEqual(['error ERR_LAYERS_IMPORT_FILE_MISSING'])
    expect(check('ns/x.py', 'from . import z')).toEqual(['error ERR_LAYERS_IMPORT_FILE_MISSING'])
    expect(check('app.py', 'from . import pkg')).toEqual(['error ERR_LAYERS_IMPORT_RELATIVE'])
    expect(check('pkg/a.py', 'from ... import x')).toEqual(['error ERR_LAYERS_IMPORT_RELATIVE'])
    expect(check('pkg/a.py', 'try:\n    from .missing import x\nexcept ImportError:\n    x = None')).toEqual(['warning ERR_LAYERS_IMPORT_FILE_MISSING'])
  })
})

describe('pythonHandlerProblems', () => {
  const fn = (handler: string): FunctionSpec => ({key: 'api', handler} as FunctionSpec)
  const files = new Set(['app.py', 'src/service.py', 'pkg/__init__.py'])
  const parsed = new Map([
    ['app.py', findPythonImports('def handler(event, context):\n    return 1\n')],
    ['src/service.py', findPythonImports('from impl import *\n')],
    ['pkg/__init__.py', findPythonImports('def main(e, c): pass\n')],
  ])
  const codes = (handler: string, inLayers = false) => pythonHandlerProblems(fn(handler), files, parsed, () => inLayers).map((problem) => problem.code)

  it('accepts a defined handler, a module path with / or ., and names it cannot know', () => {
    expect(codes('app.handler')).toEqual([])
    expect(codes('src/service.anything')).toEqual([])
    expect(codes('src.service.anything')).toEqual([])
    expect(codes('pkg.main')).toEqual([])
    expect(codes('layered.handler', true)).toEqual([])
  })

  it('reports a malformed handler, a missing module and an undefined function as Lambda would fail', () => {
    expect(codes('handler')).toEqual(['ERR_LAYERS_HANDLER_MALFORMED'])
    expect(codes('nope.handler')).toEqual(['ERR_LAYERS_HANDLER_MISSING'])
    expect(codes('app.other')).toEqual(['ERR_LAYERS_HANDLER_NOT_EXPORTED'])
  })
})
