// Owns the local state database (.layers/state.db, better-sqlite3): opening it, and its versioned
// schema migrations. Later modules add tables by appending a migration, never by editing one.
import Database from 'better-sqlite3'
import {createRequire} from 'node:module'
import path from 'node:path'
import {OperationalError} from '../errors/index.js'
import {ensureStateDir} from '../project/paths.js'

export type StateDatabase = Database.Database

export interface Migration {
  version: number
  description: string
  sql: string
}

/** Applied in order; each runs in its own transaction and bumps PRAGMA user_version. Append only. */
export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    description: 'build cache and publication history',
    sql: `
      CREATE TABLE builds (
        layer TEXT NOT NULL,
        artifact TEXT NOT NULL,
        input_hash TEXT NOT NULL,
        code_sha256 TEXT NOT NULL,
        zip_path TEXT NOT NULL,
        zip_bytes INTEGER NOT NULL,
        unzipped_bytes INTEGER NOT NULL,
        files INTEGER NOT NULL,
        packages INTEGER NOT NULL,
        built_at TEXT NOT NULL,
        PRIMARY KEY (layer, artifact, input_hash)
      );
      CREATE TABLE publications (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        layer TEXT NOT NULL,
        artifact TEXT NOT NULL,
        account_id TEXT NOT NULL,
        region TEXT NOT NULL,
        version INTEGER NOT NULL,
        arn TEXT NOT NULL UNIQUE,
        code_sha256 TEXT NOT NULL,
        published_at TEXT NOT NULL
      );
      CREATE INDEX publications_layer ON publications (layer, account_id, region);
    `,
  },
  {
    version: 2,
    description: 'audit runs (targets, functions, layer usage, findings) and pruned layer versions',
    sql: `
      CREATE TABLE audit_runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        started_at TEXT NOT NULL,
        finished_at TEXT NOT NULL,
        targets INTEGER NOT NULL,
        failed_targets INTEGER NOT NULL,
        functions INTEGER NOT NULL,
        errors INTEGER NOT NULL,
        warnings INTEGER NOT NULL,
        infos INTEGER NOT NULL
      );
      CREATE TABLE audit_targets (
        run_id INTEGER NOT NULL REFERENCES audit_runs (id) ON DELETE CASCADE,
        account_id TEXT NOT NULL,
        account_name TEXT,
        region TEXT NOT NULL,
        status TEXT NOT NULL,
        functions INTEGER NOT NULL,
        error_code TEXT,
        error_message TEXT,
        PRIMARY KEY (run_id, account_id, region)
      );
      CREATE TABLE audit_functions (
        run_id INTEGER NOT NULL REFERENCES audit_runs (id) ON DELETE CASCADE,
        account_id TEXT NOT NULL,
        region TEXT NOT NULL,
        name TEXT NOT NULL,
        runtime TEXT,
        architecture TEXT NOT NULL,
        code_size INTEGER NOT NULL,
        layers TEXT NOT NULL,
        managed INTEGER NOT NULL,
        PRIMARY KEY (run_id, account_id, region, name)
      );
      CREATE TABLE audit_layer_usage (
        run_id INTEGER NOT NULL REFERENCES audit_runs (id) ON DELETE CASCADE,
        arn TEXT NOT NULL,
        layer_arn TEXT NOT NULL,
        layer_name TEXT,
        version INTEGER NOT NULL,
        account_id TEXT NOT NULL,
        region TEXT NOT NULL,
        functions INTEGER NOT NULL,
        PRIMARY KEY (run_id, arn, account_id, region)
      );
      CREATE INDEX audit_layer_usage_name ON audit_layer_usage (layer_name, run_id);
      CREATE INDEX audit_layer_usage_arn ON audit_layer_usage (layer_arn, run_id);
      CREATE TABLE audit_findings (
        run_id INTEGER NOT NULL REFERENCES audit_runs (id) ON DELETE CASCADE,
        code TEXT NOT NULL,
        severity TEXT NOT NULL,
        account_id TEXT NOT NULL,
        region TEXT NOT NULL,
        function TEXT NOT NULL,
        layer TEXT,
        message TEXT NOT NULL,
        fix TEXT NOT NULL
      );
      CREATE INDEX audit_findings_run ON audit_findings (run_id);
      CREATE TABLE prunes (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        layer TEXT NOT NULL,
        account_id TEXT NOT NULL,
        region TEXT NOT NULL,
        version INTEGER NOT NULL,
        arn TEXT NOT NULL,
        code_size INTEGER NOT NULL,
        audit_run_id INTEGER,
        deleted_at TEXT NOT NULL
      );
      CREATE INDEX prunes_layer ON prunes (layer, account_id, region);
    `,
  },
  {
    version: 3,
    description: 'function packages, so attach knows a deployed package\'s unzipped size',
    sql: `
      CREATE TABLE function_packages (
        code_sha256 TEXT PRIMARY KEY,
        function TEXT NOT NULL,
        zip_bytes INTEGER NOT NULL,
        unzipped_bytes INTEGER NOT NULL,
        packaged_at TEXT NOT NULL
      );
    `,
  },
  {
    version: 4,
    description: 'shared history events merged from the state bucket (grant changes, attaches, audit summaries; publications and prunes also go to their tables)',
    sql: `
      CREATE TABLE shared_events (
        key TEXT PRIMARY KEY,
        type TEXT NOT NULL,
        layer TEXT NOT NULL,
        account_id TEXT NOT NULL,
        region TEXT NOT NULL,
        at TEXT NOT NULL,
        body TEXT NOT NULL
      );
      CREATE INDEX shared_events_layer ON shared_events (layer, type, at);
    `,
  },
  {
    version: 5,
    description: 'layer versions each account read from Lambda (immutable: content hash, size, runtimes, architectures), so later audits need not read them again',
    sql: `
      CREATE TABLE layer_versions (
        account_id TEXT NOT NULL,
        arn TEXT NOT NULL,
        code_sha256 TEXT NOT NULL,
        code_size INTEGER NOT NULL,
        runtimes TEXT NOT NULL,
        architectures TEXT NOT NULL,
        read_at TEXT NOT NULL,
        PRIMARY KEY (account_id, arn)
      );
    `,
  },
  {
    version: 6,
    description: 'the locked tree (npm packages, Python wheels) of every artifact content built, by content hash, and the aliases of audited functions, so `layers find` answers for published versions after the lock moved on and for the versions aliases run',
    sql: `
      CREATE TABLE artifact_trees (
        code_sha256 TEXT PRIMARY KEY,
        layer TEXT NOT NULL,
        artifact TEXT NOT NULL,
        tree TEXT NOT NULL,
        recorded_at TEXT NOT NULL
      );
      ALTER TABLE audit_functions ADD COLUMN aliases TEXT;
    `,
  },
  {
    version: 7,
    description: 'published function versions audits read (immutable: runtime, architectures, layers, code hash), each under the revision of an alias that routed to it, so later audits need not read them again',
    sql: `
      CREATE TABLE function_versions (
        account_id TEXT NOT NULL,
        region TEXT NOT NULL,
        function_arn TEXT NOT NULL,
        version TEXT NOT NULL,
        alias_revision TEXT NOT NULL,
        runtime TEXT,
        architecture TEXT NOT NULL,
        layers TEXT NOT NULL,
        code_sha256 TEXT,
        read_at TEXT NOT NULL,
        PRIMARY KEY (account_id, region, function_arn, version, alias_revision)
      );
    `,
  },
  {
    version: 8,
    description: 'package deprecations: the registry\'s `deprecated` answer for each npm name@version `layers advisories` asked about (NULL: not deprecated), with when it was read, so later runs within a day need no packument',
    sql: `
      CREATE TABLE package_deprecations (
        registry TEXT NOT NULL,
        name TEXT NOT NULL,
        version TEXT NOT NULL,
        message TEXT,
        checked_at TEXT NOT NULL,
        PRIMARY KEY (registry, name, version)
      );
    `,
  },
]

export function openStateDatabase(stateDir: string, migrations: Migration[] = MIGRATIONS): StateDatabase {
  ensureStateDir(stateDir)
  const file = path.join(stateDir, 'state.db')
  let db: StateDatabase
  try {
    db = new Database(file)
    db.pragma('journal_mode = WAL')
    db.pragma('busy_timeout = 5000')
    db.pragma('foreign_keys = ON')
  } catch (error) {
    const native = nativeModuleProblem(error)
    if (native) throw new OperationalError('ERR_LAYERS_NATIVE_MODULE', `Cannot open the state database ${file}: ${native.message}`, {cause: error, hint: native.hint})
    throw new OperationalError('ERR_LAYERS_STATE_DB', `Cannot open the state database ${file}: ${(error as Error).message}`, {
      cause: error,
      hint: `It holds only local history and caches: move ${file} aside and run the command again to start a fresh one.`,
    })
  }
  migrate(db, migrations, file)
  return db
}

/**
 * Why better-sqlite3's addon did not load, when that is the failure: built for another Node.js (after a
 * switch of Node version), not loadable here, or never built (installed with --ignore-scripts). The
 * database file is not at fault then, so the hint is a rebuild, where the package is installed.
 */
function nativeModuleProblem(error: unknown): {message: string; hint: string} | undefined {
  const text = error instanceof Error ? error.message : String(error)
  const dlopen = (error as {code?: unknown} | null)?.code === 'ERR_DLOPEN_FAILED'
  if (!dlopen && !text.startsWith('Could not locate the bindings file')) return undefined
  let packageDir: string | undefined
  try {
    packageDir = path.dirname(createRequire(import.meta.url).resolve('better-sqlite3/package.json'))
  } catch {
    packageDir = undefined
  }
  const builtFor = /NODE_MODULE_VERSION (\d+)/.exec(text)?.[1]
  const why = builtFor
    ? `it was built for another Node.js version (NODE_MODULE_VERSION ${builtFor})`
    : dlopen
      ? `its addon does not load (${text.split('\n')[0]})`
      : 'its addon was never built (installed with --ignore-scripts?)'
  const where = packageDir ? ` in ${path.dirname(path.dirname(packageDir))}` : ''
  return {
    message: `better-sqlite3${packageDir ? ` (${packageDir})` : ''}, the native module it needs, does not load on Node.js ${process.version} (NODE_MODULE_VERSION ${process.versions.modules}): ${why}.`,
    hint: `Rebuild it for this Node.js: run \`npm rebuild better-sqlite3\`${where} with this Node.js first on PATH (building needs python3, make and a C++ compiler).`,
  }
}

/**
 * A JSON column's value, or undefined when the text does not parse or is not of the expected shape.
 * Every such column is a cache or a record that can be missing: a row damaged outside layers then reads
 * as absent (and is rewritten by the next read from AWS or build) instead of ending the command.
 */
export function storedJson<T>(text: string, isExpected: (value: unknown) => value is T): T | undefined {
  try {
    const value: unknown = JSON.parse(text)
    return isExpected(value) ? value : undefined
  } catch {
    return undefined
  }
}

export function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string')
}

export function schemaVersion(db: StateDatabase): number {
  return db.pragma('user_version', {simple: true}) as number
}

function migrate(db: StateDatabase, migrations: Migration[], file: string): void {
  const current = schemaVersion(db)
  const newest = migrations.at(-1)?.version ?? 0
  if (current > newest) {
    throw new OperationalError('ERR_LAYERS_STATE_DB_NEWER', `${file} has schema version ${current}, newer than this layers (${newest}).`, {
      hint: 'Upgrade layers, or move the database aside to start a fresh one.',
    })
  }
  for (const migration of migrations) {
    if (migration.version <= current) continue
    // Read again under the write lock (BEGIN IMMEDIATE): another process opening a fresh database at
    // the same moment may have applied this migration while this one waited for the lock.
    db.transaction(() => {
      if (schemaVersion(db) >= migration.version) return
      db.exec(migration.sql)
      db.pragma(`user_version = ${migration.version}`)
    }).immediate()
  }
}
