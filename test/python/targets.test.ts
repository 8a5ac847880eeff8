// Wheel tags of a Lambda Python target: the CPython ABI of the runtime, manylinux up to the glibc of
// its OS (2.26 for python3.9-3.11 on Amazon Linux 2, 2.34 for python3.12+ on AL2023), the machine of
// the architecture, and packaging's preference order; and the choice of a pin's wheel from an index.
import {describe, expect, it} from 'vitest'
import type {IndexClient, IndexFile} from '../../src/python/index.js'
import {parseIndexPage} from '../../src/python/index.js'
import {chooseWheel, parsePinnedRequirements, uvPlatform} from '../../src/python/resolve.js'
import {evaluateMarker} from '../../src/python/requirements.js'
import {admitsPython, markerEnvironment, pythonRuntime, supportedTags, tagRanking, wheelRank, type PythonTarget} from '../../src/python/targets.js'

const target = (runtime: string, architecture: 'x86_64' | 'arm64'): PythonTarget => ({runtime: pythonRuntime(runtime)!, architecture})

describe('supported tags', () => {
  it('accepts manylinux up to the glibc of the runtime OS only', () => {
    const al2 = new Set(supportedTags(target('python3.11', 'x86_64')))
    expect(al2.has('cp311-cp311-manylinux_2_26_x86_64')).toBe(true)
    expect(al2.has('cp311-cp311-manylinux_2_28_x86_64')).toBe(false)
    expect(al2.has('cp311-cp311-manylinux1_x86_64')).toBe(true)
    const al2023 = new Set(supportedTags(target('python3.12', 'arm64')))
    expect(al2023.has('cp312-cp312-manylinux_2_34_aarch64')).toBe(true)
    expect(al2023.has('cp312-cp312-manylinux_2_35_aarch64')).toBe(false)
    expect(al2023.has('cp312-cp312-manylinux_2_28_x86_64')).toBe(false)
    expect(al2023.has('cp311-cp311-manylinux_2_28_aarch64')).toBe(false)
    expect(al2023.has('cp38-abi3-manylinux2014_aarch64')).toBe(true)
    expect(al2023.has('cp312-cp312-linux_aarch64')).toBe(false)
  })

  it('prefers the exact ABI, then abi3, then pure Python, as packaging orders them', () => {
    const ranking = tagRanking(target('python3.12', 'x86_64'))
    const ranked = ['x-1-py3-none-any.whl', 'x-1-cp38-abi3-manylinux_2_17_x86_64.whl', 'x-1-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl', 'x-1-cp312-cp312-manylinux_2_28_x86_64.whl', 'x-1-cp312-none-any.whl', 'x-1-py2.py3-none-any.whl']
      .map((file) => [file, wheelRank(file, ranking)!] as const)
      .sort((a, b) => a[1] - b[1])
      .map(([file]) => file)
    expect(ranked).toEqual(['x-1-cp312-cp312-manylinux_2_28_x86_64.whl', 'x-1-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl', 'x-1-cp38-abi3-manylinux_2_17_x86_64.whl', 'x-1-cp312-none-any.whl', 'x-1-py3-none-any.whl', 'x-1-py2.py3-none-any.whl'])
    expect(wheelRank('x-1-cp313-cp313-manylinux_2_17_x86_64.whl', ranking)).toBeUndefined()
    expect(wheelRank('x-1-cp312-cp312-macosx_11_0_arm64.whl', ranking)).toBeUndefined()
  })

  it('asks uv for the glibc it knows (2.17 for Amazon Linux 2, 2.34 for AL2023)', () => {
    expect(uvPlatform(target('python3.9', 'arm64'))).toBe('aarch64-manylinux_2_17')
    expect(uvPlatform(target('python3.13', 'x86_64'))).toBe('x86_64-manylinux_2_34')
  })
})

describe('choosing the wheel of a pin', () => {
  const config = {indexes: [{url: 'https://pypi.org/simple/', public: 'https://pypi.org/simple/'}]}
  const file = (filename: string, sha: string, yanked = false): IndexFile => ({filename, url: `https://files.pythonhosted.org/${filename}`, sha256: sha.repeat(64), yanked})
  const client = (files: IndexFile[]): IndexClient => ({files: async () => files})

  it('takes the best-ranked non-yanked file among the hashes the resolver accepted', async () => {
    const files = [file('nat-1.0-cp312-cp312-manylinux_2_28_x86_64.whl', 'a', true), file('nat-1.0-cp312-cp312-manylinux_2_17_x86_64.whl', 'b'), file('nat-1.0-py3-none-any.whl', 'c'), file('nat-1.0-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl', 'd')]
    const pin = {name: 'nat', version: '1.0', hashes: ['a', 'b', 'c'].map((sha) => sha.repeat(64))}
    expect(await chooseWheel('l', pin, target('python3.12', 'x86_64'), config, client(files))).toMatchObject({filename: 'nat-1.0-cp312-cp312-manylinux_2_17_x86_64.whl', sha256: 'b'.repeat(64), index: 'https://pypi.org/simple/'})
    await expect(chooseWheel('l', {...pin, hashes: ['e'.repeat(64)]}, target('python3.12', 'x86_64'), config, client(files))).rejects.toMatchObject({code: 'ERR_LAYERS_PYTHON_NO_WHEEL'})
  })

  it('takes the sdist among the accepted hashes when no wheel fits (.tar.gz first, non-yanked first)', async () => {
    const files = [file('nat-1.0-cp312-cp312-win_amd64.whl', 'a'), file('nat-1.0.zip', 'b'), file('nat-1.0.tar.gz', 'c', true), file('nat-1.0.tar.gz', 'd'), file('nat-0.9.tar.gz', 'e')]
    const pin = {name: 'nat', version: '1.0', hashes: ['a', 'b', 'c', 'd', 'e'].map((sha) => sha.repeat(64))}
    expect(await chooseWheel('l', pin, target('python3.12', 'x86_64'), config, client(files))).toMatchObject({filename: 'nat-1.0.tar.gz', sha256: 'd'.repeat(64)})
    expect(await chooseWheel('l', {...pin, hashes: ['b'.repeat(64)]}, target('python3.12', 'x86_64'), config, client(files))).toMatchObject({filename: 'nat-1.0.zip'})
  })

  it('reads PEP 503 pages and uv output', () => {
    expect(parseIndexPage('<a href="/f/x-1.tar.gz#sha256=ab" data-requires-python="&gt;=3.9, &lt;4">x-1.tar.gz</a>', 'text/html', 'https://i.example/simple/x/')).toEqual([{filename: 'x-1.tar.gz', url: 'https://i.example/f/x-1.tar.gz', sha256: 'ab', yanked: false, requiresPython: '>=3.9, <4'}])
    expect(parseIndexPage(JSON.stringify({files: [{filename: 'x-1.tar.gz', url: '/f/x-1.tar.gz', hashes: {sha256: 'AB'}, 'requires-python': '>=3.9'}, {filename: 'x-2.tar.gz', url: '/f/x-2.tar.gz', 'requires-python': null}]}), 'application/vnd.pypi.simple.v1+json', 'https://i.example/simple/x/')).toEqual([
      {filename: 'x-1.tar.gz', url: 'https://i.example/f/x-1.tar.gz', sha256: 'ab', yanked: false, requiresPython: '>=3.9'},
      {filename: 'x-2.tar.gz', url: 'https://i.example/f/x-2.tar.gz', sha256: undefined, yanked: false},
    ])
    expect(parseIndexPage('<a href="../../f/x-1-py3-none-any.whl#sha256=AB12" data-yanked="">x-1-py3-none-any.whl</a>', 'text/html', 'https://i.example/simple/x/')).toEqual([{filename: 'x-1-py3-none-any.whl', url: 'https://i.example/f/x-1-py3-none-any.whl', sha256: 'ab12', yanked: true}])
    expect(parsePinnedRequirements(`a-b==1.0 \\\n    --hash=sha256:${'1'.repeat(64)} \\\n    --hash=sha256:${'2'.repeat(64)}\nc==2\n`)).toEqual([{name: 'a-b', version: '1.0', hashes: ['1'.repeat(64), '2'.repeat(64)]}, {name: 'c', version: '2', hashes: []}])
  })
})

describe('markers and Requires-Python of a target', () => {
  it('evaluates PEP 508 markers for the target\'s interpreter and machine', () => {
    const env = markerEnvironment(target('python3.12', 'arm64'))
    const holds = (marker: string): boolean => evaluateMarker(marker, env)
    expect(holds('python_version >= "3.12"')).toBe(true)
    expect(holds('python_version > "3.8"')).toBe(true)
    expect(holds('python_version < "3.10"')).toBe(false)
    expect(holds('"3.13" > python_version')).toBe(true)
    expect(holds('python_full_version == "3.12.*"')).toBe(true)
    expect(holds('python_version ~= "3.10"')).toBe(true)
    expect(holds('platform_machine == "aarch64" and sys_platform == "linux"')).toBe(true)
    expect(holds("platform_machine == 'x86_64' or (os_name == 'nt' and python_version < '4')")).toBe(false)
    expect(holds('platform_machine in "x86_64 aarch64"')).toBe(true)
    expect(holds('sys_platform not in "win32 darwin"')).toBe(true)
    expect(holds('platform.python_implementation == "CPython" and implementation_name == "cpython"')).toBe(true)
    expect(holds('extra == "socks"')).toBe(false)
    expect(evaluateMarker('platform_machine == "x86_64"', markerEnvironment(target('python3.9', 'x86_64')))).toBe(true)
  })

  it('admits the target\'s interpreter by Requires-Python, ignoring what is not PEP 440', () => {
    const py312 = target('python3.12', 'x86_64')
    expect([undefined, '', '>=3.8', '>=3.12', '<4,>=3.9', '==3.12.*', '>=3.6.*'].map((spec) => admitsPython(spec, py312))).toEqual([true, true, true, true, true, true, true])
    expect(['>=3.13', '!=3.12.*', '<3.12', '>=3.12.1'].map((spec) => admitsPython(spec, py312))).toEqual([false, false, false, false])
  })
})
