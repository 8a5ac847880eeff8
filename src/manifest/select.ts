// Owns choosing what a command works on from the names a user typed: layers, functions, accounts and
// regions. Every command selects through here, so an unknown name is the same exit-2 error everywhere
// (one code per kind, with did-you-mean and the valid names), and a --region must be a region name
// and, for commands acting on manifest targets, one of the selected accounts' regions. Pure: takes
// the loaded manifest, returns plain data or throws a UserInputError.
import {quoteValue, shorten, UserInputError} from '../errors/index.js'
import {ALL_REGIONS, isKnownRegion} from './regions.js'
import {didYouMean} from './suggest.js'
import {isOwnLayer, type Account, type FunctionSpec, type LayerSpec, type Manifest} from './types.js'

/** The shape of every region name AWS has used (us-east-1, us-gov-west-1, us-isob-east-1, cn-north-1 ...). */
const REGION_NAME = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/
const ACCOUNT_ID = /^\d{12}$/

/** The entry a typed name keys, never a property every object inherits (`--layer toString`). */
export function entryNamed<V>(record: Readonly<Record<string, V>>, name: string): V | undefined {
  return Object.hasOwn(record, name) ? record[name] : undefined
}

function listOf(names: readonly string[]): string {
  return names.length > 0 ? names.join(', ') : '(none)'
}

function unknownName(kind: 'layer' | 'function' | 'account', name: string, valid: readonly string[], file: string, orId = false): UserInputError {
  const code = kind === 'layer' ? 'ERR_LAYERS_UNKNOWN_LAYER' : kind === 'function' ? 'ERR_LAYERS_UNKNOWN_FUNCTION' : 'ERR_LAYERS_UNKNOWN_ACCOUNT'
  const plural = kind === 'layer' ? 'layers' : kind === 'function' ? 'functions' : 'accounts'
  return new UserInputError(code, `No ${kind} named ${quoteValue(name)} in ${file}.${didYouMean(name, valid)}`, {
    hint: `${valid.length > 0 ? `${plural[0]!.toUpperCase()}${plural.slice(1)} in the manifest: ${listOf(valid)}.` : `The manifest declares no ${plural}; declare it under \`${plural}:\`.`}${orId ? ' Or give a 12-digit account id.' : ''}`,
    details: {[kind]: shorten(name)},
  })
}

export interface LayerSelection {
  /** Which layers may be named: any (default), own (npm, dir, runtime) or npm and arn (those with versions to compare). */
  kinds?: 'any' | 'own' | 'versioned'
  /** For the error when a layer of the wrong kind is named, e.g. "build" or "prune". */
  purpose?: string
}

/** Layer names in manifest order: the wanted ones (each must exist and be of an allowed kind), or all allowed. */
export function selectLayerNames(manifest: Pick<Manifest, 'layers' | 'file'>, wanted: readonly string[] | undefined, options: LayerSelection = {}): string[] {
  const kinds = options.kinds ?? 'any'
  const allowed = Object.values(manifest.layers)
    .filter((layer) => kinds === 'any' || (kinds === 'own' ? isOwnLayer(layer) : layer.kind === 'npm' || layer.kind === 'arn'))
    .map((layer) => layer.name)
  if (!wanted || wanted.length === 0) return allowed
  for (const name of wanted) {
    const layer = entryNamed(manifest.layers, name)
    if (!layer) throw unknownName('layer', name, Object.keys(manifest.layers), manifest.file)
    if (!allowed.includes(name)) {
      const what = kinds === 'own' ? 'npm, dir or runtime' : 'npm or arn'
      throw new UserInputError('ERR_LAYERS_LAYER_KIND', `Layer ${name} is ${layer.kind === 'arn' ? 'an arn' : `a ${layer.kind}`} layer: ${options.purpose ?? 'this command'} works on ${what} layers only.`, {
        hint: `Layers it works on: ${listOf(allowed)}.`,
        details: {layer: name},
      })
    }
  }
  return allowed.filter((name) => wanted.includes(name))
}

/** The manifest's layer named `name`, or the unknown-layer error. */
export function layerByName(manifest: Pick<Manifest, 'layers' | 'file'>, name: string): LayerSpec {
  const layer = entryNamed(manifest.layers, name)
  if (!layer) throw unknownName('layer', name, Object.keys(manifest.layers), manifest.file)
  return layer
}

/** Functions by manifest key or deployed name, in the order named (duplicates dropped); all when none are named. */
export function selectFunctions(manifest: Pick<Manifest, 'functions' | 'file'>, wanted: readonly string[] | undefined): FunctionSpec[] {
  const all = Object.values(manifest.functions)
  if (!wanted || wanted.length === 0) return all
  const chosen = wanted.map((name) => {
    const fn = entryNamed(manifest.functions, name) ?? all.find((entry) => entry.name === name)
    if (!fn) throw unknownName('function', name, all.map((entry) => entry.key), manifest.file)
    return fn
  })
  return [...new Set(chosen)]
}

/**
 * Accounts by manifest name or id, in the order named; all when none are named. With `ids`, a
 * 12-digit id the manifest does not declare stands for itself (reached with the default credentials).
 */
export function selectAccounts(
  manifest: Pick<Manifest, 'accounts' | 'file'> | undefined,
  wanted: readonly string[] | undefined,
  options: {ids?: boolean; defaultRegions?: string[]} = {},
): Account[] {
  const all = Object.values(manifest?.accounts ?? {})
  if (!wanted || wanted.length === 0) return all
  const chosen = wanted.map((name) => {
    const account = all.find((entry) => entry.name === name || entry.id === name)
    if (account) return account
    if (options.ids && ACCOUNT_ID.test(name)) return {name, id: name, regions: options.defaultRegions ?? []}
    throw unknownName('account', name, all.map((entry) => entry.name), manifest?.file ?? 'the manifest', options.ids === true)
  })
  return [...new Set(chosen)]
}

/** Each --region value must be a region name (checked before any AWS call). */
export function checkRegionNames(regions: readonly string[] | undefined, flag = '--region'): void {
  for (const region of regions ?? []) {
    if (isKnownRegion(region) || REGION_NAME.test(region)) continue
    throw new UserInputError('ERR_LAYERS_UNKNOWN_REGION', `${flag} ${quoteValue(region)} is not an AWS region name.${didYouMean(region, ALL_REGIONS)}`, {
      hint: 'Use a region code such as us-east-1 or eu-west-1.',
      details: {region},
    })
  }
}

/**
 * The regions of an account the flags name rather than the manifest (a 12-digit id with --account,
 * the members --org finds): --region, else settings.regions, else AWS_REGION, else AWS_DEFAULT_REGION,
 * as the AWS CLI picks its region after the flag (environment region names are checked like --region).
 */
export function flagTargetRegions(flagRegions: readonly string[] | undefined, settingsRegions: readonly string[] | undefined, env: NodeJS.ProcessEnv = process.env): string[] {
  if (flagRegions && flagRegions.length > 0) return [...flagRegions]
  if (settingsRegions && settingsRegions.length > 0) return [...settingsRegions]
  for (const variable of ['AWS_REGION', 'AWS_DEFAULT_REGION']) {
    const region = env[variable]?.trim()
    if (!region) continue
    checkRegionNames([region], variable)
    return [region]
  }
  return []
}

/**
 * The --region values for commands that act on the manifest's targets: each must be a region name
 * and one of the regions of the selected accounts. Returns the regions (undefined: every region).
 */
export function selectRegions(manifest: Pick<Manifest, 'file'>, accounts: readonly Pick<Account, 'name' | 'regions'>[], wanted: readonly string[] | undefined): string[] | undefined {
  if (!wanted || wanted.length === 0) return undefined
  checkRegionNames(wanted)
  const known = [...new Set(accounts.flatMap((account) => account.regions))].sort()
  for (const region of wanted) {
    if (known.includes(region)) continue
    const names = accounts.map((account) => account.name)
    throw new UserInputError('ERR_LAYERS_REGION_NOT_IN_MANIFEST', `--region ${region} is not a region of ${names.length === 1 ? `account ${names[0]}` : `the accounts ${listOf(names)}`} in ${manifest.file}.${didYouMean(region, known)}`, {
      hint: known.length > 0 ? `Regions of ${names.length === 1 ? 'that account' : 'those accounts'}: ${known.join(', ')}. To work in another region, add it under settings.regions or the account's regions.` : 'Those accounts have no regions: add them under settings.regions or the account\'s regions.',
      details: {region, regions: known},
    })
  }
  return [...new Set(wanted)]
}
