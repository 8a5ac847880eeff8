// Owns reading layer version ARNs (arn:PARTITION:lambda:REGION:ACCOUNT:layer:NAME:VERSION): the
// audit groups usage by layer and compares versions, so it needs the parts, not the string.

export interface LayerVersionArnParts {
  partition: string
  region: string
  accountId: string
  name: string
  /** Layer ARN without the version. */
  layerArn: string
  version: number
}

const LAYER_VERSION_ARN = /^arn:(aws[a-z-]*):lambda:([a-z0-9-]+):(\d{12}):layer:([A-Za-z0-9_-]{1,140}):([1-9]\d*)$/

const parsed = new Map<string, LayerVersionArnParts | undefined>()

/** The parts of a layer version ARN, or undefined when the text is not one. Results are memoised (an audit sees few distinct ARNs many times). */
export function parseLayerVersionArn(arn: string): LayerVersionArnParts | undefined {
  if (parsed.has(arn)) return parsed.get(arn)
  const parts = parse(arn)
  if (parsed.size > 100_000) parsed.clear()
  parsed.set(arn, parts)
  return parts
}

function parse(arn: string): LayerVersionArnParts | undefined {
  const match = LAYER_VERSION_ARN.exec(arn)
  if (!match) return undefined
  const [, partition, region, accountId, name, version] = match as unknown as [string, string, string, string, string, string]
  return Object.freeze({partition, region, accountId, name, layerArn: `arn:${partition}:lambda:${region}:${accountId}:layer:${name}`, version: Number(version)})
}

/** The layer ARN (no version) of a layer or layer version ARN; the text itself when it is neither. */
export function layerArnOf(arn: string): string {
  const parts = parseLayerVersionArn(arn)
  return parts ? parts.layerArn : arn
}
