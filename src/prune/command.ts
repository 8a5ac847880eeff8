// Owns `layers prune` end to end for the command: parses the durations, loads the project, wires
// AWS, the state database and the team-state leases (settings.state, --no-remote-state), and runs the
// prune (which deletes with --yes or once `confirm` says yes).
import type {AwsConnection} from '../aws/clients.js'
import type {Confirm} from '../cli/confirm.js'
import {auditClientFactory} from '../audit/clients.js'
import {desiredFromLock} from '../audit/desired.js'
import {awsAuditEnv} from '../audit/env.js'
import {loadProject} from '../audit/project.js'
import {LAMBDA_RUNTIMES} from '../manifest/runtimes.js'
import type {EmitEvent} from '../events.js'
import {teamLeases} from '../publish/lease.js'
import {openStateDatabase} from '../store/db.js'
import {sharedHistoryWriter} from '../history/sync.js'
import {parseDuration} from './duration.js'
import {runPrune, type PruneResult} from './run.js'

/** The AWS connection (timeouts, --profile, --endpoint-url; default: environment, else built in). */
export interface PruneCommandOptions extends AwsConnection {
  manifestPath: string
  layers: string[]
  keep: number
  olderThan?: string
  yes: boolean
  /** Without --yes: asked before the first deletion (see PruneRequest.confirm). */
  confirm?: Confirm
  accounts?: string[]
  regions?: string[]
  useLastAudit: boolean
  maxAuditAge: string
  concurrency: number
  /** false: --no-remote-state (no leases). */
  remoteState?: boolean
  emit: EmitEvent
  /** Fires on an interrupt (see PruneRequest.signal). */
  signal?: AbortSignal
}

export async function pruneCommand(options: PruneCommandOptions): Promise<PruneResult> {
  const olderThanMs = options.olderThan === undefined ? undefined : parseDuration(options.olderThan, '--older-than')
  const maxAuditAgeMs = parseDuration(options.maxAuditAge, '--max-audit-age')
  const {paths, manifest, lock} = await loadProject(options.manifestPath, true)
  const clients = auditClientFactory({...options, ...(manifest?.settings.maxRps !== undefined ? {manifestMaxRps: manifest.settings.maxRps} : {})})
  const leases =
    (options.yes || options.confirm) && options.remoteState !== false
      ? teamLeases(manifest!, 'layers prune', options.emit, async (account, region) => (await import('../aws/s3-leases.js')).leaseStoreApi(await clients.s3(account, region)))
      : undefined
  const db = openStateDatabase(paths.stateDir)
  try {
    const result = await runPrune(
      {
        manifest: manifest!,
        lock,
        layers: options.layers,
        keep: options.keep,
        ...(olderThanMs === undefined ? {} : {olderThanMs}),
        yes: options.yes,
        ...(options.confirm ? {confirm: options.confirm} : {}),
        useLastAudit: options.useLastAudit,
        maxAuditAgeMs,
        flags: {accounts: options.accounts, regions: options.regions},
        concurrency: options.concurrency,
        db,
        runtimes: [...LAMBDA_RUNTIMES],
        emit: options.emit,
        ...(options.signal ? {signal: options.signal} : {}),
        ...(leases ? {leases} : {}),
      },
      awsAuditEnv(clients, (managed) => desiredFromLock(manifest!, lock, managed.key, managed.accountId, managed.region, manifest!.functions[managed.key]!.architecture)),
    )
    // Each deleted version goes to the shared history (one PutObject each).
    const share = result.dryRun ? undefined : sharedHistoryWriter(manifest!, (account, region) => clients.s3(account, region), options.emit, options.remoteState)
    const at = new Date().toISOString()
    await share?.(result.deleted.map((entry) => ({type: 'prune', layer: entry.layer, accountId: entry.accountId, region: entry.region, at, version: entry.version, arn: entry.arn, codeSize: entry.codeSize})))
    return result
  } finally {
    db.close()
  }
}
