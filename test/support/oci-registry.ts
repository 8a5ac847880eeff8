// A real OCI distribution registry on 127.0.0.1 for tests: Debian's `docker-registry` (the reference
// server, distribution 2.8) with a temp filesystem root and htpasswd Basic auth for user `AWS` (as ECR's
// GetAuthorizationToken hands out), started on a free loopback port and stopped (temp dir removed) by
// close(). `requests` parses the registry's access log (stdout, combined log format), so a test can
// count what a client really sent (e.g. that a second push uploads no blob).
import {spawn, type ChildProcess} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {createServer, type AddressInfo} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

export const REGISTRY_BINARY = '/usr/bin/docker-registry'
export const REGISTRY_USER = 'AWS'
/** The fixed test password; REGISTRY_PASSWORD_BCRYPT is its bcrypt hash (cost 5), the only scheme htpasswd auth takes. */
export const REGISTRY_PASSWORD = 'layers-test-password'
const REGISTRY_PASSWORD_BCRYPT = '$2b$05$abcdefghijklmnopqrstuuJE2R9X4H86VsPOt42w0JRwpa1DIE9sK'

export interface RegistryRequest {
  method: string
  /** The request path with its query, as sent. */
  uri: string
  status: number
}

export interface OciRegistry {
  /** http://127.0.0.1:PORT */
  url: string
  /** 127.0.0.1:PORT, as image references name it. */
  host: string
  username: string
  password: string
  /** Every request the registry answered so far, in order (from its access log). */
  readonly requests: RegistryRequest[]
  /** `requests` once the access log has caught up with the answers already sent. */
  settled(): Promise<RegistryRequest[]>
  close(): Promise<void>
}

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const {port} = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

function configYaml(root: string, port: number): string {
  return [
    'version: 0.1',
    'log:',
    '  level: warn',
    '  accesslog:',
    '    disabled: false',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${join(root, 'data')}`,
    '  maintenance:',
    '    uploadpurging:',
    '      enabled: false',
    'http:',
    `  addr: 127.0.0.1:${port}`,
    '  secret: layers-test-registry',
    'auth:',
    '  htpasswd:',
    '    realm: layers-test',
    `    path: ${join(root, 'htpasswd')}`,
    '',
  ].join('\n')
}

const ACCESS_LINE = /^\S+ \S+ \S+ \[[^\]]+\] "(\S+) (\S+) [^"]*" (\d{3}) /

/** Waits until GET /v2/ answers 401 (up and asking for auth), or the process exits, or 10 s pass. */
async function waitReady(url: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 10_000
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`oci-registry: docker-registry exited with ${child.exitCode} before listening:\n${output()}`)
    const status = await fetch(`${url}/v2/`, {signal: AbortSignal.timeout(1000)}).then(
      (response) => response.status,
      () => 0,
    )
    if (status === 401) return
    if (status !== 0) throw new Error(`oci-registry: GET ${url}/v2/ answered ${status}, expected 401 (auth required)`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`oci-registry: ${url}/v2/ did not answer within 10 s:\n${output()}`)
}

export async function startOciRegistry(): Promise<OciRegistry> {
  const root = mkdtempSync(join(tmpdir(), 'layers-oci-registry-'))
  writeFileSync(join(root, 'htpasswd'), `${REGISTRY_USER}:${REGISTRY_PASSWORD_BCRYPT}\n`)
  const port = await freePort()
  const configFile = join(root, 'config.yml')
  writeFileSync(configFile, configYaml(root, port))
  const child = spawn(REGISTRY_BINARY, ['serve', configFile], {stdio: ['ignore', 'pipe', 'pipe']})
  const requests: RegistryRequest[] = []
  let stdout = ''
  let stderr = ''
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk
    let newline: number
    while ((newline = stdout.indexOf('\n')) >= 0) {
      const line = stdout.slice(0, newline)
      stdout = stdout.slice(newline + 1)
      const match = ACCESS_LINE.exec(line)
      if (match) requests.push({method: match[1]!, uri: match[2]!, status: Number(match[3])})
    }
  })
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-8000)
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const close = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM')
      const killTimer = setTimeout(() => child.kill('SIGKILL'), 5000)
      await exited
      clearTimeout(killTimer)
    }
    rmSync(root, {recursive: true, force: true})
  }
  const url = `http://127.0.0.1:${port}`
  try {
    await waitReady(url, child, () => stderr)
  } catch (error) {
    await close()
    throw error
  }
  const settled = async (): Promise<RegistryRequest[]> => {
    // The access log line is written after the answer: wait until no new line came for 100 ms.
    let seen = -1
    while (seen !== requests.length) {
      seen = requests.length
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    return requests
  }
  return {url, host: `127.0.0.1:${port}`, username: REGISTRY_USER, password: REGISTRY_PASSWORD, requests, settled, close}
}
