// Owns reading and writing lockfile.json: clear errors for a missing, corrupt or hand-broken file, and
// for content that may not be acted on (check.ts: tarball sources, integrity, paths, published ARNs),
// each at its lockfile.json:line:column (found with the manifest's YAML reader, which keeps source
// ranges and reads JSON as the YAML it is, only when there is a problem to locate); atomic writes that
// are skipped when nothing changed; and the read-modify-write under the inter-process lock of
// file-lock.ts, so two commands never interleave theirs.
import {readFile} from 'node:fs/promises'
import {existsSync} from 'node:fs'
import path from 'node:path'
import {millisecondsFromEnv} from '../env.js'
import {OperationalError, UserInputError, type Problem} from '../errors/index.js'
import {writeFileAtomically} from '../fsutil/atomic.js'
import {readYaml} from '../manifest/document.js'
import {loadRegistryPolicy, type NpmConfigSources, type RegistryPolicy} from '../npm/config.js'
import {loadPythonIndexes, type PythonConfigSources, type PythonIndexConfig} from '../python/config.js'
import {checkLockfileContent} from './check.js'
import {withFileLock} from './file-lock.js'
import {checkLockfileShape} from './shape.js'
import {serializeLockfile} from './serialize.js'
import {emptyLockfile, type Lockfile} from './types.js'

export interface ReadLockfileOptions {
  /** Where the npm configuration (the registries tarballs may come from) is read besides the project's .npmrc (tests). */
  npmConfig?: NpmConfigSources
  /** Where pip's and uv's configuration (the indexes wheels may come from) is read (tests). */
  pythonConfig?: PythonConfigSources
}

/**
 * Reads the lockfile; undefined when it does not exist. Throws UserInputError (exit 2) when it is
 * broken or holds what may not be acted on (check.ts), before anything is fetched or written.
 */
export async function readLockfile(file: string, options: ReadLockfileOptions = {}): Promise<Lockfile | undefined> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new OperationalError('ERR_LAYERS_LOCKFILE_READ', `Cannot read ${file}: ${(error as Error).message}`, {cause: error})
  }
  const lock = parseLockfile(file, text)
  // The Python indexes are read only for a lock with pip layers (a uv.toml is parsed by python3).
  const python = Object.values(lock.layers).some((layer) => layer.kind === 'pip') ? loadPythonIndexes(path.dirname(file), options.pythonConfig) : undefined
  assertLockfileSafe(file, text, lock, loadRegistryPolicy(path.dirname(file), options.npmConfig), python)
  return lock
}

/** Throws ERR_LAYERS_LOCKFILE_UNSAFE (exit 2) listing every problem check.ts finds, each at its line and column. */
export function assertLockfileSafe(file: string, text: string, lock: Lockfile, policy: RegistryPolicy, python?: PythonIndexConfig): void {
  const found = checkLockfileContent(lock, policy, python)
  if (found.length === 0) return
  const source = readYaml(text, file)
  const hint = 'Do not build or publish from this lockfile: restore it from version control, or remove the entry and run `layers lock` to resolve it again from the configured registries.'
  const problems: Problem[] = found.map((problem) => ({severity: 'error', code: 'ERR_LAYERS_LOCKFILE_UNSAFE', message: problem.message, hint, location: source.locate(problem.path, problem.part)}))
  throw new UserInputError('ERR_LAYERS_LOCKFILE_UNSAFE', `${file} has ${problems.length} problem${problems.length === 1 ? '' : 's'} that layers refuses to act on.`, {
    location: problems[0]!.location,
    problems,
    hint,
  })
}

export function parseLockfile(file: string, text: string): Lockfile {
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch (error) {
    const {line, column} = jsonErrorPosition(text, (error as Error).message)
    throw new UserInputError('ERR_LAYERS_LOCKFILE_CORRUPT', `${file} is not valid JSON: ${(error as Error).message}`, {
      location: {file, line, column},
      hint: 'Restore it from version control (git checkout -- lockfile.json), or delete it and run `layers lock` to resolve again.',
    })
  }
  const problem = checkLockfileShape(data)
  if (problem) {
    throw new UserInputError('ERR_LAYERS_LOCKFILE_CORRUPT', `${file} is not a valid layers lockfile: ${problem.message}`, {
      location: readYaml(text, file).locate(problem.path),
      hint: 'Restore it from version control, or delete it and run `layers lock` to resolve again.',
    })
  }
  return data as Lockfile
}

function jsonErrorPosition(text: string, message: string): {line: number; column: number} {
  const match = /position (\d+)/.exec(message)
  const lineColumn = /line (\d+) column (\d+)/.exec(message)
  if (lineColumn) return {line: Number(lineColumn[1]), column: Number(lineColumn[2])}
  if (!match) return {line: 1, column: 1}
  const offset = Number(match[1])
  const before = text.slice(0, offset).split('\n')
  return {line: before.length, column: (before.at(-1)?.length ?? 0) + 1}
}

/** Writes the lockfile atomically; does nothing when the bytes would not change. Returns whether it wrote. */
export async function writeLockfile(file: string, lock: Lockfile): Promise<boolean> {
  const text = serializeLockfile(lock)
  if (existsSync(file)) {
    const current = await readFile(file, 'utf8').catch(() => undefined)
    if (current === text) return false
  }
  await writeFileAtomically(file, text)
  return true
}

export interface LockOptions {
  /** How long to wait for another command to release the lock, in ms. */
  waitMs?: number
}

/** The longest LAYERS_LOCK_WAIT_MS allows: every wait for the lock ends. */
export const MAX_LOCK_WAIT_MS = 600_000

/** LAYERS_LOCK_WAIT_MS as a number of milliseconds (default 3000); anything but a whole number up to MAX_LOCK_WAIT_MS is refused. */
export function lockWaitMs(value: string | undefined): number {
  return millisecondsFromEnv('LAYERS_LOCK_WAIT_MS', value, {fallback: 3000, min: 0, max: MAX_LOCK_WAIT_MS, purpose: 'how long to wait for another layers command to release the lock', example: 3000})
}

/** Read-modify-write of the lockfile under its lock. `update` returns the new lock (or the same object). */
export async function updateLockfile(
  file: string,
  update: (lock: Lockfile) => Lockfile | Promise<Lockfile>,
  options: LockOptions & ReadLockfileOptions = {},
): Promise<Lockfile> {
  return withFileLock(
    file,
    async () => {
      const current = (await readLockfile(file, options)) ?? emptyLockfile()
      const next = await update(current)
      await writeLockfile(file, next)
      return next
    },
    options.waitMs ?? lockWaitMs(process.env.LAYERS_LOCK_WAIT_MS),
  )
}
