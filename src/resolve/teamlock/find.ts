// Owns finding the team's lockfile of an npm layer given as a package.json, and reading it: the
// lockfile beside the package.json, else the one at the root of the workspace the package belongs to
// (the nearest folder above with a lockfile whose package.json declares `workspaces` or that holds a
// pnpm-workspace.yaml; the search stops at a folder holding `.git`). One folder holding several
// lockfiles uses the first of npm-shrinkwrap.json, package-lock.json, pnpm-lock.yaml, yarn.lock, as
// npm prefers its shrinkwrap. Reading gives the lockfile's sha256 (recorded in lockfile.json, so a
// changed team lockfile makes the layer stale) and its TeamLockGraph (graph.ts).
import {createHash} from 'node:crypto'
import {existsSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {UserInputError} from '../../errors/index.js'
import type {TeamLockRef} from '../../manifest/types.js'
import type {TeamLockGraph, TeamLockKind} from './graph.js'
import {readNpmLock} from './npm.js'
import {readPnpmLock} from './pnpm.js'
import {readYarnLock} from './yarn.js'

const LOCKFILES: ReadonlyArray<[string, TeamLockKind | 'yarn']> = [
  ['npm-shrinkwrap.json', 'npm'],
  ['package-lock.json', 'npm'],
  ['pnpm-lock.yaml', 'pnpm'],
  ['yarn.lock', 'yarn'],
]


function lockfileIn(dir: string): string | undefined {
  for (const [name] of LOCKFILES) {
    const file = path.join(dir, name)
    if (existsSync(file)) return file
  }
  return undefined
}

function isWorkspaceRoot(dir: string): boolean {
  if (existsSync(path.join(dir, 'pnpm-workspace.yaml'))) return true
  try {
    const json = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as {workspaces?: unknown}
    return json.workspaces !== undefined
  } catch {
    return false
  }
}

/** The lockfile that pins the dependencies of `packageJson`, if any. */
export function findTeamLockfile(packageJson: string): string | undefined {
  const own = path.dirname(path.resolve(packageJson))
  const beside = lockfileIn(own)
  if (beside) return beside
  if (existsSync(path.join(own, '.git'))) return undefined
  for (let dir = path.dirname(own); ; dir = path.dirname(dir)) {
    const found = lockfileIn(dir)
    if (found && isWorkspaceRoot(dir)) return found
    if (existsSync(path.join(dir, '.git')) || path.dirname(dir) === dir) return undefined
  }
}

export function sha256Hex(bytes: Buffer | string): string {
  return createHash('sha256').update(bytes).digest('hex')
}

/** The lockfile's reference (path and hash), read now. */
export function teamLockRef(file: string): TeamLockRef {
  return {file, sha256: sha256Hex(readFileSync(file))}
}

/**
 * Reads the team lockfile for the package.json's `dependencies` (name -> spec); `shownAs` is how
 * messages name the file. The sha256 returned is of the bytes parsed.
 */
export function readTeamLockfile(ref: TeamLockRef, packageJson: string, dependencies: Record<string, string>, shownAs: string, registryOf?: (name: string) => string): {graph: TeamLockGraph; sha256: string} {
  let bytes: Buffer
  try {
    bytes = readFileSync(ref.file)
  } catch (error) {
    throw new UserInputError('ERR_LAYERS_TEAM_LOCKFILE_INVALID', `${shownAs} cannot be read: ${(error as Error).message}.`, {
      hint: 'Restore the lockfile, or set `lockfile: ignore` on the layer to resolve its ranges afresh.',
      cause: error,
      details: {lockfile: shownAs},
    })
  }
  const importer = path.relative(path.dirname(ref.file), path.dirname(path.resolve(packageJson))).split(path.sep).join('/')
  const input = {file: shownAs, importer, dependencies, ...(registryOf ? {registryOf} : {})}
  const text = bytes.toString('utf8')
  const kind = LOCKFILES.find(([name]) => name === path.basename(ref.file))?.[1]
  const graph = kind === 'npm' ? readNpmLock(text, input) : kind === 'pnpm' ? readPnpmLock(text, input) : readYarnLock(text, input)
  return {graph, sha256: sha256Hex(bytes)}
}
