// Owns `layers audit` end to end for the command: loads the project, wires AWS, runs the audit (whole,
// streamed target by target for --format jsonl, or streamed into a spool for --json), saves it in the history (unless told not to),
// shares its summary and closes the database; with --advisories, adds the advisories of the lock
// traced to the functions just audited (src/advisories/run.ts).
import {startAdvisories} from '../advisories/run.js'
import type {AwsConnection} from '../aws/clients.js'
import type {WriteChunk} from '../cli/output.js'
import type {EmitEvent} from '../events.js'
import {useFleetHeapGrowth} from '../cli/fleet-memory.js'
import {openStateDatabase} from '../store/db.js'
import {auditSummaryEvents, type AuditEvent, type SharedEvent} from '../history/shared.js'
import {sharedHistoryWriter} from '../history/sync.js'
import {isOwnLayer} from '../manifest/types.js'
import {auditClientFactory} from './clients.js'
import {desiredFromLock} from './desired.js'
import {awsAuditEnv} from './env.js'
import {loadProject} from './project.js'
import {compareText} from './catalog.js'
import {parseLayerVersionArn} from './arn.js'
import {ReportSpool} from './report-spool.js'
import {runAudit, streamAudit, type AuditConsumer, type AuditEnv, type AuditRequest, type AuditStreamResult} from './run.js'
import {LAMBDA_RUNTIMES} from '../manifest/runtimes.js'
import type {TargetFlags} from './targets.js'
import type {AuditReport, Finding} from './types.js'

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
  /** --advisories: also ask the registries for advisories (while the targets are scanned) and trace them to the audited functions. */
  advisories?: boolean
}

export async function auditCommand(options: AuditCommandOptions): Promise<AuditReport> {
  // Started before the scan: a missing lock fails before any AWS call, and the answers arrive meanwhile.
  const advisories = options.advisories ? await startAdvisories({manifestPath: options.manifestPath, emit: options.emit}) : undefined
  const report = await withAuditProject(options, async ({request, env, ownLayers, share}) => {
    const report = await runAudit(request, env)
    // A saved run's per-target summary of each own layer goes to the shared history.
    await share?.(auditSummaryEvents(report, ownLayers))
    return report
  })
  return advisories ? {...report, advisories: await advisories.report(report.functions, report.finishedAt)} : report
}

/**
 * `layers audit --format jsonl`: the audit streamed, each function handed to `consumer` as it is judged
 * and each target once it is done (and saved in the history as it goes); returns the counts once every
 * target is done.
 */
export async function auditStreamCommand(options: AuditCommandOptions, consumer: AuditConsumer): Promise<AuditStreamResult> {
  return withAuditProject(options, async ({request, env, ownLayers, share}) => {
    // Only the shared history's small per-layer summaries are kept, and of a target in flight the
    // findings about own layers they count, not the functions or the other findings.
    const events: Array<{key: string; events: AuditEvent[]}> = []
    const own = new Set(ownLayers)
    const ownLayerFindings = new Map<string, Array<Pick<Finding, 'accountId' | 'region' | 'layer'>>>()
    const keyOf = (at: {accountId: string; region: string}) => `${at.accountId}/${at.region}`
    const result = await streamAudit(request, env, {
      async function(part, run) {
        if (share && run.runId !== undefined) {
          for (const {accountId, region, layer} of part.findings) {
            const name = layer === undefined ? undefined : parseLayerVersionArn(layer)?.name
            if (name === undefined || !own.has(name)) continue
            const key = keyOf(part.function)
            const ofTarget = ownLayerFindings.get(key)
            if (ofTarget) ofTarget.push({accountId, region, layer})
            else ownLayerFindings.set(key, [{accountId, region, layer}])
          }
        }
        await consumer.function(part, run)
      },
      async target(part, run) {
        const key = keyOf(part.target)
        if (share && run.runId !== undefined) {
          events.push({key, events: auditSummaryEvents({runId: run.runId, startedAt: run.startedAt, targets: [part.target], usage: part.usage, findings: ownLayerFindings.get(key) ?? []}, ownLayers)})
        }
        ownLayerFindings.delete(key)
        await consumer.target(part, run)
      },
    })
    await share?.(events.sort((a, b) => compareText(a.key, b.key)).flatMap((entry) => entry.events))
    return result
  })
}

/**
 * `layers audit --json` (or --format json) without --diff and --advisories: the audit streamed into a
 * spool (src/audit/report-spool.ts), then the report written from it with `write`; the same document
 * auditCommand's report prints, without holding its functions and findings.
 */
export async function auditJsonCommand(options: AuditCommandOptions, write: WriteChunk): Promise<AuditStreamResult> {
  const spool = new ReportSpool()
  try {
    const result = await auditStreamCommand(options, spool)
    await spool.writeReport(result, write)
    return result
  } finally {
    spool.close()
  }
}

interface AuditSetup {
  request: AuditRequest
  env: AuditEnv
  /** The manifest's own layers (those the shared history records). */
  ownLayers: string[]
  /** Writes events to the shared history; absent when nothing is shared (no manifest, no save, --no-remote-state). */
  share: ((events: SharedEvent[]) => Promise<void>) | undefined
}

async function withAuditProject<T>(options: AuditCommandOptions, audit: (setup: AuditSetup) => Promise<T>): Promise<T> {
  useFleetHeapGrowth()
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
    const request: AuditRequest = {
      ...(manifest ? {manifest} : {}),
      ...(lock ? {lock} : {}),
      flags: options.flags,
      concurrency: options.concurrency,
      ...(db ? {db} : {}),
      diff: options.diff,
      runtimes: [...LAMBDA_RUNTIMES],
      emit: options.emit,
    }
    const share = manifest && db ? sharedHistoryWriter(manifest, (account, region) => clients.s3(account, region), options.emit, options.remoteState) : undefined
    const ownLayers = Object.keys(manifest?.layers ?? {}).filter((name) => isOwnLayer(manifest!.layers[name]!))
    return await audit({request, env, ownLayers, share})
  } finally {
    db?.close()
  }
}
