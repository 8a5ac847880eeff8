// Test support for prune's service tests: one account and region, an npm layer `deps` published in
// them (a manifest as loadManifest returns it, and a lockfile recording one version of deps).
import type {Lockfile} from '../../src/lock/types.js'
import type {Manifest} from '../../src/manifest/types.js'

export const A = '111111111111'
export const R = 'eu-west-1'
export const arn = (version: number): string => `arn:aws:lambda:${R}:${A}:layer:deps:${version}`

/** The manifest: account prod (A) in R, the npm layer deps, and the `layers` given besides. */
export function pruneManifest(layers: Record<string, unknown> = {}): Manifest {
  return {
    file: '/p/layers.yaml',
    root: '/p',
    version: 1,
    settings: {bucket: 'b', prefix: '', regions: [R], architectures: ['x86_64'], runtimes: []},
    accounts: {prod: {name: 'prod', id: A, regions: [R]}},
    layers: {
      deps: {kind: 'npm', name: 'deps', runtimes: [], architectures: ['x86_64'], exclude: [], defaultExcludes: true, share: {accounts: [], public: false}, dependencies: {}},
      ...layers,
    },
    functions: {},
    locate: () => undefined,
  } as unknown as Manifest
}

/** A lockfile recording `version` of deps (x86_64) as the published one in A/R. */
export function lockWithDeps(version: number): Lockfile {
  return {lockfileVersion: 1, layers: {deps: {kind: 'npm', inputs: 'x', artifacts: {}, published: {[A]: {[R]: {x86_64: {arn: arn(version), version, codeSha256: 's'}}}}}}}
}
