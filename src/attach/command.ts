// Owns `layers attach` end to end for the command: loads the manifest and the lockfile (which must
// match for the layers the chosen functions use), picks the function targets, wires AWS (shared
// client factory) and the build records (unzipped sizes), and runs the attach. When a target is in an
// account marked `protected: true` and --yes is not given, the attach is run read-only first (as
// --dry-run) and `confirm` is asked about the changes in protected accounts before anything is
// written; a read-only pass that finds nothing to change is the result (no second pass).
import {desiredFromLock} from '../audit/desired.js'
import {awsClientFactory, type AwsClientFactory, type AwsConnection} from '../aws/clients.js'
import {boundClients} from '../aws/identity.js'
import {functionsApi} from '../aws/lambda-functions.js'
import type {Confirm} from '../cli/confirm.js'
import {InterruptedError, UserInputError} from '../errors/index.js'
import type {EmitEvent} from '../events.js'
import {lockStatus, staleLayerNames} from '../lock/fingerprint.js'
import {readLockfile} from '../lock/io.js'
import {loadManifest} from '../manifest/load.js'
import {projectPaths} from '../project/paths.js'
import {openStateDatabase} from '../store/db.js'
import {parseLayerVersionArn} from '../audit/arn.js'
import type {AttachEvent} from '../history/shared.js'
import {sharedHistoryWriter} from '../history/sync.js'
import {selectFunctionTargets, type FunctionTarget} from './plan.js'
import {attachConfirmation} from './render.js'
import {runAttach, type AttachEnv, type AttachResult, type AttachRunOptions} from './run.js'

/** The AWS connection (timeouts, --profile, --endpoint-url; default: environment, else built in). */
export interface AttachCommandOptions extends AwsConnection {
  manifestPath: string
  functions: string[]
  accounts?: string[]
  regions?: string[]
  dryRun: boolean
  /** Change functions in protected accounts without asking. */
  yes?: boolean
  /** Without --yes: asked before functions in protected accounts are changed (see the header); absent: not asked. */
  confirm?: Confirm
  concurrency: number
  emit: EmitEvent
  waitTimeoutMs?: number
  /** Fires on an interrupt (see AttachRunOptions.signal). */
  signal?: AbortSignal
  /** false: --no-remote-state (nothing written to the shared history). */
  remoteState?: boolean
  /** --force: update functions infrastructure as code owns too (src/iac/ownership.ts). */
  force?: boolean
}

export async function attachCommand(options: AttachCommandOptions, factory: AwsClientFactory = awsClientFactory(options)): Promise<AttachResult> {
  // Each account is bound to its credentials before its first call, --dry-run included (src/aws/identity.ts).
  const clients = boundClients(factory)
  const paths = projectPaths(options.manifestPath)
  const manifest = await loadManifest(paths.manifest)
  factory.budget.useSetting(manifest.settings.maxRps)
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
    const env: AttachEnv = {
      functionsApi: async (target) => functionsApi(await clients.lambda(manifest.accounts[target.accountName]!, target.region)),
      unzippedBytes: (codeSha256) => (sizes.get({sha: codeSha256}) as {bytes: number} | undefined)?.bytes,
    }
    const runOptions: AttachRunOptions = {
      dryRun: options.dryRun,
      concurrency: options.concurrency,
      emit: options.emit,
      desired: (target) => desiredFromLock(manifest, lock, target.function, target.accountId, target.region, target.architecture),
      ...(options.waitTimeoutMs ? {waitTimeoutMs: options.waitTimeoutMs} : {}),
      ...(options.signal ? {signal: options.signal} : {}),
      ...(manifest.settings.ownershipTags ? {ownershipTags: manifest.settings.ownershipTags} : {}),
      ...(options.force ? {force: true} : {}),
    }
    const isProtected = (target: Pick<FunctionTarget, 'accountName'>): boolean => manifest.accounts[target.accountName]?.protected === true
    if (!options.dryRun && !options.yes && options.confirm && targets.some(isProtected)) {
      const preview = await previewAttach(targets, env, {...runOptions, dryRun: true})
      const changes = preview.functions.filter((outcome) => outcome.status === 'would-update')
      const guarded = changes.filter(isProtected)
      if (guarded.length > 0) {
        if (!(await options.confirm(attachConfirmation(guarded)))) return preview
      } else if (changes.length === 0) {
        return {...preview, dryRun: false}
      }
    }
    const result = await runAttach(targets, env, runOptions)
    // Each version an update attached goes to the shared history (its layer's account and region).
    const share = options.dryRun ? undefined : sharedHistoryWriter(manifest, (account, region) => clients.s3(account, region), options.emit, options.remoteState)
    await share?.(attachEvents(result))
    return result
  } finally {
    db.close()
  }
}

/** The attach run read-only; an interrupt while it runs has changed nothing. */
async function previewAttach(targets: FunctionTarget[], env: AttachEnv, options: AttachRunOptions): Promise<AttachResult> {
  try {
    return await runAttach(targets, env, options)
  } catch (error) {
    if (!(error instanceof InterruptedError)) throw error
    throw new InterruptedError(error.signal, `attach interrupted by ${error.signal} while reading what it would change: no function was updated.`)
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
