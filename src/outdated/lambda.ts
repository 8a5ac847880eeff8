// Owns `layers outdated`'s Lambda reads over the AWS SDK: whether a layer version is readable
// (GetLayerVersionByArn; not found or not shared -> false) and, for the caller's own layers, the
// versions ListLayerVersions lists.
import {GetLayerVersionByArnCommand, ListLayerVersionsCommand, type LambdaClient} from '@aws-sdk/client-lambda'
import {parseLayerVersionArn} from '../audit/arn.js'
import type {LayerProbeApi} from './newest-version.js'

const UNREADABLE = new Set(['ResourceNotFoundException', 'AccessDeniedException', 'AccessDenied'])

export function layerProbeApi(client: Pick<LambdaClient, 'send'>, callerAccountId: string): LayerProbeApi {
  return {
    async canRead(arn) {
      try {
        await client.send(new GetLayerVersionByArnCommand({Arn: arn}))
        return true
      } catch (error) {
        if (UNREADABLE.has((error as {name?: string}).name ?? '')) return false
        throw error
      }
    },
    async listOwnVersions(layerArn) {
      const accountId = layerArn.split(':')[4]
      if (accountId !== callerAccountId) return undefined
      const versions: number[] = []
      let marker: string | undefined
      do {
        const reply = await client.send(new ListLayerVersionsCommand({LayerName: layerArn, MaxItems: 50, ...(marker ? {Marker: marker} : {})}))
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
