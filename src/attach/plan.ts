// Owns planning `layers attach`, as pure functions over plain data: which functions in which accounts
// and regions, the diff between a function's Layers and the desired list (added, removed, version
// moved, reordered), and whether the update must be refused (more than 5 layers, over 250 MiB
// unzipped with the code, a runtime or architecture a layer does not declare, an unreadable layer,
// a container image function, a deployed architecture that differs from the manifest).
import {selectAccounts, selectFunctions, selectRegions} from '../manifest/select.js'
import type {Account, Architecture, FunctionSpec, Manifest} from '../manifest/types.js'

/** Lambda's limits for the layers of one function. */
export const MAX_LAYERS = 5
export const UNZIPPED_LIMIT = 262_144_000

export interface FunctionTarget {
  /** The manifest key. */
  function: string
  /** The deployed function name. */
  functionName: string
  architecture: Architecture
  accountName: string
  accountId: string
  region: string
}

/** What GetFunctionConfiguration says about a function. */
export interface FunctionState {
  name: string
  /** FunctionArn (what ListTags takes). */
  arn?: string
  runtime?: string
  packageType?: string
  architectures: string[]
  /** Bytes of the deployment package (zipped). */
  codeSize: number
  /** Base64 SHA-256 of the deployment package. */
  codeSha256?: string
  layers: Array<{arn: string; codeSize: number}>
  revisionId: string
  lastUpdateStatus?: string
  lastUpdateStatusReason?: string
  /** Pending right after creation; updates are refused until it is Active. */
  state?: string
}

/** What is known about one layer version the function is to use. */
export interface LayerFacts {
  codeSize: number
  /** Unzipped size when known (own layers, from the build); else the zipped size stands in. */
  unzippedBytes?: number
  compatibleRuntimes?: string[]
  compatibleArchitectures?: string[]
}

export interface LayerDiff {
  added: string[]
  removed: string[]
  moved: Array<{from: string; to: string}>
  /** Same versions, another order. */
  reordered: boolean
}

export type AttachDecision =
  | {action: 'noop'; diff: LayerDiff}
  | {action: 'update'; diff: LayerDiff}
  | {action: 'refuse'; diff: LayerDiff; reasons: string[]}

export function selectFunctionTargets(
  manifest: Pick<Manifest, 'functions' | 'accounts' | 'file'>,
  wanted: { functions?: string[]; accounts?: string[]; regions?: string[] },
): FunctionTarget[] {
  const chosen = selectFunctions(manifest, wanted.functions)
  const selected = new Set(selectAccounts(manifest, wanted.accounts))
  const accountsOf = (fn: FunctionSpec): Account[] => fn.accounts.map((name) => manifest.accounts[name]).filter((account): account is Account => account !== undefined && selected.has(account))
  const reached = [...new Set(chosen.flatMap(accountsOf))]
  const regions = selectRegions(manifest, reached.length > 0 ? reached : [...selected], wanted.regions)
  const regionOk = (region: string) => !regions || regions.includes(region)
  const targets: FunctionTarget[] = []
  for (const fn of chosen) {
    for (const account of accountsOf(fn)) {
      for (const region of account.regions) {
        if (!regionOk(region)) continue
        targets.push({function: fn.key, functionName: fn.name, architecture: fn.architecture, accountName: account.name, accountId: account.id, region})
      }
    }
  }
  const order = (t: FunctionTarget) => `${t.accountId}/${t.region}/${t.function}`
  return targets.sort((a, b) => (order(a) < order(b) ? -1 : order(a) > order(b) ? 1 : 0))
}

/** The layer ARN (no version) of a layer version ARN. */
function layerOf(arn: string): string {
  return /:\d+$/.test(arn) ? arn.slice(0, arn.lastIndexOf(':')) : arn
}

export function diffLayers(current: readonly string[], desired: readonly string[]): LayerDiff {
  const currentByLayer = new Map(current.map((arn) => [layerOf(arn), arn]))
  const desiredByLayer = new Map(desired.map((arn) => [layerOf(arn), arn]))
  const added: string[] = []
  const moved: Array<{from: string; to: string}> = []
  for (const arn of desired) {
    const before = currentByLayer.get(layerOf(arn))
    if (before === undefined) added.push(arn)
    else if (before !== arn) moved.push({from: before, to: arn})
  }
  const removed = current.filter((arn) => !desiredByLayer.has(layerOf(arn)))
  const same = added.length === 0 && removed.length === 0 && moved.length === 0
  return {added, removed, moved, reordered: same && current.join('\n') !== desired.join('\n')}
}

export function isSameList(current: readonly string[], desired: readonly string[]): boolean {
  return current.length === desired.length && current.every((arn, index) => arn === desired[index])
}

export function planAttach(input: {
  target: Pick<FunctionTarget, 'function' | 'architecture'>
  current: FunctionState
  desired: string[]
  /** Facts per desired ARN; undefined: the version cannot be read from the function's account. */
  layers: Record<string, LayerFacts | undefined>
  /** Unzipped bytes of the deployed package when `layers package` made it here; else its zipped size stands in. */
  codeUnzippedBytes?: number
}): AttachDecision {
  const {current, desired} = input
  const diff = diffLayers(current.layers.map((layer) => layer.arn), desired)
  if (isSameList(current.layers.map((layer) => layer.arn), desired)) return {action: 'noop', diff}
  // The other checks are about layers on a function; an Image function takes none at all.
  if (current.packageType === 'Image') {
    const key = input.target.function
    return {action: 'refuse', diff, reasons: [`${current.name} is a container image function (PackageType Image): Lambda puts no layers on those, an image carries its layers in /opt. \`layers image ${key}\` builds one with the locked layers; \`layers deploy ${key} --image-uri REPOSITORY@sha256:DIGEST\` deploys it.`]}
  }
  const reasons: string[] = []
  if (desired.length > MAX_LAYERS) reasons.push(`${desired.length} layers requested; a function can use at most ${MAX_LAYERS}.`)
  const deployedArch = current.architectures[0] ?? 'x86_64'
  if (deployedArch !== input.target.architecture) {
    reasons.push(`${current.name} is deployed for ${deployedArch} but the manifest says ${input.target.architecture}; redeploy it or fix \`architecture\` in the manifest.`)
  }
  let total = input.codeUnzippedBytes ?? current.codeSize
  for (const arn of desired) {
    const facts = input.layers[arn]
    if (!facts) {
      reasons.push(`${arn} does not exist or is not shared with this account (a deleted version can no longer be added).`)
      continue
    }
    total += facts.unzippedBytes ?? facts.codeSize
    if (current.runtime && facts.compatibleRuntimes && facts.compatibleRuntimes.length > 0 && !facts.compatibleRuntimes.includes(current.runtime)) {
      reasons.push(`${arn} declares runtimes ${facts.compatibleRuntimes.join(', ')}, not ${current.runtime}.`)
    }
    if (facts.compatibleArchitectures && facts.compatibleArchitectures.length > 0 && !facts.compatibleArchitectures.includes(deployedArch)) {
      reasons.push(`${arn} declares architectures ${facts.compatibleArchitectures.join(', ')}, not ${deployedArch}.`)
    }
  }
  if (total > UNZIPPED_LIMIT) {
    reasons.push(`The code and layers add up to ${total} bytes unzipped, over Lambda's limit of ${UNZIPPED_LIMIT} bytes.`)
  }
  return reasons.length > 0 ? {action: 'refuse', diff, reasons} : {action: 'update', diff}
}
