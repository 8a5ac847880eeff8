// The Python import scanner: what a file imports, where, and which imports are optional, on hostile
// input (strings and comments that mention imports, continuations, f-strings, TYPE_CHECKING blocks).
import {describe, expect, it} from 'vitest'
import {ParseFailure} from '../../src/imports/parse.js'
import {findPythonImports} from '../../src/imports/python-parse.js'

const modules = (code: string): string[] => findPythonImports(code).imports.map((found) => `${'.'.repeat(found.level)}${found.module}${found.names ? `:${found.names.join(',')}` : ''}@${found.line}:${found.column}${found.optional ? '?' : ''}`)

describe('findPythonImports', () => {
  it('finds import and from-import forms with their line and column', () => {
    const code = ['import os', 'import a.b as c, d', 'from x.y import z as w, v', '  # comment', 'from . import sibling', 'from ..pkg.mod import *', 'from ... import up', 'import json; from e import f', ''].join('\n')
    expect(modules(code)).toEqual(['os@1:8', 'a.b@2:8', 'd@2:18', 'x.y:z,v@3:6', '.:sibling@5:6', '..pkg.mod:*@6:6', '...:up@7:6', 'json@8:8', 'e:f@8:19'])
  })

  it('ignores imports inside strings, docstrings, comments and f-strings', () => {
    const code = [
      '"""Module docstring',
      'import fake_in_docstring',
      '"""',
      "s = 'import fake_single'",
      'b = rb"from fake_bytes import x"',
      "t = f'{value!r:>10} import fake_fstring {d[\"k\"]} {{import braces}}'",
      "u = f'''{f\"{x}\"}",
      "import fake_nested_triple'''",
      '# import fake_comment',
      'x = "a # not a comment"; import real',
      'def f():',
      "    '''import fake_function_docstring'''",
      '    import inner',
    ].join('\n')
    expect(modules(code)).toEqual(['real@10:33', 'inner@13:12'])
  })

  it('joins backslash continuations and multi-line parenthesised from-imports', () => {
    const code = ['from pkg.sub import (a,', '    b,  # trailing comment', '    c as d,', ')', 'import one, \\', '    two', 'x = [', '  1, 2]; import after_brackets'].join('\n')
    expect(modules(code)).toEqual(['pkg.sub:a,b,c@1:6', 'one@5:8', 'two@6:5', 'after_brackets@8:17'])
  })

  it('leaves out imports under if TYPE_CHECKING: but keeps its else branch', () => {
    const code = ['from typing import TYPE_CHECKING', 'import typing', 'if TYPE_CHECKING:', '    from heavy import Model', '    import other', 'else:', '    import runtime_only', 'if typing.TYPE_CHECKING: import inline_hidden', 'import after'].join('\n')
    expect(modules(code)).toEqual(['typing:TYPE_CHECKING@1:6', 'typing@2:8', 'runtime_only@7:12', 'after@9:8'])
  })

  it("leaves out the branches of sys.version_info checks that do not run on the target's Python", () => {
    const code = ['import sys', 'if sys.version_info >= (3, 11):', '    import tomllib', 'else:', '    import tomli as tomllib', 'if sys.version_info[:2] == (3, 12): import only312', 'elif sys.version_info < (3, 10):', '    import old', 'else:', '    import other'].join('\n')
    const at = (minor: number) => findPythonImports(code, {version: {major: 3, minor}}).imports.map((found) => found.module)
    expect(at(12)).toEqual(['sys', 'tomllib', 'only312'])
    expect(at(11)).toEqual(['sys', 'tomllib', 'other'])
    expect(at(9)).toEqual(['sys', 'tomli', 'old'])
    // Without a version every branch counts.
    expect(findPythonImports(code).imports.map((found) => found.module)).toEqual(['sys', 'tomllib', 'tomli', 'only312', 'old', 'other'])
  })

  it('marks imports in try bodies whose except catches ImportError as optional', () => {
    const code = [
      'try:',
      '    import ujson as json',
      'except ImportError:',
      '    import json',
      'try:',
      '    import needed',
      'except ValueError:',
      '    pass',
      'try: import bare_try',
      'except: pass',
      'try:',
      '    from fast import x',
      'except (KeyError, ModuleNotFoundError) as error:',
      '    x = None',
      'def f():',
      '    try:',
      '        import nested_optional',
      '    except Exception:',
      '        pass',
      '    import plain',
    ].join('\n')
    expect(modules(code)).toEqual(['ujson@2:12?', 'json@4:12', 'needed@6:12', 'bare_try@9:13?', 'fast:x@12:10?', 'nested_optional@17:16?', 'plain@20:12'])
  })

  it('reports importlib.import_module with a literal as dynamic and counts the others', () => {
    const parsed = findPythonImports(['import importlib', 'mod = importlib.import_module("plugins.csv")', 'other = importlib.import_module(name)', 'x = __import__("legacy")', 'y = obj.import_module("not_importlib")', 'z = importlib.import_module(".rel", "pkg")'].join('\n'))
    expect(parsed.imports.filter((found) => found.kind === 'dynamic').map((found) => `${found.module}@${found.line}:${found.column}`)).toEqual(['plugins.csv@2:31', 'legacy@4:16'])
    expect(parsed.dynamicUnchecked).toBe(2)
  })

  it('lists the names bound at top level for the handler check', () => {
    const parsed = findPythonImports(['import os', 'from x import y as handler2', 'CONFIG: dict = {}', 'a, b = 1, 2', 'def handler(event, context):', '    local = 1', '    return local', 'async def other(): pass', 'class Thing:', '    attr = 1', 'if os.environ.get("X"):', '    conditional = 1'].join('\n'))
    expect(parsed.topLevel).toEqual({names: ['CONFIG', 'Thing', 'a', 'b', 'conditional', 'handler', 'handler2', 'os', 'other'], complete: true})
    expect(findPythonImports('from impl import *\n').topLevel.complete).toBe(false)
  })

  it('throws ParseFailure with the place of an unterminated string or bracket', () => {
    expect(() => findPythonImports('x = 1\ns = """never closed\nimport y\n')).toThrow(ParseFailure)
    try {
      findPythonImports('import a\nfrom b import (c,\n  d\n')
      expect.unreachable()
    } catch (error) {
      expect(error).toMatchObject({line: 2, column: 15})
    }
  })
})
