// Owns `layers advisories`' I/O (and `layers audit --advisories`'): the lock and the state database
// (src/find/run.ts), the project's npm configuration (registries per scope, auth, timeouts, the npm
// cache), one bulk advisory call per registry for every locked version, and the packuments (16 at
// once) of the packages with findings (for the fixed versions) and of the current lock's packages
// whose deprecation the state database has not cached within a day (every one with `refresh`); each
// packument read refreshes the cache. src/advisories/plan.ts makes the report.
import {existsSync} from 'node:fs'
import path from 'node:path'
import pLimit from 'p-limit'
import type {EmitEvent} from '../events.js'
import type {AuditedFunction, FindInputs} from '../find/plan.js'
import {loadFindInputs} from '../find/run.js'
import {loadNpmOptions, type NpmConfigSources} from '../npm/config.js'
import {projectPaths, type ProjectPaths} from '../project/paths.js'
import type {Packument} from '../resolve/types.js'
import {openStateDatabase} from '../store/db.js'
import {DEPRECATION_MAX_AGE_MS, deprecationCache, deprecationKey, type DeprecationAnswer} from '../store/deprecations.js'
import {advisoriesReport, currentVersions, deprecationOf, lockedVersions, type AdvisoriesReport, type AdvisoryAnswers} from './plan.js'
import {registryAdvisorySource, type AdvisorySource} from './registry.js'

export interface AdvisoriesOptions {
  manifestPath: string
  emit: EmitEvent
  npmConfig?: NpmConfigSources
  /** Read every packument again, not trusting the cached deprecations. */
  refresh?: boolean
  /** Tests: another source than the configured registries. */
  source?: AdvisorySource
  now?: () => Date
}

const PACKUMENTS_AT_ONCE = 16

export async function advisoriesOfProject(options: AdvisoriesOptions): Promise<AdvisoriesReport> {
  const paths = projectPaths(options.manifestPath)
  const inputs = await loadFindInputs(paths)
  return advisoriesReport(inputs, await askRegistries(paths, inputs, options))
}

/** The advisories of an audit's project, asked for while the audit scans. */
export interface PendingAdvisories {
  /** The report, its findings traced to the functions the audit saw (the run's id and time are the audit's own). */
  report(functions: AuditedFunction[], finishedAt: string): Promise<Omit<AdvisoriesReport, 'audit'>>
}

/**
 * Reads the lock (a missing one fails here, before any scan) and starts asking the registries; the
 * answers are awaited only by `report`, so they arrive while the audit runs, and a failure (a registry
 * without the endpoint) surfaces there.
 */
export async function startAdvisories(options: AdvisoriesOptions): Promise<PendingAdvisories> {
  const paths = projectPaths(options.manifestPath)
  const asked = askRegistries(paths, await loadFindInputs(paths), options)
  asked.catch(() => undefined)
  return {
    async report(functions, finishedAt) {
      const answers = await asked
      // Read again after the audit: it records the content hashes of the layer versions it read.
      const inputs = await loadFindInputs(paths)
      const {audit: _audit, ...report} = advisoriesReport({...inputs, audit: {runId: 0, finishedAt, functions}}, answers)
      return report
    },
  }
}

async function askRegistries(paths: ProjectPaths, inputs: FindInputs, options: AdvisoriesOptions): Promise<AdvisoryAnswers> {
  const source = options.source ?? registryAdvisorySource(await loadNpmOptions(paths.root, options.npmConfig))
  const versions = lockedVersions(inputs)
  options.emit({type: 'progress', phase: 'advisories', message: `${versions.size} package(s)`})
  const answered = versions.size === 0 ? {} : await source.bulk(versions)

  const now = (options.now ?? (() => new Date()))()
  // A project that never built has no state database: it gets no cache rather than a new .layers.
  const db = existsSync(path.join(paths.stateDir, 'state.db')) ? openStateDatabase(paths.stateDir) : undefined
  try {
    const cache = db ? deprecationCache(db) : undefined
    const cached = cache && !options.refresh ? cache.fresh(new Date(now.getTime() - DEPRECATION_MAX_AGE_MS)) : new Map<string, string | null>()
    const current = currentVersions(inputs)
    const deprecations = new Map<string, string>()
    const toRead = new Set(Object.keys(answered).filter((name) => versions.has(name)))
    for (const [name, set] of current) {
      for (const version of set) {
        const answer = cached.get(deprecationKey(source.registry(name), name, version))
        if (answer === undefined) toRead.add(name)
        else if (answer !== null) deprecations.set(`${name}@${version}`, answer)
      }
    }
    const packuments = await readPackuments([...toRead].sort(), source, options.emit)
    const answers: DeprecationAnswer[] = []
    for (const [name, packument] of packuments) {
      for (const version of current.get(name) ?? []) {
        const message = deprecationOf(packument, version)
        if (message === undefined) deprecations.delete(`${name}@${version}`)
        else deprecations.set(`${name}@${version}`, message)
        answers.push({registry: source.registry(name), name, version, ...(message === undefined ? {} : {message})})
      }
    }
    cache?.record(answers, now)
    return {answered, packuments, deprecations}
  } finally {
    db?.close()
  }
}

async function readPackuments(names: string[], source: AdvisorySource, emit: EmitEvent): Promise<Map<string, Packument>> {
  const limit = pLimit(PACKUMENTS_AT_ONCE)
  const packuments = new Map<string, Packument>()
  await Promise.all(
    names.map((name) =>
      limit(async () => {
        try {
          packuments.set(name, await source.packument(name))
        } catch (error) {
          // One unreadable packument (unpublished, a registry hiccup) costs that package's fixed version and deprecation, not the report.
          emit({
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
  return packuments
}
