// Owns the audit's Lambda reads over the AWS SDK: ListFunctions pages mapped to ScannedFunction,
// one layer version read (src/aws readLayerVersion: GetLayerVersion with the layer ARN) mapped to
// LayerVersionInfo (not found -> missing). The client comes from src/aws (credentials, endpoint,
// adaptive retries); this module only shapes requests and replies.
import {ListFunctionsCommand, type FunctionConfiguration, type LambdaClient} from '@aws-sdk/client-lambda'
import {readLayerVersion} from '../aws/lambda-layers.js'
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
    async readLayerVersion(arn) {
      try {
        const version = await readLayerVersion(client, arn)
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

export function toScannedFunction(config: FunctionConfiguration): ScannedFunction {
  return {
    name: config.FunctionName ?? '',
    ...(config.FunctionArn ? {arn: config.FunctionArn} : {}),
    ...(config.Runtime ? {runtime: config.Runtime} : {}),
    architecture: (config.Architectures?.[0] ?? 'x86_64') as Architecture,
    codeSize: config.CodeSize ?? 0,
    layers: (config.Layers ?? []).map((layer) => ({arn: layer.Arn ?? '', codeSize: layer.CodeSize ?? 0})),
  }
}
