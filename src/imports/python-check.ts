// Owns the import check of a Python function (python3.x runtime): every .py file of its package is
// scanned (python-parse.ts) and each import is resolved the way Lambda's Python runtime finds it on
// sys.path: the function's own top-level modules (/var/task comes first), then its layers' modules
// (python-views.ts; /opt/python/lib/pythonX.Y/site-packages, then /opt/python), then the standard
// library of the runtime's Python version (python-stdlib-data.ts, generated from each CPython), then
// the libraries the runtime ships (boto3, botocore and their dependencies: a warning, AWS picks their
// version). Relative imports resolve within the function's own files, from the file's package.
// Branches that never run on the runtime's Python (TYPE_CHECKING, sys.version_info checks) are skipped.
// An import nothing provides is an error located at file:line:column with the layer that could
// provide it; inside try/except ImportError it is a warning (Lambda runs the fallback), and so is an
// `importlib.import_module("x")` with a literal name. The handler's module must be a file of the
// function (or a layer's module) and, when the file's top-level names are known, define the function.
// resolvePythonImport and pythonHandlerProblems are pure.
import {readFile} from 'node:fs/promises'
import path from 'node:path'
import type {Problem} from '../errors/index.js'
import type {FunctionSpec} from '../manifest/types.js'
import type {FunctionFile} from '../package/files.js'
import {ParseFailure} from './parse.js'
import {findPythonImports, type FoundPythonImport, type ParsedPythonFile} from './python-parse.js'
import {PYTHON_STDLIB} from './python-stdlib-data.js'
import {isPythonSource, modulesFor, topLevelModuleOf, type PythonLayerView} from './python-views.js'
import type {ProblemWithoutLocation} from './resolve.js'

/** What the Lambda Python runtimes put on sys.path besides the standard library (/var/lang/lib/pythonX.Y/site-packages, /var/runtime). */
export const PYTHON_RUNTIME_MODULES = ['boto3', 'botocore', 's3transfer', 'jmespath', 'dateutil', 'urllib3', 'six'] as const

const stdlibCache = new Map<string, Set<string>>()

/** The standard library's top-level modules of a python3.X runtime (undefined for an unknown version). */
export function pythonStdlib(runtime: string): Set<string> | undefined {
  const version = /^python(3\.\d+)$/.exec(runtime)?.[1]
  const names = version === undefined ? undefined : PYTHON_STDLIB[version]
  if (names === undefined) return undefined
  let set = stdlibCache.get(version!)
  if (!set) stdlibCache.set(version!, (set = new Set(names.split(' '))))
  return set
}

export interface PythonResolveContext {
  functionKey: string
  runtime: string
  /** Files of the function package (paths relative to its root). */
  ownFiles: ReadonlySet<string>
  /** The function's layers, in its order. */
  views: readonly PythonLayerView[]
  /** Manifest layers the function does not use (to say which one could provide a module). */
  otherViews: readonly PythonLayerView[]
}

export type PythonResolution =
  | {kind: 'own'}
  | {kind: 'layer'; layer: string; distribution?: string}
  | {kind: 'stdlib'}
  | {kind: 'runtime'}
  | {kind: 'unresolved'}

function problem(severity: Problem['severity'], code: `ERR_LAYERS_${string}`, message: string, hint?: string): ProblemWithoutLocation {
  return hint === undefined ? {severity, code, message} : {severity, code, message, hint}
}

/** The top-level names the function's own files make importable from /var/task. */
export function ownTopLevel(ownFiles: Iterable<string>): Set<string> {
  const names = new Set<string>()
  for (const file of ownFiles) {
    const name = topLevelModuleOf(file)
    if (name !== undefined) names.add(name)
  }
  return names
}

/** The last of the function's layers holding `name` (a later layer's files replace an earlier one's). */
function findInPythonLayers(views: readonly PythonLayerView[], runtime: string, name: string): {view: PythonLayerView; distribution?: string} | undefined {
  for (const view of [...views].reverse()) {
    for (const {modules} of modulesFor(view, runtime)) {
      if (modules.has(name)) {
        const distribution = modules.get(name)
        return distribution === undefined ? {view} : {view, distribution}
      }
    }
  }
  return undefined
}

function whoCouldProvide(ctx: PythonResolveContext, name: string): string {
  const others = ctx.otherViews.filter((view) => findInPythonLayers([view], ctx.runtime, name)).map((view) => view.layer)
  if (others.length > 0) return `Layer ${others.join(', ')} provides it: add ${others.length === 1 ? 'it' : 'one of them'} to functions.${ctx.functionKey}.layers.`
  return `No layer in the manifest provides it: add the distribution that installs \`${name}\` (its PyPI name may differ from the module name) to the pip: requirements of a layer of this function, then run \`layers lock\` and \`layers build\`.`
}

/** Python versions whose standard library has `name` (for "it was removed in 3.12" style messages). */
function stdlibVersionsWith(name: string): string[] {
  return Object.entries(PYTHON_STDLIB)
    .filter(([, names]) => ` ${names} `.includes(` ${name} `))
    .map(([version]) => version)
}

/** What an absolute import's top-level module resolves to on Lambda, and the problems. */
export function resolvePythonImport(ctx: PythonResolveContext, found: Pick<FoundPythonImport, 'module' | 'kind' | 'optional'>, ownTop: ReadonlySet<string>): {resolution: PythonResolution; problems: ProblemWithoutLocation[]} {
  const name = found.module.split('.')[0]!
  const shown = found.kind === 'dynamic' ? `importlib.import_module('${found.module}')` : `'${found.module}'`
  if (ownTop.has(name)) return {resolution: {kind: 'own'}, problems: []}
  const inLayers = findInPythonLayers(ctx.views, ctx.runtime, name)
  if (inLayers) return {resolution: {kind: 'layer', layer: inLayers.view.layer, ...(inLayers.distribution ? {distribution: inLayers.distribution} : {})}, problems: []}
  const stdlib = pythonStdlib(ctx.runtime)
  if (stdlib?.has(name)) return {resolution: {kind: 'stdlib'}, problems: []}
  if ((PYTHON_RUNTIME_MODULES as readonly string[]).includes(name)) {
    return {
      resolution: {kind: 'runtime'},
      problems: [problem('warning', 'ERR_LAYERS_IMPORT_RUNTIME_SDK', `${shown} comes from the ${name === 'boto3' || name === 'botocore' ? 'AWS SDK' : 'AWS SDK dependencies'} that the ${ctx.runtime} runtime provides: its version is AWS's choice, not yours.`, `To pin it, add ${name === 'dateutil' ? 'python-dateutil' : name} to a pip layer of this function.`)],
    }
  }
  const opaque = ctx.views.filter((view) => view.source === 'none' || view.source === 'lock')
  if (opaque.length > 0) {
    const unbuilt = opaque.filter((view) => view.source === 'lock').map((view) => view.layer)
    return {
      resolution: {kind: 'unresolved'},
      problems: [
        problem(
          'warning',
          'ERR_LAYERS_IMPORT_UNVERIFIED',
          `${shown} is not provided by any inspectable layer of function ${ctx.functionKey}; layer ${opaque.map((view) => view.layer).join(', ')} cannot be inspected${unbuilt.length > 0 ? ' (not built for the current lock)' : ''} and may provide it.`,
          unbuilt.length > 0 ? `Run \`layers build ${unbuilt.join(' ')}\` so the check reads the modules the layer installs.` : whoCouldProvide(ctx, name),
        ),
      ],
    }
  }
  const layerList = ctx.views.length > 0 ? `its layers (${ctx.views.map((view) => view.layer).join(', ')})` : 'its layers (it has none)'
  const versions = stdlibVersionsWith(name)
  const stdlibNote = versions.length > 0 ? ` It is in the standard library of Python ${versions.join(', ')}, not of ${ctx.runtime}.` : ''
  if (found.optional) {
    return {resolution: {kind: 'unresolved'}, problems: [problem('warning', 'ERR_LAYERS_IMPORT_OPTIONAL_MISSING', `${shown} is imported inside try/except ImportError and no module of function ${ctx.functionKey}, ${layerList}, the ${ctx.runtime} standard library or the runtime provides it: on Lambda the except branch runs.${stdlibNote}`, whoCouldProvide(ctx, name))]}
  }
  const failure = found.kind === 'dynamic' ? 'the call raises ModuleNotFoundError' : 'Lambda fails with Runtime.ImportModuleError'
  return {
    resolution: {kind: 'unresolved'},
    problems: [problem(found.kind === 'dynamic' ? 'warning' : 'error', 'ERR_LAYERS_IMPORT_UNRESOLVED', `${shown} is not a module of function ${ctx.functionKey}, of ${layerList}, of the ${ctx.runtime} standard library or of the runtime: ${failure}.${stdlibNote}`, whoCouldProvide(ctx, name))],
  }
}

/** Whether `target` (a path without extension) is a module or package among the function's files. */
function ownModuleExists(ownFiles: ReadonlySet<string>, target: string): boolean {
  const dir = path.posix.dirname(target)
  const base = path.posix.basename(target)
  for (const file of ownFiles) {
    if (file.startsWith(`${target}/`)) return true
    if (path.posix.dirname(file) === dir && topLevelModuleOf(path.posix.basename(file)) === base) return true
  }
  return false
}

/** Problems of a relative import in `importer` (a path in the function package), resolved within the function's files. */
export function relativeImportProblems(ownFiles: ReadonlySet<string>, importer: string, found: Pick<FoundPythonImport, 'module' | 'level' | 'names' | 'optional'>): ProblemWithoutLocation[] {
  const dots = '.'.repeat(found.level)
  const shown = `from ${dots}${found.module} import ${(found.names ?? []).join(', ')}`
  const severity = found.optional ? 'warning' : 'error'
  const packageParts = path.posix.dirname(importer) === '.' ? [] : path.posix.dirname(importer).split('/')
  if (packageParts.length === 0) {
    return [problem(severity, 'ERR_LAYERS_IMPORT_RELATIVE', `'${shown}' is in ${importer}, a top-level module of the function: Python raises "ImportError: attempted relative import with no known parent package".`, 'Use an absolute import (`from module import name`), or move the file into a package directory.')]
  }
  if (found.level > packageParts.length) {
    return [problem(severity, 'ERR_LAYERS_IMPORT_RELATIVE', `'${shown}' in ${importer} goes above the function's top-level package: Python raises "ImportError: attempted relative import beyond top-level package".`, `Use fewer dots, or an absolute import.`)]
  }
  const base = packageParts.slice(0, packageParts.length - (found.level - 1)).join('/')
  if (found.module !== '') {
    const target = [base, ...found.module.split('.')].join('/')
    if (ownModuleExists(ownFiles, target)) return []
    return [problem(severity, 'ERR_LAYERS_IMPORT_FILE_MISSING', `'${shown}' names ${target}.py (or the package ${target}/), which is not in the function package.`, "Check the module path; the file may be left out by .layersignore or the function's `exclude`.")]
  }
  // `from . import a`: a submodule, or a name defined in the package's __init__.py.
  if (ownFiles.has(`${base}/__init__.py`)) return []
  const missing = (found.names ?? []).filter((name) => name !== '*' && !ownModuleExists(ownFiles, `${base}/${name}`))
  return missing.map((name) => problem(severity, 'ERR_LAYERS_IMPORT_FILE_MISSING', `'${shown}' needs ${base}/${name}.py (or the package ${base}/${name}/): ${base}/ has no __init__.py that could define ${name}, and no such module.`, "Check the name; the file may be left out by .layersignore or the function's `exclude`."))
}

/**
 * The handler problems Lambda's Python runtime would report: `module.function` (the module path may
 * use `/` or `.`) needs the module as a file or package of the function (unless a layer provides its
 * top-level package) defining the function at top level, when the file's top-level names are known.
 */
export function pythonHandlerProblems(fn: FunctionSpec, ownFiles: ReadonlySet<string>, parsed: ReadonlyMap<string, ParsedPythonFile>, inLayers: (name: string) => boolean): ProblemWithoutLocation[] {
  const dot = fn.handler.lastIndexOf('.')
  if (dot <= 0 || dot === fn.handler.length - 1) {
    return [problem('error', 'ERR_LAYERS_HANDLER_MALFORMED', `Function ${fn.key}: handler ${JSON.stringify(fn.handler)} is not module.function (e.g. app.handler); Lambda fails with Runtime.MalformedHandlerName.`, 'Name the module (the file without .py) and the function, e.g. app.handler or src/app.handler.')]
  }
  const modulePath = fn.handler.slice(0, dot).replaceAll('.', '/')
  const name = fn.handler.slice(dot + 1)
  const file = [`${modulePath}.py`, `${modulePath}/__init__.py`].find((candidate) => ownFiles.has(candidate))
  if (!file) {
    if (ownModuleExists(ownFiles, modulePath) || inLayers(modulePath.split('/')[0]!)) return []
    return [problem('error', 'ERR_LAYERS_HANDLER_MISSING', `Function ${fn.key}: handler ${fn.handler} needs ${modulePath}.py in the function package, and there is none; Lambda fails with Runtime.ImportModuleError.`, "Fix the handler in the manifest, or check .layersignore and the function's `exclude`.")]
  }
  const topLevel = parsed.get(file)?.topLevel
  if (!topLevel || !topLevel.complete || topLevel.names.includes(name)) return []
  return [problem('error', 'ERR_LAYERS_HANDLER_NOT_EXPORTED', `Function ${fn.key}: ${file} does not define ${name} at top level (it defines ${topLevel.names.length > 0 ? topLevel.names.join(', ') : 'nothing'}); Lambda fails with Runtime.HandlerNotFound.`, `Define \`def ${name}(event, context):\` in ${file}, or point the handler at a function it defines.`)]
}

export interface PythonCheckInput {
  fn: FunctionSpec
  files: readonly FunctionFile[]
  views: readonly PythonLayerView[]
  otherViews: readonly PythonLayerView[]
  /** Where a problem in a function file is reported (its path as the user sees it). */
  locate: (file: FunctionFile, at: {line: number; column: number}) => Problem['location']
}

export interface PythonCheckResult {
  files: number
  imports: number
  dynamicUnchecked: number
  problems: Problem[]
  /** For the handler check. */
  parsed: Map<string, ParsedPythonFile>
  ownFiles: Set<string>
}

/** Scans and resolves every .py file of a Python function (see the module comment). */
export async function checkPythonFiles(input: PythonCheckInput): Promise<PythonCheckResult> {
  const {fn} = input
  const ownFiles = new Set(input.files.map((file) => file.rel))
  const ownTop = ownTopLevel(ownFiles)
  const ctx: PythonResolveContext = {functionKey: fn.key, runtime: fn.runtime, ownFiles, views: input.views, otherViews: input.otherViews}
  const result: PythonCheckResult = {files: 0, imports: 0, dynamicUnchecked: 0, problems: [], parsed: new Map(), ownFiles}
  const minor = /^python3\.(\d+)$/.exec(fn.runtime)?.[1]
  const scanOptions = minor === undefined ? {} : {version: {major: 3, minor: Number(minor)}}
  for (const file of input.files) {
    if (!isPythonSource(file.rel)) continue
    result.files++
    const code = await readFile(file.source, 'utf8')
    let parsed: ParsedPythonFile
    try {
      parsed = findPythonImports(code, scanOptions)
    } catch (error) {
      if (!(error instanceof ParseFailure)) throw error
      result.problems.push({severity: 'error', code: 'ERR_LAYERS_IMPORT_SYNTAX', message: `Function ${fn.key}: ${file.rel} cannot be read as Python: ${error.message}.`, hint: 'Fix the syntax error; Lambda would fail with Runtime.UserCodeSyntaxError.', location: input.locate(file, {line: error.line, column: error.column})})
      continue
    }
    result.parsed.set(file.rel, parsed)
    result.dynamicUnchecked += parsed.dynamicUnchecked
    for (const found of parsed.imports) {
      result.imports++
      const problems = found.level > 0 ? relativeImportProblems(ownFiles, file.rel, found) : resolvePythonImport(ctx, found, ownTop).problems
      for (const entry of problems) result.problems.push({...entry, message: `Function ${fn.key}: ${entry.message}`, location: input.locate(file, {line: found.line, column: found.column})})
    }
  }
  return result
}

/** Whether one of the function's layers provides a top-level module (for the handler check). */
export function layersProvide(views: readonly PythonLayerView[], runtime: string): (name: string) => boolean {
  return (name) => findInPythonLayers(views, runtime, name) !== undefined
}
