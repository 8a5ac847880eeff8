// Owns local npm packages of a layer: `file:<dir>` and `workspace:<range>` dependencies, and npm
// workspace packages named by a range their version satisfies (npm links those instead of fetching).
// - The repository is the manifest's folder, or the workspace root above it (the nearest folder whose
//   package.json declares `workspaces`, or that holds a pnpm-workspace.yaml: pnpm lists its workspaces
//   there, `packages` globs with `!` exclusions, not in package.json). A local package's folder must lie inside it, both as written
//   and with symlinks resolved (realpath); anything else is refused (exit 2) naming the path.
// - A package is packed as `npm pack` packs it, by npm-packlist itself (the `files` field, .npmignore
//   else .gitignore, the workspace root's ignore files for a workspace, package.json/README/LICENSE
//   always, node_modules and lockfiles never, symlinks never). npm-packlist 10 takes an Arborist tree,
//   but reads only its path, package.json, bundle edges and workspaces, so it gets a one-node tree
//   (@npmcli/arborist is not a dependency): bundleDependencies are not packed from node_modules; they
//   are resolved from the registry like the package's other dependencies.
// - A `file:` path to a tarball (.tgz, .tar.gz, .tar) is what npm installs from it: its files under the
//   top folder (`package/`), regular files only (links and entries leaving the package are refused),
//   locked by the sha512 SRI of the tarball's bytes as npm locks it.
// - What is packed from a folder is locked by one sha512 SRI over the sorted listing (path, byte length, bytes of
//   each file), recorded as the package's `integrity` with `resolved: "file:<path from the manifest>"`.
//   The build packs again and refuses content that no longer has the locked hash.
import {createHash} from 'node:crypto'
import {existsSync, readFileSync, realpathSync, statSync} from 'node:fs'
import path from 'node:path'
import semver from 'semver'
import {globSync} from 'tinyglobby'
import {parse as parseYaml} from 'yaml'
import {UserInputError} from '../errors/index.js'
import type {PackageVersion} from './types.js'

/** The `resolved` prefix of a local package in lockfile.json. */
export const LOCAL_RESOLVED = 'file:'

export interface PackedFile {
  /** Path inside the package, posix separators. */
  rel: string
  data: Buffer
  mode: number
}

export interface PackedPackage {
  files: PackedFile[]
  integrity: string
  manifest: PackageVersion
}

export interface LocalPackage {
  /** Absolute folder of the package. */
  dir: string
  manifest: PackageVersion
  /** `file:<path relative to the manifest's folder>`. */
  resolved: string
  integrity: string
}

/** Whether a locked `resolved` is a local package's `file:<relative folder>` (absolute file: paths never are). */
export function isLocalResolved(resolved: unknown): boolean {
  if (typeof resolved !== 'string' || !resolved.startsWith(LOCAL_RESOLVED)) return false
  const rel = resolved.slice(LOCAL_RESOLVED.length)
  return rel !== '' && !rel.startsWith('/') && !/^[a-zA-Z]:/.test(rel) && !rel.includes('\\') && !rel.includes('\0')
}

/** Whether a spec names a local package by itself (`file:` or `workspace:`). */
export function isLocalSpec(spec: string): boolean {
  return spec.startsWith('file:') || spec.startsWith('workspace:')
}

/** The repository a layer's local packages must lie in: the workspace root above `start`, else `start`. */
export function repositoryRoot(start: string): string {
  for (let dir = path.resolve(start); ; dir = path.dirname(dir)) {
    if (workspacePatterns(dir)) return dir
    if (existsSync(path.join(dir, '.git')) || path.dirname(dir) === dir) return path.resolve(start)
  }
}

function workspacePatterns(dir: string): string[] | undefined {
  return pnpmWorkspacePatterns(dir) ?? npmWorkspacePatterns(dir)
}

function pnpmWorkspacePatterns(dir: string): string[] | undefined {
  let text: string
  try {
    text = readFileSync(path.join(dir, 'pnpm-workspace.yaml'), 'utf8')
  } catch {
    return undefined
  }
  const file = path.join(dir, 'pnpm-workspace.yaml')
  let parsed: unknown
  try {
    parsed = parseYaml(text)
  } catch (error) {
    throw new UserInputError('ERR_LAYERS_WORKSPACE_INVALID', `${file} is not valid YAML: ${(error as Error).message}`, {hint: 'Fix the file (pnpm reads its `packages` list of globs).', details: {path: file}})
  }
  const list = parsed && typeof parsed === 'object' ? (parsed as {packages?: unknown}).packages : undefined
  // pnpm treats a pnpm-workspace.yaml without `packages` as a workspace of the root alone.
  return Array.isArray(list) ? list.filter((item): item is string => typeof item === 'string') : []
}

function npmWorkspacePatterns(dir: string): string[] | undefined {
  try {
    const json = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as {workspaces?: unknown}
    const field = json.workspaces
    const list = Array.isArray(field) ? field : field && typeof field === 'object' ? (field as {packages?: unknown}).packages : undefined
    return Array.isArray(list) ? list.filter((item): item is string => typeof item === 'string') : undefined
  } catch {
    return undefined
  }
}

function inside(root: string, target: string): boolean {
  const rel = path.relative(root, target)
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel))
}

function posix(rel: string): string {
  return rel.split(path.sep).join('/')
}

/** sha512 SRI over the sorted listing of the packed files (path, length, content). */
export function packedIntegrity(files: readonly PackedFile[]): string {
  const hash = createHash('sha512')
  for (const file of [...files].sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0))) {
    hash.update(`${file.rel}\0${file.data.length}\0`)
    hash.update(file.data)
  }
  return `sha512-${hash.digest('base64')}`
}

export interface LocalContext {
  /** The manifest's folder: `resolved` paths are relative to it. */
  manifestRoot: string
  /** Where messages say the dependency was declared. */
  layer: string
}

/**
 * Finds and packs local packages for one layer; each folder is packed once. `refuse` errors name the
 * layer, the dependency and the path, with exit 2.
 */
export class LocalPackages {
  readonly root: string
  private readonly workspaces: Map<string, string>
  private readonly packed = new Map<string, Promise<PackedPackage>>()

  constructor(private readonly context: LocalContext) {
    this.root = repositoryRoot(context.manifestRoot)
    this.workspaces = workspaceDirs(this.root)
  }

  /** The folder `spec` of dependency `name` (declared in folder `from`) points at, or undefined when it is a registry spec. */
  folderOf(name: string, spec: string, from: string): string | undefined {
    if (spec.startsWith('file:')) {
      const dir = path.resolve(isTarball(from) ? path.dirname(from) : from, spec.slice('file:'.length))
      this.assertInside(name, spec, dir)
      return dir
    }
    if (spec.startsWith('workspace:')) {
      const {target, wanted} = workspaceAlias(name, spec.slice('workspace:'.length))
      if (wanted.startsWith('.') || wanted.startsWith('/')) {
        const dir = path.resolve(from, wanted)
        this.assertInside(name, spec, dir)
        return dir
      }
      const dir = this.workspaces.get(target)
      if (!dir) {
        throw new UserInputError('ERR_LAYERS_LOCAL_PACKAGE_NOT_FOUND', `Layer ${this.context.layer}: ${name}@${spec} names a workspace package, but no workspace of ${this.shown(this.root)} is named ${target}.`, {
          hint: `Add the package's folder to \`workspaces\` in ${this.shown(path.join(this.root, 'package.json'))}, or depend on it with file:<path>.`,
          details: {layer: this.context.layer, package: name, spec},
        })
      }
      const range = wanted === '*' || wanted === '^' || wanted === '~' || wanted === '' ? '*' : wanted
      const version = readManifest(dir).version ?? '0.0.0'
      if (range !== '*' && !semver.satisfies(version, range, {loose: true})) {
        throw new UserInputError('ERR_LAYERS_NO_MATCHING_VERSION', `Layer ${this.context.layer}: ${name}@${spec} does not match the workspace package ${target}@${version} (${this.shown(dir)}).`, {
          hint: `Change the range to one ${version} satisfies, e.g. workspace:*.`,
          details: {layer: this.context.layer, package: name, spec},
        })
      }
      return dir
    }
    // As npm links a workspace for a range its version satisfies.
    const dir = this.workspaces.get(name)
    if (!dir || !semver.validRange(spec, {loose: true})) return undefined
    return semver.satisfies(readManifest(dir).version ?? '0.0.0', spec, {loose: true}) ? dir : undefined
  }

  /** The package in `dir`, packed (integrity) and with its `resolved` path. */
  async load(dir: string): Promise<LocalPackage> {
    const packed = await this.pack(dir)
    const rel = posix(path.relative(this.context.manifestRoot, dir)) || '.'
    return {dir, manifest: packed.manifest, resolved: `${LOCAL_RESOLVED}${rel}`, integrity: packed.integrity}
  }

  pack(dir: string): Promise<PackedPackage> {
    let found = this.packed.get(dir)
    if (!found) this.packed.set(dir, (found = isTarball(dir) ? packTarball(dir) : packDirectory(dir, this.root, [...this.workspaces.values()])))
    return found
  }

    /** Workspace package name -> absolute folder, for the repository of this layer. */
  workspacePackages(): ReadonlyMap<string, string> {
    return this.workspaces
  }

  /** The folder a locked `resolved: file:<path>` names, checked to be inside the repository. */
  lockedFolder(name: string, resolved: string): string {
    const dir = path.resolve(this.context.manifestRoot, resolved.slice(LOCAL_RESOLVED.length))
    this.assertInside(name, resolved, dir)
    return dir
  }

  private assertInside(name: string, spec: string, dir: string): void {
    const escapes = outsideRepository(this.root, dir)
    if (escapes !== undefined) {
      throw new UserInputError('ERR_LAYERS_LOCAL_PACKAGE_OUTSIDE', `Layer ${this.context.layer}: ${name}@${spec} points at ${escapes}, outside the repository ${this.root}${escapes === dir ? '' : ' (through a symlink)'}; refusing to pack it.`, {
        hint: 'A layer may only hold local packages from inside the repository (the manifest\'s folder or the workspace root). Move the package into the repository, or publish it to a registry and depend on its version.',
        details: {layer: this.context.layer, package: name, spec, path: escapes},
      })
    }
    if (isTarball(dir)) {
      if (existsSync(dir) && statSync(dir).isFile()) return
      throw new UserInputError('ERR_LAYERS_LOCAL_PACKAGE_NOT_FOUND', `Layer ${this.context.layer}: ${name}@${spec} points at ${this.shown(dir)}, which is not a file.`, {
        hint: 'Fix the path to the tarball (relative to the package.json that declares the dependency), or remove the dependency.',
        details: {layer: this.context.layer, package: name, spec, path: dir},
      })
    }
    if (!existsSync(dir) || !statSync(dir).isDirectory() || !existsSync(path.join(dir, 'package.json'))) {
      throw new UserInputError('ERR_LAYERS_LOCAL_PACKAGE_NOT_FOUND', `Layer ${this.context.layer}: ${name}@${spec} points at ${this.shown(dir)}, which is not a folder with a package.json.`, {
        hint: 'Fix the path (relative to the package.json that declares the dependency), or remove the dependency.',
        details: {layer: this.context.layer, package: name, spec, path: dir},
      })
    }
  }

  private shown(file: string): string {
    return posix(path.relative(this.context.manifestRoot, file)) || '.'
  }
}

/** The path by which `dir` leaves the repository `root` (as written, else with symlinks resolved); undefined when it stays inside. */
export function outsideRepository(root: string, dir: string): string | undefined {
  if (!inside(root, dir)) return dir
  let real: string
  try {
    real = realpathSync(dir)
  } catch {
    return undefined
  }
  return inside(realpathSync(root), real) ? undefined : real
}

/** For a manifest's `file:` spec: the path it leaves the repository by (relative to the manifest folder `root`); undefined otherwise. */
export function localSpecOutside(root: string, spec: string): string | undefined {
  const rel = spec.startsWith('file:') ? spec.slice('file:'.length) : spec.startsWith('workspace:.') || spec.startsWith('workspace:/') ? spec.slice('workspace:'.length) : undefined
  return rel === undefined ? undefined : outsideRepository(repositoryRoot(root), path.resolve(root, rel))
}

function readManifest(dir: string): PackageVersion {
  return JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as PackageVersion
}

/**
 * The workspace package a `workspace:` spec of dependency `name` names, and the range it asks for:
 * pnpm's alias form `workspace:<target>@<range>` (e.g. `workspace:@acme/real@*`) names `target`;
 * otherwise it is `name` itself. A path (`workspace:./x`) is returned as the range.
 */
export function workspaceAlias(name: string, rest: string): {target: string; wanted: string} {
  if (rest.startsWith('.') || rest.startsWith('/')) return {target: name, wanted: rest}
  const at = rest.indexOf('@', rest.startsWith('@') ? 1 : 0)
  return at > 0 ? {target: rest.slice(0, at), wanted: rest.slice(at + 1)} : {target: name, wanted: rest}
}

/** Workspace package name -> absolute folder, from the workspace globs of the root (pnpm-workspace.yaml, else package.json). */
export function workspaceDirs(root: string): Map<string, string> {
  const found = new Map<string, string>()
  const patterns = workspacePatterns(root)
  if (!patterns || patterns.length === 0) return found
  const manifestOf = (pattern: string): string => `${pattern.replace(/\/+$/, '')}/package.json`
  const included = patterns.filter((pattern) => !pattern.startsWith('!')).map(manifestOf)
  const excluded = patterns.filter((pattern) => pattern.startsWith('!')).flatMap((pattern) => [manifestOf(pattern.slice(1)), `${pattern.slice(1).replace(/\/+$/, '')}/**`])
  const manifests = globSync(included, {cwd: root, ignore: ['**/node_modules/**', ...excluded], absolute: true}).sort()
  for (const file of manifests) {
    const dir = path.dirname(path.resolve(file))
    try {
      const name = readManifest(dir).name
      if (typeof name === 'string' && !found.has(name)) found.set(name, dir)
    } catch {
      // A workspace folder whose package.json does not parse names no package.
    }
  }
  return found
}

/** Whether a local package path names a tarball (npm installs `file:x.tgz` from the tarball). */
export function isTarball(file: string): boolean {
  return /\.(?:tgz|tar\.gz|tar)$/i.test(file)
}

/** The files of the package tarball `file` (under its top folder), with the tarball's sha512 as integrity. */
export async function packTarball(file: string): Promise<PackedPackage> {
  const data = readFileSync(file)
  const refuse = (what: string): UserInputError =>
    new UserInputError('ERR_LAYERS_LOCAL_TARBALL_INVALID', `The package tarball ${file} ${what}.`, {hint: 'Make the tarball with `npm pack`, or depend on the package\'s folder instead.', details: {path: file}})
  const {Parser} = await import('tar')
  const files: PackedFile[] = []
  await new Promise<void>((resolve, reject) => {
    const parser = new Parser({
      strict: true,
      onReadEntry: (entry) => {
        const parts = entry.path.split('/').filter((part) => part !== '' && part !== '.')
        const rel = parts.slice(1).join('/')
        if (entry.type === 'Directory' || rel === '') return entry.resume()
        if (parts.includes('..') || entry.path.startsWith('/') || entry.type !== 'File') {
          entry.resume()
          return reject(refuse(`holds ${entry.path} (${entry.type}), which npm would not install as a file of the package`))
        }
        const chunks: Buffer[] = []
        entry.on('data', (chunk: Buffer) => chunks.push(chunk))
        entry.on('end', () => files.push({rel, data: Buffer.concat(chunks), mode: (entry.mode ?? 0o644) & 0o777}))
      },
    })
    parser.on('error', (error: Error) => reject(refuse(`cannot be read (${error.message})`)))
    parser.on('end', () => resolve())
    parser.end(data)
  })
  files.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0))
  const json = files.find((entry) => entry.rel === 'package.json')
  if (!json) throw refuse('has no package.json in its top folder')
  let manifest: PackageVersion
  try {
    manifest = JSON.parse(json.data.toString('utf8')) as PackageVersion
  } catch (error) {
    throw refuse(`has a package.json that does not parse (${(error as Error).message})`)
  }
  return {files, integrity: `sha512-${createHash('sha512').update(data).digest('base64')}`, manifest: {...manifest, name: manifest.name, version: manifest.version ?? '0.0.0'}}
}

/** Packs `dir` as npm pack would (npm-packlist) and hashes what is packed. */
export async function packDirectory(dir: string, root: string, workspaces: readonly string[]): Promise<PackedPackage> {
  const manifest = readManifest(dir)
  const {default: packlist} = await import('npm-packlist')
  const isWorkspace = workspaces.includes(dir)
  const list = await packlist({path: dir, package: manifest as unknown as Record<string, unknown>, isProjectRoot: true, edgesOut: new Map()}, {path: dir, ...(isWorkspace ? {prefix: root, workspaces: [...workspaces]} : {})})
  const files: PackedFile[] = []
  for (const rel of [...list].sort()) {
    const file = path.join(dir, rel)
    const stat = statSync(file)
    files.push({rel: posix(rel), data: readFileSync(file), mode: stat.mode & 0o777})
  }
  return {files, integrity: packedIntegrity(files), manifest: {...manifest, name: manifest.name, version: manifest.version ?? '0.0.0'}}
}

/**
 * The locked local package `pkg` (at `lockPath` of layer `layer`) packed again, refused when what is
 * packed no longer has the locked hash (as `npm ci` refuses a lock out of date with package.json).
 */
export async function packLockedPackage(local: LocalPackages, layer: string, lockPath: string, pkg: {name: string; resolved: string; integrity: string}): Promise<PackedPackage> {
  const dir = local.lockedFolder(pkg.name, pkg.resolved)
  const packed = await local.pack(dir)
  if (packed.integrity !== pkg.integrity) {
    throw new UserInputError('ERR_LAYERS_LOCAL_PACKAGE_CHANGED', `Layer ${layer}: the local package ${pkg.name} (${pkg.resolved}, ${lockPath}) no longer packs to what lockfile.json locked (${pkg.integrity.slice(0, 22)}..., now ${packed.integrity.slice(0, 22)}...).`, {
      hint: `Its files changed since the layer was locked: run \`layers lock\` to lock the new content, then build again.`,
      details: {layer, package: pkg.name, path: lockPath, resolved: pkg.resolved},
    })
  }
  return packed
}
