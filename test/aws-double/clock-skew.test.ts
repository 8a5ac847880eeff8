// Contract: a server whose clock runs 20 minutes ahead of the host's refuses what AWS refuses (an
// X-Amz-Date more than 5 minutes from its clock for Lambda, 15 for STS and S3) with AWS's errors and
// messages, accepts a signature within the limit, and tells its clock in every answer's Date header.
import {ListFunctionsCommand, LambdaClient} from '@aws-sdk/client-lambda'
import {ListBucketsCommand, S3Client} from '@aws-sdk/client-s3'
import {GetCallerIdentityCommand, STSClient} from '@aws-sdk/client-sts'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startAwsServer, type AwsServer} from '../../aws-double/index.js'
import {ACCOUNT1, failure, REGION} from './helpers.js'

const AHEAD_MS = 20 * 60_000

let server: AwsServer

beforeAll(async () => {
  server = await startAwsServer({clockOffsetMs: AHEAD_MS})
})
afterAll(async () => {
  await server.close()
})

/** Clients of account 1 signing at the host's clock shifted by `offsetMs`, with no retries (and so no skew correction). */
function signingAt(offsetMs: number) {
  const config = {region: REGION, endpoint: server.endpoint, credentials: server.credentials(ACCOUNT1), maxAttempts: 1, systemClockOffset: offsetMs}
  return {lambda: new LambdaClient(config), sts: new STSClient(config), s3: new S3Client({...config, forcePathStyle: true})}
}

const STAMP = /\d{8}T\d{6}Z/.source

/** Parses an X-Amz-Date stamp (20260102T030405Z). */
function stampTime(stamp: string): number {
  return Date.parse(stamp.replace(/^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/, '$1-$2-$3T$4:$5:$6Z'))
}

describe('a server clock 20 minutes ahead', () => {
  it('refuses a Lambda request signed at the host clock: 403 InvalidSignatureException "Signature expired", its Date header on the server clock', async () => {
    const error = (await failure(signingAt(0).lambda.send(new ListFunctionsCommand({})))) as Awaited<ReturnType<typeof failure>> & {$response?: {headers: Record<string, string>}}
    expect(error.name).toBe('InvalidSignatureException')
    expect(error.$metadata.httpStatusCode).toBe(403)
    const match = new RegExp(`^Signature expired: (${STAMP}) is now earlier than (${STAMP}) \\((${STAMP}) - 5 min\\.\\)$`).exec(error.message)
    expect(match, error.message).not.toBeNull()
    const [signed, earliest, now] = match!.slice(1).map(stampTime) as [number, number, number]
    expect(now - earliest).toBe(5 * 60_000)
    expect(Math.abs(now - signed - AHEAD_MS)).toBeLessThan(5_000)
    const date = Date.parse(error.$response!.headers.date!)
    expect(Math.abs(date - (Date.now() + AHEAD_MS))).toBeLessThan(5_000)
    expect(server.calls.at(-1)).toMatchObject({service: 'lambda', operation: 'ListFunctions', status: 403})
  })

  it('refuses a signature more than 5 minutes ahead of its clock: "Signature not yet current"', async () => {
    const error = await failure(signingAt(AHEAD_MS + 6 * 60_000).lambda.send(new ListFunctionsCommand({})))
    expect(error.name).toBe('InvalidSignatureException')
    expect(error.message).toMatch(new RegExp(`^Signature not yet current: ${STAMP} is still later than ${STAMP} \\(${STAMP} \\+ 5 min\\.\\)$`))
  })

  it('accepts a Lambda signature 4 minutes off, and an STS one 10 minutes off (its limit is 15)', async () => {
    expect((await signingAt(AHEAD_MS - 4 * 60_000).lambda.send(new ListFunctionsCommand({}))).Functions).toEqual([])
    expect((await signingAt(AHEAD_MS - 10 * 60_000).sts.send(new GetCallerIdentityCommand({}))).Account).toBe(ACCOUNT1)
  })

  it('refuses STS with SignatureDoesNotMatch and S3 with RequestTimeTooSkewed past 15 minutes', async () => {
    const sts = await failure(signingAt(0).sts.send(new GetCallerIdentityCommand({})))
    expect(sts.name).toBe('SignatureDoesNotMatch')
    expect(sts.message).toMatch(/^Signature expired: .* - 15 min\.\)$/)
    const s3 = (await failure(signingAt(0).s3.send(new ListBucketsCommand({})))) as Awaited<ReturnType<typeof failure>> & {MaxAllowedSkewMilliseconds?: string}
    expect(s3.name).toBe('RequestTimeTooSkewed')
    expect(s3.$metadata.httpStatusCode).toBe(403)
    expect(s3.MaxAllowedSkewMilliseconds).toBe('900000')
  })
})
