// Owns the SSM Parameter Store client: the eight JSON 1.1 operations layers sends (PutParameter,
// GetParameter, GetParameters, GetParametersByPath, DeleteParameter, DeleteParameters,
// AddTagsToResource, ListTagsForResource), built from the same AWS SDK core the other clients are
// made of (SigV4 signing as `ssm`, the AwsJson1_1 protocol, retries, endpoint resolution including
// AWS_ENDPOINT_URL(_SSM) and `endpoint_url` in the config file), because @aws-sdk/client-ssm is not a
// dependency of layers. It is a smithy Client, so the factory's time bounds and call watcher apply to
// it as to every other client. Only the members layers uses are modelled.
import {getHostHeaderPlugin, getLoggerPlugin, getRecursionDetectionPlugin, getUserAgentPlugin, resolveHostHeaderConfig, resolveUserAgentConfig, createDefaultUserAgentProvider, getAwsRegionExtensionConfiguration, resolveAwsRegionExtensionConfiguration} from '@aws-sdk/core/client'
import {AwsSdkSigV4Signer, resolveAwsSdkSigV4Config} from '@aws-sdk/core/httpAuthSchemes'
import {AwsJson1_1Protocol} from '@aws-sdk/core/protocols'
import {DefaultIdentityProviderConfig, getHttpAuthSchemeEndpointRuleSetPlugin, getHttpSigningPlugin} from '@smithy/core'
import {Sha256} from '@smithy/core/checksum'
import {Client, getDefaultExtensionConfiguration, getSmithyContext, makeBuilder, NoOpLogger, normalizeProvider, resolveDefaultRuntimeConfig, ServiceException} from '@smithy/core/client'
import {resolveRegionConfig} from '@smithy/core/config'
import {getEndpointPlugin, resolveEndpointConfig} from '@smithy/core/endpoints'
import {getContentLengthPlugin, getHttpHandlerExtensionConfiguration, parseUrl, resolveHttpHandlerRuntimeConfig} from '@smithy/core/protocols'
import {DEFAULT_RETRY_MODE, getRetryPlugin, resolveRetryConfig} from '@smithy/core/retry'
import {getSchemaSerdePlugin, TypeRegistry} from '@smithy/core/schema'
import {calculateBodyLength, fromBase64, fromUtf8, toBase64, toUtf8} from '@smithy/core/serde'
import {NodeHttpHandler, streamCollector} from '@smithy/node-http-handler'
import type {AwsCredentialIdentityProvider, MetadataBearer} from '@smithy/types'

const n0 = 'com.amazonaws.ssm'
const synthetic = 'smithy.ts.sdk.synthetic.com.amazonaws.ssm'

/** Errors of SSM are read by their `__type` (the error's `name`, as with every SDK client). */
export class SsmServiceException extends ServiceException {
  static override shapeId = `${synthetic}#SSMServiceException`
}
const registry = new TypeRegistry(synthetic)
const baseError = [-3, synthetic, 'SSMServiceException', 0, [], []]
registry.registerError(baseError as never, SsmServiceException)

// Schemas in the SDK's compact form: [3 structure, namespace, name, traits, member names, member schemas];
// member schema 0 string, 1 number, 2 boolean, 7 timestamp (epoch seconds), 64 | 0 list of strings.
const Tag = [3, n0, 'Tag', 0, ['Key', 'Value'], [0, 0]]
const TagList = [1, n0, 'TagList', 0, [() => Tag, 0]]
const Parameter = [3, n0, 'Parameter', 0, ['Name', 'Type', 'Value', 'Version', 'LastModifiedDate', 'ARN', 'DataType'], [0, 0, 0, 1, 7, 0, 0]]
const ParameterList = [1, n0, 'ParameterList', 0, [() => Parameter, 0]]
const StringList = 64 | 0
const structure = (name: string, members: Record<string, unknown>) => [3, n0, name, 0, Object.keys(members), Object.values(members)]
const operation = (name: string, input: Record<string, unknown>, output: Record<string, unknown>) => {
  const request = structure(`${name}Request`, input)
  const result = structure(`${name}Result`, output)
  return [9, n0, name, 0, () => request, () => result] as never
}
const tags = [() => TagList, 0]
const parameters = [() => ParameterList, 0]

const schemas = {
  PutParameter: operation('PutParameter', {Name: 0, Description: 0, Value: 0, Type: 0, Overwrite: 2, Tags: tags, Tier: 0, DataType: 0}, {Version: 1, Tier: 0}),
  GetParameter: operation('GetParameter', {Name: 0, WithDecryption: 2}, {Parameter: [() => Parameter, 0]}),
  GetParameters: operation('GetParameters', {Names: StringList, WithDecryption: 2}, {Parameters: parameters, InvalidParameters: StringList}),
  GetParametersByPath: operation('GetParametersByPath', {Path: 0, Recursive: 2, WithDecryption: 2, MaxResults: 1, NextToken: 0}, {Parameters: parameters, NextToken: 0}),
  DeleteParameter: operation('DeleteParameter', {Name: 0}, {}),
  DeleteParameters: operation('DeleteParameters', {Names: StringList}, {DeletedParameters: StringList, InvalidParameters: StringList}),
  AddTagsToResource: operation('AddTagsToResource', {ResourceType: 0, ResourceId: 0, Tags: tags}, {}),
  ListTagsForResource: operation('ListTagsForResource', {ResourceType: 0, ResourceId: 0}, {TagList: tags}),
}

export interface SsmTag {
  Key: string
  Value: string
}

export interface SsmParameter {
  Name?: string
  Type?: string
  Value?: string
  Version?: number
  LastModifiedDate?: Date
  ARN?: string
  DataType?: string
}

/** The inputs and outputs of the modelled operations (the members layers uses). */
export interface SsmOperations {
  PutParameter: [{Name: string; Value: string; Type?: 'String'; Overwrite?: boolean; Tags?: SsmTag[]; Description?: string}, {Version?: number; Tier?: string}]
  GetParameter: [{Name: string}, {Parameter?: SsmParameter}]
  GetParameters: [{Names: string[]}, {Parameters?: SsmParameter[]; InvalidParameters?: string[]}]
  GetParametersByPath: [{Path: string; Recursive?: boolean; MaxResults?: number; NextToken?: string}, {Parameters?: SsmParameter[]; NextToken?: string}]
  DeleteParameter: [{Name: string}, object]
  DeleteParameters: [{Names: string[]}, {DeletedParameters?: string[]; InvalidParameters?: string[]}]
  AddTagsToResource: [{ResourceType: 'Parameter'; ResourceId: string; Tags: SsmTag[]}, object]
  ListTagsForResource: [{ResourceType: 'Parameter'; ResourceId: string}, {TagList?: SsmTag[]}]
}

export type SsmOperation = keyof SsmOperations

const commonParams = {
  UseFIPS: {type: 'builtInParams', name: 'useFipsEndpoint'},
  Endpoint: {type: 'builtInParams', name: 'endpoint'},
  Region: {type: 'builtInParams', name: 'region'},
  UseDualStack: {type: 'builtInParams', name: 'useDualstackEndpoint'},
} as const

const command = (makeBuilder as unknown as (...args: unknown[]) => (ep: object, mw: unknown, name: string, schema: unknown) => new (input: object) => unknown)(commonParams, 'AmazonSSM', 'SSMClient', getEndpointPlugin)

const commands = Object.fromEntries(Object.entries(schemas).map(([name, schema]) => [name, command({}, () => [], name, schema)])) as Record<SsmOperation, new (input: object) => unknown>

/** The regional endpoint (the config's `endpoint`, AWS_ENDPOINT_URL(_SSM) or endpoint_url when given). */
function endpointProvider(params: {Endpoint?: string; Region?: string}): {url: URL} {
  if (params.Endpoint) return {url: new URL(params.Endpoint)}
  const region = params.Region ?? 'us-east-1'
  const suffix = region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com'
  return {url: new URL(`https://ssm.${region}.${suffix}`)}
}

export interface SsmClientConfig {
  region: string
  credentials: AwsCredentialIdentityProvider
  /** The shared NodeHttpHandler; default a new one. */
  requestHandler?: unknown
  maxAttempts: number
  retryMode?: string
  endpoint?: string
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the SDK's generic client, typed through `call`
export class SsmClient extends Client<any, any, any, any> {
  declare readonly config: {retryStrategy: () => Promise<unknown>} & Record<string, unknown>

  constructor(configuration: SsmClientConfig) {
    const base = {
      apiVersion: '2014-11-06',
      base64Decoder: fromBase64,
      base64Encoder: toBase64,
      disableHostPrefix: false,
      endpointProvider,
      extensions: [],
      httpAuthSchemeProvider: (auth: {region: string}) => [
        {schemeId: 'aws.auth#sigv4', signingProperties: {name: 'ssm', region: auth.region}, propertiesExtractor: (config: unknown, context: unknown) => ({signingProperties: {config, context}})},
      ],
      httpAuthSchemes: [{schemeId: 'aws.auth#sigv4', identityProvider: (ipc: {getIdentityProvider(id: string): unknown}) => ipc.getIdentityProvider('aws.auth#sigv4'), signer: new AwsSdkSigV4Signer()}],
      logger: new NoOpLogger(),
      protocol: AwsJson1_1Protocol,
      protocolSettings: {defaultNamespace: n0, errorTypeRegistries: [registry], version: '2014-11-06', serviceTarget: 'AmazonSSM'},
      serviceId: 'SSM',
      sha256: Sha256,
      urlParser: parseUrl,
      utf8Decoder: fromUtf8,
      utf8Encoder: toUtf8,
      runtime: 'node',
      defaultsMode: () => Promise.resolve('standard'),
      bodyLengthChecker: calculateBodyLength,
      defaultUserAgentProvider: createDefaultUserAgentProvider({serviceId: 'SSM', clientVersion: '0.0.0-layers'}),
      streamCollector,
      useDualstackEndpoint: false,
      useFipsEndpoint: false,
      ...configuration,
      requestHandler: NodeHttpHandler.create((configuration.requestHandler ?? {}) as never),
      retryMode: configuration.retryMode ?? DEFAULT_RETRY_MODE,
    }
    super(base as never)
    type Resolve = (config: object) => object
    let config: object = base
    for (const resolve of [
      (c: object) => Object.assign(c, {useDualstackEndpoint: false, useFipsEndpoint: false, defaultSigningName: 'ssm'}),
      resolveUserAgentConfig,
      resolveRetryConfig,
      resolveRegionConfig,
      resolveHostHeaderConfig,
      resolveEndpointConfig,
      (c: object) => Object.assign(resolveAwsSdkSigV4Config(c as never), {authSchemePreference: normalizeProvider([])}),
    ] as Resolve[]) {
      config = resolve(config)
    }
    const extension = Object.assign(getAwsRegionExtensionConfiguration(config as never), getDefaultExtensionConfiguration(config as never), getHttpHandlerExtensionConfiguration(config as never))
    config = Object.assign(config, resolveAwsRegionExtensionConfiguration(extension as never), resolveDefaultRuntimeConfig(extension as never), resolveHttpHandlerRuntimeConfig(extension as never))
    this.config = config as SsmClient['config']
    const use = (plugin: unknown) => this.middlewareStack.use(plugin as never)
    use(getSchemaSerdePlugin(this.config as never))
    use(getUserAgentPlugin(this.config as never))
    use(getRetryPlugin(this.config as never))
    use(getContentLengthPlugin(this.config as never))
    use(getHostHeaderPlugin(this.config as never))
    use(getLoggerPlugin(this.config as never))
    use(getRecursionDetectionPlugin(this.config as never))
    use(
      getHttpAuthSchemeEndpointRuleSetPlugin(this.config as never, {
        httpAuthSchemeParametersProvider: async (config: {region: unknown}, context: object) => ({
          operation: (getSmithyContext(context as never) as {operation?: string}).operation,
          region: await normalizeProvider(config.region as string)(),
        }),
        identityProviderConfigProvider: async (config: {credentials: unknown}) => new DefaultIdentityProviderConfig({'aws.auth#sigv4': config.credentials as never}),
      } as never),
    )
    use(getHttpSigningPlugin(this.config as never))
  }

  /** Sends one operation. */
  async call<O extends SsmOperation>(name: O, input: SsmOperations[O][0]): Promise<SsmOperations[O][1] & MetadataBearer> {
    const Command = commands[name]
    return (await (this as unknown as {send(command: unknown): Promise<unknown>}).send(new Command(input))) as SsmOperations[O][1] & MetadataBearer
  }
}
