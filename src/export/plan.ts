// Owns what `layers export` writes, as pure functions over plain data: the entries (one per own layer,
// account, region and architecture the lockfile records a publication for; an artifact built for both
// architectures gives one entry per architecture, the same ARN), and the files of each format, each in
// the form its tool reads natively: a Terraform `*.auto.tfvars.json` (variable `layer_arns`, indexed
// layer -> account id -> region -> architecture), CloudFormation parameter files (one per account and
// region, `[{ParameterKey, ParameterValue}]`) with the `{{resolve:ssm:...}}` dynamic reference of each
// key, CDK context (cdk.context.json-style flat keys, merged into an existing file), a Serverless
// `custom` fragment of `${ssm:...}` variables, and plain JSON. Every file is sorted and has no
// timestamps: the same lock gives the same bytes.
import {stringify} from 'yaml'
import {UserInputError} from '../errors/index.js'
import {sortKeys} from '../lock/serialize.js'
import {artifactArchitectures, type Lockfile} from '../lock/types.js'
import {isOwnLayer, type Manifest} from '../manifest/types.js'
import {DEFAULT_SSM_PARAMETER_NAME, ssmParameterName} from '../ssm/names.js'
import {DEFAULT_CHANNEL, layerChannels} from '../manifest/types.js'

export const EXPORT_FORMATS = ['terraform', 'cloudformation', 'cdk', 'serverless', 'json'] as const
export type ExportFormat = (typeof EXPORT_FORMATS)[number]

/** The file each single-file format writes when --output names none; cloudformation writes a directory's worth. */
export const DEFAULT_FILES: Record<Exclude<ExportFormat, 'cloudformation'>, string> = {
  terraform: 'layers.auto.tfvars.json',
  cdk: 'cdk.context.json',
  serverless: 'layers.serverless.yml',
  json: 'layers.export.json',
}

/** The Terraform variable the tfvars file sets. */
export const TERRAFORM_VARIABLE = 'layer_arns'
/** Prefix of the CDK context keys layers owns (others in the file are kept). */
export const CDK_KEY_PREFIX = 'layers:'

export interface ExportEntry {
  layer: string
  accountId: string
  region: string
  architecture: string
  arn: string
  version: number
  codeSha256: string
  /** The SSM parameter that holds the ARN (settings.ssm.parameterName). */
  parameter: string
}

export interface ExportFile {
  /** A file name (relative to the output directory), or '' for the one file --output names. */
  name: string
  text: string
}

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

/** The lock's publications of the manifest's own layers in the selected accounts (ids) and regions, sorted. */
export function exportEntries(
  manifest: Pick<Manifest, 'layers' | 'settings' | 'file'>,
  lock: Lockfile,
  selection: {accountIds?: readonly string[]; regions?: readonly string[]; asked: string; channel?: string},
): ExportEntry[] {
  const template = manifest.settings.ssm?.parameterName ?? DEFAULT_SSM_PARAMETER_NAME
  const channel = selection.channel ?? DEFAULT_CHANNEL
  const entries: ExportEntry[] = []
  for (const [layer, locked] of Object.entries(lock.layers)) {
    const spec = manifest.layers[layer]
    if (!spec || !isOwnLayer(spec) || locked.kind === 'arn' || !layerChannels(spec).includes(channel)) continue
    // A layer without channels has the implicit one, whose versions are the published ones.
    const held = spec.channels ? locked.channels?.[channel] : locked.published
    for (const [accountId, regions] of Object.entries(held ?? {})) {
      if (selection.accountIds && !selection.accountIds.includes(accountId)) continue
      for (const [region, artifacts] of Object.entries(regions)) {
        if (selection.regions && !selection.regions.includes(region)) continue
        for (const [key, publication] of Object.entries(artifacts)) {
          for (const architecture of artifactArchitectures(key)) {
            const parameter = ssmParameterName(template, {layer, channel, architecture})
            entries.push({layer, accountId, region, architecture, arn: publication.arn, version: publication.version, codeSha256: publication.codeSha256, parameter})
          }
        }
      }
    }
  }
  if (entries.length === 0) {
    throw new UserInputError('ERR_LAYERS_EXPORT_NOTHING_PUBLISHED', `lockfile.json records no published layer version for ${selection.asked}${channel === DEFAULT_CHANNEL ? '' : ` in channel ${channel}`}.`, {
      hint: 'Run `layers publish` for those accounts and regions first (export reads the ARNs the lockfile records), or pick others with --account and --region.',
    })
  }
  return entries.sort((a, b) => compare(a.layer, b.layer) || compare(a.accountId, b.accountId) || compare(a.region, b.region) || compare(a.architecture, b.architecture))
}

/** `LayerCommonArm64`: a CloudFormation parameter name (alphanumeric) for a layer and architecture. */
export function parameterKey(layer: string, architecture: string): string {
  const pascal = (text: string) => text.split(/[^A-Za-z0-9]+/).filter(Boolean).map((part) => part.charAt(0).toUpperCase() + part.slice(1)).join('')
  return `Layer${pascal(layer)}${pascal(architecture)}`
}

/** The CDK context key of one entry, in cdk.context.json's style (`name:key=value:...`). */
export function cdkContextKey(entry: Pick<ExportEntry, 'layer' | 'accountId' | 'region' | 'architecture'>): string {
  return `${CDK_KEY_PREFIX}layer=${entry.layer}:account=${entry.accountId}:region=${entry.region}:architecture=${entry.architecture}`
}

function json(value: unknown): string {
  return JSON.stringify(sortKeys(value), null, 2) + '\n'
}

/** Sets `path` in a nested object. */
function put(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target
  for (const key of path.slice(0, -1)) node = (node[key] ??= {}) as Record<string, unknown>
  node[path.at(-1)!] = value
}

/** The CloudFormation parameter keys of the entries, refusing two layers that map to one key. */
function parameterKeys(entries: readonly ExportEntry[]): Map<string, string> {
  const keys = new Map<string, string>()
  const owner = new Map<string, string>()
  for (const entry of entries) {
    const key = parameterKey(entry.layer, entry.architecture)
    const other = owner.get(key)
    if (other !== undefined && other !== entry.layer) {
      throw new UserInputError('ERR_LAYERS_EXPORT_PARAMETER_CLASH', `Layers ${other} and ${entry.layer} both give the CloudFormation parameter name ${key}.`, {
        hint: 'CloudFormation parameter names keep letters and digits only; rename one of the layers in layers.yaml.',
      })
    }
    owner.set(key, entry.layer)
    keys.set(`${entry.layer}\0${entry.architecture}`, key)
  }
  return keys
}

/**
 * The files of `format`. `existing` is the current text of the cdk context file (its other keys are
 * kept); a file that is not a JSON object is refused rather than overwritten.
 */
export function renderExport(format: ExportFormat, entries: readonly ExportEntry[], existing?: {file: string; text: string}): ExportFile[] {
  switch (format) {
    case 'terraform': {
      const arns: Record<string, unknown> = {}
      for (const entry of entries) put(arns, [entry.layer, entry.accountId, entry.region, entry.architecture], entry.arn)
      return [{name: '', text: json({[TERRAFORM_VARIABLE]: arns})}]
    }
    case 'cloudformation': {
      const keys = parameterKeys(entries)
      const byTarget = new Map<string, Array<{ParameterKey: string; ParameterValue: string}>>()
      const references: Record<string, string> = {}
      for (const entry of entries) {
        const key = keys.get(`${entry.layer}\0${entry.architecture}`)!
        const target = `${entry.accountId}-${entry.region}`
        byTarget.set(target, [...(byTarget.get(target) ?? []), {ParameterKey: key, ParameterValue: entry.arn}])
        references[key] = `{{resolve:ssm:${entry.parameter}}}`
      }
      const files = [...byTarget].map(([target, parameters]) => ({
        name: `layers-${target}.parameters.json`,
        text: json(parameters.sort((a, b) => compare(a.ParameterKey, b.ParameterKey))),
      }))
      return [...files, {name: 'layers.ssm-references.json', text: json(references)}]
    }
    case 'cdk': {
      let context: Record<string, unknown> = {}
      if (existing) {
        let parsed: unknown
        try {
          parsed = JSON.parse(existing.text)
        } catch {
          parsed = undefined
        }
        if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
          throw new UserInputError('ERR_LAYERS_EXPORT_OUTPUT_INVALID', `${existing.file} exists and is not a JSON object, so layers cannot merge its CDK context keys into it.`, {
            hint: 'Fix or remove the file, or write the context elsewhere with --output.',
          })
        }
        context = Object.fromEntries(Object.entries(parsed).filter(([key]) => !key.startsWith(CDK_KEY_PREFIX)))
      }
      for (const entry of entries) context[cdkContextKey(entry)] = entry.arn
      return [{name: '', text: json(context)}]
    }
    case 'serverless': {
      const layers: Record<string, unknown> = {}
      for (const entry of entries) put(layers, [entry.layer, entry.architecture], `\${ssm:${entry.parameter}}`)
      return [{name: '', text: stringify(sortKeys({layers}), {lineWidth: 0})}]
    }
    case 'json': {
      const layers: Record<string, unknown> = {}
      for (const entry of entries) {
        put(layers, [entry.layer, entry.accountId, entry.region, entry.architecture], {arn: entry.arn, version: entry.version, codeSha256: entry.codeSha256, parameter: entry.parameter})
      }
      return [{name: '', text: json({layers})}]
    }
  }
}
