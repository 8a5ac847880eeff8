// Owns the SSM Parameter Store calls of layers behind a small interface: list the parameters under a
// path with their values (GetParametersByPath, recursive, 10 a page, the API's limit), write one String
// parameter (PutParameter; tags go with the creation, an overwrite sets them with AddTagsToResource, as
// AWS refuses Tags with Overwrite), delete up to 10 at once (DeleteParameters), and read one parameter
// (GetParameters) for `outdated`. Every PutParameter makes a new parameter version, so it goes out
// without SDK retries (the `writes` client, maxAttempts 1): after throttling (never applied) it is sent
// again with a backoff; after an unknown outcome (a 5xx, a lost answer) the value is read back first and
// a write that landed is not repeated; after no answer at all it is sent again only inside the time
// bounds' no-answer window (src/aws/time-bounds.ts). The clients are the AWS SDK's SSMClient
// (src/aws/clients.ts); callers import this module on first use, so a run that writes no parameter
// never loads @aws-sdk/client-ssm.
import {AddTagsToResourceCommand, DeleteParametersCommand, GetParametersByPathCommand, GetParametersCommand, PutParameterCommand, type SSMClient, type Tag} from '@aws-sdk/client-ssm'
import {OperationalError} from '../errors/index.js'
import {isThrottling, isUncertain} from './errors.js'
import {isNoAnswer, MALFORMED_ANSWER_CODE, MALFORMED_ANSWER_HINT, NO_ANSWER_RETRY_WINDOW_MS, RETRY_WINDOW_MS} from './time-bounds.js'

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

/** Attempts of one PutParameter (throttled or of unknown outcome), and the first backoff between them. */
const MAX_WRITE_ATTEMPTS = 5
const WRITE_RETRY_BASE_MS = 200

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = []
  for (let index = 0; index < items.length; index += size) out.push(items.slice(index, index + size))
  return out
}

export function ssmParameterApi(client: SSMClient, writes: SSMClient = client): SsmParameterApi {
  const tagList = (tags: Record<string, string>): Tag[] => Object.keys(tags).sort().map((Key) => ({Key, Value: tags[Key]!}))
  const value = async (name: string): Promise<string | undefined> => {
    const answer = await client.send(new GetParametersCommand({Names: [name]}))
    return answer.Parameters?.find((parameter) => parameter.Name === name)?.Value
  }
  /** One PutParameter, sent again only when it did not land (throttled, or the value read back is not there). */
  const putOnce = async (input: {Name: string; Value: string; Tags?: Tag[]; Overwrite?: boolean}): Promise<void> => {
    const started = Date.now()
    for (let attempt = 1; ; attempt++) {
      try {
        await writes.send(new PutParameterCommand({...input, Type: 'String'}))
        return
      } catch (error) {
        const throttled = isThrottling(error)
        if (!throttled && !isUncertain(error)) throw error
        if (!throttled) {
          // Applied, its answer lost: the value is there, and sending it again would make another version.
          // A read-back that fails as well leaves the outcome unknown: the write's own error stands.
          const landed = await value(input.Name).then((found) => found === input.Value, () => undefined)
          if (landed === undefined) throw error
          if (landed) return
        }
        const window = isNoAnswer(error) ? NO_ANSWER_RETRY_WINDOW_MS : RETRY_WINDOW_MS
        if (attempt >= MAX_WRITE_ATTEMPTS || Date.now() - started >= window) throw error
        await new Promise((resolve) => setTimeout(resolve, WRITE_RETRY_BASE_MS * 2 ** (attempt - 1) * (0.5 + Math.random())))
      }
    }
  }
  return {
    async put(name, wanted, tags, exists) {
      if (!exists) {
        try {
          await putOnce({Name: name, Value: wanted, Tags: tagList(tags)})
          return
        } catch (error) {
          // Created meanwhile (or by an attempt whose answer was lost): overwrite it unless it holds the value already.
          if ((error as {name?: string}).name !== 'ParameterAlreadyExists') throw error
        }
        if ((await value(name)) !== wanted) await putOnce({Name: name, Value: wanted, Overwrite: true})
      } else {
        await putOnce({Name: name, Value: wanted, Overwrite: true})
      }
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
    value,
  }
}
