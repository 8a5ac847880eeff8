// Shared pieces of the local AWS test server: the parsed request every service handler receives, the
// reply it returns, the error it throws (each service renders it in its own wire format), and small
// formatting helpers (AWS timestamps, XML escaping, opaque ids).
import {createHash, randomBytes, randomUUID} from 'node:crypto'
import type {IncomingHttpHeaders} from 'node:http'

export const SERVICES = ['lambda', 's3', 'sts', 'organizations', 'account', 'ssm', 'ecr'] as const
export type ServiceName = (typeof SERVICES)[number]

/** The accounts a server knows when the test names none: access key id -> account id. */
export const DEFAULT_ACCOUNTS: Readonly<Record<string, string>> = {AKIDACCOUNT1: '111111111111', AKIDACCOUNT2: '222222222222'}

/** A request after authentication: who calls, where, and what. */
export interface RequestContext {
  service: ServiceName
  operation: string
  method: string
  url: URL
  headers: IncomingHttpHeaders
  body: Buffer
  accountId: string
  region: string
  /** The caller's ARN as GetCallerIdentity reports it. */
  callerArn: string
  /** Origin of this server (http://127.0.0.1:PORT), for URLs the responses carry. */
  endpoint: string
  /** When the request arrived, on the server's `tick()` clock: what changed after it was in flight. */
  received: number
}

export interface Reply {
  status: number
  headers?: Record<string, string>
  body?: Buffer | string
}

/** An AWS error: the HTTP status, the error code (the SDK's exception name) and the message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Extra members of the error body (Lambda JSON) or extra XML elements (S3). */
    readonly extra: Record<string, string> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message)
  }
}

/** Lambda's timestamp format: 2026-01-02T03:04:05.678+0000. */
export function awsDate(time: number): string {
  return new Date(time).toISOString().replace('Z', '+0000')
}

export function xmlEscape(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;')
}

let clockOffsetMs = 0

/** Shifts the server's wall clock from the host's by `ms` (AwsServerOptions.clockOffsetMs): AWS's clock, not the caller's. */
export function setClockOffset(ms: number): void {
  clockOffsetMs = ms
}

/** The server's wall clock (ms since the epoch): what signatures are checked against, the Date header and every timestamp it hands out. */
export function serverNow(): number {
  return Date.now() + clockOffsetMs
}

let clock = 0

/**
 * The server's logical clock: one step per request arrival and per stored change, so a handler can
 * tell whether something changed while its request was in flight (S3's ConditionalRequestConflict).
 */
export function tick(): number {
  return ++clock
}

export function requestId(): string {
  return randomUUID()
}

export function revisionId(): string {
  return randomUUID()
}

export function token(bytes = 16): string {
  return randomBytes(bytes).toString('hex')
}

export function sha256(data: Buffer | string): Buffer {
  return createHash('sha256').update(data).digest()
}

export function md5(data: Buffer | string): Buffer {
  return createHash('md5').update(data).digest()
}

/** Reads the first value of a header. */
export function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name.toLowerCase()]
  return Array.isArray(value) ? value[0] : value
}

/** The operation an AWS JSON 1.1 request names in X-Amz-Target (`<prefix><Operation>`), as SSM, ECR and Organizations take them. */
export function json11Operation(prefix: string, target: string | undefined): string {
  return target?.startsWith(prefix) ? target.slice(prefix.length) : 'UnknownOperation'
}

/** An AWS JSON 1.1 success reply. */
export function json11(body: unknown): Reply {
  return {status: 200, headers: {'content-type': 'application/x-amz-json-1.1'}, body: JSON.stringify(body)}
}

/** The AWS JSON 1.1 error body the SDK reads (`__type` and `message`). */
export function json11Error(error: ApiError, requestId: string): Reply {
  return {
    status: error.status,
    headers: {'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': requestId, ...error.headers},
    body: JSON.stringify({__type: error.code, message: error.message, ...error.extra}),
  }
}
