// Owns what each layer puts where Node.js looks for packages at run time (`nodejs/nodeNN/node_modules`
// and `nodejs/node_modules` under /opt): the top-level packages, with version, package.json and
// file list when they can be known. The best source is used for each layer:
// - the built zip (`layers build` output for the current lock): exact files after pruning and the
//   package.json of each package, so subpath imports are checked against `exports` and against the
//   files that will really be in /opt. This is why the check reads built zips (with yauzl) rather than
//   recording `exports` during the build: it checks the bytes that get published, pruning included.
// - a dir layer not built yet: the directory itself, listed with the build's own rules.
// - an npm layer not built yet: the lockfile (package names and versions only).
// - ARN layers (and runtime layers without a build): nothing is known.
import {readFile} from 'node:fs/promises'
import {listDirLayer} from '../build/dir.js'
import {createPruner} from '../build/prune.js'
import type {BuiltArtifactFinder, FunctionLayer} from '../package/artifacts.js'
import {listZip, readZipEntries} from '../package/zip-read.js'
import type {LayerSpec} from '../manifest/types.js'

export interface PackageJsonData {
  name?: string
  version?: string
  main?: string
  type?: string
  exports?: unknown
  imports?: unknown
  dependencies?: Record<string, string>
}

export interface ProvidedPackage {
  name: string
  /** Where it sits in /opt, e.g. `nodejs/node_modules/@scope/name`. */
  dir: string
  /** The search directory holding it, e.g. `nodejs/node_modules`. */
  searchDir: string
  version?: string
  packageJson?: PackageJsonData
  /** Paths inside the package directory, when the layer's files are known. */
  files?: Set<string>
}

export type ViewSource = 'zip' | 'dir' | 'lock' | 'none'

export interface LayerView {
  layer: string
  kind: LayerSpec['kind']
  source: ViewSource
  packages: ProvidedPackage[]
  /** Absolute path of the built zip the view was read from. */
  zipPath?: string
}

const PACKAGE_PATH = /^(nodejs\/(?:node\d+\/)?node_modules)\/((?:@[^/]+\/)?[^/@][^/]*)(?:\/(.*))?$/

/** Groups /opt file paths into top-level packages (files under nested node_modules belong to their parent). */
export function packagesFromPaths(paths: Iterable<string>): ProvidedPackage[] {
  const byDir = new Map<string, ProvidedPackage>()
  for (const file of paths) {
    const match = PACKAGE_PATH.exec(file)
    if (!match || match[3] === undefined) continue
    const [, searchDir, name, inner] = match as unknown as [string, string, string, string]
    const dir = `${searchDir}/${name}`
    let pkg = byDir.get(dir)
    if (!pkg) {
      pkg = {name, dir, searchDir, files: new Set()}
      byDir.set(dir, pkg)
    }
    pkg.files!.add(inner)
  }
  return [...byDir.values()]
}

function parsePackageJson(text: string | Buffer | undefined): PackageJsonData | undefined {
  if (text === undefined) return undefined
  try {
    const data = JSON.parse(text.toString()) as unknown
    return typeof data === 'object' && data !== null ? (data as PackageJsonData) : undefined
  } catch {
    return undefined
  }
}

function withPackageJson(pkg: ProvidedPackage, json: PackageJsonData | undefined): ProvidedPackage {
  return {...pkg, packageJson: json, version: typeof json?.version === 'string' ? json.version : pkg.version}
}

/** The view of one layer of a function (see the module comment for which source is used). */
export async function layerView(layer: FunctionLayer, findBuilt: BuiltArtifactFinder): Promise<LayerView> {
  const kind = layer.spec.kind
  const built = await findBuilt(layer)
  if (built) {
    const packages = packagesFromPaths((await listZip(built.zipPath)).map((entry) => entry.path))
    const wanted = new Set(packages.map((pkg) => `${pkg.dir}/package.json`))
    const jsons = await readZipEntries(built.zipPath, (entry) => wanted.has(entry))
    return {layer: layer.name, kind, source: 'zip', zipPath: built.zipPath, packages: packages.map((pkg) => withPackageJson(pkg, parsePackageJson(jsons.get(`${pkg.dir}/package.json`))))}
  }
  if (layer.spec.kind === 'dir') {
    const spec = layer.spec
    const files = await listDirLayer(layer.name, spec.dir, createPruner({exclude: spec.exclude, defaultExcludes: spec.defaultExcludes}))
    const sources = new Map(files.map((file) => [file.rel, file.source]))
    const packages = await Promise.all(
      packagesFromPaths(sources.keys()).map(async (pkg) => {
        const source = sources.get(`${pkg.dir}/package.json`)
        return withPackageJson(pkg, parsePackageJson(source ? await readFile(source).catch(() => undefined) : undefined))
      }),
    )
    return {layer: layer.name, kind, source: 'dir', packages}
  }
  if (layer.spec.kind === 'npm' && layer.artifact?.packages) {
    const packages: ProvidedPackage[] = []
    for (const [lockPath, locked] of Object.entries(layer.artifact.packages)) {
      const match = /^node_modules\/((?:@[^/]+\/)?[^/]+)$/.exec(lockPath)
      if (match) packages.push({name: locked.name || match[1]!, dir: `nodejs/${lockPath}`, searchDir: 'nodejs/node_modules', version: locked.version})
    }
    return {layer: layer.name, kind, source: 'lock', packages}
  }
  return {layer: layer.name, kind, source: 'none', packages: []}
}

/** Reads a package.json from disk; undefined when it is missing or not JSON. */
export async function readPackageJson(file: string): Promise<{data: PackageJsonData; text: string} | undefined> {
  const text = await readFile(file, 'utf8').catch(() => undefined)
  const data = parsePackageJson(text)
  return data && text !== undefined ? {data, text} : undefined
}

export function packageNameOf(specifier: string): {name: string; subpath: string} {
  const segments = specifier.split('/')
  const count = specifier.startsWith('@') ? 2 : 1
  const name = segments.slice(0, count).join('/')
  const rest = segments.slice(count).join('/')
  return {name, subpath: rest === '' ? '.' : `./${rest}`}
}

