// A small project for the package/run CLI tests: npm layers from a loopback registry, dir layers, and
// functions in CommonJS and ESM (one importing a subpath, one importing a package no layer of it
// provides, two layers holding the same package in one version with different files). Written into a
// per-test temp directory.
import {mkdir, mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {runCli} from '../support/cli.js'
import {NpmRegistry} from '../support/npm-registry.js'

export async function writeTree(root: string, tree: Record<string, string>): Promise<void> {
  for (const [file, content] of Object.entries(tree)) {
    await mkdir(path.dirname(path.join(root, file)), {recursive: true})
    await writeFile(path.join(root, file), content)
  }
}

export async function fixtureRegistry(): Promise<NpmRegistry> {
  const registry = await NpmRegistry.start()
  registry.publish('greeter', {
    version: '1.2.0',
    main: 'index.js',
    exports: {'.': './index.js', './format': './lib/format.js', './package.json': './package.json'},
    files: {
      'index.js': "module.exports = (name) => 'hello ' + name\n",
      'lib/format.js': "module.exports.format = (text) => '[' + text + ']'\n",
      'lib/internal.js': 'module.exports = 1\n',
      'README.md': '# greeter\n',
    },
  })
  registry.publish('esm-only', {
    version: '2.0.0',
    type: 'module',
    exports: {'.': './index.js'},
    files: {'index.js': "export default function shout(text) { return text.toUpperCase() + '!' }\n"},
  })
  return registry
}

export const MANIFEST = `version: 1
settings:
  bucket: b-{accountId}-{region}
  regions: [eu-west-1]
  architectures: [x86_64]
  runtimes: [nodejs20.x]
accounts:
  dev:
    id: "111111111111"
layers:
  deps:
    npm:
      greeter: ^1.0.0
      esm-only: ^2.0.0
  extra:
    dir: layers/extra
  first:
    dir: layers/first
  second:
    dir: layers/second
functions:
  cjs:
    source: fns/cjs
    handler: index.handler
    runtime: nodejs20.x
    layers: [deps]
    accounts: [dev]
    exclude: ["test/**"]
  esm:
    source: fns/esm
    handler: handler.handler
    runtime: nodejs20.x
    layers: [deps]
  order:
    source: fns/order
    handler: index.handler
    runtime: nodejs20.x
    layers: [first, second]
`

export const BROKEN_FUNCTION = `  broken:
    source: fns/broken
    handler: index.handler
    runtime: nodejs20.x
    layers: [deps]
`

export const FILES: Record<string, string> = {
  'layers/extra/nodejs/node_modules/helper/package.json': '{"name": "helper", "version": "1.0.0"}\n',
  'layers/extra/nodejs/node_modules/helper/index.js': 'module.exports = 1\n',
  'layers/first/nodejs/node_modules/shared/package.json': '{"name": "shared", "version": "1.0.0"}\n',
  'layers/first/nodejs/node_modules/shared/index.js': "module.exports = 'first'\n",
  'layers/first/nodejs/node_modules/only-first/index.js': "module.exports = 'only in first'\n",
  'layers/second/nodejs/node_modules/shared/package.json': '{"name": "shared", "version": "1.0.0"}\n',
  'layers/second/nodejs/node_modules/shared/index.js': "module.exports = 'second'\n",
  'fns/cjs/index.js': [
    "'use strict'",
    "const greet = require('greeter')",
    "const {double} = require('./lib/util')",
    "const path = require('node:path')",
    'exports.handler = async (event) => {',
    "  console.log('handling', event.name)",
    "  return {message: greet(event.name), doubled: double(event.n), base: path.basename(process.env.LAMBDA_TASK_ROOT), fn: process.env.AWS_LAMBDA_FUNCTION_NAME, handler: process.env._HANDLER, region: process.env.AWS_REGION}",
    '}',
    '',
  ].join('\n'),
  'fns/cjs/lib/util.js': 'exports.double = (n) => n * 2\n',
  'fns/cjs/notes.md': 'not shipped (.layersignore)\n',
  'fns/cjs/.layersignore': '*.md\n',
  'fns/cjs/test/util.test.js': "require('./nothing-here')\n",
  'fns/cjs/node_modules/greeter/index.js': 'module.exports = () => "local copy, never shipped"\n',
  // Repository metadata inside a function's source is never shipped either.
  'fns/cjs/.git/HEAD': 'ref: refs/heads/main\n',
  'fns/cjs/lib/.svn/entries': '12\n',
  'fns/esm/package.json': '{"name": "esm-fn", "type": "module", "dependencies": {"greeter": "^2.0.0"}}\n',
  'fns/esm/handler.js': [
    "import {format} from 'greeter/format'",
    "import shout from 'esm-only'",
    '',
    'export const handler = async (event) => {',
    "  if (event.fail) throw new TypeError('bad input: ' + event.fail)",
    '  return {text: format(shout(event.text))}',
    '}',
    '',
  ].join('\n'),
  'fns/order/index.js': "exports.handler = async () => ({shared: require('shared'), onlyFirst: require('only-first')})\n",
  'fns/broken/index.js': ["'use strict'", "const helper = require('helper')", "const pad = require('left-pad')", "const internal = require('greeter/lib/internal.js')", 'exports.handler = async () => helper', ''].join('\n'),
}

export interface LockedFixture {
  registry: NpmRegistry
  dir: string
  project: string
  env: NodeJS.ProcessEnv
  stop(): Promise<void>
}

/** Starts the registry, writes the project (plus `extra` files) into a temp directory and runs `layers lock`. */
export async function lockedFixture(prefix: string, extra: Record<string, string> = {}): Promise<LockedFixture> {
  const registry = await fixtureRegistry()
  const dir = await mkdtemp(path.join(tmpdir(), prefix))
  const project = path.join(dir, 'project')
  const env = npmEnv(registry, path.join(dir, 'npm-cache'))
  await writeTree(project, {...FILES, 'layers.yaml': MANIFEST, ...extra})
  const lock = await runCli(['lock', '--json'], {cwd: project, env})
  if (lock.code !== 0) throw new Error(`layers lock failed: ${lock.stdout}${lock.stderr}`)
  return {
    registry,
    dir,
    project,
    env,
    async stop() {
      await registry.stop()
      await rm(dir, {recursive: true, force: true, maxRetries: 5})
    },
  }
}

/** Environment for CLI runs against the fixture registry with a private npm cache. */
export function npmEnv(registry: NpmRegistry, cacheDir: string): NodeJS.ProcessEnv {
  return {npm_config_registry: registry.url, npm_config_cache: cacheDir, npm_config_userconfig: path.join(cacheDir, 'npmrc')}
}
