import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'
import {LayersError} from '../../src/errors/index.js'
import {resolveNpmLayer} from '../../src/resolve/layer.js'
import {resolveTree} from '../../src/resolve/tree.js'
import {targetPlatform} from '../../src/resolve/types.js'
import {NpmRegistry} from '../support/npm-registry.js'
import {layer, tempProject, versions, type TempProject} from './helpers.js'

let registry: NpmRegistry
let project: TempProject

beforeAll(async () => {
  registry = await NpmRegistry.start()
  registry
    // a chain
    .publish('chain-a', {version: '1.0.0', dependencies: {'chain-b': '^1.0.0'}})
    .publish('chain-b', {version: '1.0.0', dependencies: {'chain-c': '~1.2.0'}})
    .publish('chain-b', {version: '1.4.0', dependencies: {'chain-c': '~1.2.0'}})
    .publish('chain-c', {version: '1.2.0'})
    .publish('chain-c', {version: '1.2.7'})
    .publish('chain-c', {version: '1.3.0'})
    // conflicts
    .publish('shared', {version: '1.0.0'})
    .publish('shared', {version: '1.5.0'})
    .publish('shared', {version: '2.0.0'})
    .publish('uses-shared-1', {version: '1.0.0', dependencies: {shared: '^1.0.0'}})
    .publish('also-shared-1', {version: '1.0.0', dependencies: {shared: '1.0.0'}})
    .publish('mid', {version: '1.0.0', dependencies: {'deep-user': '^1.0.0'}})
    .publish('deep-user', {version: '1.0.0', dependencies: {shared: '^2.0.0'}})
    .publish('outer', {version: '1.0.0', dependencies: {shared: '^2.0.0', 'nested-conflict': '^1.0.0'}})
    .publish('nested-conflict', {version: '1.0.0', dependencies: {shared: '^1.0.0'}})
    .publish('nested-conflict', {version: '2.0.0'})
    // peers
    .publish('host', {version: '1.0.0'})
    .publish('host', {version: '2.3.0'})
    .publish('plugin', {version: '1.0.0', peerDependencies: {host: '^2.0.0'}})
    .publish('soft-plugin', {version: '1.0.0', peerDependencies: {host: '^2.0.0', extra: '^1.0.0'}, peerDependenciesMeta: {extra: {optional: true}}})
    .publish('extra', {version: '1.0.0'})
    .publish('wrapper', {version: '1.0.0', dependencies: {host: '1.0.0', plugin: '1.0.0'}})
    // optional and per-platform
    .publish('native', {
      version: '1.0.0',
      optionalDependencies: {
        'native-linux-x64': '1.0.0',
        'native-linux-arm64': '1.0.0',
        'native-linux-x64-musl': '1.0.0',
        'native-darwin-arm64': '1.0.0',
        'native-missing': '^1.0.0',
        'native-too-new': '^9.0.0',
        'native-broken': '^1.0.0',
      },
    })
    .publish('native-linux-x64', {version: '1.0.0', os: ['linux'], cpu: ['x64'], libc: ['glibc']})
    .publish('native-linux-arm64', {version: '1.0.0', os: ['linux'], cpu: ['arm64'], libc: ['glibc']})
    .publish('native-linux-x64-musl', {version: '1.0.0', os: ['linux'], cpu: ['x64'], libc: ['musl']})
    .publish('native-darwin-arm64', {version: '1.0.0', os: ['darwin'], cpu: ['arm64']})
    .publish('native-too-new', {version: '1.0.0'})
    .publish('native-broken', {version: '1.0.0', dependencies: {'does-not-exist-anywhere': '^1.0.0'}})
    .publish('mac-only', {version: '1.0.0', os: ['darwin']})
    // bundled, bin, scripts, engines
    .publish('bundler', {
      version: '1.0.0',
      dependencies: {inner: '^3.0.0'},
      bundleDependencies: ['inner'],
      bundled: {'node_modules/inner': {name: 'inner', version: '3.1.0', dependencies: {'chain-c': '^1.3.0'}}},
    })
    .publish('tool', {version: '1.0.0', bin: 'bin/tool.js', files: {'bin/tool.js': '#!/usr/bin/env node\n'}})
    .publish('scripted', {version: '1.0.0', scripts: {postinstall: 'node build.js'}})
    .publish('future-node', {version: '1.0.0', engines: {node: '>=99'}})
    // tags and aliases
    .publish('tagged', {version: '1.0.0'})
    .publish('tagged', {version: '2.0.0-beta.1'}, {tag: 'next'})
})

afterAll(async () => {
  await registry.stop()
})

afterEach(async () => {
  await project?.cleanup()
})

async function resolve(dependencies: Record<string, string>, architecture: 'x86_64' | 'arm64' = 'x86_64', extra: Partial<Parameters<typeof resolveTree>[0]> = {}) {
  project = await tempProject(registry.url)
  return resolveTree({layer: 'deps', dependencies, platform: targetPlatform(architecture), ...extra}, project.source)
}

async function failure(promise: Promise<unknown>): Promise<LayersError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  )
  expect(error).toBeInstanceOf(LayersError)
  return error as LayersError
}

describe('resolveTree', () => {
  it('hoists a dependency chain to the top with the newest matching versions, with registry URL and integrity', async () => {
    const tree = await resolve({'chain-a': '^1.0.0'})
    expect(versions(tree.packages)).toEqual({'node_modules/chain-a': '1.0.0', 'node_modules/chain-b': '1.4.0', 'node_modules/chain-c': '1.2.7'})
    const c = tree.packages['node_modules/chain-c']!
    expect(c.resolved).toBe(`${registry.url}chain-c/-/chain-c-1.2.7.tgz`)
    expect(c.integrity).toBe(registry.integrity('chain-c', '1.2.7'))
    expect(tree.packages['node_modules/chain-b']!.dependencies).toEqual({'chain-c': '~1.2.0'})
    expect(tree.warnings).toEqual([])
  })

  it('nests a package that cannot be hoisted without a version conflict', async () => {
    const tree = await resolve({shared: '^2.0.0', 'uses-shared-1': '1.0.0', 'also-shared-1': '1.0.0', mid: '1.0.0'})
    expect(versions(tree.packages)).toEqual({
      'node_modules/also-shared-1': '1.0.0',
      'node_modules/also-shared-1/node_modules/shared': '1.0.0',
      'node_modules/deep-user': '1.0.0',
      'node_modules/mid': '1.0.0',
      'node_modules/shared': '2.0.0',
      'node_modules/uses-shared-1': '1.0.0',
      'node_modules/uses-shared-1/node_modules/shared': '1.5.0',
    })
  })

  it('places in depth-then-path order like npm: the first package to need a name gets the top folder', async () => {
    // deep-user (hoisted from mid) sorts before uses-shared-1 at depth 1, so shared@2 goes to the top.
    const tree = await resolve({'uses-shared-1': '1.0.0', mid: '1.0.0'})
    expect(versions(tree.packages)).toEqual({
      'node_modules/deep-user': '1.0.0',
      'node_modules/mid': '1.0.0',
      'node_modules/shared': '2.0.0',
      'node_modules/uses-shared-1': '1.0.0',
      'node_modules/uses-shared-1/node_modules/shared': '1.5.0',
    })
  })

  it('does not hoist a package where it would shadow a version another package resolved', async () => {
    // outer needs shared ^2 from the top; its nested nested-conflict@1 needs shared ^1, which must not go
    // into outer/node_modules (outer would then load 1.5) and nests one level deeper.
    const tree = await resolve({shared: '^2.0.0', outer: '1.0.0', 'nested-conflict': '2.0.0'})
    expect(versions(tree.packages)).toEqual({
      'node_modules/nested-conflict': '2.0.0',
      'node_modules/outer': '1.0.0',
      'node_modules/outer/node_modules/nested-conflict': '1.0.0',
      'node_modules/outer/node_modules/nested-conflict/node_modules/shared': '1.5.0',
      'node_modules/shared': '2.0.0',
    })
  })

  it('installs peer dependencies where the package sees them, skips optional peers, refuses or warns on a peer conflict', async () => {
    const tree = await resolve({plugin: '1.0.0', 'soft-plugin': '1.0.0'})
    expect(versions(tree.packages)).toEqual({'node_modules/host': '2.3.0', 'node_modules/plugin': '1.0.0', 'node_modules/soft-plugin': '1.0.0'})
    expect(tree.packages['node_modules/host']!.optional).toBeUndefined()

    // Like npm 7+ (ERESOLVE): a direct dependency conflicting with a peer requirement stops the lock ...
    const direct = await failure(resolve({host: '1.0.0', plugin: '1.0.0'}))
    expect(direct.code).toBe('ERR_LAYERS_PEER_CONFLICT')
    expect(direct.exitCode).toBe(2)
    expect(direct.message).toBe('Layer deps: plugin@1.0.0 needs peer host@^2.0.0, but the layer depends on host@1.0.0 (node_modules/host).')
    expect(direct.hint).toContain('legacy-peer-deps')
    // ... unless peers are off (legacy-peer-deps) ...
    const legacy = await resolve({host: '1.0.0', plugin: '1.0.0'}, 'x86_64', {legacyPeerDeps: true})
    expect(versions(legacy.packages)).toEqual({'node_modules/host': '1.0.0', 'node_modules/plugin': '1.0.0'})
    expect(legacy.warnings).toEqual([])
    const noPeers = await resolve({plugin: '1.0.0'}, 'x86_64', {legacyPeerDeps: true})
    expect(versions(noPeers.packages)).toEqual({'node_modules/plugin': '1.0.0'})
    // ... and a conflict between transitive packages is a warning.
    const conflict = await resolve({wrapper: '1.0.0'})
    expect(versions(conflict.packages)).toEqual({'node_modules/host': '1.0.0', 'node_modules/plugin': '1.0.0', 'node_modules/wrapper': '1.0.0'})
    expect(conflict.warnings.map((warning) => warning.code)).toEqual(['ERR_LAYERS_PEER_CONFLICT'])
    expect(conflict.warnings[0]!.message).toMatch(/^Layer deps: host@\^2\.0\.0 \(peer dependency of plugin@1\.0\.0 \(node_modules\/plugin\)\) conflicts with host@1\.0\.0 installed at node_modules\/host/)

    const withExtra = await resolve({'soft-plugin': '1.0.0', extra: '1.0.0'})
    expect(Object.keys(withExtra.packages).sort()).toEqual(['node_modules/extra', 'node_modules/host', 'node_modules/soft-plugin'])
  })

  it('chooses per-platform optional packages for the target (never the host) and skips unavailable optional ones quietly', async () => {
    const x64 = await resolve({native: '1.0.0'}, 'x86_64')
    expect(versions(x64.packages)).toEqual({'node_modules/native': '1.0.0', 'node_modules/native-linux-x64': '1.0.0'})
    expect(x64.packages['node_modules/native-linux-x64']!.optional).toBe(true)
    expect(x64.packages['node_modules/native-linux-x64']!.libc).toEqual(['glibc'])
    expect(x64.warnings).toEqual([])
    const arm = await resolve({native: '1.0.0'}, 'arm64')
    expect(versions(arm.packages)).toEqual({'node_modules/native': '1.0.0', 'node_modules/native-linux-arm64': '1.0.0'})
  })

  it('refuses a required package that does not install on the target platform, naming layer and package', async () => {
    const error = await failure(resolve({'mac-only': '1.0.0'}))
    expect(error.code).toBe('ERR_LAYERS_UNSUPPORTED_PLATFORM')
    expect(error.exitCode).toBe(2)
    expect(error.message).toMatch(/^Layer deps: mac-only@1\.0\.0 .* linux\/x64\/glibc: it requires os darwin/)
  })

  it('keeps bundled dependencies from the tarball and resolves what they need outside the bundle', async () => {
    const tree = await resolve({bundler: '1.0.0', 'chain-c': '~1.2.0'})
    expect(versions(tree.packages)).toEqual({
      'node_modules/bundler': '1.0.0',
      'node_modules/bundler/node_modules/chain-c': '1.3.0',
      'node_modules/bundler/node_modules/inner': '3.1.0',
      'node_modules/chain-c': '1.2.7',
    })
    const inner = tree.packages['node_modules/bundler/node_modules/inner']!
    expect(inner.inBundle).toBe(true)
    expect(inner.integrity).toBe(registry.integrity('bundler', '1.0.0'))
    expect(registry.requests.some((request) => request.url === '/inner')).toBe(true) // prefetched, a 404: never needed
  })

  it('records bins, install scripts and aliases/tags', async () => {
    const tree = await resolve({tool: '1.0.0', scripted: '1.0.0', 'my-alias': 'npm:tagged@^1.0.0', tagged: 'next'})
    expect(tree.packages['node_modules/tool']!.bin).toEqual({tool: 'bin/tool.js'})
    expect(tree.packages['node_modules/scripted']!.hasInstallScript).toBe(true)
    expect(tree.packages['node_modules/my-alias']).toMatchObject({name: 'tagged', version: '1.0.0'})
    expect(tree.packages['node_modules/tagged']!.version).toBe('2.0.0-beta.1')
  })

  it('keeps locked versions that still satisfy, unless updated', async () => {
    const locked = new Map([['chain-b', ['1.0.0']], ['chain-c', ['1.2.0']]])
    const kept = await resolve({'chain-a': '^1.0.0'}, 'x86_64', {locked})
    expect(versions(kept.packages)).toEqual({'node_modules/chain-a': '1.0.0', 'node_modules/chain-b': '1.0.0', 'node_modules/chain-c': '1.2.0'})
    const one = await resolve({'chain-a': '^1.0.0'}, 'x86_64', {locked, update: new Set(['chain-b'])})
    expect(versions(one.packages)).toEqual({'node_modules/chain-a': '1.0.0', 'node_modules/chain-b': '1.4.0', 'node_modules/chain-c': '1.2.0'})
    const all = await resolve({'chain-a': '^1.0.0'}, 'x86_64', {locked, update: true})
    expect(versions(all.packages)).toEqual({'node_modules/chain-a': '1.0.0', 'node_modules/chain-b': '1.4.0', 'node_modules/chain-c': '1.2.7'})
    // A locked version outside the range is not kept.
    const moved = await resolve({'chain-c': '^1.3.0'}, 'x86_64', {locked})
    expect(versions(moved.packages)).toEqual({'node_modules/chain-c': '1.3.0'})
  })

  it('reports an unknown package and a range nothing satisfies, naming layer, package and who needs it', async () => {
    const unknown = await failure(resolve({'chain-a': '^1.0.0', 'no-such-package': '^1.0.0'}))
    expect(unknown.code).toBe('ERR_LAYERS_PACKAGE_NOT_FOUND')
    expect(unknown.exitCode).toBe(2)
    expect(unknown.message).toMatch(/^Layer deps: no-such-package is not in the registry \(no-such-package@\^1\.0\.0 \(dependency of layer deps\)\)/)
    const range = await failure(resolve({'chain-a': '^1.0.0', shared: '^7.0.0'}))
    expect(range.code).toBe('ERR_LAYERS_NO_MATCHING_VERSION')
    expect(range.message).toContain('No version of shared satisfies ^7.0.0')
    expect(range.message).toContain('the latest is 2.0.0')
  })

  it('retries a failing registry and recovers', async () => {
    project = await tempProject(registry.url)
    registry.failNext(2, 500)
    const tree = await resolveTree({layer: 'deps', dependencies: {shared: '^1.0.0'}, platform: targetPlatform('x86_64')}, project.source)
    expect(versions(tree.packages)).toEqual({'node_modules/shared': '1.5.0'})
  })

  it('gives up on an unreachable registry after its retries with a clear operational error', async () => {
    project = await tempProject(await NpmRegistry.unreachableUrl())
    const error = await failure(resolveTree({layer: 'deps', dependencies: {shared: '^1.0.0'}, platform: targetPlatform('x86_64')}, project.source))
    expect(error.code).toBe('ERR_LAYERS_REGISTRY_UNREACHABLE')
    expect(error.exitCode).toBe(1)
    expect(error.message).toMatch(/^Layer deps: cannot fetch shared from the registry/)
    expect(error.hint).toMatch(/network/)
  })
})

describe('resolveNpmLayer', () => {
  it('makes one artifact for both architectures when the trees are the same, one per architecture otherwise', async () => {
    project = await tempProject(registry.url)
    const same = await resolveNpmLayer(layer('deps', {'chain-a': '^1.0.0'}), {source: project.source})
    expect(Object.keys(same.artifacts)).toEqual(['arm64+x86_64'])
    expect(same.artifacts['arm64+x86_64']!.architectures).toEqual(['arm64', 'x86_64'])
    const split = await resolveNpmLayer(layer('deps', {native: '1.0.0'}), {source: project.source})
    expect(Object.keys(split.artifacts).sort()).toEqual(['arm64', 'x86_64'])
    expect(Object.keys(split.artifacts.arm64!.packages!)).toContain('node_modules/native-linux-arm64')
    expect(Object.keys(split.artifacts.x86_64!.packages!)).toContain('node_modules/native-linux-x64')
  })

  it('warns about engines the runtimes do not satisfy and names packages with install scripts', async () => {
    project = await tempProject(registry.url)
    const resolved = await resolveNpmLayer(layer('deps', {'future-node': '1.0.0', scripted: '1.0.0'}, {runtimes: ['nodejs20.x', 'nodejs22.x']}), {source: project.source})
    const messages = resolved.warnings.map((warning) => `${warning.code}: ${warning.message}`)
    expect(messages).toEqual([
      'ERR_LAYERS_ENGINE_MISMATCH: Layer deps: future-node@1.0.0 (node_modules/future-node) requires Node.js >=99, which no nodejs20.x or nodejs22.x release satisfies.',
      'ERR_LAYERS_INSTALL_SCRIPT_NOT_RUN: Layer deps: scripted@1.0.0 declares install scripts, which layers never runs; it may not work on Lambda.',
    ])
  })

  it('reports the deprecated versions it locks (once per layer, with the registry message), and never locks the message', async () => {
    registry.publish('retired', {version: '1.0.0', deprecated: 'use successor instead'})
    project = await tempProject(registry.url)
    const resolved = await resolveNpmLayer(layer('deps', {retired: '1.0.0', 'chain-a': '^1.0.0'}), {source: project.source})
    expect(resolved.warnings.filter((warning) => warning.code === 'ERR_LAYERS_DEPRECATED').map((warning) => warning.message)).toEqual([
      'Layer deps: a deprecated version is locked: retired@1.0.0 (node_modules/retired): "use successor instead".',
    ])
    expect(JSON.stringify(resolved.artifacts)).not.toContain('successor')
  })

  it('keeps the previous lock of the layer for the same architecture', async () => {
    project = await tempProject(registry.url)
    const first = await resolveNpmLayer(layer('deps', {'chain-b': '^1.0.0'}, {architectures: ['arm64']}), {source: project.source})
    const previous = {kind: 'npm' as const, inputs: 'x', artifacts: {arm64: {architectures: ['arm64' as const], packages: {...first.artifacts.arm64!.packages!, 'node_modules/chain-b': {...first.artifacts.arm64!.packages!['node_modules/chain-b']!, version: '1.0.0'}}}}}
    const again = await resolveNpmLayer(layer('deps', {'chain-b': '^1.0.0'}, {architectures: ['arm64']}), {source: project.source, previous})
    expect(again.artifacts.arm64!.packages!['node_modules/chain-b']!.version).toBe('1.0.0')
    expect(again.artifacts.arm64!.packages!['node_modules/chain-b']!.resolved).toBe(`${registry.url}chain-b/-/chain-b-1.0.0.tgz`)
  })
})
