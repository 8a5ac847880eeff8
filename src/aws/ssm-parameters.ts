// Owns the SSM Parameter Store calls of layers behind a small interface: read values in batches of at
// most 10 names (GetParameters, the API's limit), write one String parameter (PutParameter; tags go
// with the creation, an overwrite sets them with AddTagsToResource, as AWS refuses Tags with
// Overwrite), list the parameters under a path (GetParametersByPath, recursive, paged), delete up to 10
// at once (DeleteParameters), and read one parameter (GetParameters) for `outdated`. The client is
// the AWS SDK's SSMClient (src/aws/clients.ts); callers import this module on first use, so a run that
// writes no parameter never loads @aws-sdk/client-ssm.
import {AddTagsToResourceCommand, DeleteParametersCommand, GetParametersByPathCommand, GetParametersCommand, PutParameterCommand, type SSMClient, type Tag} from '@aws-sdk/client-ssm'

/** GetParameters and DeleteParameters take at most this many names a call. */
export const SSM_BATCH = 10

export interface SsmParameterApi {
  /** name -> value of those of `names` that exist (one GetParameters call per 10 names). */
  values(names: readonly string[]): Promise<Map<string, string>>
  /** Creates (`exists` false: with the tags) or overwrites (then tags them) a String parameter. */
  put(name: string, value: string, tags: Record<string, string>, exists: boolean): Promise<void>
  /** Every parameter name under `path` (recursive) with its value. */
  list(path: string): Promise<Map<string, string>>
  /** Deletes the names (10 a call); returns those that were gone already. */
  remove(names: readonly string[]): Promise<string[]>
  /** One parameter's value, or undefined when it does not exist (or is not readable as such). */
  value(name: string): Promise<string | undefined>
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = []
  for (let index = 0; index < items.length; index += size) out.push(items.slice(index, index + size))
  return out
}

export function ssmParameterApi(client: SSMClient): SsmParameterApi {
  const tagList = (tags: Record<string, string>): Tag[] => Object.keys(tags).sort().map((Key) => ({Key, Value: tags[Key]!}))
  return {
    async values(names) {
      const found = new Map<string, string>()
      for (const batch of chunks(names, SSM_BATCH)) {
        const answer = await client.send(new GetParametersCommand({Names: batch}))
        for (const parameter of answer.Parameters ?? []) if (parameter.Name !== undefined && parameter.Value !== undefined) found.set(parameter.Name, parameter.Value)
      }
      return found
    },
    async put(name, value, tags, exists) {
      if (!exists) {
        try {
          await client.send(new PutParameterCommand({Name: name, Value: value, Type: 'String', Tags: tagList(tags)}))
          return
        } catch (error) {
          // Created meanwhile (or by an attempt whose answer was lost): overwrite it.
          if ((error as {name?: string}).name !== 'ParameterAlreadyExists') throw error
        }
      }
      await client.send(new PutParameterCommand({Name: name, Value: value, Type: 'String', Overwrite: true}))
      await client.send(new AddTagsToResourceCommand({ResourceType: 'Parameter', ResourceId: name, Tags: tagList(tags)}))
    },
    async list(path) {
      const found = new Map<string, string>()
      let token: string | undefined
      do {
        const page = await client.send(new GetParametersByPathCommand({Path: path, Recursive: true, MaxResults: SSM_BATCH, ...(token ? {NextToken: token} : {})}))
        for (const parameter of page.Parameters ?? []) if (parameter.Name !== undefined) found.set(parameter.Name, parameter.Value ?? '')
        token = page.NextToken
      } while (token)
      return found
    },
    async remove(names) {
      const gone: string[] = []
      for (const batch of chunks(names, SSM_BATCH)) gone.push(...((await client.send(new DeleteParametersCommand({Names: batch}))).InvalidParameters ?? []))
      return gone
    },
    async value(name) {
      const answer = await client.send(new GetParametersCommand({Names: [name]}))
      return answer.Parameters?.find((parameter) => parameter.Name === name)?.Value
    },
  }
}
