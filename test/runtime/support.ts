// Helpers for runtime tests: in-memory manifests with runtime layers (the shapes of
// src/manifest/types.ts, so tests do not depend on the YAML loader), starting an extracted layer's
// bootstrap against the local Runtime API server, and reading an ELF header.
import {spawn, type ChildProcess} from 'node:child_process'
import {open} from 'node:fs/promises'
import path from 'node:path'
import type {Architecture, Manifest, RuntimeLayer} from '../../src/manifest/types.js'

export function runtimeLayer(name: string, template: string, version: string, architectures: Architecture[] = ['x86_64', 'arm64'], overrides: Partial<RuntimeLayer> = {}): RuntimeLayer {
  return {
    kind: 'runtime',
    name,
    runtimes: ['provided.al2023', 'provided.al2'],
    architectures,
    exclude: [],
    defaultExcludes: true,
    share: {accounts: [], public: false},
    template,
    version,
    ...overrides,
  }
}

export function manifestWith(root: string, layers: RuntimeLayer[]): Manifest {
  return {
    file: path.join(root, 'layers.yaml'),
    root,
    version: 1,
    settings: {bucket: 'b-{accountId}-{region}', prefix: '', regions: ['eu-west-1'], architectures: ['x86_64'], runtimes: ['provided.al2023']},
    accounts: {},
    layers: Object.fromEntries(layers.map((layer) => [layer.name, layer])),
    functions: {},
    locate: () => undefined,
  }
}

export interface StartedRuntime {
  child: ChildProcess
  output(): string
  exited: Promise<number | null>
  stop(): Promise<void>
}

/** Starts `<layerDir>/bootstrap` the way Lambda does (cwd = task root, /opt/bin-like PATH). */
export function startBootstrap(layerDir: string, taskRoot: string, handler: string, runtimeApi: string, extraEnv: Record<string, string> = {}): StartedRuntime {
  const child = spawn(path.join(layerDir, 'bootstrap'), [], {
    cwd: taskRoot,
    env: {
      PATH: `${path.join(layerDir, 'bin')}:/usr/local/bin:/usr/bin:/bin`,
      HOME: taskRoot,
      TMPDIR: path.join(taskRoot, '..'),
      AWS_LAMBDA_RUNTIME_API: runtimeApi,
      _HANDLER: handler,
      LAMBDA_TASK_ROOT: taskRoot,
      AWS_LAMBDA_FUNCTION_NAME: 'sample',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '128',
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, so stop() also ends the handler subshells still writing in TMPDIR.
    detached: true,
  })
  let output = ''
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  return {
    child,
    output: () => output,
    exited,
    async stop() {
      try {
        process.kill(-child.pid!, 'SIGKILL')
      } catch {
        // the group is gone already
      }
      await exited
    },
  }
}

/** e_machine of an ELF file (0x3E x86-64, 0xB7 aarch64); throws when the file is not ELF. */
export async function elfMachine(file: string): Promise<number> {
  const handle = await open(file, 'r')
  try {
    const header = Buffer.alloc(20)
    await handle.read(header, 0, 20, 0)
    if (!header.subarray(0, 4).equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]))) throw new Error(`${file} is not an ELF file`)
    return header[5] === 2 ? header.readUInt16BE(18) : header.readUInt16LE(18)
  } finally {
    await handle.close()
  }
}
