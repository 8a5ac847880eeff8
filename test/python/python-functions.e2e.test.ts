// Python functions through the built CLI against a local PEP 691 index (crafted wheels) with uv:
// `layers package` checks their imports against the modules the pip layer's wheels install (a
// distribution whose module name differs from its project name included), the standard library
// and the runtime's boto3; a missing module fails with file:line:column and a hint, before any zip.
// `layers run` invokes a handler on the local Python with the layer on sys.path, and reports a raised
// exception as Lambda's Python runtime formats it, and an import failure as its init error.
import {execFileSync} from 'node:child_process'
import {mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {Ajv} from 'ajv'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {runCli} from '../support/cli.js'
import {hasUv} from '../support/uv.js'
import {pipTestEnv, startPyPIIndex, type PyPIIndex} from '../support/pypi-index.js'

const ajv = new Ajv({allErrors: true, strict: false})
const validator = (name: string) => ajv.compile(JSON.parse(readFileSync(path.resolve(import.meta.dirname, `../../schema/${name}.schema.json`), 'utf8')))
const validPackage = validator('package')
const validRun = validator('run')

let index: PyPIIndex
let root: string
let env: NodeJS.ProcessEnv
const hostPython = '3.11'

const FILES: Record<string, string> = {
  'layers.yaml': `version: 1
settings:
  regions: [eu-west-1]
layers:
  deps:
    pip: {greet: "*", yamlish: "*"}
    runtimes: [python${hostPython}]
    architectures: [x86_64]
functions:
  ok: {source: fns/ok, handler: app.handler, runtime: python${hostPython}, layers: [deps]}
  broken: {source: fns/broken, handler: app.handler, runtime: python${hostPython}, layers: [deps]}
  boom: {source: fns/boom, handler: app.handler, runtime: python${hostPython}, layers: [deps]}
`,
  'fns/ok/app.py': [
    '"""import not_a_module_in_a_docstring"""',
    'from __future__ import annotations',
    'import json, os',
    'import yaml',
    'from greet import hello',
    'from helpers.text import shout',
    'try:',
    '    import ujson',
    'except ImportError:',
    '    ujson = None',
    '',
    'def handler(event, context):',
    '    return {"message": shout(hello(event["name"])), "yaml": yaml.NAME, "fn": context.function_name,',
    '            "memory": context.memory_limit_in_mb, "left": context.get_remaining_time_in_millis() > 0,',
    '            "request": context.aws_request_id, "group": context.log_group_name,',
    '            "path": [os.path.relpath(entry, os.path.dirname(os.environ["LAMBDA_TASK_ROOT"])) for entry in __import__("sys").path[:3]]}',
    '',
  ].join('\n'),
  // Checked by package (boto3 comes from the runtime), never imported by the handler: boto3 is not available locally.
  'fns/ok/aws.py': 'import boto3\n\nclient = boto3.client("s3")\n',
  'fns/ok/helpers/__init__.py': '',
  'events/world.json': '{"name": "world"}',
  'fns/ok/helpers/text.py': 'from . import case\n\ndef shout(text):\n    return case.upper(text) + "!"\n',
  'fns/ok/helpers/case.py': 'def upper(text):\n    return text.upper()\n',
  'fns/broken/app.py': 'import os\nprint("import nothing_here")\nfrom greet import hello\nimport requests.adapters\n\ndef handler(event, context):\n    return hello("x")\n',
  'fns/boom/app.py': 'from greet import hello\n\n\ndef fail(name):\n    raise ValueError("no " + hello(name))\n\n\ndef handler(event, context):\n    fail(event.get("name", "one"))\n',
}

beforeAll(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'layers-pyfn-'))
  index = await startPyPIIndex()
  index.publish({name: 'greet', version: '1.0', wheels: [{tag: 'py3-none-any', files: [{path: 'greet/__init__.py', data: 'def hello(name):\n    return "hello " + name\n'}]}]})
  // The project is yamlish, the module it installs is yaml (as PyYAML installs yaml).
  index.publish({name: 'yamlish', version: '6.0', wheels: [{tag: 'py3-none-any', files: [{path: 'yaml/__init__.py', data: 'NAME = "yamlish"\n'}]}]})
  for (const [file, text] of Object.entries(FILES)) {
    mkdirSync(path.dirname(path.join(root, file)), {recursive: true})
    writeFileSync(path.join(root, file), text)
  }
  // The interpreter itself rather than a pyenv shim on PATH (which takes a second to start).
  const python = execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], {encoding: 'utf8'}).trim()
  env = {...pipTestEnv(index.url, root), LAYERS_PYTHON: python}
}, 30_000)

afterAll(async () => {
  await index?.close()
  if (root) rmSync(root, {recursive: true, force: true})
})

describe.skipIf(!hasUv)('Python functions', () => {
  it('package checks imports against the layer, and run invokes handlers with the layer on sys.path', async () => {
    const lock = await runCli(['lock', '--json'], {cwd: root, env})
    expect(lock.code, lock.stderr).toBe(0)
    const build = await runCli(['build', '--json'], {cwd: root, env})
    expect(build.code, build.stderr).toBe(0)

    const [good, broken, run, boom, noPython, unimportable] = await Promise.all([
      runCli(['package', 'ok', 'boom', '--json'], {cwd: root, env}),
      runCli(['package', 'broken', '--json'], {cwd: root, env}),
      runCli(['run', 'ok', '--event', 'events/world.json', '--json'], {cwd: root, env}),
      runCli(['run', 'boom', '--json'], {cwd: root, env}),
      runCli(['run', 'ok', '--python', path.join(root, 'no-such-python3'), '--json'], {cwd: root, env}),
      runCli(['run', 'broken', '--json'], {cwd: root, env}),
    ])

    expect(good.code, good.stderr).toBe(0)
    expect(validPackage(good.json), JSON.stringify(validPackage.errors)).toBe(true)
    const okReport = good.json.imports.functions.find((fn: {function: string}) => fn.function === 'ok')
    expect(okReport).toMatchObject({runtime: `python${hostPython}`, files: 5, layers: [{layer: 'deps', source: 'zip'}]})
    expect(good.json.imports.errors).toBe(0)
    // boto3 comes from the runtime (a warning), ujson is optional (a warning); nothing else.
    expect(okReport.problems.map((problem: {code: string; location: {line: number}}) => `${problem.code}@${problem.location.line}`).sort()).toEqual(['ERR_LAYERS_IMPORT_OPTIONAL_MISSING@8', 'ERR_LAYERS_IMPORT_RUNTIME_SDK@1'])

    expect(broken.code).toBe(2)
    expect(broken.json.error).toMatchObject({code: 'ERR_LAYERS_IMPORT_CHECK_FAILED'})
    expect(broken.json.error.problems).toEqual([
      expect.objectContaining({
        severity: 'error',
        code: 'ERR_LAYERS_IMPORT_UNRESOLVED',
        message: expect.stringContaining("'requests.adapters' is not a module of function broken, of its layers (deps)"),
        hint: expect.stringContaining('pip: requirements of a layer'),
        location: 'fns/broken/app.py:4:8',
      }),
    ])

    expect(run.code, run.stderr).toBe(0)
    expect(validRun(run.json), JSON.stringify(validRun.errors)).toBe(true)
    expect(validRun(boom.json), JSON.stringify(validRun.errors)).toBe(true)
    expect(run.json).toMatchObject({function: 'ok', status: 'success', runtime: `python${hostPython}`})
    expect(run.json.payload).toMatchObject({message: 'HELLO WORLD!', yaml: 'yamlish', fn: 'ok', memory: '128', left: true, request: run.json.requestId, group: '/aws/lambda/ok', path: ['task', `opt/python/lib/python${hostPython}/site-packages`, 'opt/python']})

    expect(boom.code).toBe(1)
    expect(boom.json).toMatchObject({status: 'error', functionError: 'Unhandled', payload: {errorType: 'ValueError', errorMessage: 'no hello one', requestId: boom.json.requestId}})
    expect(boom.json.payload.stackTrace).toEqual([
      expect.stringMatching(/^ {2}File "\/var\/task\/app\.py", line 9, in handler\n {4}fail\(event\.get\("name", "one"\)\)\n$/),
      expect.stringMatching(/^ {2}File "\/var\/task\/app\.py", line 5, in fail\n/),
    ])

    // What package refused fails on Lambda at init: the runtime's init error.
    expect(unimportable.code).toBe(1)
    expect(unimportable.json).toMatchObject({status: 'init-error', payload: {errorType: 'Runtime.ImportModuleError', errorMessage: "Unable to import module 'app': No module named 'requests'", stackTrace: []}})

    expect(noPython.code).toBe(2)
    expect(noPython.json.error).toMatchObject({code: 'ERR_LAYERS_RUN_NO_PYTHON', message: expect.stringContaining('no-such-python3 was not found (from --python)'), hint: expect.stringContaining(`Install Python ${hostPython}`)})
  }, 120_000)
})
