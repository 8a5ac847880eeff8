// Owns which files make up a function's package: everything under its `source` directory except
// `node_modules` and version-control directories (`.git`, `.hg`, `.svn`; anywhere, never descended
// into), what the `.layersignore` at the source root ignores (gitignore syntax, via the `ignore`
// library), and what the function's `exclude` globs drop (`!glob` keeps a file, as for layers). `.layersignore` itself is not packaged. Symbolic links are
// followed only while they stay inside `source` (stored as copies of their target, the dir-layer
// rule); a link that leads out of it is an error naming it. Sockets, FIFOs and devices are skipped.
import {readFile, lstat, readdir, readlink, realpath, stat} from 'node:fs/promises'
import path from 'node:path'
import ignore, {type Ignore} from 'ignore'
import {UserInputError} from '../errors/index.js'
import type {FunctionSpec} from '../manifest/types.js'
import {createPruner} from '../build/prune.js'

export const IGNORE_FILE = '.layersignore'

/** Directories never packaged: dependencies come from layers, and repository metadata is not code. */
const NEVER_PACKAGED = new Set(['node_modules', '.git', '.hg', '.svn'])

export interface FunctionFile {
  /** Path inside the function package (POSIX, relative to `source`). */
  rel: string
  /** Absolute path of the file to read (a link's real target). */
  source: string
  mode: number
  size: number
}

async function loadIgnore(root: string): Promise<Ignore> {
  const rules = ignore()
  try {
    rules.add(await readFile(path.join(root, IGNORE_FILE), 'utf8'))
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
  }
  return rules
}

export type FunctionFileLister = (fn: FunctionSpec) => Promise<FunctionFile[]>

/** listFunctionFiles memoised per function, for a run that lists each function twice (check, then zip). */
export function functionFileLister(): FunctionFileLister {
  const listed = new Map<string, Promise<FunctionFile[]>>()
  return (fn) => {
    let files = listed.get(fn.key)
    if (!files) {
      files = listFunctionFiles(fn)
      listed.set(fn.key, files)
    }
    return files
  }
}

/** Lists the files of a function's package, sorted by path (byte order of the UTF-8 names). */
export async function listFunctionFiles(fn: FunctionSpec): Promise<FunctionFile[]> {
  let root: string
  try {
    root = await realpath(fn.source)
    if (!(await stat(root)).isDirectory()) throw Object.assign(new Error('not a directory'), {code: 'ENOTDIR'})
  } catch (error) {
    throw new UserInputError('ERR_LAYERS_FUNCTION_SOURCE_MISSING', `Function ${fn.key}: source ${fn.source} is not a readable directory (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}).`, {
      hint: "Create it, or fix the function's `source` in the manifest (relative paths resolve from the manifest's directory).",
      details: {function: fn.key, source: fn.source},
    })
  }
  const ignored = await loadIgnore(root)
  const pruner = createPruner({exclude: fn.exclude, defaultExcludes: false})
  const files: FunctionFile[] = []
  const walk = async (absolute: string, rel: string, chain: Set<string>): Promise<void> => {
    for (const name of (await readdir(absolute)).sort()) {
      const childRel = rel === '' ? name : `${rel}/${name}`
      if (NEVER_PACKAGED.has(name) || (rel === '' && name === IGNORE_FILE)) continue
      const childAbs = path.join(absolute, name)
      const info = await lstat(childAbs)
      let target = childAbs
      let targetInfo = info
      if (info.isSymbolicLink()) {
        const link = await readlink(childAbs)
        target = await realpath(childAbs).catch(() => {
          throw new UserInputError('ERR_LAYERS_LINK_DANGLING', `Function ${fn.key}: ${childRel} is a link to ${link}, which does not exist.`, {
            hint: 'Remove the link, point it at a file inside the source directory, or list it in .layersignore.',
            details: {function: fn.key, path: childRel, target: link},
          })
        })
        if (target !== root && !target.startsWith(root + path.sep)) {
          throw new UserInputError('ERR_LAYERS_LINK_ESCAPES', `Function ${fn.key}: ${childRel} is a link to ${link}, outside the function source ${fn.source}.`, {
            hint: 'A function package holds only files under `source`: copy the target in, or list the link in .layersignore.',
            details: {function: fn.key, path: childRel, target: link},
          })
        }
        targetInfo = await stat(target)
      }
      if (targetInfo.isDirectory()) {
        if (chain.has(target) || ignored.ignores(`${childRel}/`)) continue
        await walk(target, childRel, new Set([...chain, target]))
      } else if (targetInfo.isFile()) {
        if (ignored.ignores(childRel) || pruner.excluded(childRel, childRel)) continue
        files.push({rel: childRel, source: target, mode: targetInfo.mode, size: targetInfo.size})
      }
    }
  }
  await walk(root, '', new Set([root]))
  return files.sort((a, b) => Buffer.compare(Buffer.from(a.rel), Buffer.from(b.rel)))
}
