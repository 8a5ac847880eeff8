// Optional persistence of the server's state to SQLite (the demo keeps its layers and functions between
// runs). Entities are stored as JSON rows keyed by kind and id, with their bytes (zips, objects) in a
// blob column. Without a file every call is a no-op and state lives in memory only.
import Database from 'better-sqlite3'
import {mkdirSync} from 'node:fs'
import {dirname} from 'node:path'

export interface Row<T> {
  id: string
  value: T
  blob: Buffer | undefined
}

export interface Persistence {
  put(kind: string, id: string, value: unknown, blob?: Buffer): void
  remove(kind: string, id: string): void
  all<T>(kind: string): Array<Row<T>>
  close(): void
}

export const memoryOnly: Persistence = {
  put() {},
  remove() {},
  all: () => [],
  close() {},
}

export function sqlitePersistence(file: string): Persistence {
  mkdirSync(dirname(file), {recursive: true})
  const db = new Database(file)
  db.pragma('journal_mode = WAL')
  db.exec('CREATE TABLE IF NOT EXISTS entity (kind TEXT NOT NULL, id TEXT NOT NULL, value TEXT NOT NULL, blob BLOB, PRIMARY KEY (kind, id))')
  const upsert = db.prepare('INSERT INTO entity (kind, id, value, blob) VALUES (?, ?, ?, ?) ON CONFLICT (kind, id) DO UPDATE SET value = excluded.value, blob = COALESCE(excluded.blob, entity.blob)')
  const del = db.prepare('DELETE FROM entity WHERE kind = ? AND id = ?')
  const select = db.prepare('SELECT id, value, blob FROM entity WHERE kind = ? ORDER BY rowid')
  return {
    put(kind, id, value, blob) {
      upsert.run(kind, id, JSON.stringify(value), blob ?? null)
    },
    remove(kind, id) {
      del.run(kind, id)
    },
    all<T>(kind: string) {
      return (select.all(kind) as Array<{id: string; value: string; blob: Buffer | null}>).map((row) => ({id: row.id, value: JSON.parse(row.value) as T, blob: row.blob ?? undefined}))
    },
    close() {
      db.close()
    },
  }
}
