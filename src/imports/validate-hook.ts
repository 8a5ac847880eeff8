// Owns the import check as `layers validate` runs it when lockfile.json exists: only functions whose
// layers are all locked as the manifest says are checked (a stale lock is reported by validate
// itself). Import errors fail validation (exit 2) with every problem at its file:line:column; the
// warnings are returned for validate's report.
import {UserInputError, type Problem} from '../errors/index.js'
import type {LockStatus} from '../lock/fingerprint.js'
import type {Lockfile} from '../lock/types.js'
import type {Manifest} from '../manifest/types.js'
import {checkImports} from './check.js'

export async function importWarningsForValidate(manifest: Manifest, lock: Lockfile, status: LockStatus): Promise<Problem[]> {
  const outdated = new Set([...status.stale, ...status.missing])
  const functions = Object.values(manifest.functions).filter((fn) => fn.layers.every((layer) => !outdated.has(layer))).map((fn) => fn.key)
  if (functions.length === 0) return []
  const report = await checkImports(manifest, lock, functions)
  const problems = report.functions.flatMap((fn) => fn.problems)
  const errors = problems.filter((problem) => problem.severity === 'error')
  if (errors.length > 0) {
    throw new UserInputError('ERR_LAYERS_IMPORT_CHECK_FAILED', `${errors.length} import problem${errors.length === 1 ? '' : 's'}: Lambda would fail to load the function${errors.length === 1 ? '' : 's'} named above.`, {
      problems,
      hint: 'Fix each import at the file:line:column named above, or give the function the layer that provides the package.',
    })
  }
  return problems
}
