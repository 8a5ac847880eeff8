// publicationRecorder.flush: an interrupted publish waits on it before it ends, so every record
// handed over (even by a unit nobody awaits any more) is in lockfile.json when the process exits.
import {mkdtempSync, readdirSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import {readLockfile, writeLockfile} from '../../src/lock/io.js'
import {publicationRecorder} from '../../src/publish/record.js'

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, {recursive: true, force: true})
})

describe('publicationRecorder.flush', () => {
  it('resolves once every record handed over is on disk, and at once when there is none', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'layers-record-flush-'))
    dirs.push(dir)
    const file = path.join(dir, 'lockfile.json')
    await writeLockfile(file, {lockfileVersion: 1, layers: {a: {kind: 'dir', inputs: 'x', artifacts: {x86_64: {architectures: ['x86_64']}}}}})
    const recorder = publicationRecorder(file, undefined)
    await recorder.flush()
    const regions = Array.from({length: 12}, (_, index) => `region-${index}`)
    for (const [index, region] of regions.entries()) {
      void recorder.record({layer: 'a', artifactKey: 'x86_64', accountId: '111111111111', region, publication: {arn: `arn:aws:lambda:${region}:111111111111:layer:a:${index + 1}`, version: index + 1, codeSha256: 'c'}})
    }
    await recorder.flush()
    const lock = await readLockfile(file)
    const published = lock?.layers.a?.kind === 'dir' ? lock.layers.a.published?.['111111111111'] : undefined
    expect(Object.keys(published ?? {}).sort()).toEqual([...regions].sort())
    expect(readdirSync(dir).sort()).toEqual(['lockfile.json'])
  })
})
