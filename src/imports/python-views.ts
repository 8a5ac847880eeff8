// Owns what each layer of a Python function puts on sys.path at /opt: the top-level modules under
// `python/lib/pythonX.Y/site-packages/` and `python/` (the two layer paths Lambda's Python runtimes
// search, in that order). A top-level name is what the files show (a directory: a package, regular or
// namespace; `name.py`; an extension module `name.cpython-312-x86_64-linux-gnu.so`, `name.abi3.so` or
// `name.so`) plus what each installed distribution's metadata names (`top_level.txt`, and the first
// path segment of every RECORD line), which also says which distribution provides the name. Read from
// the built zip (`layers build` output for the current lock) or, for a dir layer not built yet, its
// directory. A pip layer not built yet is known from the lock only (its distributions, not their
// modules), and ARN layers not at all.
import {readFile} from 'node:fs/promises'
import path from 'node:path'
import {listDirLayer} from '../build/dir.js'
import {createPruner} from '../build/prune.js'
import type {BuiltArtifactFinder, FunctionLayer} from '../package/artifacts.js'
import {listZip, readZipEntries} from '../package/zip-read.js'
import type {LayerSpec} from '../manifest/types.js'
import type {ViewSource} from './views.js'

export interface PythonLayerView {
  layer: string
  kind: LayerSpec['kind']
  source: ViewSource
  /** Install root (e.g. `python/`) -> top-level module name -> the distribution providing it, when known. */
  roots: Map<string, Map<string, string | undefined>>
  /** Distributions the lock says the layer holds (when its modules are not known). */
  distributions: string[]
}

const IDENTIFIER = /^[\p{L}\p{Nl}_][\p{L}\p{Nl}\p{Mn}\p{Mc}\p{Nd}\p{Pc}_]*$/u
const ROOT = /^(python\/(?:lib\/python3\.\d+\/site-packages\/)?)/

/** The two /opt paths a runtime's sys.path holds, in its order (e.g. python/lib/python3.12/site-packages/, python/). */
export function pythonLayerRoots(runtime: string): string[] {
  return [`python/lib/${runtime}/site-packages/`, 'python/']
}

/** The top-level module a path (relative to a sys.path entry) makes importable, or undefined. */
export function topLevelModuleOf(rel: string): string | undefined {
  const slash = rel.indexOf('/')
  if (slash >= 0) {
    const dir = rel.slice(0, slash)
    return IDENTIFIER.test(dir) && dir !== '__pycache__' ? dir : undefined
  }
  const match = /^([^.]+)(?:\.[^.]+)?\.(?:py|pyc|so)$/.exec(rel)
  return match && IDENTIFIER.test(match[1]!) ? match[1] : undefined
}

/** Top-level modules per install root from a layer's file paths (relative to /opt). */
export function modulesFromPaths(paths: Iterable<string>): Map<string, Map<string, string | undefined>> {
  const roots = new Map<string, Map<string, string | undefined>>()
  for (const file of paths) {
    const root = ROOT.exec(file)?.[1]
    if (root === undefined) continue
    const rest = file.slice(root.length)
    // python/lib/... belongs to the site-packages root when it is one.
    if (root === 'python/' && /^lib\/python3\.\d+\/site-packages\//.test(rest)) continue
    const name = topLevelModuleOf(rest)
    if (name === undefined) continue
    let modules = roots.get(root)
    if (!modules) roots.set(root, (modules = new Map()))
    if (!modules.has(name)) modules.set(name, undefined)
  }
  return roots
}

const METADATA = /^(python\/(?:lib\/python3\.\d+\/site-packages\/)?)([^/]+)\.dist-info\/(RECORD|top_level\.txt)$/

/** Adds what the dist-info files name to `roots`, with the distribution of each name. */
export function addDistributionMetadata(roots: Map<string, Map<string, string | undefined>>, files: ReadonlyMap<string, string>): void {
  for (const [file, text] of [...files].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const match = METADATA.exec(file)
    if (!match) continue
    const [, root, distInfo, kind] = match as unknown as [string, string, string, string]
    const distribution = distInfo.replace(/-[^-]*$/, '')
    let modules = roots.get(root)
    if (!modules) roots.set(root, (modules = new Map()))
    const names =
      kind === 'top_level.txt'
        ? text.split(/\r?\n/).map((line) => line.trim().split('/')[0]!)
        : text.split(/\r?\n/).map((line) => {
            const entry = line.split(',')[0]!.replace(/^"|"$/g, '')
            return entry.startsWith('..') || entry.includes('.dist-info/') ? undefined : topLevelModuleOf(entry)
          })
    for (const name of names) if (name && IDENTIFIER.test(name)) modules.set(name, distribution)
  }
}

/** The Python view of one layer of a function (see the module comment for the sources). */
export async function pythonLayerView(layer: FunctionLayer, findBuilt: BuiltArtifactFinder): Promise<PythonLayerView> {
  const kind = layer.spec.kind
  const built = kind === 'arn' ? undefined : await findBuilt(layer)
  if (built) {
    const paths = (await listZip(built.zipPath)).map((entry) => entry.path)
    const roots = modulesFromPaths(paths)
    const metadata = await readZipEntries(built.zipPath, (entry) => METADATA.test(entry))
    addDistributionMetadata(roots, new Map([...metadata].map(([file, bytes]) => [file, bytes.toString('utf8')])))
    return {layer: layer.name, kind, source: 'zip', roots, distributions: []}
  }
  if (layer.spec.kind === 'dir') {
    const spec = layer.spec
    const files = await listDirLayer(layer.name, spec.dir, createPruner({exclude: spec.exclude, defaultExcludes: spec.defaultExcludes}))
    const roots = modulesFromPaths(files.map((file) => file.rel))
    const metadata = new Map<string, string>()
    for (const file of files) if (METADATA.test(file.rel)) metadata.set(file.rel, await readFile(file.source, 'utf8').catch(() => ''))
    addDistributionMetadata(roots, metadata)
    return {layer: layer.name, kind, source: 'dir', roots, distributions: []}
  }
  if (layer.spec.kind === 'pip' && layer.artifact?.wheels) {
    const distributions = [...new Set(Object.values(layer.artifact.wheels).flatMap((wheels) => Object.keys(wheels)))].sort()
    return {layer: layer.name, kind, source: 'lock', roots: new Map(), distributions}
  }
  return {layer: layer.name, kind, source: 'none', roots: new Map(), distributions: []}
}

/** The modules of `view` a function on `runtime` sees, in sys.path order. */
export function modulesFor(view: PythonLayerView, runtime: string): Array<{root: string; modules: Map<string, string | undefined>}> {
  return pythonLayerRoots(runtime).flatMap((root) => {
    const modules = view.roots.get(root)
    return modules ? [{root, modules}] : []
  })
}

/** Whether a file of a function package is Python source. */
export function isPythonSource(rel: string): boolean {
  return path.posix.extname(rel) === '.py'
}
