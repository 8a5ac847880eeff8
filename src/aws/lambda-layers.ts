// Owns the Lambda layer calls `layers publish` and `layers lock` make, behind a small interface:
// list and read versions, publish one from S3, read, add and remove the grants of a version, read
// another account's version by ARN, delete a version, and list the layer versions the region's
// functions use (for deleting a duplicate version safely). SDK errors that mean "not there" become undefined; the rest are
// thrown as the SDK raised them (the services classify them).
// Also owns reading one layer version for every command (readLayerVersion): GetLayerVersion with the
// layer name or ARN and the version number, never GetLayerVersionByArn (the same call on AWS, which
// local doubles such as moto lack), and an answer without the fields AWS always returns is an error
// (checkLayerVersionAnswer, which the audit's REST read of a version applies too: src/audit/lambda-read.ts).
// The SDK is loaded by the calls themselves (import()), so a command that fails before any call never loads it.
import type {Architecture, GetLayerVersionCommandInput, GetLayerVersionCommandOutput, LambdaClient} from '@aws-sdk/client-lambda'
import type {InitializeMiddleware} from '@smithy/types'
import {parseLayerVersionArn} from '../audit/arn.js'
import {OperationalError, UserInputError, quoteValue} from '../errors/index.js'
import {describedCall, MALFORMED_ANSWER_CODE, MALFORMED_ANSWER_HINT, type DescribedCall} from './time-bounds.js'

export {MALFORMED_ANSWER_CODE} from './time-bounds.js'

export interface LayerVersionInfo {
  arn: string
  version: number
  description?: string
  /** Base64 SHA-256 of the zip. */
  codeSha256?: string
  codeSize?: number
  compatibleRuntimes?: string[]
  compatibleArchitectures?: string[]
}

/**
 * A version as GetLayerVersion answers it: the content's hash and size are always there; `location` is
 * Content.Location, a presigned URL of the zip valid for minutes (a secret while valid: never written
 * or printed), when the answer has one.
 */
export type ReadLayerVersion = LayerVersionInfo & {codeSha256: string; codeSize: number; location?: string}

/**
 * One layer version, read with GetLayerVersion: `layer` is the layer name (the caller's own layer) or
 * the layer ARN without the version (any account's; a version ARN is split into both), as AWS takes
 * it. Errors are thrown as the SDK raised them (ResourceNotFoundException, AccessDeniedException ...);
 * an answer that lacks Version, LayerVersionArn or Content (CodeSha256, CodeSize), or is about
 * another version, is ERR_LAYERS_AWS_MALFORMED_ANSWER naming the version, account, region and
 * endpoint: an endpoint that does not implement the call as AWS does (an empty 200) never passes for
 * a readable version of size 0.
 */
export async function readLayerVersion(client: Pick<LambdaClient, 'send'>, layer: string, version?: number): Promise<ReadLayerVersion> {
  const {GetLayerVersionCommand} = await import('@aws-sdk/client-lambda')
  const command = new GetLayerVersionCommand(layerVersionRequest(layer, version))
  command.middlewareStack.add(layerVersionAnswerCheck, {step: 'initialize', name: 'layersLayerVersionAnswer'})
  return readLayerVersionOf(await client.send(command))
}

/** A checked GetLayerVersion answer (checkLayerVersionAnswer) as readLayerVersion gives it. */
export function readLayerVersionOf(reply: SdkLayerVersion): ReadLayerVersion {
  return {...toInfo(reply), ...(reply.Content?.Location !== undefined ? {location: reply.Content.Location} : {})} as ReadLayerVersion
}

/**
 * Refuses an answer that is not about the version asked for. It reads the request from the call's
 * own input, never from the command it was added to: a client with cacheMiddleware (the factory's
 * Lambda clients) runs every GetLayerVersion through the stack of its first one.
 */
const layerVersionAnswerCheck: InitializeMiddleware<GetLayerVersionCommandInput, GetLayerVersionCommandOutput> = (next, context) => async (args) => {
  const result = await next(args)
  checkLayerVersionAnswer(result.output, args.input as LayerVersionRequest, describedCall(context, 'lambda'))
  return result
}

/** GetLayerVersion's input: the layer's name or ARN (without the version), and the version. */
export interface LayerVersionRequest {
  LayerName: string
  VersionNumber: number
}

/** Throws ERR_LAYERS_AWS_MALFORMED_ANSWER, naming `call` and the version, when `reply` lacks what AWS always sends or is about another version. */
export function checkLayerVersionAnswer(reply: SdkLayerVersion | undefined, request: LayerVersionRequest, call: DescribedCall): void {
  const problem = malformed(reply, request)
  if (!problem) return
  const asked = request.LayerName.startsWith('arn:') ? `${request.LayerName}:${request.VersionNumber}` : `version ${request.VersionNumber} of layer ${request.LayerName}`
  throw new OperationalError(MALFORMED_ANSWER_CODE, `The answer to ${call.what} for ${asked} ${problem}: that is not an answer AWS gives, so the version was not treated as readable.`, {
    hint: MALFORMED_ANSWER_HINT,
    details: {...call.details, layer: request.LayerName, version: request.VersionNumber},
  })
}

/** GetLayerVersion's input for a layer name and version, or for a layer version ARN alone (ERR_LAYERS_LAYER_ARN_INVALID when it is none). */
export function layerVersionRequest(layer: string, version?: number): LayerVersionRequest {
  if (version !== undefined) return {LayerName: layer, VersionNumber: version}
  const parts = parseLayerVersionArn(layer)
  if (!parts) {
    throw new UserInputError('ERR_LAYERS_LAYER_ARN_INVALID', `${quoteValue(layer)} is not a layer version ARN (arn:PARTITION:lambda:REGION:ACCOUNT:layer:NAME:VERSION).`, {
      hint: 'Give the full layer version ARN, ending in :VERSION.',
      details: {arn: layer},
    })
  }
  return {LayerName: parts.layerArn, VersionNumber: parts.version}
}

/** What is wrong with a GetLayerVersion answer, or undefined when it has what AWS always sends. */
function malformed(reply: SdkLayerVersion | undefined, request: LayerVersionRequest): string | undefined {
  const missing = [
    typeof reply?.Version === 'number' ? '' : 'Version',
    typeof reply?.LayerVersionArn === 'string' ? '' : 'LayerVersionArn',
    reply?.Content && typeof reply.Content === 'object' ? '' : 'Content',
    reply?.Content && typeof reply.Content.CodeSha256 !== 'string' ? 'Content.CodeSha256' : '',
    reply?.Content && typeof reply.Content.CodeSize !== 'number' ? 'Content.CodeSize' : '',
  ].filter(Boolean)
  if (missing.length > 0) return `lacks ${missing.join(', ')}`
  const arn = reply!.LayerVersionArn!
  const expected = request.LayerName.startsWith('arn:') ? arn === `${request.LayerName}:${request.VersionNumber}` : arn.endsWith(`:layer:${request.LayerName}:${request.VersionNumber}`)
  if (!expected || reply!.Version !== request.VersionNumber) return `is about another version (${quoteValue(arn)}, Version ${String(reply!.Version)})`
  return undefined
}

/** One grant of lambda:GetLayerVersion: an account id, or `*` (optionally narrowed to an organization). */
export interface LayerGrant {
  sid: string
  principal: string
  organizationId?: string
}

export interface PublishVersionInput {
  layerName: string
  bucket: string
  key: string
  description: string
  runtimes: string[]
  architectures: string[]
  license?: string
}

export interface LayerVersionsApi {
  /** Every version of the caller's layer (all pages), oldest first; [] when the layer does not exist. */
  listVersions(layerName: string): Promise<Array<Pick<LayerVersionInfo, 'arn' | 'version' | 'description'>>>
  /** One version of the caller's layer; undefined when it does not exist. */
  getVersion(layerName: string, version: number): Promise<LayerVersionInfo | undefined>
  /** A version by ARN (any account); undefined when it does not exist or is not shared with the caller. */
  readByArn(arn: string): Promise<LayerVersionInfo | undefined>
}

export interface LayerPublishApi extends LayerVersionsApi {
  publish(input: PublishVersionInput): Promise<LayerVersionInfo>
  /** The grants on a version; undefined when the version has no policy (or does not exist). */
  getGrants(layerName: string, version: number): Promise<LayerGrant[] | undefined>
  addGrant(layerName: string, version: number, grant: LayerGrant): Promise<void>
  removeGrant(layerName: string, version: number, sid: string): Promise<void>
  deleteVersion(layerName: string, version: number): Promise<void>
  /** Every layer version ARN the functions of this account and region use (all ListFunctions pages). */
  layerArnsInUse(): Promise<Set<string>>
}

const NOT_THERE = new Set(['ResourceNotFoundException', 'AccessDeniedException', 'AccessDenied'])

export function isNotFound(error: unknown): boolean {
  return (error as {name?: string}).name === 'ResourceNotFoundException'
}

async function orUndefined<T>(call: () => Promise<T>, names: Set<string> = NOT_THERE): Promise<T | undefined> {
  try {
    return await call()
  } catch (error) {
    if (names.has((error as {name?: string}).name ?? '')) return undefined
    throw error
  }
}

/** The fields of a GetLayerVersion (or PublishLayerVersion) answer layers reads. */
export interface SdkLayerVersion {
  LayerVersionArn?: string
  Version?: number
  Description?: string
  Content?: {CodeSha256?: string; CodeSize?: number; Location?: string}
  CompatibleRuntimes?: string[]
  CompatibleArchitectures?: string[]
}

function toInfo(reply: SdkLayerVersion): LayerVersionInfo {
  const arn = reply.LayerVersionArn ?? ''
  const version = reply.Version ?? Number(arn.split(':').at(-1))
  return {
    arn,
    version,
    ...(reply.Description !== undefined ? {description: reply.Description} : {}),
    ...(reply.Content?.CodeSha256 !== undefined ? {codeSha256: reply.Content.CodeSha256} : {}),
    ...(reply.Content?.CodeSize !== undefined ? {codeSize: reply.Content.CodeSize} : {}),
    ...(reply.CompatibleRuntimes ? {compatibleRuntimes: reply.CompatibleRuntimes} : {}),
    ...(reply.CompatibleArchitectures ? {compatibleArchitectures: reply.CompatibleArchitectures} : {}),
  }
}

/**
 * `reads` serves every call but `publish`, which goes through `writes` (a client without SDK retries:
 * PublishLayerVersion is not idempotent, so the publish service decides itself when to retry).
 */
export function layerPublishApi(reads: Pick<LambdaClient, 'send'>, writes: Pick<LambdaClient, 'send'> = reads): LayerPublishApi {
  return {
    ...layerVersionsApi(reads),
    async publish(input) {
      const {PublishLayerVersionCommand} = await import('@aws-sdk/client-lambda')
      const reply = await writes.send(
        new PublishLayerVersionCommand({
          LayerName: input.layerName,
          Description: input.description,
          Content: {S3Bucket: input.bucket, S3Key: input.key},
          ...(input.runtimes.length > 0 ? {CompatibleRuntimes: input.runtimes as never} : {}),
          ...(input.architectures.length > 0 ? {CompatibleArchitectures: input.architectures as Architecture[]} : {}),
          ...(input.license ? {LicenseInfo: input.license} : {}),
        }),
      )
      return toInfo(reply)
    },
    async getGrants(layerName, version) {
      const {GetLayerVersionPolicyCommand} = await import('@aws-sdk/client-lambda')
      const reply = await orUndefined(() => reads.send(new GetLayerVersionPolicyCommand({LayerName: layerName, VersionNumber: version})), new Set(['ResourceNotFoundException']))
      if (!reply?.Policy) return undefined
      return parsePolicyGrants(reply.Policy)
    },
    async addGrant(layerName, version, grant) {
      const {AddLayerVersionPermissionCommand} = await import('@aws-sdk/client-lambda')
      await reads.send(
        new AddLayerVersionPermissionCommand({
          LayerName: layerName,
          VersionNumber: version,
          StatementId: grant.sid,
          Action: 'lambda:GetLayerVersion',
          Principal: grant.principal,
          ...(grant.organizationId ? {OrganizationId: grant.organizationId} : {}),
        }),
      )
    },
    async removeGrant(layerName, version, sid) {
      const {RemoveLayerVersionPermissionCommand} = await import('@aws-sdk/client-lambda')
      await reads.send(new RemoveLayerVersionPermissionCommand({LayerName: layerName, VersionNumber: version, StatementId: sid}))
    },
    async deleteVersion(layerName, version) {
      const {DeleteLayerVersionCommand} = await import('@aws-sdk/client-lambda')
      await reads.send(new DeleteLayerVersionCommand({LayerName: layerName, VersionNumber: version}))
    },
    async layerArnsInUse() {
      const {ListFunctionsCommand} = await import('@aws-sdk/client-lambda')
      const arns = new Set<string>()
      let marker: string | undefined
      do {
        const reply = await reads.send(new ListFunctionsCommand({MaxItems: 50, ...(marker ? {Marker: marker} : {})}))
        for (const fn of reply.Functions ?? []) for (const layer of fn.Layers ?? []) if (layer.Arn) arns.add(layer.Arn)
        marker = reply.NextMarker
      } while (marker)
      return arns
    },
  }
}

export function layerVersionsApi(client: Pick<LambdaClient, 'send'>): LayerVersionsApi {
  return {
    async listVersions(layerName) {
      const {ListLayerVersionsCommand} = await import('@aws-sdk/client-lambda')
      const versions: Array<Pick<LayerVersionInfo, 'arn' | 'version' | 'description'>> = []
      let marker: string | undefined
      do {
        const reply = await orUndefined(
          () => client.send(new ListLayerVersionsCommand({LayerName: layerName, MaxItems: 50, ...(marker ? {Marker: marker} : {})})),
          new Set(['ResourceNotFoundException']),
        )
        if (!reply) break
        for (const item of reply.LayerVersions ?? []) {
          const info = toInfo(item)
          versions.push({arn: info.arn, version: info.version, ...(info.description !== undefined ? {description: info.description} : {})})
        }
        marker = reply.NextMarker
      } while (marker)
      return versions.sort((a, b) => a.version - b.version)
    },
    getVersion: (layerName, version) => orUndefined(() => readLayerVersion(client, layerName, version), new Set(['ResourceNotFoundException'])),
    readByArn: (arn) => orUndefined(() => readLayerVersion(client, arn)),
  }
}

interface PolicyStatement {
  Sid?: string
  Principal?: string | {AWS?: string | string[]}
  Condition?: Record<string, Record<string, string | string[]>>
}

/** The grants in a layer version policy document (as GetLayerVersionPolicy returns it). */
export function parsePolicyGrants(policy: string): LayerGrant[] {
  let document: {Statement?: PolicyStatement[] | PolicyStatement}
  try {
    document = JSON.parse(policy) as typeof document
  } catch {
    return []
  }
  const statements = Array.isArray(document.Statement) ? document.Statement : document.Statement ? [document.Statement] : []
  return statements.flatMap((statement) => {
    if (!statement.Sid) return []
    const raw = typeof statement.Principal === 'string' ? statement.Principal : statement.Principal?.AWS
    const principal = principalId(Array.isArray(raw) ? raw[0] : raw)
    if (!principal) return []
    const org = statement.Condition?.StringEquals?.['aws:PrincipalOrgID']
    const organizationId = Array.isArray(org) ? org[0] : org
    return [{sid: statement.Sid, principal, ...(organizationId ? {organizationId} : {})}]
  })
}

/** `*`, or the account id of `123456789012` / `arn:aws:iam::123456789012:root`. */
function principalId(raw: string | undefined): string | undefined {
  if (!raw) return undefined
  if (raw === '*') return '*'
  const match = /^(?:arn:aws[a-z-]*:iam::)?(\d{12})(?::root)?$/.exec(raw)
  return match ? match[1] : raw
}
