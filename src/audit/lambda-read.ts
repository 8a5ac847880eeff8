// Owns the audit's Lambda reads over the AWS SDK: ListFunctions pages mapped to ScannedFunction,
// GetLayerVersionByArn mapped to LayerVersionInfo (not found -> missing). The client comes from
// src/aws (credentials, endpoint, adaptive retries); this module only shapes requests and replies.
import {GetLayerVersionByArnCommand, ListFunctionsCommand, type FunctionConfiguration, type LambdaClient} from '@aws-sdk/client-lambda'
import type {Architecture} from '../manifest/types.js'
import type {LambdaReadApi} from './scan.js'
import type {LayerVersionInfo, ScannedFunction} from './types.js'

/** ListFunctions' largest page. */
export const LIST_FUNCTIONS_PAGE = 50

/** The read API of one target; the client's account was bound to its credentials (src/aws/identity.ts). */
export function lambdaReadApi(client: Pick<LambdaClient, 'send'>): LambdaReadApi {
  return {
    async listFunctions(marker) {
      const reply = await client.send(new ListFunctionsCommand({MaxItems: LIST_FUNCTIONS_PAGE, ...(marker === undefined ? {} : {Marker: marker})}))
      return {functions: (reply.Functions ?? []).map(toScannedFunction), ...(reply.NextMarker ? {nextMarker: reply.NextMarker} : {})}
    },
    async getLayerVersionByArn(arn) {
      try {
        const reply = await client.send(new GetLayerVersionByArnCommand({Arn: arn}))
        return {
          status: 'ok',
          codeSize: reply.Content?.CodeSize ?? 0,
          codeSha256: reply.Content?.CodeSha256 ?? '',
          compatibleArchitectures: (reply.CompatibleArchitectures ?? []) as Architecture[],
          compatibleRuntimes: reply.CompatibleRuntimes ?? [],
        } satisfies LayerVersionInfo
      } catch (error) {
        if ((error as {name?: string}).name === 'ResourceNotFoundException') return {status: 'missing'}
        throw error
      }
    },
  }
}

export function toScannedFunction(config: FunctionConfiguration): ScannedFunction {
  return {
    name: config.FunctionName ?? '',
    ...(config.Runtime ? {runtime: config.Runtime} : {}),
    architecture: (config.Architectures?.[0] ?? 'x86_64') as Architecture,
    codeSize: config.CodeSize ?? 0,
    layers: (config.Layers ?? []).map((layer) => ({arn: layer.Arn ?? '', codeSize: layer.CodeSize ?? 0})),
  }
}
