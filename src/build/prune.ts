// Owns deciding which files of a layer are left out of its artifact: the documented default prune
// list (files a function never loads at run time), extended by the manifest's `exclude` globs, with
// `!glob` entries keeping a file whatever else matches, and `defaultExcludes: false` turning the
// defaults off. Pure: paths in, booleans out.
//
// Default patterns are matched against the path inside the package that holds the file (for a file
// under a bundled or nested node_modules, inside that inner package), so a package *named* `docs` or
// `test` is never pruned; dot-directories and `__tests__` anywhere, the rest only where packages keep
// them (documentation and test folders at the package root). `exclude` globs are matched against the
// path inside the artifact zip (e.g. `nodejs/node_modules/typescript/**`, or `**/*.txt`).
// Never pruned by the defaults: package.json files (Node reads them to resolve `main`/`exports`/`type`),
// licences and notices, and the files a package.json names in `main`, `module`, `exports` or `bin`. An
// explicit `exclude` glob can still remove them (the user asked for it).
import {createRequire} from 'node:module'
import type picomatchFn from 'picomatch'

/** Bump when DEFAULT_PRUNE changes: it is part of every build cache key. */
export const DEFAULT_PRUNE_VERSION = 1

/**
 * The default prune list (documented in the README build section). Globs, matched with picomatch
 * (`dot: true`, case-insensitive) against the path inside the package.
 */
export const DEFAULT_PRUNE: readonly string[] = [
  // Tests, examples, docs, benchmarks and coverage at the package root.
  '{test,tests,__tests__,example,examples,doc,docs,documentation,benchmark,benchmarks,bench,coverage,.nyc_output}/**',
  // Test folders by the Jest convention, anywhere.
  '**/{__tests__,__mocks__,__snapshots__}/**',
  // Editor, CI and tooling folders, anywhere.
  '**/{.git,.github,.circleci,.gitlab,.vscode,.idea,.husky,.changeset,.yarn}/**',
  // Markdown and other prose, but never a licence or notice.
  '**/*.{md,markdown,mdx}',
  '**/{CHANGELOG,CHANGES,HISTORY,AUTHORS,CONTRIBUTORS,CONTRIBUTING,CODE_OF_CONDUCT,SECURITY}{,.txt,.rst}',
  // Source maps and TypeScript declarations / build info.
  '**/*.{map,tsbuildinfo}',
  '**/*.d.{ts,mts,cts}',
  '**/*.d.ts.map',
  // Tool configuration files.
  '**/{.eslintrc,.eslintrc.*,.eslintignore,eslint.config.*,.prettierrc,.prettierrc.*,.prettierignore,.editorconfig}',
  '**/{.travis.yml,.gitlab-ci.yml,appveyor.yml,.appveyor.yml,azure-pipelines.yml,.jshintrc,.jscsrc,.jshintignore}',
  '**/{.babelrc,.babelrc.*,babel.config.*,.nycrc,.nycrc.*,.mocharc.*,karma.conf.*,jest.config.*,vitest.config.*,.zuul.yml,.airtap.yml}',
  '**/{tsconfig.json,tsconfig.*.json,tslint.json,.npmignore,.gitignore,.gitattributes,.gitmodules,.dockerignore,.taprc,.DS_Store}',
]

/** Files never pruned by default (licences, notices, package.json). */
const ALWAYS_KEEP_DEFAULT = ['**/{LICENSE,LICENCE,COPYING,NOTICE}{,.*,-*}', '**/package.json']

export interface PruneConfig {
  exclude: readonly string[]
  defaultExcludes: boolean
}

export interface Pruner {
  /**
   * True when the file at `zipPath` (path in the artifact) is left out. `packagePath` is its path
   * inside the package that holds it (or inside the dir layer), which the default list is matched against.
   * `entryPoint` (a file the package.json names) protects a file from the defaults, not from `exclude`.
   */
  excluded(zipPath: string, packagePath: string, entryPoint?: boolean): boolean
}

type Matcher = (path: string) => boolean
type Matchers = {drop: Matcher; keep: Matcher; defaults: Matcher}

// picomatch is required with the matchers, on first use, not at start-up: a cache-hit build of an
// npm layer never matches a path, and the default list is long to compile.
const require = createRequire(import.meta.url)

function compileMatchers(config: PruneConfig): Matchers {
  const picomatch = require('picomatch') as typeof picomatchFn
  const never: Matcher = () => false
  const drop = config.exclude.filter((glob) => !glob.startsWith('!'))
  const keep = config.exclude.filter((glob) => glob.startsWith('!')).map((glob) => glob.slice(1))
  let defaults = never
  if (config.defaultExcludes) {
    const listed = picomatch([...DEFAULT_PRUNE], {dot: true, nocase: true})
    const alwaysKeep = picomatch(ALWAYS_KEEP_DEFAULT, {dot: true, nocase: true})
    defaults = (packagePath) => listed(packagePath) && !alwaysKeep(packagePath)
  }
  return {
    drop: drop.length > 0 ? picomatch(drop, {dot: true}) : never,
    keep: keep.length > 0 ? picomatch(keep, {dot: true}) : never,
    defaults,
  }
}

export function createPruner(config: PruneConfig): Pruner {
  let matchers: Matchers | undefined
  return {
    excluded(zipPath, packagePath, entryPoint = false) {
      matchers ??= compileMatchers(config)
      if (matchers.keep(zipPath)) return false
      if (matchers.drop(zipPath)) return true
      return !entryPoint && matchers.defaults(packagePath)
    },
  }
}

/**
 * Splits a path into the innermost package directory that holds it and the path inside that package:
 * `lib/x.js` -> {dir: '', inner: 'lib/x.js'}; `node_modules/@s/b/lib/x.js` -> {dir: 'node_modules/@s/b', inner: 'lib/x.js'}.
 */
export function splitInnerPackage(rel: string): {dir: string; inner: string} {
  const segments = rel.split('/')
  const last = segments.lastIndexOf('node_modules')
  if (last < 0) return {dir: '', inner: rel}
  const nameLength = segments[last + 1]?.startsWith('@') === true ? 2 : 1
  const innerStart = last + 1 + nameLength
  if (innerStart >= segments.length) return {dir: '', inner: rel}
  return {dir: segments.slice(0, innerStart).join('/'), inner: segments.slice(innerStart).join('/')}
}

/**
 * Files a package.json says are loaded (main, exports targets, bin targets), relative to the package,
 * normalised without './'. They are kept whatever the prune list says.
 */
export function entryPointsOf(packageJson: unknown): Set<string> {
  const points = new Set<string>()
  if (typeof packageJson !== 'object' || packageJson === null) return points
  const pkg = packageJson as {main?: unknown; module?: unknown; exports?: unknown; bin?: unknown}
  const add = (value: unknown): void => {
    if (typeof value !== 'string') return
    const clean = value.replace(/^\.\//, '').replace(/\/$/, '')
    if (clean === '' || clean.includes('*')) return
    points.add(clean)
    if (!/\.[a-z0-9]+$/i.test(clean)) {
      for (const extension of ['.js', '.json', '.node', '.cjs', '.mjs', '/index.js', '/index.json', '/index.node']) points.add(clean + extension)
    }
  }
  const walk = (value: unknown): void => {
    if (typeof value === 'string') add(value)
    else if (Array.isArray(value)) value.forEach(walk)
    else if (typeof value === 'object' && value !== null) {
      // Type declarations are for editors, not the runtime: let the defaults prune them.
      for (const [key, inner] of Object.entries(value)) if (key !== 'types' && key !== 'typings') walk(inner)
    }
  }
  add(pkg.main)
  add(pkg.module)
  walk(pkg.exports)
  if (typeof pkg.bin === 'string') add(pkg.bin)
  else walk(pkg.bin)
  return points
}
