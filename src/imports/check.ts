// Owns the import check of functions against their layers. Python functions (python3.x runtimes) are
// checked by python-check.ts against their layers' Python modules (python-views.ts); for the others
// every .js/.mjs/.cjs file of each
// function's package is parsed (its module format from the extension and the nearest package.json
// `type`, as Node decides it; Lambda turns module-syntax detection off), every import is resolved
// (resolve.ts) against views of the function's layers for its architecture (views.ts; the repository's
// workspace packages are named so an import of one says which layer carries it), and the
// function's package.json ranges are compared with the versions its layers provide. Returns problems
// located at file:line:column (paths relative to the manifest's directory); it never throws for a
// finding, only for input it cannot read (the manifest's functions, layers and lock are checked).
import {existsSync} from 'node:fs'
import {readFile} from 'node:fs/promises'
import path from 'node:path'
import pLimit from 'p-limit'
import semver from 'semver'
import type {Problem, SourceLocation} from '../errors/index.js'
import type {Lockfile, LockedOwnLayer} from '../lock/types.js'
import {isOwnLayer, type FunctionSpec, type Manifest} from '../manifest/types.js'
import {selectFunctions} from '../manifest/select.js'
import {builtArtifactFinder, functionLayers, type BuiltArtifactFinder, type FunctionLayer} from '../package/artifacts.js'
import {listFunctionFiles, type FunctionFile, type FunctionFileLister} from '../package/files.js'
import {openStateDatabase} from '../store/db.js'
import {projectPaths} from '../project/paths.js'
import {findImports, ParseFailure, type ModuleFormat, type ParsedFile} from './parse.js'
import {findInLayers, resolveImport, type ResolveContext} from './resolve.js'
import {layerView, readPackageJson, type LayerView, type PackageJsonData, type ViewSource} from './views.js'
import {checkPythonFiles, layersProvide, pythonHandlerProblems} from './python-check.js'
import {pythonLayerView, type PythonLayerView} from './python-views.js'
import {repositoryRoot, workspaceDirs} from '../resolve/local.js'

export interface FunctionImportReport {
  function: string
  runtime: string
  architecture: string
  /** JavaScript (or, for Python functions, .py) files parsed. */
  files: number
  /** Imports with a literal specifier that were checked. */
  imports: number
  /** `import()` / `require()` (Python: `importlib.import_module()` / `__import__()`) calls with a computed specifier (not checkable). */
  dynamicUnchecked: number
  /** Where each layer's content was read from: the built zip, the directory, the lockfile, or nothing (ARN layers). */
  layers: Array<{layer: string; source: ViewSource}>
  problems: Problem[]
}

export interface ImportReport {
  functions: FunctionImportReport[]
  errors: number
  warnings: number
}

export interface CheckImportsOptions {
  /** The project's `.layers` directory (built zips are read from its state database when it exists). */
  stateDir?: string
  /** Finds built layer zips (else one over the state database in stateDir, when state.db exists). */
  findBuilt?: BuiltArtifactFinder
  /** Lists a function's package files (default: listFunctionFiles). */
  listFiles?: FunctionFileLister
}

const JS_FILE = /\.(?:js|mjs|cjs)$/


/** Module format of a JS file: by extension, else the nearest package.json `type` among the function's files. */
export function moduleFormat(rel: string, packageJsons: ReadonlyMap<string, PackageJsonData>): ModuleFormat {
  if (rel.endsWith('.mjs')) return 'module'
  if (rel.endsWith('.cjs')) return 'commonjs'
  let dir = path.posix.dirname(rel)
  for (;;) {
    const json = packageJsons.get(dir === '.' ? '' : dir)
    if (json) return json.type === 'module' ? 'module' : 'commonjs'
    if (dir === '.' || dir === '') return 'commonjs'
    dir = path.posix.dirname(dir)
  }
}

function lineOf(text: string, needle: string): {line: number; column: number} {
  const index = text.indexOf(needle)
  if (index < 0) return {line: 1, column: 1}
  const before = text.slice(0, index).split('\n')
  return {line: before.length, column: before.at(-1)!.length + 1}
}

/** A view per (layer, artifact), shared by every function that uses it. */
class ViewCache<View> {
  private readonly views = new Map<string, Promise<View>>()
  constructor(private readonly load: (layer: FunctionLayer) => Promise<View>) {}

  get(layer: FunctionLayer): Promise<View> {
    const key = `${layer.name}\0${layer.artifactKey ?? ''}`
    let view = this.views.get(key)
    if (!view) {
      view = this.load(layer)
      this.views.set(key, view)
    }
    return view
  }
}

interface ViewCaches {
  npm: ViewCache<LayerView>
  python: ViewCache<PythonLayerView>
}

/** Manifest layers the function does not use, as views (for "layer X could provide it"). */
async function otherLayerViews<View>(manifest: Manifest, lock: Lockfile, fn: FunctionSpec, cache: ViewCache<View>, kinds?: ReadonlySet<string>): Promise<View[]> {
  const others: View[] = []
  for (const [name, spec] of Object.entries(manifest.layers)) {
    if (fn.layers.includes(name) || !isOwnLayer(spec) || (kinds && !kinds.has(spec.kind))) continue
    const locked = lock.layers[name]
    if (!locked || locked.kind !== spec.kind) continue
    const own = locked as LockedOwnLayer
    const keys = Object.keys(own.artifacts).sort()
    const key = keys.find((candidate) => own.artifacts[candidate]!.architectures.includes(fn.architecture)) ?? keys[0]
    if (key === undefined) continue
    // Only for hints: a layer that cannot be read (e.g. a dir layer whose directory is missing) is skipped here.
    const view = await cache.get({name, spec, locked: own, artifactKey: key, artifact: own.artifacts[key]!}).catch(() => undefined)
    if (view) others.push(view)
  }
  return others
}

const PYTHON_LAYER_KINDS = new Set(['pip', 'dir'])

async function checkPythonFunction(manifest: Manifest, lock: Lockfile, fn: FunctionSpec, cache: ViewCache<PythonLayerView>, listFiles: FunctionFileLister): Promise<FunctionImportReport> {
  const views = await Promise.all(functionLayers(manifest, lock, fn).map((layer) => cache.get(layer)))
  const files = await listFiles(fn)
  const checked = await checkPythonFiles({
    fn,
    files,
    views,
    otherViews: await otherLayerViews(manifest, lock, fn, cache, PYTHON_LAYER_KINDS),
    locate: (file, at) => ({file: path.relative(manifest.root, path.join(fn.source, file.rel)) || file.rel, ...at}),
  })
  const problems = checked.problems
  const at = manifest.locate(['functions', fn.key, 'handler'])
  for (const problem of pythonHandlerProblems(fn, checked.ownFiles, checked.parsed, layersProvide(views, fn.runtime))) problems.push(at ? {...problem, location: {...at, file: path.relative(manifest.root, at.file) || at.file}} : problem)
  return {function: fn.key, runtime: fn.runtime, architecture: fn.architecture, files: checked.files, imports: checked.imports, dynamicUnchecked: checked.dynamicUnchecked, layers: views.map((view) => ({layer: view.layer, source: view.source})), problems}
}

async function checkFunction(manifest: Manifest, lock: Lockfile, fn: FunctionSpec, caches: ViewCaches, listFiles: FunctionFileLister, workspaces: ReadonlyMap<string, string>): Promise<FunctionImportReport> {
  if (fn.runtime.startsWith('python')) return checkPythonFunction(manifest, lock, fn, caches.python, listFiles)
  const cache = caches.npm
  const layers = functionLayers(manifest, lock, fn)
  const views = await Promise.all(layers.map((layer) => cache.get(layer)))
  const files = await listFiles(fn)
  const packageJsons = new Map<string, PackageJsonData>()
  let rootPackageJson: {data: PackageJsonData; text: string; file: FunctionFile} | undefined
  for (const file of files) {
    if (path.posix.basename(file.rel) !== 'package.json') continue
    const json = await readPackageJson(file.source)
    if (!json) continue
    const dir = path.posix.dirname(file.rel)
    packageJsons.set(dir === '.' ? '' : dir, json.data)
    if (file.rel === 'package.json') rootPackageJson = {...json, file}
  }
  const ctx: ResolveContext = {
    functionKey: fn.key,
    runtime: fn.runtime,
    ownFiles: new Set(files.map((file) => file.rel)),
    ownPackageJsons: packageJsons,
    views,
    otherViews: await otherLayerViews(manifest, lock, fn, cache),
    hostNodeMajor: Number(process.versions.node.split('.')[0]),
    workspaces,
  }
  const located = (file: FunctionFile, at: {line: number; column: number}): SourceLocation => ({file: path.relative(manifest.root, path.join(fn.source, file.rel)) || file.rel, ...at})
  const report: FunctionImportReport = {
    function: fn.key,
    runtime: fn.runtime,
    architecture: fn.architecture,
    files: 0,
    imports: 0,
    dynamicUnchecked: 0,
    layers: views.map((view) => ({layer: view.layer, source: view.source})),
    problems: [],
  }
  const exported = new Map<string, ParsedFile['exports']>()
  for (const file of files) {
    if (!JS_FILE.test(file.rel)) continue
    report.files++
    const code = await readFile(file.source, 'utf8')
    const format = moduleFormat(file.rel, packageJsons)
    let parsed
    try {
      parsed = findImports(code, format)
    } catch (error) {
      if (!(error instanceof ParseFailure)) throw error
      const asModule = format === 'commonjs' && !file.rel.endsWith('.cjs') ? tryParse(code, 'module') : false
      report.problems.push({
        severity: 'error',
        code: 'ERR_LAYERS_IMPORT_SYNTAX',
        message: asModule
          ? `Function ${fn.key}: ${file.rel} uses ES module syntax, but Node.js loads it as CommonJS (no "type": "module" in its package.json): ${error.message}.`
          : `Function ${fn.key}: ${file.rel} cannot be parsed as ${format === 'module' ? 'an ES module' : 'CommonJS'}: ${error.message}.`,
        hint: asModule ? 'Rename it to .mjs, or add "type": "module" to the package.json of the function.' : 'Fix the syntax error; Lambda would fail with Runtime.UserCodeSyntaxError.',
        location: located(file, error),
      })
      continue
    }
    report.dynamicUnchecked += parsed.dynamicUnchecked
    exported.set(file.rel, parsed.exports)
    for (const found of parsed.imports) {
      report.imports++
      for (const problem of resolveImport(ctx, file.rel, format, found).problems) {
        report.problems.push({...problem, message: `Function ${fn.key}: ${problem.message}`, location: located(file, found)})
      }
    }
  }
  if (rootPackageJson) report.problems.push(...versionProblems(ctx, fn, rootPackageJson, located))
  if (fn.runtime.startsWith('nodejs')) {
    const at = manifest.locate(['functions', fn.key, 'handler'])
    for (const problem of handlerProblems(fn, ctx.ownFiles, exported)) report.problems.push(at ? {...problem, location: {...at, file: path.relative(manifest.root, at.file) || at.file}} : problem)
  }
  return report
}

/**
 * Whether the handler Lambda's nodejs runtime loads exists: `dir/module.export[.nested]` needs
 * module.js, .mjs or .cjs (tried in that order) in the package, exporting `export` (when the file's
 * exports can be known statically).
 */
export function handlerProblems(fn: FunctionSpec, ownFiles: ReadonlySet<string>, exported: ReadonlyMap<string, ParsedFile['exports']>): Problem[] {
  const slash = fn.handler.lastIndexOf('/')
  const dot = fn.handler.indexOf('.', slash + 1)
  if (dot <= slash + 1 || dot === fn.handler.length - 1) {
    return [{severity: 'error', code: 'ERR_LAYERS_HANDLER_MALFORMED', message: `Function ${fn.key}: handler ${JSON.stringify(fn.handler)} is not module.export (e.g. index.handler); Lambda fails with Runtime.MalformedHandlerName.`, hint: 'Name the file (without extension) and the exported function, e.g. src/index.handler.'}]
  }
  const modulePath = path.posix.normalize(fn.handler.slice(0, dot))
  const name = fn.handler.slice(dot + 1).split('.')[0]!
  const file = ['.js', '.mjs', '.cjs'].map((extension) => modulePath + extension).find((candidate) => ownFiles.has(candidate))
  if (!file) {
    return [{severity: 'error', code: 'ERR_LAYERS_HANDLER_MISSING', message: `Function ${fn.key}: handler ${fn.handler} needs ${modulePath}.js, .mjs or .cjs in the function package, and there is none; Lambda fails with Runtime.ImportModuleError.`, hint: "Fix the handler in the manifest, or check .layersignore and the function's `exclude`."}]
  }
  const exports = exported.get(file)
  if (!exports || !exports.complete || exports.names.includes(name)) return []
  return [
    {
      severity: 'error',
      code: 'ERR_LAYERS_HANDLER_NOT_EXPORTED',
      message: `Function ${fn.key}: ${file} does not export ${name} (it exports ${exports.names.length > 0 ? exports.names.join(', ') : 'nothing'}); Lambda fails with Runtime.HandlerNotFound.`,
      hint: `Export ${name} from ${file}, or point the handler at an exported function.`,
    },
  ]
}

function tryParse(code: string, format: ModuleFormat): boolean {
  try {
    findImports(code, format)
    return true
  } catch {
    return false
  }
}

function versionProblems(ctx: ResolveContext, fn: FunctionSpec, pkg: {data: PackageJsonData; text: string; file: FunctionFile}, located: (file: FunctionFile, at: {line: number; column: number}) => SourceLocation): Problem[] {
  const problems: Problem[] = []
  for (const [name, range] of Object.entries(pkg.data.dependencies ?? {})) {
    if (typeof range !== 'string' || semver.validRange(range) === null) continue
    const found = findInLayers(ctx.views, ctx.runtime, name)
    if (!found?.pkg.version || semver.satisfies(found.pkg.version, range, {includePrerelease: true})) continue
    problems.push({
      severity: 'warning',
      code: 'ERR_LAYERS_IMPORT_VERSION_MISMATCH',
      message: `Function ${fn.key}: package.json wants ${name}@${range}, but layer ${found.view.layer} provides ${name}@${found.pkg.version}.`,
      hint: `Change the range in the layer's dependencies and run \`layers lock\`, or widen the function's range.`,
      location: located(pkg.file, lineOf(pkg.text, JSON.stringify(name))),
    })
  }
  return problems
}

/**
 * Checks the imports of the named functions (all when absent or empty) against their layers in the
 * lock. Layer content comes from built zips when `layers build` has run, else from the lock or the
 * layer directory (see views.ts).
 */
export async function checkImports(manifest: Manifest, lock: Lockfile, functionNames?: readonly string[], options: CheckImportsOptions = {}): Promise<ImportReport> {
  const functions = selectFunctions(manifest, functionNames)
  const stateDir = options.stateDir ?? projectPaths(manifest.file).stateDir
  const db = options.findBuilt || !existsSync(path.join(stateDir, 'state.db')) ? undefined : openStateDatabase(stateDir)
  try {
    const findBuilt = options.findBuilt ?? builtArtifactFinder(manifest, db, stateDir)
    const caches: ViewCaches = {npm: new ViewCache((layer) => layerView(layer, findBuilt)), python: new ViewCache((layer) => pythonLayerView(layer, findBuilt))}
    const workspaces = new Map([...workspaceDirs(repositoryRoot(manifest.root))].map(([name, dir]) => [name, path.relative(manifest.root, dir).split(path.sep).join('/') || '.']))
    const limit = pLimit(8)
    const reports = await Promise.all(functions.map((fn) => limit(() => checkFunction(manifest, lock, fn, caches, options.listFiles ?? listFunctionFiles, workspaces))))
    const all = reports.flatMap((report) => report.problems)
    return {functions: reports, errors: all.filter((problem) => problem.severity === 'error').length, warnings: all.filter((problem) => problem.severity === 'warning').length}
  } finally {
    db?.close()
  }
}
