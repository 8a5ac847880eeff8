// lockProject on an interrupt: the layer being resolved when the signal fires finishes, no further
// layer is resolved, and lockfile.json is not written (its bytes stay as they were); InterruptedError
// names the layers resolved and not resolved.
import {mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import {InterruptedError} from '../../src/errors/index.js'
import type {LayersEvent} from '../../src/events.js'
import {lockProject} from '../../src/lock/lock-project.js'

let dir: string
afterEach(() => rmSync(dir, {recursive: true, force: true}))

const MANIFEST = (layers: string[]) => `version: 1
settings:
  bucket: "b-{accountId}-{region}"
  regions: [eu-west-1]
  architectures: [x86_64]
  runtimes: [nodejs22.x]
layers:
${layers.map((name) => `  ${name}: {dir: layers/${name}}`).join('\n')}
`

describe('lockProject interrupted', () => {
  it('finishes the layer in flight, resolves no other and writes nothing', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'layers-lock-interrupt-'))
    for (const name of ['one', 'two', 'three']) {
      mkdirSync(path.join(dir, 'layers', name), {recursive: true})
      writeFileSync(path.join(dir, 'layers', name, 'file.txt'), name)
    }
    const manifestPath = path.join(dir, 'layers.yaml')
    writeFileSync(manifestPath, MANIFEST(['one']))
    await lockProject({manifestPath, emit: () => {}})
    const before = readFileSync(path.join(dir, 'lockfile.json'), 'utf8')

    writeFileSync(manifestPath, MANIFEST(['one', 'two', 'three']))
    const controller = new AbortController()
    // `one` is locked already; the interrupt lands as `two` starts resolving.
    const emit = (event: LayersEvent) => {
      if (event.type === 'progress' && event.message.startsWith('two ')) controller.abort(Object.assign(new Error('Interrupted by SIGINT'), {name: 'AbortError', signal: 'SIGINT'}))
    }
    const error = await lockProject({manifestPath, emit, signal: controller.signal}).then(
      () => undefined,
      (thrown: unknown) => thrown,
    )
    expect(error).toBeInstanceOf(InterruptedError)
    expect((error as InterruptedError).details).toEqual({signal: 'SIGINT', written: false, resolved: ['two'], notResolved: ['three']})
    expect((error as InterruptedError).message).toContain('nothing written')
    expect(readFileSync(path.join(dir, 'lockfile.json'), 'utf8')).toBe(before)
  })
})
