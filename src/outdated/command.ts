// Owns `layers outdated` end to end for the command: loads the project, reads packuments with the
// project's npm configuration (src/npm/config.ts, pacote), Python project pages from the indexes the
// lock uses (pip's and uv's configuration, src/python/config.ts; the lock's index client, with its
// timeout and credentials kept out of messages) and layer versions (or, for an arn layer naming its
// publisher's `ssm` parameter, that parameter) with each account's credentials,
// and runs the comparison.
import type {AwsConnection} from '../aws/clients.js'
import pacote from 'pacote'
import {auditClientFactory} from '../audit/clients.js'
import {awsAuditEnv} from '../audit/env.js'
import {loadProject} from '../audit/project.js'
import {FindingsError} from '../errors/index.js'
import type {EmitEvent} from '../events.js'
import {loadNpmOptions} from '../npm/config.js'
import {loadPythonIndexes, type PythonIndexConfig} from '../python/config.js'
import {fetchIndexClient, firstListing, type IndexClient} from '../python/index.js'
import {failingRows, type FailOn, type OutdatedRow} from './plan.js'
import {runOutdated, type OutdatedResult} from './run.js'

/** The AWS connection (timeouts, --profile, --endpoint-url; default: environment, else built in). */
export interface OutdatedCommandOptions extends AwsConnection {
  manifestPath: string
  layers: string[]
  accounts?: string[]
  regions?: string[]
  concurrency: number
  emit: EmitEvent
}

export async function outdatedCommand(options: OutdatedCommandOptions): Promise<OutdatedResult> {
  const {paths, manifest, lock} = await loadProject(options.manifestPath, true)
  const clients = auditClientFactory({...options, ...(manifest?.settings.maxRps !== undefined ? {manifestMaxRps: manifest.settings.maxRps} : {})})
  const aws = awsAuditEnv(clients)
  let npmOptions: ReturnType<typeof loadNpmOptions> | undefined
  let python: {config: PythonIndexConfig; client: IndexClient} | undefined
  return runOutdated(
    {manifest: manifest!, lock, layers: options.layers, accounts: options.accounts, regions: options.regions, concurrency: options.concurrency, emit: options.emit},
    {
      async packument(name) {
        npmOptions ??= loadNpmOptions(paths.root)
        const packument = await pacote.packument(name, {...(await npmOptions), fullMetadata: false})
        return {versions: Object.keys(packument.versions ?? {}), distTags: (packument['dist-tags'] ?? {}) as Record<string, string>}
      },
      async pythonFiles(project) {
        if (!python) {
          const config = loadPythonIndexes(paths.root)
          python = {config, client: fetchIndexClient(config, {emit: options.emit})}
        }
        return (await firstListing(python.config, python.client, project))?.files ?? []
      },
      probeApiFor: aws.probeApiFor,
      ssmValue: async (account, region, name) => (await import('../aws/ssm-parameters.js')).ssmParameterApi(await clients.ssm(account, region)).value(name),
    },
  )
}

/** The `--fail-on LEVEL` failure (exit 1) naming the rows at that level, or undefined when none is. */
export function failOnError(rows: readonly OutdatedRow[], failOn: FailOn): FindingsError | undefined {
  const failing = failingRows(rows, failOn)
  if (failing.length === 0) return undefined
  const named = failing.map((row) => (row.kind !== 'arn' ? `${row.layer}/${row.package}${row.update ? ` (${row.update})` : ''}` : `${row.layer} in ${row.accountId}/${row.region}`))
  return new FindingsError('ERR_LAYERS_OUTDATED', `${failing.length} outdated at --fail-on ${failOn}: ${named.join(', ')}.`, {hint: 'Run `layers lock --update` (within the manifest\'s ranges) or raise the ranges in the manifest.'})
}
