// Owns `layers audit` end to end for the command: loads the project, wires AWS, runs the audit,
// saves it in the history (unless told not to) and closes the database.
import type {AwsConnection} from '../aws/clients.js'
import type {EmitEvent} from '../events.js'
import {openStateDatabase} from '../store/db.js'
import {auditSummaryEvents} from '../history/shared.js'
import {sharedHistoryWriter} from '../history/sync.js'
import {isOwnLayer} from '../manifest/types.js'
import {auditClientFactory} from './clients.js'
import {desiredFromLock} from './desired.js'
import {awsAuditEnv} from './env.js'
import {loadProject} from './project.js'
import {runAudit} from './run.js'
import {LAMBDA_RUNTIMES} from '../manifest/runtimes.js'
import type {TargetFlags} from './targets.js'
import type {AuditReport} from './types.js'

/** The AWS connection (timeouts, --profile, --endpoint-url; default: environment, else built in). */
export interface AuditCommandOptions extends AwsConnection {
  manifestPath: string
  flags: TargetFlags
  concurrency: number
  save: boolean
  diff: boolean
  emit: EmitEvent
  /** false: --no-remote-state (the saved run's summary is not written to the shared history). */
  remoteState?: boolean
}

export async function auditCommand(options: AuditCommandOptions): Promise<AuditReport> {
  const explicitTargets = Boolean(options.flags.org || options.flags.accounts?.some((account) => /^\d{12}$/.test(account)))
  const project = await loadProject(options.manifestPath, !explicitTargets)
  const {manifest, lock} = project
  const clients = auditClientFactory({...options, ...(manifest?.settings.maxRps !== undefined ? {manifestMaxRps: manifest.settings.maxRps} : {})})
  const env = awsAuditEnv(
    clients,
    manifest ? (managed) => desiredFromLock(manifest, lock, managed.key, managed.accountId, managed.region, manifest.functions[managed.key]!.architecture) : undefined,
  )
  const db = options.save || options.diff ? openStateDatabase(project.paths.stateDir) : undefined
  try {
    const report = await runAudit(
      {
        ...(manifest ? {manifest} : {}),
        ...(lock ? {lock} : {}),
        flags: options.flags,
        concurrency: options.concurrency,
        ...(db ? {db} : {}),
        diff: options.diff,
        runtimes: [...LAMBDA_RUNTIMES],
        emit: options.emit,
      },
      env,
    )
    // A saved run's per-target summary of each own layer goes to the shared history.
    const share = manifest && report.runId !== undefined ? sharedHistoryWriter(manifest, (account, region) => clients.s3(account, region), options.emit, options.remoteState) : undefined
    await share?.(auditSummaryEvents(report, Object.keys(manifest?.layers ?? {}).filter((name) => isOwnLayer(manifest!.layers[name]!))))
    return report
  } finally {
    db?.close()
  }
}
