// Owns `layers licenses`'s reads, local and offline: the manifest (its policy) and lockfile.json, for
// the named layers (default: every npm and pip layer the lock holds); src/licenses/report.ts answers.
import {UserInputError} from '../errors/index.js'
import {readLockfile} from '../lock/io.js'
import {loadManifest} from '../manifest/load.js'
import {layerByName} from '../manifest/select.js'
import {projectPaths} from '../project/paths.js'
import {licensesReport, type LicensesReport} from './report.js'

export async function licensesOfProject(options: {manifestPath: string; layers: readonly string[]}): Promise<LicensesReport> {
  const paths = projectPaths(options.manifestPath)
  const manifest = await loadManifest(paths.manifest)
  for (const name of options.layers) layerByName(manifest, name)
  const lock = await readLockfile(paths.lockfile)
  if (!lock) {
    throw new UserInputError('ERR_LAYERS_LOCK_MISSING', `${paths.lockfile} does not exist: there are no packages to report on.`, {hint: 'Run `layers lock` first, or pass --manifest for another project.'})
  }
  const names = options.layers.length > 0 ? [...new Set(options.layers)] : Object.keys(manifest.layers)
  const unlocked = names.filter((name) => options.layers.includes(name) && lock.layers[name] === undefined)
  if (unlocked.length > 0) {
    throw new UserInputError('ERR_LAYERS_LOCK_STALE', `${paths.lockfile} does not hold layer ${unlocked.join(', ')}.`, {hint: `Run \`layers lock ${unlocked.join(' ')}\` first.`, details: {layers: unlocked}})
  }
  return licensesReport(manifest, names.filter((name) => lock.layers[name] !== undefined).map((name) => [name, lock.layers[name]!]))
}
