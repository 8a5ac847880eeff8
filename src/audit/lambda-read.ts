// Owns the audit's Lambda reads, all sent through src/aws/lambda-rest.ts (no SDK client: an audit of
// hundreds of account-regions holds none per target): ListFunctions pages mapped to ScannedFunction,
// ListAliases pages mapped to ScannedAlias, one published function version (GetFunctionConfiguration
// with the version as Qualifier) mapped to ScannedVersion, one layer version (GetLayerVersion with the
// layer ARN and version, its answer checked as src/aws/lambda-layers.ts checks every read of a version)
// mapped to LayerVersionInfo (not found -> missing), and a function's tags (ListTags). The GET comes
// from src/aws (credentials, endpoint, adaptive retries, the budget); this module only shapes requests
// and replies. The layer lists of a target's functions and versions are interned (one frozen list per
// distinct Layers): a listed page waits seconds for the target's readers (src/audit/scan.ts), and a
// list of its own per function, with its own copy of each layer ARN, was most of what a target in
// flight held (a heap snapshot mid-audit: about 60 listed functions per target, 20 KB).
import type {AliasConfiguration, FunctionConfiguration, Layer, GetLayerVersionResponse, ListAliasesResponse, ListFunctionsResponse, ListTagsResponse} from '@aws-sdk/client-lambda'
import {checkLayerVersionAnswer, layerVersionRequest, readLayerVersionOf} from '../aws/lambda-layers.js'
import type {LambdaRestGet} from '../aws/lambda-rest.js'
import type {Architecture} from '../manifest/types.js'
import type {LambdaReadApi} from './scan.js'
import type {FunctionLayerRef, LayerVersionInfo, ScannedAlias, ScannedFunction} from './types.js'

/** ListFunctions' largest page. */
export const LIST_FUNCTIONS_PAGE = 50
/** ListAliases' largest page. */
export const LIST_ALIASES_PAGE = 50

/** Lambda's path label encoding (the SDK's extendedEncodeURIComponent): a function ARN's `:` is escaped. */
export function pathLabel(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
}

/** Distinct layer lists interned per target; past this many (a target whose functions run that many combinations) a list is its function's own. */
const INTERNED_LAYER_LISTS = 256

/** Gives the same frozen list for equal Layers (ARN and size, in order): nothing downstream changes a function's layers. */
export type LayerLists = (layers: Layer[] | undefined) => FunctionLayerRef[]

const NO_LAYERS: FunctionLayerRef[] = Object.freeze([]) as unknown as FunctionLayerRef[]

/** The layer lists of one target (dropped with its read API). */
export function layerLists(): LayerLists {
  const lists = new Map<string, FunctionLayerRef[]>()
  return (layers) => {
    if (!layers || layers.length === 0) return NO_LAYERS
    const key = layers.map((layer) => `${layer.Arn ?? ''}\n${layer.CodeSize ?? 0}`).join('\n')
    const known = lists.get(key)
    if (known) return known
    const list = Object.freeze(layers.map((layer) => Object.freeze({arn: layer.Arn ?? '', codeSize: layer.CodeSize ?? 0}))) as unknown as FunctionLayerRef[]
    if (lists.size < INTERNED_LAYER_LISTS) lists.set(key, list)
    return list
  }
}

/** The read API of one target; the GET's account was bound to its credentials (src/aws/identity.ts). */
export function lambdaReadApi(get: LambdaRestGet): LambdaReadApi {
  const lists = layerLists()
  const scanned = (config: FunctionConfiguration): ScannedFunction => toScannedFunction(config, lists)
  const page = (marker: string | undefined, size: number): Record<string, string> => ({MaxItems: String(size), ...(marker === undefined ? {} : {Marker: marker})})
  return {
    async listFunctions(marker) {
      const reply = await get<ListFunctionsResponse>('ListFunctions', '/2015-03-31/functions', page(marker, LIST_FUNCTIONS_PAGE))
      return {functions: (reply.Functions ?? []).map(scanned), ...(reply.NextMarker ? {nextMarker: reply.NextMarker} : {})}
    },
    async listAliases(functionName, marker) {
      const reply = await get<ListAliasesResponse>('ListAliases', `/2015-03-31/functions/${pathLabel(functionName)}/aliases`, page(marker, LIST_ALIASES_PAGE))
      return {aliases: (reply.Aliases ?? []).map(toScannedAlias), ...(reply.NextMarker ? {nextMarker: reply.NextMarker} : {})}
    },
    async readFunctionVersion(functionName, version) {
      const reply = await get<FunctionConfiguration>('GetFunctionConfiguration', `/2015-03-31/functions/${pathLabel(functionName)}/configuration`, {Qualifier: version})
      const {name: _name, arn: _arn, codeSize: _codeSize, ...config} = scanned(reply)
      return {version, ...config, ...(reply.CodeSha256 ? {codeSha256: reply.CodeSha256} : {})}
    },
    async readLayerVersion(arn) {
      const request = layerVersionRequest(arn)
      try {
        const reply = await get<GetLayerVersionResponse>('GetLayerVersion', `/2018-10-31/layers/${pathLabel(request.LayerName)}/versions/${request.VersionNumber}`, {}, (answer, call) =>
          checkLayerVersionAnswer(answer, request, call),
        )
        const version = readLayerVersionOf(reply)
        return {
          status: 'ok',
          codeSize: version.codeSize,
          codeSha256: version.codeSha256,
          compatibleArchitectures: (version.compatibleArchitectures ?? []) as Architecture[],
          compatibleRuntimes: version.compatibleRuntimes ?? [],
        } satisfies LayerVersionInfo
      } catch (error) {
        if ((error as {name?: string}).name === 'ResourceNotFoundException') return {status: 'missing'}
        throw error
      }
    },
  }
}

/** The tags of a function (ListTags). */
export async function readFunctionTags(get: LambdaRestGet, functionArn: string): Promise<Record<string, string>> {
  return (await get<ListTagsResponse>('ListTags', `/2017-03-31/tags/${pathLabel(functionArn)}`, {})).Tags ?? {}
}

export function toScannedFunction(config: FunctionConfiguration, lists: LayerLists = layerLists()): ScannedFunction {
  return {
    name: config.FunctionName ?? '',
    ...(config.FunctionArn ? {arn: config.FunctionArn} : {}),
    ...(config.Runtime ? {runtime: config.Runtime} : {}),
    ...(config.PackageType === 'Image' ? {packageType: 'Image' as const} : {}),
    architecture: (config.Architectures?.[0] ?? 'x86_64') as Architecture,
    codeSize: config.CodeSize ?? 0,
    layers: lists(config.Layers),
  }
}

export function toScannedAlias(alias: AliasConfiguration): ScannedAlias {
  const [extra] = Object.entries(alias.RoutingConfig?.AdditionalVersionWeights ?? {})
  return {
    name: alias.Name ?? '',
    version: alias.FunctionVersion ?? '$LATEST',
    ...(extra ? {additional: {version: extra[0], weight: extra[1]}} : {}),
    ...(alias.RevisionId ? {revisionId: alias.RevisionId} : {}),
  }
}
