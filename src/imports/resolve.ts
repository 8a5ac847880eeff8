// Owns deciding, for one import of one function file, what Lambda's Node.js runtime would load, the
// way Node resolves it with Lambda's NODE_PATH (/opt/nodejs/nodeNN/node_modules, /opt/nodejs/
// node_modules, /var/runtime/node_modules, /var/task): a builtin, a file of the function, a package
// of the merged /opt (the last of the function's layers holding it wins, as extraction replaces
// earlier files), or the AWS SDK v3 of the nodejs18.x+ runtimes. Anything else is a problem naming
// which manifest layer could provide the package (for a workspace package of the repository: which
// layer carries it, or how to add it to one). Subpaths are checked against the package's
// `exports` (resolve.exports, Node's conditions: node + import or require) and, when the layer's files
// are known, against the files the layer really holds. Pure: plain data in, plain data out.
import {isBuiltin} from 'node:module'
import path from 'node:path'
import {exports as resolveExports, imports as resolveImports} from 'resolve.exports'
import type {ErrorCode, Problem} from '../errors/index.js'
import type {FoundImport, ModuleFormat} from './parse.js'
import {packageNameOf, type LayerView, type PackageJsonData, type ProvidedPackage} from './views.js'

export interface ResolveContext {
  functionKey: string
  runtime: string
  /** Files of the function package (paths relative to its root). */
  ownFiles: ReadonlySet<string>
  /** package.json files of the function by directory ('' for the root). */
  ownPackageJsons: ReadonlyMap<string, PackageJsonData>
  /** The function's layers, in its order. */
  views: readonly LayerView[]
  /** Manifest layers the function does not use (to say which one could provide a package). */
  otherViews: readonly LayerView[]
  /** Major version of the Node.js running this check (builtins are those of this version). */
  hostNodeMajor: number
  /** Workspace packages of the repository: name -> folder (as shown, relative to the manifest). */
  workspaces?: ReadonlyMap<string, string>
}

export type ProblemWithoutLocation = Omit<Problem, 'location'>

export type Resolution =
  | {kind: 'builtin'}
  | {kind: 'own'; file: string}
  | {kind: 'layer'; layer: string; pkg: ProvidedPackage}
  | {kind: 'runtime'}
  | {kind: 'unresolved'}

export interface ImportOutcome {
  resolution: Resolution
  problems: ProblemWithoutLocation[]
}

/** The Node.js major of a `nodejsNN.x` runtime, undefined for other runtimes. */
export function nodeMajorOf(runtime: string): number | undefined {
  const match = /^nodejs(\d+)\.x$/.exec(runtime)
  return match ? Number(match[1]) : undefined
}

export function searchDirsFor(runtime: string): string[] {
  const major = nodeMajorOf(runtime)
  return major === undefined ? ['nodejs/node_modules'] : [`nodejs/node${major}/node_modules`, 'nodejs/node_modules']
}

const CJS_EXTENSIONS = ['.js', '.json', '.node']

/** The file a relative CommonJS or ES module path names among `files`, or undefined. */
export function resolveFileIn(files: ReadonlySet<string>, base: string, format: ModuleFormat, packageJsonAt?: (dir: string) => PackageJsonData | undefined): string | undefined {
  const clean = base.replace(/\/$/, '')
  if (files.has(clean)) return clean
  if (format === 'module') return undefined
  for (const extension of CJS_EXTENSIONS) if (files.has(clean + extension)) return clean + extension
  const main = packageJsonAt?.(clean)?.main
  if (typeof main === 'string') {
    const target = path.posix.normalize(path.posix.join(clean, main))
    const found = resolveFileIn(files, target, 'commonjs')
    if (found) return found
  }
  for (const extension of CJS_EXTENSIONS) if (files.has(`${clean === '.' || clean === '' ? '' : clean + '/'}index${extension}`)) return `${clean === '.' || clean === '' ? '' : clean + '/'}index${extension}`
  return undefined
}

/** Which loader resolves an import: require() is CommonJS and import() is ESM wherever they appear; static forms follow the file. */
export function resolutionMode(format: ModuleFormat, kind: FoundImport['kind']): ModuleFormat {
  if (kind === 'require') return 'commonjs'
  if (kind === 'dynamic') return 'module'
  return format
}

function problem(severity: Problem['severity'], code: ErrorCode, message: string, hint?: string): ProblemWithoutLocation {
  return hint === undefined ? {severity, code, message} : {severity, code, message, hint}
}

function isRelative(specifier: string): boolean {
  return specifier.startsWith('./') || specifier.startsWith('../') || specifier === '.' || specifier === '..'
}

/** The winning package for `name` in the merged /opt: the first search dir holding it, the last layer there. */
export function findInLayers(views: readonly LayerView[], runtime: string, name: string): {view: LayerView; pkg: ProvidedPackage; shadowed: string[]} | undefined {
  for (const searchDir of searchDirsFor(runtime)) {
    const holders = views.flatMap((view) => view.packages.filter((pkg) => pkg.searchDir === searchDir && pkg.name === name).map((pkg) => ({view, pkg})))
    if (holders.length > 0) {
      const winner = holders.at(-1)!
      return {...winner, shadowed: holders.slice(0, -1).map((holder) => holder.view.layer)}
    }
  }
  return undefined
}

function checkPackageSubpath(found: {view: LayerView; pkg: ProvidedPackage}, subpath: string, specifier: string, format: ModuleFormat, kind: FoundImport['kind']): ProblemWithoutLocation[] {
  const {view, pkg} = found
  const label = `${pkg.name}${pkg.version ? '@' + pkg.version : ''} (layer ${view.layer})`
  if (!pkg.packageJson) {
    if (subpath !== '.' && view.source === 'lock') {
      return [problem('warning', 'ERR_LAYERS_IMPORT_EXPORTS_UNCHECKED', `'${specifier}': layer ${view.layer} is not built, so the subpath is not checked against the exports of ${pkg.name}.`, `Run \`layers build ${view.layer}\`, then check again.`)]
    }
    return []
  }
  const json = pkg.packageJson
  const requireMode = resolutionMode(format, kind) === 'commonjs'
  let target: string | undefined
  if (json.exports !== undefined && json.exports !== null) {
    try {
      target = resolveExports(json, subpath, {require: requireMode})?.[0]
    } catch {
      target = undefined
    }
    if (target === undefined) {
      const exported = typeof json.exports === 'object' && !Array.isArray(json.exports) && Object.keys(json.exports as object).every((key) => key.startsWith('.')) ? Object.keys(json.exports as object) : ['.']
      return [
        problem('error', 'ERR_LAYERS_IMPORT_NOT_EXPORTED', `'${specifier}' is not exported by ${label} for ${requireMode ? 'require()' : 'import'}.`, `Its package.json exports: ${exported.join(', ')}. Import one of those, or use a version of ${pkg.name} that exports it.`),
      ]
    }
  } else if (subpath !== '.') {
    target = subpath
  }
  if (!pkg.files) return []
  const files = pkg.files
  // `main` is searched with extensions by both loaders; an `exports` target is an exact path; a bare subpath follows the loader.
  const resolved =
    target === undefined
      ? resolveFileIn(files, '.', 'commonjs', (dir) => (dir === '.' ? json : undefined))
      : resolveFileIn(files, path.posix.normalize(target), json.exports !== undefined && json.exports !== null ? 'module' : resolutionMode(format, kind))
  if (resolved === undefined && (target !== undefined || json.main !== undefined || files.size > 0)) {
    return [
      problem('error', 'ERR_LAYERS_IMPORT_FILE_MISSING', `'${specifier}' resolves to ${pkg.dir}/${(target ?? json.main ?? 'index.js').replace(/^\.\//, '')}, which layer ${view.layer} does not contain.`, `The file may be pruned: check the layer's \`exclude\` (or \`defaultExcludes\`) in the manifest, then \`layers build ${view.layer}\`.`),
    ]
  }
  return []
}

function whoCouldProvide(ctx: ResolveContext, name: string): string {
  const others = ctx.otherViews.filter((view) => view.packages.some((pkg) => pkg.name === name)).map((view) => view.layer)
  const folder = ctx.workspaces?.get(name)
  if (others.length > 0) return `Layer ${others.join(', ')} ${folder === undefined ? 'provides it' : `carries the workspace package ${name}`}: add ${others.length === 1 ? 'it' : 'one of them'} to functions.${ctx.functionKey}.layers.`
  if (folder !== undefined) return `No layer in the manifest carries the workspace package ${name} (${folder}): add "${name}": "workspace:*" to the npm dependencies of a layer of function ${ctx.functionKey} and run \`layers lock\`. A function package never holds node_modules, so the workspace's link there is not packaged.`
  return `No layer in the manifest provides it: add ${name} to the dependencies of an npm layer of this function and run \`layers lock\`.`
}

/** What `found` (in the function file `importer`, parsed as `format`) resolves to, and the problems. */
export function resolveImport(ctx: ResolveContext, importer: string, format: ModuleFormat, found: FoundImport): ImportOutcome {
  const {specifier} = found
  const major = nodeMajorOf(ctx.runtime)
  if (specifier.startsWith('node:') || isBuiltin(specifier)) {
    if (isBuiltin(specifier)) return {resolution: {kind: 'builtin'}, problems: []}
    if (major !== undefined && major > ctx.hostNodeMajor) {
      return {resolution: {kind: 'builtin'}, problems: [problem('warning', 'ERR_LAYERS_IMPORT_BUILTIN_UNCHECKED', `'${specifier}' is not a builtin of Node.js ${ctx.hostNodeMajor} (running this check); ${ctx.runtime} may have it.`)]}
    }
    return {resolution: {kind: 'unresolved'}, problems: [problem('error', 'ERR_LAYERS_IMPORT_UNRESOLVED', `'${specifier}' is not a Node.js builtin module.`, 'Check the spelling against https://nodejs.org/api/.')]}
  }
  if (isRelative(specifier) || specifier.startsWith('/') || specifier.startsWith('file:')) return resolveOwnPath(ctx, importer, format, found)
  if (specifier.startsWith('#')) return resolveSubpathImport(ctx, importer, format, found)
  const {name, subpath} = packageNameOf(specifier)
  const inLayers = findInLayers(ctx.views, ctx.runtime, name)
  if (inLayers) return {resolution: {kind: 'layer', layer: inLayers.view.layer, pkg: inLayers.pkg}, problems: checkPackageSubpath(inLayers, subpath, specifier, format, found.kind)}
  if (name.startsWith('@aws-sdk/') && major !== undefined && major >= 18) {
    return {
      resolution: {kind: 'runtime'},
      problems: [problem('warning', 'ERR_LAYERS_IMPORT_RUNTIME_SDK', `'${specifier}' comes from the AWS SDK v3 that the ${ctx.runtime} runtime provides: its version is AWS's choice, not yours.`, `To pin it, add ${name} to an npm layer of this function.`)],
    }
  }
  // CommonJS also searches /var/task (on NODE_PATH): a bare path naming a file of the function.
  if (resolutionMode(format, found.kind) === 'commonjs') {
    const own = resolveFileIn(ctx.ownFiles, specifier, 'commonjs', (dir) => ctx.ownPackageJsons.get(dir))
    if (own) return {resolution: {kind: 'own', file: own}, problems: []}
  }
  const opaque = ctx.views.filter((view) => view.source === 'none').map((view) => view.layer)
  if (opaque.length > 0) {
    return {
      resolution: {kind: 'unresolved'},
      problems: [problem('warning', 'ERR_LAYERS_IMPORT_UNVERIFIED', `'${specifier}' is not provided by any inspectable layer of function ${ctx.functionKey}; layer ${opaque.join(', ')} cannot be inspected and may provide it.`, whoCouldProvide(ctx, name))],
    }
  }
  const layerList = ctx.views.length > 0 ? `its layers (${ctx.views.map((view) => view.layer).join(', ')})` : 'its layers (it has none)'
  const workspace = ctx.workspaces?.get(name)
  const aws = name.startsWith('@aws-sdk/') ? ` The ${ctx.runtime} runtime does not provide the AWS SDK v3.` : ''
  return {
    resolution: {kind: 'unresolved'},
    problems: [problem('error', 'ERR_LAYERS_IMPORT_UNRESOLVED', `'${specifier}' is not a builtin, a file of function ${ctx.functionKey}, or a package of ${layerList}${workspace === undefined ? '' : ` (it is the workspace package ${name}, ${workspace}, which none of them carries)`}: Lambda fails with Runtime.ImportModuleError.${aws}`, whoCouldProvide(ctx, name))],
  }
}

function resolveOwnPath(ctx: ResolveContext, importer: string, format: ModuleFormat, found: FoundImport): ImportOutcome {
  const {specifier} = found
  if (!isRelative(specifier)) return {resolution: {kind: 'unresolved'}, problems: []} // absolute paths and URLs are not checked
  const target = path.posix.normalize(path.posix.join(path.posix.dirname(importer), specifier.split(/[?#]/)[0]!))
  if (target.startsWith('../') || target === '..') {
    return {resolution: {kind: 'unresolved'}, problems: [problem('error', 'ERR_LAYERS_IMPORT_OUTSIDE', `'${specifier}' points outside the function's source directory.`, 'A function package holds only files under `source`: move the file in, or put shared code in a layer.')]}
  }
  const formatFor = resolutionMode(format, found.kind)
  const file = resolveFileIn(ctx.ownFiles, target, formatFor, (dir) => ctx.ownPackageJsons.get(dir))
  if (file) return {resolution: {kind: 'own', file}, problems: []}
  const hint = formatFor === 'module' && resolveFileIn(ctx.ownFiles, target, 'commonjs') ? 'ES modules need the full file name, extension included.' : 'Check the path; the file may be left out by .layersignore or the function\'s `exclude`.'
  return {resolution: {kind: 'unresolved'}, problems: [problem('error', 'ERR_LAYERS_IMPORT_FILE_MISSING', `'${specifier}' names ${target}, which is not in the function package.`, hint)]}
}

function resolveSubpathImport(ctx: ResolveContext, importer: string, format: ModuleFormat, found: FoundImport): ImportOutcome {
  // The nearest package.json of the importer holds the `imports` map.
  let dir = path.posix.dirname(importer)
  for (;;) {
    const json = ctx.ownPackageJsons.get(dir === '.' ? '' : dir)
    if (json) {
      let target: string | undefined
      try {
        target = resolveImports(json, found.specifier, {require: found.kind === 'require' || format === 'commonjs'})?.[0]
      } catch {
        target = undefined
      }
      if (target === undefined) break
      if (!isRelative(target)) return resolveImport(ctx, importer, format, {...found, specifier: target})
      const file = path.posix.normalize(path.posix.join(dir, target))
      if (ctx.ownFiles.has(file)) return {resolution: {kind: 'own', file}, problems: []}
      return {resolution: {kind: 'unresolved'}, problems: [problem('error', 'ERR_LAYERS_IMPORT_FILE_MISSING', `'${found.specifier}' maps to ${file}, which is not in the function package.`, "Fix the `imports` map in package.json; the file may be left out by .layersignore or the function's `exclude`.")]}
    }
    if (dir === '.' || dir === '') break
    dir = path.posix.dirname(dir)
  }
  return {resolution: {kind: 'unresolved'}, problems: [problem('error', 'ERR_LAYERS_IMPORT_UNRESOLVED', `'${found.specifier}' is not defined by the \`imports\` of the function's package.json.`, 'Add it to "imports" in package.json, or fix the specifier.')]}
}
