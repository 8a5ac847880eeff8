// The host Python of `layers run`: the version warning and the interpreter's command line (sys.path
// order as Lambda's: the task root, then the layer paths of the runtime's version).
import {describe, expect, it} from 'vitest'
import type {EmitEvent} from '../../src/events.js'
import type {FunctionSpec} from '../../src/manifest/types.js'
import {pythonArgs, warnPythonVersion} from '../../src/run/python.js'

const fn = {key: 'api', runtime: 'python3.12'} as FunctionSpec

describe('layers run on a host Python', () => {
  it('warns only when the host X.Y differs from the runtime', () => {
    const events: Parameters<EmitEvent>[0][] = []
    const emit: EmitEvent = (event) => void events.push(event)
    warnPythonVersion(fn, {executable: '/usr/bin/python3.12', version: '3.12.7'}, emit)
    expect(events).toEqual([])
    warnPythonVersion(fn, {executable: '/usr/bin/python3', version: '3.11.7'}, emit)
    expect(events).toMatchObject([{type: 'warning', warning: {code: 'ERR_LAYERS_RUN_PYTHON_VERSION', message: expect.stringContaining('runs on python3.12, but `layers run` uses the local Python 3.11.7')}}])
  })

  it('isolates the interpreter and passes the task root, then the layer paths of the runtime version', () => {
    expect(pythonArgs(fn, {task: '/t/task', opt: '/t/opt', runtime: '/t/runtime'}, '/pkg/bootstrap.py')).toEqual(['-I', '-S', '-B', '-u', '/pkg/bootstrap.py', '/t/task', '/t/opt/python/lib/python3.12/site-packages', '/t/opt/python'])
  })
})
