// Owns the audit and prune history in the state database (tables of migration 2): saving an audit
// run (targets, functions, layer usage, findings) target by target as the audit streams them, each
// target in one transaction (a run is invisible to readers until it is finished), reading runs back for
// `audit --diff` and prune's freshness check, recording pruned versions, and a layer's history
// (publications recorded by publish, usage per audit run, prunes) for `layers history`.
import type {StateDatabase} from '../store/db.js'
import type {AttachEvent, AuditEvent, GrantEvent, SharedEvent} from './shared.js'
import type {AliasReport, AuditReport, Finding, FindingCode, FunctionReport, LayerUsage, Severity, TargetReport, TargetStatus} from '../audit/types.js'

/** The inserts of a run's rows (migration 2's tables). */
function runRows(db: StateDatabase) {
  const insertTarget = db.prepare(
    `INSERT INTO audit_targets (run_id, account_id, account_name, region, status, functions, error_code, error_message) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  )
  const insertFunction = db.prepare(
    `INSERT INTO audit_functions (run_id, account_id, region, name, runtime, architecture, code_size, layers, managed, aliases) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  )
  const insertUsage = db.prepare(
    `INSERT INTO audit_layer_usage (run_id, arn, layer_arn, layer_name, version, account_id, region, functions) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  )
  const insertFinding = db.prepare(
    `INSERT INTO audit_findings (run_id, code, severity, account_id, region, function, layer, message, fix) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  )
  return (runId: number, rows: Pick<AuditReport, 'targets' | 'functions' | 'usage' | 'findings'>): void => {
    for (const target of rows.targets) {
      insertTarget.run(runId, target.accountId, target.accountName ?? null, target.region, target.status, target.functions, target.error?.code ?? null, target.error?.message ?? null)
    }
    for (const fn of rows.functions) {
      insertFunction.run(runId, fn.accountId, fn.region, fn.name, fn.runtime ?? null, fn.architecture, fn.codeSize, JSON.stringify(fn.layers), fn.managed ? 1 : 0, fn.aliases ? JSON.stringify(fn.aliases) : null)
    }
    for (const usage of rows.usage) {
      for (const target of usage.targets) {
        insertUsage.run(runId, usage.arn, usage.layerArn, usage.name ?? null, usage.version, target.accountId, target.region, target.functions)
      }
    }
    for (const finding of rows.findings) {
      insertFinding.run(runId, finding.code, finding.severity, finding.accountId, finding.region, finding.function, finding.layer ?? null, finding.message, finding.fix)
    }
  }
}

/** A run saved as an audit streams, function rows in batches and each target's row once it is done. */
export interface AuditRunWriter {
  runId: number
  /** Rows of the run (a batch of functions and their findings, or a target's row and usage), in one short transaction. */
  add(rows: Pick<AuditReport, 'targets' | 'functions' | 'usage' | 'findings'>): void
  /** Removes the function and finding rows saved so far of one target (it failed after giving some). */
  dropTarget(target: {accountId: string; region: string}): void
  /** Sets the run's counts and end time: from now on readers see it. */
  finish(report: Pick<AuditReport, 'finishedAt' | 'summary'>): void
  /** Deletes the run and its rows (the audit did not finish). */
  abandon(): void
}

/**
 * Opens a run that is saved as its targets finish, so a streamed audit keeps none of them. Until
 * finish() its finished_at is empty, and every reader of the history (previousRun, layerHistory)
 * skips it; a run a killed process left unfinished stays invisible.
 */
export function openAuditRun(db: StateDatabase, startedAt: string): AuditRunWriter {
  const runId = Number(
    db.prepare(`INSERT INTO audit_runs (started_at, finished_at, targets, failed_targets, functions, errors, warnings, infos) VALUES (?, '', 0, 0, 0, 0, 0, 0)`).run(startedAt).lastInsertRowid,
  )
  const insertRows = runRows(db)
  return {
    runId,
    add: (rows) => db.transaction(() => insertRows(runId, rows)).immediate(),
    dropTarget: ({accountId, region}) =>
      db
        .transaction(() => {
          for (const table of ['audit_functions', 'audit_findings']) db.prepare(`DELETE FROM ${table} WHERE run_id = ? AND account_id = ? AND region = ?`).run(runId, accountId, region)
        })
        .immediate(),
    finish: ({finishedAt, summary}) => {
      db.prepare(`UPDATE audit_runs SET finished_at = ?, targets = ?, failed_targets = ?, functions = ?, errors = ?, warnings = ?, infos = ? WHERE id = ?`).run(
        finishedAt, summary.targets, summary.failedTargets, summary.functions, summary.findings.error, summary.findings.warning, summary.findings.info, runId,
      )
    },
    abandon: () => {
      db.prepare(`DELETE FROM audit_runs WHERE id = ?`).run(runId)
    },
  }
}

export interface StoredRun {
  id: number
  startedAt: string
  finishedAt: string
  targets: TargetReport[]
}

interface RunRow {
  id: number
  started_at: string
  finished_at: string
}

function targetsOf(db: StateDatabase, runId: number): TargetReport[] {
  const rows = db
    .prepare(`SELECT account_id, account_name, region, status, functions, error_code, error_message FROM audit_targets WHERE run_id = ? ORDER BY account_id, region`)
    .all(runId) as Array<{account_id: string; account_name: string | null; region: string; status: TargetStatus; functions: number; error_code: string | null; error_message: string | null}>
  return rows.map((row) => ({
    accountId: row.account_id,
    ...(row.account_name === null ? {} : {accountName: row.account_name}),
    region: row.region,
    status: row.status,
    functions: row.functions,
    ...(row.error_code === null ? {} : {error: {code: row.error_code, message: row.error_message ?? ''}}),
  }))
}

function toStoredRun(db: StateDatabase, row: RunRow | undefined): StoredRun | undefined {
  return row && {id: row.id, startedAt: row.started_at, finishedAt: row.finished_at, targets: targetsOf(db, row.id)}
}

/** The newest saved run before `beforeRunId` (or the newest of all). */
export function previousRun(db: StateDatabase, beforeRunId?: number): StoredRun | undefined {
  const row = db
    .prepare(`SELECT id, started_at, finished_at FROM audit_runs WHERE id < ? AND finished_at <> '' ORDER BY id DESC LIMIT 1`)
    .get(beforeRunId ?? Number.MAX_SAFE_INTEGER) as RunRow | undefined
  return toStoredRun(db, row)
}

export function runFindings(db: StateDatabase, runId: number): Finding[] {
  const rows = db
    .prepare(`SELECT code, severity, account_id, region, function, layer, message, fix FROM audit_findings WHERE run_id = ? ORDER BY rowid`)
    .all(runId) as Array<{code: FindingCode; severity: Severity; account_id: string; region: string; function: string; layer: string | null; message: string; fix: string}>
  return rows.map((row) => ({
    code: row.code,
    severity: row.severity,
    accountId: row.account_id,
    region: row.region,
    function: row.function,
    ...(row.layer === null ? {} : {layer: row.layer}),
    message: row.message,
    fix: row.fix,
  }))
}

/** Layer version ARNs in use in a run, with their function counts summed over targets. */
export function runLayerUsage(db: StateDatabase, runId: number): Array<Pick<LayerUsage, 'arn' | 'layerArn' | 'version' | 'functions'>> {
  return db
    .prepare(`SELECT arn, layer_arn AS layerArn, version, SUM(functions) AS functions FROM audit_layer_usage WHERE run_id = ? GROUP BY arn ORDER BY arn`)
    .all(runId) as Array<Pick<LayerUsage, 'arn' | 'layerArn' | 'version' | 'functions'>>
}

export interface PruneRecord {
  layer: string
  accountId: string
  region: string
  version: number
  arn: string
  codeSize: number
  auditRunId?: number
  deletedAt: string
}

/** A publication as the history keeps it (publish records them; the shared history imports them). */
export interface PublicationRow {
  layer: string
  artifact: string
  accountId: string
  region: string
  version: number
  arn: string
  codeSha256: string
  publishedAt: string
}

/** Inserts publications in one transaction; one already there (same ARN) is kept as it is. */
export function insertPublications(db: StateDatabase, rows: PublicationRow[]): void {
  const insert = db.prepare(`INSERT OR IGNORE INTO publications (layer, artifact, account_id, region, version, arn, code_sha256, published_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
  db.transaction(() => {
    for (const row of rows) insert.run(row.layer, row.artifact, row.accountId, row.region, row.version, row.arn, row.codeSha256, row.publishedAt)
  })()
}

/** The ARNs of the layer's publications in the history. */
export function knownPublicationArns(db: StateDatabase, layer: string): Set<string> {
  return new Set((db.prepare(`SELECT arn FROM publications WHERE layer = ?`).all(layer) as Array<{arn: string}>).map((row) => row.arn))
}

/** The keys of the layer's shared events already merged into the cache. */
export function knownEventKeys(db: StateDatabase, layer: string): Set<string> {
  return new Set((db.prepare(`SELECT key FROM shared_events WHERE layer = ?`).all(layer) as Array<{key: string}>).map((row) => row.key))
}

/**
 * Merges shared events (already validated) in one transaction: each is kept by its key; a publication
 * also goes to the publications and a prune to the prunes (unless one of that ARN is there: this
 * machine recorded it itself).
 */
export function insertSharedEvents(db: StateDatabase, events: Array<{key: string; event: SharedEvent}>): void {
  const insert = db.prepare(`INSERT OR IGNORE INTO shared_events (key, type, layer, account_id, region, at, body) VALUES (?, ?, ?, ?, ?, ?, ?)`)
  const pruned = db.prepare(`SELECT 1 FROM prunes WHERE arn = ?`)
  db.transaction(() => {
    for (const {key, event} of events) {
      insert.run(key, event.type, event.layer, event.accountId, event.region, event.at, JSON.stringify(event))
      if (event.type === 'publication') {
        insertPublications(db, [{layer: event.layer, artifact: event.artifact, accountId: event.accountId, region: event.region, version: event.version, arn: event.arn, codeSha256: event.codeSha256, publishedAt: event.publishedAt}])
      } else if (event.type === 'prune' && pruned.get(event.arn) === undefined) {
        recordPrune(db, {layer: event.layer, accountId: event.accountId, region: event.region, version: event.version, arn: event.arn, codeSize: event.codeSize, deletedAt: event.at})
      }
    }
  })()
}

export function recordPrune(db: StateDatabase, record: PruneRecord): void {
  db.prepare(`INSERT INTO prunes (layer, account_id, region, version, arn, code_size, audit_run_id, deleted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`).run(
    record.layer,
    record.accountId,
    record.region,
    record.version,
    record.arn,
    record.codeSize,
    record.auditRunId ?? null,
    record.deletedAt,
  )
}

export interface LayerHistory {
  layer: string
  publications: Array<{accountId: string; region: string; artifact: string; version: number; arn: string; codeSha256: string; publishedAt: string}>
  /** Per audit run that saw the layer in use: which versions, how many functions, where. */
  usage: Array<{runId: number; startedAt: string; versions: Array<{version: number; arn: string; functions: number; targets: number}>}>
  prunes: Array<{accountId: string; region: string; version: number; arn: string; codeSize: number; deletedAt: string}>
  /** From the shared history (merged by `layers history`): grant changes by publish, attaches, audit summaries of every clone. */
  grants: GrantEvent[]
  attaches: AttachEvent[]
  audits: AuditEvent[]
}

/**
 * The history of one layer, named as in the manifest or by its layer ARN (without version).
 * Usage covers the last `runs` audit runs that saw it.
 */
export function layerHistory(db: StateDatabase, layer: string, runs = 20): LayerHistory {
  const byArn = layer.startsWith('arn:')
  const publications = (
    db
      .prepare(
        `SELECT account_id AS accountId, region, artifact, version, arn, code_sha256 AS codeSha256, published_at AS publishedAt FROM publications
         WHERE ${byArn ? `substr(arn, 1, length(arn) - length(version) - 1) = ?` : 'layer = ?'} ORDER BY published_at, account_id, region, version`,
      )
      .all(layer) as LayerHistory['publications']
  )
  const usageRows = db
    .prepare(
      `SELECT u.run_id AS runId, r.started_at AS startedAt, u.version, u.arn, SUM(u.functions) AS functions, COUNT(*) AS targets
       FROM audit_layer_usage u JOIN audit_runs r ON r.id = u.run_id
       WHERE u.run_id IN (SELECT DISTINCT u2.run_id FROM audit_layer_usage u2 JOIN audit_runs r2 ON r2.id = u2.run_id WHERE r2.finished_at <> '' AND u2.${byArn ? 'layer_arn' : 'layer_name'} = ? ORDER BY u2.run_id DESC LIMIT ?)
         AND ${byArn ? 'u.layer_arn' : 'u.layer_name'} = ?
       GROUP BY u.run_id, u.arn ORDER BY u.run_id, u.version, u.arn`,
    )
    .all(layer, runs, layer) as Array<{runId: number; startedAt: string; version: number; arn: string; functions: number; targets: number}>
  const usage: LayerHistory['usage'] = []
  for (const row of usageRows) {
    let run = usage.at(-1)
    if (!run || run.runId !== row.runId) {
      run = {runId: row.runId, startedAt: row.startedAt, versions: []}
      usage.push(run)
    }
    run.versions.push({version: row.version, arn: row.arn, functions: row.functions, targets: row.targets})
  }
  const prunes = db
    .prepare(
      `SELECT account_id AS accountId, region, version, arn, code_size AS codeSize, deleted_at AS deletedAt FROM prunes
       WHERE ${byArn ? `substr(arn, 1, length(arn) - length(version) - 1) = ?` : 'layer = ?'} ORDER BY deleted_at, account_id, region, version`,
    )
    .all(layer) as LayerHistory['prunes']
  const shared = <T extends SharedEvent>(type: T['type']): T[] => {
    const rows = db.prepare(`SELECT body FROM shared_events WHERE layer = ? AND type = ? ORDER BY at, key`).all(byArn ? (parseLayerArn(layer)?.name ?? '') : layer, type) as Array<{body: string}>
    const events = rows.map((row) => JSON.parse(row.body) as T)
    if (!byArn) return events
    const where = parseLayerArn(layer)
    return events.filter((event) => event.accountId === where?.accountId && event.region === where.region)
  }
  return {layer, publications, usage, prunes, grants: shared<GrantEvent>('grant'), attaches: shared<AttachEvent>('attach'), audits: shared<AuditEvent>('audit')}
}

/** name, account and region of a layer ARN without the version. */
function parseLayerArn(arn: string): {name: string; accountId: string; region: string} | undefined {
  const match = /^arn:[\w-]+:lambda:([\w-]+):(\d{12}):layer:([\w-]+)$/.exec(arn)
  return match ? {region: match[1]!, accountId: match[2]!, name: match[3]!} : undefined
}

/** The functions a run saw, with the layers of `$LATEST` and of the versions their aliases route to. */
export function runFunctions(db: StateDatabase, runId: number): Array<Pick<FunctionReport, 'accountId' | 'region' | 'name' | 'layers' | 'aliases'>> {
  const rows = db.prepare(`SELECT account_id, region, name, layers, aliases FROM audit_functions WHERE run_id = ? ORDER BY account_id, region, name`).all(runId) as Array<{
    account_id: string
    region: string
    name: string
    layers: string
    aliases: string | null
  }>
  return rows.map((row) => ({
    accountId: row.account_id,
    region: row.region,
    name: row.name,
    layers: JSON.parse(row.layers) as string[],
    ...(row.aliases === null ? {} : {aliases: JSON.parse(row.aliases) as AliasReport[]}),
  }))
}
