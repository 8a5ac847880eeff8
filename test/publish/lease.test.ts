// The team-state lease (src/publish/lease.ts) over the real S3 client against the local AWS test
// server's conditional writes: exclusive, waited for (and the wait says who holds it), released only
// if still ours, taken over once it is not renewed for a lease duration, lost when someone else
// overwrote it (the next hold() throws), and a bounded wait. Event-driven: no sleeps.
import {CreateBucketCommand, GetObjectCommand, PutObjectCommand} from '@aws-sdk/client-s3'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {leaseStoreApi} from '../../src/aws/s3-leases.js'
import type {LayersEvent} from '../../src/events.js'
import {Lease, leaseKey, leaseOwner, parseLeaseRecord, withLease, type LeaseConfig, type LeaseTarget} from '../../src/publish/lease.js'
import {startAwsServer, type AwsServer} from '../../aws-double/index.js'
import {ACCOUNT1, clients, type Clients} from '../aws-double/helpers.js'

const BUCKET = 'lease-bucket'
let server: AwsServer
let one: Clients

beforeAll(async () => {
  server = await startAwsServer()
  one = clients(server, ACCOUNT1, 'us-east-1', {maxAttempts: 3})
  await one.s3.send(new CreateBucketCommand({Bucket: BUCKET}))
})
afterAll(() => server.close())

function target(key: string): LeaseTarget {
  return {bucket: BUCKET, key, scope: `layer ${key}`, store: async () => leaseStoreApi(one.s3)}
}

function config(overrides: Partial<LeaseConfig> & {events?: LayersEvent[]; command?: string} = {}): LeaseConfig {
  const events = overrides.events ?? []
  return {owner: leaseOwner(overrides.command ?? 'test'), durationMs: 60_000, waitMs: 60_000, emit: (event) => events.push(event), ...overrides}
}

/** Resolves when `events` gets an event matching `test` (polled on the event loop, no fixed sleep). */
function when(events: LayersEvent[], test: (event: LayersEvent) => boolean): Promise<LayersEvent> {
  return new Promise((resolve) => {
    const check = (): void => {
      const found = events.find(test)
      if (found) resolve(found)
      else setImmediate(check)
    }
    check()
  })
}

async function body(key: string): Promise<string | undefined> {
  try {
    return await (await one.s3.send(new GetObjectCommand({Bucket: BUCKET, Key: key}))).Body!.transformToString()
  } catch {
    return undefined
  }
}

describe('lease', () => {
  it('has the documented key', () => {
    expect(leaseKey('layers/', 'config', '111111111111', 'eu-west-1')).toBe('layers/.layers-state/leases/config/111111111111/eu-west-1.json')
  })

  it('is exclusive: a second run waits, is told who holds it, and gets it when the first releases', async () => {
    const key = 'exclusive.json'
    const first = new Lease(config({command: 'first'}), target(key))
    await first.hold()
    const record = parseLeaseRecord((await body(key))!)!
    expect(record).toMatchObject({command: 'first', pid: process.pid, renewals: 0})
    const events: LayersEvent[] = []
    const second = new Lease(config({command: 'second', events}), target(key))
    const waiting = second.hold()
    const info = await when(events, (event) => event.type === 'info')
    expect(info).toMatchObject({message: expect.stringContaining(`held by first on ${record.host} (pid ${process.pid}) since ${record.acquiredAt}`)})
    expect(second.held).toBe(false)
    await first.release()
    await waiting
    expect(second.held).toBe(true)
    expect(parseLeaseRecord((await body(key))!)!.command).toBe('second')
    await second.release()
    expect(await body(key)).toBeUndefined()
  })

  it('takes over a lease not renewed for a whole duration (its holder died), with a warning naming it', async () => {
    const key = 'dead.json'
    const dead = JSON.stringify({owner: 'dead-run', host: 'ci-7', pid: 4242, command: 'layers publish', scope: 'x', acquiredAt: '2026-01-01T00:00:00.000Z', expiresAt: '2026-01-01T00:01:00.000Z', renewals: 3})
    await one.s3.send(new PutObjectCommand({Bucket: BUCKET, Key: key, Body: dead}))
    const events: LayersEvent[] = []
    await withLease(config({durationMs: 300, events}), target(key), async (lease) => {
      await lease!.hold()
      expect(parseLeaseRecord((await body(key))!)!.owner).not.toBe('dead-run')
    })
    expect(events.find((event) => event.type === 'warning')).toMatchObject({warning: {code: 'ERR_LAYERS_LEASE_TAKEN_OVER', message: expect.stringContaining('ci-7 (pid 4242)')}})
    expect(await body(key)).toBeUndefined()
  })

  it('renews while held; a lease overwritten by another run is lost: the next hold() throws and release leaves the other run\'s lease', async () => {
    const key = 'lost.json'
    const events: LayersEvent[] = []
    const lease = new Lease(config({durationMs: 300, events}), target(key))
    await lease.hold()
    // Renewed every 100 ms: the ETag changes, the record counts renewals.
    await new Promise<void>((resolve) => {
      const check = async (): Promise<void> => ((parseLeaseRecord((await body(key)) ?? '')?.renewals ?? 0) >= 1 ? resolve() : void setImmediate(() => void check()))
      void check()
    })
    await one.s3.send(new PutObjectCommand({Bucket: BUCKET, Key: key, Body: JSON.stringify({owner: 'thief', host: 'other', pid: 1, command: 'layers publish', acquiredAt: 'now', expiresAt: 'later'})}))
    await when(events, (event) => event.type === 'warning' && event.warning.code === 'ERR_LAYERS_LEASE_LOST')
    await expect(lease.hold()).rejects.toMatchObject({code: 'ERR_LAYERS_LEASE_LOST'})
    await lease.release()
    expect(parseLeaseRecord((await body(key))!)!.owner).toBe('thief')
  })

  it('gives up waiting after waitMs, naming the holder', async () => {
    const key = 'busy.json'
    const holder = new Lease(config({command: 'holder'}), target(key))
    await holder.hold()
    const waiter = new Lease(config({waitMs: 150}), target(key))
    await expect(waiter.hold()).rejects.toMatchObject({code: 'ERR_LAYERS_LEASE_TIMEOUT', message: expect.stringContaining('held by holder on')})
    await holder.release()
  })

  it('many runs at once: exactly one holds it at any time', async () => {
    const key = 'crowd.json'
    let inside = 0
    let most = 0
    await Promise.all(
      Array.from({length: 6}, () =>
        withLease(config({durationMs: 5000}), target(key), async (lease) => {
          await lease!.hold()
          inside++
          most = Math.max(most, inside)
          await body(key)
          inside--
        }),
      ),
    )
    expect(most).toBe(1)
    expect(await body(key)).toBeUndefined()
  })
})

describe('answers lost after S3 applied the write (the SDK retries the same request)', () => {
  const writes = (key: string, operation: string): number => server.calls.filter((call) => call.operation === operation && call.key === key).length
  const lost = (key: string, operation: string): number => server.calls.filter((call) => call.operation === operation && call.key === key && call.fault === 'lost').length

  it.each(['reset', 'error'] as const)('a create whose answer is lost (%s) is recognised as ours on the retry: held, not waited for', async (loseAnswerAs) => {
    const key = `lost-create-${loseAnswerAs}.json`
    const events: LayersEvent[] = []
    const before = writes(key, 'PutObject')
    server.setFaults({loseAnswers: 1, loseAnswerAs, operations: ['PutObject']})
    const lease = new Lease(config({waitMs: 150, events}), target(key))
    try {
      await lease.hold()
    } finally {
      server.setFaults(undefined)
    }
    expect(lease.held).toBe(true)
    // The first PutObject was applied (its answer lost), the retry got 412: two writes, one lease.
    expect(writes(key, 'PutObject') - before).toBe(2)
    expect(lost(key, 'PutObject')).toBe(1)
    expect(events.filter((event) => event.type === 'info' || event.type === 'warning')).toEqual([])
    await lease.release()
    expect(await body(key)).toBeUndefined()
  })

  it('a renewal whose answer is lost keeps the lease (the retry sees our own body under a new ETag), and release still deletes it', async () => {
    const key = 'lost-renewal.json'
    const events: LayersEvent[] = []
    const lease = new Lease(config({durationMs: 300, events}), target(key))
    await lease.hold()
    server.setFaults({loseAnswers: 1, operations: ['PutObject']})
    // Resolves once the stored record counts n renewals; rejects at once if the lease was lost.
    const renewed = (n: number) =>
      new Promise<void>((resolve, reject) => {
        const check = async (): Promise<void> => {
          const warning = events.find((event) => event.type === 'warning')
          if (warning) return reject(new Error(JSON.stringify(warning)))
          if ((parseLeaseRecord((await body(key)) ?? '')?.renewals ?? 0) >= n) return resolve()
          setImmediate(() => void check())
        }
        void check()
      })
    await renewed(1)
    server.setFaults(undefined)
    // A later renewal goes through with the ETag adopted from the lost one.
    await renewed(2)
    expect(lost(key, 'PutObject')).toBe(1)
    await lease.hold()
    expect(events.filter((event) => event.type === 'warning')).toEqual([])
    await lease.release()
    expect(await body(key)).toBeUndefined()
  })

  it('a release whose answer is lost leaves nothing behind and warns of nothing', async () => {
    const key = 'lost-release.json'
    const events: LayersEvent[] = []
    const lease = new Lease(config({events}), target(key))
    await lease.hold()
    server.setFaults({loseAnswers: 1, operations: ['DeleteObject']})
    try {
      await lease.release()
    } finally {
      server.setFaults(undefined)
    }
    expect(lost(key, 'DeleteObject')).toBe(1)
    expect(await body(key)).toBeUndefined()
    expect(events.filter((event) => event.type === 'warning')).toEqual([])
  })
})

describe('a holder of this host that no longer runs', () => {
  it('is taken over at once (a killed run, rerun on the same machine); a live one is not', async () => {
    const key = 'rerun.json'
    const me = leaseOwner('rerun')
    // A pid that is not running here: a child that has exited.
    const {spawnSync} = await import('node:child_process')
    const gone = spawnSync(process.execPath, ['-e', '']).pid!
    const stale = {owner: 'killed', host: me.host, pid: gone, command: 'layers publish', scope: 'x', acquiredAt: '2026-01-01T00:00:00.000Z', expiresAt: '2099-01-01T00:00:00.000Z', renewals: 0}
    await one.s3.send(new PutObjectCommand({Bucket: BUCKET, Key: key, Body: JSON.stringify(stale)}))
    const events: LayersEvent[] = []
    await withLease(config({owner: me, events}), target(key), (lease) => lease!.hold())
    expect(events.find((event) => event.type === 'warning')).toMatchObject({warning: {code: 'ERR_LAYERS_LEASE_TAKEN_OVER', message: expect.stringContaining('no longer runs on this host')}})
    // Alive (this very test process, seen from another run's owner): waited for, not taken over.
    await one.s3.send(new PutObjectCommand({Bucket: BUCKET, Key: key, Body: JSON.stringify({...stale, pid: process.pid})}))
    await expect(new Lease(config({owner: {...me, pid: process.pid + 1}, waitMs: 150}), target(key)).hold()).rejects.toMatchObject({code: 'ERR_LAYERS_LEASE_TIMEOUT'})
  })
})
