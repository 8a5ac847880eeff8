// The artifact store's upload progress: a multipart upload (a zip larger than one part) reports the
// bytes sent after each part, ending at the whole size; a single PUT reports nothing. An interrupt
// cancels an upload in flight and stores nothing.
import {CreateBucketCommand, HeadObjectCommand} from '@aws-sdk/client-s3'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startAwsServer, type AwsServer} from '../../aws-double/index.js'
import {artifactStoreApi} from '../../src/aws/s3-artifacts.js'
import {ACCOUNT1, clients} from '../aws-double/helpers.js'

const PART = 5 * 1024 * 1024
let server: AwsServer
let dir: string

beforeAll(async () => {
  server = await startAwsServer()
  await clients(server, ACCOUNT1).s3.send(new CreateBucketCommand({Bucket: 'progress'}))
  dir = mkdtempSync(path.join(tmpdir(), 'layers-upload-progress-'))
})
afterAll(async () => {
  await server.close()
  rmSync(dir, {recursive: true, force: true})
})

describe('artifact upload progress', () => {
  it('reports bytes sent per part of a multipart upload, and nothing for a single PUT', async () => {
    const store = artifactStoreApi(clients(server, ACCOUNT1).s3, {partSize: PART})
    const big = path.join(dir, 'big.zip')
    const bytes = 2 * PART + 1000
    writeFileSync(big, Buffer.alloc(bytes, 7))
    const seen: Array<[number, number]> = []
    await store.upload({bucket: 'progress', key: 'big.zip', file: big, bytes, sha256Base64: '', onProgress: (sent, total) => seen.push([sent, total])})
    expect(seen.length).toBeGreaterThanOrEqual(2)
    expect(seen.every(([, total]) => total === bytes)).toBe(true)
    expect(Math.max(...seen.map(([sent]) => sent))).toBe(bytes)

    const small = path.join(dir, 'small.zip')
    writeFileSync(small, Buffer.from('tiny'))
    const none: number[] = []
    const {createHash} = await import('node:crypto')
    await store.upload({bucket: 'progress', key: 'small.zip', file: small, bytes: 4, sha256Base64: createHash('sha256').update('tiny').digest('base64'), onProgress: (sent) => none.push(sent)})
    expect(none).toEqual([])
  })

  it('cancels a multipart upload when interrupted: nothing is stored and the upload says so', async () => {
    const s3 = clients(server, ACCOUNT1).s3
    const store = artifactStoreApi(s3, {partSize: PART})
    const big = path.join(dir, 'cancelled.zip')
    const bytes = 6 * PART
    writeFileSync(big, Buffer.alloc(bytes, 9))
    const interrupt = new AbortController()
    const stored = await store.upload({bucket: 'progress', key: 'cancelled.zip', file: big, bytes, sha256Base64: '', signal: interrupt.signal, onProgress: () => interrupt.abort()})
    expect(stored).toBe(false)
    const head = await s3.send(new HeadObjectCommand({Bucket: 'progress', Key: 'cancelled.zip'})).then(
      () => 'found',
      (error: {name?: string}) => error.name,
    )
    expect(head).toBe('NotFound')
    expect(await store.upload({bucket: 'progress', key: 'cancelled.zip', file: big, bytes, sha256Base64: '', signal: interrupt.signal})).toBe(false)
  })
})
