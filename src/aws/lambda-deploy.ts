// Owns the Lambda calls `layers deploy` and `layers rollback` make beyond attach's (lambda-functions.ts),
// behind a small interface: UpdateFunctionCode from an S3 object (or the zip itself, ZipFile; or a container image, ImageUri) under the function's RevisionId,
// PublishVersion under CodeSha256 and RevisionId preconditions, the newest published version holding
// given code and layers (ListVersionsByFunction), and an alias: GetAlias, CreateAlias, UpdateAlias
// (RoutingConfig AdditionalVersionWeights, under the alias's RevisionId). The conflicts deploy reports
// (RevisionId moved, another update in progress) come back as typed outcomes; every other error is
// thrown as the SDK raised it.
import type {AliasConfiguration, LambdaClient} from '@aws-sdk/client-lambda'
import type {AliasRoute, AliasState} from '../deploy/plan.js'
import type {UpdateOutcome} from './lambda-functions.js'
import {toFunctionState} from './lambda-functions.js'

export type Conflict = {status: 'stale-revision'} | {status: 'in-progress'}

export interface DeployApi {
  /** From an S3 object, the zip bytes themselves (ZipFile; the request must stay under Lambda's direct-upload limit), or an ECR image (an Image function's). */
  updateCode(name: string, source: {bucket: string; key: string} | {zip: Uint8Array} | {imageUri: string}, revisionId: string): Promise<UpdateOutcome>
  /** The version number PublishVersion made (or returned: Lambda makes none when nothing changed since the last). */
  publishVersion(name: string, codeSha256: string, revisionId: string): Promise<{status: 'ok'; version: string} | Conflict>
  /** The newest published version whose code and layers are these; undefined when none is. */
  findVersion(name: string, codeSha256: string, layers: readonly string[]): Promise<string | undefined>
  /** undefined when the alias does not exist. */
  getAlias(name: string, alias: string): Promise<AliasState | undefined>
  /** Creates the alias (`existing` undefined) or moves it under its RevisionId. */
  putAlias(name: string, alias: string, route: AliasRoute, existing?: AliasState): Promise<{status: 'ok'; alias: AliasState} | Conflict>
}

function errorName(error: unknown): string | undefined {
  return (error as {name?: string}).name
}

/** The typed conflict of a failed write, or undefined for any other error. */
function conflictOf(error: unknown): Conflict | undefined {
  if (errorName(error) === 'PreconditionFailedException') return {status: 'stale-revision'}
  if (errorName(error) === 'ResourceConflictException') return {status: 'in-progress'}
  return undefined
}

function aliasState(config: AliasConfiguration): AliasState {
  return {
    name: config.Name ?? '',
    functionVersion: config.FunctionVersion ?? '',
    weights: {...(config.RoutingConfig?.AdditionalVersionWeights ?? {})},
    description: config.Description ?? '',
    revisionId: config.RevisionId ?? '',
  }
}

function codeSource(source: Parameters<DeployApi['updateCode']>[1]): {ZipFile: Uint8Array} | {S3Bucket: string; S3Key: string} | {ImageUri: string} {
  if ('zip' in source) return {ZipFile: source.zip}
  if ('imageUri' in source) return {ImageUri: source.imageUri}
  return {S3Bucket: source.bucket, S3Key: source.key}
}

export function deployApi(client: Pick<LambdaClient, 'send'>): DeployApi {
  return {
    async updateCode(name, source, revisionId) {
      const {UpdateFunctionCodeCommand} = await import('@aws-sdk/client-lambda')
      try {
        const reply = await client.send(new UpdateFunctionCodeCommand({FunctionName: name, ...codeSource(source), RevisionId: revisionId}))
        return {status: 'ok', state: toFunctionState(reply)}
      } catch (error) {
        const conflict = conflictOf(error)
        if (conflict) return conflict
        throw error
      }
    },
    async publishVersion(name, codeSha256, revisionId) {
      const {PublishVersionCommand} = await import('@aws-sdk/client-lambda')
      try {
        const reply = await client.send(new PublishVersionCommand({FunctionName: name, CodeSha256: codeSha256, RevisionId: revisionId}))
        return {status: 'ok', version: reply.Version ?? ''}
      } catch (error) {
        const conflict = conflictOf(error)
        if (conflict) return conflict
        throw error
      }
    },
    async findVersion(name, codeSha256, layers) {
      const {ListVersionsByFunctionCommand} = await import('@aws-sdk/client-lambda')
      let found: number | undefined
      let marker: string | undefined
      do {
        const page = await client.send(new ListVersionsByFunctionCommand({FunctionName: name, ...(marker ? {Marker: marker} : {})}))
        for (const config of page.Versions ?? []) {
          if (!config.Version || !/^\d+$/.test(config.Version) || config.CodeSha256 !== codeSha256) continue
          const arns = (config.Layers ?? []).map((layer) => layer.Arn ?? '')
          if (arns.length !== layers.length || arns.some((arn, index) => arn !== layers[index])) continue
          found = Math.max(found ?? 0, Number(config.Version))
        }
        marker = page.NextMarker
      } while (marker)
      return found === undefined ? undefined : String(found)
    },
    async getAlias(name, alias) {
      const {GetAliasCommand} = await import('@aws-sdk/client-lambda')
      try {
        return aliasState(await client.send(new GetAliasCommand({FunctionName: name, Name: alias})))
      } catch (error) {
        if (errorName(error) === 'ResourceNotFoundException') return undefined
        throw error
      }
    },
    async putAlias(name, alias, route, existing) {
      const {CreateAliasCommand, UpdateAliasCommand} = await import('@aws-sdk/client-lambda')
      const fields = {FunctionName: name, Name: alias, FunctionVersion: route.functionVersion, Description: route.description, RoutingConfig: {AdditionalVersionWeights: route.weights}}
      try {
        const reply = existing ? await client.send(new UpdateAliasCommand({...fields, RevisionId: existing.revisionId})) : await client.send(new CreateAliasCommand(fields))
        return {status: 'ok', alias: aliasState(reply)}
      } catch (error) {
        const conflict = conflictOf(error)
        if (conflict) return conflict
        throw error
      }
    },
  }
}
