// Owns the Lambda function calls `layers attach` makes, behind a small interface: read a function's
// configuration, replace its Layers list under a RevisionId precondition, read a layer version by
// ARN, and list a function's tags (ListTags, by the function ARN). The two update failures attach handles (stale revision, update in progress) come back as
// typed outcomes; every other error is thrown as the SDK raised it.
import type {FunctionConfiguration, LambdaClient} from '@aws-sdk/client-lambda'
import type {FunctionState} from '../attach/plan.js'
import {layerVersionsApi, type LayerVersionInfo} from './lambda-layers.js'

export type UpdateOutcome = {status: 'ok'; state: FunctionState} | {status: 'stale-revision'} | {status: 'in-progress'}

export interface FunctionsApi {
  /** undefined when the function does not exist. */
  getFunction(name: string): Promise<FunctionState | undefined>
  updateLayers(name: string, layers: string[], revisionId: string): Promise<UpdateOutcome>
  readLayer(arn: string): Promise<LayerVersionInfo | undefined>
  /** The function's tags (ListTags takes the function ARN, not its name). */
  listTags(functionArn: string): Promise<Record<string, string>>
}

export function toFunctionState(config: FunctionConfiguration): FunctionState {
  return {
    name: config.FunctionName ?? '',
    ...(config.FunctionArn ? {arn: config.FunctionArn} : {}),
    ...(config.Runtime ? {runtime: config.Runtime} : {}),
    ...(config.PackageType ? {packageType: config.PackageType} : {}),
    architectures: config.Architectures ?? ['x86_64'],
    codeSize: config.CodeSize ?? 0,
    ...(config.CodeSha256 ? {codeSha256: config.CodeSha256} : {}),
    layers: (config.Layers ?? []).map((layer) => ({arn: layer.Arn ?? '', codeSize: layer.CodeSize ?? 0})),
    revisionId: config.RevisionId ?? '',
    ...(config.LastUpdateStatus ? {lastUpdateStatus: config.LastUpdateStatus} : {}),
    ...(config.LastUpdateStatusReason ? {lastUpdateStatusReason: config.LastUpdateStatusReason} : {}),
    ...(config.State ? {state: config.State} : {}),
  }
}

/** A function's tags: ListTags takes the function ARN, not its name. */
export async function listFunctionTags(client: Pick<LambdaClient, 'send'>, functionArn: string): Promise<Record<string, string>> {
  const {ListTagsCommand} = await import('@aws-sdk/client-lambda')
  return (await client.send(new ListTagsCommand({Resource: functionArn}))).Tags ?? {}
}

export function functionsApi(client: Pick<LambdaClient, 'send'>): FunctionsApi {
  const layers = layerVersionsApi(client)
  return {
    async getFunction(name) {
      const {GetFunctionConfigurationCommand} = await import('@aws-sdk/client-lambda')
      try {
        return toFunctionState(await client.send(new GetFunctionConfigurationCommand({FunctionName: name})))
      } catch (error) {
        if ((error as {name?: string}).name === 'ResourceNotFoundException') return undefined
        throw error
      }
    },
    async updateLayers(name, arns, revisionId) {
      const {UpdateFunctionConfigurationCommand} = await import('@aws-sdk/client-lambda')
      try {
        const reply = await client.send(new UpdateFunctionConfigurationCommand({FunctionName: name, Layers: arns, RevisionId: revisionId}))
        return {status: 'ok', state: toFunctionState(reply)}
      } catch (error) {
        const errorName = (error as {name?: string}).name
        if (errorName === 'PreconditionFailedException') return {status: 'stale-revision'}
        if (errorName === 'ResourceConflictException') return {status: 'in-progress'}
        throw error
      }
    },
    readLayer: (arn) => layers.readByArn(arn),
    listTags: (functionArn) => listFunctionTags(client, functionArn),
  }
}
