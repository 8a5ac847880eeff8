// runPublish on an interrupt, with a publish API whose PublishLayerVersion answers only when the test
// lets it: the interrupt lands while that call is in flight (deterministically). The version it makes
// is awaited and recorded (and the recorder flushed) before InterruptedError; no later unit starts a
// write; an unknown outcome is looked up once, never sent again.
import {describe, expect, it} from 'vitest'
import type {LayerPublishApi, LayerVersionInfo, PublishVersionInput} from '../../src/aws/lambda-layers.js'
import type {ArtifactStoreApi} from '../../src/aws/s3-artifacts.js'
import {InterruptedError} from '../../src/errors/index.js'
import {silent} from '../../src/events.js'
import {CONTENT_MARKER, describedContent, type PublishPlan, type PublishUnit} from '../../src/publish/plan.js'
import type {PublicationRecord, PublicationRecorder} from '../../src/publish/record.js'
import {runPublish, type PublishEnv, type UnitOutcome} from '../../src/publish/run.js'

const ACCOUNT = '111111111111'
const SHA_HEX = 'ab'.repeat(32)

function unit(layer: string, region: string): PublishUnit {
  return {
    layer,
    artifactKey: 'x86_64',
    architectures: ['x86_64'],
    runtimes: ['nodejs22.x'],
    target: {accountName: 'dev', accountId: ACCOUNT, region},
    content: {layer, artifactKey: 'x86_64', codeSha256: Buffer.from(SHA_HEX, 'hex').toString('base64'), sha256Hex: SHA_HEX, zipBytes: 10, unzippedBytes: 10, zipPath: '/nonexistent.zip'},
    bucket: `b-${region}`,
    key: `${layer}/${SHA_HEX}.zip`,
    description: `${CONTENT_MARKER}${SHA_HEX}`,
    sbom: {key: `${layer}/${SHA_HEX}.cdx.json`, text: '{}\n', sha256Hex: SHA_HEX},
    grants: [],
  }
}

interface Fake {
  env: PublishEnv
  calls: string[]
  /** Resolves when the first PublishLayerVersion has been sent. */
  sent: Promise<void>
  /** Lets the held PublishLayerVersion answer (or fail with an unknown outcome after applying it). */
  answer(how: 'ok' | 'lost'): void
  versions: LayerVersionInfo[]
}

function fake(): Fake {
  const calls: string[] = []
  const versions: LayerVersionInfo[] = []
  let markSent!: () => void
  const sent = new Promise<void>((resolve) => (markSent = resolve))
  let release!: (how: 'ok' | 'lost') => void
  const held = new Promise<'ok' | 'lost'>((resolve) => (release = resolve))
  const api: LayerPublishApi = {
    async listVersions(layerName) {
      calls.push(`list ${layerName}`)
      return versions.filter((version) => version.arn.includes(`:layer:${layerName}:`))
    },
    async getVersion(layerName, version) {
      calls.push(`get ${layerName}:${version}`)
      return versions.find((info) => info.arn.endsWith(`:layer:${layerName}:${version}`))
    },
    async readByArn() {
      return undefined
    },
    async publish(input: PublishVersionInput) {
      calls.push(`publish ${input.layerName}`)
      markSent()
      const how = await held
      const info: LayerVersionInfo = {arn: `arn:aws:lambda:eu-west-1:${ACCOUNT}:layer:${input.layerName}:1`, version: 1, description: input.description, codeSha256: Buffer.from(SHA_HEX, 'hex').toString('base64')}
      versions.push(info)
      if (how === 'lost') throw Object.assign(new Error('socket hang up'), {name: 'TimeoutError'})
      return info
    },
    async getGrants() {
      return undefined
    },
    async addGrant() {},
    async removeGrant() {},
    async deleteVersion() {
      throw new Error('an interrupted publish deletes nothing')
    },
    async layerArnsInUse() {
      return new Set<string>()
    },
  }
  const store: ArtifactStoreApi = {
    async bucketState() {
      return 'exists'
    },
    async createBucket() {},
    async objectSize() {
      return 10
    },
    async upload() {
      calls.push('upload')
      return true
    },
    async putObject() {
      calls.push('put sbom')
    },
    async readObject() {
      return undefined
    },
  }
  return {
    env: {layersApi: async () => api, store: async () => store},
    calls,
    sent,
    answer: (how) => release(how),
    versions,
  }
}

function recorder(): PublicationRecorder & {records: PublicationRecord[]; flushed: number} {
  const records: PublicationRecord[] = []
  const self = {
    records,
    flushed: 0,
    async record(record: PublicationRecord) {
      records.push(record)
    },
    async flush() {
      self.flushed++
    },
  }
  return self
}

const PLAN: PublishPlan = {units: [unit('deps', 'eu-west-1'), unit('deps', 'us-east-1'), unit('tools', 'eu-west-1')], arnChecks: [{layer: 'shared', target: {accountName: 'dev', accountId: ACCOUNT, region: 'eu-west-1'}, arn: 'arn:aws:lambda:eu-west-1:1:layer:x:1'}]}

async function interruptedRun(how: 'ok' | 'lost') {
  const env = fake()
  const rec = recorder()
  const controller = new AbortController()
  const running = runPublish(PLAN, env.env, {dryRun: false, createBucket: false, concurrency: 1, recorder: rec, emit: silent, retryBaseMs: 1, signal: controller.signal})
  await env.sent
  controller.abort(Object.assign(new Error('Interrupted by SIGINT'), {name: 'AbortError', signal: 'SIGINT'}))
  env.answer(how)
  const error = await running.then(
    () => undefined,
    (thrown: unknown) => thrown,
  )
  return {env, rec, error}
}

describe('runPublish interrupted while PublishLayerVersion is in flight', () => {
  it('awaits the version, records it, flushes the recorder, starts no other unit and reports it', async () => {
    const {env, rec, error} = await interruptedRun('ok')
    expect(error).toBeInstanceOf(InterruptedError)
    const interrupted = error as InterruptedError
    expect(interrupted.exitCode).toBe(130)
    const units = interrupted.details.units as UnitOutcome[]
    expect(units.map((outcome) => [outcome.layer, outcome.region, outcome.status])).toEqual([
      ['deps', 'eu-west-1', 'published'],
      ['deps', 'us-east-1', 'not-started'],
      ['tools', 'eu-west-1', 'not-started'],
    ])
    expect(units[0]!.arn).toBe(`arn:aws:lambda:eu-west-1:${ACCOUNT}:layer:deps:1`)
    expect(rec.records.map((record) => record.publication.arn)).toEqual([units[0]!.arn])
    expect(rec.flushed).toBe(1)
    expect(env.calls.filter((call) => call.startsWith('publish'))).toEqual(['publish deps'])
    expect(interrupted.details.arnChecks).toEqual([])
    expect(interrupted.message).toContain(`published: deps (x86_64) dev/eu-west-1 ${units[0]!.arn}`)
    expect(interrupted.message).toContain('not started: tools (x86_64) dev/eu-west-1')
    expect(interrupted.message).toContain('not checked: 1 pinned ARN(s)')
  })

  it('after a lost answer it looks the version up once (found: recorded) and does not send it again', async () => {
    const {env, rec, error} = await interruptedRun('lost')
    const units = (error as InterruptedError).details.units as UnitOutcome[]
    expect(units[0]).toMatchObject({status: 'published', arn: `arn:aws:lambda:eu-west-1:${ACCOUNT}:layer:deps:1`})
    expect(rec.records).toHaveLength(1)
    expect(env.calls.filter((call) => call.startsWith('publish'))).toEqual(['publish deps'])
    expect(describedContent(env.versions[0]!.description)).toBe(SHA_HEX)
  })
})
