// Owns the artifact bucket template (settings.bucket): filling in {accountId} and {region}, and the
// manifest check that it names a bucket per region. An S3 bucket lives in one region and
// PublishLayerVersion reads the zip only from a bucket in the layer's own region, so a template that
// gives two regions of the manifest the same bucket name cannot work for one of them.
import type {Problem} from '../errors/index.js'
import type {YamlSource} from './document.js'

export const DEFAULT_BUCKET = 'layers-{accountId}-{region}'

export function bucketName(template: string, target: {accountId: string; region: string}): string {
  return template.replaceAll('{accountId}', target.accountId).replaceAll('{region}', target.region)
}

type Raw = Record<string, unknown>
const isObject = (value: unknown): value is Raw => value !== null && typeof value === 'object' && !Array.isArray(value)
const strings = (value: unknown): string[] => (Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [])

/** One error at settings.bucket when the template resolves to one bucket name for several regions. */
export function bucketProblems(data: Raw, source: YamlSource): Problem[] {
  const settings = isObject(data.settings) ? data.settings : {}
  const template = typeof settings.bucket === 'string' ? settings.bucket : DEFAULT_BUCKET
  const defaultRegions = strings(settings.regions)
  const accounts = Object.values(isObject(data.accounts) ? data.accounts : {}).filter(isObject)
  const targets = (accounts.length > 0 ? accounts : [{}]).flatMap((account) => {
    const accountId = typeof account.id === 'string' ? account.id : '{accountId}'
    const regions = Array.isArray(account.regions) ? strings(account.regions) : defaultRegions
    return regions.map((region) => ({accountId, region}))
  })
  const regionsByBucket = new Map<string, Set<string>>()
  for (const target of targets) {
    const name = bucketName(template, target)
    regionsByBucket.set(name, (regionsByBucket.get(name) ?? new Set()).add(target.region))
  }
  for (const [name, regions] of regionsByBucket) {
    if (regions.size < 2) continue
    return [
      {
        severity: 'error',
        code: 'ERR_LAYERS_MANIFEST_BUCKET_REGIONS',
        message: `settings.bucket ${JSON.stringify(template)} gives the regions ${[...regions].sort().join(', ')} the same bucket ${name}: an S3 bucket lives in one region, and Lambda reads a layer's zip only from a bucket in the layer's region.`,
        hint: 'Put {region} in the bucket name, e.g. "acme-layers-{accountId}-{region}".',
        location: source.locate(typeof settings.bucket === 'string' ? ['settings', 'bucket'] : ['settings']),
      },
    ]
  }
  return []
}
