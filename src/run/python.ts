// Owns the local Python that `layers run` starts for python3.x functions: which interpreter (the
// --python flag, else LAYERS_PYTHON, else `python3` on PATH), its absolute path and version (asked of
// the interpreter itself, so a pyenv or venv shim resolves to the real binary), the warning when its
// version is not the function's runtime's, and the command line of the Runtime API loop shipped in
// templates/run/python/bootstrap.py with sys.path as Lambda orders it: /var/task, then
// /opt/python/lib/pythonX.Y/site-packages and /opt/python, then the standard library.
import {execFile} from 'node:child_process'
import path from 'node:path'
import {promisify} from 'node:util'
import {UserInputError} from '../errors/index.js'
import type {EmitEvent} from '../events.js'
import type {FunctionSpec} from '../manifest/types.js'
import {toolRoot} from '../project/paths.js'
import type {RunDirs} from './env.js'

const run = promisify(execFile)
const PROBE = 'import sys; print(sys.executable); print("%d.%d.%d" % sys.version_info[:3])'

export interface HostPython {
  executable: string
  /** e.g. 3.12.1 */
  version: string
}

/** The interpreter to use and its version; a UserInputError naming what to install when there is none. */
export async function findHostPython(fn: FunctionSpec, choice: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<HostPython> {
  const command = choice ?? (env.LAYERS_PYTHON || 'python3')
  const from = choice !== undefined ? '--python' : env.LAYERS_PYTHON ? 'LAYERS_PYTHON' : 'PATH'
  const wanted = fn.runtime.replace(/^python/, 'Python ')
  const hint = `Install ${wanted} and put python3 on PATH, or pass --python /path/to/${fn.runtime} (or set LAYERS_PYTHON).`
  let stdout: string
  try {
    ;({stdout} = await run(command, ['-I', '-c', PROBE], {env, timeout: 30_000}))
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    const why = code === 'ENOENT' ? `${command} was not found${from === 'PATH' ? ' on PATH' : ` (from ${from})`}` : `${command} (from ${from}) did not run: ${((error as {stderr?: string}).stderr || (error as Error).message).trim().split('\n').at(-1)}`
    throw new UserInputError('ERR_LAYERS_RUN_NO_PYTHON', `Function ${fn.key} runs on ${fn.runtime}, and \`layers run\` runs it on a local Python 3, but ${why}.`, {hint, details: {function: fn.key, python: command}})
  }
  const [executable, version] = stdout.trim().split('\n').map((line) => line.trim())
  if (!executable || !version || !/^3\.\d+\.\d+$/.test(version)) {
    throw new UserInputError('ERR_LAYERS_RUN_NO_PYTHON', `Function ${fn.key} runs on ${fn.runtime}, but ${command} (from ${from}) is not a Python 3 interpreter (it answered ${JSON.stringify(stdout.trim().slice(0, 80))}).`, {hint, details: {function: fn.key, python: command}})
  }
  return {executable, version}
}

/** Warns when the host interpreter's X.Y is not the runtime's. */
export function warnPythonVersion(fn: FunctionSpec, python: HostPython, emit: EmitEvent): void {
  const runtimeVersion = fn.runtime.replace(/^python/, '')
  if (python.version.split('.').slice(0, 2).join('.') === runtimeVersion) return
  emit({
    type: 'warning',
    warning: {
      severity: 'warning',
      code: 'ERR_LAYERS_RUN_PYTHON_VERSION',
      message: `Function ${fn.key} runs on ${fn.runtime}, but \`layers run\` uses the local Python ${python.version} (${python.executable}): native wheels built for ${runtimeVersion} may not load, and the standard library differs.`,
      hint: `Pass --python /path/to/${fn.runtime} (or set LAYERS_PYTHON) to run it on Python ${runtimeVersion}.`,
    },
  })
}

/** The shipped Runtime API loop for Python functions. */
export function pythonBootstrap(): string {
  return path.join(toolRoot(), 'templates', 'run', 'python', 'bootstrap.py')
}

/** Interpreter flags and arguments: isolated (-I: no PYTHON* variables, no user site), no host site-packages (-S), no .pyc (-B), unbuffered output (-u). */
export function pythonArgs(fn: FunctionSpec, dirs: RunDirs, bootstrap: string): string[] {
  return ['-I', '-S', '-B', '-u', bootstrap, dirs.task, path.join(dirs.opt, 'python', 'lib', fn.runtime, 'site-packages'), path.join(dirs.opt, 'python')]
}
