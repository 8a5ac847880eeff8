// Owns `layers attach` end to end for the command: loads the manifest and the lockfile (which must
// match for the layers the chosen functions use), picks the function targets, wires AWS (shared
// client factory) and the build records (unzipped sizes), and runs the attach.
import {desiredFromLock} from '../audit/desired.js'
import {awsClientFactory, type AwsClientFactory, type AwsConnection} from '../aws/clients.js'
import {boundClients} from '../aws/identity.js'
import {functionsApi} from '../aws/lambda-functions.js'
import {UserInputError} from '../errors/index.js'
import type {EmitEvent} from '../events.js'
import {lockStatus, staleLayerNames} from '../lock/fingerprint.js'
import {readLockfile} from '../lock/io.js'
import {loadManifest} from '../manifest/load.js'
import {projectPaths} from '../project/paths.js'
import {openStateDatabase} from '../store/db.js'
import {parseLayerVersionArn} from '../audit/arn.js'
import type {AttachEvent} from '../history/shared.js'
import {sharedHistoryWriter} from '../history/sync.js'
import {selectFunctionTargets} from './plan.js'
import {runAttach, type AttachResult} from './run.js'

/** The AWS connection (timeouts, --profile, --endpoint-url; default: environment, else built in). */
export interface AttachCommandOptions extends AwsConnection {
  manifestPath: string
  functions: string[]
  accounts?: string[]
  regions?: string[]
  dryRun: boolean
  concurrency: number
  emit: EmitEvent
  waitTimeoutMs?: number
  /** Fires on an interrupt (see AttachRunOptions.signal). */
  signal?: AbortSignal
  /** false: --no-remote-state (nothing written to the shared history). */
  remoteState?: boolean
}

export async function attachCommand(options: AttachCommandOptions, factory: AwsClientFactory = awsClientFactory(options)): Promise<AttachResult> {
  // Each account is bound to its credentials before its first call, --dry-run included (src/aws/identity.ts).
  const clients = boundClients(factory)
  const paths = projectPaths(options.manifestPath)
  const manifest = await loadManifest(paths.manifest)
  const lock = await readLockfile(paths.lockfile)
  if (!lock) {
    throw new UserInputError('ERR_LAYERS_LOCK_MISSING', `${paths.lockfile} does not exist.`, {hint: 'Run `layers lock` and `layers publish` first; `layers attach` attaches the versions the lockfile records.'})
  }
  const targets = selectFunctionTargets(manifest, {functions: options.functions, accounts: options.accounts, regions: options.regions})
  const used = [...new Set(targets.flatMap((target) => manifest.functions[target.function]!.layers))]
  const stale = used.length > 0 ? staleLayerNames(await lockStatus(manifest, lock), used) : []
  if (stale.length > 0) {
    throw new UserInputError('ERR_LAYERS_LOCK_STALE', `lockfile.json does not match the manifest for layer${stale.length === 1 ? '' : 's'} ${stale.join(', ')}.`, {
      hint: 'Run `layers lock` and `layers publish`, then attach.',
      details: {layers: stale},
    })
  }
  const db = openStateDatabase(paths.stateDir)
  try {
    const sizes = db.prepare(
      'SELECT unzipped_bytes AS bytes FROM builds WHERE code_sha256 = @sha UNION ALL SELECT unzipped_bytes FROM function_packages WHERE code_sha256 = @sha LIMIT 1',
    )
    const result = await runAttach(
      targets,
      {
        functionsApi: async (target) => functionsApi(await clients.lambda(manifest.accounts[target.accountName]!, target.region)),
        unzippedBytes: (codeSha256) => (sizes.get({sha: codeSha256}) as {bytes: number} | undefined)?.bytes,
      },
      {
        dryRun: options.dryRun,
        concurrency: options.concurrency,
        emit: options.emit,
        desired: (target) => desiredFromLock(manifest, lock, target.function, target.accountId, target.region, target.architecture),
        ...(options.waitTimeoutMs ? {waitTimeoutMs: options.waitTimeoutMs} : {}),
        ...(options.signal ? {signal: options.signal} : {}),
      },
    )
    // Each version an update attached goes to the shared history (its layer's account and region).
    const share = options.dryRun ? undefined : sharedHistoryWriter(manifest, (account, region) => clients.s3(account, region), options.emit, options.remoteState)
    await share?.(attachEvents(result))
    return result
  } finally {
    db.close()
  }
}

function attachEvents(result: AttachResult): AttachEvent[] {
  const at = new Date().toISOString()
  return result.functions
    .filter((outcome) => outcome.status === 'updated')
    .flatMap((outcome) =>
      outcome.after.flatMap((arn): AttachEvent[] => {
        const parts = parseLayerVersionArn(arn)
        if (!parts || outcome.before.includes(arn) || parts.accountId !== outcome.accountId || parts.region !== outcome.region) return []
        return [{type: 'attach', layer: parts.name, accountId: parts.accountId, region: parts.region, at, version: parts.version, arn, function: outcome.functionName}]
      }),
    )
}
