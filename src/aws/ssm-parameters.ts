// Owns the SSM Parameter Store calls of layers behind a small interface: list the parameters under a
// path with their values (GetParametersByPath, recursive, 10 a page, the API's limit), write one String
// parameter (PutParameter; tags go with the creation, an overwrite sets them with AddTagsToResource, as
// AWS refuses Tags with Overwrite), delete up to 10 at once (DeleteParameters), and read one parameter
// (GetParameters) for `outdated`. The client is
// the AWS SDK's SSMClient (src/aws/clients.ts); callers import this module on first use, so a run that
// writes no parameter never loads @aws-sdk/client-ssm.
import {AddTagsToResourceCommand, DeleteParametersCommand, GetParametersByPathCommand, GetParametersCommand, PutParameterCommand, type SSMClient, type Tag} from '@aws-sdk/client-ssm'
import {OperationalError} from '../errors/index.js'
import {MALFORMED_ANSWER_CODE, MALFORMED_ANSWER_HINT} from './time-bounds.js'

/** GetParametersByPath answers at most this many parameters a page; DeleteParameters takes at most this many names a call. */
export const SSM_BATCH = 10

export interface SsmParameterApi {
  /** Creates (`exists` false: with the tags) or overwrites (then tags them) a String parameter. */
  put(name: string, value: string, tags: Record<string, string>, exists: boolean): Promise<void>
  /** Every parameter name under `path` (recursive) with its value: one GetParametersByPath call per 10 parameters. */
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
      const tokens = new Set<string>()
      let token: string | undefined
      do {
        const page = await client.send(new GetParametersByPathCommand({Path: path, Recursive: true, MaxResults: SSM_BATCH, ...(token ? {NextToken: token} : {})}))
        for (const parameter of page.Parameters ?? []) if (parameter.Name !== undefined) found.set(parameter.Name, parameter.Value ?? '')
        token = page.NextToken
        // Each page is time-bounded by the client; an endpoint handing back a token it gave before would page forever.
        if (token !== undefined && tokens.has(token)) {
          throw new OperationalError(MALFORMED_ANSWER_CODE, `GetParametersByPath under ${path} answered a NextToken it had answered before: that is not an answer AWS gives, so the listing was stopped.`, {hint: MALFORMED_ANSWER_HINT, details: {operation: 'GetParametersByPath', path}})
        }
        if (token !== undefined) tokens.add(token)
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
