// Owns prune's Lambda calls over the AWS SDK: every version of a layer (all pages of
// ListLayerVersions), one version's zipped size (src/aws readLayerVersion), and deleting a version.
// The client comes from src/aws (credentials, endpoint, adaptive retries).
import type {LambdaClient} from '@aws-sdk/client-lambda'
import {readLayerVersion} from '../aws/lambda-layers.js'

export interface LayerVersionSummary {
  version: number
  arn: string
  createdDate: string
}

export interface PruneLambdaApi {
  /** Every version of the caller's layer `name`; empty when the layer does not exist. */
  listLayerVersions(name: string): Promise<LayerVersionSummary[]>
  /** Zipped bytes of one version (Content.CodeSize). */
  layerVersionSize(arn: string): Promise<number>
  deleteLayerVersion(name: string, version: number): Promise<void>
}

/** Prune's API in one target; the client's account was bound to its credentials (src/aws/identity.ts). */
export function pruneLambdaApi(client: Pick<LambdaClient, 'send'>): PruneLambdaApi {
  return {
    async listLayerVersions(name) {
      const {ListLayerVersionsCommand} = await import('@aws-sdk/client-lambda')
      const versions: LayerVersionSummary[] = []
      let marker: string | undefined
      do {
        const reply = await client
          .send(new ListLayerVersionsCommand({LayerName: name, MaxItems: 50, ...(marker ? {Marker: marker} : {})}))
          .catch((error: {name?: string}) => {
            if (error.name === 'ResourceNotFoundException') return {LayerVersions: [], NextMarker: undefined}
            throw error
          })
        for (const item of reply.LayerVersions ?? []) {
          if (item.Version === undefined || !item.LayerVersionArn) continue
          versions.push({version: item.Version, arn: item.LayerVersionArn, createdDate: item.CreatedDate ?? ''})
        }
        marker = reply.NextMarker
      } while (marker)
      return versions
    },
    layerVersionSize: async (arn) => (await readLayerVersion(client, arn)).codeSize,
    async deleteLayerVersion(name, version) {
      const {DeleteLayerVersionCommand} = await import('@aws-sdk/client-lambda')
      await client.send(new DeleteLayerVersionCommand({LayerName: name, VersionNumber: version}))
    },
  }
}
