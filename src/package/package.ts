// Owns `layers package`: for each selected function, checks its imports against its layers (unless
// told not to), writes one deterministic zip of its own code (files.ts rules, src/build/zip.ts bytes)
// to <outDir>/<function>.zip, and accounts sizes: the package, each layer's built artifact, the total
// against Lambda's unzipped limit, and the fat package it replaces. It reports every package or file
// provided twice (shadowing-check.ts); copies differing in version or architecture fail the check.
// Zips are written only when the check passes; a function over the limit fails the command (exit 1) after every zip is written.
// On an interrupt (options.signal) no further zip is started, the ones being written stop (their temp
// files removed, an older zip left as it was), and InterruptedError lists what was packaged and what not.
import {mkdirSync, statSync, type Stats} from 'node:fs'
import path from 'node:path'
import pLimit from 'p-limit'
import {dirEntries} from '../build/dir.js'
import {writeDeterministicZip, type ZipResult} from '../build/zip.js'
import {InterruptedError, OperationalError, UserInputError} from '../errors/index.js'
import type {EmitEvent} from '../events.js'
import {checkImports, type ImportReport} from '../imports/check.js'
import type {Lockfile} from '../lock/types.js'
import type {FunctionSpec, LayerSpec, Manifest} from '../manifest/types.js'
import {ensureStateDir} from '../project/paths.js'
import {openStateDatabase, type StateDatabase} from '../store/db.js'
import {builtArtifactFinder, functionLayers, type BuiltArtifactFinder} from './artifacts.js'
import {functionFileLister, type FunctionFileLister} from './files.js'
import {loadFunctionProject} from './project.js'
import {renderPackageInterrupted} from './render.js'
import {assertNoShadowingErrors, functionShadowing, layerContentReader, shadowingProblems, type LayerContentReader} from './shadowing-check.js'
import type {ShadowFinding} from './shadowing.js'
import {fatPackageSize, FUNCTION_UNZIPPED_LIMIT} from './sizes.js'
import {listZip, type ZipListing} from './zip-read.js'

export interface LayerSize {
  layer: string
  kind: LayerSpec['kind']
  /** The artifact used for the function's architecture (absent for ARN layers). */
  artifactKey?: string
  /** False when the artifact is not built for the current lock (sizes unknown). */
  built: boolean
  zipBytes: number | null
  unzippedBytes: number | null
}

/** A written package: its zip (codeSha256, sha256Hex, zipBytes, unzippedBytes, files) and the accounting. */
export interface PackagedFunction extends ZipResult {
  function: string
  /** Deployed function name. */
  name: string
  runtime: string
  architecture: string
  /** Absolute path of the written zip. */
  zipPath: string
  layers: LayerSize[]
  /** Code plus all layers, unzipped; null when a layer's size is unknown. */
  totalUnzippedBytes: number | null
  limitBytes: number
  /** True/false against the limit; null when the total is unknown. */
  withinLimit: boolean | null
  /** The package with its own layers' node_modules inside (what it would be without layers; ARN layers left out); null when one is not built. */
  fat: {zipBytes: number; unzippedBytes: number; files: number} | null
  /** Packages and files provided more than once (by two built layers, nodeNN and node_modules, or the function's own node_modules), with the copy Lambda loads. */
  shadowing: ShadowFinding[]
}

export interface PackageResult {
  functions: PackagedFunction[]
  /** The import check (absent when skipped or when there is no lock). */
  imports?: ImportReport
}

export interface PackageOptions {
  /** Function keys (or deployed names); all when empty. */
  functions?: string[]
  stateDir: string
  /** Where zips go (default <stateDir>/package). */
  outDir?: string
  /** Run the import check first (default true); it needs the lock. */
  check?: boolean
  emit: EmitEvent
  db?: StateDatabase
  /** Fires on an interrupt: no further zip is written; packageFunctions then throws InterruptedError. */
  signal?: AbortSignal
}

/** Memoised lookups shared by every function of one run. */
interface RunCaches {
  findBuilt: BuiltArtifactFinder
  listings: Map<string, Promise<ZipListing[]>>
  listFiles: FunctionFileLister
  readContent: LayerContentReader
}

function layerListing(caches: RunCaches, zipPath: string): Promise<ZipListing[]> {
  let listing = caches.listings.get(zipPath)
  if (!listing) {
    listing = listZip(zipPath)
    caches.listings.set(zipPath, listing)
  }
  return listing
}

async function packageOne(manifest: Manifest, lock: Lockfile, fn: FunctionSpec, shadowing: ShadowFinding[], outDir: string, caches: RunCaches, signal?: AbortSignal): Promise<PackagedFunction> {
  const files = await caches.listFiles(fn)
  const zipPath = path.join(outDir, `${fn.key}.zip`)
  const zip = await writeDeterministicZip(zipPath, dirEntries(files), signal)
  const layers: LayerSize[] = []
  const layerListings: ZipListing[][] = []
  let allBuilt = true
  let ownBuilt = true
  for (const layer of functionLayers(manifest, lock, fn)) {
    const built = await caches.findBuilt(layer)
    layers.push({layer: layer.name, kind: layer.spec.kind, ...(layer.artifactKey ? {artifactKey: layer.artifactKey} : {}), built: built !== undefined, zipBytes: built?.zipBytes ?? null, unzippedBytes: built?.unzippedBytes ?? null})
    if (built) layerListings.push(await layerListing(caches, built.zipPath))
    else allBuilt = false
    // ARN layers cannot be read locally: the total stays unknown, the fat package leaves them out.
    if (!built && layer.spec.kind !== 'arn') ownBuilt = false
  }
  const totalUnzippedBytes = allBuilt ? zip.unzippedBytes + layers.reduce((sum, layer) => sum + (layer.unzippedBytes ?? 0), 0) : null
  return {
    function: fn.key,
    name: fn.name,
    runtime: fn.runtime,
    architecture: fn.architecture,
    zipPath,
    codeSha256: zip.codeSha256,
    sha256Hex: zip.sha256Hex,
    zipBytes: zip.zipBytes,
    unzippedBytes: zip.unzippedBytes,
    files: zip.files,
    layers,
    totalUnzippedBytes,
    limitBytes: FUNCTION_UNZIPPED_LIMIT,
    withinLimit: totalUnzippedBytes === null ? null : totalUnzippedBytes <= FUNCTION_UNZIPPED_LIMIT,
    fat: ownBuilt ? fatPackageSize(await listZip(zipPath), layerListings) : null,
    shadowing,
  }
}

/** Remembers each package's sizes by CodeSha256: `layers attach` finds a deployed package's unzipped size there. */
function recordPackages(db: StateDatabase, packaged: readonly PackagedFunction[], packagedAt: Date = new Date()): void {
  const insert = db.prepare('INSERT OR REPLACE INTO function_packages (code_sha256, function, zip_bytes, unzipped_bytes, packaged_at) VALUES (?, ?, ?, ?, ?)')
  db.transaction(() => {
    for (const fn of packaged) insert.run(fn.codeSha256, fn.function, fn.zipBytes, fn.unzippedBytes, packagedAt.toISOString())
  })()
}

/** Checks and packages functions of a loaded manifest (see the module comment). */
export async function packageFunctions(manifest: Manifest, lock: Lockfile, functions: readonly FunctionSpec[], options: PackageOptions): Promise<PackageResult> {
  const db = options.db ?? openStateDatabase(options.stateDir)
  const listings = new Map<string, Promise<ZipListing[]>>()
  const caches: RunCaches = {findBuilt: builtArtifactFinder(manifest, db, options.stateDir), listings, listFiles: functionFileLister(), readContent: layerContentReader((zipPath) => layerListing(caches, zipPath))}
  try {
    let imports: ImportReport | undefined
    if (options.check !== false) {
      imports = await checkImports(manifest, lock, functions.map((fn) => fn.key), {stateDir: options.stateDir, findBuilt: caches.findBuilt, listFiles: caches.listFiles})
      const problems = imports.functions.flatMap((report) => report.problems)
      for (const warning of problems.filter((problem) => problem.severity === 'warning')) options.emit({type: 'warning', warning})
      const errors = problems.filter((problem) => problem.severity === 'error')
      if (errors.length > 0) {
        const failing = imports.functions.filter((report) => report.problems.some((problem) => problem.severity === 'error')).map((report) => report.function)
        throw new UserInputError('ERR_LAYERS_IMPORT_CHECK_FAILED', `${errors.length} import problem${errors.length === 1 ? '' : 's'} in function${failing.length === 1 ? '' : 's'} ${failing.join(', ')}: Lambda would fail to load ${failing.length === 1 ? 'it' : 'them'}. No package was written.`, {
          problems: errors,
          hint: 'Fix each import at the file:line:column named above (or give the function the layer that provides the package), then package again.',
          details: {functions: failing},
        })
      }
    }
    const shadowing = new Map<string, ShadowFinding[]>()
    for (const fn of functions) shadowing.set(fn.key, await functionShadowing(manifest, lock, fn, caches.findBuilt, caches.readContent))
    const checked = functions.map((fn) => ({fn, findings: shadowing.get(fn.key)!}))
    if (options.check !== false) assertNoShadowingErrors(checked, 'No package was written.')
    // Under --no-check the errors are reported as warnings and every zip is written.
    for (const warning of shadowingProblems(checked)) options.emit({type: 'warning', warning: {...warning, severity: 'warning'}})
    if (!options.outDir) ensureStateDir(options.stateDir)
    const outDir = options.outDir ?? path.join(options.stateDir, 'package')
    const limit = pLimit(4)
    let done = 0
    const signal = options.signal
    const written = await Promise.all(
      functions.map((fn) =>
        limit(async () => {
          if (signal?.aborted) return undefined
          try {
            const result = await packageOne(manifest, lock, fn, shadowing.get(fn.key)!, outDir, caches, signal)
            options.emit({type: 'progress', phase: 'package', message: fn.key, current: ++done, total: functions.length})
            return result
          } catch (error) {
            if (signal?.aborted) return undefined
            throw error
          }
        }),
      ),
    )
    const packaged = written.filter((fn): fn is PackagedFunction => fn !== undefined)
    recordPackages(db, packaged)
    if (signal?.aborted) {
      const notPackaged = functions.filter((_fn, index) => written[index] === undefined).map((fn) => fn.key)
      const by = InterruptedError.signalOf(signal)
      throw new InterruptedError(by, renderPackageInterrupted(by, packaged, notPackaged), {details: {functions: packaged, notPackaged}})
    }
    for (const fn of packaged) {
      const missing = fn.layers.filter((layer) => !layer.built && layer.kind !== 'arn').map((layer) => layer.layer)
      if (missing.length > 0) {
        options.emit({type: 'warning', warning: {severity: 'warning', code: 'ERR_LAYERS_LAYER_NOT_BUILT', message: `Function ${fn.function}: layer${missing.length === 1 ? '' : 's'} ${missing.join(', ')} not built for the current lock, so the total size is unknown.`, hint: `Run \`layers build ${missing.join(' ')}\`.`}})
      }
    }
    const over = packaged.filter((fn) => fn.withinLimit === false)
    if (over.length > 0) {
      throw new OperationalError('ERR_LAYERS_FUNCTION_TOO_LARGE', over.map((fn) => `Function ${fn.function} with its layers is ${fn.totalUnzippedBytes} bytes unzipped, over Lambda's limit of ${FUNCTION_UNZIPPED_LIMIT} bytes.`).join(' '), {
        hint: 'Drop a layer, prune it (`exclude` in the manifest), or move files out of the function.',
        details: {functions: packaged},
      })
    }
    return imports ? {functions: packaged, imports} : {functions: packaged}
  } finally {
    if (!options.db) db.close()
  }
}

export interface PackageProjectOptions {
  manifestPath: string
  functions?: string[]
  outDir?: string
  check?: boolean
  emit: EmitEvent
  /** Fires on an interrupt (see PackageOptions.signal). */
  signal?: AbortSignal
}

/** `layers package` from a manifest path: loads the project and packages the functions. */
export async function packageProject(options: PackageProjectOptions): Promise<PackageResult> {
  const outDir = options.outDir === undefined ? undefined : path.resolve(options.outDir)
  if (outDir !== undefined) checkOutDir(outDir)
  const project = await loadFunctionProject(options.manifestPath, options.functions, 'package')
  return packageFunctions(project.manifest, project.lock, project.functions, {
    stateDir: project.paths.stateDir,
    outDir,
    check: options.check !== false,
    emit: options.emit,
    ...(options.signal ? {signal: options.signal} : {}),
  })
}

/**
 * --out must be a directory, or a path whose nearest existing ancestor is one: the missing parts are
 * made here one at a time (a recursive mkdir spins forever on EEXIST under /proc), so any failure
 * is a clear input error.
 */
function checkOutDir(outDir: string): void {
  const missing: string[] = []
  for (let dir = outDir; ; dir = path.dirname(dir)) {
    let stats: Stats
    try {
      stats = statSync(dir)
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      if ((code === 'ENOENT' || code === 'ENOTDIR') && path.dirname(dir) !== dir) {
        missing.unshift(dir)
        continue
      }
      throw new UserInputError('ERR_LAYERS_PACKAGE_OUT', `--out ${outDir} cannot be used: ${dir} ${code === 'EACCES' ? 'is not accessible' : `cannot be read (${code ?? (error as Error).message})`}.`, {
        hint: 'Give --out a directory you can write to.',
        cause: error,
      })
    }
    if (!stats.isDirectory()) {
      throw new UserInputError('ERR_LAYERS_PACKAGE_OUT', dir === outDir ? `--out ${outDir} is a file, not a directory.` : `--out ${outDir} cannot be created: ${dir} is a file.`, {
        hint: 'Give --out a directory (it is created when missing); the zips are written into it as <function>.zip.',
        details: {out: outDir},
      })
    }
    for (const part of missing) {
      try {
        mkdirSync(part)
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST' && statSync(part, {throwIfNoEntry: false})?.isDirectory()) continue
        throw new UserInputError('ERR_LAYERS_PACKAGE_OUT', `--out ${outDir} cannot be created: making ${part} failed (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}).`, {
          hint: 'Give --out a directory you can write to (it is created when missing).',
          details: {out: outDir},
          cause: error,
        })
      }
    }
    return
  }
}
