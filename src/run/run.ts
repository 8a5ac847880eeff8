// Owns `layers run`: assembles the function (assemble.ts), starts a local Runtime API
// (src/runtime/api-server.ts) with the event queued, and starts the runtime against it with Lambda's
// environment (env.ts): for nodejs runtimes the local `node` running the JavaScript Runtime API loop of
// the `node` runtime template (its `runtime/lambda-runtime.mjs`) with ES module imports resolved
// from the layers as on Lambda (its `runtime/esm-layers.mjs`); for python3.x runtimes a local Python
// (python.ts) running templates/run/python/bootstrap.py; for provided.* runtimes the `bootstrap` of the function
// package or, failing that, of /opt. Returns the handler's result or Lambda's error document: as the
// nodejs runtimes report it (errorType, errorMessage, trace) for nodejs functions, as the runtime
// posted it otherwise (Python: errorMessage, errorType, requestId, stackTrace). Temp paths in error documents are shown as /var/task, /opt and /var/runtime.
import {spawn, type ChildProcess} from 'node:child_process'
import {randomBytes, randomUUID} from 'node:crypto'
import {existsSync, statSync} from 'node:fs'
import {readFile} from 'node:fs/promises'
import path from 'node:path'
import {OperationalError, UserInputError} from '../errors/index.js'
import type {EmitEvent} from '../events.js'
import type {Architecture, FunctionSpec, Manifest} from '../manifest/types.js'
import {loadFunctionProject} from '../package/project.js'
import {loadRuntimeTemplate} from '../runtime/template.js'
import {startRuntimeApiServer, type InvocationResult, type LambdaErrorDocument} from '../runtime/api-server.js'
import {openStateDatabase} from '../store/db.js'
import {assembleFunction, type AssembledLayer, type Assembly} from './assemble.js'
import {lambdaEnvironment, type RunDirs} from './env.js'
import {findHostPython, pythonArgs, pythonBootstrap, warnPythonVersion} from './python.js'

/** Lambda's default function timeout and memory size. */
export const DEFAULT_TIMEOUT_SECONDS = 3
export const DEFAULT_MEMORY_MB = 128
/** How long the runtime may take to start (Lambda's init phase limit). */
const INIT_LIMIT_MS = 10_000
const LOG_TAIL_BYTES = 4096

export interface RunOptions {
  manifestPath: string
  function: string
  /** The event as JSON text, and where it came from (for messages). */
  event: {text: string; source: string}
  architecture?: Architecture
  timeoutSeconds?: number
  memoryMb?: number
  /** Function environment variables. */
  env?: Record<string, string>
  /** The Python interpreter for python3.x functions (default: LAYERS_PYTHON, else python3 on PATH). */
  python?: string
  /** Keep the assembled directory (its path is returned). */
  keep?: boolean
  emit: EmitEvent
  /** Where the function's own output (stdout and stderr) goes. */
  logs: NodeJS.WritableStream
}

export interface RunResult {
  function: string
  name: string
  runtime: string
  architecture: Architecture
  requestId: string
  /** `success`, `error` (the handler failed), `init-error`, `timeout`, or `exited` (the runtime process died). */
  status: InvocationResult['status'] | 'exited'
  /** Set as Lambda's Invoke sets X-Amz-Function-Error. */
  functionError?: 'Unhandled'
  /** The response payload or the error document: parsed when it is JSON (`payloadEncoding` json), else its text. */
  payload: unknown
  payloadEncoding: 'json' | 'text'
  durationMs: number
  layers: AssembledLayer[]
  skippedLayers: string[]
  /** The last 4 KB of the function's output. */
  logTail: string
  /** The assembled directory, when kept. */
  directory?: string
}

/** Reads and checks an event: JSON text from a file, or '-' for stdin. */
export async function readEvent(source: string | undefined, stdin: NodeJS.ReadableStream = process.stdin): Promise<{text: string; source: string}> {
  let text = '{}'
  let label = 'the default event {}'
  if (source === '-') {
    const chunks: Buffer[] = []
    for await (const chunk of stdin) chunks.push(Buffer.from(chunk as Buffer))
    text = Buffer.concat(chunks).toString('utf8')
    label = 'stdin'
  } else if (source !== undefined) {
    text = await readFile(source, 'utf8').catch((error: NodeJS.ErrnoException) => {
      throw new UserInputError('ERR_LAYERS_EVENT_UNREADABLE', `Cannot read the event file ${source}: ${error.code ?? error.message}.`, {hint: 'Pass a JSON file with --event FILE, or --event - to read stdin.'})
    })
    label = source
  }
  try {
    JSON.parse(text)
  } catch (error) {
    throw new UserInputError('ERR_LAYERS_EVENT_INVALID', `The event from ${label} is not JSON: ${(error as Error).message}.`, {hint: 'Lambda events are JSON documents, e.g. {"key": "value"}.'})
  }
  return {text, source: label}
}

function functionArn(manifest: Manifest, fn: FunctionSpec): {arn: string; region: string} {
  const account = fn.accounts.map((name) => manifest.accounts[name]).find((candidate) => candidate !== undefined)
  const region = account?.regions[0] ?? manifest.settings.regions[0] ?? 'us-east-1'
  return {arn: `arn:aws:lambda:${region}:${account?.id ?? '000000000000'}:function:${fn.name}`, region}
}

interface RuntimeCommand {
  command: string
  args: string[]
  /** The local Runtime API loop, and the path Lambda's own has (for error documents and logs). */
  loop?: {file: string; shownAs: string}
  /** Stands for /var/lang/bin on PATH. */
  binDir: string
}

/** The command that starts the runtime, or a UserInputError saying why the function cannot run. */
async function runtimeCommand(fn: FunctionSpec, dirs: RunDirs, options: Pick<RunOptions, 'emit' | 'python'>): Promise<RuntimeCommand> {
  const {emit} = options
  const nodeBin = path.dirname(process.execPath)
  if (fn.runtime.startsWith('nodejs')) {
    const major = /^nodejs(\d+)\.x$/.exec(fn.runtime)?.[1]
    const host = process.versions.node.split('.')[0]
    if (major !== host) {
      emit({type: 'warning', warning: {severity: 'warning', code: 'ERR_LAYERS_RUN_NODE_VERSION', message: `Function ${fn.key} runs on ${fn.runtime}, but \`layers run\` uses the local Node.js ${process.versions.node}.`}})
    }
    // The node template's loop registers its ES module hook for imports from the layers itself.
    const loop = await nodeRuntimeLoop()
    return {command: process.execPath, args: [loop], loop: {file: loop, shownAs: '/var/runtime/index.mjs'}, binDir: nodeBin}
  }
  if (fn.runtime.startsWith('python')) {
    const python = await findHostPython(fn, options.python)
    warnPythonVersion(fn, python, emit)
    const bootstrap = pythonBootstrap()
    return {command: python.executable, args: pythonArgs(fn, dirs, bootstrap), loop: {file: bootstrap, shownAs: '/var/runtime/bootstrap.py'}, binDir: path.dirname(python.executable)}
  }
  if (fn.runtime.startsWith('provided')) {
    const bootstrap = [path.join(dirs.task, 'bootstrap'), path.join(dirs.opt, 'bootstrap')].find((file) => existsSync(file))
    if (!bootstrap) {
      throw new UserInputError('ERR_LAYERS_RUN_NO_BOOTSTRAP', `Function ${fn.key} (${fn.runtime}) has no bootstrap: neither its package nor its layers hold one at the root.`, {
        hint: 'Add a runtime layer (`runtime:` in the manifest) or a `bootstrap` file to the function source.',
        details: {function: fn.key},
      })
    }
    if ((statSync(bootstrap).mode & 0o111) === 0) {
      throw new UserInputError('ERR_LAYERS_RUN_BOOTSTRAP_NOT_EXECUTABLE', `Function ${fn.key}: ${bootstrap.startsWith(dirs.task) ? 'its' : 'the layer'} bootstrap is not executable; Lambda fails with Runtime.InvalidEntrypoint.`, {
        hint: 'chmod +x the bootstrap file and package or build again.',
        details: {function: fn.key},
      })
    }
    return {command: bootstrap, args: [], binDir: nodeBin}
  }
  throw new UserInputError('ERR_LAYERS_RUN_UNSUPPORTED_RUNTIME', `Function ${fn.key} uses runtime ${fn.runtime}; \`layers run\` runs nodejs*.x, python3.x and provided.* functions.`, {details: {function: fn.key}})
}

/** Shows temp paths (and the local runtime loop) as the paths Lambda uses. */
function lambdaPaths(text: string, dirs: RunDirs, loop: RuntimeCommand['loop']): string {
  const mapped = loop === undefined ? text : text.split(loop.file).join(loop.shownAs)
  return mapped.split(dirs.task).join('/var/task').split(dirs.opt).join('/opt').split(dirs.runtime).join('/var/runtime')
}

/** The JavaScript Runtime API loop of the built-in `node` runtime template, run by the local node for nodejs functions. */
async function nodeRuntimeLoop(): Promise<string> {
  const template = await loadRuntimeTemplate('node', {root: process.cwd(), layer: 'layers run'})
  const loop = template.files.find((file) => file.layerPath.endsWith('lambda-runtime.mjs'))
  if (!loop) throw new OperationalError('ERR_LAYERS_RUN_NO_RUNTIME_LOOP', 'The built-in node runtime template has no lambda-runtime.mjs.', {hint: 'Reinstall layers.'})
  return loop.source
}

/** The error document as the nodejs runtimes return it: errorType, errorMessage and trace (the stack as lines). */
export function nodejsErrorDocument(document: LambdaErrorDocument): {errorType: string; errorMessage: string; trace: string[]} {
  const head = `${document.errorType}: ${document.errorMessage}`.split('\n')
  return {errorType: document.errorType, errorMessage: document.errorMessage, trace: [...head, ...(document.stackTrace ?? []).map((line) => `    ${line}`)]}
}

/** A payload as JSON when it is JSON, else as its text (Lambda returns whatever bytes the runtime posted). */
function parsePayload(payload: Buffer): Pick<RunResult, 'payload' | 'payloadEncoding'> {
  const text = payload.toString('utf8')
  try {
    return {payload: JSON.parse(text), payloadEncoding: 'json'}
  } catch {
    return {payload: text, payloadEncoding: 'text'}
  }
}

interface Exit {
  code: number | null
  signal: NodeJS.Signals | null
}

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return
  try {
    process.kill(-child.pid, 'SIGKILL')
  } catch {
    child.kill('SIGKILL')
  }
}

type Outcome = Omit<RunResult, 'layers' | 'skippedLayers' | 'directory' | 'logTail'>

async function invokeAssembled(fn: FunctionSpec, manifest: Manifest, assembly: Assembly, options: RunOptions): Promise<Omit<RunResult, 'layers' | 'skippedLayers' | 'directory'>> {
  const {dirs} = assembly
  const {command, args, loop, binDir} = await runtimeCommand(fn, dirs, options)
  const {arn, region} = functionArn(manifest, fn)
  const timeoutMs = Math.round((options.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS) * 1000)
  const server = await startRuntimeApiServer()
  const requestId = randomUUID()
  let tail = Buffer.alloc(0)
  const keepTail = (chunk: Buffer): void => {
    options.logs.write(chunk)
    tail = Buffer.concat([tail, chunk])
    if (tail.length > LOG_TAIL_BYTES) tail = tail.subarray(tail.length - LOG_TAIL_BYTES)
  }
  let child: ChildProcess | undefined
  let outcome: Outcome
  try {
    const env = lambdaEnvironment({
      functionName: fn.name,
      handler: fn.handler,
      runtime: fn.runtime,
      region,
      memoryMb: options.memoryMb ?? DEFAULT_MEMORY_MB,
      runtimeApi: server.address,
      dirs,
      langBinDir: binDir,
      host: process.env,
      extra: options.env ?? {},
      now: new Date(),
      streamId: randomBytes(16).toString('hex'),
    })
    const invocation = server.invoke(options.event.text, {requestId, functionArn: arn, timeoutMs})
    options.emit({type: 'progress', phase: 'run', message: `invoking ${fn.key}`})
    const started = Date.now()
    const spawned = spawn(command, args, {cwd: dirs.task, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true})
    child = spawned
    spawned.stdout.on('data', keepTail)
    spawned.stderr.on('data', keepTail)
    const exited = new Promise<Exit>((resolve) => {
      spawned.on('error', (error) => {
        keepTail(Buffer.from(`layers run: cannot start ${command}: ${error.message}\n`))
        resolve({code: 127, signal: null})
      })
      spawned.on('exit', (code, signal) => resolve({code, signal}))
    })
    let guard: NodeJS.Timeout | undefined
    const first = await Promise.race([
      invocation.then((result) => ({kind: 'result' as const, result})),
      // Give the server a moment to record what the runtime posted just before it exited.
      exited.then((exit) => new Promise<{kind: 'exit'; exit: Exit}>((resolve) => setTimeout(() => resolve({kind: 'exit', exit}), 100))),
      new Promise<{kind: 'stuck'}>((resolve) => (guard = setTimeout(() => resolve({kind: 'stuck'}), INIT_LIMIT_MS + timeoutMs))),
    ])
    if (guard) clearTimeout(guard)
    const settled = first.kind === 'exit' ? await Promise.race([invocation.then((result) => ({kind: 'result' as const, result})), Promise.resolve(first)]) : first
    const base = {function: fn.key, name: fn.name, runtime: fn.runtime, architecture: options.architecture ?? fn.architecture, requestId}
    const finish = (status: RunResult['status'], body: Pick<RunResult, 'payload' | 'payloadEncoding'>, durationMs: number): Outcome => ({
      ...base,
      status,
      ...(status === 'success' ? {} : {functionError: 'Unhandled' as const}),
      ...body,
      durationMs,
    })
    const json = (payload: unknown): Pick<RunResult, 'payload' | 'payloadEncoding'> => ({payload, payloadEncoding: 'json'})
    if (settled.kind === 'result') {
      const {result} = settled
      if (result.status === 'success') {
        outcome = finish('success', parsePayload(result.payload), result.durationMs)
      } else {
        const document = JSON.parse(lambdaPaths(JSON.stringify(result.error), dirs, loop)) as LambdaErrorDocument
        const errorBody = fn.runtime.startsWith('nodejs') ? json(nodejsErrorDocument(document)) : result.payload.length > 0 ? parsePayload(Buffer.from(lambdaPaths(result.payload.toString('utf8'), dirs, loop))) : json(document)
        outcome = finish(result.status, result.status === 'timeout' ? json({errorType: 'Sandbox.Timedout', errorMessage: `${new Date().toISOString()} ${requestId} Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds`}) : errorBody, result.durationMs)
      }
    } else if (settled.kind === 'exit') {
      const status = settled.exit.signal ? `signal: ${settled.exit.signal.toLowerCase().replace(/^sig/, '')}` : `exit status ${settled.exit.code}`
      outcome = finish('exited', json({errorType: 'Runtime.ExitError', errorMessage: `RequestId: ${requestId} Error: Runtime exited with error: ${status}`}), Date.now() - started)
    } else {
      outcome = finish('timeout', json({errorType: 'Sandbox.Timedout', errorMessage: `RequestId: ${requestId} Error: the runtime did not start within ${INIT_LIMIT_MS / 1000} seconds and did not answer within the ${timeoutMs / 1000}-second timeout.`}), Date.now() - started)
    }
  } finally {
    if (child) {
      // 'close' comes after the process exited and its output pipes are drained (the log tail is complete).
      const gone = child.exitCode !== null && !child.stdout?.readable ? Promise.resolve() : new Promise<void>((resolve) => child!.once('close', () => resolve()))
      killGroup(child)
      await Promise.race([gone, new Promise((resolve) => setTimeout(resolve, 2000))])
    }
    await server.close()
  }
  return {...outcome, logTail: lambdaPaths(tail.toString('utf8'), dirs, loop)}
}

/** Runs one function locally as Lambda would (see the module comment). */
export async function runFunction(options: RunOptions): Promise<RunResult> {
  const project = await loadFunctionProject(options.manifestPath, [options.function], 'run')
  const fn = project.functions[0]!
  const architecture = options.architecture ?? fn.architecture
  const db = openStateDatabase(project.paths.stateDir)
  let assembly: Assembly
  try {
    assembly = await assembleFunction(project.manifest, project.lock, fn, {architecture, db, stateDir: project.paths.stateDir, emit: options.emit})
  } finally {
    db.close()
  }
  const hostArchitecture = process.arch === 'arm64' ? 'arm64' : process.arch === 'x64' ? 'x86_64' : process.arch
  const specific = assembly.layers.filter((layer) => layer.artifactKey === architecture).map((layer) => layer.layer)
  if (architecture !== hostArchitecture && specific.length > 0) {
    options.emit({type: 'warning', warning: {severity: 'warning', code: 'ERR_LAYERS_RUN_ARCHITECTURE', message: `Function ${fn.key} runs with the ${architecture} artifacts of ${specific.join(', ')} on a ${hostArchitecture} machine: native binaries in them will not load.`, hint: `Pass --arch ${hostArchitecture} to run the ${hostArchitecture} artifacts (when the layers have them).`}})
  }
  try {
    const result = await invokeAssembled(fn, project.manifest, assembly, {...options, architecture})
    return {...result, layers: assembly.layers, skippedLayers: assembly.skipped, ...(options.keep ? {directory: assembly.root} : {})}
  } catch (error) {
    if (error instanceof UserInputError) throw error
    throw new OperationalError('ERR_LAYERS_RUN_FAILED', `Running function ${fn.key} failed: ${(error as Error).message}`, {cause: error, details: {function: fn.key}})
  } finally {
    if (!options.keep) await assembly.dispose()
  }
}
