// Owns turning a `layers.yaml` file into a Manifest: read, parse with positions, check (schema, then
// the semantic checks), apply defaults and resolve paths. Every problem is collected and reported at
// once; the Manifest is only produced from a document without errors.
import {readdirSync, readFileSync} from 'node:fs'
import {readFile} from 'node:fs/promises'
import path from 'node:path'
import {UserInputError, type Problem} from '../errors/index.js'
import {toolRoot} from '../project/paths.js'
import {bucketProblems, DEFAULT_BUCKET} from './bucket.js'
import {semanticProblems} from './checks.js'
import {readYaml, type YamlSource} from './document.js'
import {mapRequirement, readRequirementsFile} from '../python/requirements.js'
import {packageSpecs} from '../resolve/overrides.js'
import {findTeamLockfile, teamLockRef} from '../resolve/teamlock/find.js'
import {CUSTOM_RUNTIMES} from './runtimes.js'
import {schemaProblems} from './schema-check.js'
import {DEFAULT_SSM_PARAMETER_NAME} from '../ssm/names.js'
import {DEFAULT_STATE_SETTINGS, type Account, type Architecture, type FunctionImageSettings, type FunctionSpec, type LayerSpec, type Manifest, type NpmOverrides, type Settings, type Share} from './types.js'

export const DEFAULT_SETTINGS: Omit<Settings, 'regions'> & {regions: string[]} = {
  bucket: DEFAULT_BUCKET,
  prefix: 'layers/',
  regions: [],
  architectures: ['x86_64'],
  runtimes: ['nodejs22.x'],
}

export interface ManifestInspection {
  /** Present when there are no errors (warnings allowed). */
  manifest?: Manifest
  problems: Problem[]
}

/** Parses and checks manifest text; `file` is used for locations and to resolve relative paths. */
export function inspectManifestText(text: string, file: string): ManifestInspection {
  const absolute = path.resolve(file)
  const source = readYaml(text, absolute)
  // A duplicate key still leaves a well-formed document (the last one wins), so the rest is checked
  // too and every problem is reported at once; any other syntax error stops here.
  if (source.problems.some((problem) => problem.code !== 'ERR_LAYERS_MANIFEST_DUPLICATE_KEY')) return {problems: firstSyntaxError(source.problems)}
  if (source.problems.length === 0 && (source.data === undefined || source.data === null)) {
    return {
      problems: [{severity: 'error', code: 'ERR_LAYERS_MANIFEST_EMPTY', message: 'The manifest is empty.', hint: 'Start from `layers init`, or add at least `version: 1`.', location: {file: absolute, line: 1, column: 1}}],
    }
  }
  const root = path.dirname(absolute)
  const problems = [...source.problems, ...schemaProblems(source)]
  if (source.data !== null && typeof source.data === 'object' && !Array.isArray(source.data)) {
    problems.push(...bucketProblems(source.data as Record<string, unknown>, source))
    problems.push(...semanticProblems(source.data as Record<string, unknown>, {source, root, templates: runtimeTemplateNames(), today: new Date().toISOString().slice(0, 10)}))
  }
  problems.sort((a, b) => (a.location?.line ?? 0) - (b.location?.line ?? 0) || (a.location?.column ?? 0) - (b.location?.column ?? 0))
  if (problems.some((problem) => problem.severity === 'error')) return {problems}
  return {manifest: toManifest(source, root), problems}
}

/**
 * The first syntax error alone, saying how many follow: after one broken line the parser reports the
 * rest of the document as broken too (an unclosed quote yields dozens of errors), so only the first is
 * worth reading; fixing it usually clears the others.
 */
export function firstSyntaxError(problems: readonly Problem[]): Problem[] {
  const syntax = problems.filter((problem) => problem.code !== 'ERR_LAYERS_MANIFEST_DUPLICATE_KEY')
  const first = [...syntax].sort((a, b) => (a.location?.line ?? 0) - (b.location?.line ?? 0) || (a.location?.column ?? 0) - (b.location?.column ?? 0))[0]!
  const more = syntax.length - 1
  if (more === 0) return [first]
  const tail = ` (${more} more syntax error${more === 1 ? '' : 's'} after it, most often caused by this one)`
  return [{...first, message: first.message.replace(/\.?$/, `${tail}.`), hint: `${first.hint ?? 'Fix the YAML at this position.'} Then run \`layers validate\` again.`}]
}

/** Reads and checks a manifest file; a missing or unreadable file is itself a problem. */
export async function inspectManifest(file: string): Promise<ManifestInspection> {
  const absolute = path.resolve(file)
  let text: string
  try {
    text = await readFile(absolute, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    throw new UserInputError(code === 'ENOENT' ? 'ERR_LAYERS_MANIFEST_MISSING' : 'ERR_LAYERS_MANIFEST_UNREADABLE', code === 'ENOENT' ? `${absolute} does not exist.` : `${absolute} cannot be read: ${(error as Error).message}`, {
      hint: code === 'ENOENT' ? 'Run the command in the project directory, point --manifest at your layers.yaml, or create one with `layers init`.' : 'Check the file permissions.',
      cause: error,
    })
  }
  return inspectManifestText(text, absolute)
}

/** The checked manifest, or a UserInputError (exit 2) carrying every problem with its location. */
export async function loadManifest(file: string): Promise<Manifest> {
  return manifestOrThrow(await inspectManifest(file), path.resolve(file))
}

/** For tests and callers holding the text already. */
export function parseManifest(text: string, file: string): Manifest {
  return manifestOrThrow(inspectManifestText(text, file), path.resolve(file))
}

function manifestOrThrow(inspection: ManifestInspection, file: string): Manifest {
  if (inspection.manifest) return inspection.manifest
  const errors = inspection.problems.filter((problem) => problem.severity === 'error')
  throw new UserInputError('ERR_LAYERS_MANIFEST_INVALID', `${file} has ${errors.length} problem${errors.length === 1 ? '' : 's'}.`, {
    problems: inspection.problems,
    hint: 'Fix the problems listed above (each names its file:line:column); `layers validate` lists them again.',
  })
}

/** Names of the runtime templates shipped under templates/runtimes/. */
export function runtimeTemplateNames(): string[] {
  try {
    return readdirSync(path.join(toolRoot(), 'templates', 'runtimes'), {withFileTypes: true})
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name)
      .sort()
  } catch {
    return []
  }
}

type Raw = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any -- checked by schema and checks above

function toManifest(source: YamlSource, root: string): Manifest {
  const data = source.data as Raw
  const rawSettings: Raw = data.settings ?? {}
  const settings: Settings = {
    bucket: rawSettings.bucket ?? DEFAULT_SETTINGS.bucket,
    prefix: rawSettings.prefix ?? DEFAULT_SETTINGS.prefix,
    regions: rawSettings.regions ?? DEFAULT_SETTINGS.regions,
    architectures: rawSettings.architectures ?? DEFAULT_SETTINGS.architectures,
    runtimes: rawSettings.runtimes ?? DEFAULT_SETTINGS.runtimes,
    ...(rawSettings.maxRps === undefined ? {} : {maxRps: rawSettings.maxRps}),
    state: {
      ...(rawSettings.state?.bucket === undefined ? {} : {bucket: rawSettings.state.bucket}),
      remote: rawSettings.state?.remote ?? DEFAULT_STATE_SETTINGS.remote,
      leaseSeconds: rawSettings.state?.leaseSeconds ?? DEFAULT_STATE_SETTINGS.leaseSeconds,
    },
    ...(rawSettings.ssm === undefined ? {} : {ssm: {parameterName: rawSettings.ssm?.parameterName ?? DEFAULT_SSM_PARAMETER_NAME}}),
    ...(rawSettings.ownershipTags === undefined ? {} : {ownershipTags: rawSettings.ownershipTags}),
    ...(rawSettings.licenses === undefined
      ? {}
      : {licenses: {...(rawSettings.licenses.allow ? {allow: rawSettings.licenses.allow} : {}), ...(rawSettings.licenses.deny ? {deny: rawSettings.licenses.deny} : {})}}),
  }
  const accounts: Record<string, Account> = {}
  for (const [name, raw] of Object.entries((data.accounts ?? {}) as Record<string, Raw>)) {
    accounts[name] = {
      name,
      id: raw.id,
      ...(raw.profile === undefined ? {} : {profile: raw.profile}),
      ...(raw.roleArn === undefined ? {} : {roleArn: raw.roleArn}),
      ...(raw.externalId === undefined ? {} : {externalId: raw.externalId}),
      ...(raw.sessionName === undefined ? {} : {sessionName: raw.sessionName}),
      regions: raw.regions ?? settings.regions,
      ...(raw.protected === true ? {protected: true} : {}),
    }
  }
  const layers: Record<string, LayerSpec> = {}
  for (const [name, raw] of Object.entries((data.layers ?? {}) as Record<string, Raw>)) {
    layers[name] = toLayer(name, raw, settings, accounts, root, source.file)
  }
  const functions: Record<string, FunctionSpec> = {}
  for (const [key, raw] of Object.entries((data.functions ?? {}) as Record<string, Raw>)) {
    functions[key] = {
      key,
      name: raw.name ?? key,
      source: path.resolve(root, raw.source),
      handler: raw.handler,
      runtime: raw.runtime,
      architecture: raw.architecture ?? 'x86_64',
      layers: raw.layers ?? [],
      accounts: raw.accounts ?? Object.keys(accounts),
      exclude: raw.exclude ?? [],
      ...(raw.image === undefined ? {} : {image: imageSettings(raw.image, root)}),
    }
  }
  return {file: source.file, root, version: 1, settings, accounts, layers, functions, locate: (at) => source.locate(at)}
}

/** A function's `image:`; an `oci:DIR` base is relative to the manifest, as every path in it is. */
function imageSettings(raw: Raw, root: string): FunctionImageSettings {
  const base = typeof raw.base === 'string' && raw.base.startsWith('oci:') ? `oci:${path.resolve(root, raw.base.slice('oci:'.length))}` : (raw.base as string | undefined)
  return {...(base === undefined ? {} : {base}), ...(raw.repository === undefined ? {} : {repository: raw.repository as string})}
}

function toLayer(name: string, raw: Raw, settings: Settings, accounts: Record<string, Account>, root: string, manifestFile: string): LayerSpec {
  if (raw.arn !== undefined) return {kind: 'arn', name, arn: raw.arn, ...(raw.ssm === undefined ? {} : {ssm: raw.ssm})}
  const rawShare: Raw = raw.share ?? {}
  const share: Share = {
    accounts: [...new Set<string>((rawShare.accounts ?? []).map((account: string) => accounts[account]?.id ?? account))].sort(),
    ...(rawShare.organization === undefined ? {} : {organization: rawShare.organization}),
    public: rawShare.public === true,
  }
  const base = {
    name,
    runtimes: raw.runtimes ?? (raw.runtime !== undefined ? [...CUSTOM_RUNTIMES] : settings.runtimes),
    architectures: (raw.architectures ?? settings.architectures) as Architecture[],
    ...(raw.license === undefined ? {} : {license: raw.license}),
    ...(raw.description === undefined ? {} : {description: raw.description}),
    exclude: raw.exclude ?? [],
    defaultExcludes: raw.defaultExcludes ?? true,
    share,
    ...(raw.channels === undefined ? {} : {channels: raw.channels as string[]}),
  }
  if (raw.dir !== undefined) return {...base, kind: 'dir', dir: path.resolve(root, raw.dir)}
  if (raw.runtime !== undefined) {
    const template: string = raw.runtime.template
    const local = template.startsWith('.') || path.isAbsolute(template)
    return {...base, kind: 'runtime', template: local ? path.resolve(root, template) : template, version: raw.runtime.version ?? ''}
  }
  if (raw.pip !== undefined) {
    if (typeof raw.pip === 'string') {
      const requirementsFile = path.resolve(root, raw.pip)
      return {...base, kind: 'pip', requirements: readRequirementsFile(requirementsFile).lines.map((line) => line.requirement.trim()), requirementsFile}
    }
    return {...base, kind: 'pip', requirements: Object.entries(raw.pip as Record<string, string>).map(([key, value]) => mapRequirement(key, value))}
  }
  if (typeof raw.npm === 'string') {
    const packageJson = path.resolve(root, raw.npm)
    const pkg = JSON.parse(readFileSync(packageJson, 'utf8')) as Record<string, unknown>
    const {dependencies: declared, references} = packageSpecs(pkg)
    const overrides: NpmOverrides | undefined =
      raw.overrides !== undefined ? {rules: raw.overrides, references, where: manifestFile} : pkg.overrides !== undefined ? {rules: pkg.overrides, references, where: packageJson} : undefined
    const optionalField = pkg.optionalDependencies as Record<string, string> | null | undefined
    // As npm does: a name in optionalDependencies is an optional dependency even when dependencies lists it too.
    const optional = optionalField !== null && typeof optionalField === 'object' && Object.keys(optionalField).length > 0 ? optionalField : undefined
    const dependencies = Object.fromEntries(Object.entries(declared).filter(([name]) => !optional || !Object.hasOwn(optional, name)))
    const lockfile = raw.lockfile === 'ignore' ? undefined : findTeamLockfile(packageJson)
    return {...base, kind: 'npm', dependencies, packageJson, ...(optional ? {optionalDependencies: optional} : {}), ...(lockfile ? {teamLock: teamLockRef(lockfile)} : {}), ...(overrides ? {overrides} : {})}
  }
  return {...base, kind: 'npm', dependencies: raw.npm, ...(raw.overrides !== undefined ? {overrides: {rules: raw.overrides, references: {...raw.npm}, where: manifestFile}} : {})}
}

