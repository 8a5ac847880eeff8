// Owns the manifest checks a schema cannot express: names that are no reserved JavaScript property
// names (src/manifest/reserved-names.ts), SPDX ids of the licence policy, a layer is exactly one kind, ARNs, npm package
// names and semver ranges, PEP 508 requirements of pip layers (src/python/requirements.ts), npm and
// pip layers on runtimes of their language, regions and runtimes that exist, references between
// sections (layers, accounts) with did-you-mean, Lambda's limits on a function's layers, and
// compatibility of a function's runtime (and its language) and architecture with its own layers. Works
// on the raw document data after the schema check, skipping values of the wrong type (the schema has
// reported those already).
import {existsSync, readFileSync, statSync} from 'node:fs'
import path from 'node:path'
import semver from 'semver'
import validatePackageName from 'validate-npm-package-name'
import {mapRequirement, parseRequirement, readRequirementsFile} from '../python/requirements.js'
import {PYTHON_RUNTIME_NAMES} from '../python/targets.js'
import {isLocalSpec, localSpecOutside} from '../resolve/local.js'
import {parseRegistrySpec} from '../resolve/spec.js'
import {LayersError, type Problem} from '../errors/index.js'
import {policyEntryProblem} from '../licenses/policy.js'
import {packageSpecs, readOverrides} from '../resolve/overrides.js'
import {checkLayerArn, REGION_PLACEHOLDER} from './arn.js'
import type {DocPath, YamlSource} from './document.js'
import {isKnownRegion, ALL_REGIONS} from './regions.js'
import {isReservedName, reservedNameReason} from './reserved-names.js'
import {CUSTOM_RUNTIMES, lambdaRuntime, RUNTIME_NAMES} from './runtimes.js'
import {dotted} from './schema-check.js'
import {didYouMean} from './suggest.js'

/** Lambda's limit on the layers of one function. */
export const MAX_LAYERS_PER_FUNCTION = 5

export const LAYER_KINDS = ['npm', 'pip', 'dir', 'runtime', 'arn'] as const
const OWN_LAYER_KEYS = ['runtimes', 'architectures', 'license', 'description', 'exclude', 'defaultExcludes', 'share', 'channels']

type Raw = Record<string, unknown>

const isObject = (value: unknown): value is Raw => value !== null && typeof value === 'object' && !Array.isArray(value)
/** The entry a user-chosen name keys, never a property every object inherits (`accounts.constructor`). */
const own = (record: Raw, name: string): unknown => (Object.hasOwn(record, name) ? record[name] : undefined)
const strings = (value: unknown): string[] => (Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [])

export interface CheckContext {
  source: YamlSource
  /** Directory relative paths resolve from. */
  root: string
  /** Runtime template names shipped with layers. */
  templates: readonly string[]
  /** YYYY-MM-DD, for runtime deprecation warnings. */
  today: string
}

/**
 * Kinds of problem that are not the manifest's alone: a name nothing declares is ERR_LAYERS_UNKNOWN_LAYER
 * (ACCOUNT, REGION) whether the manifest or the command line names it; the location says which.
 */
const SHARED_KINDS: ReadonlySet<string> = new Set(['UNKNOWN_LAYER', 'UNKNOWN_ACCOUNT', 'UNKNOWN_REGION'])

export function semanticProblems(data: Raw, context: CheckContext): Problem[] {
  const problems: Problem[] = []
  const report = (code: string, message: string, hint: string, at: DocPath, part: 'value' | 'key' = 'value', severity: Problem['severity'] = 'error'): void => {
    problems.push({severity, code: SHARED_KINDS.has(code) ? `ERR_LAYERS_${code}` : `ERR_LAYERS_MANIFEST_${code}`, message, hint, location: context.source.locate(at, part)})
  }
  const settings = isObject(data.settings) ? data.settings : {}
  const accounts = isObject(data.accounts) ? data.accounts : {}
  const layers = isObject(data.layers) ? data.layers : {}
  const functions = isObject(data.functions) ? data.functions : {}

  const checkRegions = (value: unknown, at: DocPath): void => {
    strings(value).forEach((region, index) => {
      if (!isKnownRegion(region)) report('UNKNOWN_REGION', `Unknown AWS region "${region}".${didYouMean(region, ALL_REGIONS)}`, `Use a region code such as us-east-1 or eu-west-1.`, [...at, index])
    })
  }
  const checkRuntimes = (value: unknown, at: DocPath): void => {
    strings(value).forEach((runtime, index) => {
      if (!lambdaRuntime(runtime)) report('UNKNOWN_RUNTIME', `Unknown Lambda runtime "${runtime}".${didYouMean(runtime, RUNTIME_NAMES)}`, 'Use a runtime identifier such as nodejs22.x or provided.al2023.', [...at, index])
    })
  }

  const checkName = (name: string, what: string, at: DocPath, part: 'value' | 'key'): void => {
    if (!isReservedName(name)) return
    const rename = `${name.replace(/^_+|_+$/g, '')}-${what.split(' ')[0]!.toLowerCase()}`
    report('RESERVED_NAME', `${dotted(at)}: ${what} ${reservedNameReason(name)}.`, `Rename it (letters, digits, - and _), e.g. ${rename}, here and wherever it is referenced.`, at, part)
  }
  for (const [section, what] of [['accounts', 'account name'], ['layers', 'layer name'], ['functions', 'function name']] as const) {
    for (const name of Object.keys(isObject(data[section]) ? data[section] : {})) checkName(name, what, [section, name], 'key')
  }
  for (const [name, layer] of Object.entries(layers)) {
    if (isObject(layer)) strings(layer.channels).forEach((channel, index) => checkName(channel, 'channel name', ['layers', name, 'channels', index], 'value'))
  }

  checkRegions(settings.regions, ['settings', 'regions'])
  checkRuntimes(settings.runtimes, ['settings', 'runtimes'])
  const licenses = isObject(settings.licenses) ? settings.licenses : {}
  for (const list of ['allow', 'deny'] as const) {
    const entries = Array.isArray(licenses[list]) ? (licenses[list] as unknown[]) : []
    entries.forEach((entry, index) => {
      const problem = typeof entry === 'string' ? policyEntryProblem(entry) : undefined
      if (!problem) return
      report(
        'LICENSE_ID',
        `settings.licenses.${list}[${index}] "${entry as string}" ${problem.reason}.${problem.suggestion ? ` Did you mean "${problem.suggestion}"?` : ''}`,
        `Name one licence per entry by its SPDX identifier (https://spdx.org/licenses/), e.g. ${problem.suggestion ?? 'MIT or Apache-2.0'}; a package licensed "A OR B" passes when A or B is allowed.`,
        ['settings', 'licenses', list, index],
      )
    })
  }

  const accountIds = new Map<string, string>()
  for (const [name, account] of Object.entries(accounts)) {
    if (!isObject(account)) continue
    checkRegions(account.regions, ['accounts', name, 'regions'])
    if (typeof account.id === 'string') {
      const other = accountIds.get(account.id)
      if (other !== undefined) report('DUPLICATE_ACCOUNT', `Account ${name} has the same id ${account.id} as account ${other}.`, 'Each account entry must name a different AWS account; merge the two.', ['accounts', name, 'id'])
      else accountIds.set(account.id, name)
      const roleAccount = typeof account.roleArn === 'string' ? /^arn:[^:]+:iam::(\d{12}):/.exec(account.roleArn)?.[1] : undefined
      if (roleAccount && roleAccount !== account.id) {
        report('ROLE_ACCOUNT_MISMATCH', `accounts.${name}.roleArn is a role in account ${roleAccount}, but the account id is ${account.id}.`, 'Point roleArn at a role in the account itself (layers checks the assumed identity).', ['accounts', name, 'roleArn'])
      }
    }
    if (account.regions === undefined && settings.regions === undefined) {
      report('NO_REGIONS', `Account ${name} has no regions and settings.regions is not set.`, 'Add regions: [...] to the account or to settings.', ['accounts', name], 'key')
    }
  }

  // The team-state leases of an account and region are written with that account's credentials in
  // that region: a state bucket template must name a different bucket for each.
  const stateBucket = isObject(settings.state) && typeof settings.state.bucket === 'string' ? settings.state.bucket : undefined
  if (stateBucket !== undefined && /^([a-z0-9.-]|\{accountId\}|\{region\}){3,63}$/.test(stateBucket)) {
    const seen = new Map<string, string>()
    for (const [name, account] of Object.entries(accounts)) {
      if (!isObject(account) || typeof account.id !== 'string') continue
      for (const region of strings(account.regions ?? settings.regions)) {
        const bucket = stateBucket.replaceAll('{accountId}', account.id).replaceAll('{region}', region)
        const other = seen.get(bucket)
        if (other !== undefined && other !== `${name}/${region}`) {
          report(
            'STATE_BUCKET_SHARED',
            `settings.state.bucket names the same bucket ${bucket} for ${other} and ${name}/${region}.`,
            'A lease is written with each account\'s credentials in its region: put {region} (and {accountId} for several accounts) in the template, e.g. "layers-state-{accountId}-{region}".',
            ['settings', 'state', 'bucket'],
          )
          break
        }
        seen.set(bucket, `${name}/${region}`)
      }
    }
  }

  checkSsmSettings(settings.ssm, layers, settings.architectures, report)

  const ownLayerNames: string[] = []
  for (const [name, layer] of Object.entries(layers)) {
    if (!isObject(layer)) continue
    const at: DocPath = ['layers', name]
    const kinds = LAYER_KINDS.filter((kind) => layer[kind] !== undefined)
    if (kinds.length === 0) {
      report('LAYER_KIND', `Layer ${name} has none of npm, pip, dir, runtime or arn.`, 'Give the layer exactly one source: npm (dependencies), pip (Python requirements), dir (a directory), runtime (a template) or arn (an existing layer).', at, 'key')
      continue
    }
    if (kinds.length > 1) {
      report('LAYER_KIND', `Layer ${name} has both ${kinds.join(' and ')}; a layer is exactly one kind.`, 'Split it into separate layers, one per source.', [...at, kinds[1]!], 'key')
      continue
    }
    const kind = kinds[0]!
    if (layer.lockfile !== undefined && (kind !== 'npm' || typeof layer.npm !== 'string')) {
      report(
        'LOCKFILE_OPTION',
        `layers.${name}.lockfile applies only to an npm layer given as a package.json path (npm: ./package.json); this layer ${kind === 'npm' ? 'lists its dependencies inline' : `is a ${kind} layer`}.`,
        `Remove lockfile from layers.${name}.`,
        [...at, 'lockfile'],
        'key',
      )
    }
    if (kind === 'arn') {
      for (const key of OWN_LAYER_KEYS) {
        if (layer[key] !== undefined) report('ARN_LAYER_OPTION', `Layer ${name} is an arn layer, which cannot take "${key}" (its publisher sets it).`, `Remove ${key} from layers.${name}.`, [...at, key], 'key')
      }
      if (typeof layer.arn === 'string') {
        const check = checkLayerArn(layer.arn)
        if (!check.ok) report('INVALID_ARN', `layers.${name}.arn ${check.problem}.`, 'Copy the ARN from the publisher, e.g. arn:aws:lambda:{region}:123456789012:layer:name:3 (no version = newest at lock time).', [...at, 'arn'])
      }
      continue
    }
    if (layer.ssm !== undefined) report('OWN_LAYER_SSM', `Layer ${name} is an own layer; "ssm" names the parameter a publisher of an arn layer keeps.`, `Remove ssm from layers.${name}; publish writes own layers' parameters as settings.ssm says.`, [...at, 'ssm'], 'key')
    ownLayerNames.push(name)
    checkRuntimes(layer.runtimes, [...at, 'runtimes'])
    checkShare(layer.share, [...at, 'share'], accounts, report)
    if (kind === 'npm') checkNpm(name, layer.npm, [...at, 'npm'], context.root, report)
    if (layer.overrides !== undefined) checkOverrides(name, kind, layer, at, context.root, report)
    if (kind === 'pip') checkPip(name, layer.pip, [...at, 'pip'], context.root, report)
    if (kind === 'npm' || kind === 'pip') checkLanguageRuntimes(name, kind, layer.runtimes, settings.runtimes, at, report)
    if (kind === 'dir' && typeof layer.dir === 'string') {
      const dir = path.resolve(context.root, layer.dir)
      if (!isDirectory(dir)) report('MISSING_PATH', `layers.${name}.dir: ${dir} is not a directory.`, 'Create the directory or fix the path (relative to the manifest).', [...at, 'dir'])
    }
    if (kind === 'runtime' && isObject(layer.runtime)) {
      const {template, version} = layer.runtime
      if (typeof template === 'string') {
        if (template.startsWith('.') || path.isAbsolute(template)) {
          if (!isDirectory(path.resolve(context.root, template))) report('MISSING_PATH', `layers.${name}.runtime.template: ${path.resolve(context.root, template)} is not a directory.`, 'Point it at a template directory holding bootstrap and template.json.', [...at, 'runtime', 'template'])
        } else if (!context.templates.includes(template)) {
          report('UNKNOWN_TEMPLATE', `Unknown runtime template "${template}".${didYouMean(template, context.templates)}`, `Use one of ${context.templates.join(', ')}, or a path such as ./my-runtime.`, [...at, 'runtime', 'template'])
        }
      }
      if (typeof version === 'string' && semver.validRange(version) === null) {
        report('INVALID_RANGE', `layers.${name}.runtime.version "${version}" is not a valid semver range.`, 'Use a range such as ^1.1 or 22.x.', [...at, 'runtime', 'version'])
      }
      strings(layer.runtimes).forEach((runtime, index) => {
        if (!(CUSTOM_RUNTIMES as readonly string[]).includes(runtime)) report('RUNTIME_MISMATCH', `Custom runtime layer ${name} lists runtime ${runtime}; it runs on ${CUSTOM_RUNTIMES.join(' or ')} only.`, `Set runtimes to [${CUSTOM_RUNTIMES.join(', ')}] or remove the key.`, [...at, 'runtimes', index])
      })
    }
  }

  /** An `arn` layer on a function: not a second version of a layer it already has, and in its regions. */
  const checkFunctionArnLayer = (key: string, entry: string, text: string, itemAt: DocPath, arnLayersSeen: Map<string, string>, regions: ReadonlySet<string>): void => {
    const parsed = checkLayerArn(text)
    if (!parsed.ok) return
    const {partition, region, accountId, name} = parsed.arn
    const identity = `${partition}:${region}:${accountId}:${name}`
    const other = arnLayersSeen.get(identity)
    if (other !== undefined) {
      report('SAME_LAYER_TWICE', `functions.${key} uses layers ${other} and ${entry}, two versions of the same layer ${name}.`, 'Lambda refuses two versions of one layer on a function: keep one of them.', itemAt)
    }
    arnLayersSeen.set(identity, entry)
    if (region === REGION_PLACEHOLDER) return
    const elsewhere = [...regions].filter((target) => target !== region).sort()
    if (elsewhere.length > 0) {
      report('LAYER_REGION_MISMATCH', `functions.${key} deploys to ${elsewhere.join(', ')}, but layer ${entry} is in ${region} only.`, `Lambda attaches layers from the function's own region: write {region} in layers.${entry}.arn if the layer exists in every region, or deploy the function to ${region} only.`, itemAt)
    }
  }

  const deployedNames = new Map<string, string>()
  for (const [key, fn] of Object.entries(functions)) {
    if (!isObject(fn)) continue
    const at: DocPath = ['functions', key]
    const deployed = typeof fn.name === 'string' ? fn.name : key
    const clash = deployedNames.get(deployed)
    if (clash !== undefined) report('DUPLICATE_FUNCTION', `Functions ${clash} and ${key} both deploy as "${deployed}".`, 'Give one of them a different name:.', typeof fn.name === 'string' ? [...at, 'name'] : at, typeof fn.name === 'string' ? 'value' : 'key')
    else deployedNames.set(deployed, key)
    if (typeof fn.source === 'string' && !isDirectory(path.resolve(context.root, fn.source))) {
      report('MISSING_PATH', `functions.${key}.source: ${path.resolve(context.root, fn.source)} is not a directory.`, 'Point source at the function code directory (relative to the manifest).', [...at, 'source'])
    }
    const runtime = typeof fn.runtime === 'string' ? fn.runtime : undefined
    if (runtime !== undefined) checkRuntimes([runtime], [...at, 'runtime'])
    const deprecated = runtime === undefined ? undefined : lambdaRuntime(runtime)?.deprecated
    if (deprecated !== undefined && deprecated <= context.today) {
      report('RUNTIME_DEPRECATED', `functions.${key} uses ${runtime}, deprecated by AWS since ${deprecated}.`, 'Move the function (and the runtimes of its layers) to a supported runtime; Lambda later blocks creating and updating functions on it.', [...at, 'runtime'], 'value', 'warning')
    }
    strings(fn.accounts).forEach((account, index) => {
      if (own(accounts, account) === undefined) report('UNKNOWN_ACCOUNT', `functions.${key}.accounts names "${account}", which is not in accounts:.${didYouMean(account, Object.keys(accounts))}`, `Use one of: ${Object.keys(accounts).join(', ') || '(define accounts: first)'}.`, [...at, 'accounts', index])
    })
    // An invalid architecture is reported by the schema; comparing it with layers would only repeat it.
    const architecture = fn.architecture === undefined ? 'x86_64' : fn.architecture === 'x86_64' || fn.architecture === 'arm64' ? fn.architecture : undefined
    const listed = Array.isArray(fn.layers) ? (fn.layers as unknown[]) : []
    const seen = new Map<string, number>()
    /** Versionless ARN of each `arn` layer listed so far -> its manifest name. */
    const arnLayersSeen = new Map<string, string>()
    const regions = new Set(
      strings(fn.accounts).flatMap((account) => {
        const declared = own(accounts, account)
        return isObject(declared) ? strings(declared.regions ?? settings.regions) : []
      }),
    )
    listed.forEach((entry, index) => {
      if (typeof entry !== 'string') return
      const itemAt: DocPath = [...at, 'layers', index]
      const first = seen.get(entry)
      if (first !== undefined) {
        report('DUPLICATE_LAYER', `functions.${key}.layers lists ${entry} twice (items ${first + 1} and ${index + 1}).`, 'Lambda takes each layer once; remove the repeated entry.', itemAt)
        return
      }
      seen.set(entry, index)
      const layer = own(layers, entry)
      if (!isObject(layer)) {
        report('UNKNOWN_LAYER', `functions.${key} uses layer "${entry}", which is not defined in layers:.${didYouMean(entry, Object.keys(layers))}`, `Define layers.${entry} or use one of: ${Object.keys(layers).join(', ') || '(none defined)'}.`, itemAt)
        return
      }
      if (typeof layer.arn === 'string') {
        checkFunctionArnLayer(key, entry, layer.arn, itemAt, arnLayersSeen, regions)
        return
      }
      if (!ownLayerNames.includes(entry)) return
      const layerArchitectures = strings(layer.architectures ?? settings.architectures ?? ['x86_64'])
      if (architecture !== undefined && !layerArchitectures.includes(architecture)) {
        report('ARCH_MISMATCH', `functions.${key} runs on ${architecture}, but layer ${entry} is built for ${layerArchitectures.join(', ')} only.`, `Add ${architecture} to layers.${entry}.architectures, or change the function's architecture.`, itemAt)
      }
      const defaultRuntimes = layer.runtime !== undefined ? [...CUSTOM_RUNTIMES] : settings.runtimes
      const layerRuntimes = strings(layer.runtimes ?? defaultRuntimes)
      const language = layer.pip !== undefined ? 'python' : layer.npm !== undefined ? 'nodejs' : undefined
      if (runtime !== undefined && language !== undefined && runtimeLanguage(runtime) !== undefined && runtimeLanguage(runtime) !== language) {
        report('RUNTIME_MISMATCH', `functions.${key} runs on ${runtime}, but layer ${entry} is ${language === 'python' ? 'a Python (pip) layer' : 'a Node.js (npm) layer'}.`, `Use a ${language === 'python' ? 'python3.x' : 'nodejs'} runtime for the function, or a layer for ${runtimeLanguage(runtime) === 'python' ? 'Python (pip:)' : 'Node.js (npm:)'} instead.`, itemAt)
      } else if (runtime !== undefined && lambdaRuntime(runtime) && layerRuntimes.length > 0 && !layerRuntimes.includes(runtime)) {
        report('RUNTIME_MISMATCH', `functions.${key} uses runtime ${runtime}, but layer ${entry} declares ${layerRuntimes.join(', ')} only.`, `Add ${runtime} to layers.${entry}.runtimes, or change the function's runtime.`, itemAt)
      }
    })
    if (listed.length > MAX_LAYERS_PER_FUNCTION) {
      report('TOO_MANY_LAYERS', `functions.${key} has ${listed.length} layers; Lambda allows at most ${MAX_LAYERS_PER_FUNCTION}.`, 'Merge layers (e.g. two npm layers into one) or drop one.', [...at, 'layers', MAX_LAYERS_PER_FUNCTION])
    }
  }
  return problems
}

type Report = (code: string, message: string, hint: string, at: DocPath, part?: 'value' | 'key') => void

/**
 * settings.ssm.parameterName (the schema checks its characters): it must tell layers and channels
 * apart, and architectures too when a layer has two; and AWS reserves names starting aws or ssm.
 */
function checkSsmSettings(ssm: unknown, layers: Raw, defaultArchitectures: unknown, report: Report): void {
  if (!isObject(ssm) || typeof ssm.parameterName !== 'string') return
  const template = ssm.parameterName
  const at: DocPath = ['settings', 'ssm', 'parameterName']
  if (/^\/?(aws|ssm)/i.test(template)) report('SSM_RESERVED_NAME', `settings.ssm.parameterName ${template} starts with "aws" or "ssm", which AWS reserves.`, 'Start it with another path, e.g. /layers/{layer}/{channel}/{architecture}.', at)
  const missing = ['layer', 'channel'].filter((part) => !template.includes(`{${part}}`))
  const twoArchitectures = Object.values(layers).some((layer) => isObject(layer) && layer.arn === undefined && new Set(strings(layer.architectures ?? defaultArchitectures)).size > 1)
  if (twoArchitectures && !template.includes('{architecture}')) missing.push('architecture')
  if (missing.length > 0) {
    report('SSM_NAME_AMBIGUOUS', `settings.ssm.parameterName ${template} lacks ${missing.map((part) => `{${part}}`).join(' and ')}: two parameters would get one name.`, 'Use every placeholder, e.g. /layers/{layer}/{channel}/{architecture}.', at)
  }
}

function checkShare(share: unknown, at: DocPath, accounts: Raw, report: Report): void {
  if (!isObject(share)) return
  strings(share.accounts).forEach((account, index) => {
    if (/^\d{12}$/.test(account) || own(accounts, account) !== undefined) return
    report('UNKNOWN_ACCOUNT', `${dotted(at)}.accounts names "${account}", which is neither a 12-digit account id nor in accounts:.${didYouMean(account, Object.keys(accounts))}`, 'Use an account name from accounts: or a 12-digit id (quoted).', [...at, 'accounts', index])
  })
}

/** The language a runtime identifier runs, for the npm/pip layer checks. */
function runtimeLanguage(runtime: string): 'nodejs' | 'python' | undefined {
  return runtime.startsWith('nodejs') ? 'nodejs' : runtime.startsWith('python') ? 'python' : undefined
}

/** An npm layer runs on Node.js runtimes only, a pip layer on the Python runtimes layers resolves for. */
function checkLanguageRuntimes(name: string, kind: 'npm' | 'pip', runtimes: unknown, defaults: unknown, at: DocPath, report: Report): void {
  const own = runtimes !== undefined
  const listed = strings(own ? runtimes : (defaults ?? ['nodejs22.x']))
  const fits = (runtime: string): boolean => (kind === 'npm' ? runtimeLanguage(runtime) !== 'python' : PYTHON_RUNTIME_NAMES.includes(runtime))
  const what = kind === 'npm' ? 'an npm layer, for Node.js runtimes' : `a pip layer, for the Python runtimes ${PYTHON_RUNTIME_NAMES.join(', ')}`
  listed.forEach((runtime, index) => {
    if (fits(runtime) || !lambdaRuntime(runtime)) return
    if (own) report('RUNTIME_MISMATCH', `Layer ${name} lists runtime ${runtime}, but it is ${what}.`, kind === 'npm' ? 'Remove the Python runtime, or make a pip: layer for Python functions.' : 'List Python runtimes such as python3.12 in runtimes.', [...at, 'runtimes', index])
    else report('RUNTIME_MISMATCH', `Layer ${name} takes runtime ${runtime} from settings.runtimes, but it is ${what}.`, `Give layers.${name} its own runtimes, e.g. [${kind === 'npm' ? 'nodejs22.x' : 'python3.12'}].`, at, 'key')
  })
}

function checkPip(name: string, pip: unknown, at: DocPath, root: string, report: Report): void {
  if (typeof pip === 'string') {
    const file = path.resolve(root, pip)
    const {lines, problems} = readRequirementsFile(file)
    for (const problem of problems) report('INVALID_REQUIREMENT', `layers.${name}.pip: ${file}${problem.line === undefined ? '' : `:${problem.line}`} ${problem.message}.`, 'Point pip at a requirements.txt or pyproject.toml (relative to the manifest) holding PEP 508 requirements; index options go in pip.conf or uv.toml.', at)
    if (problems.length === 0 && lines.length === 0) report('EMPTY_LAYER', `layers.${name}.pip: ${file} lists no requirements.`, 'Add requirements or remove the layer.', at)
    for (const line of lines) {
      const parsed = parseRequirement(line.requirement)
      if (typeof parsed === 'string') report('INVALID_REQUIREMENT', `layers.${name}.pip (${file}${line.line === undefined ? '' : `:${line.line}`}): ${parsed}.`, REQUIREMENT_HINT, at)
    }
    return
  }
  if (!isObject(pip)) return
  if (Object.keys(pip).length === 0) report('EMPTY_LAYER', `layers.${name}.pip lists no requirements.`, 'Add requirements (name: specifier) or remove the layer.', at)
  const seen = new Map<string, string>()
  for (const [key, value] of Object.entries(pip)) {
    if (typeof value !== 'string') continue
    const parsed = parseRequirement(mapRequirement(key, value))
    if (typeof parsed === 'string') {
      const keyProblem = typeof parseRequirement(key) === 'string' || /[<>=!~;@]/.test(key)
      report('INVALID_REQUIREMENT', `layers.${name}.pip.${key}: ${parsed}.`, REQUIREMENT_HINT, [...at, key], keyProblem ? 'key' : 'value')
      continue
    }
    const other = seen.get(parsed.name)
    if (other !== undefined && parsed.marker === undefined) report('DUPLICATE_REQUIREMENT', `layers.${name}.pip lists ${key} and ${other}, the same project ${parsed.name}.`, 'Keep one entry per project (combine the specifiers with a comma).', [...at, key], 'key')
    seen.set(parsed.name, key)
  }
}

const REQUIREMENT_HINT = 'Write a project name (optionally with [extras]) and a PEP 440 specifier such as ">=2.31,<3", "==2.*" or "*", optionally followed by "; python_version >= \'3.12\'".'

/** npm overrides: on npm layers only, in the manifest or the package.json (not both), well-formed as npm reads them. */
function checkOverrides(name: string, kind: string, layer: Raw, at: DocPath, root: string, report: Report): void {
  const where = [...at, 'overrides']
  if (kind !== 'npm') return report('OVERRIDES_NOT_NPM', `Layer ${name} is a ${kind} layer; overrides are npm's and apply to npm layers only.`, `Remove overrides from layers.${name}.`, where, 'key')
  let dependencies: Record<string, string> = isObject(layer.npm) ? (layer.npm as Record<string, string>) : {}
  let references = dependencies
  if (typeof layer.npm === 'string') {
    const file = path.resolve(root, layer.npm)
    let pkg: Raw
    try {
      pkg = JSON.parse(readFileSync(file, 'utf8')) as Raw
    } catch {
      return // checkNpm reports the unreadable package.json.
    }
    if (pkg.overrides !== undefined) return report('OVERRIDES_TWICE', `layers.${name}.overrides and the "overrides" of ${file} both give overrides for the layer.`, 'Keep the overrides in one place: the package.json (as npm reads them) or the manifest.', where, 'key')
    ;({dependencies, references} = packageSpecs(pkg))
  }
  try {
    readOverrides(layer.overrides, dependencies, references, {layer: name, where: 'the manifest'})
  } catch (error) {
    if (!(error instanceof LayersError)) throw error
    report('INVALID_OVERRIDES', error.message, error.hint ?? '', where)
  }
}

function checkNpm(name: string, npm: unknown, at: DocPath, root: string, report: Report): void {
  if (typeof npm === 'string') {
    const file = path.resolve(root, npm)
    let dependencies: unknown
    let optional: unknown
    let pkg: Raw
    try {
      pkg = JSON.parse(readFileSync(file, 'utf8')) as Raw
      dependencies = pkg.dependencies
      optional = pkg.optionalDependencies
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : `cannot be read as JSON (${(error as Error).message})`
      report('MISSING_PATH', `layers.${name}.npm: ${file} ${reason}.`, 'Point npm at a package.json (relative to the manifest), or list the dependencies inline.', at)
      return
    }
    if (dependencies !== undefined && !isObject(dependencies)) report('INVALID_PACKAGE_JSON', `layers.${name}.npm: "dependencies" in ${file} is not an object.`, 'Fix the package.json.', at)
    if (optional !== undefined && !isObject(optional)) report('INVALID_PACKAGE_JSON', `layers.${name}.npm: "optionalDependencies" in ${file} is not an object.`, 'Fix the package.json.', at)
    for (const [pkg, range] of [...Object.entries(isObject(dependencies) ? dependencies : {}), ...Object.entries(isObject(optional) ? optional : {})]) {
      const problem = dependencyProblem(pkg, range)
      if (problem) report(problem.code, `layers.${name}.npm (${file}): ${problem.message}`, problem.hint, at)
    }
    if (pkg.overrides !== undefined) {
      const specs = packageSpecs(pkg)
      try {
        readOverrides(pkg.overrides, specs.dependencies, specs.references, {layer: name, where: file})
      } catch (error) {
        if (!(error instanceof LayersError)) throw error
        report('INVALID_OVERRIDES', error.message, error.hint ?? '', at)
      }
    }
    return
  }
  if (!isObject(npm)) return
  if (Object.keys(npm).length === 0) report('EMPTY_LAYER', `layers.${name}.npm lists no dependencies.`, 'Add dependencies (name: range) or remove the layer.', at)
  for (const [pkg, range] of Object.entries(npm)) {
    const problem = dependencyProblem(pkg, range)
    if (problem) report(problem.code, problem.message, problem.hint, [...at, pkg], problem.code === 'INVALID_PACKAGE_NAME' ? 'key' : 'value')
    const outside = typeof range === 'string' ? localSpecOutside(root, range) : undefined
    if (outside) report('LOCAL_PACKAGE_OUTSIDE', `"${range}" for package ${pkg} points at ${outside}, outside the repository.`, "A layer may only hold local packages from inside the repository (the manifest's folder or the workspace root above it).", [...at, pkg], 'value')
  }
}

function dependencyProblem(pkg: string, range: unknown): {code: string; message: string; hint: string} | undefined {
  const name = validatePackageName(pkg)
  // Capital letters are only a warning: old packages (JSONStream ...) still carry them.
  const rules = [...(name.errors ?? []), ...(name.warnings ?? []).filter((warning) => !warning.includes('capital letters'))]
  if (rules.length > 0) {
    const reasons = rules.join('; ')
    return {code: 'INVALID_PACKAGE_NAME', message: `"${pkg}" is not a valid npm package name (${reasons}).`, hint: 'npm names are lowercase, URL-safe, at most 214 characters, optionally @scope/name.'}
  }
  // file: and workspace: packages are checked when the layer is locked (src/resolve/local.ts).
  if (typeof range !== 'string' || isLocalSpec(range)) return undefined
  // A semver range, a dist-tag (a word, never something version-like) or an npm: alias to one, read as npm reads it.
  const spec = parseRegistrySpec(pkg, range)
  if ('unsupported' in spec) {
    return {code: 'UNSUPPORTED_SPEC', message: `"${range}" for package ${pkg}: ${spec.unsupported}.`, hint: 'Use a semver range, a version, a dist-tag or an npm: alias such as npm:left-pad@^1.3.0; publish git or local packages to a registry first.'}
  }
  if (!('invalid' in spec)) return undefined
  return {code: 'INVALID_RANGE', message: `"${range}" for package ${pkg} is not a valid semver range.`, hint: 'Use a range such as ^1.2.0, ~4.17 or 5.x, a dist-tag, or an npm: alias such as npm:left-pad@^1.3.0 (layers resolve registry versions only).'}
}

function isDirectory(file: string): boolean {
  return existsSync(file) && statSync(file).isDirectory()
}
