// Layers from the team's own lockfile (src/resolve/teamlock/), against the loopback registry: a
// package-lock.json v3 pinning versions older than the ranges' newest gives exactly those versions;
// a lockfile written on darwin-arm64 that lists every platform's optional packages gives the
// linux-x64 package on x86_64 and the linux-arm64 one on arm64; pnpm-lock.yaml v9 and v6, yarn.lock
// classic and berry and a workspace-root package-lock give the same set; a stale lockfile (a range
// the pin does not satisfy, a dependency missing from the lock) and an integrity mismatch are refused
// naming the file; `lockfile: ignore` resolves afresh; a changed team lockfile makes the layer stale.
import {mkdir, mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {LayersError, UserInputError} from '../../src/errors/index.js'
import type {LayersEvent} from '../../src/events.js'
import {lockStatus} from '../../src/lock/fingerprint.js'
import {lockProject} from '../../src/lock/lock-project.js'
import type {Lockfile} from '../../src/lock/types.js'
import {inspectManifest, loadManifest} from '../../src/manifest/load.js'
import {NpmRegistry} from '../support/npm-registry.js'

let registry: NpmRegistry
let base: string

const PLATFORMS: Record<string, {os: string[]; cpu: string[]; libc?: string[]}> = {
  '@img/tl-linux-x64': {os: ['linux'], cpu: ['x64'], libc: ['glibc']},
  '@img/tl-linux-arm64': {os: ['linux'], cpu: ['arm64'], libc: ['glibc']},
  '@img/tl-linuxmusl-x64': {os: ['linux'], cpu: ['x64'], libc: ['musl']},
  '@img/tl-darwin-arm64': {os: ['darwin'], cpu: ['arm64']},
}

beforeAll(async () => {
  registry = await NpmRegistry.start()
  for (const version of ['2.0.0', '2.1.0', '2.5.0']) registry.publish('tl-beta', {version})
  for (const version of ['1.0.0', '1.1.0', '1.2.0']) registry.publish('tl-alpha', {version, dependencies: {'tl-beta': '^2.0.0'}})
  registry.publish('tl-gamma', {version: '3.0.0'})
  registry.publish('tl-delta', {version: '1.0.0'})
  for (const version of ['1.0.0', '1.1.0']) {
    for (const [name, platform] of Object.entries(PLATFORMS)) registry.publish(name, {version, ...platform})
    registry.publish('tl-native', {version, optionalDependencies: Object.fromEntries(Object.keys(PLATFORMS).map((name) => [name, version]))})
  }
  base = await mkdtemp(path.join(tmpdir(), 'layers-teamlock-'))
})
afterAll(async () => {
  await registry.stop()
  await rm(base, {recursive: true, force: true})
})

const PACKAGE_JSON = {name: 'app', version: '1.0.0', dependencies: {'tl-alpha': '^1.0.0', 'tl-native': '^1.0.0'}, devDependencies: {'tl-gamma': '^3.0.0'}}

// Every lockfile below pins versions older than the newest matching ones (tl-alpha 1.2.0, tl-beta 2.5.0, tl-native 1.1.0).
const tarball = (name: string, version: string): string => `${registry.url}${name}/-/${name.split('/').pop()}-${version}.tgz`

function packageLock(overrides: {integrity?: Record<string, string>} = {}): object {
  const entry = (name: string, version: string, extra: object = {}): object => ({version, resolved: tarball(name, version), integrity: overrides.integrity?.[name] ?? registry.integrity(name, version), ...extra})
  return {
    name: 'app',
    version: '1.0.0',
    lockfileVersion: 3,
    requires: true,
    packages: {
      '': {name: 'app', version: '1.0.0', dependencies: PACKAGE_JSON.dependencies, devDependencies: PACKAGE_JSON.devDependencies},
      'node_modules/tl-alpha': entry('tl-alpha', '1.0.0', {dependencies: {'tl-beta': '^2.0.0'}}),
      'node_modules/tl-beta': entry('tl-beta', '2.0.0'),
      'node_modules/tl-gamma': entry('tl-gamma', '3.0.0', {dev: true}),
      'node_modules/tl-native': entry('tl-native', '1.0.0', {optionalDependencies: Object.fromEntries(Object.keys(PLATFORMS).map((name) => [name, '1.0.0']))}),
      ...Object.fromEntries(Object.entries(PLATFORMS).map(([name, platform]) => [`node_modules/${name}`, entry(name, '1.0.0', {...platform, optional: true})])),
    },
  }
}

function pnpmLock(version: '9.0' | '6.0'): string {
  const integrity = (name: string, pinned: string): string => `resolution: {integrity: ${registry.integrity(name, pinned)}}`
  const key = (name: string, pinned: string): string => `'${version === '6.0' ? '/' : ''}${name}@${pinned}'`
  const importer = [
    '    dependencies:',
    "      tl-alpha: {specifier: ^1.0.0, version: 1.0.0}",
    "      tl-native: {specifier: ^1.0.0, version: 1.0.0}",
    '    devDependencies:',
    "      tl-gamma: {specifier: ^3.0.0, version: 3.0.0}",
  ]
  const platform = (name: string): string[] => Object.entries(PLATFORMS[name]!).map(([field, values]) => `    ${field}: [${values.join(', ')}]`)
  const nativeDeps = ['    optionalDependencies:', ...Object.keys(PLATFORMS).map((name) => `      '${name}': 1.0.0`)]
  if (version === '9.0') {
    return [
      "lockfileVersion: '9.0'",
      '',
      'importers:',
      '  .:',
      ...importer,
      '',
      'packages:',
      ...['tl-alpha@1.0.0', 'tl-beta@2.0.0', 'tl-gamma@3.0.0', 'tl-native@1.0.0'].flatMap((id) => [`  ${key(id.split('@')[0]!, id.split('@')[1]!)}:`, `    ${integrity(id.split('@')[0]!, id.split('@')[1]!)}`]),
      ...Object.keys(PLATFORMS).flatMap((name) => [`  ${key(name, '1.0.0')}:`, `    ${integrity(name, '1.0.0')}`, ...platform(name)]),
      '',
      'snapshots:',
      `  ${key('tl-alpha', '1.0.0')}:`,
      '    dependencies:',
      '      tl-beta: 2.0.0',
      `  ${key('tl-beta', '2.0.0')}: {}`,
      `  ${key('tl-gamma', '3.0.0')}: {}`,
      `  ${key('tl-native', '1.0.0')}:`,
      ...nativeDeps,
      ...Object.keys(PLATFORMS).flatMap((name) => [`  ${key(name, '1.0.0')}:`, '    optional: true']),
      '',
    ].join('\n')
  }
  return [
    "lockfileVersion: '6.0'",
    '',
    ...importer.map((line) => line.slice(4)),
    '',
    'packages:',
    `  ${key('tl-alpha', '1.0.0')}:`,
    `    ${integrity('tl-alpha', '1.0.0')}`,
    '    dependencies:',
    '      tl-beta: 2.0.0',
    '    dev: false',
    ...['tl-beta@2.0.0', 'tl-gamma@3.0.0'].flatMap((id) => [`  ${key(id.split('@')[0]!, id.split('@')[1]!)}:`, `    ${integrity(id.split('@')[0]!, id.split('@')[1]!)}`]),
    `  ${key('tl-native', '1.0.0')}:`,
    `    ${integrity('tl-native', '1.0.0')}`,
    ...nativeDeps,
    ...Object.keys(PLATFORMS).flatMap((name) => [`  ${key(name, '1.0.0')}:`, `    ${integrity(name, '1.0.0')}`, ...platform(name), '    optional: true']),
    '',
  ].join('\n')
}

function yarnClassicLock(): string {
  const entry = (descriptors: string[], name: string, version: string, deps: string[] = []): string[] => [
    `${descriptors.map((descriptor) => (/^[a-z]/.test(descriptor) && !descriptor.includes(':') ? descriptor : JSON.stringify(descriptor))).join(', ')}:`,
    `  version "${version}"`,
    `  resolved "${tarball(name, version)}"`,
    `  integrity ${registry.integrity(name, version)}`,
    ...deps,
    '',
  ]
  return [
    '# THIS IS AN AUTOGENERATED FILE. DO NOT EDIT THIS FILE DIRECTLY.',
    '# yarn lockfile v1',
    '',
    '',
    ...Object.keys(PLATFORMS).flatMap((name) => entry([`${name}@1.0.0`], name, '1.0.0')),
    ...entry(['tl-alpha@^1.0.0'], 'tl-alpha', '1.0.0', ['  dependencies:', '    tl-beta "^2.0.0"']),
    ...entry(['tl-beta@^2.0.0'], 'tl-beta', '2.0.0'),
    ...entry(['tl-gamma@^3.0.0'], 'tl-gamma', '3.0.0'),
    ...entry(['tl-native@^1.0.0'], 'tl-native', '1.0.0', ['  optionalDependencies:', ...Object.keys(PLATFORMS).map((name) => `    "${name}" "1.0.0"`)]),
  ].join('\n')
}

function yarnBerryLock(): string {
  const entry = (descriptor: string, name: string, version: string, deps: string[] = []): string[] => [
    `"${descriptor}":`,
    `  version: ${version}`,
    `  resolution: "${name}@npm:${version}"`,
    ...deps,
    '  checksum: 10c0/0123456789abcdef',
    '  languageName: node',
    '  linkType: hard',
    '',
  ]
  return [
    '# This file is generated by running "yarn install" inside your project.',
    '# Manual changes might be lost - proceed with caution!',
    '',
    '__metadata:',
    '  version: 8',
    '  cacheKey: 10c0',
    '',
    ...Object.keys(PLATFORMS).flatMap((name) => entry(`${name}@npm:1.0.0`, name, '1.0.0', [`  conditions: ${PLATFORMS[name]!.os.map((os) => `os=${os}`).join(' | ')}`])),
    '"app@workspace:.":',
    '  version: 0.0.0-use.local',
    '  resolution: "app@workspace:."',
    '  dependencies:',
    '    tl-alpha: "npm:^1.0.0"',
    '    tl-gamma: "npm:^3.0.0"',
    '    tl-native: "npm:^1.0.0"',
    '  languageName: unknown',
    '  linkType: soft',
    '',
    ...entry('tl-alpha@npm:^1.0.0', 'tl-alpha', '1.0.0', ['  dependencies:', '    tl-beta: "npm:^2.0.0"']),
    ...entry('tl-beta@npm:^2.0.0', 'tl-beta', '2.0.0'),
    ...entry('tl-gamma@npm:^3.0.0', 'tl-gamma', '3.0.0'),
    ...entry('tl-native@npm:^1.0.0', 'tl-native', '1.0.0', ['  dependencies:', ...Object.keys(PLATFORMS).map((name) => `    "${name}": "npm:1.0.0"`), '  dependenciesMeta:', ...Object.keys(PLATFORMS).flatMap((name) => [`    "${name}":`, '      optional: true'])]),
  ].join('\n')
}

const MANIFEST = (layers: string) => `version: 1
settings:
  bucket: "b-{accountId}-{region}"
  regions: [eu-west-1]
  architectures: [x86_64, arm64]
  runtimes: [nodejs22.x]
layers:
${layers}`

interface Project {
  dir: string
  write(file: string, text: string | object): Promise<void>
  lock(options?: {check?: boolean}): Promise<{lock: Lockfile; warnings: LayersEvent[]}>
}

async function project(name: string, files: Record<string, string | object>, layers = '  deps:\n    npm: ./package.json\n'): Promise<Project> {
  const dir = path.join(base, name)
  const write = async (file: string, text: string | object): Promise<void> => {
    await mkdir(path.dirname(path.join(dir, file)), {recursive: true})
    await writeFile(path.join(dir, file), typeof text === 'string' ? text : JSON.stringify(text, null, 2))
  }
  await write('.npmrc', `registry=${registry.url}\ncache=${path.join(base, 'npm-cache')}\nfetch-retries=0\n`)
  await write('layers.yaml', MANIFEST(layers))
  for (const [file, text] of Object.entries(files)) await write(file, text)
  return {
    dir,
    write,
    async lock(options = {}) {
      const warnings: LayersEvent[] = []
      await lockProject({manifestPath: path.join(dir, 'layers.yaml'), emit: (event) => void (event.type === 'warning' && warnings.push(event)), npmConfig: {env: {}, home: path.join(base, 'home'), globalPrefix: path.join(base, 'no-global')}, ...options})
      return {lock: JSON.parse(await readFile(path.join(dir, 'lockfile.json'), 'utf8')) as Lockfile, warnings}
    },
  }
}

/** name@version of each artifact of a layer, by artifact key. */
function sets(lock: Lockfile, layer = 'deps'): Record<string, string[]> {
  const locked = lock.layers[layer]
  if (locked?.kind !== 'npm') throw new Error(`${layer} is not an npm layer`)
  return Object.fromEntries(Object.entries(locked.artifacts).map(([key, artifact]) => [key, Object.values(artifact.packages ?? {}).map((pkg) => `${pkg.name}@${pkg.version}`).sort()]))
}

const EXPECTED = {
  arm64: ['@img/tl-linux-arm64@1.0.0', 'tl-alpha@1.0.0', 'tl-beta@2.0.0', 'tl-native@1.0.0'],
  x86_64: ['@img/tl-linux-x64@1.0.0', 'tl-alpha@1.0.0', 'tl-beta@2.0.0', 'tl-native@1.0.0'],
}

async function lockError(target: Project): Promise<UserInputError> {
  const error = await target.lock().then(() => undefined, (thrown: unknown) => thrown)
  expect(error).toBeInstanceOf(UserInputError)
  return error as UserInputError
}

describe('layers from the team lockfile', () => {
  it('a package-lock.json v3 written on darwin-arm64 gives its pinned versions and the linux platform package of each architecture', async () => {
    const layers = '  deps:\n    npm: ./package.json\n  fresh:\n    npm: ./package.json\n    lockfile: ignore\n'
    const target = await project('npm', {'package.json': PACKAGE_JSON, 'package-lock.json': packageLock()}, layers)
    const {lock} = await target.lock()
    expect(sets(lock)).toEqual(EXPECTED)
    const deps = lock.layers.deps
    expect(deps?.kind === 'npm' && deps.source?.lockfile).toBe('package-lock.json')
    expect(deps?.kind === 'npm' && deps.source?.sha256).toMatch(/^[0-9a-f]{64}$/)
    // The same package.json resolved afresh gets the newest versions the ranges allow.
    expect(sets(lock, 'fresh').x86_64).toEqual(['@img/tl-linux-x64@1.1.0', 'tl-alpha@1.2.0', 'tl-beta@2.5.0', 'tl-native@1.1.0'])
    const fresh = lock.layers.fresh
    expect(fresh?.kind === 'npm' && fresh.source).toBeUndefined()
    // What is locked is the registry's tarball with the integrity the team locked.
    const packages = deps?.kind === 'npm' ? deps.artifacts.x86_64!.packages! : {}
    expect(packages['node_modules/tl-alpha']!.integrity).toBe(registry.integrity('tl-alpha', '1.0.0'))
  })

  it.each([
    ['pnpm-lock.yaml v9', 'pnpm-lock.yaml', () => pnpmLock('9.0')],
    ['pnpm-lock.yaml v6', 'pnpm-lock.yaml', () => pnpmLock('6.0')],
    ['yarn.lock classic', 'yarn.lock', yarnClassicLock],
    ['yarn.lock berry', 'yarn.lock', yarnBerryLock],
    ['npm-shrinkwrap.json', 'npm-shrinkwrap.json', () => JSON.stringify(packageLock())],
  ])('%s gives the same set', async (label, file, text) => {
    const target = await project(label.replace(/\W+/g, '-'), {'package.json': PACKAGE_JSON, [file]: text()})
    const {lock} = await target.lock()
    expect(sets(lock)).toEqual(EXPECTED)
    const deps = lock.layers.deps
    expect(deps?.kind === 'npm' && deps.source?.lockfile).toBe(file)
  })

  it('a workspace package takes its versions from the package-lock.json at the workspace root', async () => {
    const lock = packageLock() as {packages: Record<string, object>}
    const {'node_modules/tl-alpha': alpha, ...rest} = lock.packages
    const workspaceLock = {
      ...lock,
      packages: {
        '': {name: 'mono', workspaces: ['packages/*']},
        'node_modules/svc': {resolved: 'packages/svc', link: true},
        'packages/svc': {name: 'svc', version: '1.0.0', dependencies: PACKAGE_JSON.dependencies},
        // Nested under the workspace: looked up from packages/svc first.
        'packages/svc/node_modules/tl-alpha': alpha,
        ...Object.fromEntries(Object.entries(rest).filter(([key]) => key !== '')),
      },
    }
    // As npm writes it with omit-lockfile-registry-resolved: no tarball URLs (npm derives them from the registry).
    for (const entry of Object.values(workspaceLock.packages) as Array<Record<string, unknown>>) delete entry.resolved
    workspaceLock.packages['node_modules/svc'] = {resolved: 'packages/svc', link: true}
    const target = await project('workspace', {'package.json': {name: 'mono', private: true, workspaces: ['packages/*']}, 'package-lock.json': workspaceLock, 'packages/svc/package.json': {...PACKAGE_JSON, name: 'svc'}}, '  deps:\n    npm: ./packages/svc/package.json\n')
    const before = registry.requests.length
    const {lock: locked} = await target.lock()
    expect(sets(locked)).toEqual(EXPECTED)
    // A package-lock.json carries the metadata npm ci installs from: nothing is asked of the registry.
    expect(registry.requests.slice(before)).toEqual([])
    const deps = locked.layers.deps
    expect(deps?.kind === 'npm' && deps.artifacts.x86_64!.packages!['node_modules/tl-beta']!.resolved).toBe(tarball('tl-beta', '2.0.0'))
    expect(deps?.kind === 'npm' && deps.source?.lockfile).toBe('package-lock.json')
  })

  it('refuses a lockfile out of date with package.json: a pin outside the range, a dependency missing from the lock', async () => {
    const outOfRange = await project('stale-range', {'package.json': {...PACKAGE_JSON, dependencies: {...PACKAGE_JSON.dependencies, 'tl-alpha': '^1.1.0'}}, 'package-lock.json': packageLock()})
    const range = await lockError(outOfRange)
    expect(range.code).toBe('ERR_LAYERS_TEAM_LOCK_STALE')
    expect(range.message).toContain('package-lock.json is out of date with package.json')
    expect(range.message).toContain('pins tl-alpha@1.0.0')
    expect(range.message).toContain('^1.1.0')
    expect(range.hint).toMatch(/npm install.*lockfile: ignore/)

    const missing = await project('stale-missing', {'package.json': {...PACKAGE_JSON, dependencies: {...PACKAGE_JSON.dependencies, 'tl-delta': '^1.0.0'}}, 'yarn.lock': yarnClassicLock()})
    const absent = await lockError(missing)
    expect(absent.code).toBe('ERR_LAYERS_TEAM_LOCK_STALE')
    expect(absent.message).toContain('yarn.lock has no entry for tl-delta@^1.0.0')
    expect(absent.hint).toContain('yarn install')
    // Nothing was written.
    await expect(readFile(path.join(missing.dir, 'lockfile.json'))).rejects.toThrow()
  })

  it('refuses a lockfile whose integrity is not the tarball\'s: at lock against the registry (pnpm) and against the tarball (npm)', async () => {
    const wrong = registry.integrity('tl-beta', '2.1.0')
    const pnpm = await project('integrity-pnpm', {'package.json': PACKAGE_JSON, 'pnpm-lock.yaml': pnpmLock('9.0').replace(registry.integrity('tl-beta', '2.0.0'), wrong)})
    const error = await lockError(pnpm)
    expect(error.code).toBe('ERR_LAYERS_TEAM_LOCK_INTEGRITY')
    expect(error.message).toContain('pnpm-lock.yaml records integrity')
    expect(error.message).toContain('tl-beta@2.0.0')

    // npm lockfiles carry the metadata npm ci installs from: the lock takes the team's integrity and checks the tarball against it (reading its package.json for the licence).
    const npm = await project('integrity-npm', {'package.json': PACKAGE_JSON, 'package-lock.json': packageLock({integrity: {'tl-beta': wrong}})})
    const refused = (await npm.lock().then(() => undefined, (thrown: unknown) => thrown)) as LayersError
    expect(refused).toBeInstanceOf(LayersError)
    expect(refused.code).toBe('ERR_LAYERS_INTEGRITY_MISMATCH')
    expect(refused.message).toMatch(/tl-beta@2\.0\.0 \(node_modules\/tl-beta\) of layer deps/)
  })

  it('refuses a package-lock.json pointing a tarball at a host that is not a configured registry', async () => {
    const lock = packageLock() as {packages: Record<string, Record<string, unknown>>}
    lock.packages['node_modules/tl-beta']!.resolved = 'https://evil.example/tl-beta-2.0.0.tgz'
    const target = await project('other-host', {'package.json': PACKAGE_JSON, 'package-lock.json': lock})
    const error = await lockError(target)
    expect(error.code).toBe('ERR_LAYERS_REGISTRY_TARBALL_REFUSED')
    expect(error.message).toContain('package-lock.json for tl-beta@2.0.0')
    expect(error.message).toContain('evil.example')
  })

  it('reports the layer stale when the team lockfile changes, and takes the new pins on the next lock', async () => {
    const target = await project('changed', {'package.json': PACKAGE_JSON, 'package-lock.json': packageLock()})
    const {lock} = await target.lock()
    expect((await lockStatus(await loadManifest(path.join(target.dir, 'layers.yaml')), lock)).stale).toEqual([])
    const next = packageLock() as {packages: Record<string, Record<string, unknown>>}
    next.packages['node_modules/tl-beta'] = {version: '2.1.0', resolved: tarball('tl-beta', '2.1.0'), integrity: registry.integrity('tl-beta', '2.1.0')}
    await target.write('package-lock.json', next)
    expect((await lockStatus(await loadManifest(path.join(target.dir, 'layers.yaml')), lock)).stale).toEqual(['deps'])
    const {lock: relocked} = await target.lock()
    expect(sets(relocked).x86_64).toContain('tl-beta@2.1.0')
  })

  it('validates the lockfile option with located errors', async () => {
    const target = await project('option', {'package.json': PACKAGE_JSON}, '  inline:\n    npm: {tl-alpha: ^1.0.0}\n    lockfile: ignore\n  typo:\n    npm: ./package.json\n    lockfile: sometimes\n')
    const {problems} = await inspectManifest(path.join(target.dir, 'layers.yaml'))
    const option = problems.find((problem) => problem.code === 'ERR_LAYERS_MANIFEST_LOCKFILE_OPTION')
    expect(option?.message).toContain('layers.inline.lockfile applies only to an npm layer given as a package.json path')
    expect(option?.location).toMatchObject({line: 10})
    const typo = problems.find((problem) => problem.message.includes('sometimes') || problem.location?.line === 13)
    expect(typo?.severity).toBe('error')
    expect(typo?.location?.line).toBe(13)
  })
})
