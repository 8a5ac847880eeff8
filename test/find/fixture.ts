// The project find, advisories and audit --advisories are tested on: one npm layer `deps` (dep@1, which
// pins ms@2.0.0 while ms@2.1.3 exists, so a range on ms can match one copy and not the other) and a
// function `api` on it, published in the accounts named.
import type {NpmRegistry} from '../support/npm-registry.js'
import {accountsYaml, EU} from '../publish/support.js'

export function depsManifest(bucket: string, accounts: string[]): string {
  return `version: 1
settings:
  bucket: "${bucket}-{accountId}-{region}"
  regions: [${EU}]
  architectures: [x86_64]
  runtimes: [nodejs22.x]
${accountsYaml([EU])}
layers:
  deps:
    npm:
      dep: ^1.0.0
functions:
  api: {source: fns/api, handler: index.handler, runtime: nodejs22.x, architecture: x86_64, layers: [deps], accounts: [${accounts.join(', ')}]}
`
}

/** ms 2.0.0 and 2.1.3, and dep 1.0.0 depending on ms 2.0.0. */
export function publishDeps(registry: NpmRegistry): void {
  registry.publish('ms', {version: '2.0.0'}).publish('ms', {version: '2.1.3'})
  registry.publish('dep', {version: '1.0.0', dependencies: {ms: '2.0.0'}})
}
