// Builds in-memory manifests and lockfiles for build tests (plain data in the shapes of
// src/manifest/types.ts and src/lock/types.ts), so the build is tested without the YAML loader.
import path from 'node:path'
import type {LockedPackage, Lockfile} from '../../src/lock/types.js'
import type {Architecture, DirLayer, Manifest, NpmLayer} from '../../src/manifest/types.js'

export function npmLayer(name: string, overrides: Partial<NpmLayer> = {}): NpmLayer {
  return {
    kind: 'npm',
    name,
    runtimes: ['nodejs22.x'],
    architectures: ['x86_64', 'arm64'],
    exclude: [],
    defaultExcludes: true,
    share: {accounts: [], public: false},
    dependencies: {},
    ...overrides,
  }
}

export function dirLayer(name: string, dir: string, overrides: Partial<DirLayer> = {}): DirLayer {
  return {
    kind: 'dir',
    name,
    runtimes: ['nodejs22.x'],
    architectures: ['x86_64'],
    exclude: [],
    defaultExcludes: true,
    share: {accounts: [], public: false},
    dir,
    ...overrides,
  }
}

export function manifestOf(root: string, layers: Array<NpmLayer | DirLayer>): Manifest {
  return {
    file: path.join(root, 'layers.yaml'),
    root,
    version: 1,
    settings: {bucket: 'b-{accountId}-{region}', prefix: '', regions: ['eu-west-1'], architectures: ['x86_64'], runtimes: ['nodejs22.x']},
    accounts: {},
    layers: Object.fromEntries(layers.map((layer) => [layer.name, layer])),
    functions: {},
    locate: () => undefined,
  }
}

export function lockOf(layers: Record<string, {kind: 'npm' | 'dir'; artifacts: Record<string, {architectures: Architecture[]; packages?: Record<string, LockedPackage>}>}>): Lockfile {
  return {
    lockfileVersion: 1,
    layers: Object.fromEntries(Object.entries(layers).map(([name, layer]) => [name, {kind: layer.kind, inputs: 'test', artifacts: layer.artifacts}])),
  }
}
