// Shared set-up for resolver tests: a temp project whose .npmrc points at the loopback registry
// (its own npm cache, fast retries), npm options loaded the way the product loads them, and the
// pacote-backed packument source.
import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {loadNpmOptions, type NpmOptions} from '../../src/npm/config.js'
import {pacotePackumentSource} from '../../src/resolve/source.js'
import type {PackumentSource} from '../../src/resolve/types.js'
import type {NpmLayer} from '../../src/manifest/types.js'
import {npmLayer} from '../build/project.js'

export interface TempProject {
  root: string
  home: string
  options: NpmOptions
  source: PackumentSource
  cleanup(): Promise<void>
}

export async function tempProject(registryUrl: string, extraNpmrc = '', env: NodeJS.ProcessEnv = {}): Promise<TempProject> {
  const root = await mkdtemp(path.join(tmpdir(), 'layers-resolve-'))
  const home = path.join(root, 'home')
  await writeFile(
    path.join(root, '.npmrc'),
    `registry=${registryUrl}\ncache=${path.join(root, 'npm-cache')}\nfetch-retries=2\nfetch-retry-mintimeout=10\nfetch-retry-maxtimeout=50\n${extraNpmrc}`,
  )
  const options = await loadNpmOptions(root, {env, home, globalPrefix: path.join(root, 'no-global')})
  return {root, home, options, source: pacotePackumentSource(options), cleanup: () => rm(root, {recursive: true, force: true, maxRetries: 5})}
}

/** An npm layer for both architectures on nodejs20.x. */
export function layer(name: string, dependencies: Record<string, string>, overrides: Partial<NpmLayer> = {}): NpmLayer {
  return npmLayer(name, {runtimes: ['nodejs20.x'], dependencies, ...overrides})
}

/** lock path -> version, for compact assertions. */
export function versions(packages: Record<string, {version: string}>): Record<string, string> {
  return Object.fromEntries(Object.entries(packages).map(([key, pkg]) => [key, pkg.version]).sort(([a], [b]) => (a! < b! ? -1 : 1)))
}
