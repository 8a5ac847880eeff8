// Owns the cache of locked Python distributions (wheels and sdists), content-addressed by sha256
// ($XDG_CACHE_HOME/layers/wheels, or ~/.cache/layers/wheels): the build fetches a locked file once,
// and lock puts there a wheel it had to download whole for its licence (an index without PEP 658
// metadata), so the build does not download it again. Only bytes already checked against their
// sha256 are put in; a cached file is used only while its bytes still have it.
import {createHash} from 'node:crypto'
import {createReadStream} from 'node:fs'
import {writeFile} from 'node:fs/promises'
import {homedir} from 'node:os'
import path from 'node:path'
import {pipeline} from 'node:stream/promises'
import {withAtomicOutput} from '../fsutil/atomic.js'
import type {LockedWheel} from '../lock/types.js'

type Distribution = Pick<LockedWheel, 'filename' | 'sha256'>

export function wheelCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(env.XDG_CACHE_HOME ?? path.join(homedir(), '.cache'), 'layers', 'wheels')
}

function cachePath(distribution: Distribution): string {
  const suffix = distribution.filename.endsWith('.whl') ? '.whl' : distribution.filename.endsWith('.zip') ? '.sdist.zip' : '.sdist.tar.gz'
  return path.join(wheelCacheDir(), distribution.sha256.slice(0, 2), `${distribution.sha256}${suffix}`)
}

async function sha256Of(file: string): Promise<string | undefined> {
  const hash = createHash('sha256')
  try {
    await pipeline(createReadStream(file), hash)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
  return hash.digest('hex')
}

/** The cached file of `distribution`, when there and its bytes still have its sha256. */
export async function cachedDistribution(distribution: Distribution): Promise<string | undefined> {
  const file = cachePath(distribution)
  return (await sha256Of(file)) === distribution.sha256 ? file : undefined
}

/** Puts `body` (already checked against `distribution.sha256`) in the cache; returns its path. */
export async function cacheDistribution(distribution: Distribution, body: Buffer): Promise<string> {
  const file = cachePath(distribution)
  await withAtomicOutput(file, (temp) => writeFile(temp, body))
  return file
}
