// Owns `layers advisories`' I/O: the lock and the state database (src/find/run.ts), the project's npm
// configuration (registries per scope, auth, timeouts, the npm cache), one bulk advisory call per
// registry for every locked version, and the packuments of the current lock's packages (16 at once)
// for the fixed versions and `deprecated`; src/advisories/plan.ts makes the report.
import pLimit from 'p-limit'
import type {EmitEvent} from '../events.js'
import {loadFindInputs} from '../find/run.js'
import {loadNpmOptions, type NpmConfigSources} from '../npm/config.js'
import {projectPaths} from '../project/paths.js'
import type {Packument} from '../resolve/types.js'
import {advisoriesReport, currentNames, lockedVersions, type AdvisoriesReport} from './plan.js'
import {registryAdvisorySource, type AdvisorySource} from './registry.js'

export interface AdvisoriesOptions {
  manifestPath: string
  emit: EmitEvent
  npmConfig?: NpmConfigSources
  /** Tests: another source than the configured registries. */
  source?: AdvisorySource
}

const PACKUMENTS_AT_ONCE = 16

export async function advisoriesOfProject(options: AdvisoriesOptions): Promise<AdvisoriesReport> {
  const paths = projectPaths(options.manifestPath)
  const inputs = await loadFindInputs(paths)
  const source = options.source ?? registryAdvisorySource(await loadNpmOptions(paths.root, options.npmConfig))
  const versions = lockedVersions(inputs)
  options.emit({type: 'progress', phase: 'advisories', message: `${versions.size} package(s)`})
  const answered = versions.size === 0 ? {} : await source.bulk(versions)
  const names = [...new Set([...currentNames(inputs), ...Object.keys(answered).filter((name) => versions.has(name))])].sort()
  const limit = pLimit(PACKUMENTS_AT_ONCE)
  const packuments = new Map<string, Packument>()
  await Promise.all(
    names.map((name) =>
      limit(async () => {
        try {
          packuments.set(name, await source.packument(name))
        } catch (error) {
          // One unreadable packument (unpublished, a registry hiccup) costs that package's fixed version and deprecation, not the report.
          options.emit({
            type: 'warning',
            warning: {
              severity: 'warning',
              code: 'ERR_LAYERS_ADVISORIES_PACKUMENT',
              message: `Cannot read the registry's metadata for ${name} (${(error as {code?: string}).code ?? (error as Error).message}): its fixed version and deprecation are not reported.`,
              hint: 'Check that the package is still published on the registry .npmrc names for it, then run the command again.',
            },
          })
        }
      }),
    ),
  )
  return advisoriesReport(inputs, answered, packuments)
}
