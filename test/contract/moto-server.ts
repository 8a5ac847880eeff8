// The moto server the contract suite runs against: MOTO_ENDPOINT when set (.ci/moto.sh starts one),
// else a `moto_server` on PATH started on a free loopback port for the file (and stopped after it),
// else none (the suite fails under CI and is skipped elsewhere, saying how to install moto). Also
// the two moto-specific calls the suite makes: resetting its state and creating the IAM role that
// moto's CreateFunction insists on (the project has no IAM SDK client; moto takes the query API).
import {spawn, type ChildProcess} from 'node:child_process'
import {accessSync, constants} from 'node:fs'
import path from 'node:path'

export const MOTO_VERSION = '5.2.1'
export const MOTO_INSTALL = `pip install "moto[server]==${MOTO_VERSION}"`

export type MotoSource = {kind: 'endpoint'; endpoint: string} | {kind: 'binary'; file: string} | {kind: 'absent'}

/** Where the suite's moto comes from, decided without starting anything (at collection time). */
export function motoSource(env: NodeJS.ProcessEnv = process.env): MotoSource {
  if (env.MOTO_ENDPOINT) return {kind: 'endpoint', endpoint: env.MOTO_ENDPOINT.replace(/\/+$/, '')}
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue
    const file = path.join(dir, 'moto_server')
    try {
      accessSync(file, constants.X_OK)
      return {kind: 'binary', file}
    } catch {
      // not in this directory
    }
  }
  return {kind: 'absent'}
}

export interface Moto {
  endpoint: string
  stop(): Promise<void>
}

const START_TIMEOUT_MS = 30_000

/** The endpoint of MOTO_ENDPOINT, or a moto_server started on 127.0.0.1 (port 0: it takes a free one and prints it). */
export async function startMoto(source: Exclude<MotoSource, {kind: 'absent'}>): Promise<Moto> {
  if (source.kind === 'endpoint') return {endpoint: source.endpoint, stop: async () => {}}
  // MOTO_ACCOUNT_ID would put every request in one account, whatever the credentials.
  const {MOTO_ACCOUNT_ID: _ignored, ...env} = process.env
  const child = spawn(source.file, ['-H', '127.0.0.1', '-p', '0'], {env, stdio: ['ignore', 'pipe', 'pipe']})
  const endpoint = await new Promise<string>((resolve, reject) => {
    let output = ''
    const timer = setTimeout(() => fail(new Error(`moto_server printed no address within ${START_TIMEOUT_MS / 1000} s:\n${output}`)), START_TIMEOUT_MS)
    const fail = (error: Error) => {
      clearTimeout(timer)
      child.kill('SIGKILL')
      reject(error)
    }
    const read = (chunk: Buffer) => {
      output += chunk.toString('utf8')
      const match = /Running on (http:\/\/127\.0\.0\.1:\d+)/.exec(output)
      if (match) {
        clearTimeout(timer)
        resolve(match[1]!)
      }
    }
    child.stdout!.on('data', read)
    child.stderr!.on('data', read)
    child.once('error', fail)
    child.once('exit', (code, signal) => fail(new Error(`moto_server exited (${signal ?? code}) before it served:\n${output}`)))
  })
  return {endpoint, stop: () => stopChild(child)}
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 5_000)
    child.once('exit', () => {
      clearTimeout(force)
      resolve()
    })
    child.kill('SIGTERM')
  })
}

/** Empties every moto backend (a server shared with earlier runs starts clean). */
export async function resetMoto(endpoint: string): Promise<void> {
  const response = await fetch(`${endpoint}/moto-api/reset`, {method: 'POST'})
  if (!response.ok) throw new Error(`moto reset answered ${response.status}`)
}

/** IAM CreateRole in the account of `accessKey` (moto's CreateFunction needs the role to exist). */
export async function createRole(endpoint: string, accessKey: string, roleName: string): Promise<string> {
  const trust = JSON.stringify({Version: '2012-10-17', Statement: [{Effect: 'Allow', Principal: {Service: 'lambda.amazonaws.com'}, Action: 'sts:AssumeRole'}]})
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      // moto reads the service and the access key (its account) from the credential scope; it checks no signature.
      authorization: `AWS4-HMAC-SHA256 Credential=${accessKey}/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body: new URLSearchParams({Action: 'CreateRole', Version: '2010-05-08', RoleName: roleName, AssumeRolePolicyDocument: trust}).toString(),
  })
  const text = await response.text()
  const arn = /<Arn>([^<]+)<\/Arn>/.exec(text)?.[1]
  if (!response.ok || !arn) throw new Error(`IAM CreateRole ${roleName} answered ${response.status}: ${text.slice(0, 300)}`)
  return arn
}
