// The pure parts of building sdists (src/python/sdist.ts, resolve.ts, targets.ts): sdist file names,
// which projects uv says have no usable wheel (they may come from their sdist on the next run), and
// what makes a built wheel native.
import {describe, expect, it} from 'vitest'
import {withoutWheels} from '../../src/python/resolve.js'
import {nativeContent} from '../../src/python/sdist.js'
import {parseSdistName} from '../../src/python/targets.js'

describe('sdists', () => {
  it('parses sdist file names (PEP 625 and legacy), nothing else', () => {
    expect(parseSdistName('pure_src-1.2.tar.gz')).toEqual({name: 'pure-src', version: '1.2'})
    expect(parseSdistName('Django-Extras-2.0rc1.zip')).toEqual({name: 'django-extras', version: '2.0rc1'})
    expect(parseSdistName('pure-1.0-py3-none-any.whl')).toBeUndefined()
    expect(parseSdistName('nodash.tar.gz')).toBeUndefined()
    expect(parseSdistName('pure-1.0.tar.bz2')).toBeUndefined()
  })

  it('reads the projects without a usable wheel from uv\'s output', () => {
    const output = [
      '  cause: Because srcpkg==1.0 has no usable wheels and only srcpkg==1.0 is available, we can conclude that all versions of srcpkg cannot be used.',
      '  Because only Other_Pkg[extra]<=2 is available and other-pkg==2.0 has no wheels with a matching platform tag (e.g., `manylinux_2_28_x86_64`), ...',
      'hint: Wheels are required for `third.pkg` because building from source is disabled for all packages',
      '  And because you require srcpkg, we can conclude that your requirements are unsatisfiable.',
    ].join('\n')
    expect(withoutWheels(output)).toEqual(['other-pkg', 'srcpkg', 'third-pkg'])
    expect(withoutWheels('Because there is no version of foo==2.0 and you require foo==2.0, ...')).toEqual([])
  })

  it('calls a built wheel native for a platform or ABI tag, or an extension module inside', () => {
    expect(nativeContent('pure-1.0-py3-none-any.whl', ['pure/__init__.py', 'pure-1.0.dist-info/RECORD'])).toBeUndefined()
    expect(nativeContent('pure-1.0-py2.py3-none-any.whl', ['pure/__init__.py'])).toBeUndefined()
    expect(nativeContent('fast-1.0-cp312-cp312-linux_x86_64.whl', ['fast/__init__.py'])).toBe('the wheel it builds is tagged cp312-cp312-linux_x86_64, not <python>-none-any')
    expect(nativeContent('fast-1.0-cp312-abi3-any.whl', [])).toMatch(/tagged cp312-abi3-any/)
    expect(nativeContent('fast-1.0-py3-none-any.whl', ['fast/_speed.cpython-312-x86_64-linux-gnu.so', 'fast/lib.so.1', 'fast/x.pyd', 'fast/y.dylib'])).toBe('the wheel it builds holds extension modules (fast/_speed.cpython-312-x86_64-linux-gnu.so, fast/lib.so.1, fast/x.pyd, ...)')
  })
})
