// Owns building a pip layer artifact from its locked wheels, without pip and without running any code
// of the packages: each wheel is fetched by its locked URL (from the wheel cache when there) and its
// sha256 verified, then unpacked here (yauzl) into `python/` (Lambda's /opt/python on sys.path), or
// into `python/lib/pythonX.Y/site-packages/` per runtime when the layer has several Python runtimes
// (Lambda puts that directory on sys.path too), so each runtime finds the wheels built for it.
// Rules for a wheel's entries:
// - names must pass the zip writer's path rules (no absolute path, `..`, backslash or empty segment)
//   and symbolic links are refused: the build fails naming the layer, runtime and wheel;
// - `<name>.data/purelib/` and `platlib/` go to the install root as installers put them, `scripts/` to
//   `bin/`; `headers/` and `data/` are left out (they do not belong on sys.path);
// - compiled bytecode (`*.pyc`, `__pycache__/`) is never stored (its bytes depend on the compiler);
// - the mode is 0755 when the wheel gives any execute bit, else 0644;
// - two wheels writing one path with different bytes: the later one in (runtime, project) order wins,
//   with a warning. The default prune list is for npm packages and does not apply; `exclude` does.
// A locked sdist (a project with no wheel for the target) is fetched and verified the same way, then
// built into a pure-Python wheel (sdist.ts) that is unpacked by these rules.
// Fetched files (download.ts: pip's retries and timeout) are kept in the wheel cache (wheel-cache.ts), content-addressed by sha256.
import {createHash} from 'node:crypto'
import pLimit from 'p-limit'
import yauzl from 'yauzl'
import {registerLayerBuilder, type LayerBuilder, type LayerBuildJob} from '../build/builders.js'
import type {ContentSpool, SpooledContent} from '../build/spool.js'
import {zipPathProblem, type ZipEntry} from '../build/zip.js'
import {OperationalError, UserInputError} from '../errors/index.js'
import type {EmitEvent} from '../events.js'
import {wheelProblem} from '../lock/check.js'
import type {LockedWheel} from '../lock/types.js'
import {loadPythonIndexes, withoutCredentials, type PythonIndexConfig} from './config.js'
import {certificateHint, downloadFromIndex, IndexDownloadError} from './download.js'
import {wheelFromSdist} from './sdist.js'
import {parseSdistName, pythonRuntime} from './targets.js'
import {cacheDistribution, cachedDistribution, wheelCacheDir} from './wheel-cache.js'

/** A wheel download attempt that has not finished after this long fails (however steadily its bytes arrive). */
const WHEEL_TIMEOUT_MS = 600_000

/** Bump when a rule above changes: it is part of the build cache key. */
const PIP_LAYOUT_VERSION = 1

/** runtime -> install root inside the zip. */
function installRoots(runtimes: readonly string[]): Map<string, string> {
  if (runtimes.length === 1) return new Map([[runtimes[0]!, 'python/']])
  return new Map(runtimes.map((runtime) => [runtime, `python/lib/${runtime}/site-packages/`]))
}

function lockedWheels(job: LayerBuildJob): Array<{runtime: string; wheel: LockedWheel}> {
  const wheels = job.artifact.wheels
  if (wheels === undefined || Object.keys(wheels).length === 0) {
    throw new UserInputError('ERR_LAYERS_LOCK_INCOMPLETE', `lockfile.json has no wheels for layer ${job.name} (${job.artifactKey}).`, {
      hint: 'Run `layers lock` to resolve it again.',
      details: {layer: job.name, artifact: job.artifactKey},
    })
  }
  return Object.keys(wheels)
    .sort()
    .flatMap((runtime) => Object.keys(wheels[runtime]!).sort().map((name) => ({runtime, wheel: wheels[runtime]![name]!})))
}

/** The locked file's path in the cache (a wheel, or an sdist), fetched (tried again per download.ts) and verified first when it is not there or no longer matches. */
async function fetchWheel(layer: string, runtime: string, wheel: LockedWheel, config: PythonIndexConfig, signal: AbortSignal | undefined, emit: EmitEvent): Promise<string> {
  const cached = await cachedDistribution(wheel)
  if (cached) return cached
  let body: Buffer
  try {
    body = await downloadFromIndex(wheel.url, config, {what: `${wheel.filename} (layer ${layer})`, totalTimeoutMs: WHEEL_TIMEOUT_MS, signal, emit})
  } catch (error) {
    if (!(error instanceof IndexDownloadError)) throw error
    throw new OperationalError('ERR_LAYERS_PYTHON_FETCH', `Layer ${layer} (${runtime}): cannot fetch ${wheel.filename} from ${withoutCredentials(wheel.url)} (index ${wheel.index}): ${error.message}.`, {
      hint: certificateHint(error) ?? 'Check the network and the index credentials (pip.conf / uv.toml), then run `layers build` again; pip\'s `retries` and `timeout` (pip.conf, PIP_RETRIES, PIP_TIMEOUT) set how long it is tried.',
      details: {layer, runtime, package: wheel.name, index: wheel.index, attempts: error.attempts},
    })
  }
  const actual = createHash('sha256').update(body).digest('hex')
  if (actual !== wheel.sha256) {
    throw new OperationalError('ERR_LAYERS_INTEGRITY_MISMATCH', `Layer ${layer} (${runtime}): ${wheel.filename} (${wheel.name} ${wheel.version}) from ${withoutCredentials(wheel.url)} does not match its sha256 in lockfile.json: expected ${wheel.sha256}, got ${actual}; nothing was unpacked.`, {
      hint: `Either the index (or a proxy) now serves other bytes than were locked: do not trust them, check the index in pip.conf / uv.toml; or lockfile.json is wrong (edited, or locked from another index): run \`layers lock --update ${layer}/${wheel.name}\` to lock it again.`,
      details: {layer, runtime, package: wheel.name, version: wheel.version, expected: wheel.sha256, actual},
    })
  }
  return cacheDistribution(wheel, body)
}

interface WheelFile {
  zipPath: string
  mode: number
  size: number
  content: SpooledContent
  sha256: string
  from: string
}

const S_IFMT = 0o170000
const S_IFLNK = 0o120000

/** Where a wheel entry goes under `root`; undefined when it is left out. */
export function installPath(entryName: string, root: string): string | undefined {
  if (/(^|\/)__pycache__\//.test(entryName) || /\.py[co]$/.test(entryName)) return undefined
  const data = /^[^/]+\.data\/([^/]+)\/(.+)$/.exec(entryName)
  if (!data) return root + entryName
  const [, scheme, rest] = data as unknown as [string, string, string]
  if (scheme === 'purelib' || scheme === 'platlib') return root + rest
  if (scheme === 'scripts') return `${root}bin/${rest}`
  return undefined
}

async function unpackWheel(layer: string, runtime: string, wheel: LockedWheel, file: string, root: string, spool: ContentSpool): Promise<WheelFile[]> {
  const unsafe = (why: string): UserInputError =>
    new UserInputError('ERR_LAYERS_PYTHON_WHEEL_UNSAFE', `Layer ${layer} (${runtime}): wheel ${wheel.filename} ${why}; refusing to build it.`, {
      hint: 'A wheel may hold regular files at relative paths only. Pin another version of the package, or report it to its maintainers.',
      details: {layer, runtime, package: wheel.name, version: wheel.version},
    })
  let zip: yauzl.ZipFile
  try {
    zip = await yauzl.openPromise(file, {lazyEntries: true, strictFileNames: true, validateEntrySizes: true})
  } catch (error) {
    throw unsafe(`cannot be read as a zip (${(error as Error).message})`)
  }
  const files: WheelFile[] = []
  try {
    await new Promise<void>((resolve, reject) => {
      zip.on('error', (error: Error) => reject(unsafe(`cannot be read (${error.message})`)))
      zip.on('end', () => resolve())
      zip.on('entry', (entry: yauzl.Entry) => {
        const name = entry.fileName
        const handle = async (): Promise<void> => {
          const problem = zipPathProblem(name.replace(/\/$/, ''))
          if (problem) throw unsafe(`holds the entry ${JSON.stringify(name)} (${problem})`)
          const mode = entry.externalFileAttributes >>> 16
          if ((mode & S_IFMT) === S_IFLNK) throw unsafe(`holds a symbolic link ${JSON.stringify(name)}`)
          if (name.endsWith('/')) return
          const zipPath = installPath(name, root)
          if (zipPath === undefined) return
          const chunks: Buffer[] = []
          for await (const chunk of await zip.openReadStreamPromise(entry)) chunks.push(chunk as Buffer)
          const data = Buffer.concat(chunks)
          files.push({zipPath, mode: mode & 0o111 ? 0o755 : 0o644, size: data.length, content: await spool.put(data), sha256: createHash('sha256').update(data).digest('hex'), from: `${wheel.name} ${wheel.version}`})
        }
        handle().then(() => zip.readEntry(), reject)
      })
      zip.readEntry()
    })
  } catch (error) {
    if (error instanceof UserInputError) throw error
    throw unsafe(`cannot be read (${(error as Error).message})`)
  } finally {
    zip.close()
  }
  return files
}

function collectEntries(layer: string, files: WheelFile[], spool: ContentSpool, emit: EmitEvent, excluded: (zipPath: string) => boolean): ZipEntry[] {
  const byPath = new Map<string, WheelFile>()
  for (const file of files) {
    if (excluded(file.zipPath)) continue
    const earlier = byPath.get(file.zipPath)
    if (earlier && earlier.sha256 !== file.sha256) {
      emit({type: 'warning', warning: {severity: 'warning', code: 'ERR_LAYERS_PYTHON_FILE_CONFLICT', message: `Layer ${layer}: ${file.zipPath} is in both ${earlier.from} and ${file.from}, with different content; ${file.from}'s is kept.`, hint: 'Two distributions install the same file: drop one of them, or check that their versions go together.'}})
    }
    byPath.set(file.zipPath, file)
  }
  return [...byPath.values()].map((file) => ({path: file.zipPath, mode: file.mode, size: file.size, open: () => spool.open(file.content)}))
}

export const pipLayerBuilder: LayerBuilder = {
  async cacheInputs(job) {
    const wheels = lockedWheels(job).map(({runtime, wheel}) => [runtime, wheel.name, wheel.filename, wheel.sha256])
    return {kind: 'pip', layout: PIP_LAYOUT_VERSION, wheels}
  },
  async collect(job, tools) {
    const wheels = lockedWheels(job)
    const config = loadPythonIndexes(job.manifest.root)
    for (const {runtime, wheel} of wheels) {
      const problem = wheelProblem(wheel.name, wheel, config)
      if (problem) {
        throw new UserInputError('ERR_LAYERS_LOCKFILE_UNSAFE', `Layer ${job.name} (${job.artifactKey}, ${runtime}): the wheel of ${wheel.name} ${problem}; refusing to fetch it.`, {
          hint: 'Restore lockfile.json from version control, or run `layers lock` to resolve the layer again from the configured indexes.',
          details: {layer: job.name, runtime, package: wheel.name},
        })
      }
    }
    const roots = installRoots(Object.keys(job.artifact.wheels!).sort())
    const limit = pLimit(8)
    const unpacked = await Promise.all(
      wheels.map(({runtime, wheel}) =>
        limit(async () => {
          tools.emit({type: 'progress', phase: 'build', message: `${job.name}: ${wheel.filename}`})
          const fetched = await fetchWheel(job.name, runtime, wheel, config, tools.signal, tools.emit)
          const file = parseSdistName(wheel.filename)
            ? await wheelFromSdist({layer: job.name, where: `${runtime}, ${job.artifactKey}`, targets: job.artifact.architectures.map((architecture) => ({runtime: pythonRuntime(runtime)!, architecture})), sdist: wheel, file: fetched, config, cacheDir: wheelCacheDir()})
            : fetched
          return unpackWheel(job.name, runtime, wheel, file, roots.get(runtime)!, tools.spool)
        }),
      ),
    )
    const entries = collectEntries(job.name, unpacked.flat(), tools.spool, tools.emit, (zipPath) => tools.pruner.excluded(zipPath, '', true))
    return {entries, packages: new Set(wheels.map(({wheel}) => wheel.name)).size}
  },
}

registerLayerBuilder('pip', pipLayerBuilder)
