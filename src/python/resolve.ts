// Owns resolving a pip layer's requirements for one Lambda target (runtime x architecture) and
// choosing the exact wheel of every distribution. The resolver is uv (`uv pip compile` with
// --python-platform <machine>-manylinux_2_<glibc> and --python-version, markers evaluated for that
// target), else pip (`pip install --dry-run --report` with --platform/--python-version/--abi/
// --implementation cp); both with --only-binary :all:. uv is then run again letting the projects it
// found no usable wheel of come from their sdist (--no-binary <project>: uv reads the sdist's metadata,
// or has its build backend prepare it; sdist.ts builds the wheel at build time and refuses native code);
// pip cannot (--platform needs --only-binary :all:), so with pip such a project is an error.
// Each pins name==version with the hashes of its files; the wheel is then chosen from the configured
// indexes' project pages as the target's interpreter would choose it (tag order, targets.ts): the best
// ranked compatible, non-yanked file among those hashes, else the sdist (.tar.gz before .zip). uv gets
// the previous pins as preferences (it reads its existing output file), so an unchanged requirement
// keeps its version; pip has no such input.
import {spawn} from 'node:child_process'
import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {OperationalError, UserInputError} from '../errors/index.js'
import type {LockedWheel} from '../lock/types.js'
import {checkProxyEnv, PYTHON_PROXY_VARIABLES} from '../net/proxy.js'
import {withoutCredentials, type PythonIndexConfig} from './config.js'
import {firstListing, type IndexClient, type IndexFile} from './index.js'
import {describeTarget, parseSdistName, platformTags, pythonVersion, tagRanking, wheelMachine, wheelRank, normalizeName, type PythonTarget} from './targets.js'

/** One resolved distribution: its version and the sha256 of the files the resolver accepts. */
export interface Pin {
  name: string
  version: string
  hashes: string[]
}

export interface ResolveRequest {
  layer: string
  requirements: string[]
  target: PythonTarget
  config: PythonIndexConfig
  /** The previously locked versions for this target (kept unless `upgrade` says otherwise). */
  preferred: Array<{name: string; version: string}>
  /** True: every project to its newest allowed version; a set: those projects only. */
  upgrade?: true | ReadonlySet<string>
}

export interface Resolver {
  name: 'uv' | 'pip'
  pins(request: ResolveRequest): Promise<Pin[]>
}

export interface ResolverEnv {
  /** The environment the resolver runs with (PATH, caches); index settings in it are replaced. */
  env?: NodeJS.ProcessEnv
}

export interface Run {
  status: number | null
  stdout: string
  stderr: string
  error?: Error
}

/** Runs a tool (uv, pip, python) to completion, collecting its output; a tool that cannot start resolves with `error`. */
export function runTool(command: string, args: string[], env: NodeJS.ProcessEnv, cwd?: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(command, args, {env, stdio: ['ignore', 'pipe', 'pipe'], ...(cwd ? {cwd} : {})})
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    child.on('error', (error) => resolve({status: null, stdout, stderr, error}))
    child.on('close', (status) => resolve({status, stdout, stderr}))
  })
}

/**
 * The variables of uv and pip kept in a resolver run: the cache, and whom they trust (uv's system
 * certificate store, pip's CA bundle), which a private index's CA needs and no index setting replaces.
 */
const KEPT_TOOL_VARIABLES = new Set(['UV_CACHE_DIR', 'UV_NATIVE_TLS', 'UV_SYSTEM_CERTS', 'PIP_CERT'])

/** The environment of a resolver run: the caller's, with every index and config setting of uv and pip replaced by the project's indexes. */
export function resolverEnv(base: NodeJS.ProcessEnv, config: PythonIndexConfig): NodeJS.ProcessEnv {
  // uv and pip get the proxy variables as they are (both honour them, ALL_PROXY too): a bad one is exit 2 here, as for npm.
  checkProxyEnv(base, PYTHON_PROXY_VARIABLES)
  const env: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(base)) if (!/^(UV_|PIP_)/.test(key) || KEPT_TOOL_VARIABLES.has(key)) env[key] = value
  const [primary, ...extras] = config.indexes
  env.UV_DEFAULT_INDEX = primary!.url
  if (extras.length > 0) env.UV_INDEX = extras.map((entry) => entry.url).join(' ')
  env.UV_NO_CONFIG = '1'
  env.UV_NO_PROGRESS = '1'
  env.PIP_INDEX_URL = primary!.url
  if (extras.length > 0) env.PIP_EXTRA_INDEX_URL = extras.map((entry) => entry.url).join(' ')
  env.PIP_CONFIG_FILE = process.platform === 'win32' ? 'nul' : '/dev/null'
  env.PIP_DISABLE_PIP_VERSION_CHECK = '1'
  env.PIP_NO_INPUT = '1'
  // The configured retries and timeout (pip.conf or PIP_RETRIES / PIP_TIMEOUT) bound the resolver's reads as they bound layers' own.
  if (config.network) {
    env.UV_HTTP_RETRIES = env.PIP_RETRIES = String(config.network.retries)
    env.PIP_TIMEOUT = String(config.network.timeoutMs / 1000)
    // uv takes whole seconds only (7.5 is refused): the next one up.
    env.UV_HTTP_TIMEOUT = String(Math.ceil(config.network.timeoutMs / 1000))
  }
  return env
}

/** uv's --python-platform for a target: uv knows manylinux_2_17 and 2_28 upward, so AL2's glibc 2.26 is asked as 2_17. */
export function uvPlatform(target: PythonTarget): string {
  const glibc = target.runtime.glibc[1]
  return `${wheelMachine(target.architecture)}-manylinux_2_${glibc >= 28 ? glibc : 17}`
}

/** Parses `name==version` lines with `--hash=sha256:` options (uv's requirements output). */
export function parsePinnedRequirements(text: string): Pin[] {
  const pins: Pin[] = []
  for (const line of text.replace(/\\\r?\n/g, ' ').split(/\r?\n/)) {
    const match = /^\s*([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==(\S+)((?:\s+--hash=sha256:[0-9a-f]{64})*)/i.exec(line.replace(/\s#.*$/, ''))
    if (!match) continue
    const hashes = [...match[3]!.matchAll(/sha256:([0-9a-f]{64})/gi)].map((hash) => hash[1]!.toLowerCase())
    pins.push({name: normalizeName(match[1]!), version: match[2]!, hashes})
  }
  return pins
}

/** The projects uv's output says have no usable wheel for the target (normalized names). */
export function withoutWheels(output: string): string[] {
  const name = '([A-Za-z0-9][A-Za-z0-9._-]*[A-Za-z0-9]|[A-Za-z0-9])'
  const patterns = [new RegExp(`${name}(?:\\[[^\\]]*\\])?(?:==|>=|<=|!=|~=|<|>)\\S+ (?:has|have) no (?:usable wheels|wheels with a matching)`, 'g'), new RegExp(`all versions of ${name} have no (?:usable wheels|wheels with a matching)`, 'g'), new RegExp(`Wheels are required for \`${name}\``, 'g')]
  return [...new Set(patterns.flatMap((pattern) => [...output.matchAll(pattern)].map((match) => normalizeName(match[1]!))))].sort()
}

function failure(request: ResolveRequest, tool: string, result: Run): UserInputError | OperationalError {
  const output = withoutCredentials(result.stderr.trim()).split('\n').slice(-12).join('\n')
  const where = `layer ${request.layer} (${describeTarget(request.target)}: cp${request.target.runtime.major}${request.target.runtime.minor}, manylinux up to glibc ${request.target.runtime.glibc.join('.')}, ${wheelMachine(request.target.architecture)})`
  // uv's "Because flakyy was not found in the package registry": every index answered 404 (a typo, or a private project without its index).
  const unknown = [...new Set([...output.matchAll(/`?([A-Za-z0-9][A-Za-z0-9._-]*)`? was not found in the package registr/g)].map((match) => match[1]!))]
  if (unknown.length > 0) {
    return new UserInputError('ERR_LAYERS_PYTHON_NO_PROJECT', `No such project on ${request.config.indexes.map((entry) => entry.public).join(' or ')}: ${unknown.join(', ')} (${where}).`, {
      hint: 'Check the spelling of the requirement in layers.yaml (or the requirements file), or configure the index that has it (index-url / extra-index-url in pip.conf or uv.toml).',
      details: {layer: request.layer, runtime: request.target.runtime.runtime, architecture: request.target.architecture, packages: unknown},
    })
  }
  // A certificate refused: pip then says "No matching distribution", which is no verdict on the wheels.
  if (/invalid peer certificate|CERTIFICATE_VERIFY_FAILED/.test(result.stderr)) {
    return new OperationalError('ERR_LAYERS_PYTHON_INDEX_CERTIFICATE', `${tool} does not trust the certificate of ${request.config.indexes.map((entry) => entry.public).join(' or ')} (${where}):\n${output}`, {
      hint: "Give the CA that signed the index's certificate, a PEM file, to each reader: SSL_CERT_FILE for uv (or UV_SYSTEM_CERTS=true when it is in the system store), PIP_CERT for pip, NODE_EXTRA_CA_CERTS for layers' own reads.",
      details: {layer: request.layer, runtime: request.target.runtime.runtime, architecture: request.target.architecture},
    })
  }
  if (/no (usable |matching )?wheels|building from source is disabled|only-binary|no matching distribution|has no wheels with a matching/i.test(output)) {
    const names = [...new Set([...output.matchAll(/(?:Because |all versions of |no wheels? (?:for|of) |distribution found for |requirement )`?([A-Za-z0-9][A-Za-z0-9._-]*)/g)].map((match) => match[1]!))]
    return new UserInputError('ERR_LAYERS_PYTHON_NO_WHEEL', `No wheel fits ${where}${names.length > 0 ? ` for ${names.join(', ')}` : ''}:\n${output}`, {
      hint: 'layers installs wheels, and builds a pure-Python sdist (with uv as the resolver) but never native code on the host: pin a version that ships a wheel for this runtime and architecture (cpXY or abi3, manylinux), remove the runtime or architecture from the layer, or publish a wheel of it to your index.',
      details: {layer: request.layer, runtime: request.target.runtime.runtime, architecture: request.target.architecture, packages: names},
    })
  }
  if (/No solution found|Because|ResolutionImpossible|conflict/i.test(output)) {
    return new UserInputError('ERR_LAYERS_PYTHON_UNSATISFIABLE', `The requirements of ${where} cannot be satisfied:\n${output}`, {
      hint: 'Loosen the conflicting specifiers in layers.yaml (or the requirements file).',
      details: {layer: request.layer, runtime: request.target.runtime.runtime, architecture: request.target.architecture},
    })
  }
  return new OperationalError('ERR_LAYERS_PYTHON_RESOLVE', `${tool} failed to resolve ${where} (exit ${result.status}):\n${output}`, {
    hint: 'Check the network and the index configuration (pip.conf / uv.toml), then run `layers lock` again.',
    details: {layer: request.layer, runtime: request.target.runtime.runtime, architecture: request.target.architecture},
  })
}

async function withTempDir<T>(work: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(tmpdir(), 'layers-pip-'))
  try {
    return await work(dir)
  } finally {
    await rm(dir, {recursive: true, force: true})
  }
}

/**
 * The host interpreter uv is pointed at (`--python`), found once: without it uv searches PATH for an
 * interpreter of the target's version on every run, and querying each candidate (pyenv shims ...)
 * costs seconds. uv only reads its version and markers; --python-version/--python-platform decide.
 */
export async function hostInterpreter(env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const python = env.LAYERS_PYTHON ?? 'python3'
  const result = await runTool(python, ['-I', '-c', 'import sys; print(sys.executable)'], env)
  const executable = result.stdout.trim()
  return !result.error && result.status === 0 && path.isAbsolute(executable) ? executable : undefined
}

export function uvResolver(command: string, options: ResolverEnv = {}): Resolver {
  let interpreter: Promise<string | undefined> | undefined
  return {
    name: 'uv',
    pins: (request) =>
      withTempDir(async (dir) => {
        const python = await (interpreter ??= hostInterpreter(options.env ?? process.env))
        const input = path.join(dir, 'requirements.in')
        const output = path.join(dir, 'requirements.txt')
        await writeFile(input, request.requirements.join('\n') + '\n')
        // uv prefers the versions of an existing output file: the previous lock's pins.
        await writeFile(output, request.preferred.map((pin) => `${pin.name}==${pin.version}`).join('\n') + '\n')
        const upgrade = request.upgrade === true ? ['--upgrade'] : [...(request.upgrade ?? [])].flatMap((name) => ['--upgrade-package', name])
        // Wheels only, except for the projects uv found no usable wheel of: those may come from their sdist
        // (uv reads or builds its metadata with the build backend; the build checks the result is pure Python).
        const fromSource = new Set<string>()
        let previous: Run | undefined
        for (;;) {
          const sources = [...fromSource].sort().flatMap((name) => ['--no-binary', name])
          const args = ['pip', 'compile', input, '-o', output, '--python-platform', uvPlatform(request.target), '--python-version', pythonVersion(request.target), '--only-binary', ':all:', ...sources, '--generate-hashes', '--no-header', '--no-annotate', '--quiet', '--color', 'never', ...(python ? ['--python', python] : []), ...upgrade]
          const result = await runTool(command, args, resolverEnv(options.env ?? process.env, request.config))
          if (result.error) throw missingResolver(result.error)
          if (result.status === 0) return parsePinnedRequirements(await readFile(output, 'utf8'))
          const more = withoutWheels(result.stderr).filter((name) => !fromSource.has(name))
          // A project without an sdist either: the run that said it has no usable wheel explains that best.
          if (more.length === 0) throw failure(request, 'uv', previous && /has no source distribution/.test(result.stderr) ? previous : result)
          for (const name of more) fromSource.add(name)
          previous = result
        }
      }),
  }
}

interface PipReport {
  install?: Array<{metadata?: {name?: string; version?: string}; download_info?: {url?: string; archive_info?: {hashes?: {sha256?: string}; hash?: string}}}>
}

/** pip's resolution for a foreign target. pip evaluates environment markers (python_version too) on the host interpreter: prefer uv. */
export function pipResolver(python: string, options: ResolverEnv = {}): Resolver {
  return {
    name: 'pip',
    pins: (request) =>
      withTempDir(async (dir) => {
        const input = path.join(dir, 'requirements.txt')
        const report = path.join(dir, 'report.json')
        await writeFile(input, request.requirements.join('\n') + '\n')
        const {major, minor} = request.target.runtime
        const platforms = platformTags(request.target).flatMap((tag) => ['--platform', tag])
        const args = ['-m', 'pip', 'install', '--dry-run', '--ignore-installed', '--quiet', '--report', report, '--target', path.join(dir, 'target'), '--only-binary=:all:', '--implementation', 'cp', '--python-version', `${major}.${minor}`, '--abi', `cp${major}${minor}`, ...platforms, '-r', input]
        const result = await runTool(python, args, resolverEnv(options.env ?? process.env, request.config))
        if (result.error) throw missingResolver(result.error)
        if (result.status !== 0) throw failure(request, 'pip', result)
        const parsed = JSON.parse(await readFile(report, 'utf8')) as PipReport
        return (parsed.install ?? []).map((item) => {
          const info = item.download_info?.archive_info
          const sha256 = info?.hashes?.sha256 ?? (info?.hash?.startsWith('sha256=') ? info.hash.slice(7) : undefined)
          return {name: normalizeName(item.metadata?.name ?? ''), version: item.metadata?.version ?? '', hashes: sha256 ? [sha256.toLowerCase()] : []}
        })
      }),
  }
}

function missingResolver(error: Error): UserInputError {
  return new UserInputError('ERR_LAYERS_PYTHON_RESOLVER_MISSING', `Cannot start the Python resolver: ${error.message}.`, {
    hint: 'Install uv (`pip install uv`, or see https://docs.astral.sh/uv/) so `uv` is on PATH; without it layers needs `python3` with pip 22.2 or later.',
  })
}

/** uv when it is on PATH (or LAYERS_UV), else pip of python3 (or LAYERS_PYTHON). */
export async function findResolver(options: ResolverEnv = {}): Promise<Resolver> {
  const env = options.env ?? process.env
  const uv = env.LAYERS_UV ?? 'uv'
  const probe = await runTool(uv, ['--version'], env)
  if (!probe.error && probe.status === 0) return uvResolver(uv, options)
  const python = env.LAYERS_PYTHON ?? 'python3'
  const pip = await runTool(python, ['-m', 'pip', '--version'], env)
  const version = /^pip (\d+)\.(\d+)/.exec(pip.stdout)
  if (!pip.error && pip.status === 0 && version && (Number(version[1]) > 22 || (Number(version[1]) === 22 && Number(version[2]) >= 2))) return pipResolver(python, options)
  throw missingResolver(new Error(`neither ${uv} nor ${python} -m pip (22.2 or later) can be run`))
}

/**
 * The wheel of `pin` for `target`: searched in uv's index order (extra indexes first, then the default
 * one; the first index listing the project decides), among files with one of the pin's hashes, the
 * best-ranked compatible non-yanked wheel (a yanked one only when nothing else fits: the resolver took
 * it for an exact == pin); ties go to the file name, so the choice never depends on listing order.
 * When no wheel fits, the pin's sdist (the resolver was let take it): locked like a wheel.
 */
export async function chooseWheel(layer: string, pin: Pin, target: PythonTarget, config: PythonIndexConfig, client: IndexClient): Promise<LockedWheel> {
  const ranking = tagRanking(target)
  const listing = await firstListing(config, client, pin.name)
  if (!listing) {
    throw new UserInputError('ERR_LAYERS_PYTHON_NO_WHEEL', `Layer ${layer} (${describeTarget(target)}): no configured index lists ${pin.name} (${config.indexes.map((entry) => entry.public).join(', ')}).`, {
      hint: 'Check the index configuration in pip.conf or uv.toml.',
      details: {layer, package: pin.name},
    })
  }
  const {index: entry, files} = listing
  const candidates = files
    .filter((file): file is IndexFile & {sha256: string} => file.sha256 !== undefined && (pin.hashes.length === 0 || pin.hashes.includes(file.sha256)))
    .map((file) => ({file, rank: wheelRank(file.filename, ranking)}))
    .filter((candidate): candidate is {file: IndexFile & {sha256: string}; rank: number} => candidate.rank !== undefined && versionOf(candidate.file.filename) === normalizeVersion(pin.version))
    .sort((a, b) => Number(a.file.yanked) - Number(b.file.yanked) || a.rank - b.rank || (a.file.filename < b.file.filename ? -1 : a.file.filename > b.file.filename ? 1 : 0))
  // No wheel fits: the pin came from the project's sdist (uv was let build it), locked the same way.
  const sdists = files
    .filter((file): file is IndexFile & {sha256: string} => file.sha256 !== undefined && (pin.hashes.length === 0 || pin.hashes.includes(file.sha256)) && normalizeVersion(parseSdistName(file.filename)?.version ?? '') === normalizeVersion(pin.version))
    .sort((a, b) => Number(a.yanked) - Number(b.yanked) || Number(b.filename.endsWith('.tar.gz')) - Number(a.filename.endsWith('.tar.gz')) || (a.filename < b.filename ? -1 : a.filename > b.filename ? 1 : 0))
  const best = candidates[0]?.file ?? sdists[0]
  if (!best) {
    throw new UserInputError('ERR_LAYERS_PYTHON_NO_WHEEL', `Layer ${layer} (${describeTarget(target)}): ${entry.public} lists no wheel of ${pin.name} ${pin.version} for cp${target.runtime.major}${target.runtime.minor} manylinux (glibc ${target.runtime.glibc.join('.')}) ${wheelMachine(target.architecture)} with a sha256 the resolver accepted.`, {
      hint: 'Pin a version that ships a wheel for this runtime and architecture, or drop the runtime or architecture from the layer.',
      details: {layer, package: pin.name, version: pin.version, runtime: target.runtime.runtime, architecture: target.architecture},
    })
  }
  return {name: pin.name, version: pin.version, filename: best.filename, url: best.url, sha256: best.sha256, index: entry.public}
}

function versionOf(filename: string): string {
  return normalizeVersion(filename.split('-')[1] ?? '')
}

/** Enough of PEP 440 normalization to compare a pin with a file name's version (case, `_`, leading v). */
function normalizeVersion(version: string): string {
  return version.toLowerCase().replace(/^v/, '').replace(/_/g, '-')
}
