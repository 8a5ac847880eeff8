// pip layers in layers.yaml: the map, requirements.txt and pyproject.toml forms, PEP 508 checks with
// locations, runtimes that are Python runtimes layers resolves for, and a Python layer on a Node.js
// function (and the reverse) refused where the function lists it.
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import {inspectManifestText} from '../../src/manifest/load.js'
import {parseRequirement, readRequirementsText} from '../../src/python/requirements.js'

const temps: string[] = []
afterEach(() => {
  for (const dir of temps.splice(0)) rmSync(dir, {recursive: true, force: true})
})
function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'layers-pip-manifest-'))
  temps.push(dir)
  return dir
}

function inspect(dir: string, lines: string[]): {manifest?: ReturnType<typeof inspectManifestText>['manifest']; problems: Array<{code: string; at: string; message: string}>} {
  const file = path.join(dir, 'layers.yaml')
  const inspection = inspectManifestText(['version: 1', 'settings:', '  regions: [us-east-1]', ...lines].join('\n'), file)
  return {
    manifest: inspection.manifest,
    problems: inspection.problems.filter((problem) => problem.severity === 'error').map((problem) => ({code: problem.code, at: `${problem.location?.line}:${problem.location?.column}`, message: problem.message})),
  }
}

describe('pip layers in the manifest', () => {
  it('loads the map form as PEP 508 requirements, in order', () => {
    const {manifest, problems} = inspect(tempDir(), ['layers:', '  py:', '    pip:', '      requests: ">=2.31,<3"', '      "uvicorn[standard]": "*"', '      tomli: "==2.* ; python_version < \'3.11\'"', '    runtimes: [python3.12, python3.11]'])
    expect(problems).toEqual([])
    expect(manifest!.layers.py).toMatchObject({kind: 'pip', requirements: ['requests>=2.31,<3', 'uvicorn[standard]', "tomli==2.* ; python_version < '3.11'"], runtimes: ['python3.12', 'python3.11'], architectures: ['x86_64']})
  })

  it('reports bad specifiers, names, markers and direct URLs where they are written', () => {
    const {problems} = inspect(tempDir(), [
      'layers:',
      '  py:',
      '    pip:',
      '      requests: ">=two"',
      '      "bad name!": "*"',
      '      attrs: "~=2"',
      '      six: "* ; python_versoin >= \'3\'"',
      '      pkg: "@ https://example.com/pkg.whl"',
      '    runtimes: [python3.12]',
    ])
    expect(problems).toEqual([
      {code: 'ERR_LAYERS_MANIFEST_INVALID_REQUIREMENT', at: '7:17', message: expect.stringContaining('"two" in ">=two" is not a PEP 440 version')},
      {code: 'ERR_LAYERS_MANIFEST_INVALID_REQUIREMENT', at: '8:7', message: expect.stringContaining('bad name!')},
      {code: 'ERR_LAYERS_MANIFEST_INVALID_REQUIREMENT', at: '9:14', message: expect.stringContaining('~= needs at least two release segments')},
      {code: 'ERR_LAYERS_MANIFEST_INVALID_REQUIREMENT', at: '10:12', message: expect.stringContaining('"python_versoin" is not a marker variable')},
      {code: 'ERR_LAYERS_MANIFEST_INVALID_REQUIREMENT', at: '11:12', message: expect.stringContaining('direct URL requirement')},
    ])
  })

  it('refuses non-Python runtimes on a pip layer and Python runtimes on an npm layer', () => {
    const {problems} = inspect(tempDir(), [
      'layers:',
      '  py:',
      '    pip: {requests: "*"}',
      '    runtimes: [python3.12, nodejs22.x, python3.8, pyton3.12]',
      '  js:',
      '    npm: {lodash: "^4"}',
      '    runtimes: [nodejs22.x, python3.12]',
      '  bare:',
      '    pip: {requests: "*"}',
    ])
    expect(problems.map((problem) => [problem.code, problem.at])).toEqual([
      ['ERR_LAYERS_MANIFEST_RUNTIME_MISMATCH', '7:28'],
      ['ERR_LAYERS_MANIFEST_RUNTIME_MISMATCH', '7:40'],
      ['ERR_LAYERS_MANIFEST_UNKNOWN_RUNTIME', '7:51'],
      ['ERR_LAYERS_MANIFEST_RUNTIME_MISMATCH', '10:28'],
      ['ERR_LAYERS_MANIFEST_RUNTIME_MISMATCH', '11:3'],
    ])
    expect(problems[4]!.message).toBe('Layer bare takes runtime nodejs22.x from settings.runtimes, but it is a pip layer, for the Python runtimes python3.9, python3.10, python3.11, python3.12, python3.13, python3.14.')
  })

  it('refuses a pip layer on a Node.js function and an npm layer on a Python function', () => {
    const dir = tempDir()
    const {problems} = inspect(dir, [
      'layers:',
      '  py: {pip: {requests: "*"}, runtimes: [python3.12]}',
      '  js: {npm: {lodash: "^4"}, runtimes: [nodejs22.x]}',
      'functions:',
      '  api: {source: ., handler: index.handler, runtime: nodejs22.x, layers: [py]}',
      '  worker: {source: ., handler: app.handler, runtime: python3.12, layers: [js, py]}',
    ])
    expect(problems).toEqual([
      {code: 'ERR_LAYERS_MANIFEST_RUNTIME_MISMATCH', at: '8:74', message: 'functions.api runs on nodejs22.x, but layer py is a Python (pip) layer.'},
      {code: 'ERR_LAYERS_MANIFEST_RUNTIME_MISMATCH', at: '9:75', message: 'functions.worker runs on python3.12, but layer js is a Node.js (npm) layer.'},
    ])
  })

  it('reads a requirements.txt, naming the file and line of a bad requirement or a pip option', () => {
    const dir = tempDir()
    writeFileSync(path.join(dir, 'requirements.txt'), ['# pinned', 'requests==2.32.3 \\', '    --hash=sha256:' + 'a'.repeat(64), '', 'pydantic>=2 ; python_version >= "3.9"  # models', '--index-url https://example.com/simple', 'broken===', ''].join('\n'))
    const {problems} = inspect(dir, ['layers:', '  py: {pip: ./requirements.txt, runtimes: [python3.12]}'])
    expect(problems.map((problem) => problem.message)).toEqual([
      `layers.py.pip: ${path.join(dir, 'requirements.txt')}:6 "--index-url" is a pip option, which a layer's requirements file cannot carry.`,
      `layers.py.pip (${path.join(dir, 'requirements.txt')}:7): "===" has no version.`,
    ])
    writeFileSync(path.join(dir, 'requirements.txt'), 'requests==2.32.3 \\\n    --hash=sha256:' + 'a'.repeat(64) + '\npydantic>=2 ; python_version >= "3.9"  # models\n')
    const loaded = inspect(dir, ['layers:', '  py: {pip: ./requirements.txt, runtimes: [python3.12]}'])
    expect(loaded.problems).toEqual([])
    expect(loaded.manifest!.layers.py).toMatchObject({kind: 'pip', requirements: ['requests==2.32.3', 'pydantic>=2 ; python_version >= "3.9"'], requirementsFile: path.join(dir, 'requirements.txt')})
  })

  it('reads project.dependencies of a pyproject.toml', () => {
    const dir = tempDir()
    writeFileSync(path.join(dir, 'pyproject.toml'), '[project]\nname = "fn"\nversion = "1"\ndependencies = [\n  "requests>=2",  # http\n  \'attrs\',\n]\n[tool.other]\nx = {a = 1}\n')
    const {manifest, problems} = inspect(dir, ['layers:', '  py: {pip: pyproject.toml, runtimes: [python3.12]}'])
    expect(problems).toEqual([])
    expect(manifest!.layers.py).toMatchObject({requirements: ['requests>=2', 'attrs']})
    writeFileSync(path.join(dir, 'pyproject.toml'), '[project]\nname = "fn"\n')
    expect(inspect(dir, ['layers:', '  py: {pip: pyproject.toml, runtimes: [python3.12]}']).problems.map((problem) => problem.message)).toEqual([`layers.py.pip: ${path.join(dir, 'pyproject.toml')} has no project.dependencies.`])
  })
})

describe('PEP 508 requirements', () => {
  it('parses names, extras, specifiers and markers', () => {
    expect(parseRequirement('Foo.Bar_baz [Security , socks] (>=1.0, !=1.3.*) ; python_version >= "3.9" and (platform_machine == "x86_64" or extra == "x")')).toEqual({
      name: 'foo-bar-baz',
      extras: ['security', 'socks'],
      specifier: '>=1.0,!=1.3.*',
      marker: 'python_version >= "3.9" and (platform_machine == "x86_64" or extra == "x")',
    })
    expect(parseRequirement('numpy===1.26.4+local')).toMatchObject({specifier: '===1.26.4+local'})
    expect(parseRequirement('x>=1.*')).toMatch(/wildcard works with == and != only/)
    expect(parseRequirement('x<=1.0+local')).toMatch(/local version/)
    expect(parseRequirement('x ; (python_version > "3"')).toMatch(/parenthesis is not closed/)
    expect(parseRequirement('x ; python_version')).toMatch(/expected a comparison/)
  })

  it('joins continuation lines and drops comments and hashes of a requirements file', () => {
    expect(readRequirementsText('a==1 \\\n  --hash=sha256:ab \\\n  --hash=sha256:cd\n# c\nb  # note\n')).toEqual({lines: [{requirement: 'a==1', line: 1}, {requirement: 'b', line: 5}], problems: []})
  })
})
