// Owns `layers outdated`'s Lambda reads over the AWS SDK: whether a layer version is readable
// (src/aws readLayerVersion; not found or not shared -> false) and, for the caller's own layers, the
// versions ListLayerVersions lists.
import type {LambdaClient} from '@aws-sdk/client-lambda'
import {parseLayerVersionArn} from '../audit/arn.js'
import {readLayerVersion} from '../aws/lambda-layers.js'
import type {LayerProbeApi} from './newest-version.js'

const UNREADABLE = new Set(['ResourceNotFoundException', 'AccessDeniedException', 'AccessDenied'])

/** `region` is the client's: the caller's own layer there is listed by name, as every Lambda double takes it (moto takes no ARN). */
export function layerProbeApi(client: Pick<LambdaClient, 'send'>, callerAccountId: string, region?: string): LayerProbeApi {
  return {
    async canRead(arn) {
      try {
        await readLayerVersion(client, arn)
        return true
      } catch (error) {
        if (UNREADABLE.has((error as {name?: string}).name ?? '')) return false
        throw error
      }
    },
    async listOwnVersions(layerArn) {
      const [, , , layerRegion, accountId, , name] = layerArn.split(':')
      if (accountId !== callerAccountId) return undefined
      const layerName = layerRegion === region && name ? name : layerArn
      const {ListLayerVersionsCommand} = await import('@aws-sdk/client-lambda')
      const versions: number[] = []
      let marker: string | undefined
      do {
        const reply = await client.send(new ListLayerVersionsCommand({LayerName: layerName, MaxItems: 50, ...(marker ? {Marker: marker} : {})}))
        for (const item of reply.LayerVersions ?? []) {
          const version = item.Version ?? (item.LayerVersionArn ? parseLayerVersionArn(item.LayerVersionArn)?.version : undefined)
          if (version !== undefined) versions.push(version)
        }
        marker = reply.NextMarker
      } while (marker)
      return versions
    },
  }
}
