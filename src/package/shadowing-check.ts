// Owns the I/O of the shadowing check (src/package/shadowing.ts decides): for each function, its
// built layer zips read once per run (the central directory's paths, sizes and CRC-32s, the version
// in each package's package.json, and the ELF header of every file that may be a native binary) and
// the packages of its own source `node_modules`; and the check as `layers validate` runs it, for the
// functions whose layers the lock matches. An npm layer not built for the current lock is known from
// the lock (its packages' versions only); other layers not built cannot be read and are left out.
import {existsSync} from 'node:fs'
import {readdir, readFile} from 'node:fs/promises'
import path from 'node:path'
import {UserInputError, type Problem} from '../errors/index.js'
import type {LockStatus} from '../lock/fingerprint.js'
import type {Lockfile} from '../lock/types.js'
import type {FunctionSpec, Manifest} from '../manifest/types.js'
import {projectPaths} from '../project/paths.js'
import {openStateDatabase} from '../store/db.js'
import {builtArtifactFinder, functionLayers, type BuiltArtifactFinder} from './artifacts.js'
import {ELF_HEAD_BYTES, elfArchitecture, layerFolderOf, maybeNative, shadowFindings, shadowProblem, type LayerContent, type OwnPackage, type ShadowFinding} from './shadowing.js'
import {listZip, readZipHeads, type ZipListing} from './zip-read.js'

export type LayerContentReader = (zipPath: string) => Promise<Omit<LayerContent, 'layer'>>

/** Reads a built layer zip's content for the check, once per zip; `listingOf` lists a zip (a run's memoised listZip). */
export function layerContentReader(listingOf: (zipPath: string) => Promise<ZipListing[]> = listZip): LayerContentReader {
  const read = new Map<string, Promise<Omit<LayerContent, 'layer'>>>()
  return (zipPath) => {
    let content = read.get(zipPath)
    if (!content) read.set(zipPath, (content = readLayerContent(zipPath, listingOf)))
    return content
  }
}

async function readLayerContent(zipPath: string, listingOf: (zipPath: string) => Promise<ZipListing[]>): Promise<Omit<LayerContent, 'layer'>> {
  const listing = await listingOf(zipPath)
  const bytes = new Map<string, number>()
  for (const entry of listing) {
    const folder = layerFolderOf(entry.path)
    if (folder !== undefined && entry.path === `${folder}/package.json`) bytes.set(entry.path, Infinity)
    else if (maybeNative(entry.path, entry.mode)) bytes.set(entry.path, ELF_HEAD_BYTES)
  }
  const heads = bytes.size === 0 ? new Map<string, Buffer>() : await readZipHeads(zipPath, (entryPath) => bytes.get(entryPath) ?? 0)
  const versions: Record<string, string> = {}
  const files = listing.map((entry) => {
    const head = heads.get(entry.path)
    if (head && bytes.get(entry.path) === Infinity) {
      const version = versionIn(head.toString('utf8'))
      if (version) versions[entry.path.slice(0, -'/package.json'.length)] = version
      return {path: entry.path, size: entry.size, crc32: entry.crc32}
    }
    const architecture = head ? elfArchitecture(head) : undefined
    return {path: entry.path, size: entry.size, crc32: entry.crc32, ...(architecture ? {architecture} : {})}
  })
  return {files, versions}
}

function versionIn(text: string): string | undefined {
  try {
    const version = (JSON.parse(text) as {version?: unknown}).version
    return typeof version === 'string' ? version : undefined
  } catch {
    return undefined
  }
}

/** The top-level packages of the function's source `node_modules` (scoped ones included), with their package.json version. */
export async function ownPackages(fn: FunctionSpec, root: string): Promise<OwnPackage[]> {
  const modules = path.join(fn.source, 'node_modules')
  const names: string[] = []
  for (const name of await readdir(modules).catch(() => [] as string[])) {
    if (name.startsWith('.')) continue
    if (name.startsWith('@')) for (const inner of await readdir(path.join(modules, name)).catch(() => [] as string[])) names.push(`${name}/${inner}`)
    else names.push(name)
  }
  return Promise.all(
    names.sort().map(async (name) => {
      const folder = path.join(modules, ...name.split('/'))
      const version = versionIn(await readFile(path.join(folder, 'package.json'), 'utf8').catch(() => ''))
      return {name, path: path.relative(root, folder) || folder, ...(version ? {version} : {})}
    }),
  )
}

/** An npm layer's top-level packages from the lock, as the folders the build lays them out in. */
function lockedTopLevel(packages: Readonly<Record<string, {version: string}>>): Record<string, string> {
  return Object.fromEntries(Object.entries(packages).flatMap(([lockPath, pkg]) => (/^node_modules\/(?:@[^/]+\/)?[^/]+$/.test(lockPath) ? [[`nodejs/${lockPath}`, pkg.version]] : [])))
}

/** The shadowing findings of one function, from its layers (in its order: built zips, else npm layers from the lock) and its own node_modules. */
export async function functionShadowing(manifest: Manifest, lock: Lockfile, fn: FunctionSpec, findBuilt: BuiltArtifactFinder, readContent: LayerContentReader): Promise<ShadowFinding[]> {
  const layers: LayerContent[] = []
  for (const layer of functionLayers(manifest, lock, fn)) {
    const built = await findBuilt(layer)
    if (built) layers.push({layer: layer.name, ...(await readContent(built.zipPath))})
    else if (layer.spec.kind === 'npm' && layer.artifact?.packages) layers.push({layer: layer.name, files: [], versions: lockedTopLevel(layer.artifact.packages)})
  }
  return shadowFindings({function: fn.key, runtime: fn.runtime, layers, own: await ownPackages(fn, manifest.root)})
}

type Checked = ReadonlyArray<{fn: FunctionSpec; findings: readonly ShadowFinding[]}>

/** The problems of each function's findings (errors and warnings, in function order). */
export function shadowingProblems(checked: Checked): Problem[] {
  return checked.flatMap(({fn, findings}) => findings.flatMap((finding) => shadowProblem(finding, fn.architecture) ?? []))
}

/** Throws when copies differ in version or architecture: each one a problem (both copies, the fix); `consequence` says what was not done. */
export function assertNoShadowingErrors(checked: Checked, consequence: string): void {
  const failing = checked.flatMap(({fn, findings}) => findings.filter((finding) => finding.kind !== 'duplicate').map((finding) => ({fn, finding})))
  if (failing.length === 0) return
  const problems = failing.map(({fn, finding}) => shadowProblem(finding, fn.architecture)!)
  const code = failing.some(({finding}) => finding.kind === 'architecture') ? 'ERR_LAYERS_SHADOWED_ARCHITECTURE' : 'ERR_LAYERS_SHADOWED_VERSION'
  const what = failing.map(({finding}) => `${finding.what === 'package' ? 'package' : 'file /opt/'}${finding.what === 'package' ? ` ${finding.name}` : finding.name} of function ${finding.function} (${finding.kind})`)
  throw new UserInputError(code, `Copies that differ in version or architecture: ${what.join(', ')}; the function would load another copy than the other code expects (both copies named above).${consequence ? ` ${consequence}` : ''}`, {
    problems,
    hint: problems.length === 1 ? problems[0]!.hint! : 'Fix each one as its hint says (one version and one architecture of each package per function), then run the command again.',
    details: {shadowing: failing.map(({finding}) => finding)},
  })
}

/**
 * The shadowing check as `layers validate` runs it: functions whose layers are all locked as the
 * manifest says, against the built zips of `.layers`. Throws for errors; returns the warnings.
 */
export async function shadowingWarningsForValidate(manifest: Manifest, lock: Lockfile, status: LockStatus): Promise<Problem[]> {
  const outdated = new Set([...status.stale, ...status.missing])
  const functions = Object.values(manifest.functions).filter((fn) => fn.layers.every((layer) => !outdated.has(layer)))
  if (functions.length === 0) return []
  const {stateDir} = projectPaths(manifest.file)
  const db = existsSync(path.join(stateDir, 'state.db')) ? openStateDatabase(stateDir) : undefined
  try {
    const findBuilt = builtArtifactFinder(manifest, db, stateDir)
    const readContent = layerContentReader()
    const checked = []
    for (const fn of functions) checked.push({fn, findings: await functionShadowing(manifest, lock, fn, findBuilt, readContent)})
    assertNoShadowingErrors(checked, '')
    return shadowingProblems(checked)
  } finally {
    db?.close()
  }
}
