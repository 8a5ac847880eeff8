// Interrupting `layers build` (the built CLI): SIGINT while a large artifact is being zipped stops it
// with exit 130, a report of what was built and what not, and no temp file; a SIGKILLed build leaves
// its temp files, and the next build removes them and writes the same zip bytes. `layers package` of a
// large function stops the same way. Each signal is sent when the temp file of the zip being written
// appears (an event), not after a delay.
import {spawn, type ChildProcess} from 'node:child_process'
import {createHash, randomBytes} from 'node:crypto'
import {mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {BIN} from '../support/cli.js'

const MANIFEST = `version: 1
settings:
  bucket: "b-{accountId}-{region}"
  regions: [eu-west-1]
  architectures: [x86_64]
  runtimes: [nodejs22.x]
layers:
  small: {dir: layers/small}
  big: {dir: layers/big}
functions:
  big: {source: layers/big, handler: index.handler, runtime: nodejs22.x, architecture: x86_64, layers: [small]}
`

let dir: string

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'layers-build-interrupt-'))
  writeFileSync(path.join(dir, 'layers.yaml'), MANIFEST)
  mkdirSync(path.join(dir, 'layers/small'), {recursive: true})
  writeFileSync(path.join(dir, 'layers/small/config.json'), '{"small": true}\n')
  mkdirSync(path.join(dir, 'layers/big'), {recursive: true})
  writeFileSync(path.join(dir, 'layers/big/index.js'), 'exports.handler = async () => "ok"\n')
  // Incompressible files above the zip writer's streaming threshold: zipping them takes a while.
  for (let index = 0; index < 4; index++) writeFileSync(path.join(dir, `layers/big/blob-${index}.bin`), randomBytes(12 * 1024 * 1024))
})

afterEach(() => {
  rmSync(dir, {recursive: true, force: true})
})

interface Run {
  child: ChildProcess
  ended: Promise<{code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string}>
}

function start(args: string[]): Run {
  const child = spawn(process.execPath, [BIN, ...args], {cwd: dir, env: {...process.env, LAYERS_DEBUG: '', NO_COLOR: '1'}, stdio: ['ignore', 'pipe', 'pipe']})
  let stdout = ''
  let stderr = ''
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  const ended = new Promise<{code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string}>((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code, signal) => resolve({code, signal, stdout, stderr}))
  })
  return {child, ended}
}

async function run(args: string[]) {
  return start(args).ended
}

/** Every path under .layers whose name is a temp name (files and directories). */
function tempFiles(): string[] {
  const root = path.join(dir, '.layers')
  const out: string[] = []
  const visit = (at: string) => {
    let entries
    try {
      entries = readdirSync(at, {withFileTypes: true})
    } catch {
      return
    }
    for (const entry of entries) {
      const full = path.join(at, entry.name)
      if (/\.tmp$|^\.pending|^\.spool/.test(entry.name)) out.push(path.relative(root, full))
      if (entry.isDirectory()) visit(full)
    }
  }
  visit(root)
  return out
}

/** Resolves once a temp file of the `big` artifact (its pending zip; or, for package, the function's zip) exists, or rejects when the run ended first. */
function tempFileOfBig(build: Run, outDir = path.join(dir, '.layers/build/big/x86_64')): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setInterval(() => {
      let names: string[] = []
      try {
        names = readdirSync(outDir)
      } catch {
        // not created yet
      }
      if (names.some((name) => name.endsWith('.tmp'))) {
        clearInterval(timer)
        resolve()
      }
    }, 2)
    void build.ended.then(() => {
      clearInterval(timer)
      reject(new Error('the build ended before the big artifact was being written'))
    })
  })
}

function zipsOf(layer: string): Record<string, string> {
  const outDir = path.join(dir, '.layers/build', layer, 'x86_64')
  return Object.fromEntries(
    readdirSync(outDir)
      .filter((name) => name.endsWith('.zip'))
      .map((name) => [name, createHash('sha256').update(readFileSync(path.join(outDir, name))).digest('hex')]),
  )
}

describe('layers build interrupted', () => {
  it('SIGINT while zipping: exit 130, says what was built and what not, leaves no temp file; the rerun builds the rest', async () => {
    expect((await run(['lock', '--json'])).code).toBe(0)
    const build = start(['build'])
    await tempFileOfBig(build)
    build.child.kill('SIGINT')
    const ended = await build.ended
    expect(ended.signal).toBeNull()
    expect(ended.code, ended.stderr).toBe(130)
    expect(ended.stderr).toContain('ERR_LAYERS_INTERRUPTED')
    expect(ended.stderr).toMatch(/build interrupted by SIGINT: 1 artifact\(s\) built, 1 not built/)
    expect(ended.stderr).toMatch(/built: small \(x86_64\) \S+=/)
    expect(ended.stderr).toContain('not built: big (x86_64)')
    expect(tempFiles()).toEqual([])

    const rerun = await run(['build', '--json'])
    expect(rerun.code, rerun.stderr).toBe(0)
    const artifacts = JSON.parse(rerun.stdout).artifacts as Array<{layer: string; cached: boolean}>
    expect(artifacts.map((artifact) => [artifact.layer, artifact.cached])).toEqual([
      ['small', true],
      ['big', false],
    ])
  })

  it('SIGINT under --json: the error envelope lists the built and the unbuilt artifacts', async () => {
    expect((await run(['lock', '--json'])).code).toBe(0)
    const build = start(['build', '--json'])
    await tempFileOfBig(build)
    build.child.kill('SIGINT')
    const ended = await build.ended
    expect(ended.code, ended.stderr).toBe(130)
    const envelope = JSON.parse(ended.stdout)
    expect(envelope.error).toMatchObject({code: 'ERR_LAYERS_INTERRUPTED', exitCode: 130, details: {signal: 'SIGINT', notBuilt: [{layer: 'big', artifactKey: 'x86_64'}]}})
    expect(envelope.error.details.built.map((artifact: {layer: string}) => artifact.layer)).toEqual(['small'])
    expect(tempFiles()).toEqual([])
  })

  it('SIGTERM exits 143 with the same report', async () => {
    expect((await run(['lock', '--json'])).code).toBe(0)
    const build = start(['build'])
    await tempFileOfBig(build)
    build.child.kill('SIGTERM')
    const ended = await build.ended
    expect(ended.code, ended.stderr).toBe(143)
    expect(ended.stderr).toContain('not built: big (x86_64)')
    expect(tempFiles()).toEqual([])
  })

  it('a SIGKILLed build leaves temp files; the next build removes them and writes the same zip bytes', async () => {
    expect((await run(['lock', '--json'])).code).toBe(0)
    const clean = await run(['build', '--json'])
    expect(clean.code, clean.stderr).toBe(0)
    const expected = zipsOf('big')
    rmSync(path.join(dir, '.layers'), {recursive: true, force: true})

    const killed = start(['build'])
    await tempFileOfBig(killed)
    killed.child.kill('SIGKILL')
    expect((await killed.ended).signal).toBe('SIGKILL')
    expect(tempFiles().length).toBeGreaterThan(0)

    const rerun = await run(['build', '--json'])
    expect(rerun.code, rerun.stderr).toBe(0)
    expect(tempFiles()).toEqual([])
    expect(zipsOf('big')).toEqual(expected)
    const big = (JSON.parse(rerun.stdout).artifacts as Array<{layer: string; sha256Hex: string}>).find((artifact) => artifact.layer === 'big')!
    expect(Object.values(expected)).toEqual([big.sha256Hex])
  })

  it('package: SIGINT while a function zip is written exits 130, names the function not packaged, leaves no temp file', async () => {
    expect((await run(['lock', '--json'])).code).toBe(0)
    const packaging = start(['package', '--no-check'])
    await tempFileOfBig(packaging, path.join(dir, '.layers/package'))
    packaging.child.kill('SIGINT')
    const ended = await packaging.ended
    expect(ended.code, ended.stderr).toBe(130)
    expect(ended.stderr).toMatch(/package interrupted by SIGINT: 0 function\(s\) packaged, 1 not packaged/)
    expect(ended.stderr).toContain('not packaged: big')
    expect(tempFiles()).toEqual([])
    expect(readdirSync(path.join(dir, '.layers/package'))).toEqual([])
  })
})
