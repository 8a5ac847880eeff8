// Owns reading a TOML file (pyproject.toml, uv.toml) as plain data. The project has no TOML parser
// among its dependencies, so the host Python's tomllib (Python 3.11 or later; LAYERS_PYTHON names
// another interpreter) parses it: reading a file, never running code of a package.
import {spawnSync} from 'node:child_process'

export type TomlRead = {data: Record<string, unknown>} | {error: string}

const SCRIPT = 'import json,sys,tomllib\nwith open(sys.argv[1],"rb") as f: print(json.dumps(tomllib.load(f), default=str))'

export function readToml(file: string, env: NodeJS.ProcessEnv = process.env): TomlRead {
  const python = env.LAYERS_PYTHON ?? 'python3'
  const run = spawnSync(python, ['-I', '-c', SCRIPT, file], {encoding: 'utf8', timeout: 30_000, env})
  if (run.error) return {error: `${python} could not be started to read it (${run.error.message}); TOML files need Python 3.11 or later on PATH`}
  if (run.status !== 0) return {error: `it is not valid TOML (${run.stderr.trim().split('\n').pop() ?? `exit ${run.status}`})`}
  return {data: JSON.parse(run.stdout) as Record<string, unknown>}
}
