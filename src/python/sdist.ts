// Owns turning a locked source distribution into a wheel, for a project that publishes no wheel the
// target can install: the sdist (fetched and verified by the builder) is built with its own PEP 517
// build backend in an isolated environment by `uv build --wheel` (else `python3 -m pip wheel
// --no-deps`), the backend's build requirements from the configured indexes only, with
// SOURCE_DATE_EPOCH and PYTHONHASHSEED fixed so a backend that honours them writes the same bytes
// each time. Nothing else of the package runs: the backend's build hooks only, never an install.
// The result must be pure Python: every tag `<python>-none-any`, no extension module (.so, .pyd,
// .dylib) inside; a native one is refused naming the package and the target. The built wheel is
// cached by the sdist's sha256 ($XDG_CACHE_HOME/layers/wheels/built/), so a warm build does not build
// again, and one build run builds each sdist once.
import {copyFile, mkdtemp, readdir, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import path from 'node:path'
import yauzl from 'yauzl'
import {OperationalError, UserInputError} from '../errors/index.js'
import {withAtomicOutput} from '../fsutil/atomic.js'
import type {LockedWheel} from '../lock/types.js'
import {withoutCredentials, type PythonIndexConfig} from './config.js'
import {hostInterpreter, resolverEnv, runTool} from './resolve.js'
import {parseWheelName, tagRanking, wheelRank, type PythonTarget} from './targets.js'

/** The zip epoch (1980-01-01T00:00:00Z): the earliest time a wheel's entries can carry. */
export const SDIST_BUILD_EPOCH = '315532800'

/** Why a built wheel is not pure Python (its tags, or the extension modules in it); undefined when it is. */
export function nativeContent(wheelFilename: string, entries: readonly string[]): string | undefined {
  const tags = parseWheelName(wheelFilename)?.tags ?? []
  const native = tags.filter((tag) => !/^py\d*-none-any$/.test(tag))
  if (tags.length === 0 || native.length > 0) return `the wheel it builds is tagged ${native.join('.') || wheelFilename}, not <python>-none-any`
  const extensions = entries.filter((entry) => /\.(so|pyd|dylib)$|\.so\.\d/.test(entry))
  if (extensions.length > 0) return `the wheel it builds holds extension modules (${extensions.slice(0, 3).join(', ')}${extensions.length > 3 ? ', ...' : ''})`
  return undefined
}

async function zipEntryNames(file: string): Promise<string[]> {
  const zip = await yauzl.openPromise(file, {lazyEntries: true})
  const names: string[] = []
  try {
    await new Promise<void>((resolve, reject) => {
      zip.on('error', reject)
      zip.on('end', () => resolve())
      zip.on('entry', (entry: yauzl.Entry) => {
        names.push(entry.fileName)
        zip.readEntry()
      })
      zip.readEntry()
    })
  } finally {
    zip.close()
  }
  return names
}

export interface SdistBuild {
  layer: string
  /** Where, for messages: the runtime and the artifact, e.g. `python3.12, arm64+x86_64`. */
  where: string
  /** The targets the wheel is for (its tags must fit each). */
  targets: readonly PythonTarget[]
  sdist: LockedWheel
  /** The verified sdist file. */
  file: string
  config: PythonIndexConfig
  /** The wheel cache root (wheel-cache.ts wheelCacheDir). */
  cacheDir: string
  env?: NodeJS.ProcessEnv
}

/** One build per sdist per process, shared by every runtime and artifact that locks it. */
const building = new Map<string, Promise<string>>()

/** The path of the pure-Python wheel built from `build.sdist` (from the cache when it was built before). */
export async function wheelFromSdist(build: SdistBuild): Promise<string> {
  const {sdist} = build
  let pending = building.get(sdist.sha256)
  if (!pending) {
    pending = cachedOrBuilt(build)
    building.set(sdist.sha256, pending)
    pending.catch(() => building.delete(sdist.sha256))
  }
  const wheel = await pending
  const filename = path.basename(wheel)
  const parsed = parseWheelName(filename)
  const problem =
    parsed === undefined || parsed.name !== sdist.name
      ? `it builds ${filename}, which is not a wheel of ${sdist.name}`
      : nativeContent(filename, await zipEntryNames(wheel)) ?? build.targets.map((target) => (wheelRank(filename, tagRanking(target)) === undefined ? `the wheel it builds (${filename}) does not install on ${target.runtime.runtime}` : undefined)).find(Boolean)
  if (problem) {
    throw new UserInputError('ERR_LAYERS_PYTHON_SDIST_NATIVE', `Layer ${build.layer} (${build.where}): ${sdist.name} ${sdist.version} has no wheel for this runtime and architecture, and its sdist ${sdist.filename} is not pure Python: ${problem}. layers builds pure-Python sdists only and never compiles native code on the host.`, {
      hint: `Pin a version of ${sdist.name} that ships a manylinux wheel for ${[...new Set(build.targets.map((target) => `${target.runtime.runtime} ${target.architecture}`))].join(', ')} (cpXY or abi3), publish such a wheel to your index, or drop the runtime or architecture from the layer.`,
      details: {layer: build.layer, package: sdist.name, version: sdist.version, runtimes: [...new Set(build.targets.map((target) => target.runtime.runtime))], architectures: [...new Set(build.targets.map((target) => target.architecture))]},
    })
  }
  return wheel
}

async function cachedOrBuilt(build: SdistBuild): Promise<string> {
  const dir = path.join(build.cacheDir, 'built', build.sdist.sha256.slice(0, 2), build.sdist.sha256)
  const cached = (await readdir(dir).catch(() => [] as string[])).find((name) => name.endsWith('.whl'))
  if (cached) return path.join(dir, cached)
  const work = await mkdtemp(path.join(tmpdir(), 'layers-sdist-'))
  try {
    const built = await runBuild(build, work)
    const target = path.join(dir, path.basename(built))
    await withAtomicOutput(target, (temp) => copyFile(built, temp))
    return target
  } finally {
    await rm(work, {recursive: true, force: true})
  }
}

/** Builds the sdist into `work/out` with uv (or pip); the built wheel's path. */
async function runBuild(build: SdistBuild, work: string): Promise<string> {
  const base = build.env ?? process.env
  const env = {...resolverEnv(base, build.config), SOURCE_DATE_EPOCH: SDIST_BUILD_EPOCH, PYTHONHASHSEED: '0', PYTHONDONTWRITEBYTECODE: '1'}
  const out = path.join(work, 'out')
  // The sdist keeps its file name: backends and frontends read the project and version from it.
  const source = path.join(work, build.sdist.filename)
  await copyFile(build.file, source)
  const python = await hostInterpreter(base)
  const uv = base.LAYERS_UV ?? 'uv'
  let tool = 'uv build'
  let result = await runTool(uv, ['build', '--wheel', '--out-dir', out, '--no-progress', '--color', 'never', '--quiet', ...(python ? ['--python', python] : []), source], env, work)
  if (result.error) {
    tool = 'pip wheel'
    result = await runTool(python ?? base.LAYERS_PYTHON ?? 'python3', ['-m', 'pip', 'wheel', '--no-deps', '--quiet', '--wheel-dir', out, source], env, work)
  }
  const wheel = result.status === 0 ? (await readdir(out).catch(() => [] as string[])).find((name) => name.endsWith('.whl')) : undefined
  if (!wheel) {
    const output = withoutCredentials((result.stderr || result.stdout || result.error?.message || '').trim()).split('\n').slice(-12).join('\n')
    throw new OperationalError('ERR_LAYERS_PYTHON_SDIST_BUILD', `Layer ${build.layer} (${build.where}): ${build.sdist.name} ${build.sdist.version} has no wheel for this runtime and architecture, and building its sdist ${build.sdist.filename} with ${tool} failed (exit ${result.status ?? 'none'})${output ? `:\n${output}` : '.'}`, {
      hint: `layers builds pure-Python sdists with their build backend, whose requirements must be on the configured indexes; a package that compiles native code needs a wheel: pin a version of ${build.sdist.name} that ships one for this runtime and architecture, or publish one to your index.`,
      details: {layer: build.layer, package: build.sdist.name, version: build.sdist.version},
    })
  }
  return path.join(out, wheel)
}
