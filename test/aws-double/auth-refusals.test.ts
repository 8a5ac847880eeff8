// Contract: the server refuses an unknown access key and a wrong signature with the error and status
// each AWS protocol answers: 403 from the REST-JSON services (Lambda), 400 from the JSON 1.1 ones (SSM).
import {ListFunctionsCommand, LambdaClient} from '@aws-sdk/client-lambda'
import {GetParameterCommand, SSMClient} from '@aws-sdk/client-ssm'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startAwsServer, type AwsServer} from '../../aws-double/index.js'
import {ACCOUNT1, failure, REGION} from './helpers.js'

let server: AwsServer

beforeAll(async () => {
  server = await startAwsServer()
})
afterAll(async () => {
  await server.close()
})

type Credentials = ReturnType<AwsServer['credentials']>
const unknownKey = (): Credentials => ({accessKeyId: 'AKIAUNKNOWNKEY000000', secretAccessKey: 'not-a-secret-of-this-server'})
const wrongSecret = (): Credentials => ({...server.credentials(ACCOUNT1), secretAccessKey: 'the-wrong-secret'})

describe('authentication refusals', () => {
  for (const [refusal, credentials, name] of [
    ['an unknown access key', unknownKey, 'UnrecognizedClientException'],
    ['a wrong signature', wrongSecret, 'InvalidSignatureException'],
  ] as const) {
    it(`answers ${refusal} with ${name}: 403 from Lambda, 400 from SSM`, async () => {
      const config = {region: REGION, endpoint: server.endpoint, credentials: credentials(), maxAttempts: 1}
      const lambda = await failure(new LambdaClient(config).send(new ListFunctionsCommand({})))
      expect([lambda.name, lambda.$metadata.httpStatusCode]).toEqual([name, 403])
      const ssm = await failure(new SSMClient(config).send(new GetParameterCommand({Name: '/layers/x'})))
      expect([ssm.name, ssm.$metadata.httpStatusCode]).toEqual([name, 400])
    })
  }
})
