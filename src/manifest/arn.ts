// Owns checking the layer ARNs a manifest names (arn:PARTITION:lambda:REGION:ACCOUNT:layer:NAME[:VERSION],
// REGION possibly `{region}`): which part is wrong, so the error can say so, and the parts when valid.
import {isKnownRegion, partitionOf} from './regions.js'

export const REGION_PLACEHOLDER = '{region}'

export interface ManifestLayerArn {
  partition: string
  /** A region or `{region}`. */
  region: string
  accountId: string
  name: string
  /** Absent: newest version at lock time. */
  version?: number
}

export type ArnCheck = {ok: true; arn: ManifestLayerArn} | {ok: false; problem: string}

const PARTITIONS = new Set(['aws', 'aws-cn', 'aws-us-gov', 'aws-eusc', 'aws-iso', 'aws-iso-b', 'aws-iso-e', 'aws-iso-f'])

export function checkLayerArn(text: string): ArnCheck {
  const parts = text.split(':')
  const fail = (problem: string): ArnCheck => ({ok: false, problem})
  if (parts.length < 7 || parts.length > 8 || parts[0] !== 'arn') {
    return fail('is not a layer ARN (expected arn:aws:lambda:REGION:ACCOUNT_ID:layer:NAME[:VERSION])')
  }
  const [, partition = '', service, region = '', accountId = '', resource, name = '', version] = parts
  if (!PARTITIONS.has(partition)) return fail(`has an unknown partition "${partition}" (expected aws, aws-cn or aws-us-gov)`)
  if (service !== 'lambda') return fail(`names service "${service}", not lambda`)
  if (region !== REGION_PLACEHOLDER) {
    if (!isKnownRegion(region)) return fail(`has an unknown region "${region}" (use a region such as us-east-1, or {region})`)
    if (partitionOf(region) !== partition) return fail(`has region ${region}, which is not in partition ${partition}`)
  }
  if (!/^\d{12}$/.test(accountId)) return fail(`has account id "${accountId}", which is not 12 digits`)
  if (resource !== 'layer') return fail(`has resource type "${resource}", not layer`)
  if (!/^[A-Za-z0-9_-]{1,140}$/.test(name)) return fail(`has an invalid layer name "${name}" (1-140 letters, digits, '-' or '_')`)
  if (version !== undefined && !/^[1-9]\d{0,17}$/.test(version)) return fail(`has an invalid version "${version}" (a positive whole number, or none for the newest)`)
  return {ok: true, arn: {partition, region, accountId, name, ...(version === undefined ? {} : {version: Number(version)})}}
}

/** The ARN with `{region}` replaced. */
export function arnForRegion(arn: string, region: string): string {
  return arn.split(REGION_PLACEHOLDER).join(region)
}
