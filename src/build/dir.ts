// Owns reading a `dir` layer: the directory's content is the layer, with paths relative to it. Files
// are listed (not read) here; the zip writer streams each one when its turn comes. Symbolic links are
// followed only while they stay inside the directory (stored as copies of their target); a link that
// leads out of it fails the build, naming the link and where it points. Sockets, FIFOs and devices are
// skipped. Also hashes the listed files for the build cache key.
import {createHash} from 'node:crypto'
import {createReadStream} from 'node:fs'
import {lstat, readdir, readlink, realpath, stat} from 'node:fs/promises'
import path from 'node:path'
import {pipeline} from 'node:stream/promises'
import {UserInputError} from '../errors/index.js'
import {splitInnerPackage, type Pruner} from './prune.js'
import type {ZipEntry} from './zip.js'

export interface DirFile {
  /** Path inside the layer (POSIX). */
  rel: string
  /** Absolute path of the file to read (a link's real target). */
  source: string
  mode: number
  size: number
}

/** Lists the files of a dir layer that are not excluded, in byte order of their paths. */
export async function listDirLayer(layer: string, dir: string, pruner: Pruner): Promise<DirFile[]> {
  let root: string
  try {
    root = await realpath(dir)
    if (!(await stat(root)).isDirectory()) throw Object.assign(new Error('not a directory'), {code: 'ENOTDIR'})
  } catch (error) {
    throw new UserInputError('ERR_LAYERS_DIR_MISSING', `Layer ${layer}: ${dir} is not a readable directory (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}).`, {
      hint: `Create it, or fix the layer's \`dir\` in the manifest (relative paths resolve from the manifest's directory).`,
      details: {layer, dir},
    })
  }
  const files: DirFile[] = []
  const walk = async (absolute: string, rel: string, chain: Set<string>): Promise<void> => {
    const names = (await readdir(absolute)).sort()
    for (const name of names) {
      const childAbs = path.join(absolute, name)
      const childRel = rel === '' ? name : `${rel}/${name}`
      const info = await lstat(childAbs)
      let target = childAbs
      let targetInfo = info
      if (info.isSymbolicLink()) {
        const link = await readlink(childAbs)
        try {
          target = await realpath(childAbs)
        } catch {
          throw new UserInputError('ERR_LAYERS_LINK_DANGLING', `Layer ${layer}: ${childRel} is a link to ${link}, which does not exist.`, {
            hint: 'Remove the link, point it at a file inside the directory, or exclude it in the manifest.',
            details: {layer, path: childRel, target: link},
          })
        }
        if (target !== root && !target.startsWith(root + path.sep)) {
          throw new UserInputError('ERR_LAYERS_LINK_ESCAPES', `Layer ${layer}: ${childRel} is a link to ${link}, outside the layer directory ${dir}.`, {
            hint: 'Links must stay inside the directory: copy the target into it, or exclude the link in the manifest.',
            details: {layer, path: childRel, target: link},
          })
        }
        targetInfo = await stat(target)
      }
      if (targetInfo.isDirectory()) {
        if (chain.has(target)) continue
        await walk(target, childRel, new Set([...chain, target]))
      } else if (targetInfo.isFile()) {
        if (pruner.excluded(childRel, splitInnerPackage(childRel).inner)) continue
        files.push({rel: childRel, source: target, mode: targetInfo.mode, size: targetInfo.size})
      }
    }
  }
  await walk(root, '', new Set([root]))
  return files
}

/** Zip entries streaming each listed file from disk. */
export function dirEntries(files: readonly DirFile[]): ZipEntry[] {
  return files.map((file) => ({path: file.rel, mode: file.mode, size: file.size, open: () => createReadStream(file.source)}))
}

/** [path, executable, sha256 hex] per file: what decides a dir layer's bytes, for the build cache key. */
export async function hashDirFiles(files: readonly DirFile[]): Promise<Array<[string, boolean, string]>> {
  const hashes: Array<[string, boolean, string]> = []
  for (const file of files) {
    const hash = createHash('sha256')
    await pipeline(createReadStream(file.source), hash)
    hashes.push([file.rel, (file.mode & 0o111) !== 0, hash.digest('hex')])
  }
  return hashes
}
