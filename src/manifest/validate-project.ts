// Owns `layers validate` for a project: every manifest problem at once (via inspectManifest), the
// runtime templates the manifest names (what `layers lock` would refuse), whether lockfile.json
// still matches the manifest, and (with a lock) the licence policy (settings.licenses) on what is locked and the import and shadowing checks of the functions. Returns plain data; the command renders it.
import type {Problem} from '../errors/index.js'
import {UserInputError} from '../errors/index.js'
import {licensePolicyError, licenseViolations} from '../licenses/check.js'
import {lockIsCurrent, lockStatus, type LockStatus} from '../lock/fingerprint.js'
import {readLockfile} from '../lock/io.js'
import {projectPaths} from '../project/paths.js'
import {importWarningsForValidate} from '../imports/validate-hook.js'
import {shadowingWarningsForValidate} from '../package/shadowing-check.js'
import {inspectManifest} from './load.js'
import type {LayerSpec, Manifest} from './types.js'

export interface ValidationReport {
  manifest: string
  valid: true
  layers: Record<LayerSpec['kind'], number>
  functions: number
  accounts: number
  /** Problems of severity warning (errors make validation throw). */
  warnings: Problem[]
  lock: {file: string; state: 'current' | 'stale' | 'absent'} & Partial<LockStatus>
}

export async function validateProject(manifestPath: string): Promise<{report: ValidationReport; manifest: Manifest}> {
  const paths = projectPaths(manifestPath)
  const inspection = await inspectManifest(paths.manifest)
  const {manifest} = inspection
  if (!manifest) {
    const errors = inspection.problems.filter((problem) => problem.severity === 'error').length
    throw new UserInputError('ERR_LAYERS_MANIFEST_INVALID', `${paths.manifest} has ${errors} problem${errors === 1 ? '' : 's'}.`, {
      problems: inspection.problems,
      hint: 'Fix each problem at the file:line:column it names, then run `layers validate` again.',
    })
  }
  await checkRuntimeTemplates(manifest)
  const layers = {npm: 0, pip: 0, dir: 0, runtime: 0, arn: 0}
  for (const layer of Object.values(manifest.layers)) layers[layer.kind] += 1
  const lock = await readLockfile(paths.lockfile)
  let lockReport: ValidationReport['lock'] = {file: paths.lockfile, state: 'absent'}
  let importWarnings: Problem[] = []
  if (lock) {
    const status = await lockStatus(manifest, lock)
    lockReport = {file: paths.lockfile, state: lockIsCurrent(status) ? 'current' : 'stale', ...status}
    // The licence policy holds for what is locked now (layers locked before licences are reported stale above).
    const violations = licenseViolations(manifest, Object.entries(lock.layers).filter(([name]) => Object.hasOwn(manifest.layers, name)))
    if (violations.length > 0) throw licensePolicyError(manifest, violations, `${paths.lockfile} holds ${violations.length === 1 ? 'it' : 'them'}`)
    // Functions checked against their locked layers (throws on import errors); see src/imports.
    importWarnings = await importWarningsForValidate(manifest, lock, status)
    // Packages and files two copies provide, from the built layers (throws when copies differ in version or architecture).
    importWarnings.push(...(await shadowingWarningsForValidate(manifest, lock, status)))
  }
  return {
    manifest,
    report: {
      manifest: paths.manifest,
      valid: true,
      layers,
      functions: Object.keys(manifest.functions).length,
      accounts: Object.keys(manifest.accounts).length,
      warnings: [...inspection.problems, ...importWarnings],
      lock: lockReport,
    },
  }
}

/** Loads every runtime layer's template as `layers lock` does; all their problems in one error. */
async function checkRuntimeTemplates(manifest: Manifest): Promise<void> {
  const runtimeLayers = Object.values(manifest.layers).filter((layer) => layer.kind === 'runtime')
  if (runtimeLayers.length === 0) return
  const {loadRuntimeTemplate} = await import('../runtime/template.js')
  const problems: Problem[] = []
  for (const layer of runtimeLayers) {
    try {
      await loadRuntimeTemplate(layer.template, {root: manifest.root, layer: layer.name})
    } catch (error) {
      if (!(error instanceof UserInputError)) throw error
      problems.push(...(error.problems.length > 0 ? error.problems : [{severity: 'error' as const, code: error.code, message: error.message, ...(error.hint ? {hint: error.hint} : {})}]))
    }
  }
  if (problems.length === 0) return
  throw new UserInputError('ERR_LAYERS_RUNTIME_TEMPLATE_INVALID', `${problems.length} problem${problems.length === 1 ? '' : 's'} in the runtime templates of ${manifest.file}.`, {
    problems,
    hint: 'Fix each template descriptor (see templates/runtimes/*/template.json for examples), then run `layers validate` again.',
  })
}

/** The human summary of a valid manifest. */
export function renderValidation(report: ValidationReport): string {
  const kinds = Object.entries(report.layers).filter(([, count]) => count > 0).map(([kind, count]) => `${count} ${kind}`)
  const lines = [`${report.manifest} is valid: ${kinds.length > 0 ? kinds.join(', ') : 'no'} layer(s), ${report.functions} function(s), ${report.accounts} account(s).`]
  if (report.lock.state === 'absent') lines.push('lockfile.json does not exist yet: run `layers lock`.')
  if (report.lock.state === 'current') lines.push('lockfile.json matches the manifest.')
  if (report.lock.state === 'stale') {
    const changed = (report.lock.stale ?? []).filter((name) => !report.lock.licensesMissing?.includes(name))
    const parts = [
      changed.length > 0 ? `changed since locked: ${changed.join(', ')}` : '',
      report.lock.licensesMissing?.length ? `locked before licences were recorded, which settings.licenses needs: ${report.lock.licensesMissing.join(', ')}` : '',
      report.lock.missing?.length ? `not locked: ${report.lock.missing.join(', ')}` : '',
      report.lock.extra?.length ? `no longer in the manifest: ${report.lock.extra.join(', ')}` : '',
    ].filter(Boolean)
    lines.push(`lockfile.json no longer matches the manifest (${parts.join('; ')}): run \`layers lock\`.`)
  }
  return lines.join('\n')
}
