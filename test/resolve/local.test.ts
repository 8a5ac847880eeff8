// Unit tests of local package lookup (src/resolve/local.ts): pnpm's `workspace:<target>@<range>`
// alias form, the workspace list from pnpm-workspace.yaml (globs with `!` exclusions) or package.json,
// and a file: tarball read as npm installs it (links refused, integrity the tarball's sha512).
import {execFileSync} from 'node:child_process'
import {createHash} from 'node:crypto'
import {mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import {packTarball, repositoryRoot, workspaceAlias, workspaceDirs} from '../../src/resolve/local.js'

const made: string[] = []
afterEach(() => {
  while (made.length > 0) rmSync(made.pop()!, {recursive: true, force: true})
})

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(path.join(tmpdir(), 'layers-local-'))
  made.push(root)
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, file)), {recursive: true})
    writeFileSync(path.join(root, file), text)
  }
  return root
}

describe('workspaceAlias', () => {
  it('reads the alias form and leaves plain ranges and paths to the dependency name', () => {
    expect(workspaceAlias('shared', '@acme/real@*')).toEqual({target: '@acme/real', wanted: '*'})
    expect(workspaceAlias('shared', 'real@^1.0.0')).toEqual({target: 'real', wanted: '^1.0.0'})
    expect(workspaceAlias('@acme/a', '*')).toEqual({target: '@acme/a', wanted: '*'})
    expect(workspaceAlias('@acme/a', '~')).toEqual({target: '@acme/a', wanted: '~'})
    expect(workspaceAlias('@acme/a', '^1.2.0')).toEqual({target: '@acme/a', wanted: '^1.2.0'})
    expect(workspaceAlias('@acme/a', './packages/a')).toEqual({target: '@acme/a', wanted: './packages/a'})
  })
})

describe('workspaceDirs', () => {
  it('lists pnpm-workspace.yaml packages, honouring exclusions, and makes its folder the repository', () => {
    const root = tree({
      'package.json': '{"name": "mono", "private": true}',
      'pnpm-workspace.yaml': "packages:\n  - 'packages/*'\n  - '!packages/scratch'\n",
      'packages/a/package.json': '{"name": "@acme/a", "version": "1.0.0"}',
      'packages/scratch/package.json': '{"name": "scratch", "version": "0.0.0"}',
      'packages/a/node_modules/dep/package.json': '{"name": "dep"}',
      'apps/api/package.json': '{"name": "api"}',
    })
    expect([...workspaceDirs(root)]).toEqual([['@acme/a', path.join(root, 'packages/a')]])
    expect(repositoryRoot(path.join(root, 'apps/api'))).toBe(root)
  })

  it('reads npm/yarn workspaces from package.json (array or {packages})', () => {
    const root = tree({'package.json': '{"workspaces": {"packages": ["libs/*"]}}', 'libs/x/package.json': '{"name": "x"}'})
    expect([...workspaceDirs(root)]).toEqual([['x', path.join(root, 'libs/x')]])
  })
})

describe('packTarball', () => {
  it('holds the files under the top folder with the tarball sha512, and refuses a link', async () => {
    const root = tree({'package/package.json': '{"name": "t", "version": "1.0.0"}', 'package/lib/index.js': 'x\n'})
    execFileSync('tar', ['-czf', 't.tgz', 'package'], {cwd: root})
    const packed = await packTarball(path.join(root, 't.tgz'))
    expect(packed.files.map((file) => file.rel)).toEqual(['lib/index.js', 'package.json'])
    expect(packed.manifest).toMatchObject({name: 't', version: '1.0.0'})
    expect(packed.integrity).toBe(`sha512-${createHash('sha512').update(readFileSync(path.join(root, 't.tgz'))).digest('base64')}`)

    symlinkSync('/etc/passwd', path.join(root, 'package/passwd'))
    execFileSync('tar', ['-czf', 'linked.tgz', 'package'], {cwd: root})
    await expect(packTarball(path.join(root, 'linked.tgz'))).rejects.toMatchObject({code: 'ERR_LAYERS_LOCAL_TARBALL_INVALID', message: expect.stringContaining('package/passwd (SymbolicLink)')})
    writeFileSync(path.join(root, 'junk.tgz'), 'not a tarball')
    await expect(packTarball(path.join(root, 'junk.tgz'))).rejects.toMatchObject({code: 'ERR_LAYERS_LOCAL_TARBALL_INVALID'})
  })
})
