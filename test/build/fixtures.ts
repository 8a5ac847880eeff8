// Test fixtures for the build: npm-style tarballs written block by block (so hostile entries — `..`,
// absolute paths, escaping links — can be made, which tar.create refuses), their SRI integrity, and
// lockfile packages pointing at them through pacote `file:` specs.
import {createHash} from 'node:crypto'
import {mkdir, writeFile} from 'node:fs/promises'
import path from 'node:path'
import {gzipSync} from 'node:zlib'
import {Header} from 'tar'
import type {LockedPackage} from '../../src/lock/types.js'

export interface TarEntry {
  path: string
  content?: string | Buffer
  mode?: number
  type?: 'File' | 'Directory' | 'SymbolicLink' | 'Link'
  linkpath?: string
}

export function tarBytes(entries: readonly TarEntry[]): Buffer {
  const blocks: Buffer[] = []
  for (const entry of entries) {
    const data = entry.content === undefined ? Buffer.alloc(0) : Buffer.from(entry.content)
    const type = entry.type ?? 'File'
    const header = new Header({
      path: entry.path,
      mode: entry.mode ?? (type === 'Directory' ? 0o755 : 0o644),
      uid: 0,
      gid: 0,
      size: type === 'File' ? data.length : 0,
      mtime: new Date('1985-10-26T08:15:00Z'),
      type,
      linkpath: entry.linkpath,
    })
    const block = Buffer.alloc(512)
    header.encode(block, 0)
    blocks.push(block)
    if (type === 'File' && data.length > 0) {
      blocks.push(data, Buffer.alloc((512 - (data.length % 512)) % 512))
    }
  }
  blocks.push(Buffer.alloc(1024))
  return Buffer.concat(blocks)
}

export function integrityOf(bytes: Buffer): string {
  return `sha512-${createHash('sha512').update(bytes).digest('base64')}`
}

export interface FixturePackage {
  name: string
  version: string
  /** Files under `package/` (path -> content), or raw entries for hostile tarballs. */
  files?: Record<string, string | Buffer>
  entries?: TarEntry[]
  /** Symbolic links under `package/` (path -> link target), added after `files`. */
  links?: Record<string, string>
  /** Raw bytes to serve instead of a tarball (a corrupt package). */
  raw?: Buffer
  lock?: Partial<LockedPackage>
}

/** Writes the package's .tgz under `dir` and returns its lock entry (resolved = file: URL). */
export async function writeFixturePackage(dir: string, fixture: FixturePackage): Promise<LockedPackage> {
  const entries: TarEntry[] =
    fixture.entries ??
    [
      ...Object.entries(fixture.files ?? {}).map(([file, content]) => ({path: `package/${file}`, content, mode: file.startsWith('bin/') ? 0o755 : 0o644})),
      ...Object.entries(fixture.links ?? {}).map(([file, linkpath]) => ({path: `package/${file}`, type: 'SymbolicLink' as const, linkpath})),
    ]
  const bytes = fixture.raw ?? gzipSync(tarBytes(entries))
  await mkdir(dir, {recursive: true})
  const file = path.join(dir, `${fixture.name.replace('/', '-')}-${fixture.version}.tgz`)
  await writeFile(file, bytes)
  return {name: fixture.name, version: fixture.version, resolved: `file:${file}`, integrity: integrityOf(bytes), ...fixture.lock}
}

export function packageJson(name: string, version: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({name, version, ...extra}, null, 2) + '\n'
}
