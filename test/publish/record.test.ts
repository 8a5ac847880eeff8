import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import {readLockfile, writeLockfile} from '../../src/lock/io.js'
import {publicationRecorder} from '../../src/publish/record.js'
import {openStateDatabase} from '../../src/store/db.js'

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, {recursive: true, force: true})
})

describe('publicationRecorder', () => {
  it('records concurrent publications in the lockfile and the history, each promise resolving once it is on disk', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'layers-record-'))
    dirs.push(dir)
    const file = path.join(dir, 'lockfile.json')
    await writeLockfile(file, {
      lockfileVersion: 1,
      layers: {
        a: {kind: 'dir', inputs: 'x', artifacts: {x86_64: {architectures: ['x86_64']}}},
        gone: {kind: 'arn', inputs: 'y', arns: {}},
      },
    })
    const db = openStateDatabase(path.join(dir, '.layers'))
    const recorder = publicationRecorder(file, db)
    const regions = Array.from({length: 30}, (_, index) => `region-${index}`)
    await Promise.all(
      regions.map(async (region, index) => {
        await recorder.record({layer: 'a', artifactKey: 'x86_64', accountId: '111111111111', region, publication: {arn: `arn:aws:lambda:${region}:111111111111:layer:a:${index + 1}`, version: index + 1, codeSha256: 'c'}})
        // resolved: already in the file
        const lock = await readLockfile(file)
        expect(lock?.layers.a?.kind === 'dir' && lock.layers.a.published?.['111111111111']?.[region]?.x86_64?.version).toBe(index + 1)
      }),
    )
    // a record for a layer the lock does not hold as an own layer is dropped, not invented
    await recorder.record({layer: 'gone', artifactKey: 'x86_64', accountId: '111111111111', region: 'eu-west-1', publication: {arn: 'arn:aws:lambda:eu-west-1:111111111111:layer:gone:1', version: 1, codeSha256: 'c'}})
    const lock = await readLockfile(file)
    expect(lock?.layers.gone).toEqual({kind: 'arn', inputs: 'y', arns: {}})
    expect(Object.keys((lock?.layers.a as {published: Record<string, object>}).published['111111111111']!)).toHaveLength(30)
    expect((db.prepare('SELECT COUNT(*) AS n FROM publications WHERE layer = ?').get('a') as {n: number}).n).toBe(30)
    db.close()
  })

  it('refuses to record an ARN of another account, region or layer, and leaves the lockfile as it was', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'layers-record-'))
    dirs.push(dir)
    const file = path.join(dir, 'lockfile.json')
    await writeLockfile(file, {lockfileVersion: 1, layers: {a: {kind: 'dir', inputs: 'x', artifacts: {x86_64: {architectures: ['x86_64']}}}}})
    const before = readFileSync(file, 'utf8')
    const recorder = publicationRecorder(file, undefined)
    const record = (arn: string) => recorder.record({layer: 'a', artifactKey: 'x86_64', accountId: '111111111111', region: 'eu-west-1', publication: {arn, version: 1, codeSha256: 'c'}})
    for (const arn of ['arn:aws:lambda:eu-west-1:222222222222:layer:a:1', 'arn:aws:lambda:us-east-1:111111111111:layer:a:1', 'arn:aws:lambda:eu-west-1:111111111111:layer:b:1', 'not-an-arn']) {
      await expect(record(arn)).rejects.toMatchObject({code: 'ERR_LAYERS_FOREIGN_PUBLICATION', details: {account: '111111111111', region: 'eu-west-1', arn}})
    }
    expect(readFileSync(file, 'utf8')).toBe(before)
    // the partition is part of the ARN, not of the check: an aws-cn version of the same account and region is recorded
    await recorder.record({layer: 'a', artifactKey: 'x86_64', accountId: '111111111111', region: 'cn-north-1', publication: {arn: 'arn:aws-cn:lambda:cn-north-1:111111111111:layer:a:1', version: 1, codeSha256: 'c'}})
    const lock = await readLockfile(file)
    expect(lock?.layers.a?.kind === 'dir' && lock.layers.a.published?.['111111111111']?.['cn-north-1']?.x86_64?.arn).toBe('arn:aws-cn:lambda:cn-north-1:111111111111:layer:a:1')
  })
})
