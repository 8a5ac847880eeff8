// Owns custom-runtime templates: finding one (a built-in name under templates/runtimes/, or a user's
// template directory given as a path), reading its descriptor `template.json` and checking it. A
// descriptor says which files of the template go where in the layer (`files`: layer path -> path in
// the template; `bootstrap` is required) and, for templates that ship a binary, which npm package
// provides it per architecture and which of the package's files go where (`binary`). Template files
// must stay inside the template directory (built-in templates: inside templates/runtimes).
import {lstat, open, readFile, readdir, realpath} from 'node:fs/promises'
import path from 'node:path'
import semver from 'semver'
import {UserInputError, type Problem} from '../errors/index.js'
import {ARCHITECTURES, type Architecture} from '../manifest/types.js'
import {zipPathProblem} from '../build/zip.js'
import {toolRoot} from '../project/paths.js'

export const TEMPLATE_DESCRIPTOR = 'template.json'

export interface TemplateFile {
  /** Path in the layer (POSIX, relative). */
  layerPath: string
  /** Absolute path of the file to copy. */
  source: string
  /** Executable in the layer (bootstrap always; otherwise the source's execute bit). */
  executable: boolean
}

export interface TemplateBinary {
  /** npm package providing the binary, per architecture. */
  packages: Partial<Record<Architecture, string>>
  /** Layer path -> path inside the package (its first tarball segment stripped). Always executable. */
  files: Record<string, string>
}

export interface RuntimeTemplate {
  /** What the lockfile records: the built-in name, or the directory relative to the manifest (`./x`). */
  id: string
  builtIn: boolean
  /** Absolute path of the template directory. */
  dir: string
  description?: string
  /** The semver range the template suggests when the manifest gives none. */
  version?: string
  binary?: TemplateBinary
  /** Sorted by layer path. */
  files: TemplateFile[]
}

const DESCRIPTOR_KEYS = new Set(['description', 'version', 'binary', 'files'])
const NPM_NAME = /^(?:@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*$/
const TEMPLATE_NAME = /^[a-z0-9][a-z0-9_-]*$/

/** templates/runtimes of this installation (the package root holds templates/, src/ and dist/). */
export function builtInTemplatesDir(): string {
  return path.join(toolRoot(), 'templates', 'runtimes')
}

/** Names of the built-in templates (directories holding a template.json), sorted. */
export async function listBuiltInTemplates(): Promise<string[]> {
  const entries = await readdir(builtInTemplatesDir(), {withFileTypes: true})
  const names = entries.filter((entry) => entry.isDirectory() && TEMPLATE_NAME.test(entry.name)).map((entry) => entry.name)
  const withDescriptor = await Promise.all(names.map(async (name) => ((await lstat(path.join(builtInTemplatesDir(), name, TEMPLATE_DESCRIPTOR)).catch(() => undefined))?.isFile() ? name : undefined)))
  return withDescriptor.filter((name): name is string => name !== undefined).sort()
}

/** True when a manifest `template:` value names a directory rather than a built-in template. */
export function isTemplatePath(template: string): boolean {
  return path.isAbsolute(template) || template.startsWith('./') || template.startsWith('../') || template === '.' || template === '..'
}

export interface LoadTemplateOptions {
  /** The manifest's directory: relative template paths resolve from it and are recorded relative to it. */
  root: string
  /** The layer using the template, for messages. */
  layer: string
}

/**
 * Loads and checks a template. Throws UserInputError ERR_LAYERS_RUNTIME_TEMPLATE_UNKNOWN for an
 * unknown built-in name, ERR_LAYERS_RUNTIME_TEMPLATE_MISSING for a missing directory or descriptor,
 * and ERR_LAYERS_RUNTIME_TEMPLATE_INVALID (every problem in `problems`) for a bad descriptor.
 */
export async function loadRuntimeTemplate(template: string, options: LoadTemplateOptions): Promise<RuntimeTemplate> {
  const builtIn = !isTemplatePath(template)
  let dir: string
  let id: string
  if (builtIn) {
    const names = await listBuiltInTemplates()
    if (!names.includes(template)) {
      throw new UserInputError('ERR_LAYERS_RUNTIME_TEMPLATE_UNKNOWN', `Layer ${options.layer}: there is no runtime template named ${JSON.stringify(template)}.`, {
        hint: `Built-in templates: ${names.join(', ')}. For your own template, give a path starting with ./ (relative to the manifest).`,
        details: {layer: options.layer, template},
      })
    }
    dir = path.join(builtInTemplatesDir(), template)
    id = template
  } else {
    dir = path.resolve(options.root, template)
    const relative = path.relative(options.root, dir).split(path.sep).join('/')
    id = relative === '' ? '.' : relative.startsWith('../') || relative === '..' ? relative : `./${relative}`
  }
  const descriptorPath = path.join(dir, TEMPLATE_DESCRIPTOR)
  let text: string
  try {
    text = await readFile(descriptorPath, 'utf8')
  } catch (error) {
    throw new UserInputError('ERR_LAYERS_RUNTIME_TEMPLATE_MISSING', `Layer ${options.layer}: cannot read the runtime template descriptor ${descriptorPath} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}).`, {
      hint: `A template directory holds ${TEMPLATE_DESCRIPTOR} and a bootstrap; check the layer's \`template\` (relative paths resolve from the manifest's directory).`,
      details: {layer: options.layer, template},
    })
  }
  // Built-in templates may share files with each other (bun and deno use the node template's loop).
  const allowedRoots = [await realpath(builtIn ? builtInTemplatesDir() : dir)]
  const problems: Problem[] = []
  const parsed = await checkDescriptor(text, descriptorPath, dir, allowedRoots, problems)
  if (problems.length > 0 || !parsed) {
    throw new UserInputError('ERR_LAYERS_RUNTIME_TEMPLATE_INVALID', `Layer ${options.layer}: runtime template ${descriptorPath} is not valid:\n${problems.map((problem) => `  - ${problem.message}`).join('\n')}`, {
      hint: 'Fix the template descriptor (see templates/runtimes/*/template.json for examples).',
      problems,
      details: {layer: options.layer, template},
    })
  }
  return {id, builtIn, dir, ...parsed}
}

type ParsedDescriptor = Omit<RuntimeTemplate, 'id' | 'builtIn' | 'dir'>

async function checkDescriptor(text: string, file: string, dir: string, allowedRoots: string[], problems: Problem[]): Promise<ParsedDescriptor | undefined> {
  const problem = (message: string): void => {
    problems.push({severity: 'error', code: 'ERR_LAYERS_RUNTIME_TEMPLATE_INVALID', message: `${file}: ${message}`})
  }
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch (error) {
    problem(`not valid JSON (${(error as Error).message})`)
    return undefined
  }
  if (!isRecord(data)) {
    problem('must be a JSON object')
    return undefined
  }
  for (const key of Object.keys(data)) if (!DESCRIPTOR_KEYS.has(key)) problem(`unknown key ${JSON.stringify(key)} (allowed: ${[...DESCRIPTOR_KEYS].join(', ')})`)
  const result: ParsedDescriptor = {files: []}
  if (data.description !== undefined) {
    if (typeof data.description === 'string') result.description = data.description
    else problem('description must be a string')
  }
  if (data.version !== undefined) {
    if (typeof data.version === 'string' && semver.validRange(data.version)) result.version = data.version
    else problem(`version must be a semver range, got ${JSON.stringify(data.version)}`)
  }
  const layerPaths = new Set<string>()
  if (!isRecord(data.files) || Object.keys(data.files).length === 0) {
    problem('files must be an object mapping layer paths to template files, with at least "bootstrap"')
  } else {
    if (!('bootstrap' in data.files)) problem('files must map "bootstrap" (the executable Lambda starts) to a file of the template')
    for (const [layerPath, source] of Object.entries(data.files)) {
      const pathProblem = zipPathProblem(layerPath)
      if (pathProblem) {
        problem(`files: layer path ${JSON.stringify(layerPath)} is not allowed (${pathProblem})`)
        continue
      }
      if (typeof source !== 'string' || source === '' || path.isAbsolute(source)) {
        problem(`files.${layerPath} must be a relative path inside the template, got ${JSON.stringify(source)}`)
        continue
      }
      const checked = await checkTemplateFile(path.resolve(dir, source), allowedRoots)
      if (typeof checked === 'string') {
        problem(`files.${layerPath}: ${source} ${checked}`)
        continue
      }
      if (layerPath === 'bootstrap' && !checked.startsExecutable) problem(`files.bootstrap: ${source} must start with #! (a script) or be an ELF executable`)
      layerPaths.add(layerPath)
      result.files.push({layerPath, source: checked.real, executable: layerPath === 'bootstrap' || checked.executable})
    }
    result.files.sort((a, b) => (a.layerPath < b.layerPath ? -1 : a.layerPath > b.layerPath ? 1 : 0))
  }
  if (data.binary !== undefined) result.binary = checkBinary(data.binary, layerPaths, problem)
  return result
}

function checkBinary(binary: unknown, layerPaths: Set<string>, problem: (message: string) => void): TemplateBinary | undefined {
  if (!isRecord(binary)) {
    problem('binary must be an object with packages and files')
    return undefined
  }
  for (const key of Object.keys(binary)) if (key !== 'packages' && key !== 'files') problem(`binary: unknown key ${JSON.stringify(key)} (allowed: packages, files)`)
  const packages: Partial<Record<Architecture, string>> = {}
  if (!isRecord(binary.packages) || Object.keys(binary.packages).length === 0) {
    problem(`binary.packages must map architectures (${ARCHITECTURES.join(', ')}) to npm package names`)
  } else {
    for (const [arch, name] of Object.entries(binary.packages)) {
      if (!(ARCHITECTURES as readonly string[]).includes(arch)) problem(`binary.packages: unknown architecture ${JSON.stringify(arch)} (allowed: ${ARCHITECTURES.join(', ')})`)
      else if (typeof name !== 'string' || !NPM_NAME.test(name)) problem(`binary.packages.${arch} must be an npm package name, got ${JSON.stringify(name)}`)
      else packages[arch as Architecture] = name
    }
  }
  const files: Record<string, string> = {}
  if (!isRecord(binary.files) || Object.keys(binary.files).length === 0) {
    problem('binary.files must map layer paths to paths inside the package (e.g. {"bin/node": "bin/node"})')
  } else {
    for (const [layerPath, inPackage] of Object.entries(binary.files)) {
      const pathProblem = zipPathProblem(layerPath)
      if (pathProblem) problem(`binary.files: layer path ${JSON.stringify(layerPath)} is not allowed (${pathProblem})`)
      else if (layerPaths.has(layerPath)) problem(`binary.files: ${layerPath} is also in files`)
      else if (typeof inPackage !== 'string' || zipPathProblem(inPackage)) problem(`binary.files.${layerPath} must be a relative path inside the package, got ${JSON.stringify(inPackage)}`)
      else files[layerPath] = inPackage
    }
  }
  return {packages, files}
}

/** The file's real path and modes, or why it cannot be used. */
async function checkTemplateFile(file: string, allowedRoots: string[]): Promise<{real: string; executable: boolean; startsExecutable: boolean} | string> {
  let real: string
  try {
    real = await realpath(file)
  } catch {
    return 'does not exist'
  }
  if (!allowedRoots.some((root) => real.startsWith(root + path.sep))) return 'is outside the template directory'
  const info = await lstat(real)
  if (!info.isFile()) return 'is not a regular file'
  const handle = await open(real, 'r')
  const head = Buffer.alloc(4)
  try {
    await handle.read(head, 0, 4, 0)
  } finally {
    await handle.close()
  }
  const startsExecutable = head.subarray(0, 2).toString('latin1') === '#!' || head.equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]))
  return {real, executable: (info.mode & 0o111) !== 0, startsExecutable}
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
