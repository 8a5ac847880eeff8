// The state database opened for the first time by several processes at once (two `layers` runs in a
// fresh project): each migration is applied once, under the write lock, and every process opens it.
// The processes use the built module (dist/, `npm run build` first), as the CLI does.
import {spawn} from 'node:child_process'
import {mkdirSync, mkdtempSync, rmSync} from 'node:fs'
import Database from 'better-sqlite3'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {pathToFileURL} from 'node:url'
import {afterAll, describe, expect, it} from 'vitest'
import {MIGRATIONS, openStateDatabase, schemaVersion} from '../../src/store/db.js'

const dir = mkdtempSync(path.join(tmpdir(), 'layers-state-open-'))
afterAll(() => rmSync(dir, {recursive: true, force: true}))

const moduleUrl = pathToFileURL(path.resolve('dist/src/store/db.js')).href

function openInChild(stateDir: string): Promise<{code: number | null; stderr: string}> {
  const script = `const {openStateDatabase, schemaVersion} = await import(${JSON.stringify(moduleUrl)}); const db = openStateDatabase(${JSON.stringify(stateDir)}); process.stdout.write(String(schemaVersion(db))); db.close()`
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {stdio: ['ignore', 'pipe', 'pipe']})
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    child.on('close', (code) => resolve({code, stderr}))
  })
}

describe('a fresh state database opened by several processes at once', () => {
  it('is migrated once and opens in every one of them', async () => {
    const stateDir = path.join(dir, '.layers')
    const results = await Promise.all(Array.from({length: 6}, () => openInChild(stateDir)))
    for (const result of results) expect(result, result.stderr).toMatchObject({code: 0})
    const db = openStateDatabase(stateDir)
    expect(schemaVersion(db)).toBe(MIGRATIONS.at(-1)!.version)
    db.close()
  })

  it('skips a migration another process applied while this one waited for the write lock', async () => {
    const stateDir = path.join(dir, 'raced')
    mkdirSync(stateDir, {recursive: true})
    // This test holds the write lock on a fresh database, so the child reads schema version 0 and then
    // waits for the lock; meanwhile this test applies every migration and commits.
    const holder = new Database(path.join(stateDir, 'state.db'))
    holder.pragma('journal_mode = WAL')
    holder.exec('BEGIN IMMEDIATE')
    const child = openInChild(stateDir)
    await new Promise((resolve) => setTimeout(resolve, 1000))
    for (const migration of MIGRATIONS) holder.exec(migration.sql)
    holder.pragma(`user_version = ${MIGRATIONS.at(-1)!.version}`)
    holder.exec('COMMIT')
    holder.close()
    const result = await child
    expect(result, result.stderr).toMatchObject({code: 0})
  })
})
