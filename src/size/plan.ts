// Owns the size budget report of `layers size`, as plain data: the bytes of each package of a built
// layer (unzipped and as zip entries), and for each function its code plus all its layers against
// Lambda's 262,144,000-byte unzipped limit, its biggest packages, the packages two of its layers both
// put at the same place in /opt (the later layer's copy wins, as Lambda extracts layers in order),
// and the packages its runtime already provides (the AWS SDK v3 on nodejs18.x and later, boto3 and
// botocore on Python) with the manifest setting that leaves them out. Pure: listings in, report out.
// Which copies load before which is src/package/shadowing.ts's grouping (nodeNN before node_modules).
import {shadowedPlaces} from '../package/shadowing.js'
import type {ZipListing} from '../package/zip-read.js'
import {zipEntryBytes} from '../package/sizes.js'

/** A package (or top-level module, or other top-level folder) of a layer: where it is and what it weighs. */
export interface PackageSize {
  /** Its folder in the layer zip (`nodejs/node_modules/@aws-sdk/client-s3`, `python/numpy`). */
  path: string
  name: string
  /** From the lock, for npm packages. */
  version?: string
  files: number
  unzippedBytes: number
  /** Its entries' bytes in the zip (headers included). */
  zipBytes: number
}

export interface LayerListing {
  layer: string
  kind: string
  artifactKey?: string
  /** The built zip's entries; undefined when the layer is not built (or an ARN layer, not readable here). */
  entries?: readonly ZipListing[]
  /** The built zip's size in bytes. */
  zipBytes?: number
  /** Lock path (`node_modules/a`) -> locked version, for npm layers. */
  versions?: Readonly<Record<string, string>>
}

export interface LayerSizeReport {
  layer: string
  kind: string
  artifactKey?: string
  built: boolean
  unzippedBytes: number | null
  zipBytes: number | null
  /** Every package, biggest first (`top` limits the list; packageCount says how many there are). */
  packages: PackageSize[]
  packageCount: number
}

export interface RuntimeProvided {
  layer: string
  package: PackageSize
}

export interface DuplicatePackage {
  /** The folder of the copy the function loads (`nodejs/node_modules/uuid`, `nodejs/node22/node_modules/uuid`). */
  path: string
  /** From the copy found last to the one loaded (the function's layer order; nodeNN after the plain node_modules). */
  copies: Array<{layer: string; path: string; version?: string; unzippedBytes: number}>
  /** The layer whose copy the function loads (the last copy). */
  wins: string
  /** True when the copies differ in version or size (not just the same bytes twice). */
  differ: boolean
}

export interface FunctionSizeReport {
  function: string
  runtime: string
  architecture: string
  codeUnzippedBytes: number
  layers: Array<{layer: string; unzippedBytes: number | null}>
  /** Code plus every layer, unzipped; null when a layer's size is unknown (not built, or an ARN layer). */
  totalUnzippedBytes: number | null
  limitBytes: number
  /** totalUnzippedBytes / limitBytes; null when the total is unknown. */
  shareOfLimit: number | null
  biggest: Array<PackageSize & {layer: string}>
  duplicates: DuplicatePackage[]
  runtimeProvided: RuntimeProvided[]
  /** The `exclude` globs per layer that leave the runtime's own packages out. */
  leaveOut: Array<{layer: string; exclude: string[]}>
}

export interface SizeReport {
  layers: LayerSizeReport[]
  functions: FunctionSizeReport[]
}

export interface FunctionInput {
  function: string
  runtime: string
  architecture: string
  codeUnzippedBytes: number
  /** The function's layers in its order. */
  layers: LayerListing[]
}

const NODE_PACKAGE = /^(.*node_modules\/)((?:@[^/]+\/)?[^/]+)\//
const PYTHON_MODULE = /^(python\/(?:lib\/python\d+\.\d+\/site-packages\/)?)([^/]+?)(?:\.py|\.[\w.-]+\.so)?(?:\/|$)/
const OTHER = /^([^/]+)(?:\/|$)/

/** The package folder a zip entry belongs to: its innermost node_modules package, its Python top-level name, else its top-level entry. */
function packageOf(entryPath: string): {path: string; name: string} {
  const node = NODE_PACKAGE.exec(entryPath)
  if (node) return {path: node[1]! + node[2]!, name: node[2]!}
  const python = PYTHON_MODULE.exec(entryPath)
  if (python) {
    // A distribution's metadata counts with the distribution (`numpy-2.1.0.dist-info` -> numpy).
    const name = python[2]!.replace(/-[^-]+\.(?:dist|egg)-info$/, '')
    return {path: python[1]! + name, name}
  }
  const top = OTHER.exec(entryPath)![1]!
  return {path: top, name: top}
}

/** Lock path (`node_modules/a`) of a layer folder (`nodejs/node_modules/a`, `nodejs/node20/node_modules/a`). */
function lockPathOf(folder: string): string | undefined {
  return /^nodejs\/(?:node\d+\/)?(node_modules\/.+)$/.exec(folder)?.[1]
}

/** Every package of a built layer, biggest first (ties by path). */
export function layerPackages(listing: LayerListing): PackageSize[] {
  const packages = new Map<string, PackageSize>()
  for (const entry of listing.entries ?? []) {
    if (entry.path.endsWith('/')) continue
    const where = packageOf(entry.path)
    let pkg = packages.get(where.path)
    if (!pkg) {
      const lockPath = lockPathOf(where.path)
      const version = lockPath ? listing.versions?.[lockPath] : undefined
      pkg = {path: where.path, name: where.name, ...(version ? {version} : {}), files: 0, unzippedBytes: 0, zipBytes: 0}
      packages.set(where.path, pkg)
    }
    pkg.files++
    pkg.unzippedBytes += entry.size
    pkg.zipBytes += zipEntryBytes(entry.path, entry.compressedSize, entry.descriptor)
  }
  return [...packages.values()].sort((a, b) => b.unzippedBytes - a.unzippedBytes || (a.path < b.path ? -1 : 1))
}

/** The top-level folders Lambda merges across layers: /opt/nodejs/[nodeNN/]node_modules/x and /opt/python/x. */
function isTopLevel(pkg: PackageSize): boolean {
  return /^nodejs\/(?:node\d+\/)?node_modules\/(?:@[^/]+\/)?[^/]+$/.test(pkg.path) || /^python\/(?:lib\/python\d+\.\d+\/site-packages\/)?[^/]+$/.test(pkg.path)
}

const PYTHON_RUNTIME_PACKAGES = new Set(['boto3', 'botocore', 's3transfer', 'jmespath'])

/** Whether the function's runtime already has the package (the AWS SDK v3 from nodejs18.x on; boto3 and its own dependencies on Python). */
function providedByRuntime(runtime: string, pkg: PackageSize): boolean {
  if (!isTopLevel(pkg)) return false
  const node = /^nodejs(\d+)\.x$/.exec(runtime)
  if (node) return Number(node[1]) >= 18 && pkg.name.startsWith('@aws-sdk/')
  return runtime.startsWith('python') && PYTHON_RUNTIME_PACKAGES.has(pkg.name)
}

function layerReport(listing: LayerListing, top: number): LayerSizeReport {
  const packages = layerPackages(listing)
  const built = listing.entries !== undefined
  return {
    layer: listing.layer,
    kind: listing.kind,
    ...(listing.artifactKey ? {artifactKey: listing.artifactKey} : {}),
    built,
    unzippedBytes: built ? packages.reduce((sum, pkg) => sum + pkg.unzippedBytes, 0) : null,
    zipBytes: listing.zipBytes ?? null,
    packages: packages.slice(0, top),
    packageCount: packages.length,
  }
}

/** The report for the named layers' artifacts and functions; `top` caps each list of packages. */
export function sizeReport(layers: readonly LayerListing[], functions: readonly FunctionInput[], options: {limitBytes: number; top: number}): SizeReport {
  return {
    layers: layers.map((listing) => layerReport(listing, options.top)),
    functions: functions.map((fn) => functionReport(fn, options)),
  }
}

function functionReport(fn: FunctionInput, options: {limitBytes: number; top: number}): FunctionSizeReport {
  const perLayer = fn.layers.map((listing) => ({listing, packages: layerPackages(listing)}))
  const layers = perLayer.map(({listing, packages}) => ({layer: listing.layer, unzippedBytes: listing.entries ? packages.reduce((sum, pkg) => sum + pkg.unzippedBytes, 0) : null}))
  const known = layers.every((layer) => layer.unzippedBytes !== null)
  const totalUnzippedBytes = known ? fn.codeUnzippedBytes + layers.reduce((sum, layer) => sum + layer.unzippedBytes!, 0) : null
  const all = perLayer.flatMap(({listing, packages}) => packages.map((pkg) => ({...pkg, layer: listing.layer})))
  const duplicates: DuplicatePackage[] = shadowedPlaces(fn.runtime, perLayer.map(({listing, packages}) => ({layer: listing.layer, items: packages.filter(isTopLevel)}))).map(({copies}) => ({
    path: copies.at(-1)!.path,
    copies: copies.map((copy) => ({layer: copy.layer, path: copy.path, ...(copy.version ? {version: copy.version} : {}), unzippedBytes: copy.unzippedBytes})),
    wins: copies.at(-1)!.layer,
    differ: new Set(copies.map((copy) => `${copy.version ?? ''}\0${copy.unzippedBytes}`)).size > 1,
  }))
  const runtimeProvided = all.filter((pkg) => providedByRuntime(fn.runtime, pkg)).map(({layer, ...pkg}) => ({layer, package: pkg}))
  const leaveOut = [...new Set(runtimeProvided.map((item) => item.layer))].map((layer) => ({layer, exclude: runtimeProvided.filter((item) => item.layer === layer).map((item) => `${item.package.path}/**`).sort()}))
  return {
    function: fn.function,
    runtime: fn.runtime,
    architecture: fn.architecture,
    codeUnzippedBytes: fn.codeUnzippedBytes,
    layers,
    totalUnzippedBytes,
    limitBytes: options.limitBytes,
    shareOfLimit: totalUnzippedBytes === null ? null : totalUnzippedBytes / options.limitBytes,
    biggest: [...all].sort((a, b) => b.unzippedBytes - a.unzippedBytes || (a.path < b.path ? -1 : 1)).slice(0, options.top),
    duplicates,
    runtimeProvided,
    leaveOut,
  }
}
